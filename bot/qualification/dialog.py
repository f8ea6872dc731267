"""The qualification questionnaire as data: ``dialogs/qualification.yaml``.

A domain expert rewords a question, adds an option or changes a weight there, without touching
Python. This module reads the file into immutable objects and checks it with line-numbered
French messages: unknown keys, duplicate ids, conditions naming unknown questions or options,
options that feed nothing, questions that can never be asked, callback data too long for
Telegram.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from bot.content.checker import Checker
from bot.content.yamlfile import LineDict, LineList
from bot.qualification.results import (
    IN_THE_MAKING,
    MET,
    MISSING,
    NOT_YET,
    OUT_OF_SCOPE,
    PARTIAL,
    PTCE,
)

SINGLE, MULTI, NUMBER, TEXT, DEPARTMENT = "single", "multi", "number", "text", "department"
QUESTION_TYPES = (SINGLE, MULTI, NUMBER, TEXT, DEPARTMENT)
STATUSES = (MET, PARTIAL, MISSING)
VERDICTS = (PTCE, IN_THE_MAKING, NOT_YET, OUT_OF_SCOPE)
STATUS_RANK = {MISSING: 0, PARTIAL: 1, MET: 2}
MAX_KEY = 20  # question and option ids: "qa:<question>:<option>" stays within 64 bytes
_KEY = re.compile(r"^[a-z0-9_]+$")


# --------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class Condition:
    """When a question is asked, a rule applies… Structural, so the expert needs no syntax:

    ``{question: q, in: [a, b]}`` (single choice or number band), ``{question: q, has: [a]}``
    (multiple choice includes one of), ``{question: q, min: 3}`` / ``max`` (number),
    ``{question: q, answered: true}``, and ``{all: […]}``, ``{any: […]}``, ``{not: {…}}``.
    """

    op: str  # all, any, not, in, has, min, max, answered
    parts: tuple[Condition, ...] = ()
    question: str = ""
    values: tuple[str, ...] = ()
    number: float = 0.0


@dataclass(frozen=True)
class Effect:
    """What choosing an option (or a number band) feeds: criteria evidence, profile points,
    an early end of the questionnaire, a nuance for the result."""

    criteria: dict[str, str] = field(default_factory=dict)  # criterion id -> status
    profile: dict[str, float] = field(default_factory=dict)  # objective id -> points
    stop: str | None = None  # a verdict that ends the questionnaire (NOT_YET, OUT_OF_SCOPE)
    note: str = ""  # a sentence added to the result's explanation

    @property
    def feeds(self) -> bool:
        return bool(self.criteria or self.profile or self.stop or self.note)


@dataclass(frozen=True)
class Option:
    id: str
    label: str
    effect: Effect = field(default_factory=Effect)
    minimum: float | None = None  # number bands: this option applies to min <= n <= max
    maximum: float | None = None
    exclusive: bool = False  # multiple choice: "none of these" clears the others


@dataclass(frozen=True)
class Question:
    id: str
    section: str
    type: str
    text: str
    why: str  # shown by "Pourquoi cette question ?"
    options: tuple[Option, ...] = ()  # choices, or number bands
    when: Condition | None = None
    minimum: float | None = None  # number questions
    maximum: float | None = None
    max_length: int = 500  # text questions
    optional: bool = False  # may be skipped with a "Passer" button
    informative: bool = False  # only for the report: its options feed nothing on purpose
    effect: Effect = field(default_factory=Effect)  # text / department: effect of answering

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


@dataclass(frozen=True)
class Criterion:
    id: str
    label: str
    blocking: bool
    combine: str  # "all": the weakest evidence counts; "any": the strongest
    quote: str
    source: str
    texts: dict[str, str]  # status -> one-line explanation
    next_step: str
    requires: tuple[str, ...] = ()  # questions without whose answer it cannot be met
    next_step_unless: Condition | None = None  # answers that make the next step pointless


@dataclass(frozen=True)
class Objective:
    id: str
    label: str
    general: str  # label of its general objective
    strength: str  # a sentence when it is a strength
    next_step: str  # a concrete next step when it is among the weakest
    criterion: str = ""  # the criterion of article 9 it deepens: met gives at least 50/100
    next_step_unless: Condition | None = None  # answers that make the next step pointless


@dataclass(frozen=True)
class Rule:
    """A labelled condition: a maturity stage, or an eligibility requirement."""

    id: str
    text: str
    when: Condition | None


@dataclass(frozen=True)
class Dialog:
    version: str
    title: str
    intro: str
    questions: tuple[Question, ...]
    criteria: tuple[Criterion, ...]
    objectives: tuple[Objective, ...]
    verdicts: dict[str, tuple[str, str]]  # verdict -> (label, explanation)
    maturity: tuple[Rule, ...]  # first whose condition holds
    eligibility: tuple[Rule, ...]  # every requirement; ``text`` says why when unmet
    messages: dict[str, str]
    roles: dict[str, str] = field(default_factory=dict)  # role -> question id (see ROLES)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def role(self, name: str) -> str:
        """The id of the question playing ``name`` (one of :data:`ROLES`, or
        ``respondent_adviser``: the respondent's option meaning « an adviser answers »)."""
        return self.roles.get(name, "")


# --------------------------------------------------------------------------------------------
# Conditions


def holds(condition: Condition | None, answers: dict[str, Any], dialog: Dialog) -> bool:
    """Whether ``condition`` holds for ``answers`` (an unanswered question satisfies nothing
    but ``not``)."""
    if condition is None:
        return True
    op = condition.op
    if op == "all":
        return all(holds(p, answers, dialog) for p in condition.parts)
    if op == "any":
        return any(holds(p, answers, dialog) for p in condition.parts)
    if op == "not":
        return not holds(condition.parts[0], answers, dialog)
    value = answers.get(condition.question)
    if op == "answered":
        return value is not None
    if value is None:
        return False
    if op == "has":
        return isinstance(value, list) and any(v in value for v in condition.values)
    if op in ("min", "max"):
        if not isinstance(value, int | float):
            return False
        return value >= condition.number if op == "min" else value <= condition.number
    # "in": a single choice, or the band a number falls in
    question = dialog.question(condition.question)
    chosen = selected_options(question, value) if question else []
    return any(o.id in condition.values for o in chosen)


def selected_options(question: Question, value: Any) -> list[Option]:
    """The options an answer selects: the choice(s), or the band of a number."""
    if value is None:
        return []
    if question.type == SINGLE:
        option = question.option(str(value))
        return [option] if option else []
    if question.type == MULTI:
        return [o for o in question.options if isinstance(value, list) and o.id in value]
    if question.type == NUMBER and isinstance(value, int | float):
        return [o for o in question.options
                if (o.minimum is None or value >= o.minimum)
                and (o.maximum is None or value <= o.maximum)][:1]
    return []


# --------------------------------------------------------------------------------------------
# Reading and checking


_TOP_KEYS = {"version", "title", "intro", "criteria", "objectives", "verdicts", "maturity",
             "eligibility", "questions", "messages", "roles"}
# The answers the code uses by meaning, and the type of question that can give each: the YAML
# says which question plays each role (``roles:``), and the check holds it to it.
ROLES = {"respondent": SINGLE, "project_name": TEXT, "department": DEPARTMENT,
         "description": TEXT}
RESPONDENT_ADVISER = "respondent_adviser"
_QUESTION_KEYS = {"id", "section", "type", "text", "why", "options", "when", "min", "max",
                  "max_length", "optional", "informative", "criteria", "profile", "note"}
_OPTION_KEYS = {"id", "label", "criteria", "profile", "stop", "note", "min", "max", "exclusive"}
_CRITERION_KEYS = {"id", "label", "level", "combine", "quote", "source", "met", "partial",
                   "missing", "next_step", "requires", "next_step_unless"}
_OBJECTIVE_KEYS = {"id", "label", "general", "strength", "next_step", "criterion",
                   "next_step_unless"}
_RULE_KEYS = {"id", "text", "when"}
# The words of the PDF report and the chart (carried by each Result to the drawing process).
DOCUMENT_MESSAGES = (
    "report_title", "report_disclaimer", "report_page", "report_confidential",
    "report_confidential_of", "report_no_name", "report_territory", "report_territory_unknown",
    "report_coordination", "report_date", "report_date_value", "report_verdict",
    "report_criteria", "report_criteria_sources", "report_blocking", "report_expected",
    "report_met", "report_partial", "report_missing", "report_unexamined", "report_profile",
    "report_profile_note", "report_notes", "report_answers", "report_other_questions",
    "chart_title", "chart_title_unnamed", "chart_subtitle", "chart_legend", "chart_unexamined",
    "result_stage", "result_eligibility", "result_strengths", "result_next_steps",
)
REQUIRED_DIALOG_MESSAGES = (
    "lead_subject_lead", "lead_subject_reminder", "lead_subject_withdrawal",
    "lead_subject_notice", "lead_withdrawn", "lead_reminder", "lead_fallback", "lead_body",
    "lead_no_project", "lead_telegram", "lead_message", "lead_consent", "coord_lead_status",
    "start", "resume_offer", "paused", "resumed", "why_none", "invalid_choice",
    "invalid_number", "invalid_text", "invalid_department", "outside_region",
    "handoff_outside_region", "confirm_department",
    "too_many_failures", "recap", "stale", "finished", "restart", "faq_then_resume",
    "multi_hint", "no_session", "result_criteria", "result_stage", "result_eligibility",
    "result_strengths", "result_next_steps", "result_chart_caption", "result_report_caption",
    "result_files_coming", *(k for k in DOCUMENT_MESSAGES if not k.startswith("result_")),
    "first_question", "unexamined", "unconfirmed", "stopped_next_step", "hint_partial",
    "hint_missing", "hint_unexamined", "maturity_unexamined", "eligibility_yes",
    "eligibility_no", "eligibility_check", "eligibility_definition", "eligibility_unexamined",
    "why_criterion", "editing", "btn_back", "btn_why", "btn_pause",
    "btn_validate", "btn_skip",
    "btn_retry", "btn_resume", "btn_restart", "btn_result", "btn_contact",
    "adviser_ask_structure", "adviser_menu", "adviser_ask_project", "adviser_no_sessions",
    "adviser_sessions", "adviser_note_prompt", "adviser_note_saved", "adviser_link",
    "adviser_handed_over", "adviser_not_yours", "adviser_structure_saved",
    "resume_link_claimed", "resume_link_unknown", "btn_new_session", "btn_my_sessions",
    "btn_change_structure", "btn_note", "btn_link",
    "handoff_consent_version", "handoff_ask_department", "handoff_consent", "handoff_what_result",
    "handoff_what_nothing", "handoff_refused", "handoff_ask_name", "handoff_ask_structure",
    "handoff_ask_email", "handoff_ask_phone", "handoff_ask_preferred", "handoff_invalid_email",
    "handoff_invalid_phone", "handoff_need_one", "handoff_invalid_text", "handoff_confirm",
    "handoff_receipt", "handoff_group", "handoff_none", "handoff_taken_notice", "handoff_cancelled",
    "handoff_resumed",
    "btn_consent_yes", "btn_consent_no", "btn_skip_field", "btn_share_phone", "btn_pref_email",
    "btn_pref_phone", "btn_pref_telegram", "btn_send", "btn_fix", "btn_cancel",
    "my_data_intro", "my_data_group", "my_data_nothing", "my_data_caption", "forget_confirm",
    "forget_done",
    "forget_withdrawn", "forget_kept", "btn_forget_yes", "btn_forget_no",
    "coord_refused", "coord_bad_code", "coord_linked", "coord_usage", "coord_no_leads",
    "coord_leads", "coord_lead_unknown", "coord_lead_usage", "coord_ask_note",
    "coord_status_saved", "coord_export_caption", "coord_stats", "btn_take", "btn_close",
    "coord_unlinked", "coord_not_linked", "btn_no_note", "coord_no_note_offer",
    "handoff_ask_message", "handoff_invalid_message", "handoff_consent_telegram",
    "handoff_controller", "handoff_fallback_notice", "forget_coordination_link",
)


def read_dialog(c: Checker, path: Path) -> Dialog | None:
    """Read and check the questionnaire; problems go to ``c``; None if it is unusable."""
    data = c.read(path)
    if data is None:
        return None
    top = c.mapping(data, 1, path.name)
    if top is None:
        return None
    c.known_keys(top, _TOP_KEYS, path.name)
    version = c.text(top, "version", path.name)
    title = c.text(top, "title", path.name)
    intro = c.text(top, "intro", path.name)
    criteria = _read_criteria(c, top)
    objectives = _read_objectives(c, top)
    verdicts = _read_verdicts(c, top)
    messages = _read_messages(c, top)
    questions = _read_questions(c, top)
    dialog = Dialog(version, title, intro, tuple(questions), tuple(criteria),
                    tuple(objectives), verdicts, (), (), messages)
    known = _Known(dialog)
    unfed: list[tuple[int, str, str]] = []
    for n, (question, raw) in enumerate(zip(questions, _raw_items(top, "questions"),
                                            strict=False)):
        when, unfed_options = _check_question_refs(c, question, raw, known)
        questions[n] = replace(question, when=when)
        unfed += unfed_options
    maturity = _read_rules(c, top, "maturity", known)
    eligibility = _read_rules(c, top, "eligibility", known)
    criteria = _read_step_conditions(c, top, "criteria", criteria, known)
    objectives = _read_step_conditions(c, top, "objectives", objectives, known)
    roles = _read_roles(c, top, questions)
    dialog = Dialog(version, title, intro, tuple(questions), tuple(criteria),
                    tuple(objectives), verdicts, tuple(maturity), tuple(eligibility), messages,
                    roles)
    _check_reachability(c, dialog, top)
    _check_coverage(c, dialog, top, unfed)
    return dialog


@dataclass
class _Known:
    dialog: Dialog

    def criterion(self, cid: str) -> bool:
        return any(k.id == cid for k in self.dialog.criteria)

    def objective(self, oid: str) -> bool:
        return any(o.id == oid for o in self.dialog.objectives)


def _raw_items(top: LineDict, key: str) -> list[LineDict]:
    value = top.get(key)
    return [v for v in value if isinstance(v, LineDict)] if isinstance(value, LineList) else []


def _key(c: Checker, raw: LineDict, what: str, seen: set[str]) -> str:
    key = c.text(raw, "id", what, max_len=MAX_KEY)
    if key and not _KEY.match(key):
        c.error(raw.line_of("id"), f"{what} : identifiant « {key} » invalide (lettres "
                                   "minuscules sans accent, chiffres et _)")
    if key in seen:
        c.error(raw.line_of("id"), f"{what} : identifiant « {key} » déjà utilisé")
    seen.add(key)
    return key


def _read_criteria(c: Checker, top: LineDict) -> list[Criterion]:
    out: list[Criterion] = []
    seen: set[str] = set()
    for raw, what in c.records(top, "criteria", "critère"):
        c.known_keys(raw, _CRITERION_KEYS, what)
        cid = c.text(raw, "id", what)
        if cid in seen:
            c.error(raw.line_of("id"), f"{what} : identifiant déjà utilisé")
        seen.add(cid)
        level = c.text(raw, "level", what)
        if level and level not in ("bloquant", "attendu"):
            c.error(raw.line_of("level"), f"{what} : « level » vaut « bloquant » ou « attendu »")
        combine = c.text(raw, "combine", what, required=False) or "all"
        if combine not in ("all", "any"):
            c.error(raw.line_of("combine"), f"{what} : « combine » vaut « all » ou « any »")
        out.append(Criterion(
            cid, c.text(raw, "label", what), level == "bloquant", combine,
            c.text(raw, "quote", what), c.text(raw, "source", what),
            {s: c.text(raw, s, what) for s in STATUSES}, c.text(raw, "next_step", what)))
    return out


def _read_objectives(c: Checker, top: LineDict) -> list[Objective]:
    out = []
    seen: set[str] = set()
    for raw, what in c.records(top, "objectives", "objectif"):
        c.known_keys(raw, _OBJECTIVE_KEYS, what)
        out.append(Objective(_key(c, raw, what, seen), c.text(raw, "label", what),
                             c.text(raw, "general", what), c.text(raw, "strength", what),
                             c.text(raw, "next_step", what)))
    return out


def _read_verdicts(c: Checker, top: LineDict) -> dict[str, tuple[str, str]]:
    raw = c.mapping(top.get("verdicts"), top.line_of("verdicts"), "verdicts")
    out: dict[str, tuple[str, str]] = {}
    if raw is None:
        return out
    c.known_keys(raw, set(VERDICTS), "verdicts")
    for verdict in VERDICTS:
        spec = c.mapping(raw.get(verdict), raw.line_of(verdict), f"verdict « {verdict} »")
        if spec is not None:
            c.known_keys(spec, {"label", "text"}, f"verdict « {verdict} »")
            out[verdict] = (c.text(spec, "label", f"verdict « {verdict} »"),
                            c.text(spec, "text", f"verdict « {verdict} »"))
    return out


def _read_roles(c: Checker, top: LineDict, questions: list[Question]) -> dict[str, str]:
    """``roles:``: which question gives each answer the code relies on, of the right type."""
    raw = c.mapping(top.get("roles"), top.line_of("roles"), "roles")
    if raw is None:
        return {}
    c.known_keys(raw, {*ROLES, RESPONDENT_ADVISER}, "roles")
    by_id = {q.id: q for q in questions}
    roles: dict[str, str] = {}
    for role, kind in ROLES.items():
        qid = c.text(raw, role, "roles")
        question = by_id.get(qid)
        if qid and question is None:
            c.error(raw.line_of(role), f"roles : {role} : question « {qid} » inconnue")
        elif question is not None and question.type != kind:
            c.error(raw.line_of(role), f"roles : {role} : la question « {qid} » est de type "
                                       f"{question.type}, {kind} attendu")
        elif question is not None:
            roles[role] = qid
    option = c.text(raw, RESPONDENT_ADVISER, "roles")
    respondent = by_id.get(roles.get("respondent", ""))
    if option and respondent is not None and respondent.option(option) is None:
        c.error(raw.line_of(RESPONDENT_ADVISER), f"roles : {RESPONDENT_ADVISER} : la question "
                                                 f"« {respondent.id} » n'a pas d'option "
                                                 f"« {option} »")
    elif option:
        roles[RESPONDENT_ADVISER] = option
    return roles


def _read_messages(c: Checker, top: LineDict) -> dict[str, str]:
    raw = c.mapping(top.get("messages"), top.line_of("messages"), "messages")
    if raw is None:
        return {}
    for key in REQUIRED_DIALOG_MESSAGES:
        if key not in raw:
            c.error(raw.line, f"messages : « {key} » manquant")
    return {k: c.text(raw, k, "messages") for k in raw}


def _read_effect(c: Checker, raw: LineDict, what: str, *, allow_stop: bool) -> Effect:
    criteria: dict[str, str] = {}
    crit = raw.get("criteria")
    if crit is not None:
        spec = c.mapping(crit, raw.line_of("criteria"), what) or LineDict()
        for cid, status in spec.items():
            if status not in STATUSES:
                c.error(spec.line_of(cid), f"{what} : le critère {cid} vaut met, partial ou "
                                           f"missing (pas « {status} »)")
            criteria[str(cid)] = str(status)
    profile: dict[str, float] = {}
    prof = raw.get("profile")
    if prof is not None:
        spec = c.mapping(prof, raw.line_of("profile"), what) or LineDict()
        for oid, points in spec.items():
            if not isinstance(points, int | float) or isinstance(points, bool) or points < 0:
                c.error(spec.line_of(oid), f"{what} : les points de « {oid} » doivent être un "
                                           "nombre positif")
                continue
            profile[str(oid)] = float(points)
    stop = raw.get("stop")
    if stop is not None and (not allow_stop or stop not in (NOT_YET, OUT_OF_SCOPE)):
        c.error(raw.line_of("stop"), f"{what} : « stop » vaut {NOT_YET} ou {OUT_OF_SCOPE}")
        stop = None
    note = c.text(raw, "note", what, required=False)
    return Effect(criteria, profile, stop, note)


def _number(c: Checker, raw: LineDict, key: str, what: str) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, int | float) or isinstance(value, bool):
        c.error(raw.line_of(key), f"{what} : « {key} » doit être un nombre")
        return None
    return float(value)


