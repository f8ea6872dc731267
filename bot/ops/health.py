"""The health report behind ``GET /health``, for a load balancer, a monitoring probe or an
operator's ``curl``.

It reads the SQLite file through a fresh read-only connection, so that it tells whether the
file can really be read now (moved, deleted, disk failure…) without touching the connection
the core is using; and it counts the deliveries the outbox still owes. No personal data.
"""

from __future__ import annotations

import sqlite3
from importlib import metadata
from pathlib import Path
from typing import Any

from bot.handoff.outbox import FAILED, PENDING
from bot.storage.db import read_only

OK, UNAVAILABLE = 200, 503


def version() -> str:
    """The installed version of the assistant."""
    try:
        return metadata.version("ptce-bot")
    except metadata.PackageNotFoundError:
        return "inconnue"


def report(database: Path | None, **extra: Any) -> tuple[int, dict[str, Any]]:
    """``(HTTP status, JSON body)``: 200 when the database can be read, 503 otherwise.

    ``extra`` fields (the number of entries of the content in service…) are added to the body.
    """
    body: dict[str, Any] = {"status": "ok", "database": "ok"}
    try:
        pending, failed = _outbox_counts(database)
    except (sqlite3.Error, OSError) as exc:
        body.update(status="error", database="error", detail=str(exc))
        return UNAVAILABLE, {**body, **extra, "version": version()}
    body.update(outbox_pending=pending, outbox_failed=failed)
    return OK, {**body, **extra, "version": version()}


def _outbox_counts(database: Path | None) -> tuple[int, int]:
    if database is None:
        raise sqlite3.OperationalError("base de données en mémoire : aucun fichier à lire")
    connection = read_only(database, timeout=2)
    try:
        tables = {name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "deliveries" not in tables:
            return 0, 0
        counts = dict(connection.execute(
            "SELECT status, COUNT(*) FROM deliveries WHERE status IN (?, ?) GROUP BY status",
            [PENDING, FAILED]).fetchall())
        return counts.get(PENDING, 0), counts.get(FAILED, 0)
    finally:
        connection.close()
