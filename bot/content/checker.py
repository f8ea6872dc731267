"""Reading YAML files while collecting every problem with its ``file:line``: one
:class:`Checker` for all the content, one :class:`ContentError` listing the problems."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.content import yamlfile
from bot.content.yamlfile import LineDict, LineList


class ContentError(Exception):
    """The content has problems; ``problems`` lists them as ``file:line: message``."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True)
class Problem:
    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class Checker:
    """Collects problems while reading one file after another."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.path = Path()
        self.unreadable = False  # a file could not be parsed: skip cross-file references
        self._dates: dict[str, tuple[str, Path, int]] = {}  # url -> (date, file, line)

    def source_date(self, url: str | None, date: str | None, line: int) -> None:
        """One source, one date: the same page must carry the same date in every file."""
        if not url or not date:
            return
        first = self._dates.setdefault(url, (date, self.path, line))
        if first[0] != date:
            self.error(line, f"la page {url} est datée « {date} » ici mais « {first[0]} » en "
                             f"{first[1].name}:{first[2]} : une source, une date")

    def error(self, line: int, message: str) -> None:
        self.problems.append(Problem(self.path, line, message))

    def read(self, path: Path) -> Any:
        self.path = path
        try:
            return yamlfile.load(path)
        except yamlfile.YamlSyntaxError as exc:
            self.error(exc.line, exc.message)
            self.unreadable = True
            return None

    def mapping(self, value: Any, line: int, what: str) -> LineDict | None:
        if isinstance(value, LineDict):
            return value
        self.error(line, f"{what} : un dictionnaire (clé: valeur) est attendu")
        return None

    def items(self, parent: LineDict, key: str, what: str) -> Iterator[tuple[int, Any]]:
        """Yield ``(line, item)`` for the list ``parent[key]``; report when it is no list."""
        value = parent.get(key)
        if not isinstance(value, LineList):
            self.error(parent.line_of(key), f"{what} : « {key} » doit être une liste")
            return
        for i, item in enumerate(value):
            yield value.line_of(i), item

    def records(self, parent: LineDict, key: str, noun: str) -> Iterator[tuple[LineDict, str]]:
        """Yield each mapping of the list ``parent[key]`` with its label, e.g.
        ``critère « L1 »``; report items that are no mapping."""
        for line, item in self.items(parent, key, key):
            raw = self.mapping(item, line, noun)
            if raw is not None:
                yield raw, f"{noun} « {raw.get('id', '?')} »"

    def text(self, parent: LineDict, key: str, what: str, *, required: bool = True,
             max_len: int | None = None) -> str:
        value = parent.get(key)
        if value is None:
            if required:
                self.error(parent.line, f"{what} : champ « {key} » manquant")
            return ""
        if isinstance(value, bool):
            self.error(parent.line_of(key), f"{what} : « {key} » doit être un texte (YAML lit "
                                            "yes, no, on, off, true, false comme vrai ou faux : "
                                            "mettez-les entre guillemets)")
            return ""
        if not isinstance(value, str | int | float):
            self.error(parent.line_of(key), f"{what} : « {key} » doit être un texte")
            return ""
        value = str(value).strip()
        if required and not value:
            self.error(parent.line_of(key), f"{what} : « {key} » est vide")
        if max_len and len(value) > max_len:
            self.error(parent.line_of(key),
                       f"{what} : « {key} » fait {len(value)} caractères (maximum {max_len})")
        return value

    def texts(self, parent: LineDict, key: str, what: str, *, required: bool = True,
              minimum: int = 0) -> tuple[str, ...]:
        if key not in parent:
            if required:
                self.error(parent.line, f"{what} : liste « {key} » manquante")
            return ()
        out = []
        for line, item in self.items(parent, key, what):
            if isinstance(item, str | int | float) and str(item).strip():
                out.append(str(item).strip())
            elif isinstance(item, LineDict):
                self.error(line, f"{what} : un élément de « {key} » contient « : » ; mettez le "
                                 "texte entre guillemets")
            else:
                self.error(line, f"{what} : les éléments de « {key} » doivent être des textes")
        if len(out) < minimum:
            self.error(parent.line_of(key),
                       f"{what} : « {key} » doit contenir au moins {minimum} éléments")
        return tuple(out)

    def known_keys(self, value: LineDict, allowed: set[str], what: str) -> None:
        for key in value:
            if key not in allowed:
                expected = ", ".join(sorted(allowed))
                self.error(value.line_of(key),
                           f"{what} : clé inconnue « {key} » (clés possibles : {expected})")