def _read_questions(c: Checker, top: LineDict) -> list[Question]:
    out = []
    seen: set[str] = set()
    for raw, what in c.records(top, "questions", "question"):
        c.known_keys(raw, _QUESTION_KEYS, what)
        qid = _key(c, raw, what, seen)
        qtype = c.text(raw, "type", what)
        if qtype and qtype not in QUESTION_TYPES:
            c.error(raw.line_of("type"), f"{what} : type « {qtype} » inconnu (types : "
                                         f"{', '.join(QUESTION_TYPES)})")
        options = []
        option_ids: set[str] = set()
        if qtype in (SINGLE, MULTI, NUMBER) or "options" in raw:
            for oline, oitem in c.items(raw, "options", what):
                oraw = c.mapping(oitem, oline, what)
                if oraw is None:
                    continue
                owhat = f"{what}, option « {oraw.get('id', '?')} »"
                c.known_keys(oraw, _OPTION_KEYS, owhat)
                options.append(Option(
                    _key(c, oraw, owhat, option_ids),
                    c.text(oraw, "label", owhat, required=qtype != NUMBER, max_len=60),
                    _read_effect(c, oraw, owhat, allow_stop=True),
                    _number(c, oraw, "min", owhat), _number(c, oraw, "max", owhat),
                    bool(oraw.get("exclusive", False))))
            if qtype in (SINGLE, MULTI) and len(options) < 2:
                c.error(raw.line_of("options"), f"{what} : au moins deux options sont attendues")
        max_length = raw.get("max_length", 500)
        out.append(Question(
            qid, c.text(raw, "section", what), qtype, c.text(raw, "text", what),
            c.text(raw, "why", what), tuple(options), None,
            _number(c, raw, "min", what), _number(c, raw, "max", what),
            int(max_length) if isinstance(max_length, int) else 500,
            bool(raw.get("optional", False)), bool(raw.get("informative", False)),
            _read_effect(c, raw, what, allow_stop=False)))
    return out


