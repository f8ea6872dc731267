"""Leads: a founder's consented request to be contacted by their regional coordination.

A lead is committed to SQLite first — with the consent (text version, time, recipient) — and
only then delivered (see :mod:`bot.handoff.outbox`), so that no failure downstream can lose it.
Coordinations work their leads (taken in charge, closed); a founder can withdraw at any time.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any, cast

from bot.core.messages import UserKey
from bot.storage.db import Store, now

NEW, TAKEN, CLOSED, WITHDRAWN = "nouveau", "pris en charge", "clos", "retiré"  # as stored
# As read after « Demande n° 12 : » (a demande is feminine).
STATUS_LABEL = {NEW: "nouvelle", TAKEN: "prise en charge", CLOSED: "close",
                WITHDRAWN: "retirée"}
OPEN_STATUSES = (NEW, TAKEN)
CSV_COLUMNS = ("numero", "date", "region", "departement", "coordination", "projet", "verdict",
               "nom", "structure", "email", "telephone", "canal_prefere", "statut",
               "note_statut", "signale")


def status_label(status: str) -> str:
    """A stored status as read after « Demande n° 12 : »."""
    return STATUS_LABEL.get(status, status)


def is_linked(store: Store, chat_key: str) -> bool:
    """True when ``chat_key`` is linked to a coordination."""
    return next(store.db.query("SELECT 1 FROM coordinators WHERE chat_key = ? AND "
                               "coordination_id != ''", [chat_key]), None) is not None


def linked_chat_ids(store: Store, coordination_id: str) -> tuple[int, ...]:
    """The Telegram chats a coordination linked with an invitation code (``/coordination``):
    delivery channels of that coordination, beside the configured ones."""
    rows = store.db.query("SELECT chat_key FROM coordinators WHERE coordination_id = ? "
                          "ORDER BY linked_at", [coordination_id])
    out = []
    for row in rows:
        chat = UserKey.parse(str(row["chat_key"])).telegram_chat
        if chat is not None:
            out.append(chat)
    return tuple(out)


def unlink(store: Store, chat_key: str) -> bool:
    """End a chat's link to its coordination; True when there was one."""
    with store.db.atomic():
        cursor = store.db.execute("DELETE FROM coordinators WHERE chat_key = ? AND "
                                  "coordination_id != ''", [chat_key])
    return cursor.rowcount > 0


def links(store: Store) -> list[dict[str, Any]]:
    """Every linked chat, for ``ptce-bot links``."""
    return list(store.db.query("SELECT chat_key, coordination_id, region_id, linked_at FROM "
                               "coordinators WHERE coordination_id != '' ORDER BY linked_at"))


def create_lead(store: Store, lead: dict[str, Any]) -> int:
    """Commit a lead (consent included); returns its number."""
    row = {**lead, "contact": json.dumps(lead["contact"], ensure_ascii=False),
           "created": now(), "status": NEW, "status_note": "", "status_at": now(),
           "flagged": int(lead.get("flagged", 0))}
    with store.db.atomic():
        return int(cast(int, store.db.table("leads").insert(row).last_pk))


def get_lead(store: Store, lead_id: int) -> dict[str, Any] | None:
    row = next(store.db.query("SELECT * FROM leads WHERE id = ?", [lead_id]), None)
    return _decoded(row) if row else None


def region_leads(store: Store, region_id: str | None,
                 statuses: tuple[str, ...] = OPEN_STATUSES) -> list[dict[str, Any]]:
    """Leads of a region (all regions when None) with one of ``statuses``, oldest first."""
    marks = ", ".join("?" for _ in statuses)
    where = f"status IN ({marks})" + (" AND region_id = ?" if region_id else "")
    params: list[Any] = [*statuses, *([region_id] if region_id else [])]
    return [_decoded(r) for r in store.db.query(
        f"SELECT * FROM leads WHERE {where} ORDER BY id", params)]


def user_leads(store: Store, user_key: str) -> list[dict[str, Any]]:
    return [_decoded(r) for r in store.db.query(
        "SELECT * FROM leads WHERE user_key = ? ORDER BY id", [user_key])]


def set_status(store: Store, lead_id: int, status: str, note: str = "") -> None:
    with store.db.atomic():
        store.db.table("leads").update(lead_id, {"status": status, "status_note": note,
                                           "status_at": now()})


def reroute(store: Store, lead_id: int, region_id: str, region: str, coordination_id: str,
            coordination: str) -> None:
    """Send a lead to another region's coordination (admin)."""
    with store.db.atomic():
        store.db.table("leads").update(lead_id, {"region_id": region_id, "region": region,
                                           "coordination_id": coordination_id,
                                           "coordination": coordination})


def withdraw(store: Store, user_key: str) -> list[dict[str, Any]]:
    """Erase a founder's personal data from their leads (contact, report, chart, summary) and
    mark them withdrawn; returns the leads as they were, to tell their coordinations."""
    leads = user_leads(store, user_key)
    with store.db.atomic():
        for lead in leads:
            store.db.table("leads").update(lead["id"], {
                "contact": "{}", "report": None, "chart": None, "summary": "",
                "project": "", "user_key": "", "chat_id": "", "status": WITHDRAWN,
                "status_note": "retrait du consentement", "status_at": now()})
    return leads


def purge_older_than(store: Store, cutoff: str) -> int:
    """Erase personal data of leads created before ``cutoff`` (ISO date); returns how many."""
    rows = list(store.db.query("SELECT id FROM leads WHERE created < ? AND contact != '{}'",
                               [cutoff]))
    with store.db.atomic():
        for row in rows:
            store.db.table("leads").update(row["id"], {"contact": "{}", "report": None,
                                                 "chart": None, "summary": "", "project": "",
                                                 "user_key": "", "chat_id": ""})
    return len(rows)


def to_csv(leads: list[dict[str, Any]]) -> bytes:
    """Leads as CSV for a spreadsheet (UTF-8 with BOM, ``;``), cells that a spreadsheet would
    run as formulas (starting with = + - @) neutralised."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";")
    writer.writerow(CSV_COLUMNS)
    for lead in leads:
        contact = lead["contact"]
        writer.writerow([_cell(v) for v in (
            lead["id"], lead["created"][:10], lead["region"], lead["department"],
            lead["coordination"], lead["project"], lead["verdict"], contact.get("name", ""),
            contact.get("structure", ""), contact.get("email", ""), contact.get("phone", ""),
            contact.get("preferred", ""), lead["status"], lead["status_note"],
            "oui" if lead["flagged"] else "non")])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _decoded(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    row["contact"] = json.loads(row.get("contact") or "{}")
    return row
