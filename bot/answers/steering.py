"""Who is asking, and whether they describe their own project (``knowledge/personas.yaml``).

"Je suis maire d'une commune de 3000 habitants… est-ce qu'on peut monter un PTCE ?": the mayor
should get the entry written for local authorities, not the general definition; a founder who
describes their project ("on a deux assos d'insertion et une ressourcerie…") should be offered
the questionnaire. :meth:`Steering.read` finds both; the retriever prefers the persona's entries
among its close candidates (it never picks one the question is far from), and the conversation
offers the questionnaire beside the answer to a project's description.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.content.checker import Checker
from bot.content.model import Entry
from bot.core.text import fold


@dataclass(frozen=True)
class Persona:
    id: str
    words: tuple[str, ...]  # folded
    entries: tuple[str, ...]


@dataclass(frozen=True)
class Reading:
    """What a message says of its author."""

    preferred: tuple[str, ...] = ()  # entries written for them
    describes_project: bool = False  # then the questionnaire is offered
    project_entry: str | None = None  # settles a hesitation about a described project


class Steering:
    """Recognises personas and project descriptions in messages."""

    def __init__(self, personas: tuple[Persona, ...], project_words: tuple[str, ...],
                 project_entry: str | None = None) -> None:
        self.personas = personas
        self._project_words = tuple(fold(w) for w in project_words if fold(w))
        self.project_entry = project_entry

    def read(self, text: str, about_ptce: bool) -> Reading:
        """The entries to prefer for ``text``; ``about_ptce``: the message speaks of PTCE (a
        project description only counts then)."""
        folded = f" {fold(text)} "
        preferred: list[str] = []
        project = about_ptce and any(f" {w} " in folded for w in self._project_words)
        for persona in self.personas:
            if any(f" {w} " in folded for w in persona.words):
                preferred += [e for e in persona.entries if e not in preferred]
        return Reading(tuple(preferred), project, self.project_entry if project else None)


def read_steering(c: Checker, path: Path, entries: dict[str, Entry]) -> Steering | None:
    """``knowledge/personas.yaml``, checked (unknown entry, empty list → the file's line)."""
    if not path.exists():
        return None
    data = c.mapping(c.read(path), 1, "personas.yaml")
    if data is None:
        return None
    c.known_keys(data, {"personas", "project"}, "personas.yaml")
    personas = []
    for raw, what in c.records(data, "personas", "profil"):
        c.known_keys(raw, {"id", "words", "entries"}, what)
        persona_words = c.texts(raw, "words", what, minimum=1)
        ids = c.texts(raw, "entries", what, minimum=1)
        for entry_id in ids:
            if entry_id not in entries:
                c.error(raw.line_of("entries"), f"{what} : fiche inconnue « {entry_id} »")
        personas.append(Persona(c.text(raw, "id", what), tuple(fold(w) for w in persona_words),
                                ids))
    project = c.mapping(data.get("project"), data.line_of("project"), "project")
    words: tuple[str, ...] = ()
    entry: str | None = None
    if project is not None:
        c.known_keys(project, {"words", "entry"}, "project")
        words = c.texts(project, "words", "project", minimum=1)
        entry = c.text(project, "entry", "project", required=False) or None
        if entry is not None and entry not in entries:
            c.error(project.line_of("entry"), f"project : fiche inconnue « {entry} »")
    return Steering(tuple(personas), words, entry)