def _read_condition(c: Checker, raw: Any, line: int, what: str, known: _Known,
                    before: str | None = None) -> Condition | None:
    """A condition; ``before``: the question it guards, which may only look at earlier ones."""
    spec = c.mapping(raw, line, what)
    if spec is None:
        return None
    for op in ("all", "any"):
        if op in spec:
            c.known_keys(spec, {op}, what)
            parts = []
            for pline, part in c.items(spec, op, what):
                cond = _read_condition(c, part, pline, what, known, before)
                if cond is not None:
                    parts.append(cond)
            return Condition(op, tuple(parts))
    if "not" in spec:
        c.known_keys(spec, {"not"}, what)
        inner = _read_condition(c, spec["not"], spec.line_of("not"), what, known, before)
        return Condition("not", (inner,)) if inner else None
    c.known_keys(spec, {"question", "in", "has", "min", "max", "answered"}, what)
    qid = str(spec.get("question", ""))
    dialog = known.dialog
    question = dialog.question(qid)
    if question is None:
        c.error(spec.line_of("question"), f"{what} : question « {qid} » inconnue")
        return None
    if before is not None:
        order = [q.id for q in dialog.questions]
        if order.index(qid) >= order.index(before):
            c.error(spec.line_of("question"), f"{what} : la condition porte sur « {qid} », "
                                              "posée après : elle ne pourra jamais être vraie")
    ops = [k for k in ("in", "has", "min", "max", "answered") if k in spec]
    if len(ops) != 1:
        c.error(spec.line, f"{what} : une seule des clés in, has, min, max, answered")
        return None
    op = ops[0]
    if op in ("min", "max"):
        number = _number(c, spec, op, what)
        return Condition(op, question=qid, number=number or 0.0)
    if op == "answered":
        return Condition(op, question=qid)
    values = spec[op] if isinstance(spec[op], list) else [spec[op]]
    for value in values:
        if question.option(str(value)) is None:
            c.error(spec.line_of(op), f"{what} : « {qid} » n'a pas d'option « {value} »")
    return Condition(op, question=qid, values=tuple(str(v) for v in values))


