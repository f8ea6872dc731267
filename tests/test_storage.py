"""The database has one owner: every table is created by ``bot.storage.schema``'s numbered
migrations, and a database written by the previous version opens and upgrades in place."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.core.messages import User, UserKey
from bot.handoff import leads
from bot.storage import schema
from bot.storage.db import Store

# Written by the version of 2 December 2026 (two questions asked, one lead), as
# ``sqlite3 .dump`` prints it.
PREVIOUS = Path(__file__).parent / "data" / "database-2026-12-02.sql"


def _schema(path: Path) -> dict[str, str]:
    with sqlite3.connect(path) as db:
        return {name: sql for name, sql in db.execute(
            "SELECT name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' "
            "AND tbl_name != '_sqlite_migrations'")}


def _previous_database(tmp_path: Path) -> Path:
    path = tmp_path / "ptce.sqlite3"
    with sqlite3.connect(path) as db:
        db.executescript(PREVIOUS.read_text(encoding="utf-8"))
    return path


def test_a_new_database_gets_every_table_and_records_its_migrations(tmp_path):
    store = Store(tmp_path / "ptce.sqlite3")
    assert set(schema.tables()) <= set(store.db.table_names())
    applied = [m.name for m in schema.migrations.applied(store.db)]
    assert applied == ["m001_tables_of_december_2026"]


def test_the_previous_versions_database_opens_keeps_its_data_and_is_marked_migrated(tmp_path):
    path = _previous_database(tmp_path)
    store = Store(path)
    assert [m.name for m in schema.migrations.applied(store.db)] == [
        "m001_tables_of_december_2026"]
    [lead] = leads.region_leads(store, "bretagne")
    assert lead["project"] == "Pôle Sud" and lead["status"] == leads.NEW
    assert [q["entry_id"] for q in store.db.query("SELECT entry_id FROM questions")] == [
        "def-ptce", "lancer-diagnostic"]
    Store(path)  # opening again applies nothing twice
    assert len(schema.migrations.applied(store.db)) == 1


def test_a_new_database_has_exactly_the_previous_versions_tables(tmp_path):
    """The first migration is the schema the previous version created, column for column:
    no database in the field differs from a new one."""
    Store(tmp_path / "new.sqlite3")
    assert _schema(tmp_path / "new.sqlite3") == _schema(_previous_database(tmp_path))


def test_user_keys_name_a_person_and_the_chat_they_speak_in():
    """The tables hold users as text: a private chat is the person; in a group, each member
    has their own key and shares the group's chat key (a coordination links the group)."""
    founder = UserKey.parse("telegram:5002")
    member = UserKey.parse("telegram:-100123:2001")
    assert (founder.person, founder.chat_key, founder.telegram_chat) == \
        ("5002", "telegram:5002", 5002)
    assert (member.person, member.chat_key, member.telegram_chat) == \
        ("2001", "telegram:-100123", -100123)
    assert member.user == User("telegram", "-100123:2001")
    assert UserKey.parse("console:local").telegram_chat is None
    for key in ("telegram:5002", "telegram:-100123:2001", "console:local", "cli:cli"):
        assert str(UserKey.parse(key)) == key
        assert UserKey.of(UserKey.parse(key).user) == UserKey.parse(key)

