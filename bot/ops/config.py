"""The deployment configuration: where leads go, who administers the bot, how long data lives.

It is a YAML file named by the ``PTCE_CONFIG`` environment variable, kept out of the
repository (it holds chat ids and e-mail addresses); ``config.example.yaml`` documents it.
Without it, :meth:`Config.empty` applies: no channel, an empty fallback, so leads stay in the
database where the command line lists them.

Channels are looked up for a coordination by its id, then by its region's id, then the
national fallback is used (:meth:`Config.channels_for`). :func:`check_config` reports every
problem as ``file:line: message``; :func:`load_config` raises :class:`ConfigError`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.content.checker import Checker, Problem
from bot.content.directory import Coordination, Directory, is_web_address
from bot.content.load import load as load_content
from bot.content.model import Content
from bot.content.yamlfile import LineDict, LineList
from bot.core.text import valid_email

CONFIG_VARIABLE = "PTCE_CONFIG"
DEFAULT_RETENTION_DAYS = 365
DEFAULT_REMINDER_HOURS = 72.0
DEFAULT_FALLBACK_REMINDER_HOURS = 144.0
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_SMTP_PORT = 587
DEFAULT_INVITE_DAYS = 14
DEFAULT_FALLBACK_NAME = "l'équipe nationale de l'assistant PTCE"

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOP_KEYS = {"coordinations", "fallback", "fallback_name", "admins", "smtp", "retention_days",
             "reminder_hours", "fallback_reminder_hours", "max_attempts", "invite_days",
             "controller"}
_CHANNEL_KEYS = {"telegram_chat_ids", "emails", "webhook"}
_SMTP_KEYS = {"host", "port", "from", "user", "password_env", "starttls"}


@dataclass(frozen=True)
class Channels:
    """Where a lead is sent: Telegram chats, e-mail addresses, a webhook."""

    telegram_chat_ids: tuple[int, ...] = ()
    emails: tuple[str, ...] = ()
    webhook: str | None = None

    @property
    def empty(self) -> bool:
        """True when there is nowhere to send anything."""
        return not (self.telegram_chat_ids or self.emails or self.webhook)

    def describe(self) -> str:
        """A short French summary, e.g. ``1 discussion Telegram, 2 adresses e-mail``."""
        parts = []
        if self.telegram_chat_ids:
            n = len(self.telegram_chat_ids)
            parts.append(f"{n} discussion{'s' if n > 1 else ''} Telegram")
        if self.emails:
            n = len(self.emails)
            parts.append(f"{n} adresse{'s' if n > 1 else ''} e-mail")
        if self.webhook:
            parts.append("1 webhook")
        return ", ".join(parts) or "aucun canal"


@dataclass(frozen=True)
class SmtpConfig:
    """The mail server; the password is read from an environment variable, never stored."""

    host: str
    port: int = DEFAULT_SMTP_PORT
    sender: str = ""
    user: str | None = None
    password_env: str | None = None  # the *name* of the variable holding the password
    starttls: bool = True

    def password(self) -> str | None:
        """The password, read now from ``password_env``; None when unset."""
        if not self.password_env:
            return None
        return os.environ.get(self.password_env) or None


@dataclass(frozen=True)
class Config:
    """The deployment configuration (see ``config.example.yaml``)."""

    coordinations: dict[str, Channels] = field(default_factory=dict)  # coordination or region id
    fallback: Channels = Channels()
    admins: frozenset[int] = frozenset()
    smtp: SmtpConfig | None = None
    retention_days: int = DEFAULT_RETENTION_DAYS
    reminder_hours: float = DEFAULT_REMINDER_HOURS
    fallback_reminder_hours: float = DEFAULT_FALLBACK_REMINDER_HOURS
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    invite_days: int = DEFAULT_INVITE_DAYS  # an invitation code expires after this
    fallback_name: str = DEFAULT_FALLBACK_NAME  # who receives the fallback's leads, as said
    controller: str = ""  # the data controller (RGPD art. 13): name and contact

    @classmethod
    def empty(cls) -> Config:
        """No file: no channel, an empty fallback (leads stay in the database), defaults."""
        return cls()

    def channels_for(self, coordination: Coordination) -> tuple[Channels, bool]:
        """The channels of ``coordination``, else of its region, else ``(fallback, True)``.

        The boolean is True when the lead went to the national fallback.
        """
        for key in (coordination.id, coordination.region_id):
            channels = self.coordinations.get(key)
            if channels is not None and not channels.empty:
                return channels, False
        return self.fallback, True

    def is_admin(self, user_id: int | str) -> bool:
        """True when the Telegram user ``user_id`` may use the admin commands."""
        try:
            return int(user_id) in self.admins
        except (TypeError, ValueError):
            return False


class ConfigError(Exception):
    """The configuration has problems; ``problems`` lists them as ``file:line: message``."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


# --------------------------------------------------------------------------------------------
# Finding and loading the file


def config_path() -> Path | None:
    """The file named by ``PTCE_CONFIG``, or None when the variable is unset or empty."""
    value = os.environ.get(CONFIG_VARIABLE, "").strip()
    return Path(value) if value else None


