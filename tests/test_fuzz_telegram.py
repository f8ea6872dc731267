"""Bad input, fuzzed through the Telegram channel.

Hypothesis plays two users, alone with the bot and together in a group, against the real PTB
Application (started once for the test, talking HTTP to the fake Bot API) and a real SQLite
file: arbitrary Unicode (control characters, RTL marks, emoji, zero-width joiners, HTML and
Markdown characters), texts up to 10,000 characters, stickers, photos, voice messages,
locations, commands in any order with any arguments, presses of the buttons on screen and of
stale or forged button data. Now and then a user goes through the whole questionnaire or asks
to be put in touch with their coordination (with fuzzed names), so that results, reports and
leads are part of the mix. Each example uses fresh users, so examples do not depend on each
other. For every example:

- nothing escapes: the channel's error handler never fires, nothing is logged at ERROR, and
  the "incident technique" message is never sent;
- every text, command or media sent in a private chat gets at least one message back; a known
  command, whatever follows it, is never answered as an unknown one; in the group, the bot
  answers what is addressed to it and stays quiet otherwise; every button press is answered;
- Telegram refuses nothing the bot sends (HTML, lengths, button data), the leads delivered to
  the coordination included;
- the database stays consistent (integrity check, questionnaires, hand-offs, leads and their
  consent, deliveries).

``PTCE_FUZZ_EXAMPLES=500 pytest tests/test_fuzz_telegram.py -s`` runs more examples than the
default; ``-s`` shows how many examples and inputs were run.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import re
import sqlite3
import time
import traceback
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import Update
from telegram.ext import ContextTypes, TypeHandler

from bot.channels.telegram.adapter import COORDINATION_COMMANDS, TelegramChannel
from bot.channels.telegram.settings import Settings
from bot.content.model import MENU_COMMANDS, Content
from bot.core.conversation import Conversation
from bot.ops.config import Channels, Config
from bot.storage.db import Store
from tests.support.fake_telegram import BOT_USERNAME, TOKEN, FakeTelegram, FakeUser, Sent, polling

EXAMPLES = int(os.environ.get("PTCE_FUZZ_EXAMPLES") or 60)
MAX_ACTIONS = 20
COORDINATOR_CHAT = 4_000_001  # every region's coordination reads its leads there
ADMINS = range(7_000_000, 7_010_000)  # users drawn as admins get their id from here
USERS = range(8_000_000, 9_000_000)
GROUPS = range(-8_000_000, -9_000_000, -1)
WAIT = 60.0  # seconds: a liveness limit (a stuck update fails the test), not a timing check

# Commands the channel registers; anything else is an unknown command.
KNOWN = frozenset([*MENU_COMMANDS, "help", *COORDINATION_COMMANDS])
_COMMAND = re.compile(r"/[A-Za-z0-9_]+(@\w+)?")  # what Telegram (and the fake) mark as one
_MENTION = re.compile(r"@\w+")

# --------------------------------------------------------------------------------------------
# What users type

FRAGMENTS = [
    "<b>", "</b>", "<i>x</i>", "<a href='x'>", "</", "<>", "&amp;", "&", "&lt;", "&#x1F600;",
    "&unknown;", "<", ">", "*", "**", "_", "__", "[", "](http://x)", "`", "```", "~", "||",
    "\\", "'", '"', "{}", "{0}", "{name}", "%s", "%(x)s", "\u200b", "\u200c", "\u200d",
    "\u200e", "\u200f", "\u202a", "\u202e", "\u2066", "\u2069", "\ufeff", "\x00", "\x07",
    "\x1b[31m", "\x7f", "\r", "\r\n", "\n\n", "\t", "\u00a0", "\u202f", "\u3000", "\u2028",
    "👨\u200d👩\u200d👧\u200d👦", "🏳️\u200d🌈", "🇫🇷", "👍🏽", "🤔", "e\u0301", "ﷺ", "𝕡𝕥𝕔𝕖",
    "עברית", "العربية", "²", "١٢٣", "٣", "½", "Ⅻ", "…", "« »", "/", "@", "#", "-", "--", ";",
    "DROP TABLE sessions;--", "' OR 1=1 --", "${jndi:x}", "../../etc/passwd", "é" * 40,
]
PLAUSIBLE = [
    "c koi un ptce", "un GE peut il etre un ptce", "c'est quoi une SCIC ?", "bonjour", "merci",
    "au revoir", "quel temps fait-il ?", "26", "drome", "pas de calais", "2A", "26100", "974",
    "20", "0", "12", "-3", "1001", "15 membres", "9" * 40, "lea@exemple.fr", "06 12 34 56 78",
    "+33 6 12 34 56 78", "Pôle Sud Archer", "-", "oui", "non", "?", ".",
    f"@{BOT_USERNAME}", f"@{BOT_USERNAME} c koi un ptce",
]
PAYLOADS = [
    "diagnostic", "coordination", "question", "themes", "glossaire", "theme-definition",
    "theme-", "theme-inconnu", "q-def-article9", "q-def-ptce", "q-", "q-inconnue", "reprise-",
    "reprise-inconnue", "lien-inconnu", "XYZ", "ABCD-EFGH", "99999999999999999999999", "²",
    "-1", "0", "1", "1 2", "a" * 64,
]
CALLBACK_EXACT = [
    "t", "tb", "g", "h", "n", "ask", "diag", "coord", "db", "dp", "dr", "dn", "dy", "df",
    "dnote", "dlink", "ky", "kn", "ks", "kok", "kfix", "kx", "kfy", "kfn", "cm", "cn", "cl",
    "cs",
]
CALLBACK_PREFIXES = [
    "q:", "t:", "f:", "f:+:", "f:-:", "f:?:", "da:", "dt:", "dv:", "dd:", "ds:", "dw:", "de:",
    "kd:", "kp:", "lp:", "lc:", "lv:", "co:", "da:role:", "dd:department:", "dt:partners:",
    "de:role", "dw:",
]
BAD_IDS = ["", "0", "1", "2", "01", " 1", "1.5", "1e3", "-1", "²", "١٢", "٣", "½", "def-ptce",
           "definition", "nope", ":", "::", "role:founder", "department:26", "26", "2A"]
MEDIA = ["sticker", "photo", "voice", "location", "document", "contact"]

characters = st.characters(exclude_categories=("Cs",))  # lone surrogates cannot be in JSON
unicode_text = st.text(characters, max_size=60)
tricky_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), unicode_text),
                       max_size=10).map("".join)
long_text = st.builds(lambda head, unit, n: (head + unit * n)[:10_000], unicode_text,
                      st.sampled_from(FRAGMENTS + PLAUSIBLE + ["mot ", "x"]),
                      st.integers(100, 10_000))
texts = st.one_of(st.sampled_from(PLAUSIBLE), unicode_text, tricky_text, long_text).filter(
    bool)  # Telegram never delivers an empty message


def _within_64_bytes(data: str) -> str:
    return data.encode()[:64].decode(errors="ignore")


# Numbers as a user or a forger may write them: digits that are not ASCII, beyond SQLite's range.
ODD_NUMBERS = ["²", "١٢", "٣", "½", "Ⅻ", "𝟙", "९", "9223372036854775808", "9" * 30, "-0", "0" * 20]
bad_ids = st.one_of(st.sampled_from(BAD_IDS), st.sampled_from(ODD_NUMBERS),
                    st.integers(-10**30, 10**30).map(str), st.text(characters, max_size=12))
forged_data = st.one_of(
    st.sampled_from(CALLBACK_EXACT),
    st.builds(str.__add__, st.sampled_from(CALLBACK_PREFIXES), bad_ids),
    st.text(characters, min_size=1, max_size=64),
).map(_within_64_bytes).filter(bool)  # Telegram carries 1 to 64 bytes of callback data

command_names = st.one_of(
    st.sampled_from(sorted(KNOWN)),
    st.sampled_from(["START", "Aide", "Diagnostic", "quitter", "inconnue", "lead_", "x" * 33,
                     "start_", "_", "0"]),
)
command_args = st.one_of(st.just(""), st.sampled_from(PAYLOADS), bad_ids,
                         st.just("<lien de reprise>"), texts.map(lambda t: t[:300]))


@dataclass(frozen=True)
class Text:
    actor: int
    text: str
    mention: bool = False  # in the group: addressed to the bot
    burst: bool = False  # sent without waiting for the bot to answer the previous input


@dataclass(frozen=True)
class Command:
    actor: int
    name: str
    args: str
    separator: str = " "
    suffix: str = ""  # "@<bot>" or another bot's name
    burst: bool = False


@dataclass(frozen=True)
class Media:
    actor: int
    kind: str
    burst: bool = False


@dataclass(frozen=True)
class Press:
    """Press the ``index``-th button (modulo) shown in the chat's latest messages."""

    actor: int
    index: int
    burst: bool = False


