"""One user's questionnaire as the store keeps it (table ``sessions``): answers, place in the
questionnaire, verdict, and what the adviser wrote."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from bot.storage.db import Store

# A session's status as a user reads it.
SESSION_STATUS = {"active": "en cours", "paused": "en pause", "done": "terminé",
                  "abandoned": "abandonné"}


@dataclass
class Session:
    """One user's questionnaire, as stored."""

    user_key: str
    version: str
    id: int | None = None
    status: str = "active"  # active, paused, done, abandoned
    answers: dict[str, Any] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    history: list[str] = field(default_factory=list)  # answered questions, in order
    current: str | None = None  # question id, or RECAP
    selection: list[str] = field(default_factory=list)  # multiple choice being toggled
    candidates: list[str] = field(default_factory=list)  # departments to confirm
    failures: int = 0
    editing: bool = False  # changing an answer from the recap
    started: str = field(default_factory=lambda: date.today().isoformat())
    verdict: str = ""
    region: str = ""
    adviser_key: str | None = None  # the adviser who started it, in adviser mode
    structure: str = ""  # the adviser's structure
    project: str = ""
    token: str | None = None  # resume link handed to the founder
    notes: list[list[str]] = field(default_factory=list)  # adviser's private [section, note]
    files_pending: bool = False  # verdict shown, its chart and report not sent yet

    _STATE = ("answers", "skipped", "history", "current", "selection", "candidates",
              "failures", "editing", "started", "structure", "notes", "files_pending")

    @property
    def driven_by_adviser(self) -> bool:
        return self.adviser_key is not None and self.adviser_key == self.user_key

    def to_row(self) -> dict[str, Any]:
        return {"id": self.id, "user_key": self.user_key, "version": self.version,
                "status": self.status, "verdict": self.verdict, "region": self.region,
                "adviser_key": self.adviser_key, "project": self.project, "token": self.token,
                "state": {k: getattr(self, k) for k in self._STATE}}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Session:
        session = cls(row["user_key"], row["version"], id=row["id"], status=row["status"],
                      verdict=row.get("verdict") or "", region=row.get("region") or "",
                      adviser_key=row.get("adviser_key"), project=row.get("project") or "",
                      token=row.get("token"))
        for key in cls._STATE:
            if key in row["state"]:
                setattr(session, key, row["state"][key])
        return session


def save(store: Store, session: Session) -> Session:
    """Write ``session`` (a new one gets its id)."""
    session.id = store.save_session(session.to_row())
    return session
