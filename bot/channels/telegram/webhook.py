"""Telegram's webhook on our own tornado server, so that it can serve ``GET /health`` too.

This follows python-telegram-bot's "custom webhook" pattern: Telegram posts each update to a
secret path with a secret header; the handler checks the header, turns the body into an
:class:`~telegram.Update`, puts it on the application's update queue and answers 200 at once
(the update is handled afterwards, like one fetched by long polling).

Nothing about a request is logged: the path and the header are secrets, and an update holds
personal data.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from http import HTTPStatus
from types import TracebackType
from typing import Any

import tornado.web
from telegram import Bot, Update
from telegram.ext import ExtBot
from tornado.httpserver import HTTPServer

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/health"

HealthProbe = Callable[[], tuple[int, dict[str, Any]]]
"""Returns ``(HTTP status, JSON body)``; runs in a thread (it reads the database)."""


def secret_and_path(token: str) -> tuple[str, str]:
    """The secret header value and the secret path (without its leading slash), both derived
    from the bot token so that they survive restarts without revealing it."""
    secret = hashlib.sha256(token.encode()).hexdigest()[:32]
    return secret, f"telegram-{secret[:16]}"


class _Handler(tornado.web.RequestHandler):
    """Log failures without the request (its path and headers are secrets)."""

    def log_exception(self, typ: type[BaseException] | None, value: BaseException | None,
                      tb: TracebackType | None) -> None:
        if isinstance(value, tornado.web.HTTPError):
            return
        logger.error("Erreur du serveur webhook : %s", typ.__name__ if typ else "?",
                     exc_info=(typ, value, tb) if typ and value else None)


class UpdateHandler(_Handler):
    """``POST /<secret path>``: an update from Telegram."""

    SUPPORTED_METHODS = ("POST",)  # type: ignore[assignment]

    def initialize(self, bot: Bot, queue: asyncio.Queue[object], secret: str) -> None:
        """Tornado's per-request set-up: what the handler shares with the application."""
        self.bot, self.queue, self.secret = bot, queue, secret

    async def post(self) -> None:
        """Check the secret header, queue the update, answer 200 (403, 400 otherwise)."""
        given = self.request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), self.secret.encode()):
            self.set_status(HTTPStatus.FORBIDDEN)
            return
        try:
            update = Update.de_json(json.loads(self.request.body), self.bot)
        except Exception as exc:  # whatever was posted, the server goes on
            logger.warning("Mise à jour illisible reçue sur le webhook : %s",
                           type(exc).__name__)
            self.set_status(HTTPStatus.BAD_REQUEST)
            return
        if isinstance(self.bot, ExtBot):
            self.bot.insert_callback_data(update)
        await self.queue.put(update)
        self.set_status(HTTPStatus.OK)


class HealthHandler(_Handler):
    """``GET /health``: JSON, 200 when the bot can read its database, 503 otherwise."""

    SUPPORTED_METHODS = ("GET",)  # type: ignore[assignment]

    def initialize(self, probe: HealthProbe) -> None:
        """Tornado's per-request set-up."""
        self.probe = probe

    def compute_etag(self) -> None:
        """No ETag: a probe wants the state of now, never "304 Not Modified"."""
        return None

    async def get(self) -> None:
        """Run the probe off the event loop and send its report."""
        status, body = await asyncio.to_thread(self.probe)
        self.set_status(status)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")
        self.finish(json.dumps(body, ensure_ascii=False))


class WebhookServer:
    """The HTTP server: the secret update path and ``/health``, on ``listen:port``."""

    def __init__(self, bot: Bot, queue: asyncio.Queue[object], secret: str, path: str,
                 probe: HealthProbe, *, listen: str, port: int) -> None:
        routes: list[Any] = [
            (rf"/{path}/?", UpdateHandler, {"bot": bot, "queue": queue, "secret": secret}),
            (HEALTH_PATH, HealthHandler, {"probe": probe}),
        ]
        # No access log: it would print the secret path of every update.
        application = tornado.web.Application(routes, log_function=lambda handler: None)
        self._server = HTTPServer(application)
        self.listen, self.port = listen, port

    def start(self) -> None:
        """Listen (on the running event loop)."""
        self._server.listen(self.port, address=self.listen)

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        self._server.stop()
        await self._server.close_all_connections()