def _check_question_refs(c: Checker, question: Question, raw: LineDict, known: _Known
                         ) -> tuple[Condition | None, list[tuple[int, str, str]]]:
    """Read the question's condition and check the ids it refers to. Return the condition and
    the options with no effect of their own (``(line, question id, option id)``), which must
    then be used by some condition."""
    what = f"question « {question.id} »"
    when = None
    if "when" in raw:
        when = _read_condition(c, raw["when"], raw.line_of("when"), what, known,
                               before=question.id)
    effects = [(question.effect, raw)] + [
        (o.effect, oraw) for o, oraw in zip(question.options, _raw_items(raw, "options"),
                                            strict=False)]
    for effect, where in effects:
        for cid in effect.criteria:
            if not known.criterion(cid):
                c.error(where.line_of("criteria"), f"{what} : critère « {cid} » inconnu")
        for oid in effect.profile:
            if not known.objective(oid):
                c.error(where.line_of("profile"), f"{what} : objectif « {oid} » inconnu")
    return when, [(oraw.line, question.id, option.id)
                  for option, oraw in zip(question.options, _raw_items(raw, "options"),
                                          strict=False)
                  if not option.effect.feeds and not question.informative]


def _read_step_conditions(c: Checker, top: LineDict, key: str, items: list[Any],
                          known: _Known) -> list[Any]:
    """The parts of criteria and objectives that refer to questions and criteria, read once
    the questions are known: ``next_step_unless``, ``requires``, ``criterion``."""
    out = []
    for item, raw in zip(items, _raw_items(top, key), strict=False):
        what = f"{'critère' if key == 'criteria' else 'objectif'} « {item.id} »"
        changes: dict[str, Any] = {}
        if "next_step_unless" in raw:
            changes["next_step_unless"] = _read_condition(
                c, raw["next_step_unless"], raw.line_of("next_step_unless"), what, known)
        if "requires" in raw:
            required = raw["requires"] if isinstance(raw["requires"], list) else [raw["requires"]]
            for qid in required:
                if known.dialog.question(str(qid)) is None:
                    c.error(raw.line_of("requires"), f"{what} : question « {qid} » inconnue")
            changes["requires"] = tuple(str(q) for q in required)
        if "criterion" in raw:
            cid = str(raw["criterion"])
            if not known.criterion(cid):
                c.error(raw.line_of("criterion"), f"{what} : critère « {cid} » inconnu")
            changes["criterion"] = cid
        out.append(replace(item, **changes))
    return out


