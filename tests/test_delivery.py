"""Leads travel from a founder's consent to the coordination's Telegram chat, mailbox and CRM
webhook — through real servers on localhost: the fake Telegram Bot API, an SMTP server
(aiosmtpd) and an HTTP server for the webhook. Failures never lose a lead."""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import email
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from pathlib import Path

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from bot.channels.telegram.adapter import TelegramChannel
from bot.channels.telegram.settings import Settings
from bot.core.conversation import Conversation
from bot.handoff.leads import TAKEN
from bot.ops.config import Channels, Config, SmtpConfig
from bot.storage.db import Store
from tests.support.documents import pdf_text
from tests.support.fake_telegram import TOKEN, FakeTelegram, FakeUser, free_port, polling
from tests.support.founders import POLE_SUD_ARCHER, Founder

LEA = FakeUser(5001, "Léa")
COORDINATOR = FakeUser(3001, "Camille")  # the CRESS's coordinator, in a private chat
NATIONAL = FakeUser(9001, "Dominique")  # the national fallback


@dataclass
class Mailbox:
    """An SMTP server that keeps what it receives."""

    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


@dataclass
class Crm:
    """A webhook endpoint; ``fail`` makes it answer 500."""

    received: list[dict] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)  # Idempotency-Key headers
    fail: bool = False
    port: int = 0

    async def hook(self, request: web.Request) -> web.Response:
        if self.fail:
            return web.Response(status=500, text="CRM en panne")
        self.received.append(await request.json())
        self.keys.append(request.headers.get("Idempotency-Key"))
        return web.json_response({"ok": True})


@dataclass
class World:
    fake: FakeTelegram
    mailbox: Mailbox
    crm: Crm
    smtp_port: int
    db: Path
    content: object

    def config(self, *, smtp_port: int | None = None) -> Config:
        return Config(
            coordinations={"auvergne-rhone-alpes": Channels(
                (COORDINATOR.id,), ("ptce@cress-ara.exemple",),
                f"http://127.0.0.1:{self.crm.port}/hook")},
            fallback=Channels((NATIONAL.id,), ("national@ptce.exemple",), None),
            smtp=SmtpConfig("127.0.0.1", smtp_port or self.smtp_port, "assistant@ptce.exemple",
                            starttls=False),
            max_attempts=3)


