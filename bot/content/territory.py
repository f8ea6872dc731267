"""French regions and departments, and a forgiving parser for « Dans quel département ? ».

The data lives in ``knowledge/territories.yaml`` (a domain expert edits it):
:func:`check_territories` lists its problems as ``file:line: message`` and
:func:`load_territories` refuses a broken file.

:func:`parse_department` turns what a user types — a department code (``26``, ``2a``), a postal
code (``26100``, ``20090``), a name with or without accents, hyphens or typos, possibly inside a
sentence (``je suis en Ardèche``) — into the best candidates, best first. Several candidates
mean the answer is ambiguous (``savoie``, ``corse``): the caller asks the user to pick one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from rapidfuzz import fuzz

from bot.content.checker import Checker
from bot.content.yamlfile import LineDict, LineList
from bot.core.text import fold

MAX_CANDIDATES = 4
_THRESHOLD = 80.0  # rapidfuzz ratio (0–100) below which a typed name is not that name
_MARGIN = 5.0  # candidates this close to the best one are kept: the user will choose
_PART_PENALTY = 10.0  # a name inside a sentence is less sure: a typo there must be small
_MIN_PART_CHARS = 5  # a shorter word inside a sentence must be exact ("vers" is not "Var")

_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_CODE = re.compile(r"^(?:0[1-9]|1[0-9]|[3-8][0-9]|2[1-9]|9[0-5]|2[AB]|97[1-6])$")

# Words that may precede a name ("je suis en Ardèche", "dans la Drôme", "région Bretagne").
_LEADING = frozenset(
    """
    bonjour bonsoir salut hello oui alors euh ben bah voila
    je j suis sommes nous on est c ce cest il elle se situe situee situes situees trouve
    base basee bases basees implante implantee implantes installe installee installes
    mon ma notre nos projet ptce association structure dans en a au aux sur chez vers pres
    le la les du de des et ou departement dept dep dpt region
    """.split()
)
# Words that may follow it ("la Drôme svp").
_TRAILING = frozenset("svp stp merci".split())
# Qualifiers of a name sharing a river or a mountain with others: "Haute-Loire", "Hauts-de-Seine".
_QUALIFIERS = frozenset("haut haute hautes hauts bas basse basses de du des".split())
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}

_T = TypeVar("_T")


# --------------------------------------------------------------------------------------------
# The model


@dataclass(frozen=True)
class Region:
    """A French region (``id`` is an ascii slug, ``name`` the official name)."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()
    located: str = ""  # "en Bretagne", "dans le Grand Est", "à La Réunion"
    of: str = ""  # "de Bretagne", "du Grand Est", "d'Occitanie"

    def __post_init__(self) -> None:
        if not self.located:
            object.__setattr__(self, "located", f"en {self.name}")
        if not self.of:
            elided = self.name[:1].lower() in "aeiouyâéèêîïôû"
            object.__setattr__(self, "of", f"d'{self.name}" if elided else f"de {self.name}")


@dataclass(frozen=True)
class Department:
    """A French department: ``code`` is a string ("01", "2A", "974")."""

    code: str
    name: str
    region: Region
    aliases: tuple[str, ...] = ()

    def label(self) -> str:
        """``Drôme (26)``: the name with its code, for a button or a confirmation."""
        return f"{self.name} ({self.code})"


@dataclass(frozen=True)
class Collectivity:
    """An overseas collectivity outside the regions (Saint-Martin…): recognised to say so."""

    code: str  # "978"
    name: str
    postal: tuple[str, ...]  # its postal codes, which look like a region's ("97150")


