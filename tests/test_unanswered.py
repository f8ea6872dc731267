"""Questions without a sure answer are kept for review, without personal data."""

from __future__ import annotations

import sqlite3

from bot.core.conversation import Conversation
from bot.core.messages import Input, User
from bot.storage.db import Store


def test_unanswered_questions_are_recorded_most_frequent_first(ask, store):
    ask("quel temps fait-il")
    ask("Quel temps fait-il ?")
    ask("recette de la tarte tatin")
    rows = store.unanswered()
    assert [r["count"] for r in rows] == [2, 1]
    assert "temps" in rows[0]["text"]


def test_answered_questions_are_counted_without_their_text(ask, store):
    ask("c koi un ptce")
    rows = list(store.db["questions"].rows)
    assert rows[-1]["outcome"] == "answer" and rows[-1]["entry_id"] == "def-ptce"
    assert store.unanswered() == []


def test_no_user_id_and_no_contact_data_are_stored(ask, store, tmp_path):
    ask("je suis lea.martin@example.org, appelez le 06 12 34 56 78 pour la meteo")
    (row,) = store.unanswered()
    assert "example.org" not in row["text"] and "06 12" not in row["text"]
    assert "[e-mail]" in row["text"] and "[téléphone]" in row["text"]
    dump = "\n".join(sqlite3.connect(tmp_path / "ptce.sqlite3").iterdump())
    assert "lea.martin" not in dump


def test_the_record_survives_a_restart(content, tmp_path):
    path = tmp_path / "db.sqlite3"
    Conversation(content, Store(path)).handle(Input(User("t", "1"), text="horaires de la CAF"))
    assert Store(path).unanswered()[0]["text"] == "horaires de la CAF"
