"""The outbox: every message the assistant owes someone outside the chat — a lead to a
coordination (Telegram chat, e-mail, webhook), a reminder, a notice to a founder.

A delivery is a row in SQLite, written in the same step as what caused it; a worker sends due
deliveries and records the outcome. A failure (Telegram 403/429, SMTP down, webhook 500) is
retried with a growing delay, across restarts; after ``max_attempts`` the delivery is marked
failed and the lead goes to the national fallback, flagged. Nothing is ever dropped silently.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import smtplib
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

import httpx

from bot.content.directory import Coordination, Directory
from bot.core.text import french_date, french_datetime, typeset
from bot.handoff.leads import get_lead, linked_chat_ids, purge_older_than
from bot.ops import tls
from bot.ops.config import Channels, Config, SmtpConfig
from bot.storage.db import Store, now

logger = logging.getLogger(__name__)

TELEGRAM, EMAIL, WEBHOOK = "telegram", "email", "webhook"
PENDING, SENT, FAILED = "pending", "sent", "failed"
# What a delivery carries: the lead itself, a reminder, a withdrawal, a notice to a founder.
LEAD, REMINDER, WITHDRAWAL, NOTICE = "lead", "reminder", "withdrawal", "notice"
FIRST_RETRY = 30.0  # seconds; doubles at each failure…
MAX_RETRY = 3600.0  # …up to an hour
PURGE_EVERY = 3600.0  # seconds between two purges of data past the retention period


def recipients(config: Config, store: Store, coordination: Coordination
               ) -> tuple[Channels, bool]:
    """Where a lead for ``coordination`` goes: its configured channels (or its region's) and
    the chats it linked with an invitation code; the national fallback only when it has
    neither. The boolean is True for the fallback."""
    channels, fallback = config.channels_for(coordination)
    linked = linked_chat_ids(store, coordination.id)
    if not linked:
        return channels, fallback
    if fallback:
        return Channels(linked), False
    chats = tuple(dict.fromkeys((*channels.telegram_chat_ids, *linked)))
    return Channels(chats, channels.emails, channels.webhook), False


def enqueue(store: Store, lead_id: int, purpose: str, channels: Channels, *,
            fallback: bool = False, text: str = "") -> int:
    """One delivery per channel (chat, address, webhook); returns how many were queued."""
    rows = [(TELEGRAM, str(c)) for c in channels.telegram_chat_ids]
    rows += [(EMAIL, e) for e in channels.emails]
    rows += [(WEBHOOK, channels.webhook)] if channels.webhook else []
    stamp = now()
    with store.db.atomic():
        for kind, target in rows:
            store.db.table("deliveries").insert({
                "lead_id": lead_id, "purpose": purpose, "kind": kind, "target": target,
                "text": text, "status": PENDING, "attempts": 0, "next_attempt": stamp,
                "last_error": "", "fallback": int(fallback), "created": stamp,
                "updated": stamp})
    return len(rows)


def enqueue_notice(store: Store, lead_id: int, chat_id: str, text: str, *,
                   delay: float = 0.0) -> int:
    """A message to a founder on Telegram (their receipt, their lead taken in charge…), sent
    after ``delay`` seconds; returns the delivery's id (see :func:`settle`)."""
    stamp = now()
    due = (datetime.now(UTC) + timedelta(seconds=delay)).isoformat(timespec="seconds")
    with store.db.atomic():
        cursor = store.db.execute(
            "INSERT INTO deliveries (lead_id, purpose, kind, target, text, status, attempts, "
            "next_attempt, last_error, fallback, created, updated) "
            "VALUES (?, ?, ?, ?, ?, ?, 0, ?, '', 0, ?, ?)",
            [lead_id, NOTICE, TELEGRAM, str(int(chat_id)), text, PENDING, due, stamp, stamp])
    return int(cursor.lastrowid or 0)


def settle(store: Store, delivery_id: int) -> None:
    """A notice the chat has just shown: the outbox must not send it again."""
    with store.db.atomic():
        store.db.execute("UPDATE deliveries SET status = ?, updated = ? WHERE id = ? AND "
                         "status = ?", [SENT, now(), delivery_id, PENDING])


def pending(store: Store) -> list[dict[str, Any]]:
    """Deliveries not yet sent (pending or failed), oldest first, for ``ptce-bot outbox``."""
    return list(store.db.query(
        "SELECT id, lead_id, purpose, kind, target, status, attempts, next_attempt, "
        "last_error, fallback FROM deliveries WHERE status != ? ORDER BY id", [SENT]))


def fallback_state(store: Store, delivery: dict[str, Any]) -> str:
    """What became of the fallback copy of a failed delivery, in French."""
    rows = list(store.db.query(
        "SELECT status, kind FROM deliveries WHERE lead_id = ? AND purpose = ? AND fallback = 1",
        [delivery["lead_id"], delivery["purpose"]]))
    if not rows:
        return "aucun repli configuré : la demande reste dans la base (ptce-bot leads)"
    sent = [r["kind"] for r in rows if r["status"] == SENT]
    if sent:
        return f"reçue par le repli national ({', '.join(sorted(set(sent)))})"
    return "confiée au repli national, envoi en attente"


def due(store: Store, at: str | None = None) -> list[dict[str, Any]]:
    return list(store.db.query(
        "SELECT * FROM deliveries WHERE status = ? AND next_attempt <= ? ORDER BY id",
        [PENDING, at or now()]))


# --------------------------------------------------------------------------------------------
# Sending


TelegramSender = Callable[[int, dict[str, Any], str, str], Awaitable[None]]
"""``send(chat_id, lead, purpose, text)``: post a lead (with report and chart) or a message."""


@dataclass
class Outbox:
    """Sends due deliveries through the configured channels, and reminds coordinations of
    leads nobody took in charge. Database work runs under ``lock`` when one is given (the
    channel's core lock), so that it never interleaves with the core's own work."""

    store: Store
    config: Config
    directory: Directory | None = None
    telegram: TelegramSender | None = None
    lock: asyncio.Lock | None = None
    first_retry: float = FIRST_RETRY  # seconds before the first retry; doubles each time
    # The questionnaire's messages: the wording of what coordinations receive (``lead_*``)
    # and of what a founder is told when their lead went to the fallback.
    messages: Mapping[str, str] = field(default_factory=dict)

    async def run_once(self) -> int:
        """Queue due reminders, then try every due delivery once; returns how many were
        sent."""
        await self._db(self.remind)
        sent = 0
        for delivery in await self._db(due, self.store):
            lead = await self._db(get_lead, self.store, delivery["lead_id"]) or {}
            try:
                await self._send(delivery, lead)
            except Exception as exc:  # any failure is recorded and retried
                await self._db(self._failed, delivery, exc)
            else:
                await self._db(self._mark, delivery["id"], status=SENT, last_error="")
                sent += 1
        return sent

    async def run_forever(self, interval: float = 5.0) -> None:
        """The worker: deliver, then sleep ``interval`` seconds; once an hour, erase personal
        data older than the retention period. Stops when cancelled."""
        last_purge = float("-inf")
        while True:
            try:
                await self.run_once()
                if time.monotonic() - last_purge >= PURGE_EVERY:
                    await self._db(self.purge)
                    last_purge = time.monotonic()
            except Exception:  # the worker must survive a bad row
                logger.exception("Erreur de la boîte d'envoi")
            await asyncio.sleep(interval)

    def purge(self) -> int:
        """Erase leads' personal data and questionnaires older than ``retention_days``."""
        cutoff = (datetime.now(UTC) - timedelta(days=self.config.retention_days)
                  ).isoformat("T", "seconds")
        return purge_older_than(self.store, cutoff) + self.store.purge_sessions_before(cutoff)

    def remind(self, at: datetime | None = None) -> int:
        """Leads still new after ``reminder_hours``: remind their coordination; after
        ``fallback_reminder_hours``: tell the national fallback, flagged. Returns how many
        reminders were queued."""
        if self.directory is None:
            return 0
        at = at or datetime.now(UTC)
        first = (at - timedelta(hours=self.config.reminder_hours)).isoformat("T", "seconds")
        second = (at - timedelta(hours=self.config.fallback_reminder_hours)
                  ).isoformat("T", "seconds")
        queued = 0
        for lead in list(self.store.db.query(
                "SELECT id, coordination_id, created, reminded_at, escalated_at FROM leads "
                "WHERE status = 'nouveau' AND created <= ? AND (reminded_at IS NULL OR "
                "(escalated_at IS NULL AND created <= ?))", [first, second])):
            if lead["reminded_at"] is None:
                coordination = self.directory.get(lead["coordination_id"])
                if coordination is not None:
                    channels, fallback = recipients(self.config, self.store, coordination)
                    queued += enqueue(self.store, lead["id"], REMINDER, channels,
                                      fallback=fallback)
                update: dict[str, Any] = {"reminded_at": now()}
            else:
                queued += enqueue(self.store, lead["id"], REMINDER, self.config.fallback,
                                  fallback=True)
                update = {"escalated_at": now(), "flagged": 1}
            with self.store.db.atomic():
                self.store.db.table("leads").update(lead["id"], update)
        return queued

    async def _db(self, function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.lock is None:
            return function(*args, **kwargs)
        async with self.lock:
            return function(*args, **kwargs)

    async def _send(self, delivery: dict[str, Any], lead: dict[str, Any]) -> None:
        kind, target, purpose = delivery["kind"], delivery["target"], delivery["purpose"]
        text = delivery["text"] or lead_text(lead, purpose, self.messages)
        if kind == TELEGRAM:
            if self.telegram is None:
                raise RuntimeError("canal Telegram indisponible")
            await self.telegram(int(target), lead, purpose, text)
        elif kind == EMAIL:
            if self.config.smtp is None:
                raise RuntimeError("aucun serveur SMTP configuré")
            message = email_message(self.config.smtp, target, lead, purpose, text,
                                    self.messages)
            await asyncio.to_thread(send_email, self.config.smtp, message)
        elif kind == WEBHOOK:
            async with httpx.AsyncClient(timeout=15, verify=tls.context()) as client:
                # A crash between the CRM's answer and our record of it makes us post again:
                # the key lets the CRM recognise the repeat.
                response = await client.post(
                    target, json=webhook_payload(lead, purpose),
                    headers={"Idempotency-Key": f"ptce-envoi-{delivery['id']}"})
                response.raise_for_status()
        else:
            raise RuntimeError(f"canal inconnu : {kind}")

    def _failed(self, delivery: dict[str, Any], exc: Exception) -> None:
        attempts = delivery["attempts"] + 1
        error = f"{type(exc).__name__}: {exc}"[:300]
        logger.warning("Envoi %s n° %s (%s) échoué, essai %s : %s", delivery["purpose"],
                       delivery["id"], delivery["kind"], attempts, type(exc).__name__)
        if attempts < self.config.max_attempts:
            delay = min(self.first_retry * 2 ** (attempts - 1), MAX_RETRY)
            retry = (datetime.now(UTC) + timedelta(seconds=delay)).isoformat(timespec="seconds")
            self._mark(delivery["id"], attempts=attempts, next_attempt=retry, last_error=error)
            return
        with self.store.db.atomic():  # failed and handed to the fallback, or neither
            self._mark(delivery["id"], status=FAILED, attempts=attempts, last_error=error)
            if delivery["fallback"] or delivery["purpose"] == NOTICE:
                return  # the fallback itself failed: it stays listed by `ptce-bot outbox`
            self.store.db.table("leads").update(delivery["lead_id"], {"flagged": 1})
            first = not self._fell_back(delivery)
            queued = enqueue(self.store, delivery["lead_id"], delivery["purpose"],
                             self.config.fallback, fallback=True, text=delivery["text"])
            if first and queued and delivery["purpose"] == LEAD:
                self._tell_founder(delivery["lead_id"])

    def _fell_back(self, delivery: dict[str, Any]) -> bool:
        """True when this delivery's lead already went to the fallback (another channel)."""
        return self.store.db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE lead_id = ? AND purpose = ? AND "
            "fallback = 1", [delivery["lead_id"], delivery["purpose"]]).fetchone()[0] > 0

    def _tell_founder(self, lead_id: int) -> None:
        """A lead handed to the fallback after failures: its founder is told who has it, on
        Telegram."""
        lead = get_lead(self.store, lead_id) or {}
        notice = self.messages.get("handoff_fallback_notice", "")
        if lead.get("chat_id") and notice:
            enqueue_notice(self.store, lead["id"], lead["chat_id"], notice.format(
                number=lead["id"], coordination=lead.get("coordination", ""),
                fallback=self.config.fallback_name))

    def _mark(self, delivery_id: int, **values: Any) -> None:
        with self.store.db.atomic():
            self.store.db.table("deliveries").update(delivery_id, {**values, "updated": now()})


def send_email(smtp: SmtpConfig, message: EmailMessage) -> None:
    """Send one message through the configured SMTP server (blocking)."""
    with smtplib.SMTP(smtp.host, smtp.port, timeout=20) as server:
        if smtp.starttls:
            server.starttls()
        if smtp.user:
            server.login(smtp.user, smtp.password() or "")
        server.send_message(message)


def email_message(smtp: SmtpConfig, to: str, lead: dict[str, Any], purpose: str,
                  text: str, m: Mapping[str, str]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = smtp.sender
    message["To"] = to
    message["Subject"] = email_subject(lead, purpose, m)
    message.set_content(typeset(text))
    if purpose == LEAD and lead.get("report"):
        maintype, subtype = report_mime(lead).split("/")
        message.add_attachment(lead["report"], maintype=maintype, subtype=subtype,
                               filename=lead.get("report_name") or "rapport-ptce.pdf")
    if purpose == LEAD and lead.get("chart"):
        message.add_attachment(lead["chart"], maintype="image", subtype="png",
                               filename="profil-ptce.png")
    return message


def report_mime(lead: dict[str, Any]) -> str:
    """The report's media type: PDF, or HTML for a lead recorded before the PDF report."""
    return "text/html" if str(lead.get("report_name") or "").endswith(".html") \
        else "application/pdf"


def email_subject(lead: dict[str, Any], purpose: str, m: Mapping[str, str]) -> str:
    """The subject of the e-mail a coordination receives (wording: ``lead_subject_*``)."""
    return m[f"lead_subject_{purpose}"].format(number=lead.get("id", "?"),
                                               region=lead.get("region", ""))


def lead_text(lead: dict[str, Any], purpose: str, m: Mapping[str, str]) -> str:
    """The plain-text message a coordination receives about a lead (wording: ``lead_*`` in
    the questionnaire's messages)."""
    number = lead.get("id")
    if purpose == WITHDRAWAL:
        return m["lead_withdrawn"].format(number=number)
    contact = lead.get("contact") or {}
    telegram = contact.get("telegram")
    parts = [
        m["lead_fallback"] if lead.get("flagged") else "",
        m["lead_reminder"].format(number=number) if purpose == REMINDER else "",
        m["lead_body"].format(
            number=number, date=french_date(lead.get("created", "")),
            region=lead.get("region", ""), department=lead.get("department", ""),
            coordination=lead.get("coordination", ""),
            project=lead.get("project") or m["lead_no_project"],
            name=contact.get("name", ""), structure=contact.get("structure", ""),
            email=contact.get("email") or "—", phone=contact.get("phone") or "—",
            preferred=contact.get("preferred", ""),
            telegram=m["lead_telegram"].format(telegram=telegram) if telegram else ""),
        m["lead_message"].format(message=contact["message"]) if contact.get("message") else "",
        lead.get("summary") or "",
        m["lead_consent"].format(date=french_datetime(lead.get("consent_at", "")),
                                 version=lead.get("consent_version", "")),
    ]
    return "\n\n".join(part for part in parts if part).strip()


def webhook_payload(lead: dict[str, Any], purpose: str) -> dict[str, Any]:
    """The JSON a CRM receives."""
    payload = {key: lead.get(key) for key in (
        "id", "created", "region_id", "region", "department", "coordination_id",
        "coordination", "project", "verdict", "summary", "status", "consent_version",
        "consent_at", "flagged")}
    payload["event"] = purpose
    payload["contact"] = lead.get("contact") or {}
    if purpose == LEAD and lead.get("report"):
        payload["report_base64"] = base64.b64encode(lead["report"]).decode()
        payload["report_name"] = lead.get("report_name")
        payload["report_type"] = report_mime(lead)
    return json.loads(json.dumps(payload, default=str))
