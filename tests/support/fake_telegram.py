"""A local fake of the Telegram Bot API, strict where Telegram is strict.

The real python-telegram-bot ``Application`` talks HTTP to it (``base_url`` pointing here) and
long-polls ``getUpdates`` as it would on api.telegram.org. Tests play the users: they type
messages, press buttons by their label, send stickers, then read what the bot sent.

What it rejects, like Telegram: malformed HTML (``can't parse entities``), texts over 4096
characters after entity parsing, callback data over 64 bytes, invalid command names, editing a
message into itself (``message is not modified``), unknown methods, a wrong token. It can answer
429 with ``retry_after`` on chosen calls, and 403 for chats that blocked the bot.

Run standalone (``python tests/fake_telegram.py --port 8081``) for benchmarks: a small control
API under ``/_control/`` lets another process inject updates and read counters. ``--latency MS``
makes every call but ``getUpdates`` answer MS milliseconds late, as over the Internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import os
import re
import secrets
import socket
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web

BOT_ID = 123456789
# A fresh token per run, shared with the processes a test or benchmark starts (they inherit
# the environment); never a token-shaped literal in the repository.
TOKEN = os.environ.setdefault(
    "PTCE_FAKE_TELEGRAM_TOKEN", f"{BOT_ID}:{secrets.token_urlsafe(27)}")
BOT_USERNAME = "ptce_test_bot"
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
_ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
                 "tg-spoiler", "span", "blockquote", "tg-emoji"}
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);")
_COMMAND = re.compile(r"^[a-z0-9_]{1,32}$")
_CHAT_ACTIONS = {"typing", "upload_photo", "record_video", "upload_video", "record_voice",
                 "upload_voice", "upload_document", "choose_sticker", "find_location",
                 "record_video_note", "upload_video_note"}


class BadRequest(Exception):
    """A request Telegram would refuse; ``status`` and ``description`` as Telegram sends them."""

    def __init__(self, description: str, status: int = 400, retry_after: int | None = None):
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after


def parse_html(text: str) -> str:
    """The plain text Telegram shows for ``text`` in HTML parse mode; raise like Telegram."""
    out: list[str] = []
    stack: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char == "<":
            end = text.find(">", i)
            if end < 0:
                raise BadRequest(f"Bad Request: can't parse entities: Unclosed start tag at "
                                 f"byte offset {len(text[:i].encode())}")
            tag = text[i + 1 : end].strip()
            if tag.startswith("/"):
                name = tag[1:].strip().lower()
                if not stack or stack[-1] != name:
                    raise BadRequest(f"Bad Request: can't parse entities: Unmatched end tag at "
                                     f"byte offset {len(text[:i].encode())}, expected "
                                     f'"</{stack[-1] if stack else ""}>", found "</{name}>"')
                stack.pop()
            else:
                name = tag.split()[0].lower() if tag else ""
                if name not in _ALLOWED_TAGS:
                    raise BadRequest(f'Bad Request: can\'t parse entities: Unsupported start tag '
                                     f'"{name}" at byte offset {len(text[:i].encode())}')
                stack.append(name)
            i = end + 1
        elif char == "&":
            match = _ENTITY.match(text, i)
            if not match:
                raise BadRequest("Bad Request: can't parse entities: Character entity expected "
                                 f"at byte offset {len(text[:i].encode())}")
            out.append(html.unescape(match.group()))
            i = match.end()
        else:
            out.append(char)
            i += 1
    if stack:
        raise BadRequest(f"Bad Request: can't parse entities: Can't find end tag corresponding "
                         f'to start tag "{stack[-1]}"')
    return "".join(out)


def utf16_length(text: str) -> int:
    """Telegram counts message length in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def free_port() -> int:
    """A TCP port nothing listens on, for a server started next to the fake."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.asynccontextmanager
async def polling(application: Any) -> AsyncIterator[None]:
    """Run a PTB ``application`` long-polling the fake, as ``ptce-bot run`` does (post_init
    and post_stop included), and stop it on exit."""
    await application.initialize()
    await application.post_init(application)
    await application.start()
    await application.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield
    finally:
        await application.updater.stop()
        await application.stop()
        await application.post_stop(application)
        await application.shutdown()


@dataclass
class FakeUser:
    """A Telegram user the tests play."""

    id: int
    first_name: str = "Léa"
    username: str | None = None

    def as_json(self) -> dict[str, Any]:
        user = {"id": self.id, "is_bot": False, "first_name": self.first_name,
                "language_code": "fr"}
        if self.username:
            user["username"] = self.username
        return user


@dataclass
class Sent:
    """Something the bot sent or edited, as the user sees it."""

    method: str
    chat_id: int
    message_id: int
    text: str = ""  # as read (HTML parsed; the no-break spaces of French typography as spaces)
    raw: str = ""  # as sent
    buttons: list[list[dict[str, Any]]] = field(default_factory=list)
    file_name: str | None = None
    file_bytes: bytes | None = None
    at: float = 0.0  # time.monotonic() when it reached the server
    shown: str = ""  # as displayed, no-break spaces included
    force_reply: bool = False  # the message asks for a reply (ForceReply), selective or not

    @property
    def labels(self) -> list[str]:
        return [b["text"] for row in self.buttons for b in row]

    @property
    def data(self) -> list[str]:
        """The buttons' callback data."""
        return [b.get("callback_data", "") for row in self.buttons for b in row]


