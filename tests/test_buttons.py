"""Each feature declares its buttons; two features claiming the same data are refused at start,
so the order of registration never decides who answers a press."""

from __future__ import annotations

import pytest

from bot.core.buttons import ButtonClash, Buttons
from bot.core.messages import Input, User

LEA = Input(User("test", "lea"), button="")


def test_a_press_reaches_the_feature_that_owns_its_data():
    buttons: Buttons[str] = Buttons()
    buttons.exact("questionnaire", ["db"], lambda inp, data: f"back {data}")
    buttons.prefix("questionnaire", ["da:"], lambda inp, data: f"answer {data}")
    buttons.prefix("hand-off", ["kd:"], lambda inp, data: f"department {data}")
    assert buttons.handle(LEA, "da:nature:scic") == "answer da:nature:scic"
    assert buttons.handle(LEA, "kd:26") == "department kd:26"
    assert buttons.handle(LEA, "db") == "back db"
    assert buttons.handle(LEA, "zz") is None


@pytest.mark.parametrize(("first", "second"), [
    (("exact", "kx"), ("exact", "kx")),
    (("prefix", "k"), ("prefix", "kd:")),
    (("prefix", "kd:"), ("prefix", "k")),
    (("prefix", "d"), ("exact", "db")),
    (("exact", "db"), ("prefix", "d")),
])
def test_overlapping_claims_of_two_features_are_refused(first, second):
    buttons: Buttons[str] = Buttons()
    getattr(buttons, first[0])("questionnaire", [first[1]], lambda inp, data: "q")
    with pytest.raises(ButtonClash, match="already claimed by questionnaire"):
        getattr(buttons, second[0])("hand-off", [second[1]], lambda inp, data: "h")


def test_the_assistants_buttons_each_have_one_owner(conversation):
    """Building the conversation registers every feature's buttons without a clash."""
    owners = {data: conversation.buttons.owner(data)
              for data in ("da:nature:scic", "kd:26", "lp:3", "co:12", "f:r:unclear:x", "q:x")}
    assert owners == {"da:nature:scic": "questionnaire", "kd:26": "hand-off",
                      "lp:3": "coordination", "co:12": "adviser", "f:r:unclear:x": "answers",
                      "q:x": "answers"}
