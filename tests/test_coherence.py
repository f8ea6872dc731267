"""A result never contradicts the answers it was built from.

Hypothesis walks the questionnaire as founders do — each question the engine asks next gets
one of its answers, or is passed — and checks every line of the result against the answers:
the eligibility line, the hints under the verdict, the next steps, the maturity stage, the
strengths and the profile. A few of these profiles also go through the conversation, so that
what is checked is what a founder reads.
"""

from __future__ import annotations

import re
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.conversation import DIAGNOSTIC, Conversation
from bot.core.messages import Input, User
from bot.qualification import rules as logic
from bot.qualification.dialog import (
    DEPARTMENT,
    MULTI,
    NUMBER,
    SINGLE,
    Dialog,
    holds,
    questions_of,
    selected_options,
)
from bot.qualification.results import MET, MISSING, PARTIAL, PTCE, UNEXAMINED
from bot.storage.db import Store

SLOW = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                  HealthCheck.function_scoped_fixture])


@st.composite
def profiles(draw: st.DrawFn, dialog: Dialog, skip_rate: int = 8
             ) -> tuple[dict[str, Any], list[str]]:
    """Answers and passed questions, drawn question by question in the engine's order."""
    answers: dict[str, Any] = {}
    skipped: list[str] = []
    while (question := logic.next_question(dialog, answers, skipped)) is not None:
        if draw(st.integers(0, 99)) < skip_rate:
            skipped.append(question.id)
            continue
        answers[question.id] = draw(answer_to(question))
    return answers, skipped


def answer_to(question: Any) -> st.SearchStrategy[Any]:
    """One valid answer to a question, as the interview would store it."""
    ids = [o.id for o in question.options]
    if question.type == SINGLE:
        return st.sampled_from(ids)
    if question.type == MULTI:
        exclusive = [o.id for o in question.options if o.exclusive]
        others = [i for i in ids if i not in exclusive]
        return st.one_of(st.lists(st.sampled_from(others), min_size=1, unique=True),
                         *([st.sampled_from(exclusive).map(lambda i: [i])] if exclusive else []))
    if question.type == NUMBER:
        return st.integers(int(question.minimum or 0), min(int(question.maximum or 100), 60))
    if question.type == DEPARTMENT:
        return st.sampled_from(["26", "35", "974", "2A", "75"])
    return st.text(min_size=1, max_size=40).filter(str.strip)


def check_result(dialog: Dialog, answers: dict[str, Any], skipped: list[str]) -> None:
    """Every property of the issue, on one profile."""
    m = dialog.messages
    result = logic.evaluate(dialog, answers, skipped=skipped)
    shown = {c.status for c in result.criteria}
    stopped = logic.stop_effect(dialog, answers) is not None

    # Eligible to the State's calls only as a PTCE by the definition.
    if result.eligible:
        assert result.verdict == PTCE
    if result.verdict != PTCE:
        assert result.eligibility_text.startswith(m["eligibility_no"].split("{")[0])

    # The hints under the verdict name only the icons shown.
    assert (m["hint_missing"] in result.verdict_text) == (MISSING in shown)
    assert (m["hint_partial"] in result.verdict_text) == (PARTIAL in shown)

    # Every ✅ ⚠️ ❌ rests on an answer given; an early stop shows ➖ for what it did not ask.
    answered_feeds = {cid for q in dialog.questions if answers.get(q.id) is not None
                      for o in selected_options(q, answers[q.id]) for cid in o.effect.criteria}
    answered_feeds |= {cid for q in dialog.questions if answers.get(q.id) is not None
                       for cid in q.effect.criteria}
    for c in result.criteria:
        if c.status != UNEXAMINED:
            assert c.id in answered_feeds, (c.id, c.status)
    for criterion in dialog.criteria:
        if any(answers.get(q) is None for q in criterion.requires):
            assert dict((c.id, c.status) for c in result.criteria)[criterion.id] != MET

    # No next step that the answers make pointless.
    rules = [*dialog.criteria, *dialog.objectives]
    excluded = {r.next_step for r in rules
                if r.next_step_unless is not None and holds(r.next_step_unless, answers, dialog)}
    offered = {r.next_step for r in rules if r.next_step_unless is None
               or not holds(r.next_step_unless, answers, dialog)}
    assert not (set(result.next_steps) & (excluded - offered)), result.next_steps

    # The maturity stage is claimed only from answers.
    looked_at = set().union(*(questions_of(r.when) for r in dialog.maturity if r.when))
    if not any(r.when is not None and holds(r.when, answers, dialog) for r in dialog.maturity) \
            and any(answers.get(q) is None for q in looked_at):
        assert result.maturity == m["maturity_unexamined"]

    # Strengths and next steps of the profile come from examined objectives only.
    examined = {o.label for o in result.objectives if o.examined}
    for strength in result.strengths:
        assert re.match(r"(.*) \(\d+/100\)", strength).group(1) in examined
    for o in result.objectives:
        if not o.examined:
            assert o.score == 0
    # A criterion met gives its objective a score that does not contradict it.
    statuses = {c.id: c.status for c in result.criteria}
    by_label = {o.id: o for o in result.objectives}
    for objective in dialog.objectives:
        score = by_label[objective.id]
        if objective.criterion and statuses[objective.criterion] == MET and score.examined:
            assert score.score >= 50, (objective.id, score.score)

    if stopped:
        assert m["stopped_next_step"] in result.next_steps