@dataclass
class Failure:
    """A failure to inject into the next matching call."""

    method: str
    status: int
    description: str
    retry_after: int | None = None
    chat_id: int | None = None


# Telegram numbers a bot's updates in one sequence that goes on across restarts: a new fake
# server (a test restarting the bot) continues it.
_UPDATE_IDS = itertools.count(1)


class FakeTelegram:
    """The fake Bot API server and the users' side of the conversation."""

    def __init__(self, token: str = TOKEN, latency: float = 0.0) -> None:
        self.token = token
        self.latency = latency  # seconds added to every call but getUpdates (network delay)
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._updates: list[dict[str, Any]] = []
        self._redelivered: list[dict[str, Any]] = []  # see :meth:`redeliver`
        self.history: dict[int, dict[str, Any]] = {}  # every update, by id
        self._update_ids = _UPDATE_IDS
        self._message_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._new_update = asyncio.Event()
        self._closing = False
        # Telegram's privacy mode, on for bots unless disabled with @BotFather.
        self.privacy_mode = True
        self._new_sent = asyncio.Event()
        self.messages: dict[int, dict[int, Sent]] = defaultdict(dict)  # chat -> id -> message
        self.sent: list[Sent] = []  # every successful send or edit, in order
        self.by_chat: dict[int, list[Sent]] = defaultdict(list)  # the same, per chat
        self._chat_events: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.calls: list[tuple[str, dict[str, Any]]] = []  # every call, accepted or not
        self.rejected: list[tuple[str, str]] = []  # (method, Telegram's description)
        self.answered_callbacks: dict[str, dict[str, Any]] = {}
        self.pending_callbacks: set[str] = set()
        self.commands: list[dict[str, Any]] = []
        self.chat_actions: list[tuple[int, str]] = []
        self.blocked: set[int] = set()  # chats whose user blocked the bot
        self.webhook: dict[str, Any] | None = None  # set by setWebhook
        self._failures: list[Failure] = []
        self.last_sent_at = 0.0  # time.monotonic() of the latest record of :attr:`sent`

    # ------------------------------------------------------------------------------------
    # Server

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def start(self, port: int = 0) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_post("/_control/{action}", self._control)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        # Long polls still open (a bot process that was stopped or killed) return at once
        # rather than holding the server's shutdown for their whole timeout.
        self._closing = True
        self._new_update.set()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        try:
            params = await _read_params(request)
        except ConnectionResetError:  # the bot died in the middle of an upload
            return _error(400, "Bad Request: connection lost")
        self.calls.append((method, params))
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        handler = getattr(self, f"_api_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        if self.latency and method != "getUpdates":
            await asyncio.sleep(self.latency)
        try:
            self._inject_failure(method, params)
            result = await handler(params)
        except BadRequest as exc:
            self.rejected.append((method, exc.description))
            return _error(exc.status, exc.description, exc.retry_after)
        return web.json_response({"ok": True, "result": result})

    def _inject_failure(self, method: str, params: dict[str, Any]) -> None:
        chat_id = _int(params.get("chat_id"))
        if chat_id in self.blocked and method.startswith(("send", "edit")):
            raise BadRequest("Forbidden: bot was blocked by the user", 403)
        for failure in self._failures:
            if failure.method == method and failure.chat_id in (None, chat_id):
                self._failures.remove(failure)
                raise BadRequest(failure.description, failure.status, failure.retry_after)

    # ------------------------------------------------------------------------------------
    # Bot API methods

    async def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Assistant PTCE",
                "username": BOT_USERNAME, "can_join_groups": True,
                "can_read_all_group_messages": False, "supports_inline_queries": False}

    async def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = None
        return True

    async def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url", "")
        if not url.startswith(("https://", "http://127.0.0.1")):
            raise BadRequest("Bad Request: bad webhook: An HTTPS URL must be provided for "
                             "webhook")
        self.webhook = {"url": url, "secret_token": params.get("secret_token")}
        return True

    async def _api_setMyCommands(self, params: dict[str, Any]) -> bool:
        commands = json.loads(params.get("commands", "[]"))
        for command in commands:
            if not _COMMAND.match(command.get("command", "")):
                raise BadRequest("Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise BadRequest("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands = commands
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = _int(params.get("offset")) or 0
        limit = _int(params.get("limit")) or 100
        timeout = float(params.get("timeout") or 0)
        deadline = time.monotonic() + timeout
        while True:
            if self._redelivered:
                # After a crash, Telegram sends again what the bot had not confirmed.
                updates, self._redelivered = self._redelivered, []
                return updates
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if self._updates or self._closing or time.monotonic() >= deadline:
                break
            self._new_update.clear()
            try:
                await asyncio.wait_for(self._new_update.wait(), deadline - time.monotonic())
            except TimeoutError:
                break
        return self._updates[:limit]

    async def _api_sendMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        text = self._displayed(params.get("text", ""), params.get("parse_mode"), MAX_TEXT)
        buttons = self._keyboard(params)
        force = json.loads(params.get("reply_markup") or "{}").get("force_reply", False)
        return self._record("sendMessage", chat_id, text, params.get("text", ""), buttons,
                            force_reply=bool(force))

    async def _api_editMessageText(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        message = self._message(chat_id, params)
        text = self._displayed(params.get("text", ""), params.get("parse_mode"), MAX_TEXT)
        buttons = self._keyboard(params)
        if text == message.shown and buttons == message.buttons:
            raise BadRequest("Bad Request: message is not modified: specified new message "
                             "content and reply markup are exactly the same as a current "
                             "content and reply markup of the message")
        return self._record("editMessageText", chat_id, text, params.get("text", ""), buttons,
                            message_id=message.message_id)

    async def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        message = self._message(chat_id, params)
        buttons = self._keyboard(params)
        if buttons == message.buttons:
            raise BadRequest("Bad Request: message is not modified")
        return self._record("editMessageReplyMarkup", chat_id, message.text, message.raw,
                            buttons, message_id=message.message_id)

    async def _api_answerCallbackQuery(self, params: dict[str, Any]) -> bool:
        query_id = params.get("callback_query_id", "")
        if query_id not in self.pending_callbacks:
            raise BadRequest("Bad Request: query is too old and response timeout expired or "
                             "query ID is invalid")
        self.pending_callbacks.discard(query_id)
        self.answered_callbacks[query_id] = params
        return True

    async def _api_sendChatAction(self, params: dict[str, Any]) -> bool:
        chat_id = self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise BadRequest("Bad Request: wrong parameter action in request")
        self.chat_actions.append((chat_id, params["action"]))
        return True

    async def _api_sendPhoto(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_file("sendPhoto", "photo", params)

    async def _api_sendDocument(self, params: dict[str, Any]) -> dict[str, Any]:
        return self._send_file("sendDocument", "document", params)

    def _send_file(self, method: str, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat(params)
        upload = params.get(kind)
        if not isinstance(upload, web.FileField):
            raise BadRequest(f"Bad Request: there is no {kind} in the request")
        content = upload.file.read()
        if not content:
            raise BadRequest("Bad Request: file must be non-empty")
        caption = self._displayed(params.get("caption", ""), params.get("parse_mode"),
                                  MAX_CAPTION, allow_empty=True)
        result = self._record(method, chat_id, caption, params.get("caption", ""),
                              self._keyboard(params), file_name=upload.filename,
                              file_bytes=content)
        return result

    # ------------------------------------------------------------------------------------
    # Validation and records

    def _chat(self, params: dict[str, Any]) -> int:
        chat_id = _int(params.get("chat_id"))
        if chat_id is None:
            raise BadRequest("Bad Request: chat not found")
        return chat_id

    def _message(self, chat_id: int, params: dict[str, Any]) -> Sent:
        message = self.messages[chat_id].get(_int(params.get("message_id")) or 0)
        if message is None:
            raise BadRequest("Bad Request: message to edit not found")
        return message

    @staticmethod
    def _displayed(text: str, parse_mode: str | None, limit: int,
                   allow_empty: bool = False) -> str:
        shown = parse_html(text) if parse_mode == "HTML" else text
        if not shown.strip() and not allow_empty:
            raise BadRequest("Bad Request: message text is empty")
        if utf16_length(shown) > limit:
            raise BadRequest("Bad Request: message is too long" if limit == MAX_TEXT
                             else "Bad Request: message caption is too long")
        return shown

    @staticmethod
    def _keyboard(params: dict[str, Any]) -> list[list[dict[str, Any]]]:
        markup = params.get("reply_markup")
        if not markup:
            return []
        rows = json.loads(markup).get("inline_keyboard", [])
        for row in rows:
            for button in row:
                if not button.get("text"):
                    raise BadRequest("Bad Request: button text is empty")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise BadRequest("Bad Request: BUTTON_DATA_INVALID")
        return rows

    def _record(self, method: str, chat_id: int, text: str, raw: str,
                buttons: list[list[dict[str, Any]]], message_id: int | None = None,
                **extra: Any) -> dict[str, Any]:
        message_id = message_id or next(self._message_ids)
        read = text.replace("\u202f", " ").replace("\u00a0", " ")
        sent = Sent(method, chat_id, message_id, read, raw, buttons, shown=text,
                    at=time.monotonic(), **extra)
        self.messages[chat_id][message_id] = sent
        self.sent.append(sent)
        self.by_chat[chat_id].append(sent)
        self.last_sent_at = sent.at
        self._new_sent.set()
        self._chat_events[chat_id].set()
        return self._message_json(sent)

    def _message_json(self, sent: Sent) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": sent.message_id, "date": int(time.time()),
            "chat": {"id": sent.chat_id, "type": "private" if sent.chat_id > 0 else "group"},
            "from": {"id": BOT_ID, "is_bot": True, "first_name": "Assistant PTCE",
                     "username": BOT_USERNAME},
        }
        if sent.method == "sendPhoto":
            message["photo"] = [{"file_id": f"photo{sent.message_id}",
                                 "file_unique_id": f"p{sent.message_id}", "width": 800,
                                 "height": 800}]
        elif sent.method == "sendDocument":
            message["document"] = {"file_id": f"doc{sent.message_id}",
                                   "file_unique_id": f"d{sent.message_id}",
                                   "file_name": sent.file_name}
        if sent.method in ("sendPhoto", "sendDocument"):
            if sent.text:
                message["caption"] = sent.shown
        else:
            message["text"] = sent.shown
        if sent.buttons:
            message["reply_markup"] = {"inline_keyboard": sent.buttons}
        return message

    # ------------------------------------------------------------------------------------
    # The users' side

    def _push(self, update: dict[str, Any]) -> int:
        update["update_id"] = next(self._update_ids)
        self.history[update["update_id"]] = update
        if self.webhook is not None:
            asyncio.get_running_loop().create_task(self._post_webhook(update))
        else:
            self._updates.append(update)
            self._new_update.set()
        return update["update_id"]

    async def _post_webhook(self, update: dict[str, Any]) -> None:
        """Deliver an update as Telegram does in webhook mode (retried until accepted)."""
        assert self.webhook is not None
        headers = {}
        if self.webhook["secret_token"]:
            headers["X-Telegram-Bot-Api-Secret-Token"] = self.webhook["secret_token"]
        async with ClientSession() as session:
            for _ in range(50):
                try:
                    async with session.post(self.webhook["url"], json=update,
                                            headers=headers) as response:
                        if response.status == 200:
                            return
                except OSError:
                    pass
                await asyncio.sleep(0.1)

    def _user_message(self, user: FakeUser, chat_id: int | None, **content: Any) -> dict:
        chat_id = user.id if chat_id is None else chat_id
        chat = ({"id": chat_id, "type": "private", "first_name": user.first_name}
                if chat_id > 0 else {"id": chat_id, "type": "group", "title": "Équipe projet"})
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": chat, "from": user.as_json(), **content}

    def send_text(self, user: FakeUser, text: str, chat_id: int | None = None,
                  reply_to: Sent | None = None) -> int:
        """The user types ``text`` (a leading ``/command`` is marked as Telegram marks it),
        possibly as a reply to one of the bot's messages."""
        message = self._user_message(user, chat_id, text=text)
        if reply_to is not None:
            message["reply_to_message"] = self._message_json(reply_to)
        entities = []
        command = re.match(r"/[A-Za-z0-9_]+(@\w+)?", text)
        if command:
            entities.append({"type": "bot_command", "offset": 0,
                             "length": utf16_length(command.group())})
        for mention in re.finditer(r"@\w+", text):
            if not command or mention.start() >= command.end():
                entities.append({"type": "mention",
                                 "offset": utf16_length(text[: mention.start()]),
                                 "length": utf16_length(mention.group())})
        if entities:
            message["entities"] = entities
        if not self._delivered_in_privacy_mode(message, text, command is not None):
            return 0
        return self._push({"message": message})

    def _delivered_in_privacy_mode(self, message: dict[str, Any], text: str,
                                   command: bool) -> bool:
        """Telegram's privacy mode (on for bots by default): in a group the bot receives only
        commands, messages naming it and replies to its own messages."""
        if message["chat"]["type"] == "private" or not self.privacy_mode:
            return True
        replied = message.get("reply_to_message", {}).get("from", {}).get("is_bot", False)
        return command or f"@{BOT_USERNAME}" in text or replied

    def send_content(self, user: FakeUser, kind: str, chat_id: int | None = None) -> int:
        """The user sends something that is not text: sticker, photo, voice, location…"""
        samples: dict[str, Any] = {
            "sticker": {"file_id": "stk", "file_unique_id": "stk1", "type": "regular",
                        "width": 512, "height": 512, "is_animated": False, "is_video": False},
            "photo": [{"file_id": "ph", "file_unique_id": "ph1", "width": 90, "height": 90}],
            "voice": {"file_id": "vc", "file_unique_id": "vc1", "duration": 3},
            "location": {"latitude": 44.93, "longitude": 4.89},
            "document": {"file_id": "dc", "file_unique_id": "dc1", "file_name": "projet.pdf"},
            "contact": {"phone_number": "+33612345678", "first_name": user.first_name},
        }
        return self._push({"message": self._user_message(user, chat_id, **{kind: samples[kind]})})

    def press(self, user: FakeUser, label: str, chat_id: int | None = None,
              message: Sent | None = None) -> str:
        """The user presses the button ``label`` of the latest bot message showing it."""
        chat_id = user.id if chat_id is None else chat_id
        candidates = [message] if message else reversed(list(self.messages[chat_id].values()))
        for sent in candidates:
            for row in sent.buttons:
                for button in row:
                    if button["text"] == label:
                        return self.press_data(user, sent, button["callback_data"])
        shown = [b for m in self.messages[chat_id].values() for b in m.labels]
        raise AssertionError(f"no button {label!r} in chat {chat_id}; buttons: {shown}")

    def press_data(self, user: FakeUser, sent: Sent, data: str) -> str:
        """The user presses a button carrying ``data`` on message ``sent``."""
        query_id = str(next(self._callback_ids))
        self.pending_callbacks.add(query_id)
        self._push({"callback_query": {
            "id": query_id, "from": user.as_json(), "chat_instance": str(sent.chat_id),
            "message": self._message_json(sent), "data": data}})
        return query_id

    def redeliver(self, update_id: int) -> None:
        """Send an update again, as Telegram does when the bot died before confirming it."""
        self._redelivered.append(self.history[update_id])
        self._new_update.set()

    def block(self, chat_id: int) -> None:
        """The user of ``chat_id`` blocks the bot: sends to it now answer 403."""
        self.blocked.add(chat_id)

    def fail_next(self, method: str, status: int = 429, description: str | None = None,
                  retry_after: int | None = 1, chat_id: int | None = None) -> None:
        """Make the next ``method`` call (to ``chat_id``, if given) fail like Telegram."""
        if description is None:
            description = (f"Too Many Requests: retry after {retry_after}" if status == 429
                           else "Bad Request")
        self._failures.append(Failure(method, status, description,
                                      retry_after if status == 429 else None, chat_id))

    async def replies(self, chat_id: int, count: int = 1, timeout: float = 10.0,
                      after: int = 0) -> list[Sent]:
        """Wait until the bot has sent or edited ``count`` messages in ``chat_id`` after the
        ``after``-th record of :attr:`sent`; return them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [s for s in self.sent[after:] if s.chat_id == chat_id]
            if len(found) >= count:
                return found
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                texts = [s.text[:80] for s in found]
                raise AssertionError(f"expected {count} replies in chat {chat_id}, got "
                                     f"{len(found)}: {texts}; rejected: {self.rejected[-3:]}")
            self._new_sent.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_sent.wait(), min(remaining, 0.5))

    async def wait_chat(self, chat_id: int, seen: int, timeout: float) -> bool:
        """Wait until the bot has sent or edited more than ``seen`` messages in ``chat_id``
        (``by_chat``); False after ``timeout`` seconds. Cheap with many chats waiting."""
        deadline = time.monotonic() + timeout
        event = self._chat_events[chat_id]
        while len(self.by_chat[chat_id]) <= seen:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            event.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)
        return True

    async def idle(self, quiet: float = 0.3) -> None:
        """Wait until the bot has sent nothing for ``quiet`` seconds."""
        count = -1
        while count != len(self.sent):
            count = len(self.sent)
            await asyncio.sleep(quiet)

    # ------------------------------------------------------------------------------------
    # Control API, for a benchmark driving this server from another process

    async def _control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"]
        body = await request.json() if request.can_read_body else {}
        if action == "send_text":
            for item in body["messages"]:
                self.send_text(FakeUser(item["user"]), item["text"])
            # ``at``: when the updates became available, on this machine's monotonic clock.
            return web.json_response({"ok": True, "at": time.monotonic()})
        if action == "stats":
            return web.json_response(self._stats())
        if action == "wait":
            # Return once the bot has sent ``sent`` messages (or after ``timeout`` seconds),
            # without the caller having to poll.
            target, timeout = int(body["sent"]), float(body.get("timeout", 60))
            deadline = time.monotonic() + timeout
            while len(self.sent) < target and time.monotonic() < deadline:
                self._new_sent.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new_sent.wait(),
                                           max(0.0, deadline - time.monotonic()))
            return web.json_response(self._stats())
        if action == "reset":
            self.sent.clear()
            self.by_chat.clear()
            self.messages.clear()
            self.rejected.clear()
            self.calls.clear()
            return web.json_response({"ok": True})
        return _error(404, "Not Found")

    def _stats(self) -> dict[str, Any]:
        per_chat: dict[int, int] = defaultdict(int)
        for sent in self.sent:
            per_chat[sent.chat_id] += 1
        return {"sent": len(self.sent), "rejected": len(self.rejected), "per_chat": per_chat,
                "pending_updates": len(self._updates), "chat_actions": len(self.chat_actions),
                "last_sent_at": self.last_sent_at}


def _error(status: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=status)


async def _read_params(request: web.Request) -> dict[str, Any]:
    if request.method == "GET":
        return dict(request.query)
    if request.content_type == "application/json":
        return {k: v if isinstance(v, str) else json.dumps(v)
                for k, v in (await request.json()).items()}
    return dict(await request.post())


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Fake Telegram Bot API server")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--latency", type=float, default=0.0,
                        help="milliseconds added to every call but getUpdates")
    args = parser.parse_args()

    async def serve() -> None:
        server = FakeTelegram(latency=args.latency / 1000)
        await server.start(args.port)
        print(f"fake Telegram on {server.base_url}", flush=True)
        await asyncio.Event().wait()

    asyncio.run(serve())
