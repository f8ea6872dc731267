"""The Telegram channel: python-telegram-bot around the core.

Each handler turns one kind of update into an :class:`~bot.core.conversation.Input`, lets the core
answer, and sends the :class:`~bot.core.conversation.Reply` objects as HTML messages with inline
keyboards. Everything Telegram-specific lives here: HTML escaping, the 4096-character limit,
callback queries, flood control, blocked users, groups, the command menu, logging hygiene.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import hashlib
import html
import logging
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    KeyboardButton,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatAction, ChatType, MessageLimit, ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest

from bot.answers.semantic import EmbeddingNeeded
from bot.channels.telegram.drawing import Drawings
from bot.channels.telegram.settings import Settings
from bot.content.model import MENU_COMMANDS, Content
from bot.core.conversation import FEEDBACK, Conversation
from bot.core.messages import Attachment, Button, Input, Reply, User, UserKey
from bot.core.text import typeset
from bot.handoff import outbox
from bot.handoff.coordination import CLOSE, TAKE
from bot.handoff.outbox import Outbox
from bot.ops import tls
from bot.ops.config import Config
from bot.qualification.results import Result

logger = logging.getLogger(__name__)

CHANNEL = "telegram"

# Commands of the regional coordinations and admins: handled, not advertised in the menu.
COORDINATION_COMMANDS = ("coordination", "leads", "lead", "export", "stats")
MAX_TOAST = 200  # characters of a callback query answer
ACTIVE_CHATS = 16  # chats served at once (see PerChatUpdateProcessor)
OWED_FILES = timedelta(days=1)  # a verdict's files still sent after a restart within this
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)  # answers cite sources: no link cards

_NOT_MODIFIED = "message is not modified"
_PARSE_ERROR = "can't parse entities"


# --------------------------------------------------------------------------------------------
# Rendering: replies as Telegram HTML within Telegram's limits


def to_html(reply: Reply) -> list[str]:
    """The reply as HTML paragraphs, each well-formed on its own (so it can be split), with
    French typography's no-break spaces."""
    def escape(text: str) -> str:
        return html.escape(typeset(text), quote=False)

    paragraphs = []
    if reply.title:
        paragraphs.append(f"<b>{escape(reply.title)}</b>")
    paragraphs += [escape(p) for p in reply.text.split("\n\n") if p.strip()]
    if reply.source:
        paragraphs.append(f"<i>{escape(reply.source)}</i>")
    return paragraphs


def split_message(paragraphs: Sequence[str], limit: int = MessageLimit.MAX_TEXT_LENGTH
                  ) -> list[str]:
    """Pack paragraphs into messages of at most ``limit`` UTF-16 units, cutting between
    paragraphs; a paragraph too long on its own is cut between lines, then between words."""
    return _pack((piece for paragraph in paragraphs for piece in _fit(paragraph, limit)),
                 "\n\n", limit)


def _fit(paragraph: str, limit: int) -> list[str]:
    """``paragraph`` cut into pieces of at most ``limit``; tags stay on each piece."""
    if _length(paragraph) <= limit:
        return [paragraph]
    opening, closing, inner = "", "", paragraph
    for tag in ("b", "i"):
        if paragraph.startswith(f"<{tag}>") and paragraph.endswith(f"</{tag}>"):
            opening, closing = f"<{tag}>", f"</{tag}>"
            inner = paragraph[len(opening): -len(closing)]
    budget = limit - _length(opening + closing)
    pieces = _pack((piece for line in inner.split("\n") for piece in _cut_words(line, budget)),
                   "\n", budget)
    return [f"{opening}{p}{closing}" for p in pieces]


def _pack(pieces: Iterable[str], separator: str, limit: int) -> list[str]:
    """Join ``pieces`` (each within ``limit``) with ``separator``, as few chunks as fit."""
    chunks: list[str] = []
    current = ""
    for piece in pieces:
        candidate = f"{current}{separator}{piece}" if current else piece
        if _length(candidate) <= limit:
            current = candidate
        else:
            chunks.append(current)
            current = piece
    if current:
        chunks.append(current)
    return chunks


