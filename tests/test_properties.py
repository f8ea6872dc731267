"""Whatever a user does, in whatever order, the assistant replies and keeps their answers.

Hypothesis drives the core with sequences of taps on the buttons just shown, taps on stale or
invented buttons, commands, and arbitrary text (odd Unicode, very long, empty).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.conversation import DIAGNOSTIC, Conversation
from bot.core.messages import Input, Reply, User
from bot.storage.db import Store

COMMANDS = ["start", "aide", "themes", "glossaire", "annuler", "diagnostic", "reprendre",
            "conseiller", "mes_donnees", "oublier", "leads", "lead", "export", "inconnue"]
# What a user may do next: tap the n-th button shown, tap a made-up or stale button, type,
# send a command.
actions = st.lists(st.one_of(
    st.tuples(st.just("tap"), st.integers(0, 40)),
    st.tuples(st.just("data"), st.sampled_from(
        ["da:role:founder", "dt:partners:none", "dv:partners", "df", "db", "dp", "dr", "dn",
         "q:def-ptce", "t:definition", "zz", "kok", "ky", "co:999", "lp:1", "f:+:nope"])),
    st.tuples(st.just("text"), st.one_of(
        st.text(max_size=60), st.sampled_from(["26", "drome", "12", "c koi un ptce", "",
                                               "x" * 5000, "\u202e\u200b🤔"]))),
    st.tuples(st.just("command"), st.sampled_from(COMMANDS)),
), min_size=1, max_size=25)


def answers(conversation: Conversation, key: str) -> dict[str, Any]:
    row = conversation.store.open_session(key)
    return dict(row["state"]["answers"]) if row else {}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(steps=actions)
def test_any_sequence_of_inputs_gets_replies_and_keeps_answers(content, tmp_path_factory, steps):
    store = Store(tmp_path_factory.mktemp("prop") / "ptce.sqlite3")
    conversation = Conversation(content, store)
    user = User("test", "fuzz")
    key = "test:fuzz"
    shown: list[Reply] = conversation.handle(Input(user, button=DIAGNOSTIC))
    dialog = content.dialog
    for kind, value in steps:
        before = answers(conversation, key)
        buttons = [b for r in shown for row in r.buttons for b in row]
        if kind == "tap" and buttons:
            data = buttons[value % len(buttons)].data
            inp = Input(user, button=data)
        elif kind == "data":
            data = value
            inp = Input(user, button=data)
        elif kind == "text":
            data = ""
            inp = Input(user, text=value)
        else:
            data = ""
            inp = Input(user, command=value)
        replies = conversation.handle(inp)
        assert replies, f"no reply to {inp}"
        assert all(r.text or r.attachments for r in replies)
        if any(r.buttons for r in replies):
            shown = replies
        after = answers(conversation, key)
        # Every stored answer belongs to a question and is one of its options.
        for qid, answer in after.items():
            question = dialog.question(qid)
            assert question is not None
            if question.type == "single":
                assert question.option(answer) is not None
            if question.type == "multi":
                assert all(question.option(o) for o in answer)
        # Answers are only dropped by going back, changing an earlier answer that makes them
        # moot, starting again, finishing, or erasing one's data.
        rewinding = data in ("db", "dn", "df") or data.startswith(("da:", "dt:", "dv:",
                                                                   "dd:", "ds:", "kfy"))
        if not rewinding and inp.command not in ("oublier", "diagnostic"):
            assert set(before) <= set(after) or not after, (inp, before, after)