def _read_rules(c: Checker, top: LineDict, key: str, known: _Known) -> list[Rule]:
    out = []
    for raw, what in c.records(top, key, key):
        c.known_keys(raw, _RULE_KEYS, what)
        when = (_read_condition(c, raw["when"], raw.line_of("when"), what, known)
                if "when" in raw else None)
        out.append(Rule(c.text(raw, "id", what), c.text(raw, "text", what), when))
    return out


def _conditions(dialog: Dialog) -> list[Condition]:
    """Every condition of the questionnaire, nested ones included."""
    roots = [q.when for q in dialog.questions] + [r.when for r in dialog.maturity] + \
            [r.when for r in dialog.eligibility] + \
            [k.next_step_unless for k in dialog.criteria] + \
            [o.next_step_unless for o in dialog.objectives]
    out: list[Condition] = []
    stack = [r for r in roots if r is not None]
    while stack:
        cond = stack.pop()
        out.append(cond)
        stack.extend(cond.parts)
    return out


def _check_coverage(c: Checker, dialog: Dialog, top: LineDict,
                    unfed: list[tuple[int, str, str]]) -> None:
    """Options that feed nothing (no criterion, no point, no condition) and criteria or
    objectives that no answer feeds."""
    referenced = {(cond.question, v) for cond in _conditions(dialog) for v in cond.values}
    for line, qid, oid in unfed:
        if (qid, oid) not in referenced:
            c.error(line, f"question « {qid} » : l'option « {oid} » ne nourrit rien (ni "
                          "critère, ni point, ni condition)")
    fed_criteria = {cid for q in dialog.questions
                    for e in [q.effect, *(o.effect for o in q.options)] for cid in e.criteria}
    fed_objectives = {oid for q in dialog.questions
                      for e in [q.effect, *(o.effect for o in q.options)] for oid in e.profile}
    for criterion in dialog.criteria:
        if criterion.id not in fed_criteria:
            c.error(top.line_of("criteria"), f"critère « {criterion.id} » : aucune réponse ne "
                                             "le renseigne")
    for objective in dialog.objectives:
        if objective.id not in fed_objectives:
            c.error(top.line_of("objectives"), f"objectif « {objective.id} » : aucune réponse "
                                               "ne lui donne de points")