@pytest.fixture
async def world(content, tmp_path: Path) -> AsyncIterator[World]:
    fake = FakeTelegram()
    await fake.start()
    mailbox = Mailbox()
    smtp_port = free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    crm = Crm()
    app = web.Application()
    app.router.add_post("/hook", crm.hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    crm.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield World(fake, mailbox, crm, smtp_port, tmp_path / "ptce.sqlite3", content)
    await runner.cleanup()
    controller.stop()
    await fake.stop()


@pytest.fixture
async def bot(world: World) -> AsyncIterator[TelegramChannel]:
    async for channel in run_bot(world, world.config()):
        yield channel


async def run_bot(world: World, config: Config) -> AsyncIterator[TelegramChannel]:
    conversation = Conversation(world.content, Store(world.db), config=config)
    channel = TelegramChannel(conversation, Settings(
        token=TOKEN, api_root=f"http://127.0.0.1:{world.fake.port}", rate=0,
        outbox_interval=0.1))
    async with polling(channel.build()):
        assert channel.outbox is not None
        channel.outbox.first_retry = 0  # retry at once: the test plays days of retries
        yield channel


async def until(condition, timeout: float = 15.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def consent_on_telegram(world: World, channel: TelegramChannel) -> None:
    """Léa finished the questionnaire, then asks for contact and consents on Telegram."""
    founder = Founder(channel.conversation, str(LEA.id), channel="telegram")
    founder.start()
    founder.answer(POLE_SUD_ARCHER)
    founder.result()
    fake = world.fake
    before = len(fake.sent)
    fake.send_text(LEA, "/start coordination")
    [consent] = await fake.replies(LEA.id, after=before)
    assert "CRESS Auvergne-Rhône-Alpes" in consent.text
    for label, text in (("✅ J'accepte", None), (None, "Léa Martin"), (None, "Pôle Sud"),
                        (None, "lea@exemple.fr"), (None, "06 12 34 56 78"),
                        ("Par e-mail", None),
                        (None, "Nous voulons créer une filière de la chaussure à Romans.")):
        before = len(fake.sent)
        if label:
            fake.press(LEA, label)
        else:
            fake.send_text(LEA, text)
        await fake.replies(LEA.id, after=before)
        await fake.idle(0.15)  # the phone question comes with a second message
    before = len(fake.sent)
    fake.press(LEA, "📨 Envoyer")
    [receipt] = await fake.replies(LEA.id, after=before)
    assert receipt.text.startswith("✅ Votre demande n° 1 a été transmise à la CRESS "
                                   "Auvergne-Rhône-Alpes")


async def test_a_consented_lead_reaches_the_chat_the_mailbox_and_the_crm(world, bot):
    await consent_on_telegram(world, bot)
    fake = world.fake
    await until(lambda: world.mailbox.messages and world.crm.received
                and len([s for s in fake.sent if s.chat_id == COORDINATOR.id]) >= 3)
    text, report, chart = [s for s in fake.sent if s.chat_id == COORDINATOR.id][:3]
    assert "Demande n° 1" in text.text and "Léa Martin" in text.text
    assert "Verdict : PTCE" in text.text
    assert text.labels == ["🙋 Prendre en charge", "✔ Clore"]
    assert report.method == "sendDocument" and "Pôle Sud Archer" in pdf_text(report.file_bytes)
    assert chart.method == "sendPhoto" and chart.file_bytes.startswith(b"\x89PNG")

    [mail] = world.mailbox.messages
    assert mail["To"] == "ptce@cress-ara.exemple"
    assert "Nouvelle demande n° 1" in mail["Subject"]
    names = [part.get_filename() for part in mail.iter_attachments()]
    assert names[0].endswith(".pdf") and names[1] == "profil-ptce.png"

    [hook] = world.crm.received
    assert hook["event"] == "lead" and hook["contact"]["email"] == "lea@exemple.fr"
    assert hook["report_type"] == "application/pdf"
    assert "Pôle Sud Archer" in pdf_text(base64.b64decode(hook["report_base64"]))
    assert hook["consent_version"] == "2026-11-consentement-1"
    # A repeat after a crash would carry the same key, so that the CRM can ignore it.
    assert world.crm.keys[0].startswith("ptce-envoi-")


async def test_a_reload_that_brings_the_coordinations_delivers_leads_without_a_restart(world):
    """Deployed first without the directory of coordinations, the assistant gets it on a
    reload (SIGHUP): a lead consented afterwards reaches the coordination's chat."""
    without = dataclasses.replace(world.content, directory=None)
    channel = TelegramChannel(Conversation(without, Store(world.db), config=world.config()),
                              Settings(token=TOKEN, api_root=f"http://127.0.0.1:{world.fake.port}",
                                       rate=0, outbox_interval=0.1))
    async with polling(channel.build()):
        assert channel.conversation.handoff is None and channel.outbox is None
        await channel.reload(world.content, world.config())
        await consent_on_telegram(world, channel)
        await until(lambda: any("Pôle Sud" in s.text for s in world.fake.sent
                                if s.chat_id == COORDINATOR.id))


async def test_the_coordinator_takes_it_in_charge_and_the_founder_is_told(world, bot):
    await consent_on_telegram(world, bot)
    fake = world.fake
    # The lead has arrived whole: its text, the report and the chart.
    await until(lambda: len([s for s in fake.sent if s.chat_id == COORDINATOR.id]) >= 3)
    code = bot.conversation.coordinations.new_invite(
        world.content.directory.for_region("auvergne-rhone-alpes"))
    before = len(fake.sent)
    fake.send_text(COORDINATOR, f"/coordination {code}")
    await fake.replies(COORDINATOR.id, after=before)
    before = len(fake.sent)
    fake.press(COORDINATOR, "🙋 Prendre en charge")
    ask, offer = await fake.replies(COORDINATOR.id, after=before, count=2)
    assert "note" in ask.text and ask.force_reply  # a reply reaches the bot in a group too
    assert offer.labels == ["Sans note"]
    before = len(fake.sent)
    fake.send_text(COORDINATOR, "Appel prévu jeudi", reply_to=ask)
    [saved] = await fake.replies(COORDINATOR.id, after=before)
    assert saved.text == "Demande n° 1 : prise en charge."
    await until(lambda: any("a été prise en charge par la CRESS" in s.text for s in fake.sent
                            if s.chat_id == LEA.id))


async def test_consent_refused_sends_and_keeps_nothing(world, bot):
    fake = world.fake
    before = len(fake.sent)
    fake.send_text(LEA, "/start coordination")
    await fake.replies(LEA.id, after=before)
    before = len(fake.sent)
    fake.send_text(LEA, "Drôme")
    await fake.replies(LEA.id, after=before)
    before = len(fake.sent)
    fake.press(LEA, "Drôme (26)")
    await fake.replies(LEA.id, after=before)
    before = len(fake.sent)
    fake.press(LEA, "✖ Non merci")
    [refused] = await fake.replies(LEA.id, after=before)
    assert "rien n'a été transmis ni conservé" in refused.text
    await asyncio.sleep(0.5)  # a few outbox rounds
    assert not [s for s in fake.sent if s.chat_id in (COORDINATOR.id, NATIONAL.id)]
    assert world.mailbox.messages == [] and world.crm.received == []
    store = bot.conversation.store
    assert list(store.db.query("SELECT * FROM leads")) == []
    assert list(store.db.query("SELECT * FROM handoffs")) == []


async def test_failures_keep_the_lead_retry_after_a_restart_then_use_the_fallback(world):
    """The coordinator blocked the bot (403), the SMTP server is down, the CRM answers 500:
    the lead stays, is retried after a restart, then goes to the national fallback,
    flagged."""
    world.fake.block(COORDINATOR.id)
    world.crm.fail = True
    dead_smtp = free_port()  # nothing listens there
    config = world.config(smtp_port=dead_smtp)
    async for bot in run_bot(world, config):
        bot.outbox.first_retry = 3600  # one attempt before the restart
        await consent_on_telegram(world, bot)
        await until(lambda db=bot.conversation.store.db: all(
            d["attempts"] == 1 for d in db.query(
                "SELECT attempts FROM deliveries WHERE purpose = 'lead'")))
    # The bot restarts: the lead and its deliveries are still there.
    rows = list(Store(world.db).db.query(
        "SELECT kind, status, attempts FROM deliveries WHERE purpose = 'lead'"))
    assert sorted(r["kind"] for r in rows) == ["email", "telegram", "webhook"]
    assert all(r["status"] == "pending" and r["attempts"] == 1 for r in rows)
    with Store(world.db).db.conn as conn:
        conn.execute("UPDATE deliveries SET next_attempt = ''")  # due now
    async for bot in run_bot(world, config):
        fake = world.fake
        await until(lambda sent=fake.sent: any(s.chat_id == NATIONAL.id for s in sent),
                    timeout=20)
        store = bot.conversation.store
        [lead] = store.db.query("SELECT flagged, status FROM leads")
        assert lead["flagged"] == 1 and lead["status"] == "nouveau"
        fallback = next(s for s in fake.sent if s.chat_id == NATIONAL.id)
        assert "canal de repli" in fallback.text and "Léa Martin" in fallback.text
        failed = list(store.db.query("SELECT kind FROM deliveries WHERE status = 'failed'"))
        assert sorted(r["kind"] for r in failed) == ["email", "telegram", "webhook"]
        # Léa is told who has her request now.
        await until(lambda sent=fake.sent: any(
            "transmise à l'équipe nationale de l'assistant PTCE" in s.text
            for s in sent if s.chat_id == LEA.id))


async def test_forgetting_withdraws_the_lead_and_tells_the_coordination(world, bot):
    await consent_on_telegram(world, bot)
    fake = world.fake
    await until(lambda: world.crm.received)
    before = len(fake.sent)
    fake.send_text(LEA, "/oublier")
    await fake.replies(LEA.id, after=before)
    before = len(fake.sent)
    fake.press(LEA, "🗑 Oui, tout effacer")
    [done] = await fake.replies(LEA.id, after=before)
    assert "1 demande(s) retirée(s)" in done.text
    await until(lambda: any("a été retirée" in s.text for s in fake.sent
                            if s.chat_id == COORDINATOR.id))
    await until(lambda: any(h["event"] == "withdrawal" for h in world.crm.received))
    lead = next(bot.conversation.store.db.query("SELECT contact, report FROM leads"))
    assert json.loads(lead["contact"]) == {} and lead["report"] is None


async def test_a_team_group_joins_by_code_receives_the_lead_and_notes_it_by_reply(world):
    """No chat in the configuration: the CRESS's team links its group with a code, receives
    Léa's lead there, and a member notes it by replying to the bot (privacy mode delivers
    nothing else in a group); Léa is told."""
    config = world.config()
    mail_only = dataclasses.replace(config.coordinations["auvergne-rhone-alpes"],
                                    telegram_chat_ids=())
    config = dataclasses.replace(config, coordinations={"auvergne-rhone-alpes": mail_only})
    fake, team, colleague = world.fake, -4001, FakeUser(3002, "Sacha")
    async for channel in run_bot(world, config):
        code = channel.conversation.coordinations.new_invite(
            world.content.directory.for_region("auvergne-rhone-alpes"))
        before = len(fake.sent)
        fake.send_text(COORDINATOR, f"/coordination@ptce_test_bot {code}", chat_id=team)
        [linked] = await fake.replies(team, after=before)
        assert "recevrez les nouvelles demandes" in linked.text
        await consent_on_telegram(world, channel)
        # The lead arrives whole in the group: its text, the report and the chart.
        await until(lambda: len([s for s in fake.sent if s.chat_id == team]) >= 4)
        lead = next(s for s in fake.sent if s.chat_id == team and "Pôle Sud" in s.text)
        assert "Léa Martin" in lead.text and "filière de la chaussure" in lead.text
        before = len(fake.sent)
        fake.press(colleague, "🙋 Prendre en charge", chat_id=team)
        ask, offer = await fake.replies(team, after=before, count=2)
        assert ask.force_reply and "Sacha" in ask.text
        assert offer.labels == ["Sans note"]
        # A plain message in the group never reaches the bot; a reply to its question does.
        before = len(fake.sent)
        fake.send_text(colleague, "Je m'en occupe", chat_id=team)
        fake.send_text(colleague, "Appel prévu jeudi", chat_id=team, reply_to=ask)
        [saved] = await fake.replies(team, after=before)
        assert saved.text == "Demande n° 1 : prise en charge."
        await until(lambda: any("a été prise en charge par la CRESS" in s.text
                                for s in fake.sent if s.chat_id == LEA.id))
        [row] = channel.conversation.store.db.query("SELECT status, status_note FROM leads")
        assert row == {"status": TAKEN, "status_note": "Appel prévu jeudi"}