def _cut_words(text: str, budget: int) -> list[str]:
    """``text`` cut between words (or anywhere, for a word longer than ``budget``) without
    splitting an HTML entity such as ``&amp;``."""
    if _length(text) <= budget:
        return [text]
    pieces: list[str] = []
    current = ""
    for word in text.split(" "):
        while _length(word) > budget:
            cut = budget
            amp = word.rfind("&", max(0, cut - 8), cut)
            if amp >= 0 and ";" not in word[amp:cut]:
                cut = amp
            if current:
                pieces.append(current)
                current = ""
            pieces.append(word[:cut])
            word = word[cut:]
        candidate = f"{current} {word}" if current else word
        if _length(candidate) <= budget:
            current = candidate
        else:
            pieces.append(current)
            current = word
    if current:
        pieces.append(current)
    return pieces


def _length(text: str) -> int:
    """Telegram measures texts in UTF-16 code units; measuring the HTML source (longer than
    what is displayed) keeps us on the safe side."""
    return len(text.encode("utf-16-le")) // 2


@lru_cache(maxsize=2048)
def keyboard(buttons: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard (cached: PTB objects are immutable and the
    same answers come back often)."""
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in buttons])


def without_feedback(markup: InlineKeyboardMarkup | None) -> InlineKeyboardMarkup:
    """The keyboard of an answer once 👍 / 👎 was pressed: the other buttons stay."""
    rows = [] if markup is None else [
        [b for b in row if not str(b.callback_data or "").startswith(FEEDBACK)]
        for row in markup.inline_keyboard]
    return InlineKeyboardMarkup([row for row in rows if row])


# --------------------------------------------------------------------------------------------
# Processing: concurrent across chats, in order within a chat


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of different chats are handled concurrently; those of one chat in the order
    they came, so that a quick second message never overtakes the first.

    At most ``active`` chats are served at once; the others wait their turn without holding
    a place (a user who sends ten messages in a row does not block ten places). Each one
    served keeps an HTTP request to Telegram in flight: beyond a few dozen, the HTTP client
    spends more time walking its connections than sending. A chat that waits for something
    slow done elsewhere (its chart and report, its question's vector) gives its place back
    meanwhile (:meth:`aside`): with 200 founders finishing together, the results queued at
    the drawing process held all the places, and every other chat waited 6 to 10 seconds."""

    def __init__(self, max_concurrent_updates: int = 256, active: int = ACTIVE_CHATS) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}
        self._active = asyncio.Semaphore(active)
        self._holding: contextvars.ContextVar[bool] = contextvars.ContextVar(
            "holding", default=False)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            async with self._active:
                await self._served(coroutine)
            return
        lock, users = self._locks.get(chat.id, (asyncio.Lock(), 0))
        self._locks[chat.id] = (lock, users + 1)
        try:
            async with lock, self._active:
                await self._served(coroutine)
        finally:
            lock, users = self._locks[chat.id]
            if users <= 1:
                del self._locks[chat.id]
            else:
                self._locks[chat.id] = (lock, users - 1)

    async def _served(self, coroutine: Awaitable[Any]) -> None:
        token = self._holding.set(True)  # seen by aside(), in this update's task only
        try:
            await coroutine
        finally:
            self._holding.reset(token)

    @contextlib.asynccontextmanager
    async def aside(self) -> AsyncIterator[None]:
        """Within an update this processor serves: give its place to another chat for the
        time of the block (the chat itself stays locked: its next update still waits), take
        a place again after. Elsewhere: nothing."""
        if not self._holding.get():
            yield
            return
        self._active.release()
        try:
            yield
        finally:
            await self._active.acquire()

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""


# --------------------------------------------------------------------------------------------
# The channel