class Territories:
    """All regions and departments, with look-ups by code, id and typed name."""

    def __init__(self, regions: Iterable[Region], departments: Iterable[Department],
                 outside: Iterable[Collectivity] = ()) -> None:
        self.regions: tuple[Region, ...] = tuple(regions)
        self.departments: tuple[Department, ...] = tuple(departments)
        self.outside: tuple[Collectivity, ...] = tuple(outside)
        self._outside_codes = {code: c for c in self.outside for code in (c.code, *c.postal)}
        self._by_code = {d.code: d for d in self.departments}
        self._by_id = {r.id: r for r in self.regions}
        self._department_keys = _keys((d, [d.name, *d.aliases]) for d in self.departments)
        self._department_names = _keys((d, [d.name]) for d in self.departments)
        self._region_keys = _keys((r, [r.name, r.id, *r.aliases]) for r in self.regions)

    def department(self, code: str) -> Department | None:
        """The department of ``code`` ("26", "2a", "1" for "01"), or None."""
        code = code.strip().upper()
        return self._by_code.get(code.zfill(2) if code.isdigit() else code)

    def outside_region(self, text: str) -> Collectivity | None:
        """The overseas collectivity outside the regions that ``text`` names by its code,
        postal code or name ("97150", "St-Barth", "Saint-Pierre-et-Miquelon"), or None."""
        words = _words(text)
        for word in words:
            if word in self._outside_codes:
                return self._outside_codes[word]
        joined = f" {' '.join(words)} "
        for collectivity in self.outside:
            name = " ".join(_words(collectivity.name))
            if f" {name} " in joined or (name.startswith("saint barthelemy")
                                         and " saint barth " in joined):
                return collectivity
        return None

    def region(self, region_id: str) -> Region | None:
        """The region of identifier ``region_id``, or None."""
        return self._by_id.get(region_id)

    def departments_of(self, region_id: str) -> tuple[Department, ...]:
        """The departments of region ``region_id``, in file order."""
        return tuple(d for d in self.departments if d.region.id == region_id)

    def region_by_name(self, text: str) -> Region | None:
        """The region a user names ("bretagne", "Auvergne Rhône Alpes", "PACA"), or None.

        None too when the text is ambiguous ("alpes", "loire").
        """
        words = _strip_filler(_words(text))
        if not words:
            return None
        hits = _rank(_whole_hits(words, self._region_keys)) or _rank(
            _part_hits(words, self._region_keys)
        )
        if hits:
            return _clear_winner(hits)
        containing = _containing(words, self._region_keys)
        return containing[0] if len(containing) == 1 else None


# --------------------------------------------------------------------------------------------
# Parsing what a user types


def parse_department(text: str, territories: Territories) -> list[Department]:
    """The departments ``text`` may designate, best first (at most four; [] if none).

    A code ("26", "2 A", "974") or a postal code ("26100", "20090") is exact; a name may lack
    accents or hyphens, carry a typo or sit in a sentence ("je suis en Ardèche"). One result
    means a clear answer; several mean the user should confirm ("savoie": Savoie first, then
    Haute-Savoie; "rhin": Bas-Rhin and Haut-Rhin). A region stands for its departments when
    it has at most four ("corse", "bretagne"); a larger region gives [].
    """
    words = _words(text)
    alone = _strip_filler(words)
    # A single digit is a code when it is the whole answer ("1" for "01"), not in a sentence
    # ("3 salariés dans la Drôme").
    code_words = [w for w in words if _is_code(w) and (len(w) > 1 or alone == [w])]
    by_code = _dedupe(d for w in code_words for d in _from_code(w, territories))
    words = _strip_filler([w for w in words if not _is_code(w)])
    by_name = _from_name(words, territories) if words else []
    if by_code and by_name:
        agreeing = [d for d in by_code if d in by_name]  # "Drôme (26)"
        return agreeing or _dedupe([*by_code, *by_name])[:MAX_CANDIDATES]
    return (by_code or by_name)[:MAX_CANDIDATES]


def _words(text: str) -> list[str]:
    """Folded words: "st" spelled "saint", "2 a" joined to "2a", "26 100" to "26100"."""
    folded = fold(text[:300])
    folded = re.sub(r"\b(2) ?([ab])\b", r"\1\2", folded)
    folded = re.sub(r"\b(\d\d) (\d\d\d)\b", r"\1\2", folded)
    # "cote d or", "val d oise": an elision typed without its apostrophe
    return [_ABBREVIATIONS.get(w, w) for w in folded.split() if w not in ("d", "l")]


