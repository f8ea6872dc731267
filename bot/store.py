"""The assistant's SQLite file, through sqlite-utils.

What is kept, and why (RGPD): which entry answered (no user id, no text) for statistics, and
the text of questions the assistant could not answer — without any user id, with e-mail
addresses and phone numbers masked — so that maintainers can improve the knowledge base.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

DEFAULT_DB = Path("data") / "ptce.sqlite3"
MAX_STORED_QUESTION = 500

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?:\+|\b0)\d(?:[\s.-]?\d{2}){4}\b|\+\d[\d\s.-]{7,}\d")


def default_path() -> Path:
    """``PTCE_DB`` if set, else ``data/ptce.sqlite3`` under the current folder."""
    return Path(os.environ.get("PTCE_DB") or DEFAULT_DB)


def mask_personal_data(text: str) -> str:
    """Replace e-mail addresses and phone numbers by placeholders."""
    return _PHONE.sub("[téléphone]", _EMAIL.sub("[e-mail]", text))


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    """Read and write the assistant's data; ``path`` may be ``":memory:"``."""

    def __init__(self, path: Path | str | None = None) -> None:
        path = default_path() if path is None else path
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite_utils.Database(path)
            self.db.enable_wal()
        else:
            self.db = sqlite_utils.Database(memory=True)
        self.db.execute("PRAGMA busy_timeout = 5000")
        self._create_tables()

    def _create_tables(self) -> None:
        if "questions" not in self.db.table_names():
            self.db["questions"].create(
                {"id": int, "ts": str, "channel": str, "outcome": str, "entry_id": str},
                pk="id",
            )
        if "unanswered" not in self.db.table_names():
            self.db["unanswered"].create(
                {"key": str, "text": str, "outcome": str, "count": int,
                 "first_seen": str, "last_seen": str},
                pk="key",
            )

    def record_question(self, channel: str, outcome: str, entry_id: str | None = None) -> None:
        """Count one question by its outcome (answer, suggest, none, smalltalk, out_of_scope)."""
        self.db["questions"].insert(
            {"ts": now(), "channel": channel, "outcome": outcome, "entry_id": entry_id}
        )

    def record_unanswered(self, key: str, text: str, outcome: str) -> None:
        """Remember a question left without a sure answer; ``key`` groups identical ones."""
        text = mask_personal_data(text.strip())[:MAX_STORED_QUESTION]
        ts = now()
        with self.db.conn:
            self.db.execute(
                "INSERT INTO unanswered (key, text, outcome, count, first_seen, last_seen) "
                "VALUES (?, ?, ?, 1, ?, ?) ON CONFLICT(key) DO UPDATE SET "
                "count = count + 1, last_seen = excluded.last_seen, text = excluded.text, "
                "outcome = excluded.outcome",
                [key[:MAX_STORED_QUESTION], text, outcome, ts, ts],
            )

    def unanswered(self, limit: int = 50) -> list[dict[str, Any]]:
        """Unanswered questions, most frequent first."""
        return list(self.db.query(
            "SELECT text, outcome, count, first_seen, last_seen FROM unanswered "
            "ORDER BY count DESC, last_seen DESC LIMIT ?", [limit]))