@dataclass(frozen=True)
class Forge:
    """Press made-up or stale button data on one of the chat's messages."""

    actor: int
    data: str
    message: int = 0
    burst: bool = False


@dataclass(frozen=True)
class Invite:
    """``/coordination CODE`` with a valid one-time code: the chat becomes a coordination's."""

    actor: int


@dataclass(frozen=True)
class Questionnaire:
    """Go through the questionnaire to its result by pressing what is shown; ``choices``
    pick the options, ``project`` is typed as the project's name and as free answers."""

    actor: int
    project: str
    choices: tuple[int, ...]


@dataclass(frozen=True)
class Handoff:
    """Ask to be put in touch with the coordination, consent, give (fuzzed) details, send."""

    actor: int
    name: str
    structure: str
    email: str | None
    phone: str | None


# Actors: 0 and 1 are the two users in private chats, 2 and 3 the same users in the group.
actors = st.integers(0, 3)
burst = st.booleans()
separators = st.sampled_from([" ", "  ", "\n", "\t", "\u00a0", "\u200b"])
suffixes = st.sampled_from(["", "", f"@{BOT_USERNAME}", "@autre_bot"])
WEIGHTED = (  # what a user does, and how often
    (st.builds(Text, actors, texts, st.booleans(), burst), 3),
    (st.builds(Command, actors, command_names, command_args, separators, suffixes, burst), 3),
    (st.builds(Media, actors, st.sampled_from(MEDIA), burst), 1),
    (st.builds(Press, actors, st.integers(0, 60), burst), 3),
    (st.builds(Forge, actors, forged_data, st.integers(0, 20), burst), 3),
    (st.builds(Invite, actors), 1),
    (st.builds(Questionnaire, st.integers(0, 1), texts.map(lambda t: t[:200]),
               st.lists(st.integers(0, 12), min_size=8, max_size=8).map(tuple)), 1),
    (st.builds(Handoff, st.integers(0, 1), texts.map(lambda t: t[:120]),
               texts.map(lambda t: t[:120]),
               st.one_of(st.none(), st.just("lea@exemple.fr"), texts.map(lambda t: t[:80])),
               st.one_of(st.none(), st.just("06 12 34 56 78"), texts.map(lambda t: t[:40]))),
     1),
)
actions = st.sampled_from([s for s, weight in WEIGHTED for _ in range(weight)]).flatmap(
    lambda strategy: strategy)


