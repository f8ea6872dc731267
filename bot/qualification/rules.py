"""The qualification questionnaire's logic: which question comes next, and what the answers
establish. Pure functions over a :class:`~bot.qualification.dialog.Dialog` and a dict of
answers — no I/O, no wording of its own beyond what ``dialogs/`` provides.

Answers are stored as plain JSON values: an option id (single choice), a list of option ids
(multiple choice), a number, a text, a department code. A skipped question has no answer and
is listed in ``skipped``.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection
from datetime import date
from typing import Any

from bot.content.territory import Territories
from bot.qualification.dialog import (
    DEPARTMENT,
    DOCUMENT_MESSAGES,
    MULTI,
    NUMBER,
    SINGLE,
    STATUS_RANK,
    TEXT,
    Criterion,
    Dialog,
    Effect,
    Objective,
    Question,
    holds,
    questions_of,
    selected_options,
)
from bot.qualification.results import (
    IN_THE_MAKING,
    MET,
    MISSING,
    NOT_YET,
    PARTIAL,
    PTCE,
    UNEXAMINED,
    AnswerLine,
    CriterionResult,
    ObjectiveScore,
    Result,
    Words,
)

MAX_NEXT_STEPS = 5
WEAKEST = 3  # objectives turned into next steps
STRONG = 60  # an objective scoring at least this is a strength
MULTI_FULL = 2  # options of a multiple choice that give full marks


# --------------------------------------------------------------------------------------------
# Where the questionnaire decides the next question


def next_question(dialog: Dialog, answers: dict[str, Any],
                  skipped: Collection[str] = ()) -> Question | None:
    """The first question, in the file's order, that applies to these answers and has not been
    answered or skipped; None when the questionnaire is over (all done, or stopped early)."""
    if stop_effect(dialog, answers) is not None:
        return None
    for question in dialog.questions:
        if question.id in answers or question.id in skipped:
            continue
        if holds(question.when, answers, dialog):
            return question
    return None


def stop_effect(dialog: Dialog, answers: dict[str, Any]) -> Effect | None:
    """The effect of an answer that ends the questionnaire early (a blocking criterion that
    cannot be met, an exclusion confirmed), if any."""
    for question in dialog.questions:
        for option in selected_options(question, answers.get(question.id)):
            if option.effect.stop:
                return option.effect
    return None


def prune(dialog: Dialog, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers without those to questions that no longer apply (after a change)."""
    kept = dict(answers)
    changed = True
    while changed:
        changed = False
        for question in dialog.questions:
            if question.id in kept and not holds(question.when, kept, dialog):
                del kept[question.id]
                changed = True
    return kept


def progress(dialog: Dialog, answers: dict[str, Any], skipped: Collection[str] = (),
             total: int | None = None) -> tuple[int, int]:
    """(position of the next question, total) for a "question 5 sur 24" indicator. The total
    is the longest path through the questionnaire (:func:`longest_path`, pass it to save the
    computation), so that it does not move as answers open or close questions."""
    done = sum(1 for q in dialog.questions if q.id in answers or q.id in skipped)
    ahead = sum(1 for q in dialog.questions
                if q.id not in answers and q.id not in skipped
                and (q.when is None or holds(q.when, answers, dialog)))
    if total is None:
        total = longest_path(dialog)
    return done + 1, max(total, done + ahead, done + 1)


def longest_path(dialog: Dialog) -> int:
    """The most questions one founder can be asked: every combination of the answers that
    the questions' conditions look at is tried (bounded), and the largest count kept."""
    looked_at = sorted(set().union(*(questions_of(q.when) for q in dialog.questions)))
    choices: list[list[Any]] = []
    for qid in looked_at:
        question = dialog.question(qid)
        if question is None or question.type not in (SINGLE, MULTI, NUMBER):
            return len(dialog.questions)
        if question.type == MULTI:
            choices.append([[o.id for o in question.options]])
        elif question.type == NUMBER:
            choices.append([o.minimum if o.minimum is not None else o.maximum or 0
                            for o in question.options])
        else:
            choices.append([o.id for o in question.options])
    combos = 1
    for options in choices:
        combos *= len(options)
    if combos > 5_000:
        return len(dialog.questions)
    return max(sum(1 for q in dialog.questions if holds(q.when, dict(zip(looked_at, combo,
                                                                         strict=True)), dialog))
               for combo in itertools.product(*choices))