class TelegramChannel:
    """Handlers that connect a :class:`Conversation` to a PTB :class:`Application`."""

    def __init__(self, conversation: Conversation, settings: Settings) -> None:
        self.conversation = conversation
        self.settings = settings
        # The core is synchronous (matching, SQLite): it runs in one worker thread so that the
        # event loop keeps polling and sending while it works.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ptce-core")
        # Charts and reports are made by a drawing process (drawing.py), never under the
        # core lock: matplotlib and fpdf2 are Python, and drawn here they would hold the GIL
        # half a second per result while every chat waits. Files someone waits on (a
        # lead's) are asked for by several threads, each waiting for that process; a lead
        # whose files are made already is not kept waiting at all.
        self._artist = ThreadPoolExecutor(max_workers=8, thread_name_prefix="ptce-chart")
        # The files that follow verdicts are asked for one at a time, by one thread: many
        # verdicts in the same minute queue here, and a lead's files asked meanwhile (by an
        # artist thread) wait only for the drawing in progress (drawing.py).
        self._follower = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ptce-files")
        self._drawings = Drawings()
        # Questions' sentence vectors (40 ms and more each) are computed apart as well, in C
        # code that releases the GIL: the event loop and the core go on meanwhile. Two at a
        # time: many questions at once (a webinar's first minute) are embedded twice as
        # fast when the drawing process leaves a core free.
        self._embedder = ThreadPoolExecutor(max_workers=2, thread_name_prefix="ptce-embed")
        _defer_slow_work(conversation)
        self._core_lock = asyncio.Lock()
        self._processor = PerChatUpdateProcessor()
        self._application: Application | None = None  # once it runs
        self.outbox: Outbox | None = None  # delivers leads, once the application runs
        self._outbox_task: asyncio.Task[None] | None = None
        self._owed_task: asyncio.Task[None] | None = None  # files a stop kept from being sent

    def build(self) -> Application:
        """The PTB application, handlers registered, ready to run."""
        builder = (ApplicationBuilder().token(self.settings.token)
                   .concurrent_updates(self._processor)
                   .rate_limiter(AIORateLimiter(
                       overall_max_rate=self.settings.rate, overall_time_period=1 if
                       self.settings.rate else 0, max_retries=self.settings.max_retries))
                   # PTB's two HTTP clients share the bot's TLS context instead of
                   # building one each (bot.ops.tls): 40 ms less at start.
                   .request(HTTPXRequest(connection_pool_size=256,
                                         httpx_kwargs={"verify": tls.context()}))
                   .get_updates_request(HTTPXRequest(httpx_kwargs={"verify": tls.context()}))
                   .post_init(self._post_init)
                   .post_stop(self._post_stop)
                   .post_shutdown(self._post_shutdown))
        if self.settings.base_url:
            builder = (builder.base_url(self.settings.base_url)
                       .base_file_url(self.settings.base_file_url or ""))
        application = builder.build()
        self.register(application)
        return application

    def register(self, application: Application) -> None:
        """Add the handlers: commands, buttons, private text, addressed group text, media."""
        names = [*MENU_COMMANDS, "help", *COORDINATION_COMMANDS]
        application.add_handler(CommandHandler(names, self.on_command))
        application.add_handler(CallbackQueryHandler(self.on_button))
        application.add_handler(MessageHandler(
            filters.ChatType.PRIVATE & filters.CONTACT, self.on_contact))
        application.add_handler(MessageHandler(
            filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND, self.on_text))
        application.add_handler(MessageHandler(
            filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND, self.on_group_text))
        application.add_handler(MessageHandler(
            filters.ChatType.PRIVATE & filters.COMMAND, self.on_unknown_command))
        application.add_handler(MessageHandler(
            filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL, self.on_media))
        application.add_error_handler(self.on_error)

    async def _post_init(self, application: Application) -> None:
        self._application = application
        await self._set_menu()
        self._attach(self.conversation)
        self._owed_task = asyncio.create_task(self._send_owed_files(application.bot))

    def _attach(self, conversation: Conversation) -> None:
        """Connect a core to the running bot: resume links that open this bot, and the
        delivery of leads as soon as the hand-off is on (at start or after a reload)."""
        application = self._application
        assert application is not None
        if conversation.interview is not None:
            # Resume links an adviser hands to a founder open this bot.
            conversation.interview.link_base = f"https://t.me/{application.bot.username}?start="
        dialog = conversation.content.dialog
        messages = dialog.messages if dialog is not None else {}
        if self.outbox is not None:
            self.outbox.config = conversation.config
            self.outbox.directory = conversation.content.directory
            self.outbox.messages = messages
        elif conversation.handoff is not None:
            self.outbox = Outbox(conversation.store, conversation.config,
                                 conversation.content.directory,
                                 telegram=lambda *a: self._deliver(application, *a),
                                 lock=self._core_lock, messages=messages)
            self._outbox_task = asyncio.create_task(
                self.outbox.run_forever(self.settings.outbox_interval))

    async def _set_menu(self) -> None:
        """The command menu Telegram shows when the user types "/", worded by messages.yaml."""
        if self._application is not None:
            content = self.conversation.content
            await self._application.bot.set_my_commands(
                [BotCommand(name, content.message(f"menu_{name}")) for name in MENU_COMMANDS])

    async def _post_stop(self, application: Application) -> None:
        for task in (self._outbox_task, self._owed_task):  # what is left is sent next time
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._outbox_task = self._owed_task = None

    def _render(self, result: Result) -> tuple[bytes, bytes]:
        """The files that follow a verdict: made by the drawing process, in turn."""
        return self._drawings.draw(result)

    def _render_now(self, result: Result) -> tuple[bytes, bytes]:
        """Files someone waits on (a lead's): made by the drawing process before the
        others."""
        return self._drawings.draw(result, urgent=True)

    async def _post_shutdown(self, application: Application) -> None:
        self._drawings.close()
        self._artist.shutdown(wait=True)
        self._follower.shutdown(wait=True)
        self._embedder.shutdown(wait=True)
        self._worker.shutdown(wait=True)

    async def reload(self, content: Content, config: Config) -> Conversation:
        """Serve ``content`` and ``config`` from now on (same store): the new core is built in
        the core's thread while holding the core lock, so that every input sees either the
        old core or the new one, never a mix. Returns the new core."""
        async with self._core_lock:
            old = self.conversation
            loop = asyncio.get_running_loop()
            new = await loop.run_in_executor(self._worker, lambda: Conversation(
                content, old.store, record=old.record, config=config))
            _defer_slow_work(new)
            self.conversation = new
            if self._application is not None:
                self._attach(new)
        await _quietly(self._set_menu())  # its wording may have changed
        return new

    async def _deliver(self, application: Application, chat_id: int, lead: dict[str, Any],
                       purpose: str, text: str) -> None:
        """Post a lead (text, report, chart, status buttons) or a message to a chat. Errors
        propagate: the outbox records them and retries."""
        bot = application.bot
        buttons = None
        dialog = self.conversation.content.dialog
        if purpose == outbox.LEAD and lead.get("id") and dialog is not None:
            buttons = keyboard(((Button(dialog.messages["btn_take"], f"{TAKE}{lead['id']}"),
                                 Button(dialog.messages["btn_close"], f"{CLOSE}{lead['id']}")),))
        chunks = split_message([html.escape(typeset(p), quote=False)
                                for p in text.split("\n\n")])
        for n, chunk in enumerate(chunks):
            await bot.send_message(chat_id, chunk, parse_mode=ParseMode.HTML,
                                   reply_markup=buttons if n == len(chunks) - 1 else None,
                                   link_preview_options=NO_PREVIEW)
        if purpose == outbox.LEAD and lead.get("report"):
            await bot.send_document(chat_id, InputFile(lead["report"], filename=lead.get(
                "report_name") or "rapport-ptce.pdf"))
        if purpose == outbox.LEAD and lead.get("chart"):
            await bot.send_photo(chat_id, InputFile(lead["chart"], filename="profil-ptce.png"))

    # ----------------------------------------------------------------------------------------
    # Handlers: one kind of update each

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """``/start [payload]``, ``/aide``, ``/themes``, ``/glossaire``, ``/annuler``."""
        message = update.effective_message
        assert message is not None and message.text is not None and message.entities
        # The command is what Telegram marked at the start (both handlers check it is there);
        # the rest is its argument, whether a space, a line break or anything else follows.
        marked = message.parse_entity(message.entities[0])
        command, args = marked[1:].split("@", 1)[0], message.text[len(marked):]
        sender = update.effective_user
        await self._respond(update, context, self._input(
            update, command=command, args=args.strip(),
            name=sender.first_name if sender else ""))

    async def on_unknown_command(self, update: Update,
                                 context: ContextTypes.DEFAULT_TYPE) -> None:
        """A command we do not have (in a private chat): say which ones exist."""
        await self.on_command(update, context)

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A question typed in a private chat."""
        message = update.effective_message
        assert message is not None
        await self._respond(update, context, self._input(update, text=message.text or ""))

    async def on_group_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """In a group, answer only what is addressed to the bot: a mention or a reply."""
        message = update.effective_message
        assert message is not None and message.text is not None
        text = _addressed_text(message, context.bot.username, context.bot.id)
        if text is None:
            return
        await self._respond(update, context, self._input(update, text=text))

    async def on_contact(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The founder shared their phone number with the "Partager mon numéro" button."""
        message = update.effective_message
        assert message is not None and message.contact is not None
        await self._respond(update, context, self._input(
            update, contact=message.contact.phone_number))

    async def on_media(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice, locations…: explain that only text is read."""
        message = update.effective_message
        assert message is not None
        kind = next((k for k in ("sticker", "photo", "voice", "audio", "video", "document",
                                 "location", "contact", "animation", "video_note", "poll")
                     if getattr(message, k, None)), "other")
        await self._respond(update, context, self._input(update, media=kind))

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A press on an inline button. The query is always answered, even for a stale one."""
        query = update.callback_query
        assert query is not None
        replies = await self._core(update, context, self._input(update, button=query.data or ""))
        toast = next((r.text for r in replies if r.kind == "ack"), None)
        await _answer_query(query.answer(toast[:MAX_TOAST] if toast else None))
        message = query.message if isinstance(query.message, Message) else None
        if toast is not None:
            # 👍 / 👎 pressed: the feedback buttons go, the "see also" buttons stay.
            if message is not None:
                await _quietly(message.edit_reply_markup(without_feedback(message.reply_markup)))
            replies = [r for r in replies if r.kind != "ack"]
        if (len(replies) == 1 and replies[0].replaces and message is not None
                and await self._edit(message, replies[0])):
            return
        await self._send(update, context, replies)

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log what went wrong (never the update's content) and tell the user."""
        error = context.error
        if isinstance(error, Forbidden):
            return  # already handled where it happened
        logger.error("Erreur pendant le traitement d'une mise à jour : %s",
                     type(error).__name__, exc_info=error)
        if isinstance(update, Update) and update.effective_chat is not None:
            await _quietly(context.bot.send_message(
                update.effective_chat.id, self.conversation.content.message("error")))

    # ----------------------------------------------------------------------------------------
    # The core, and sending its replies

    async def _respond(self, update: Update, context: ContextTypes.DEFAULT_TYPE,
                       inp: Input) -> None:
        await self._send(update, context, await self._core(update, context, inp))

    async def _core(self, update: Update, context: ContextTypes.DEFAULT_TYPE,
                    inp: Input) -> list[Reply]:
        """The core's replies. Most take a millisecond and run right here. The few that show
        a result or send a lead run in the worker thread, with "typing…" shown: first their
        chart is drawn (:meth:`Conversation.prepare`) while the core serves other users, then
        the rest is handled. One input at a time touches the core (and its SQLite
        connection)."""
        chat = update.effective_chat
        loop = asyncio.get_running_loop()
        for attempt in range(3):  # a question's vectors, computed apart, then the core again
            async with self._core_lock:
                if self.conversation.is_slow(inp):
                    break
                try:
                    return self._handle(update, inp)
                except EmbeddingNeeded as needed:  # nothing was written: handled again below
                    texts = needed.texts
                    if attempt == 2:  # evicted twice meanwhile (a flood): computed here
                        self.conversation.embed(texts)
                        return self._handle(update, inp)
            async with self._processor.aside():
                await loop.run_in_executor(self._embedder, self.conversation.embed, texts)
        if chat is not None:
            await _quietly(context.bot.send_chat_action(chat.id, ChatAction.TYPING))
        # The chart and report, made by the drawing process while the core serves the
        # others; many results in the same minute queue there, and never under the core lock
        # (drawn in this process, each would stop every chat for half a second).
        try:
            async with self._processor.aside():
                await loop.run_in_executor(self._artist, self.conversation.prepare, inp,
                                           self._render_now)
        except Exception as exc:  # the core draws it itself below
            logger.warning("Préparation du graphique impossible : %s", type(exc).__name__)
        async with self._core_lock:
            return await loop.run_in_executor(self._worker, self._handle, update, inp)

    def _handle(self, update: Update, inp: Input) -> list[Reply]:
        """The core's replies, the update claimed and everything it changes written in one
        transaction. An update Telegram sends again after a crash gets nothing if it was
        handled before the crash, and is handled if the crash came first."""
        store = self.conversation.store
        with store.transaction():
            if not store.claim_update(CHANNEL, update.update_id):
                logger.info("Mise à jour %s reçue une seconde fois : ignorée.", update.update_id)
                return []
            replies = self.conversation.handle(inp)
            chat = update.effective_chat
            if chat is not None and chat.type == ChatType.PRIVATE:
                store.seen_user(CHANNEL, str(chat.id))
        store.after_transaction()
        return replies

    async def _send(self, update: Update, context: ContextTypes.DEFAULT_TYPE,
                    replies: Sequence[Reply]) -> None:
        chat = update.effective_chat
        if chat is None:
            return
        try:
            for reply in replies:
                chunks = split_message(to_html(reply))
                if reply.force_reply and chat.type != ChatType.PRIVATE and update.effective_user:
                    # Selective: the reply field opens for the member who pressed, named.
                    member = update.effective_user
                    chunks[0] = (f'<a href="tg://user?id={member.id}">'
                                 f"{html.escape(member.first_name, quote=False)}</a>, "
                                 + chunks[0])
                for n, chunk in enumerate(chunks):
                    markup: InlineKeyboardMarkup | ForceReply | None = None
                    if n == len(chunks) - 1:
                        markup = (ForceReply(selective=True) if reply.force_reply
                                  else keyboard(reply.buttons))
                    await self._send_html(context, chat.id, chunk, markup)
                for attachment in reply.attachments:
                    await self._send_file(context.bot, chat.id, attachment)
                if reply.files_to_follow:  # after the verdict, never before it
                    context.application.create_task(
                        self._files_later(context.bot, chat.id, self._user(update)),
                        update=update, name="files-later")
                if reply.settles is not None:  # shown: the outbox's copy is not needed
                    async with self._core_lock:
                        outbox.settle(self.conversation.store, reply.settles)
                if reply.request_contact and chat.type == ChatType.PRIVATE:
                    share = ReplyKeyboardMarkup(
                        [[KeyboardButton(reply.request_contact, request_contact=True)]],
                        one_time_keyboard=True, resize_keyboard=True)
                    await context.bot.send_message(chat.id, reply.request_contact,
                                                   reply_markup=share)
        except Forbidden:
            # The user blocked the bot: note it once, do not retry.
            logger.info("Utilisateur %s injoignable (bot bloqué) : marqué inactif.",
                        _pseudonym(chat.id))
            async with self._core_lock:
                self.conversation.store.mark_inactive(CHANNEL, str(chat.id))

    async def _files_later(self, bot: Bot, chat_id: int, user: User) -> None:
        """A verdict shown first: its chart and report, made by the drawing process (with
        every other result of the minute), then sent, and noted as sent (until then, a
        restart sends them: :meth:`_send_owed_files`). Holds no place of the update
        processor meanwhile; the chat's next messages are served as usual."""
        loop = asyncio.get_running_loop()
        await _quietly(bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO))
        try:
            await loop.run_in_executor(self._follower, self.conversation.draw_latest, user,
                                       self._render)
        except Exception as exc:  # the core draws them itself below
            logger.warning("Préparation du graphique impossible : %s", type(exc).__name__)
        async with self._core_lock:
            files = await loop.run_in_executor(self._worker, self.conversation.latest_files,
                                               user)
        try:
            for attachment in files:
                await self._send_file(bot, chat_id, attachment)
        except Forbidden:
            logger.info("Utilisateur %s injoignable (bot bloqué).", _pseudonym(chat_id))
        async with self._core_lock:
            await loop.run_in_executor(self._worker, self.conversation.files_sent, user)

    async def _send_owed_files(self, bot: Bot) -> None:
        """At start: the charts and reports of the verdicts shown in the last day whose
        files a stop (a crash, a restart) kept from being sent."""
        since = (datetime.now(UTC) - OWED_FILES).isoformat(timespec="seconds")
        async with self._core_lock:
            owed = self.conversation.files_owed(CHANNEL, since)
        for user in owed:
            try:
                await self._files_later(bot, int(UserKey.of(user).chat), user)
            except TelegramError as exc:  # one chat's problem never stops the others
                logger.warning("Fichiers d'un résultat non envoyés : %s", type(exc).__name__)

    async def _send_html(self, context: ContextTypes.DEFAULT_TYPE, chat_id: int, text: str,
                         markup: InlineKeyboardMarkup | ForceReply | None) -> None:
        try:
            await context.bot.send_message(
                chat_id, text, parse_mode=ParseMode.HTML, reply_markup=markup,
                link_preview_options=NO_PREVIEW)
        except BadRequest as exc:
            if _PARSE_ERROR not in exc.message:
                raise
            # Should never happen (everything is escaped); if it does, the user still gets
            # the text, without formatting.
            logger.error("HTML refusé par Telegram, envoi en texte brut : %s", exc.message)
            await context.bot.send_message(chat_id, html.unescape(_strip_tags(text)),
                                           reply_markup=markup)

    @staticmethod
    async def _send_file(bot: Bot, chat_id: int, attachment: Attachment) -> None:
        """The profile chart as a photo, the report as a document."""
        upload = InputFile(attachment.data, filename=attachment.filename)
        caption = attachment.caption[:MessageLimit.CAPTION_LENGTH]
        if attachment.kind == "photo":
            await bot.send_photo(chat_id, upload, caption=caption)
        else:
            await bot.send_document(chat_id, upload, caption=caption)

    async def _edit(self, message: Message, reply: Reply) -> bool:
        """Replace ``message`` by ``reply`` (theme navigation); False if it cannot be done."""
        chunks = split_message(to_html(reply))
        if len(chunks) != 1:
            return False
        try:
            await message.edit_text(chunks[0], parse_mode=ParseMode.HTML,
                                    reply_markup=keyboard(reply.buttons))
        except BadRequest as exc:
            return _NOT_MODIFIED in exc.message
        return True

    def _input(self, update: Update, **fields: Any) -> Input:
        chat = update.effective_chat
        private = chat is None or chat.type == ChatType.PRIVATE
        sender = update.effective_user
        username = sender.username or "" if sender is not None else ""
        return Input(self._user(update), private=private, username=username, **fields)

    @staticmethod
    def _user(update: Update) -> User:
        """The core's user: the chat in private; the member within the chat in a group, so
        that members never share a state."""
        chat, sender = update.effective_chat, update.effective_user
        if chat is None or chat.type == ChatType.PRIVATE or sender is None:
            return User(CHANNEL, str(chat.id if chat else sender.id if sender else 0))
        return User(CHANNEL, f"{chat.id}:{sender.id}")


def _defer_slow_work(conversation: Conversation) -> None:
    """What the core must not do under its lock on Telegram: a question's vector is
    computed apart, a result's files are made apart and follow its verdict."""
    conversation.defer_embedding()
    conversation.defer_drawing()


def _addressed_text(message: Message, username: str, bot_id: int) -> str | None:
    """The text of a group message meant for the bot, without the mention; None otherwise."""
    text = message.text or ""
    mention = f"@{username}".lower()
    mentions = [v for v in message.parse_entities([MessageEntity.MENTION]).values()
                if v.lower() == mention]
    if mentions:
        for value in mentions:
            text = text.replace(value, " ")
        return " ".join(text.split())
    replied = message.reply_to_message
    if replied is not None and replied.from_user is not None and replied.from_user.id == bot_id:
        return text
    return None


async def _answer_query(call: Awaitable[Any]) -> None:
    """Answer a callback query; a query too old to answer (after a restart) is not an error."""
    try:
        await call
    except BadRequest as exc:
        logger.info("Réponse au bouton impossible : %s", exc.message)


async def _quietly(call: Awaitable[Any]) -> None:
    """A courtesy call (typing action, keyboard clean-up): its failure changes nothing."""
    try:
        await call
    except TelegramError as exc:
        logger.info("Appel secondaire refusé par Telegram : %s", type(exc).__name__)


def _strip_tags(text: str) -> str:
    for tag in ("b", "i"):
        text = text.replace(f"<{tag}>", "").replace(f"</{tag}>", "")
    return text


def _pseudonym(chat_id: int) -> str:
    """A short stable tag for a chat in logs, instead of its id (personal data)."""
    return hashlib.sha256(str(chat_id).encode()).hexdigest()[:10]
