"""The qualification questionnaire's logic: which question comes next, and what the answers
establish. Pure functions over a :class:`~bot.dialog.Dialog` and a dict of answers — no I/O,
no wording of its own beyond what ``dialogs/`` provides.

Answers are stored as plain JSON values: an option id (single choice), a list of option ids
(multiple choice), a number, a text, a department code. A skipped question has no answer and
is listed in ``skipped``.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from typing import Any

from .dialog import (
    DEPARTMENT,
    MULTI,
    NUMBER,
    SINGLE,
    STATUS_RANK,
    TEXT,
    Dialog,
    Effect,
    Question,
    holds,
    selected_options,
)
from .results import (
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
)
from .territory import Territories

MAX_NEXT_STEPS = 5
WEAKEST = 3  # objectives turned into next steps
STRONG = 60  # an objective scoring at least this is a strength


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


def progress(dialog: Dialog, answers: dict[str, Any], skipped: Collection[str] = ()
             ) -> tuple[int, int]:
    """(position of the next question, estimated total) for a "5/24" indicator."""
    done = sum(1 for q in dialog.questions if q.id in answers or q.id in skipped)
    ahead = sum(1 for q in dialog.questions
                if q.id not in answers and q.id not in skipped
                and (q.when is None or holds(q.when, answers, dialog)))
    return done + 1, done + max(ahead, 1)


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


def criteria_status(dialog: Dialog, answers: dict[str, Any], *, stopped: bool = False
                    ) -> dict[str, str]:
    """Each criterion's status: the evidence combined (weakest for "all", strongest for "any");
    no evidence at all counts as missing — or as not examined when the questionnaire
    ``stopped`` early."""
    evidence: dict[str, list[str]] = {c.id: [] for c in dialog.criteria}
    for _, effect in _effects(dialog, answers):
        for cid, status in effect.criteria.items():
            evidence.setdefault(cid, []).append(status)
    out = {}
    for criterion in dialog.criteria:
        found = evidence[criterion.id]
        if not found:
            out[criterion.id] = UNEXAMINED if stopped else MISSING
            continue
        pick = min if criterion.combine == "all" else max
        out[criterion.id] = pick(found, key=STATUS_RANK.__getitem__)
    return out


def objective_scores(dialog: Dialog, answers: dict[str, Any]) -> dict[str, int]:
    """Each objective's score, 0–100: points earned over the points the questions asked could
    have given (skipped and unasked questions do not count)."""
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
    number), all options together (multiple), the question's own effect (text, department)."""
    best: dict[str, float] = {}
    if question.type == MULTI:
        for option in question.options:
            for oid, points in option.effect.profile.items():
                best[oid] = best.get(oid, 0.0) + points
    elif question.type in (SINGLE, NUMBER):
        for option in question.options:
            for oid, points in option.effect.profile.items():
                best[oid] = max(best.get(oid, 0.0), points)
    else:
        best = dict(question.effect.profile)
    return best


def evaluate(dialog: Dialog, answers: dict[str, Any], territories: Territories | None = None,
             *, skipped: Collection[str] = (), project: str = "", today: date | None = None,
             notes: tuple[AnswerLine, ...] = ()) -> Result:
    """The verdict, its reasons, the profile and the next steps, from the answers."""
    stop = stop_effect(dialog, answers)
    statuses = criteria_status(dialog, answers, stopped=stop is not None)
    criteria = tuple(
        CriterionResult(c.id, c.label, c.blocking, statuses[c.id],
                        c.texts.get(statuses[c.id], dialog.messages.get("unexamined", "")),
                        c.quote, c.source)
        for c in dialog.criteria)
    if stop is not None and stop.stop:
        verdict = stop.stop
    elif any(c.blocking and c.status == MISSING for c in criteria):
        verdict = NOT_YET
    elif any((c.blocking and c.status == PARTIAL) or c.status == MISSING for c in criteria):
        verdict = IN_THE_MAKING
    else:
        verdict = PTCE
    label, text = dialog.verdicts[verdict]
    notes_text = [e.note for _, e in _effects(dialog, answers) if e.note]
    if notes_text:
        text = " ".join([*notes_text, text])

    maturity = next((r.text for r in dialog.maturity if holds(r.when, answers, dialog)), "")
    unmet = [r.text for r in dialog.eligibility if not holds(r.when, answers, dialog)]
    eligibility = "oui" if not unmet else "pas encore, parce que " + " ; ".join(unmet)

    scores = objective_scores(dialog, answers)
    objectives = tuple(ObjectiveScore(o.id, o.label, o.general, scores[o.id])
                       for o in dialog.objectives)
    ranked = sorted(objectives, key=lambda o: o.score, reverse=True)
    by_id = {o.id: o for o in dialog.objectives}
    strengths = tuple(f"{o.label} ({o.score}/100) : {by_id[o.id].strength}"
                      for o in ranked[:3] if o.score >= STRONG)
    step_of = {c.id: c.next_step for c in dialog.criteria}
    if stop is not None:
        # Stopped early: what would make it a PTCE, and whom to talk to.
        steps = [step_of[r.id] for r in criteria if r.blocking and r.status != MET]
        steps.append(dialog.messages.get("stopped_next_step", ""))
    else:
        steps = [step_of[r.id] for r in criteria if r.status in (PARTIAL, MISSING)]
        steps += [by_id[o.id].next_step for o in ranked[::-1][:WEAKEST]]
    next_steps = tuple(dict.fromkeys(s for s in steps if s))[:MAX_NEXT_STEPS]

    department_label, region = "", ""
    dept_question = next((q for q in dialog.questions if q.type == DEPARTMENT), None)
    if dept_question is not None and territories is not None:
        department = territories.department(str(answers.get(dept_question.id, "")))
        if department is not None:
            department_label = f"{department.name} ({department.code})"
            region = department.region.name
    lines = tuple(
        AnswerLine(q.section, q.text, answer_label(q, answers.get(q.id), territories))
        for q in dialog.questions if q.id in answers or q.id in skipped)
    return Result(verdict, label, text, maturity, criteria, not unmet, eligibility, objectives,
                  strengths, next_steps, lines, project, department_label, region,
                  (today or date.today()).isoformat(), dialog.version, notes)
