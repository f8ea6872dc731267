"""The Telegram bot as a long-running service: start, serve, reload, stop.

:func:`serve` runs the PTB application the way ``Application.run_polling`` does (initialize,
``post_init``, start, …, stop, ``post_stop``, shutdown, ``post_shutdown``), but on our own
event loop, so that it can also:

- serve the webhook on our own HTTP server, next to ``GET /health``
  (:mod:`bot.channels.telegram.webhook`);
- reload the YAML content and the deployment configuration on SIGHUP (systemd's
  ``ExecReload=/bin/kill -HUP $MAINPID``) without dropping a message: the new content is read
  and validated off the event loop, then swapped in under the core lock; invalid content is
  logged with its ``file:line`` problems and the bot keeps the content it has.

SIGINT and SIGTERM stop it gracefully.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application

from bot.channels.telegram.adapter import TelegramChannel
from bot.channels.telegram.settings import Settings
from bot.channels.telegram.webhook import WebhookServer, secret_and_path
from bot.content import load as content_module
from bot.core.conversation import Conversation
from bot.ops import config as config_module
from bot.ops import health
from bot.ops.logs import TokenScrubber

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts updates (``url``, public) and where we listen for them."""

    url: str
    listen: str = "0.0.0.0"
    port: int = 8443


async def reload_content(channel: TelegramChannel) -> bool:
    """Re-read content and configuration and swap them in; False (and the old content kept)
    when they are invalid or cannot be read."""
    logger.info("Rechargement du contenu demandé.")
    try:
        content, config = await asyncio.to_thread(config_module.load_all)
    except (content_module.ContentError, config_module.ConfigError) as exc:
        logger.error("Contenu ou configuration invalide : rechargement refusé, le contenu "
                     "précédent reste en service.\n%s", exc)
        return False
    except Exception as exc:  # a missing file, a permission…: never take the bot down
        logger.error("Rechargement impossible, le contenu précédent reste en service : %s",
                     exc, exc_info=exc)
        return False
    try:
        await channel.reload(content, config)
    except Exception as exc:
        logger.error("Rechargement impossible, le contenu précédent reste en service : %s",
                     type(exc).__name__, exc_info=exc)
        return False
    logger.info("Contenu rechargé : %d entrées.", len(content.entries))
    return True


class _Reloads:
    """SIGHUP handler: one reload at a time, in the order asked."""

    def __init__(self, channel: TelegramChannel) -> None:
        self.channel = channel
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[Any]] = set()

    def request(self) -> None:
        task = asyncio.get_running_loop().create_task(self._reload())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reload(self) -> None:
        async with self._lock:
            await reload_content(self.channel)

    async def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


async def serve(channel: TelegramChannel, application: Application, token: str,
                webhook: Webhook | None = None) -> None:
    """Run ``application`` until SIGINT or SIGTERM: long polling, or ``webhook``. SIGHUP
    reloads the content. Errors while starting (token refused, Telegram unreachable)
    propagate, after everything started has been stopped."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    reloads = _Reloads(channel)
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    loop.add_signal_handler(signal.SIGHUP, reloads.request)
    server: WebhookServer | None = None
    try:
        await application.initialize()
        if application.post_init:
            await application.post_init(application)
        if webhook is None:
            await _start_polling(application)
            logger.info("Assistant démarré sur Telegram (long polling).")
        else:
            server = await _start_webhook(channel, application, token, webhook)
            logger.info("Assistant démarré sur Telegram (webhook, port %s).", webhook.port)
        await application.start()
        await stop.wait()
        logger.info("Arrêt demandé : fin des traitements en cours.")
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        await reloads.cancel()
        if server is not None:
            await server.stop()
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
            if application.post_stop:
                await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown:
            await application.post_shutdown(application)
    logger.info("Assistant arrêté.")


async def _start_polling(application: Application) -> None:
    assert application.updater is not None

    def on_error(exc: TelegramError) -> None:
        # As run_polling does: a failed getUpdates goes to the error handler, polling goes on.
        application.create_task(application.process_error(update=None, error=exc))

    await application.updater.start_polling(allowed_updates=Update.ALL_TYPES,
                                            error_callback=on_error)


async def _start_webhook(channel: TelegramChannel, application: Application, token: str,
                         webhook: Webhook) -> WebhookServer:
    """Listen first, then tell Telegram where to post, with the secret it must send back."""
    secret, path = secret_and_path(token)
    database = channel.conversation.store.path

    def probe() -> tuple[int, dict[str, Any]]:
        return health.report(database, entries=len(channel.conversation.content.entries))

    server = WebhookServer(application.bot, application.update_queue, secret, path, probe,
                           listen=webhook.listen, port=webhook.port)
    server.start()
    try:
        await application.bot.set_webhook(f"{webhook.url.rstrip('/')}/{path}",
                                          secret_token=secret,
                                          allowed_updates=Update.ALL_TYPES)
    except BaseException:
        await server.stop()
        raise
    return server


def run(conversation: Conversation, settings: Settings, *, webhook_url: str | None = None,
        port: int = 8443, listen: str = "0.0.0.0") -> int:
    """Run the bot until SIGINT/SIGTERM: long polling, or a webhook when ``webhook_url`` is
    given (Telegram then posts updates to ``webhook_url``, served on ``listen:port`` with
    ``GET /health``). SIGHUP reloads the content. Returns the exit status: 2 when Telegram
    refuses the token (restarting cannot help: systemd's ``RestartPreventExitStatus=2``),
    1 when the bot could not start otherwise (Telegram unreachable…); never logs the
    token."""
    TokenScrubber(settings.token).install()
    channel = TelegramChannel(conversation, settings)
    try:
        application = channel.build()
    except OSError as exc:  # the TLS context: certificates named by SSL_CERT_FILE/DIR
        logger.critical("Certificats TLS illisibles (%s) : vérifiez SSL_CERT_FILE et "
                        "SSL_CERT_DIR.", type(exc).__name__)
        return 1
    webhook = None if webhook_url is None else Webhook(webhook_url, listen, port)
    try:
        asyncio.run(serve(channel, application, settings.token, webhook))
    except InvalidToken:
        logger.critical("Telegram refuse le jeton TELEGRAM_BOT_TOKEN : vérifiez-le auprès de "
                        "@BotFather (le bot ne redémarrera pas seul).")
        return 2
    except Exception as exc:
        logger.critical("Arrêt sur erreur : %s", type(exc).__name__, exc_info=exc)
        return 1
    return 0