def why_text(dialog: Dialog, question: Question) -> str:
    """What "❔ Pourquoi ?" shows: the reason for the question, then each criterion of
    article 9 its answers feed, with the text of the law behind it."""
    fed = {cid for o in question.options for cid in o.effect.criteria}
    fed |= set(question.effect.criteria)
    lines = [question.why or dialog.messages["why_none"]]
    lines += [dialog.messages["why_criterion"].format(id=c.id, label=c.label, quote=c.quote,
                                                      source=c.source)
              for c in dialog.criteria if c.id in fed]
    return "\n\n".join(lines)


# --------------------------------------------------------------------------------------------
# Answers


def parse_number(text: str) -> float | None:
    """A number as typed: "12", "12,5", " 15 membres" → 15; None if there is none."""
    cleaned = text.strip().replace("\u202f", "").replace(" ", "").replace(",", ".")
    digits = ""
    for char in cleaned:
        if char.isdigit() or (char == "." and digits and "." not in digits):
            digits += char
        elif digits:
            break
    try:
        return float(digits) if digits else None
    except ValueError:
        return None


def answer_label(question: Question, value: Any, territories: Territories | None = None) -> str:
    """An answer as a reader sees it."""
    if value is None:
        return "(question passée)"
    if question.type in (SINGLE, MULTI):
        labels = [o.label for o in selected_options(question, value)]
        return ", ".join(labels) if labels else "(aucune)"
    if question.type == NUMBER:
        return f"{value:g}" if isinstance(value, float) else str(value)
    if question.type == DEPARTMENT and territories is not None:
        department = territories.department(str(value))
        return f"{department.name} ({department.code})" if department else str(value)
    return str(value)


def _effects(dialog: Dialog, answers: dict[str, Any]) -> list[tuple[Question, Effect]]:
    """Every effect the answers trigger: options chosen, and text/department answers."""
    out = []
    for question in dialog.questions:
        value = answers.get(question.id)
        if value is None:
            continue
        out += [(question, o.effect) for o in selected_options(question, value)]
        if question.type in (TEXT, DEPARTMENT) and str(value).strip():
            out.append((question, question.effect))
    return out


# --------------------------------------------------------------------------------------------
# What the answers establish


def criteria_status(dialog: Dialog, answers: dict[str, Any]) -> dict[str, str]:
    """Each criterion's status: the evidence combined (weakest for "all", strongest for "any");
    no evidence at all is "not examined" (never guessed), and a criterion whose required
    question has no answer can be partial at best (to be confirmed)."""
    evidence: dict[str, list[str]] = {c.id: [] for c in dialog.criteria}
    for _, effect in _effects(dialog, answers):
        for cid, status in effect.criteria.items():
            evidence.setdefault(cid, []).append(status)
    out = {}
    for criterion in dialog.criteria:
        found = evidence[criterion.id]
        if not found:
            out[criterion.id] = UNEXAMINED
            continue
        pick = min if criterion.combine == "all" else max
        status = pick(found, key=STATUS_RANK.__getitem__)
        if status == MET and _unconfirmed(criterion, answers):
            status = PARTIAL
        out[criterion.id] = status
    return out


def _unconfirmed(criterion: Criterion, answers: dict[str, Any]) -> list[str]:
    """The questions a criterion requires that have no answer."""
    return [q for q in criterion.requires if answers.get(q) is None]


def objective_scores(dialog: Dialog, answers: dict[str, Any]) -> dict[str, int]:
    """Each objective's score, 0–100: points earned over the points the questions answered
    could have given (skipped and unasked questions do not count). A multiple choice gives
    full marks with its :data:`MULTI_FULL` best options (no one ticks everything)."""
    earned = {o.id: 0.0 for o in dialog.objectives}
    possible = {o.id: 0.0 for o in dialog.objectives}
    for question in dialog.questions:
        value = answers.get(question.id)
        if value is None:
            continue
        for oid, points in _best_points(question).items():
            possible[oid] = possible.get(oid, 0.0) + points
        effects = [o.effect for o in selected_options(question, value)]
        if question.type in (TEXT, DEPARTMENT):
            effects.append(question.effect)
        for effect in effects:
            for oid, points in effect.profile.items():
                earned[oid] = earned.get(oid, 0.0) + points
    return {oid: round(100 * min(earned[oid] / possible[oid], 1.0)) if possible[oid] else 0
            for oid in earned}


