"""The content as the assistant uses it: immutable objects built from ``knowledge/`` and
``dialogs/`` by :mod:`bot.content.load`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from bot.core.text import french_date

if TYPE_CHECKING:
    from bot.answers.places import Places
    from bot.answers.steering import Steering
    from bot.content.directory import Directory
    from bot.content.territory import Territories
    from bot.qualification.dialog import Dialog

TELEGRAM_MESSAGE_LIMIT = 4096
# The commands of the menu Telegram shows when the user types "/", in its order; each has its
# description in knowledge/messages.yaml as ``menu_<command>``.
MENU_COMMANDS = ("start", "aide", "themes", "glossaire", "diagnostic", "reprendre", "conseiller",
                 "mes_donnees", "oublier", "annuler")
MAX_MENU_DESCRIPTION = 256  # Telegram's limit

# Wording the core and the channels need; each must exist in knowledge/messages.yaml.
REQUIRED_MESSAGES = {
    **{f"menu_{command}": set() for command in MENU_COMMANDS},
    "console_intro": set(),
    "console_goodbye": set(),
    "hello": set(),
    "hello_name": {"name"},
    "welcome": set(),
    "help": set(),
    "fallback": set(),
    "suggestions": set(),
    "local_title": {"region"},
    "local_intro": {"place"},
    "local_here": {"place"},
    "local_region": {"in_region"},
    "local_region_only": {"in_region"},
    "local_more": {"count"},
    "local_dated": set(),
    "local_none": {"region"},
    "local_contact": {"coordination", "role"},
    "btn_local_contact": {"coordination"},
    "too_long": {"limit"},
    "empty": set(),
    "themes": set(),
    "theme": {"theme"},
    "glossary": set(),
    "unknown_button": set(),
    "unknown_command": {"command"},
    "cancelled": set(),
    "source_prefix": set(),
    "ask": set(),
    "non_text": set(),
    "feedback_thanks": set(),
    "feedback_sorry": set(),
    "feedback_noted": set(),
    "feedback_why": set(),
    "btn_why_wrong": set(),
    "btn_why_incomplete": set(),
    "btn_why_unclear": set(),
    "error": set(),
    "glossary_hint": set(),
    "btn_ask": set(),
    "btn_diagnostic": set(),
    "btn_coordination": set(),
    "btn_themes": set(),
    "btn_glossary": set(),
    "btn_examples": set(),
    "btn_back_to_themes": set(),
    "btn_none_of_these": set(),
    "btn_useful": set(),
    "btn_read_more": set(),
    "btn_not_useful": set(),
}


@dataclass(frozen=True)
class Source:
    """Where an answer comes from: a seed document or a dated public fact."""

    ref: str
    title: str
    section: str
    date: str | None = None
    url: str | None = None

    def label(self) -> str:
        """A one-line French citation, e.g. ``economie.gouv.fr (mai 2023)``."""
        if self.url:
            host = urlparse(self.url).netloc.removeprefix("www.")
            where = f"{host}, {self.section}" if self.section else host
        else:
            where = f"{self.title}, {self.section}" if self.section else self.title
        if not self.date or french_date(self.date) in where:  # a section that says its date
            return where
        return f"{where} ({french_date(self.date)})"


@dataclass(frozen=True)
class Entry:
    """One question-and-answer of the knowledge base."""

    id: str
    theme: str
    title: str
    questions: tuple[str, ...]
    answer: str
    sources: tuple[Source, ...]
    related: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()

    def source_line(self) -> str:
        """All sources on one line, separated by `` ; ``."""
        return " ; ".join(s.label() for s in self.sources)


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    entry_ids: tuple[str, ...]


@dataclass(frozen=True)
class GlossaryTerm:
    term: str
    definition: str
    full: str = ""
    aliases: tuple[str, ...] = ()
    entry: str | None = None  # answered by this entry rather than by the glossary


@dataclass(frozen=True)
class Intent:
    """A small-talk intent, or an out-of-scope subject we decline with a tailored reply."""

    id: str
    patterns: tuple[str, ...]
    replies: tuple[str, ...]
    keywords: tuple[str, ...] = ()  # single words recognised anywhere in a short message


@dataclass(frozen=True)
class Content:
    """Everything loaded from ``knowledge/``."""

    root: Path
    entries: dict[str, Entry]
    themes: tuple[Theme, ...]
    glossary: tuple[GlossaryTerm, ...]
    smalltalk: tuple[Intent, ...]
    out_of_scope: tuple[Intent, ...]
    messages: dict[str, str]
    sms: dict[str, str] = field(default_factory=dict)
    synonyms: dict[str, tuple[str, ...]] = field(default_factory=dict)
    dialog: Dialog | None = None  # the qualification questionnaire (dialogs/)
    territories: Territories | None = None  # departments and regions
    directory: Directory | None = None  # regional coordinations (knowledge/coordinations.yaml)
    places: Places | None = None  # cities and the poles the sources name (knowledge/poles.yaml)
    steering: Steering | None = None  # personas and project descriptions (personas.yaml)

    def message(self, key: str, **values: Any) -> str:
        """The wording ``key`` of messages.yaml with its placeholders filled."""
        return self.messages[key].format(**values)

    def theme(self, theme_id: str) -> Theme | None:
        return next((t for t in self.themes if t.id == theme_id), None)
