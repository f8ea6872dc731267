"""How the bot reaches Telegram, read from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

TOKEN_VARIABLE = "TELEGRAM_BOT_TOKEN"
API_VARIABLE = "TELEGRAM_API_BASE_URL"
RATE_VARIABLE = "PTCE_TELEGRAM_RATE"
OUTBOX_VARIABLE = "PTCE_OUTBOX_INTERVAL"


@dataclass(frozen=True)
class Settings:
    """How to reach Telegram. ``api_root`` is a self-hosted Bot API server, if any."""

    token: str
    api_root: str | None = None
    rate: float = 30.0  # messages per second over all chats; 0 disables throttling
    max_retries: int = 3  # retries of a call answered 429 (flood control)
    outbox_interval: float = 10.0  # seconds between two rounds of lead deliveries

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Settings from ``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_API_BASE_URL`` and
        ``PTCE_TELEGRAM_RATE``."""
        env = os.environ if environ is None else environ
        return cls(token=env.get(TOKEN_VARIABLE, "").strip(),
                   api_root=env.get(API_VARIABLE, "").strip() or None,
                   rate=_positive(env, RATE_VARIABLE, 30.0, zero=True),
                   outbox_interval=_positive(env, OUTBOX_VARIABLE, 10.0))

    @property
    def base_url(self) -> str | None:
        root = self._root()
        return f"{root}/bot" if root else None

    @property
    def base_file_url(self) -> str | None:
        root = self._root()
        return f"{root}/file/bot" if root else None

    def _root(self) -> str | None:
        if not self.api_root:
            return None
        root = self.api_root.rstrip("/")
        return root[: -len("/bot")] if root.endswith("/bot") else root


class SettingError(ValueError):
    """An environment variable holds a value the bot cannot use (the message says which)."""


def _positive(env: Any, name: str, default: float, *, zero: bool = False) -> float:
    """A number from the environment; :class:`SettingError` with a French message if it is
    not one."""
    text = env.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text.replace(",", "."))
    except ValueError:
        value = -1.0
    if value < 0 or (value == 0 and not zero) or value != value:
        raise SettingError(f"{name}={text!r} : un nombre positif est attendu"
                           + (" (0 pour désactiver)" if zero else "") + ".")
    return value