@dataclass(frozen=True)
class Story:
    names: tuple[str, str]  # the users' first names
    admin: bool  # the first user administers the bot
    actions: tuple[Any, ...]


first_names = st.one_of(st.sampled_from(["Léa", "<Léa & Co>", "Ĺéa\u200f", "👩\u200d💻"]),
                        st.text(characters, min_size=1, max_size=64))
stories = st.builds(Story, st.tuples(first_names, first_names), st.booleans(),
                    st.lists(actions, min_size=2, max_size=MAX_ACTIONS).map(tuple))


# --------------------------------------------------------------------------------------------
# The bot under test, and the users' side


@dataclass
class Actor:
    user: FakeUser
    chat_id: int

    @property
    def private(self) -> bool:
        return self.chat_id > 0


@dataclass
class Input:
    """An update the test sent, and what it expects of the bot."""

    key: int | str  # the update id; "query:<id>" for a button press
    actor: Actor
    what: str  # for failure messages
    expect: str  # "reply" (at least one message), "quiet" (none) or "any"
    known_command: bool = False
    query_id: str | None = None


@dataclass
class Counts:
    examples: int = 0
    inputs: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    leads: int = 0
    results: int = 0
    started: float = field(default_factory=time.monotonic)

    def add(self, kind: str) -> None:
        self.inputs += 1
        self.kinds[kind] = self.kinds.get(kind, 0) + 1


