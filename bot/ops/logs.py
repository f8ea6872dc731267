"""Logging of the long-running bot: plain text for a terminal, or one JSON object per line for
a log collector (journald, Loki, Elasticsearch…).

The choice comes from ``--log-format`` or the ``PTCE_LOG_FORMAT`` environment variable. Either
way records go to standard error, Python warnings included, and an uncaught exception is logged
rather than printed, so that it goes through the same formatting and the same token scrubbing
(:class:`TokenScrubber`, below).

Why not python-json-logger: it is well kept, but we need five fields, about fifteen lines; and
its formatter rebuilds the traceback from ``record.exc_info`` instead of using
``record.exc_text``, which is where :class:`TokenScrubber` leaves the
traceback with the token removed: it would print the bot token of an ``InvalidToken`` error.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

FORMAT_VARIABLE = "PTCE_LOG_FORMAT"
TEXT, JSON = "text", "json"
FORMATS = (TEXT, JSON)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per record: ``time`` (ISO 8601, UTC), ``level``, ``logger``,
    ``message``, and ``exception`` when the record carries one."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a single line of JSON (newlines inside values are escaped)."""
        payload = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:  # already scrubbed of the token, when the scrubber is installed
            payload["exception"] = record.exc_text
        if record.stack_info:
            payload["stack"] = self.formatStack(record.stack_info)
        return json.dumps(payload, ensure_ascii=False)


def log_format(option: str | None, environ: Mapping[str, str] | None = None) -> str:
    """The format asked for: the command-line ``option``, else ``PTCE_LOG_FORMAT``, else text.

    Raises ``ValueError`` (French message) for an unknown format.
    """
    env = os.environ if environ is None else environ
    value = (option or env.get(FORMAT_VARIABLE, "").strip() or TEXT).lower()
    if value not in FORMATS:
        raise ValueError(f"{FORMAT_VARIABLE} : format de journal inconnu « {value} » "
                         f"(possibles : {', '.join(FORMATS)})")
    return value


def setup(fmt: str = TEXT, level: int = logging.INFO) -> None:
    """Send every log record to standard error in ``fmt`` (``text`` or ``json``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == JSON else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)  # warnings become records, in the same format
    sys.excepthook = _log_uncaught


def _log_uncaught(kind: type[BaseException], error: BaseException,
                  traceback: TracebackType | None) -> None:
    if issubclass(kind, KeyboardInterrupt):
        sys.__excepthook__(kind, error, traceback)
        return
    logging.getLogger("bot").critical("Erreur non rattrapée : %s", kind.__name__,
                                      exc_info=(kind, error, traceback))


class TokenScrubber:
    """A log record factory that removes the bot token from every message and traceback.

    httpx logs each request URL — which contains the token — at INFO: its logger is also
    raised to WARNING, but a token must not leak through any other path either."""

    def __init__(self, token: str) -> None:
        self.token = token
        self._factory = logging.getLogRecordFactory()
        self._formatter = logging.Formatter()

    def install(self) -> None:
        logging.setLogRecordFactory(self)
        logging.getLogger("httpx").setLevel(logging.WARNING)

    def uninstall(self) -> None:
        logging.setLogRecordFactory(self._factory)

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self._factory(*args, **kwargs)
        if not self.token:
            return record
        message = record.getMessage()
        if self.token in message:
            record.msg, record.args = message.replace(self.token, "[jeton]"), None
        if record.exc_info:
            text = self._formatter.formatException(record.exc_info)
            record.exc_text = text.replace(self.token, "[jeton]")
        return record