def _is_code(word: str) -> bool:
    return word.isdigit() or word in ("2a", "2b")


def _from_code(word: str, territories: Territories) -> list[Department]:
    """Departments of a department code or a postal code; [] for another word."""
    if word in ("20", "020"):  # the department before 1976, now split in two
        codes = ["2A", "2B"]
    elif word in ("2a", "2b") or (word.isdigit() and len(word) <= 3):
        codes = [word]
    elif word.isdigit() and len(word) == 5:
        if word in territories._outside_codes:  # Saint-Martin's 97150 is not Guadeloupe
            return []
        codes = [_postal_department(word)]
    else:
        return []
    return [d for d in (territories.department(c) for c in codes if c) if d]


def _postal_department(postal_code: str) -> str:
    """The department code of a five-digit postal code ("" if there is none)."""
    if postal_code.startswith("20"):  # Corsica: 200xx–201xx Corse-du-Sud, 202xx–206xx Haute-Corse
        return {"0": "2A", "1": "2A"}.get(postal_code[2], "2B" if postal_code[2] in "23456" else "")
    return postal_code[:3] if postal_code.startswith("97") else postal_code[:2]


def _from_name(words: list[str], territories: Territories) -> list[Department]:
    keys, names = territories._department_keys, territories._department_names
    region_keys = territories._region_keys
    containing = _containing(words, names)  # "rhin": Bas-Rhin, Haut-Rhin
    # Regions are matched too: "Bretagne" is no department, "Rhône" in "Auvergne-Rhône-Alpes"
    # is none either.
    ranked = _rank({**_whole_hits(words, keys), **_whole_hits(words, region_keys)})
    if not ranked:  # maybe a name inside a sentence ("drôme provençale")
        if len(containing) > MAX_CANDIDATES:
            return []  # "haute": too vague to offer a choice
        ranked = _rank({**_part_hits(words, keys), **_part_hits(words, region_keys)})
    hits = [(d, score) for d, score in ranked if isinstance(d, Department)]
    regions = [(r, score) for r, score in ranked if isinstance(r, Region)]
    if regions and (not hits or regions[0][1] > hits[0][1]):
        # "Corse", "Bretagne": a region, whose departments are offered when they are few
        region = _clear_winner(regions)
        departments = list(territories.departments_of(region.id)) if region else []
        return departments if len(departments) <= MAX_CANDIDATES else []
    exact = [d for d, score in hits if score == 100.0]
    # An exact name stands alone; a typo also offers the names holding the words typed.
    found = exact or [d for d, _ in hits] + containing
    if found:  # the names the best one is the root of ("savoie": Haute-Savoie)
        root = _key(found[0].name).split()
        found += _containing(root, names, leading_only=True)
    return _dedupe(found)[:MAX_CANDIDATES]


def _key(text: str) -> str:
    """The form names are compared in: folded, abbreviations spelled out, no leading article."""
    return " ".join(_strip_filler(_words(text)))


def _strip_filler(words: list[str]) -> list[str]:
    start, end = 0, len(words)
    while start < end and words[start] in _LEADING:
        start += 1
    while end > start and words[end - 1] in _TRAILING:
        end -= 1
    return words[start:end]


def _keys(items: Iterable[tuple[_T, Sequence[str]]]) -> list[tuple[str, _T]]:
    """``(key, item)`` for each name: the compared form, and the whole folded name when it
    starts with an article ("la reunion" besides "reunion")."""
    return [
        (key, item)
        for item, names in items
        for key in _dedupe(k for n in names for k in (_key(n), " ".join(_words(n))))
        if key
    ]


_Hits = dict[_T, tuple[float, tuple[int, int]]]  # item → (score, span of the words matched)