class ErrorLog(logging.Handler):
    """Keeps every record logged at ERROR or above, wherever it comes from."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Fuzzer:
    """The running bot, the fake Telegram, and the users hypothesis plays."""

    def __init__(self, fake: FakeTelegram, channel: TelegramChannel, db: Path,
                 content: Content) -> None:
        self.fake = fake
        self.channel = channel
        self.db = db
        self.content = content
        # Update id (or "query:<id>" for a button press) -> len(fake.sent) once the bot was
        # done with it.
        self.done: dict[int | str, int] = {}
        self.progress = asyncio.Event()
        self.errors: list[BaseException] = []  # what reached the channel's error handler
        self.log = ErrorLog()
        self.counts = Counts()
        self._users = iter(USERS)
        self._admins = iter(ADMINS)
        self._groups = iter(GROUPS)
        self.error_text = content.message("error")
        self.unknown_prefix = content.messages["unknown_command"].split("{command}")[0]

    # Hooks in the Application: the end of each update, and errors.

    async def finished(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Runs after the channel's handlers (a later group): the bot is done with it."""
        query = update.callback_query
        self.done[f"query:{query.id}" if query else update.update_id] = len(self.fake.sent)
        self.progress.set()

    async def failed(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if context.error is not None:
            self.errors.append(context.error)

    # One example

    async def play(self, story: Story) -> None:
        self.counts.examples += 1
        first = next(self._admins) if story.admin else next(self._users)
        users = [FakeUser(first, story.names[0]), FakeUser(next(self._users), story.names[1])]
        group = next(self._groups)
        self.actors = [Actor(users[0], users[0].id), Actor(users[1], users[1].id),
                       Actor(users[0], group), Actor(users[1], group)]
        self.start = len(self.fake.sent)
        self.errors_before, self.log_before = len(self.errors), len(self.log.records)
        self.inputs: list[Input] = []
        self.checked = 0
        self.last_done = {actor.chat_id: self.start for actor in self.actors}
        for action in story.actions:
            if not getattr(action, "burst", False):
                await self.settle()
            await self.act(action)
        await self.settle()
        # Leads (and notices) go out through the outbox: deliver them now, through the fake.
        assert self.channel.outbox is not None
        await self.channel.outbox.run_once()
        self.check_example()
        check_database(self.db, self.content)

    async def act(self, action: Any) -> None:
        actor = self.actors[action.actor]
        if isinstance(action, Text):
            text = f"@{BOT_USERNAME} {action.text}" if action.mention else action.text
            self.send_text(actor, text, "text")
        elif isinstance(action, Command):
            self.send_command(actor, action.name, action.args, action.separator, action.suffix)
        elif isinstance(action, Media):
            update_id = self.fake.send_content(actor.user, action.kind, actor.chat_id)
            self.expect(update_id, actor, action.kind, "reply" if actor.private else "quiet")
            self.counts.add("media")
        elif isinstance(action, Press | Forge):
            if not self.fake.messages[actor.chat_id]:  # nothing to press in the group yet:
                actor = self.actors[action.actor % 2]  # the user presses in their own chat
            if isinstance(action, Press):
                buttons = [(sent, button["callback_data"]) for sent in self.recent(actor)
                           for row in sent.buttons for button in row]
                if buttons:
                    sent, data = buttons[action.index % len(buttons)]
                    self.press(actor, sent, data, "press")
                return
            messages = list(self.fake.messages[actor.chat_id].values())
            if messages:  # a press always comes from a message the bot sent
                self.press(actor, messages[-1 - action.message % len(messages)], action.data,
                           "forged press")
        elif isinstance(action, Invite):
            desk = self.channel.conversation.coordinations
            assert desk is not None and self.content.directory is not None
            code = desk.new_invite(self.content.directory.all[0])
            self.send_command(actor, "coordination", code)
        elif isinstance(action, Questionnaire):
            await self.questionnaire(actor, action)
        elif isinstance(action, Handoff):
            await self.handoff(actor, action)

    def send_text(self, actor: Actor, text: str, kind: str) -> None:
        update_id = self.fake.send_text(actor.user, text, actor.chat_id)
        command = _COMMAND.match(text)
        if command:
            name, _, bot = command.group()[1:].partition("@")
            self.expect_command(update_id, actor, text, name, bot)
        elif actor.private:
            self.expect(update_id, actor, text, "reply")
        else:
            mentions = [m.group().lower() for m in _MENTION.finditer(text)]
            addressed = f"@{BOT_USERNAME}".lower() in mentions
            self.expect(update_id, actor, text, "reply" if addressed else "quiet")
        self.counts.add(kind)

    def send_command(self, actor: Actor, name: str, args: str, separator: str = " ",
                     suffix: str = "") -> None:
        if args == "<lien de reprise>":  # a resume link an adviser was given, if any
            links = [m.group(1) for s in self.fake.sent[self.start:]
                     for m in re.finditer(r"\?start=(reprise-[\w-]+)", s.text)]
            args = links[-1] if links else "reprise-"
        text = f"/{name}{suffix}{separator}{args}" if args else f"/{name}{suffix}"
        update_id = self.fake.send_text(actor.user, text, actor.chat_id)
        command = _COMMAND.match(text)
        assert command is not None
        name, _, bot = command.group()[1:].partition("@")
        self.expect_command(update_id, actor, text, name, bot)
        self.counts.add("command")

    def expect_command(self, update_id: int, actor: Actor, text: str, name: str,
                       bot: str) -> None:
        ours = bot.lower() in ("", BOT_USERNAME)
        known = name.lower() in KNOWN and ours
        # In a group, the bot answers its own commands and leaves the others alone.
        expect = "reply" if actor.private or known else "quiet"
        self.expect(update_id, actor, text, expect, known_command=known)

    def press(self, actor: Actor, sent: Sent, data: str, kind: str) -> None:
        query_id = self.fake.press_data(actor.user, sent, data)
        self.expect(f"query:{query_id}", actor, f"button {data!r}", "any", query_id=query_id)
        self.counts.add(kind)

    def expect(self, key: int | str, actor: Actor, what: str, expect: str, *,
               known_command: bool = False, query_id: str | None = None) -> None:
        self.inputs.append(Input(key, actor, what, expect, known_command, query_id))

    def recent(self, actor: Actor, count: int = 3) -> list[Sent]:
        """The chat's latest bot messages with buttons, the latest first."""
        with_buttons = [s for s in self.fake.messages[actor.chat_id].values() if s.buttons]
        return with_buttons[::-1][:count]

    def shown(self, actor: Actor) -> list[tuple[Sent, str]]:
        """The buttons (message, data) of the chat's latest message with buttons."""
        latest = self.recent(actor, 1)
        return [(latest[0], b["callback_data"]) for row in latest[0].buttons for b in row] \
            if latest else []

    async def press_shown(self, actor: Actor, *prefixes: str, pick: int = 0) -> bool:
        """Press a button of the latest keyboard whose data starts with one of ``prefixes``;
        False if there is none."""
        found = [(s, d) for s, d in self.shown(actor) if d.startswith(prefixes)]
        if not found:
            return False
        sent, data = found[pick % len(found)]
        self.press(actor, sent, data, "press")
        await self.settle()
        return True

    async def questionnaire(self, actor: Actor, action: Questionnaire) -> None:
        await self.settle()
        self.send_command(actor, "diagnostic", "")
        await self.settle()
        await self.press_shown(actor, "dn")  # a questionnaire begun earlier: start again
        choices = itertools.cycle(action.choices)
        for _ in range(60):
            shown = [d for _, d in self.shown(actor)]
            if "df" in shown:
                await self.press_shown(actor, "df")
                self.counts.results += 1
                return
            question = next((d[3:] for d in shown if d.startswith("dw:")), None)
            if any(d.startswith(("da:", "dd:")) for d in shown):
                await self.press_shown(actor, "da:", "dd:", pick=next(choices))
            elif any(d.startswith("dt:") for d in shown):
                await self.press_shown(actor, "dt:", pick=next(choices))
                await self.press_shown(actor, "dv:")
            elif question is not None:
                answer = {"department": "drome", "members_total": "12"}.get(question,
                                                                          action.project)
                self.send_text(actor, answer, "text")
                await self.settle()
            elif not await self.press_shown(actor, "ds:", "dr"):  # stuck: skip, or resume
                return

    async def handoff(self, actor: Actor, action: Handoff) -> None:
        await self.settle()
        self.send_command(actor, "start", "coordination")
        await self.settle()
        if any(d == "kx" for _, d in self.shown(actor)) and len(self.shown(actor)) == 1:
            self.send_text(actor, "26", "text")  # the department, when no result gives it
            await self.settle()
        await self.press_shown(actor, "kd:")
        if not await self.press_shown(actor, "ky"):
            return
        for value in (action.name, action.structure):
            self.send_text(actor, value, "text")
            await self.settle()
        for value in (action.email, action.phone):
            if value is None:
                await self.press_shown(actor, "ks")
            else:
                self.send_text(actor, value, "text")
                await self.settle()
        await self.press_shown(actor, "kp:")
        await self.press_shown(actor, "ks")  # no message for the coordination
        if await self.press_shown(actor, "kok"):
            self.counts.leads += 1

    # Waiting, and the properties

    async def settle(self) -> None:
        """Wait until the bot is done with every input sent so far, then check the replies
        of each."""
        pending = [i.key for i in self.inputs[self.checked:]]
        deadline = time.monotonic() + WAIT
        while not all(u in self.done for u in pending):
            self.progress.clear()
            if all(u in self.done for u in pending):
                break
            remaining = deadline - time.monotonic()
            assert remaining > 0, f"the bot never finished with {self.inputs[self.checked:]}"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.progress.wait(), remaining)
        self.check_errors()
        for inp in self.inputs[self.checked:]:
            self.check_input(inp)
        self.checked = len(self.inputs)

    def check_errors(self) -> None:
        """No exception reached the channel's error handler, nothing was logged at ERROR."""
        errors = self.errors[self.errors_before:]
        assert not errors, "the channel's error handler caught:\n" + "\n".join(
            "".join(traceback.format_exception(e)) for e in errors)
        logged = [r.getMessage() for r in self.log.records[self.log_before:]]
        assert not logged, f"logged at ERROR: {logged}"

    def check_input(self, inp: Input) -> None:
        chat = inp.actor.chat_id
        end = self.done[inp.key]
        # Updates of one chat are handled one after the other: what the bot sent in this chat
        # since it was done with the previous one is this input's reply.
        replies = [s for s in self.fake.sent[self.last_done[chat]:end] if s.chat_id == chat]
        self.last_done[chat] = end
        shown = [s.text[:100] for s in replies]
        if inp.expect == "reply":
            assert replies, f"no reply to {inp.what!r} in chat {chat}"
        elif inp.expect == "quiet":
            assert not replies, f"the bot answered {inp.what!r} in the group: {shown}"
        if inp.known_command:
            assert not any(s.text.startswith(self.unknown_prefix) for s in replies), \
                f"{inp.what!r} answered as an unknown command: {shown}"
        if inp.query_id is not None:
            assert inp.query_id in self.fake.answered_callbacks, f"{inp.what} not answered"

    def check_example(self) -> None:
        self.check_errors()
        sent = self.fake.sent[self.start:]
        assert not [s for s in sent if s.text == self.error_text], "the error message was sent"
        assert not self.fake.pending_callbacks, "button presses left unanswered"
        assert_nothing_rejected(self.fake)