@settings(max_examples=1500, **SLOW)
@given(data=st.data())
def test_results_never_contradict_the_answers(content, data):
    dialog = content.dialog
    answers, skipped = data.draw(profiles(dialog))
    check_result(dialog, answers, skipped)


@settings(max_examples=400, **SLOW)
@given(data=st.data())
def test_complete_profiles_without_passes(content, data):
    dialog = content.dialog
    answers, skipped = data.draw(profiles(dialog, skip_rate=0))
    check_result(dialog, answers, skipped)


@settings(max_examples=300, **SLOW)
@given(data=st.data())
def test_the_question_counter_keeps_its_total(content, data):
    """« question 7 sur 25 »: the total never moves, the position never passes it."""
    dialog = content.dialog
    total = logic.longest_path(dialog)
    answers: dict[str, Any] = {}
    skipped: list[str] = []
    while (question := logic.next_question(dialog, answers, skipped)) is not None:
        assert logic.progress(dialog, answers, skipped, total) == \
            (len(answers) + len(skipped) + 1, total)
        if data.draw(st.integers(0, 9)) == 0:
            skipped.append(question.id)
        else:
            answers[question.id] = data.draw(answer_to(question))


@settings(max_examples=15, **SLOW)
@given(data=st.data())
def test_what_a_founder_reads_matches_what_is_shown(content, tmp_path_factory, data):
    """Through the conversation: the counter keeps its total, and the result's text names
    only the icons it shows. The verdict is read as Telegram shows it, before its chart and
    report (made apart, tested in test_report.py)."""
    dialog = content.dialog
    conversation = Conversation(content, Store(tmp_path_factory.mktemp("co") / "db.sqlite3"))
    conversation.defer_drawing()
    user = User("test", "coherence")
    replies = conversation.handle(Input(user, button=DIAGNOSTIC))
    answers: dict[str, Any] = {}
    totals = set()
    for _ in range(40):
        text = "\n".join(r.text for r in replies)
        totals |= {int(t) for t in _totals(text)}
        question = logic.next_question(dialog, answers)
        if question is None:
            if not any(r.kind == "result" for r in replies):  # the recap: see the result
                replies = conversation.handle(Input(user, button="df"))
            break
        value = data.draw(answer_to(question))
        answers[question.id] = value
        replies = _answer(conversation, user, question, value)
    text = "\n".join(r.text for r in replies)
    assert totals == {logic.longest_path(dialog)}
    assert ("❌" in text.replace(dialog.messages["hint_missing"], "")) == \
        (dialog.messages["hint_missing"] in text)
    assert ("⚠️" in text.replace(dialog.messages["hint_partial"], "")) == \
        (dialog.messages["hint_partial"] in text)


def _totals(text: str) -> list[str]:
    return re.findall(r"[Qq]uestion \d+ sur (\d+)", text)


def _answer(conversation: Conversation, user: User, question: Any, value: Any) -> list:
    """Answer as a founder does: buttons for choices (then Valider), text otherwise."""
    if question.type == SINGLE:
        return conversation.handle(Input(user, button=f"da:{question.id}:{value}"))
    if question.type == MULTI:
        for option in value:
            conversation.handle(Input(user, button=f"dt:{question.id}:{option}"))
        return conversation.handle(Input(user, button=f"dv:{question.id}"))
    replies = conversation.handle(Input(user, text=str(value)))
    if question.type == DEPARTMENT:  # "Vouliez-vous dire" for an ambiguous entry: confirm
        for reply in replies:
            for row in reply.buttons:
                for button in row:
                    if button.data.startswith("dd:"):
                        return conversation.handle(Input(user, button=button.data))
    return replies