def _whole_hits(words: list[str], keys: list[tuple[str, _T]]) -> _Hits[_T]:
    """Each item's best score (0–100) comparing the whole text with its names; 100 is exact."""
    typed = " ".join(words)
    whole = (0, len(words))
    hits: _Hits[_T] = {}
    for key, item in keys:
        score = 100.0 if key == typed else _similarity(typed, key)
        hits[item] = max(hits.get(item, (0.0, whole)), (score, whole))
    return hits


def _part_hits(words: list[str], keys: list[tuple[str, _T]]) -> _Hits[_T]:
    """Each item's best score comparing the first or the last few words with its names (a name
    inside a sentence: a bit less sure than the whole text)."""
    longest = max((k.count(" ") + 1 for k, _ in keys), default=1) + 1
    hits: _Hits[_T] = {}
    for start, stop in _spans(len(words), longest):
        part = " ".join(words[start:stop])
        for key, item in keys:
            if len(part) < _MIN_PART_CHARS and part != key:
                continue  # a short word must be exact: "main" is not "Ain"
            score = _similarity(part, key) - _PART_PENALTY
            if item not in hits or score > hits[item][0]:
                hits[item] = (score, (start, stop))
    return hits


def _similarity(typed: str, key: str) -> float:
    """How close a typed text is to a name (0–100), tolerating typos but not in the first
    letter, which people rarely miss: "rennes" is not "Ardennes" (a silent h may be left out:
    "erault" is "Hérault")."""
    if typed[:1] != key[:1] and typed.removeprefix("h")[:1] != key.removeprefix("h")[:1]:
        return 0.0
    return fuzz.ratio(typed, key)


def _rank(hits: _Hits[_T]) -> list[tuple[_T, float]]:
    """``(item, score)`` best first, keeping the items close to the best one.

    An item found inside words that a better one covers is left out ("je suis en haute
    savoie" is not "Savoie").
    """
    ranked = sorted(hits.items(), key=lambda hit: (-hit[1][0], hit[1][1][0] - hit[1][1][1]))
    if not ranked or ranked[0][1][0] < _THRESHOLD:
        return []
    floor = max(_THRESHOLD, ranked[0][1][0] - _MARGIN)
    kept: list[tuple[_T, float, tuple[int, int]]] = []
    for item, (score, span) in ranked:
        if score < floor:
            break
        covered = any(
            other != span and other[0] <= span[0] and span[1] <= other[1]
            for _, _, other in kept
        )
        if not covered:
            kept.append((item, score, span))
    return [(item, score) for item, score, _ in kept]


def _clear_winner(hits: list[tuple[_T, float]]) -> _T | None:
    """The only exact item, or the only item; None when several are as close."""
    exact = [item for item, score in hits if score == 100.0]
    if len(exact) == 1:
        return exact[0]
    return hits[0][0] if len(hits) == 1 else None


def _spans(count: int, longest: int) -> Iterable[tuple[int, int]]:
    """``(start, stop)`` of the first and of the last words, up to ``longest`` words.

    A name is looked for where an answer puts it ("Drôme provençale", "près de Valence dans la
    Drôme"), not in the middle of a sentence, where "un lot de" is no Lot.
    """
    for size in range(min(count - 1, longest), 0, -1):
        yield 0, size
        yield count - size, count


def _containing(
    words: list[str], keys: list[tuple[str, _T]], *, leading_only: bool = False
) -> list[_T]:
    """Items whose name holds ``words`` as whole words, leading ones first; with
    ``leading_only``, only those.

    A name is led by the words when they start it, maybe after a qualifier, and are not joined
    to another name by "et": "loire" leads "Haute-Loire" and "Loire-Atlantique", not
    "Indre-et-Loire"; "lot" does not lead "Lot-et-Garonne".
    """
    leading: list[_T] = []
    inside: list[_T] = []
    if all(w in _QUALIFIERS for w in words):
        return []  # "haute" alone names nothing
    for key, item in keys:
        names = key.split()
        if names == words or not _holds(names, words):
            continue
        start = 0
        while start < len(names) and names[start] in _QUALIFIERS:
            start += 1
        stop = start + len(words)
        led = names[start:stop] == words and names[stop : stop + 1] != ["et"]
        (leading if led else inside).append(item)
    return _dedupe(leading if leading_only else leading + inside)


