"""« Des PTCE près de chez moi ? »: the place a message names, and the poles the sources cite.

A message that names a region, a department (by name or number) or a city of
``knowledge/cities.yaml`` *and* asks about what exists or who can help there (one of the
``triggers`` of ``knowledge/poles.yaml``) gets the poles the sources name in that region — the
department's first —, each dated as its source dates it, and the regional coordination.
A place named as mere context ("élu en Occitanie, comment une Région finance-t-elle…") does not
trigger it: the question is answered as any other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.content.checker import Checker
from bot.content.model import Entry
from bot.content.territory import Department, Region, Territories
from bot.content.yamlfile import LineDict
from bot.core.text import fold, french_date, question_sentences

# Before a one-word department or city name ("dans l'Ain", "près de Lyon"), one of these words
# must come: "cher", "lot", "nord" or "tours" are ordinary words too.
_BEFORE_NAME = frozenset(
    "en dans le la les du de des a au aux pres proche autour vers sur cote secteur region "
    "departement dept ville commune agglo metropole".split())
_CODE = re.compile(r"\b(?:dans le|le|du|en|departement|dept|dpt|dep)\s+(\d{2,3}|2a|2b)\b")
_POSTAL = re.compile(r"\b(\d{5})\b")
_SHORT = 8  # words: "ptce en guadeloupe ?" asks what is there without saying "y a-t-il"
_MAX_WORDS = 5  # longest place name, in words ("Provence Alpes Cote d Azur")
_AMBIGUOUS_REGION_NAMES = frozenset({"centre"})  # "centre de formation", "centre social"


@dataclass(frozen=True)
class PoleSource:
    """Where a pole is named: a seed (``ref``) and its section, with the source's date."""

    label: str  # the source's short label, as in an answer's « Source : » line
    section: str
    date: str


@dataclass(frozen=True)
class Pole:
    """A pole the sources name, with where they place it."""

    name: str
    region: str
    departments: tuple[str, ...]
    sources: tuple[PoleSource, ...]
    place: str = ""
    entry: str | None = None  # the assistant's card about it, if any
    note: str = ""

    def dated(self) -> str:
        """The earliest date a source gives for it, in French ("19 septembre 2014")."""

        return french_date(min(s.date for s in self.sources))


@dataclass(frozen=True)
class Place:
    """A place a message names: its region, and its department when it is that precise."""

    name: str  # "Drôme (26)", "Lyon (Rhône)", "Bretagne"
    region: Region
    department: Department | None = None

    @property
    def label(self) -> str:
        """The place with its region: "Lyon (Rhône), Auvergne-Rhône-Alpes", "la région
        Bretagne"."""
        if self.department is None:
            return f"la région {self.region.name}"
        if self.department.name == self.region.name:  # overseas: La Réunion (974)
            return self.name
        return f"{self.name}, {self.region.name}"


class Places:
    """Finds places in messages and the poles of a region."""

    def __init__(self, territories: Territories, cities: dict[str, str],
                 poles: tuple[Pole, ...], triggers: tuple[str, ...],
                 list_words: tuple[str, ...] = ()) -> None:
        self.territories = territories
        self.poles = poles
        self.cards = frozenset(p.entry for p in poles if p.entry)  # entries about one pole
        self._triggers = tuple(f" {fold(t)} " for t in triggers if fold(t))
        self._list_words = tuple(f" {fold(t)} " for t in list_words if fold(t))
        # folded name -> (level, place); level 0 city, 1 department, 2 region: the most precise
        # wins when a message names several ("au nord de Lyon").
        self._names: dict[str, tuple[int, Place]] = {}
        for region in territories.regions:
            place = Place(region.name, region)
            for name in (region.name, *region.aliases):
                if fold(name) not in _AMBIGUOUS_REGION_NAMES:
                    self._names.setdefault(fold(name), (2, place))
        for department in territories.departments:
            place = Place(department.label(), department.region, department)
            for name in (department.name, *department.aliases):
                self._names[fold(name)] = (1, place)
        for city, code in cities.items():
            found = territories.department(code)
            if found is not None and fold(city) not in self._names:
                self._names[fold(city)] = (0, Place(f"{city} ({found.name})", found.region,
                                                    found))

    def asked(self, text: str) -> Place | None:
        """The place of a "near me" question, or None when the message names no place or
        does not ask what exists or who helps there. In a message of several sentences, the
        asking is looked for in its question ("J'ai vu une affiche près de chez moi. Les
        citoyens peuvent-ils participer ?" is not a "near me" question)."""
        asking = f" {fold(question_sentences(text) or text)} "
        short = len(asking.split()) <= _SHORT and any(w in asking for w in (" ptce ", " pole"))
        if not short and not any(t in asking for t in self._triggers):
            return None
        return self.find(text)

    def asks_for_list(self, text: str) -> bool:
        """Whether a "near me" question asks for several poles or for help, rather than about
        one pole ("qui peut m'aider dans la Drôme" vs "le pôle de Romans, c'est un PTCE ?")."""
        folded = f" {fold(text)} "
        return any(w in folded for w in self._list_words)

    def find(self, text: str) -> Place | None:
        """The most precise place ``text`` names (city, then department, then region)."""
        folded = fold(text)
        found: list[tuple[int, int, Place]] = []  # (level, position, place)
        for match in _CODE.finditer(folded):
            department = self.territories.department(match.group(1))
            if department is not None:
                found.append((1, match.start(), Place(department.label(), department.region,
                                                      department)))
        for match in _POSTAL.finditer(folded):
            department = self.territories.department(_postal_department(match.group(1)))
            if department is not None:
                found.append((1, match.start(), Place(department.label(), department.region,
                                                      department)))
        words = folded.split()
        covered = 0  # words up to here belong to a longer name found ("centre val de loire")
        for start in range(len(words)):
            for size in range(min(_MAX_WORDS, len(words) - start), 0, -1):
                if start + size <= covered:
                    break
                hit = self._names.get(" ".join(words[start:start + size]))
                if hit is None:
                    continue
                level, place = hit
                if level < 2 and size == 1 and (start == 0 or words[start - 1] not in
                                                _BEFORE_NAME):
                    continue
                found.append((level, start, place))
                covered = start + size
                break
        return min(found, key=lambda f: (f[0], f[1]))[2] if found else None

    def near(self, place: Place) -> tuple[list[Pole], list[Pole]]:
        """The poles of the place's department, then the other poles of its region."""
        in_region = [p for p in self.poles if p.region == place.region.id]
        if place.department is None:
            return [], in_region
        here = [p for p in in_region if place.department.code in p.departments]
        return here, [p for p in in_region if p not in here]