def assert_nothing_rejected(fake: FakeTelegram) -> None:
    """Telegram refused nothing — except an edit into the very same message ("message is not
    modified"), which a double press on a shared message can cause and which the channel
    expects."""
    refused = [(method, description) for method, description in fake.rejected
               if not (method.startswith("edit") and "message is not modified" in description)]
    assert not refused, f"Telegram refused: {refused[:3]}"


# --------------------------------------------------------------------------------------------
# The database, checked from its own connection


def _strict(constant: str) -> Any:
    raise ValueError(f"not JSON: {constant}")


STATUSES = {"active", "paused", "done", "abandoned"}
HANDOFF_STEPS = {"department", "consent", "name", "structure", "email", "phone", "preferred",
                 "message", "confirm"}
LEAD_STATUSES = {"nouveau", "pris en charge", "clos", "retiré"}


def check_database(path: Path, content: Content) -> None:
    dialog, territories = content.dialog, content.territories
    assert dialog is not None and territories is not None
    db = sqlite3.connect(path)
    db.row_factory = sqlite3.Row
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        for row in db.execute("SELECT * FROM sessions"):
            state = json.loads(row["state"], parse_constant=_strict)
            assert row["status"] in STATUSES, dict(row)
            for qid, answer in state["answers"].items():
                question = dialog.question(qid)
                assert question is not None, (qid, dict(row))
                if question.type == "single":
                    assert question.option(answer) is not None, (qid, answer)
                if question.type == "multi":
                    assert answer and all(question.option(o) for o in answer), (qid, answer)
                if question.type == "department":
                    assert territories.department(answer) is not None, (qid, answer)
            current = state.get("current")
            assert current in (None, "__recap__") or dialog.question(current), current
        twice = db.execute("SELECT user_key FROM sessions WHERE status = 'active' "
                           "GROUP BY user_key HAVING COUNT(*) > 1").fetchall()
        assert not twice, f"several questionnaires in progress for {[r[0] for r in twice]}"
        for row in db.execute("SELECT * FROM handoffs"):
            state = json.loads(row["state"], parse_constant=_strict)
            assert state["step"] in HANDOFF_STEPS, state
        leads = {}
        for row in db.execute("SELECT * FROM leads"):
            lead = dict(row)
            leads[lead["id"]] = lead
            contact = json.loads(lead["contact"], parse_constant=_strict)
            assert lead["status"] in LEAD_STATUSES, lead["status"]
            # Every lead was consented to, and knows its region and coordination.
            assert lead["consent_version"] and lead["consent_at"], lead["id"]
            assert lead["consent_recipient"] == lead["coordination"], lead["id"]
            region = territories.region(lead["region_id"])
            assert region is not None and lead["region"] == region.name, lead["id"]
            assert content.directory is not None
            assert content.directory.get(lead["coordination_id"]) is not None, lead["id"]
            if lead["status"] != "retiré" and contact:
                assert contact["name"].strip() and contact["structure"].strip(), contact
                assert contact["email"] or contact["phone"], contact
        for row in db.execute("SELECT * FROM deliveries"):
            assert row["lead_id"] in leads, dict(row)
            assert row["status"] in ("pending", "sent", "failed"), dict(row)
        for row in db.execute("SELECT pending FROM advisers"):
            assert row["pending"] in (None, "structure", "project", "note"), row["pending"]
        for row in db.execute("SELECT pending FROM coordinators"):
            assert row["pending"] is None or re.fullmatch(r"(take|close):\d+", row["pending"])
    finally:
        db.close()