def _holds(names: list[str], words: list[str]) -> bool:
    size = len(words)
    return any(names[i : i + size] == words for i in range(len(names) - size + 1))


def _dedupe(items: Iterable[_T]) -> list[_T]:
    seen: list[_T] = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


# --------------------------------------------------------------------------------------------
# Loading and checking territories.yaml


class TerritoryError(Exception):
    """territories.yaml has problems; ``problems`` lists them as ``file:line: message``."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def load_territories(path: Path) -> Territories:
    """Read ``path``; raise :class:`TerritoryError` listing every problem if it has any."""
    c = Checker()
    territories = read_territories(c, path)
    if territories is None:
        raise TerritoryError([str(p) for p in c.problems])
    return territories


def check_territories(path: Path) -> list[str]:
    """Every problem of ``path`` as ``"{path}:{line}: message"`` (in French); [] if valid."""
    c = Checker()
    read_territories(c, path)
    return [str(p) for p in sorted(c.problems, key=lambda p: p.line)]


_REGION_KEYS = {"id", "name", "aliases", "in", "of"}
_DEPARTMENT_KEYS = {"code", "name", "region", "aliases"}


def _list(c: Checker, top: LineDict, key: str) -> list[tuple[int, LineDict]]:
    """The mappings of the non-empty list ``top[key]``, with their lines."""
    value = top.get(key)
    if not isinstance(value, LineList) or not value:
        c.error(top.line_of(key), f"« {key} » doit être une liste non vide")
        return []
    out = []
    for i, item in enumerate(value):
        if isinstance(item, LineDict):
            out.append((value.line_of(i), item))
        else:
            c.error(value.line_of(i),
                    f"« {key} » : chaque élément doit être un dictionnaire (clé: valeur)")
    return out


def _text(c: Checker, item: LineDict, key: str, what: str) -> str:
    """A non-empty string (a code such as « 01 » must not be read as a number)."""
    value = item.get(key)
    if value is None:
        c.error(item.line, f"{what} : champ « {key} » manquant")
        return ""
    if not isinstance(value, str) or not value.strip():
        c.error(item.line_of(key), f"{what} : « {key} » doit être un texte non vide")
        return ""
    return value.strip()


def _aliases(c: Checker, item: LineDict, what: str) -> tuple[str, ...]:
    value = item.get("aliases", [])
    if not isinstance(value, list):
        c.error(item.line_of("aliases"), f"{what} : « aliases » doit être une liste")
        return ()
    if not all(isinstance(a, str) and a.strip() for a in value):
        c.error(item.line_of("aliases"), f"{what} : les « aliases » doivent être des textes")
        return ()
    return tuple(a.strip() for a in value)


def read_territories(c: Checker, path: Path) -> Territories | None:
    """The territories of ``path``; its problems go to ``c``. None when it has any."""
    before = len(c.problems)
    try:
        data: Any = c.read(path)
    except OSError:
        c.path = path
        c.error(1, "fichier introuvable ou illisible")
        return None
    if data is None:
        return None
    if not isinstance(data, LineDict):
        c.error(1, "un dictionnaire avec « regions » et « departments » est attendu")
        return None
    regions = _read_regions(c, data)
    departments = _read_departments(c, data, regions)
    used = {d.region.id for d in departments}
    for region, line in regions.values():
        if region.id not in used:
            c.error(line, f"région « {region.id} » : aucun département ne lui est rattaché")
    outside = _read_outside(c, data, {d.code for d in departments})
    if len(c.problems) > before:
        return None
    return Territories((reg for reg, _ in regions.values()), departments, outside)


def _read_outside(r: Checker, data: LineDict, codes: set[str]) -> list[Collectivity]:
    """The optional list ``outside_regions`` of collectivities outside the regions."""
    if "outside_regions" not in data:
        return []
    out = []
    for _line, item in _list(r, data, "outside_regions"):
        r.known_keys(item, {"code", "name", "postal"}, "collectivité")
        code, name = _text(r, item, "code", "collectivité"), _text(r, item, "name", "collectivité")
        postal = item.get("postal", [])
        postal = [str(p) for p in (postal if isinstance(postal, list) else [postal])]
        if code in codes:
            r.error(item.line_of("code"), f"collectivité « {name} » : le code {code} est déjà "
                                          "celui d'un département")
        if not all(re.fullmatch(r"\d{5}", p) for p in postal):
            r.error(item.line_of("postal"), f"collectivité « {name} » : codes postaux à cinq "
                                            "chiffres attendus")
        if code and name:
            out.append(Collectivity(code, name, tuple(postal)))
    return out


def _read_regions(r: Checker, data: LineDict) -> dict[str, tuple[Region, int]]:
    regions: dict[str, tuple[Region, int]] = {}
    for line, item in _list(r, data, "regions"):
        r.known_keys(item, _REGION_KEYS, "région")
        region_id = _text(r, item, "id", "région")
        what = f"région « {region_id} »" if region_id else "région"
        name = _text(r, item, "name", what)
        aliases = _aliases(r, item, what)
        if not region_id:
            continue
        if not _ID.match(region_id):
            r.error(item.line_of("id"),
                    f"{what} : l'identifiant ne doit contenir que a-z, 0-9 et -")
        if region_id in regions:
            r.error(item.line_of("id"), f"{what} : identifiant déjà utilisé ligne "
                                        f"{regions[region_id][1]}")
            continue
        located = str(item.get("in") or "")
        of = str(item.get("of") or "")
        regions[region_id] = (Region(region_id, name, aliases, located, of), line)
    return regions


def _read_departments(r: Checker, data: LineDict,
                      regions: dict[str, tuple[Region, int]]) -> list[Department]:
    departments: list[Department] = []
    code_lines: dict[str, int] = {}
    name_lines: dict[str, tuple[str, int]] = {}  # folded name or alias → (code, line)
    for line, item in _list(r, data, "departments"):
        r.known_keys(item, _DEPARTMENT_KEYS, "département")
        code = _read_code(r, item)
        what = f"département « {code} »" if code else "département"
        name = _text(r, item, "name", what)
        region_id = _text(r, item, "region", what)
        aliases = _aliases(r, item, what)
        region = regions.get(region_id, (None, 0))[0]
        if region_id and region is None:
            r.error(item.line_of("region"), f"{what} : région inconnue « {region_id} » "
                                            "(voir la liste « regions »)")
        if code in code_lines:
            r.error(item.line_of("code"), f"{what} : code déjà utilisé ligne {code_lines[code]}")
            continue
        for variant in _dedupe(_key(n) for n in (name, *aliases) if n):
            other = name_lines.get(variant)
            if other and other[0] != code:
                r.error(line, f"{what} : le nom « {variant} » est déjà celui du département "
                              f"{other[0]} (ligne {other[1]})")
            name_lines.setdefault(variant, (code, line))
        if code and name and region:
            code_lines[code] = line
            departments.append(Department(code, name, region, aliases))
    return departments


def _read_code(r: Checker, item: LineDict) -> str:
    value = item.get("code")
    if value is None:
        r.error(item.line, "département : champ « code » manquant")
        return ""
    if not isinstance(value, str):
        r.error(item.line_of("code"), f"département : le code {value} doit être écrit entre "
                                      f"guillemets, avec son zéro initial (ex. \"01\", \"26\")")
        return ""
    if not _CODE.match(value):
        r.error(item.line_of("code"), f"département : code « {value} » invalide (attendu "
                                      "\"01\" à \"95\", \"2A\", \"2B\" ou \"971\" à \"976\")")
        return ""
    return value