def _postal_department(postal_code: str) -> str:
    """The department of a postal code: 97x for overseas, 2A/2B for Corsica, else the first
    two digits."""
    if postal_code.startswith("97"):
        return postal_code[:3]
    if postal_code.startswith("20"):
        return "2A" if int(postal_code) < 20200 else "2B"
    return postal_code[:2]


# --------------------------------------------------------------------------------------------
# Reading knowledge/poles.yaml and knowledge/cities.yaml


def read_places(c: Checker, knowledge: Path, territories: Territories | None,
                sources: dict[str, str], entries: dict[str, Entry]) -> Places | None:
    """The places and poles, checked (unknown department, region, source or entry → the
    file's line)."""
    cities = _read_cities(c, knowledge / "cities.yaml", territories)
    poles, triggers, list_words = _read_poles(c, knowledge / "poles.yaml", territories,
                                              sources, entries)
    if territories is None:
        return None
    return Places(territories, cities, poles, triggers, list_words)


def _read_cities(c: Checker, path: Path, territories: Territories | None) -> dict[str, str]:
    data = c.mapping(c.read(path), 1, "villes")
    cities: dict[str, str] = {}
    if data is None:
        return cities
    for raw, _ in c.records(data, "cities", "ville"):
        c.known_keys(raw, {"name", "department"}, "ville")
        name = c.text(raw, "name", "ville")
        code = c.text(raw, "department", f"ville « {name} »")
        if territories is not None and code and territories.department(code) is None:
            c.error(raw.line_of("department"), f"ville « {name} » : département inconnu "
                                               f"« {code} »")
        elif name in cities:
            c.error(raw.line, f"ville « {name} » en double")
        elif name and code:
            cities[name] = code
    return cities


_POLE_KEYS = {"name", "aliases", "carrier", "departments", "place", "region", "source_region",
              "note", "sources", "entry"}


def _read_poles(c: Checker, path: Path, territories: Territories | None,
                sources: dict[str, str], entries: dict[str, Entry]
                ) -> tuple[tuple[Pole, ...], tuple[str, ...], tuple[str, ...]]:
    data = c.mapping(c.read(path), 1, "pôles")
    if data is None:
        return (), (), ()
    c.known_keys(data, {"triggers", "list_words", "poles"}, "pôles")
    triggers = c.texts(data, "triggers", "pôles", minimum=1)
    list_words = c.texts(data, "list_words", "pôles", required=False)
    poles = []
    for raw, _ in c.records(data, "poles", "pôle"):
        name = c.text(raw, "name", "pôle")
        what = f"pôle « {name} »"
        c.known_keys(raw, _POLE_KEYS, what)
        region = c.text(raw, "region", what)
        if territories is not None and region and territories.region(region) is None:
            c.error(raw.line_of("region"), f"{what} : région inconnue « {region} »")
        departments = c.texts(raw, "departments", what, required=False)
        for code in departments:
            department = territories.department(code) if territories else None
            if territories is not None and (department is None
                                            or department.region.id != region):
                c.error(raw.line_of("departments"),
                        f"{what} : département « {code} » inconnu ou hors de la région")
        entry = c.text(raw, "entry", what, required=False) or None
        if entry is not None and entry not in entries:
            c.error(raw.line_of("entry"), f"{what} : fiche inconnue « {entry} »")
        pole_sources = []
        for source_line, source in c.items(raw, "sources", what):
            ref = c.mapping(source, source_line, what)
            if ref is None:
                continue
            pole_sources.append(_read_pole_source(c, ref, what, sources))
        if not pole_sources:
            c.error(raw.line, f"{what} : au moins une source est attendue")
        poles.append(Pole(name, region, departments, tuple(pole_sources),
                          c.text(raw, "place", what, required=False), entry,
                          c.text(raw, "note", what, required=False)))
    return tuple(poles), triggers, list_words


def _read_pole_source(c: Checker, raw: LineDict, what: str,
                      sources: dict[str, str]) -> PoleSource:
    c.known_keys(raw, {"ref", "url", "section", "date"}, what)
    date = c.text(raw, "date", what)
    if date and not re.fullmatch(r"\d{4}(-\d{2}(-\d{2})?)?", date):
        c.error(raw.line_of("date"), f"{what} : date « {date} » (attendu AAAA, AAAA-MM ou "
                                     "AAAA-MM-JJ)")
    ref, url = c.text(raw, "ref", what, required=False), c.text(raw, "url", what,
                                                                 required=False)
    if ref and ref not in sources:
        c.error(raw.line_of("ref"), f"{what} : source inconnue « {ref} »")
    if not ref and not url:
        c.error(raw.line, f"{what} : « ref » ou « url » attendu")
    c.source_date(url, date, raw.line_of("date"))
    return PoleSource(sources.get(ref, url), c.text(raw, "section", what, required=False),
                      date)
