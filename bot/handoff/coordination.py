"""The regional coordinations' side: linking their chat, then working the leads of their
region — and only of their region.

An administrator prints a one-time invitation code (``ptce-bot invite --region Bretagne``);
the coordinator sends ``/coordination CODE`` from their private chat or team group. Then
``/leads``, ``/lead N``, buttons to take a lead in charge or close it with a note, and
``/export``. Anyone else gets a polite refusal and nothing else. Admins (chat ids listed in
the deployment configuration) also get ``/stats`` and an export of every region.
"""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

from bot.content.directory import Coordination, Directory
from bot.content.territory import Territories
from bot.core.messages import Attachment, Button, Reply, UserKey
from bot.core.text import french_date
from bot.handoff import leads as lead_store
from bot.handoff import outbox
from bot.ops.config import Config
from bot.storage.db import Store, now, row_id

TAKE = "lp:"  # lp:<lead id>
CLOSE = "lc:"  # lc:<lead id>
SHOW = "lv:"  # lv:<lead id>
NO_NOTE = "ln:"  # ln:<lead id>: save the status change without a note
PREFIXES = (TAKE, CLOSE, SHOW, NO_NOTE)
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand



class CoordinationDesk:
    """Commands of coordinators and admins."""

    def __init__(self, store: Store, directory: Directory, config: Config,
                 territories: Territories, messages: dict[str, str]) -> None:
        self.store = store
        self.directory = directory
        self.config = config
        self.territories = territories
        self.m = messages

    # ----------------------------------------------------------------------------------------
    # Invitations and links

    def new_invite(self, coordination: Coordination) -> str:
        """A one-time code linking a chat to ``coordination`` (printed by the CLI)."""
        code = "-".join("".join(secrets.choice(_CODE_ALPHABET) for _ in range(4))
                        for _ in range(2))
        with self.store.db.atomic():
            self.store.db.table("invites").insert({
                "code": code, "coordination_id": coordination.id,
                "region_id": coordination.region_id, "created": now()})
        return code

    def link(self, user_key: str, code: str) -> list[Reply]:
        """``/coordination CODE`` links the chat; ``/coordination stop`` ends the link."""
        code = code.strip().upper()
        if not code:
            return [Reply(self.m["coord_usage"], kind="info")]
        if code in ("STOP", "ARRET", "ARRÊT"):
            if lead_store.unlink(self.store, UserKey.parse(user_key).chat_key):
                return [Reply(self.m["coord_unlinked"], kind="info")]
            return [Reply(self.m["coord_not_linked"], kind="info")]
        oldest = (datetime.now(UTC) - timedelta(days=self.config.invite_days)
                  ).isoformat(timespec="seconds")
        invite = next(self.store.db.query(
            "SELECT * FROM invites WHERE code = ? AND used_at IS NULL AND created >= ?",
            [code, oldest]), None)
        coordination = self.directory.get(invite["coordination_id"]) if invite else None
        if invite is None or coordination is None:
            return [Reply(self.m["coord_bad_code"], kind="error")]
        key = UserKey.parse(user_key).chat_key
        with self.store.db.atomic():
            self.store.db.table("invites").update(code, {"used_at": now(), "used_by": key})
            self.store.db.table("coordinators").upsert({
                "chat_key": key, "coordination_id": coordination.id,
                "region_id": coordination.region_id, "linked_at": now(), "pending": None},
                pk="chat_key")
        return [Reply(self.m["coord_linked"].format(coordination=coordination.named,
                                                    region=self._region_name(
                                                        coordination.region_id)),
                      kind="info")]

    def coordinator(self, user_key: str) -> dict[str, Any] | None:
        return next(self.store.db.query("SELECT * FROM coordinators WHERE chat_key = ?",
                                        [UserKey.parse(user_key).chat_key]), None)

    def is_admin(self, user_key: str) -> bool:
        key = UserKey.parse(user_key)
        return key.channel == "telegram" and key.person.lstrip("-").isdigit() \
            and int(key.person) in self.config.admins

    def pending(self, user_key: str) -> str | None:
        row = self.coordinator(user_key)
        return row["pending"] if row else None

    # ----------------------------------------------------------------------------------------
    # Commands

    def leads(self, user_key: str, *, private: bool = True) -> list[Reply]:
        """``/leads``: new and open leads of the coordinator's region, with buttons."""
        region_id = self._region_of(user_key, private=private)
        if region_id is None:
            return self._refuse()
        rows = lead_store.region_leads(self.store, region_id or None)
        region = self._region_name(region_id) if region_id else "toutes les régions"
        if not rows:
            return [Reply(self.m["coord_no_leads"].format(region=region), kind="info")]
        buttons = tuple((Button(_lead_label(r), f"{SHOW}{r['id']}"),) for r in rows[:30])
        return [Reply(self.m["coord_leads"].format(region=region, count=len(rows)),
                      kind="menu", buttons=buttons)]

    def lead(self, user_key: str, number: str, *, private: bool = True) -> list[Reply]:
        """``/lead N``: the details, the report and the chart, with the status buttons."""
        region_id = self._region_of(user_key, private=private)
        if region_id is None:
            return self._refuse()
        lead_id = row_id(number)
        if lead_id is None:
            return [Reply(self.m["coord_lead_usage"], kind="info")]
        lead = lead_store.get_lead(self.store, lead_id)
        if lead is None or (region_id and lead["region_id"] != region_id):
            return [Reply(self.m["coord_lead_unknown"], kind="error")]
        attachments = []
        if lead.get("report"):
            attachments.append(Attachment("document", lead["report_name"] or "rapport-ptce.pdf",
                                          lead["report"]))
        buttons = []
        if lead["status"] == lead_store.NEW:
            buttons.append((Button(self.m["btn_take"], f"{TAKE}{lead['id']}"),))
        if lead["status"] in lead_store.OPEN_STATUSES:
            buttons.append((Button(self.m["btn_close"], f"{CLOSE}{lead['id']}"),))
        text = outbox.lead_text(lead, outbox.LEAD, self.m)
        text += "\n\n" + self.m["coord_lead_status"].format(
            status=lead_store.status_label(lead["status"]))
        if lead["status_note"]:
            text += f" — {lead['status_note']}"
        return [Reply(text, kind="info", buttons=tuple(buttons),
                      attachments=tuple(attachments))]

    def button(self, user_key: str, data: str, *, private: bool = True) -> list[Reply]:
        """Show a lead, or start taking it in charge / closing it (a note is asked, by a
        reply to the bot's message: in a group, privacy mode lets only replies reach the
        bot), or save the change without a note."""
        region_id = self._region_of(user_key, private=private)
        if region_id is None:
            return self._refuse()
        kind, number = data[:3], data[3:]
        if kind == SHOW:
            return self.lead(user_key, number, private=private)
        if kind == NO_NOTE:
            return self.note(user_key, "", private=private)
        lead_id = row_id(number)
        lead = lead_store.get_lead(self.store, lead_id) if lead_id is not None else None
        if lead is None or (region_id and lead["region_id"] != region_id) \
                or lead["status"] not in lead_store.OPEN_STATUSES:
            return [Reply(self.m["coord_lead_unknown"], kind="error")]
        action = "take" if kind == TAKE else "close"
        self._set_pending(user_key, f"{action}:{lead['id']}")
        return [Reply(self.m["coord_ask_note"].format(number=lead["id"]), kind="question",
                      expects_text=True, force_reply=True),
                Reply(self.m["coord_no_note_offer"], kind="question",
                      buttons=((Button(self.m["btn_no_note"], f"{NO_NOTE}{lead['id']}"),),))]

    def note(self, user_key: str, text: str, *, private: bool = True) -> list[Reply]:
        """The note that completes a status change, checked against the lead's region now:
        a lead rerouted since the button was pressed refuses the old region's note."""
        pending = self.pending(user_key) or ""
        self._set_pending(user_key, None)
        action, _, number = pending.partition(":")
        lead = lead_store.get_lead(self.store, int(number)) if number.isdigit() else None
        region_id = self._region_of(user_key, private=private)
        if lead is None or region_id is None or (region_id and lead["region_id"] != region_id) \
                or lead["status"] not in lead_store.OPEN_STATUSES:
            return [Reply(self.m["coord_lead_unknown"], kind="error")]
        note = "" if text.strip() in ("-", "") else " ".join(text.split())[:500]
        status = lead_store.TAKEN if action == "take" else lead_store.CLOSED
        lead_store.set_status(self.store, lead["id"], status, note)
        if status == lead_store.TAKEN and lead.get("chat_id"):
            outbox.enqueue_notice(self.store, lead["id"], lead["chat_id"],
                                  self.m["handoff_taken_notice"].format(
                                      number=lead["id"], recipient=self._named(lead)))
        return [Reply(self.m["coord_status_saved"].format(
                          number=lead["id"], status=lead_store.status_label(status)),
                      kind="info")]

    def export(self, user_key: str, *, private: bool = True) -> list[Reply]:
        """``/export``: the region's leads (every region for an admin) as a CSV file."""
        region_id = self._region_of(user_key, private=private)
        if region_id is None:
            return self._refuse()
        statuses = (lead_store.NEW, lead_store.TAKEN, lead_store.CLOSED, lead_store.WITHDRAWN)
        rows = lead_store.region_leads(self.store, region_id or None, statuses)
        found = self.territories.region(region_id) if region_id else None
        of_region = found.of if found else "de toutes les régions"
        today = date.today()
        name = f"demandes-ptce-{region_id or 'toutes-regions'}-{today.isoformat()}.csv"
        caption = self.m["coord_export_caption"].format(of_region=of_region,
                                                        date=french_date(today.isoformat()))
        return [Reply(caption, kind="info", attachments=(
            Attachment("document", name, lead_store.to_csv(rows), caption),))]

    def stats(self, user_key: str, *, private: bool = True) -> list[Reply]:
        """``/stats`` (admins, in a private chat): leads per region and status."""
        if not (private and self.is_admin(user_key)):
            return self._refuse()
        lines = [self.m["coord_stats"]]
        for row in self.store.db.query(
                "SELECT region, status, COUNT(*) AS n FROM leads GROUP BY region, status "
                "ORDER BY region, status"):
            status = lead_store.status_label(row["status"])
            lines.append(f"• {row['region']} — {status} : {row['n']}")
        return [Reply("\n".join(lines), kind="info")]

    # ----------------------------------------------------------------------------------------

    def _region_of(self, user_key: str, *, private: bool = True) -> str | None:
        """The region a chat may see: its coordination's; "" (all) for an admin in a private
        chat (never in a group, where others would see); None for anyone else."""
        if private and self.is_admin(user_key):
            return ""
        row = self.coordinator(user_key)
        return row["region_id"] if row and row["region_id"] else None

    def _named(self, lead: dict[str, Any]) -> str:
        """The lead's coordination as a sentence says it (« la CRESS Bretagne »)."""
        found = self.directory.get(lead.get("coordination_id") or "")
        return found.named if found else str(lead.get("coordination") or "")

    def _region_name(self, region_id: str) -> str:
        region = self.territories.region(region_id)
        return region.name if region else region_id

    def _set_pending(self, user_key: str, pending: str | None) -> None:
        key = UserKey.parse(user_key).chat_key
        if self.coordinator(user_key) is None:  # an admin outside a linked chat
            with self.store.db.atomic():
                self.store.db.table("coordinators").upsert(
                    {"chat_key": key, "coordination_id": "", "region_id": "",
                     "linked_at": now(), "pending": pending}, pk="chat_key")
            return
        with self.store.db.atomic():
            self.store.db.table("coordinators").update(key, {"pending": pending})

    def _refuse(self) -> list[Reply]:
        return [Reply(self.m["coord_refused"], kind="error")]


def _lead_label(lead: dict[str, Any]) -> str:
    """A lead's button in ``/leads``: number, project, department, status."""
    project = lead.get("project") or lead["contact"].get("structure") or "?"
    department = str(lead.get("department") or "").split(" (")[0]
    status = lead_store.status_label(lead["status"])
    return f"n° {lead['id']} — {project} — {department} — {status}"[:64]