def load_config(path: Path, directory: Directory | None) -> Config:
    """Read and validate ``path``; raise :class:`ConfigError` listing every problem.

    Keys of ``coordinations`` are checked against ``directory`` when it is given.
    """
    c = Checker()
    config = _read_config(c, path, directory)
    if c.problems or config is None:
        raise ConfigError(c.problems)
    return config


def check_config(path: Path, directory: Directory | None) -> list[Problem]:
    """Every problem of the configuration ``path``, as ``file:line: message``; [] if valid."""
    try:
        load_config(path, directory)
    except ConfigError as exc:
        return exc.problems
    return []


def load_from_env(directory: Directory | None) -> Config:
    """The configuration named by ``PTCE_CONFIG``, or :meth:`Config.empty` without it."""
    path = config_path()
    return load_config(path, directory) if path else Config.empty()


def load_all() -> tuple[Content, Config]:
    """The content (``PTCE_CONTENT_DIR`` or the shipped copy) and the deployment configuration
    (``PTCE_CONFIG``), both validated; raises ``ContentError`` or :class:`ConfigError`."""
    content = load_content()
    return content, load_from_env(content.directory)


def summary(config: Config, directory: Directory | None) -> str:
    """« N coordinations avec canal, repli : … », for ``ptce-bot check``."""
    if directory is not None:
        served = sum(1 for x in directory.all if not config.channels_for(x)[1])
    else:
        served = sum(1 for channels in config.coordinations.values() if not channels.empty)
    fallback = (config.fallback.describe() if not config.fallback.empty
                else "aucun (les demandes restent dans la base de données)")
    return f"{served} coordination{'s' if served > 1 else ''} avec canal, repli : {fallback}"


# --------------------------------------------------------------------------------------------
# Validation


def _read_config(c: Checker, path: Path, directory: Directory | None) -> Config | None:
    c.path = path
    if not path.is_file():
        c.error(1, f"fichier de configuration introuvable ({CONFIG_VARIABLE}={path})")
        return None
    data = c.read(path)
    if data is None:
        return None if c.unreadable else Config.empty()  # an empty file: the defaults
    top = c.mapping(data, 1, path.name)
    if top is None:
        return None
    c.known_keys(top, _TOP_KEYS, path.name)
    coordinations = _read_coordinations(c, top, directory)
    fallback = Channels()
    if top.get("fallback") is not None:
        fallback = _read_channels(c, top["fallback"], top.line_of("fallback"), "fallback")
    admins = frozenset(_integers(c, top, "admins", "admins", positive=True))
    smtp = _read_smtp(c, top)
    if smtp is None and any(ch.emails for ch in (fallback, *coordinations.values())):
        c.error(top.line_of("smtp") if "smtp" in top else top.line,
                "des adresses e-mail sont configurées : la section « smtp » (serveur d'envoi) "
                "est alors obligatoire")
    retention = _number(c, top, "retention_days", DEFAULT_RETENTION_DAYS, integer=True)
    reminder = _number(c, top, "reminder_hours", DEFAULT_REMINDER_HOURS)
    escalation = _number(c, top, "fallback_reminder_hours", DEFAULT_FALLBACK_REMINDER_HOURS)
    if escalation <= reminder and "fallback_reminder_hours" in top:
        c.error(top.line_of("fallback_reminder_hours"),
                f"« fallback_reminder_hours » ({escalation:g}) doit dépasser "
                f"« reminder_hours » ({reminder:g}) : la relance précède le passage au repli")
    attempts = _number(c, top, "max_attempts", DEFAULT_MAX_ATTEMPTS, integer=True)
    invite_days = _number(c, top, "invite_days", DEFAULT_INVITE_DAYS, integer=True)
    fallback_name = c.text(top, "fallback_name", path.name, required=False, max_len=120) \
        or DEFAULT_FALLBACK_NAME
    controller = ""
    if top.get("controller") is not None:
        spec = c.mapping(top["controller"], top.line_of("controller"), "controller")
        if spec is not None:
            c.known_keys(spec, {"name", "contact"}, "controller")
            name = c.text(spec, "name", "controller", max_len=120)
            contact = c.text(spec, "contact", "controller", max_len=200)
            controller = f"{name} ({contact})" if name and contact else name
    return Config(coordinations, fallback, admins, smtp, int(retention), float(reminder),
                  float(escalation), int(attempts), int(invite_days), fallback_name,
                  controller)