# --------------------------------------------------------------------------------------------
# The test


@pytest.fixture
async def fuzzer(content: Content, tmp_path: Path) -> AsyncIterator[Fuzzer]:
    """The bot, started once for all the examples of the test."""
    assert content.territories is not None and content.directory is not None
    coordinator = Channels((COORDINATOR_CHAT,))
    config = Config(coordinations={r.id: coordinator for r in content.territories.regions},
                    fallback=coordinator, admins=frozenset(ADMINS))
    db = tmp_path / "fuzz.sqlite3"
    fake = FakeTelegram()
    # Privacy mode off, as a deployment may set it: the bot itself must stay quiet in a group
    # unless addressed, whatever it receives.
    fake.privacy_mode = False
    await fake.start()
    channel = TelegramChannel(
        Conversation(content, Store(db), config=config),
        Settings(token=TOKEN, api_root=f"http://127.0.0.1:{fake.port}", rate=0,
                 outbox_interval=3600))  # the test runs the outbox itself
    application = channel.build()
    fuzz = Fuzzer(fake, channel, db, content)
    application.add_handler(TypeHandler(Update, fuzz.finished), group=1)
    application.add_error_handler(fuzz.failed)
    logging.getLogger().addHandler(fuzz.log)
    try:
        async with polling(application):
            yield fuzz
    finally:
        await fake.stop()
        logging.getLogger().removeHandler(fuzz.log)
        counts = fuzz.counts
        kinds = ", ".join(f"{n} {kind}" for kind, n in sorted(counts.kinds.items()))
        print(f"\nfuzzing examples run: {counts.examples}, inputs: {counts.inputs} ({kinds}); "
              f"questionnaire results: {counts.results}, leads sent: {counts.leads}; "
              f"{time.monotonic() - counts.started:.1f} s")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
          print_blob=True)
@given(story=stories)
async def test_bad_input_never_breaks_the_telegram_bot(fuzzer: Fuzzer, story: Story) -> None:
    await fuzzer.play(story)