def _check_reachability(c: Checker, dialog: Dialog, top: LineDict) -> None:
    """A question whose condition can never hold is unreachable; found by trying every
    combination of the single-choice answers it depends on (bounded)."""
    raw_questions = _raw_items(top, "questions")
    for question, raw in zip(dialog.questions, raw_questions, strict=False):
        if question.when is None:
            continue
        if not _satisfiable(question.when, dialog):
            c.error(raw.line_of("when"), f"question « {question.id} » : sa condition ne peut "
                                         "jamais être vraie, elle ne sera jamais posée")


def _satisfiable(condition: Condition, dialog: Dialog) -> bool:
    deps = sorted({cond.question for cond in _walk(condition)})
    choices: list[list[Any]] = []
    for qid in deps:
        question = dialog.question(qid)
        if question is None:
            return True  # already reported
        if question.type == SINGLE:
            choices.append([o.id for o in question.options] + [None])
        elif question.type == MULTI:
            choices.append([[o.id] for o in question.options] + [[], None])
        elif question.type == NUMBER:
            values = {0.0, 1e9}
            for cond in _walk(condition):
                if cond.question == qid and cond.op in ("min", "max"):
                    values |= {cond.number - 1, cond.number, cond.number + 1}
            for o in question.options:
                values |= {v for v in (o.minimum, o.maximum) if v is not None}
            choices.append([*sorted(values), None])
        else:
            choices.append(["x", None])
    combos = 1
    for options in choices:
        combos *= len(options)
    if combos > 20_000:
        return True  # too many to try: assume reachable
    for combo in itertools.product(*choices):
        answers = {q: v for q, v in zip(deps, combo, strict=True) if v is not None}
        if holds(condition, answers, dialog):
            return True
    return False


def _walk(condition: Condition) -> list[Condition]:
    out, stack = [], [condition]
    while stack:
        cond = stack.pop()
        if cond.question:
            out.append(cond)
        stack.extend(cond.parts)
    return out


def questions_of(condition: Condition | None) -> set[str]:
    """The questions a condition looks at."""
    return {c.question for c in _walk(condition)} if condition is not None else set()