def _read_coordinations(c: Checker, top: LineDict,
                        directory: Directory | None) -> dict[str, Channels]:
    if "coordinations" not in top or top["coordinations"] is None:
        return {}
    raw = c.mapping(top["coordinations"], top.line_of("coordinations"), "coordinations")
    if raw is None:
        return {}
    regions = {x.region_id for x in directory.all} if directory is not None else set()
    out: dict[str, Channels] = {}
    for key, value in raw.items():
        key_text = str(key)
        line = raw.line_of(key)
        if directory is not None and directory.get(key_text) is None \
                and key_text not in regions:
            c.error(line, f"coordinations : « {key_text} » n'est ni l'identifiant d'une "
                          "coordination de knowledge/coordinations.yaml ni celui d'une région "
                          "(ex. cress-bretagne ou bretagne)")
        channels = _read_channels(c, value, line, f"coordination « {key_text} »")
        if isinstance(value, LineDict) and not any(value.get(k) for k in _CHANNEL_KEYS):
            c.error(line, f"coordination « {key_text} » : aucun canal (telegram_chat_ids, "
                          "emails ou webhook) ; retirez l'entrée pour utiliser le repli")
        out[key_text] = channels
    return out


def _read_channels(c: Checker, value: Any, line: int, what: str) -> Channels:
    raw = c.mapping(value, line, what)
    if raw is None:
        return Channels()
    c.known_keys(raw, _CHANNEL_KEYS, what)
    chat_ids = _integers(c, raw, "telegram_chat_ids", what)
    emails = []
    for item_line, item in _list(c, raw, "emails", what):
        if isinstance(item, str) and valid_email(item):
            emails.append(item.strip())
        else:
            c.error(item_line, f"{what} : adresse e-mail « {item} » mal formée "
                               "(ex. ptce@exemple.org)")
    webhook = c.text(raw, "webhook", what, required=False) or None
    if webhook and not is_web_address(webhook):
        c.error(raw.line_of("webhook"), f"{what} : webhook « {webhook} » invalide (adresse "
                                        "http:// ou https:// complète attendue)")
    return Channels(tuple(chat_ids), tuple(emails), webhook)


def _read_smtp(c: Checker, top: LineDict) -> SmtpConfig | None:
    if "smtp" not in top:
        return None
    raw = c.mapping(top["smtp"], top.line_of("smtp"), "smtp")
    if raw is None:
        return None
    if "password" in raw:
        c.error(raw.line_of("password"), "smtp : mot de passe en clair refusé ; mettez-le dans "
                                         "une variable d'environnement et indiquez son nom "
                                         "avec « password_env » (ex. password_env: "
                                         "PTCE_SMTP_PASSWORD)")
    for key in raw:
        if key != "password" and key not in _SMTP_KEYS:
            c.error(raw.line_of(key), f"smtp : clé inconnue « {key} » (clés possibles : "
                                      f"{', '.join(sorted(_SMTP_KEYS))})")
    host = c.text(raw, "host", "smtp")
    port = int(_number(c, raw, "port", DEFAULT_SMTP_PORT, integer=True, what="smtp"))
    if port > 65535:
        c.error(raw.line_of("port"), f"smtp : port {port} invalide (1 à 65535)")
    sender = c.text(raw, "from", "smtp")
    if sender and not valid_email(sender):
        c.error(raw.line_of("from"), f"smtp : adresse d'expéditeur « {sender} » mal formée "
                                     "(ex. assistant-ptce@exemple.org)")
    user = c.text(raw, "user", "smtp", required=False) or None
    password_env = c.text(raw, "password_env", "smtp", required=False) or None
    if password_env and not _ENV_NAME.match(password_env):
        c.error(raw.line_of("password_env"), f"smtp : « {password_env} » n'est pas un nom de "
                                             "variable d'environnement (ex. PTCE_SMTP_PASSWORD)")
    starttls = raw.get("starttls", True)
    if not isinstance(starttls, bool):
        c.error(raw.line_of("starttls"), "smtp : « starttls » vaut true ou false")
        starttls = True
    return SmtpConfig(host, port, sender, user, password_env, starttls)


def _list(c: Checker, raw: LineDict, key: str, what: str) -> list[tuple[int, Any]]:
    if key not in raw or raw[key] is None:
        return []
    if not isinstance(raw[key], LineList):
        c.error(raw.line_of(key), f"{what} : « {key} » doit être une liste, ex. {key}: [...]")
        return []
    return list(c.items(raw, key, what))


def _integers(c: Checker, raw: LineDict, key: str, what: str, *,
              positive: bool = False) -> list[int]:
    out = []
    for line, item in _list(c, raw, key, what):
        if isinstance(item, bool) or not isinstance(item, int):
            example = "123456789" if positive else "123456789, ou -1001234567890 pour un groupe"
            c.error(line, f"{what} : « {item} » dans « {key} » doit être un nombre entier, sans "
                          f"guillemets (ex. {example})")
        elif item == 0 or (positive and item < 0):
            c.error(line, f"{what} : « {item} » dans « {key} » n'est pas un identifiant "
                          "Telegram valide")
        else:
            out.append(item)
    return out


def _number(c: Checker, raw: LineDict, key: str, default: float, *, integer: bool = False,
            what: str = "configuration") -> float:
    if key not in raw:
        return default
    value = raw[key]
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or value <= 0:
        expected = "un nombre entier positif" if integer else "un nombre positif"
        c.error(raw.line_of(key), f"{what} : « {key} » doit être {expected} (lu : {value!r})")
        return default
    return value