def _best_points(question: Question) -> dict[str, float]:
    """The most points each objective can get from a question: the best option (single,
    number), the :data:`MULTI_FULL` best options (multiple), the question's own effect (text,
    department)."""
    best: dict[str, float] = {}
    if question.type == MULTI:
        for oid in {oid for o in question.options for oid in o.effect.profile}:
            gains = sorted((o.effect.profile.get(oid, 0.0) for o in question.options),
                           reverse=True)
            best[oid] = sum(gains[:MULTI_FULL])
    elif question.type in (SINGLE, NUMBER):
        for option in question.options:
            for oid, points in option.effect.profile.items():
                best[oid] = max(best.get(oid, 0.0), points)
    else:
        best = dict(question.effect.profile)
    return best


def examined_objectives(dialog: Dialog, answers: dict[str, Any]) -> set[str]:
    """The objectives scored on enough answers: at least half of the questions that can give
    them points and apply to this project (an early stop leaves most unexamined)."""
    out = set()
    for objective in dialog.objectives:
        feeding = [q for q in dialog.questions
                   if _best_points(q).get(objective.id) and holds_or_open(q, answers, dialog)]
        answered = sum(1 for q in feeding if answers.get(q.id) is not None)
        if feeding and answered >= max(2, (len(feeding) + 1) // 2):
            out.add(objective.id)
    return out


def holds_or_open(question: Question, answers: dict[str, Any], dialog: Dialog) -> bool:
    """The question applies, or may still apply (its condition looks at unanswered ones)."""
    if question.when is None or holds(question.when, answers, dialog):
        return True
    return any(answers.get(q) is None for q in questions_of(question.when))


def evaluate(dialog: Dialog, answers: dict[str, Any], territories: Territories | None = None,
             *, skipped: Collection[str] = (), project: str = "", today: date | None = None,
             notes: tuple[AnswerLine, ...] = ()) -> Result:
    """The verdict, its reasons, the profile and the next steps, from the answers. Every line
    rests on answers given: what the questionnaire did not examine is said to be so."""
    m = dialog.messages
    stop = stop_effect(dialog, answers)
    statuses = criteria_status(dialog, answers)
    criteria = tuple(
        CriterionResult(c.id, c.label, c.blocking, statuses[c.id],
                        _explanation(dialog, c, statuses[c.id], answers), c.quote, c.source)
        for c in dialog.criteria)
    shown = {c.status for c in criteria}
    if stop is not None and stop.stop:
        verdict = stop.stop
    elif any(c.blocking and c.status == MISSING for c in criteria):
        verdict = NOT_YET
    elif any(c.status in (MISSING, UNEXAMINED) or (c.blocking and c.status == PARTIAL)
             for c in criteria):
        verdict = IN_THE_MAKING
    else:
        verdict = PTCE
    label, text = dialog.verdicts[verdict]
    hints = [m[key] for status, key in ((PARTIAL, "hint_partial"), (MISSING, "hint_missing"))
             if status in shown]
    if UNEXAMINED in shown and stop is None:
        hints.append(m["hint_unexamined"])
    notes_text = [e.note for _, e in _effects(dialog, answers) if e.note]
    text = " ".join([*notes_text, text, *hints])

    maturity = _maturity(dialog, answers)
    eligible, eligibility = _eligibility(dialog, answers, verdict, label, stopped=stop is not None)

    scores = objective_scores(dialog, answers)
    examined = examined_objectives(dialog, answers)
    floors = {o.id: 50 for o in dialog.objectives
              if o.criterion and statuses.get(o.criterion) == MET}
    objectives = tuple(
        ObjectiveScore(o.id, o.label, o.general,
                       max(scores[o.id], floors.get(o.id, 0)) if o.id in examined else 0,
                       o.id in examined)
        for o in dialog.objectives)
    ranked = sorted((o for o in objectives if o.examined), key=lambda o: o.score, reverse=True)
    by_id = {o.id: o for o in dialog.objectives}
    strengths = tuple(f"{o.label} ({o.score}/100) : {by_id[o.id].strength}"
                      for o in ranked[:3] if o.score >= STRONG)

    def relevant(rule: Criterion | Objective) -> bool:
        return bool(rule.next_step) and not (
            rule.next_step_unless is not None and holds(rule.next_step_unless, answers, dialog))

    by_criterion = {c.id: c for c in dialog.criteria}
    steps = [by_criterion[r.id].next_step for r in criteria
             if r.status in (PARTIAL, MISSING) and (r.blocking or stop is None)
             and relevant(by_criterion[r.id])]
    if stop is not None:  # stopped early: what would make it a PTCE, and whom to talk to
        steps.append(m.get("stopped_next_step", ""))
    else:
        steps += [by_id[o.id].next_step for o in ranked[::-1]
                  if o.score < STRONG and relevant(by_id[o.id])][:WEAKEST]
    next_steps = tuple(dict.fromkeys(s for s in steps if s))[:MAX_NEXT_STEPS]

    department_label, region = "", ""
    dept_question = next((q for q in dialog.questions if q.type == DEPARTMENT), None)
    if dept_question is not None and territories is not None:
        department = territories.department(str(answers.get(dept_question.id, "")))
        if department is not None:
            department_label = f"{department.name} ({department.code})"
            region = department.region.name
    lines = tuple(
        AnswerLine(q.section, _question_words(q.text),
                   answer_label(q, answers.get(q.id), territories))
        for q in dialog.questions if q.id in answers or q.id in skipped)
    return Result(verdict, label, text, maturity, criteria, eligible, eligibility, objectives,
                  strengths, next_steps, lines, project, department_label, region,
                  (today or date.today()).isoformat(), dialog.version, notes,
                  words=document_words(dialog))


def document_words(dialog: Dialog) -> Words:
    """The words of the chart and the report, as the dialog's messages give them."""
    return tuple((key, dialog.messages[key]) for key in DOCUMENT_MESSAGES)


def _explanation(dialog: Dialog, criterion: Criterion, status: str, answers: dict[str, Any]
                 ) -> str:
    """Why a criterion has its status, in one line."""
    if status == UNEXAMINED:
        return dialog.messages["unexamined"]
    missing = _unconfirmed(criterion, answers)
    if status == PARTIAL and missing:
        question = dialog.question(missing[0])
        return dialog.messages["unconfirmed"].format(
            question=_question_words(question.text if question else missing[0]))
    return criterion.texts[status]


def _question_words(text: str) -> str:
    """A question as quoted in a sentence: up to its question mark."""
    end = text.find("?")
    return text[: end + 1] if end >= 0 else text


def _maturity(dialog: Dialog, answers: dict[str, Any]) -> str:
    """The first stage whose condition holds. The last stage (no condition) is claimed only
    when every question the stages before it look at was answered: otherwise the stage is
    "not examined" (an early stop, a skipped question)."""
    looked_at: set[str] = set()
    for rule in dialog.maturity:
        if rule.when is not None:
            if holds(rule.when, answers, dialog):
                return rule.text
            looked_at |= questions_of(rule.when)
            continue
        if all(answers.get(q) is not None for q in looked_at):
            return rule.text
        break
    return dialog.messages["maturity_unexamined"]


def _eligibility(dialog: Dialog, answers: dict[str, Any], verdict: str, verdict_label: str,
                 *, stopped: bool = False) -> tuple[bool, str]:
    """Whether the project can answer the State's calls as it stands (decree 2015-431): only
    a PTCE by the definition can; then each condition of the decree, said unmet when its
    questions were answered, "not examined" when they were not (not listed after an early
    stop: the definition comes first)."""
    m = dialog.messages
    unmet, unexamined = [], []
    if verdict != PTCE:
        unmet.append(m["eligibility_definition"].format(verdict=verdict_label))
    for rule in dialog.eligibility:
        if holds(rule.when, answers, dialog):
            continue
        looked_at = questions_of(rule.when)
        if any(answers.get(q) is not None for q in looked_at):
            unmet.append(rule.text)
        elif not stopped:
            unexamined.append(rule.text)
    if not unmet and not unexamined:
        return True, m["eligibility_yes"]
    parts = []
    if unmet:
        parts.append(m["eligibility_no"].format(reasons=" ; ".join(unmet)))
    if unexamined:
        key = "eligibility_check" if not unmet else "eligibility_unexamined"
        parts.append(m[key].format(reasons=" ; ".join(unexamined)))
    return False, " ".join(parts)
