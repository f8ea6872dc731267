"""Every table and index of the assistant's database, created and upgraded by numbered
migrations (sqlite-utils' :class:`~sqlite_utils.Migrations`, recorded in
``_sqlite_migrations``).

The first migration creates what a database of December 2026 already has, table by table
where it is missing: a database written by that version opens unchanged and is marked as
migrated; an empty one gets everything. A later change to the schema is a new numbered
function below, never an edit of an applied one. Each feature keeps its own queries (the
leads in :mod:`bot.handoff.leads`, the deliveries in :mod:`bot.handoff.outbox`…); this module
only says what the tables are.
"""

from __future__ import annotations

from typing import Any

from sqlite_utils import Database, Migrations

migrations = Migrations("ptce")

# table -> (columns, primary key, indexes (columns, unique))
_TABLES: dict[str, tuple[dict[str, Any], str | tuple[str, ...], list[tuple[list[str], bool]]]] = {
    # Which entry answered a question (no user, no text): statistics.
    "questions": ({"id": int, "ts": str, "channel": str, "outcome": str, "entry_id": str},
                  "id", []),
    "feedback": ({"id": int, "ts": str, "channel": str, "entry_id": str, "useful": int},
                 "id", []),
    # What was wrong with an answer, after a 👎 (no user kept).
    "feedback_reasons": ({"id": int, "ts": str, "channel": str, "entry_id": str,
                          "reason": str}, "id", []),
    "users": ({"channel": str, "user_id": str, "active": int, "first_seen": str,
               "last_seen": str, "blocked_at": str}, ("channel", "user_id"), []),
    # One questionnaire: its answers and position (JSON), so that it survives restarts.
    "sessions": ({"id": int, "user_key": str, "version": str, "status": str, "state": str,
                  "verdict": str, "region": str, "adviser_key": str, "project": str,
                  "token": str, "created": str, "updated": str}, "id",
                 [(["user_key", "status"], False), (["adviser_key"], False),
                  (["token"], True)]),
    # Support staff running the questionnaire with founders (/conseiller).
    "advisers": ({"user_key": str, "structure": str, "pending": str, "created": str},
                 "user_key", []),
    # Updates already handled: after a crash, Telegram sends again those whose receipt was
    # not confirmed yet; they must not be handled twice.
    "updates": ({"channel": str, "update_id": int, "at": float}, ("channel", "update_id"), []),
    # Questions without an answer, masked, for the maintainers (``ptce-bot unanswered``).
    "unanswered": ({"key": str, "text": str, "outcome": str, "count": int, "first_seen": str,
                    "last_seen": str}, "key", []),
    # A hand-off in progress: erased as soon as it ends, sent or not.
    "handoffs": ({"user_key": str, "state": str, "updated": str}, "user_key", []),
    # Leads consented by founders, with what the coordination needs to call back.
    "leads": ({"id": int, "created": str, "user_key": str, "chat_id": str, "region_id": str,
               "region": str, "department": str, "coordination_id": str, "coordination": str,
               "project": str, "verdict": str, "summary": str, "contact": str,
               "consent_version": str, "consent_at": str, "consent_recipient": str,
               "status": str, "status_note": str, "status_at": str, "flagged": int,
               "reminded_at": str, "escalated_at": str, "report": bytes, "report_name": str,
               "chart": bytes}, "id",
              [(["region_id", "status"], False), (["user_key"], False)]),
    # Invitation codes a coordination uses to link its chat (single-use, expiring).
    "invites": ({"code": str, "coordination_id": str, "region_id": str, "created": str,
                 "used_at": str, "used_by": str}, "code", []),
    # Chats linked to a coordination: they receive its region's leads.
    "coordinators": ({"chat_key": str, "coordination_id": str, "region_id": str,
                      "linked_at": str, "pending": str}, "chat_key", []),
    # The outbox: one row per message to deliver (a lead to a channel, a notice, a receipt).
    "deliveries": ({"id": int, "lead_id": int, "purpose": str, "kind": str, "target": str,
                    "text": str, "status": str, "attempts": int, "next_attempt": str,
                    "last_error": str, "fallback": int, "created": str, "updated": str},
                   "id", [(["status", "next_attempt"], False)]),
}


@migrations()
def m001_tables_of_december_2026(db: Database) -> None:
    """Every table and index as of December 2026, each only where it is missing."""
    for name, (columns, pk, indexes) in _TABLES.items():
        table = db.table(name)
        table.create(columns, pk=pk, if_not_exists=True)
        for index_columns, unique in indexes:
            table.create_index(index_columns, unique=unique, if_not_exists=True)


def upgrade(db: Database) -> None:
    """Bring the database to the current schema (nothing to do when it is already there)."""
    if migrations.pending(db):
        migrations.apply(db)


def tables() -> tuple[str, ...]:
    """The names of the assistant's tables (for checks and tests)."""
    return tuple(_TABLES)
