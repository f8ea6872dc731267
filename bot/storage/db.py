"""The assistant's SQLite file, through sqlite-utils.

What is kept, and why (RGPD): which entry answered (no user id, no text) for statistics, and
the text of questions the assistant could not answer — without any user id, with e-mail
addresses and phone numbers masked — so that maintainers can improve the knowledge base.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import time
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import sqlite_utils

from bot.core.text import mask_personal_data
from bot.storage import schema

DEFAULT_DB = Path("data") / "ptce.sqlite3"
MAX_STORED_QUESTION = 500
SEEN_EVERY = 3600.0  # seconds between two "last seen" writes for an active user
# Telegram keeps an unconfirmed update for 24 hours: ids of handled updates are kept twice as
# long, so that a redelivered one is recognised.
UPDATE_MEMORY = 48 * 3600
PRUNE_UPDATES_EVERY = 1000  # claims between two clean-ups of old update ids

# Every table exists from the start (see schema): the query is the same for every message.
_PENDING_STEPS = (
    "SELECT (SELECT pending FROM coordinators WHERE chat_key = :chat) AS coordinator, "
    "(SELECT pending FROM advisers WHERE user_key = :user) AS adviser, "
    "(SELECT 1 FROM handoffs WHERE user_key = :user) AS handoff, "
    "(SELECT 1 FROM sessions WHERE user_key = :user AND status = 'active' LIMIT 1) "
    "AS questionnaire")


def default_path() -> Path:
    """``PTCE_DB`` if set, else ``data/ptce.sqlite3`` under the current folder."""
    return Path(os.environ.get("PTCE_DB") or DEFAULT_DB)


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def row_id(text: str) -> int | None:
    """A row's number as typed (``/lead 12``) or carried by a button (``lp:12``); None unless
    it is ASCII digits within SQLite's integers ("²" is a digit for ``str.isdigit``, not for
    ``int``; a longer number cannot name a row)."""
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    number = int(text)
    return number if number < 2**63 else None


def read_only(path: Path, timeout: float = 5.0) -> sqlite3.Connection:
    """A connection that can only read the database at ``path``, apart from the one that
    writes: it never creates an empty file where the database has gone missing."""
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=timeout)


def _private_file(path: Path) -> None:
    """Create the database file readable by its owner only (0600), before SQLite opens it
    (its -wal and -shm files take the same mode)."""
    if not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    with contextlib.suppress(OSError):
        os.chmod(path, 0o600)


class Store:
    """Read and write the assistant's data; ``path`` may be ``":memory:"``."""

    def __init__(self, path: Path | str | None = None) -> None:
        path = default_path() if path is None else path
        self.path = None if str(path) == ":memory:" else Path(path).resolve()
        if self.path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            _private_file(Path(path))
            # Channels run the core in one worker thread, created after the store.
            self.db = sqlite_utils.Database(sqlite3.connect(path, check_same_thread=False))
            self.db.enable_wal()
            # With WAL, NORMAL keeps the database consistent after a crash of the process or
            # of the machine; only the last commits before a power cut may be lost. FULL
            # would cost an fsync per message.
            self.db.execute("PRAGMA synchronous = NORMAL")
        else:
            self.db = sqlite_utils.Database(sqlite3.connect(":memory:", check_same_thread=False))
        self.db.execute("PRAGMA busy_timeout = 5000")
        # Erased rows are overwritten with zeros, not left readable in the file: an erased
        # e-mail address must not survive in the bytes (SQLite's default depends on its build).
        self.db.execute("PRAGMA secure_delete = ON")
        self._erase_due = False  # an erase waits for the end of a transaction to checkpoint
        self._seen: dict[tuple[str, str], float] = {}  # users recently marked active
        self._claims = 0
        schema.upgrade(self.db)

    def transaction(self) -> AbstractContextManager[Any]:
        """One transaction around several writes: all are kept, or none if the block raises
        (or the process dies before its end). Transactions nest."""
        return self.db.atomic()

    def erase_traces(self) -> None:
        """After erasing someone's data: copy the write-ahead log into the database and empty
        it, so that no older copy of the erased rows stays in the ``-wal`` file (the database
        itself overwrites them: ``secure_delete``). Inside a transaction, done once it ends
        (:meth:`after_transaction`)."""
        if self.db.conn.in_transaction:
            self._erase_due = True
            return
        self._erase_due = False
        if self.path is not None:
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def after_transaction(self) -> None:
        """What had to wait for the end of the transaction (see :meth:`erase_traces`)."""
        if self._erase_due:
            self.erase_traces()

    def claim_update(self, channel: str, update_id: int) -> bool:
        """True the first time an update is seen, False when it comes again (redelivered after
        a crash). Claim it in the same :meth:`transaction` as handling it: then an update
        whose handling never finished is handled when Telegram sends it again, and one that
        was handled is never handled twice."""
        stamp = time.time()
        with self.db.atomic():
            cursor = self.db.execute(
                "INSERT OR IGNORE INTO updates (channel, update_id, at) VALUES (?, ?, ?)",
                [channel, update_id, stamp])
            self._claims += 1
            if self._claims % PRUNE_UPDATES_EVERY == 0:
                self.db.execute("DELETE FROM updates WHERE at < ?", [stamp - UPDATE_MEMORY])
        return cursor.rowcount == 1

    def record_question(self, channel: str, outcome: str, entry_id: str | None = None) -> None:
        """Count one question by its outcome (answer, suggest, none, smalltalk, out_of_scope)."""
        with self.db.atomic():  # plain SQL: this runs for every message
            self.db.execute("INSERT INTO questions (ts, channel, outcome, entry_id) "
                            "VALUES (?, ?, ?, ?)", [now(), channel, outcome, entry_id])

    def record_unanswered(self, key: str, text: str, outcome: str) -> None:
        """Remember a question left without a sure answer; ``key`` groups identical ones."""
        # Bounded first: only what is kept is masked.
        text = mask_personal_data(text.strip()[:MAX_STORED_QUESTION + 100])[:MAX_STORED_QUESTION]
        ts = now()
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO unanswered (key, text, outcome, count, first_seen, last_seen) "
                "VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "count = count + 1, last_seen = excluded.last_seen, text = excluded.text, "
                "outcome = excluded.outcome",
                [key[:MAX_STORED_QUESTION], text, outcome, ts, ts],
            )

    def record_feedback(self, channel: str, entry_id: str, *, useful: bool) -> None:
        """Count one 👍 (``useful``) or 👎 on an entry; who gave it is not kept."""
        self.db.table("feedback").insert(
            {"ts": now(), "channel": channel, "entry_id": entry_id, "useful": int(useful)})

    def record_feedback_reason(self, channel: str, entry_id: str, reason: str) -> None:
        """Count why a 👎 was given on an entry (wrong, incomplete, unclear)."""
        self.db.table("feedback_reasons").insert(
            {"ts": now(), "channel": channel, "entry_id": entry_id, "reason": reason})

    def feedback_reasons(self) -> list[dict[str, Any]]:
        """Why answers were disliked: count per entry and reason, the most frequent first."""
        return list(self.db.query(
            "SELECT entry_id, reason, COUNT(*) AS n FROM feedback_reasons "
            "GROUP BY entry_id, reason ORDER BY n DESC, entry_id"))

    def feedback(self) -> list[dict[str, Any]]:
        """👍 and 👎 counts per entry, the most disliked first."""
        return list(self.db.query(
            "SELECT entry_id, SUM(useful) AS up, SUM(1 - useful) AS down FROM feedback "
            "GROUP BY entry_id ORDER BY down DESC, up ASC"))

    def seen_user(self, channel: str, user_id: str) -> None:
        """Note that a user wrote: they are reachable again, even if they had blocked us.
        Written at most once an hour per user while they stay active."""
        stamp = time.monotonic()
        if stamp - self._seen.get((channel, user_id), -SEEN_EVERY) < SEEN_EVERY:
            return
        self._seen[(channel, user_id)] = stamp
        ts = now()
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO users (channel, user_id, active, first_seen, last_seen) "
                "VALUES (?, ?, 1, ?, ?) ON CONFLICT(channel, user_id) DO UPDATE SET "
                "active = 1, last_seen = excluded.last_seen, blocked_at = NULL",
                [channel, user_id, ts, ts])

    def mark_inactive(self, channel: str, user_id: str) -> None:
        """The user blocked the bot: stop writing to them until they write again."""
        self._seen.pop((channel, user_id), None)
        ts = now()
        with self.db.atomic():
            self.db.execute(
                "INSERT INTO users (channel, user_id, active, first_seen, last_seen, "
                "blocked_at) VALUES (?, ?, 0, ?, ?, ?) ON CONFLICT(channel, user_id) DO UPDATE "
                "SET active = 0, blocked_at = excluded.blocked_at",
                [channel, user_id, ts, ts, ts])

    def is_active(self, channel: str, user_id: str) -> bool:
        """False once the user blocked the bot (and has not written since)."""
        row = next(self.db.query("SELECT active FROM users WHERE channel = ? AND user_id = ?",
                                 [channel, user_id]), None)
        return row is None or bool(row["active"])

    def open_session(self, user_key: str) -> dict[str, Any] | None:
        """The user's questionnaire in progress or paused, the latest one, if any."""
        return self._session_where(
            "user_key = ? AND status IN ('active', 'paused') ORDER BY "
            "status = 'active' DESC, updated DESC, id DESC LIMIT 1", [user_key])

    def save_session(self, session: dict[str, Any]) -> int:
        """Insert or update a questionnaire session; returns its id."""
        row = {**session, "state": json.dumps(session["state"], ensure_ascii=False),
               "updated": now()}
        with self.db.atomic():
            if row.get("id") is None:
                row.pop("id", None)
                row["created"] = row["updated"]
                return int(cast(int, self.db.table("sessions").insert(row).last_pk))
            # Plain SQL: this runs at every answer, and sqlite-utils' update() reads the
            # table's schema and the row back each time (a third of a millisecond).
            columns = [c for c in row if c != "id"]
            self.db.execute(
                f"UPDATE sessions SET {', '.join(f'[{c}] = ?' for c in columns)} WHERE id = ?",
                [*(row[c] for c in columns), row["id"]])
            return int(row["id"])

    def session(self, session_id: int) -> dict[str, Any] | None:
        """A questionnaire session by its id."""
        return self._session_where("id = ?", [session_id])

    def session_by_token(self, token: str) -> dict[str, Any] | None:
        """The session a resume link (``/start reprise-<token>``) points to."""
        return self._session_where("token = ?", [token])

    def adviser_sessions(self, adviser_key: str, limit: int = 20) -> list[dict[str, Any]]:
        """An adviser's sessions, the latest first (without their answers)."""
        return list(self.db.query(
            "SELECT id, user_key, status, verdict, project, created, updated FROM sessions "
            "WHERE adviser_key = ? ORDER BY updated DESC, id DESC LIMIT ?",
            [adviser_key, limit]))

    def pause_open_sessions(self, user_key: str) -> None:
        """Put the user's active questionnaires on hold (another one is being opened)."""
        with self.db.atomic():
            self.db.execute("UPDATE sessions SET status = 'paused', updated = ? "
                            "WHERE user_key = ? AND status = 'active'", [now(), user_key])

    def pending_steps(self, user_key: str, chat_key: str) -> dict[str, Any]:
        """In one query, what a user's next typed message belongs to: a coordinator's note
        (``coordinator``), an adviser's step (``adviser``), a hand-off (``handoff``), a
        questionnaire in progress (``questionnaire``)."""
        row = next(self.db.query(_PENDING_STEPS, {"user": user_key, "chat": chat_key}))
        return {name: value for name, value in row.items() if value}

    def last_done_session(self, user_key: str) -> dict[str, Any] | None:
        """The user's latest finished questionnaire, if any."""
        return self._session_where(
            "user_key = ? AND status = 'done' ORDER BY updated DESC, id DESC LIMIT 1",
            [user_key])

    def session_snapshot(self, user_key: str, *, finished: bool) -> dict[str, Any] | None:
        """The user's questionnaire in progress (or latest finished one), read through a
        separate read-only connection: safe from another thread while the core writes. None
        for an in-memory database."""
        if self.path is None:
            return None
        where = ("status = 'done' ORDER BY updated DESC, id DESC" if finished else
                 "status = 'active' ORDER BY updated DESC, id DESC")
        reader = read_only(self.path)
        try:
            reader.row_factory = sqlite3.Row
            row = reader.execute(f"SELECT * FROM sessions WHERE user_key = ? AND {where} "
                                 "LIMIT 1", [user_key]).fetchone()
        finally:
            reader.close()
        if row is None:
            return None
        return {**dict(row), "state": json.loads(row["state"])}

    def _session_where(self, where: str, params: list[Any]) -> dict[str, Any] | None:
        row = next(self.db.query(f"SELECT * FROM sessions WHERE {where}", params), None)
        if row is not None:
            row["state"] = json.loads(row["state"])
        return row

    def adviser(self, user_key: str) -> dict[str, Any] | None:
        """The adviser profile of a user (their structure, what they are typing), if any."""
        return next(self.db.query("SELECT * FROM advisers WHERE user_key = ?", [user_key]),
                    None)

    def save_adviser(self, user_key: str, *, structure: str | None = None,
                     pending: str | None = None) -> None:
        """Create or update an adviser; ``pending`` is what their next message will be
        (``structure``, ``project``, ``note``) or None."""
        current = self.adviser(user_key) or {"user_key": user_key, "structure": "",
                                             "created": now()}
        if structure is not None:
            current["structure"] = structure
        current["pending"] = pending
        with self.db.atomic():
            self.db.table("advisers").upsert(current, pk="user_key")

    def purge_sessions_before(self, cutoff: str) -> int:
        """Delete questionnaires last touched before ``cutoff`` (retention); how many."""
        with self.db.atomic():
            cursor = self.db.execute("DELETE FROM sessions WHERE updated < ?", [cutoff])
        return cursor.rowcount

    def backup(self, target: Path | str) -> None:
        """Copy the database to ``target`` with SQLite's online backup: safe while the bot
        runs and writes."""
        destination = sqlite3.connect(target)
        try:
            self.db.conn.backup(destination)
        finally:
            destination.close()

    def unanswered(self, limit: int = 50) -> list[dict[str, Any]]:
        """Unanswered questions, most frequent first."""
        return list(self.db.query(
            "SELECT text, outcome, count, first_seen, last_seen FROM unanswered "
            "ORDER BY count DESC, last_seen DESC LIMIT ?", [limit]))
