"""The directory of regional PTCE coordinations (``knowledge/coordinations.yaml``).

Each region has one or more organisations a project founder can be directed to, exactly one
of them being the region's default. The committed directory only says *who* they are and
*why* (a dated source); *how to reach* them (Telegram chats, e-mails, webhook) belongs to the
deployment configuration (:mod:`bot.ops.config`), so no contact detail is ever committed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from bot.content.checker import Checker
from bot.content.model import Source
from bot.content.territory import Territories
from bot.content.yamlfile import LineDict
from bot.core.text import has_personal_data

# Kinds of coordination, with how the assistant may name them.
KINDS = {
    "cress": "chambre régionale de l'économie sociale et solidaire",
    "cellule-regionale": "cellule régionale d'animation des PTCE",
    "reseau": "réseau d'accompagnement",
    "region": "conseil régional",
}
MAX_ID = 40
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DATE = re.compile(r"^(?:\d{4}(?:-\d{2}(?:-\d{2})?)?|s\.d\.)$")
_KEYS = {"id", "region", "name", "kind", "website", "role", "source", "default", "article"}
_SOURCE_KEYS = {"section", "date", "url"}
# Contact channels never belong to the committed directory.
_CONTACT_KEYS = {"email", "emails", "e-mail", "mail", "courriel", "phone", "telephone",
                 "téléphone", "tel", "tél", "mobile", "telegram", "telegram_chat_ids"}
CONTACT_REFUSED = ("les moyens de contact (e-mail, téléphone, Telegram) relèvent de la "
                   "configuration de déploiement (fichier désigné par PTCE_CONFIG), pas de "
                   "l'annuaire versionné")


@dataclass(frozen=True)
class Coordination:
    """An organisation a founder can be directed to in a region."""

    id: str
    region_id: str
    name: str
    kind: str  # a key of KINDS
    website: str | None
    role: str  # one French sentence: what it does for PTCE
    source_line: str  # the dated source, as shown after « Source : »
    default: bool = False
    article: str = "la"  # "la CRESS Bretagne", "" for "ESS France"

    @property
    def named(self) -> str:
        """The name as a sentence says it: « transmise à la CRESS Bretagne »."""
        if not self.article:
            return self.name
        return f"{self.article}{self.name}" if self.article.endswith("'") \
            else f"{self.article} {self.name}"


class Directory:
    """All coordinations, by id and by region."""

    def __init__(self, coordinations: tuple[Coordination, ...]) -> None:
        self._all = coordinations
        self._by_id = {c.id: c for c in coordinations}

    @property
    def all(self) -> tuple[Coordination, ...]:
        """Every coordination, in file order."""
        return self._all

    def get(self, coordination_id: str) -> Coordination | None:
        """The coordination ``coordination_id``, or None."""
        return self._by_id.get(coordination_id)

    def of_region(self, region_id: str) -> tuple[Coordination, ...]:
        """The coordinations of ``region_id``, its default first; () for an unknown region."""
        found = [c for c in self._all if c.region_id == region_id]
        return tuple(sorted(found, key=lambda c: not c.default))

    def for_region(self, region_id: str) -> Coordination:
        """The default coordination of ``region_id``; KeyError for a region not in the file.

        A validated directory has exactly one default for every region of territories.yaml.
        """
        for coordination in self._all:
            if coordination.region_id == region_id and coordination.default:
                return coordination
        raise KeyError(f"aucune coordination pour la région « {region_id} »")

    def __len__(self) -> int:
        return len(self._all)


# --------------------------------------------------------------------------------------------
# Reading and checking knowledge/coordinations.yaml


def read_directory(c: Checker, path: Path, territories: Territories | None) -> Directory | None:
    """Read the directory, reporting problems in ``c``; None when the file has any.

    Without ``territories`` (a broken territories.yaml) regions are not checked.
    """
    before = len(c.problems)
    if not path.is_file():
        c.path = path
        c.error(1, "fichier manquant : l'annuaire des coordinations régionales est requis")
        return None
    data = c.read(path)
    top = c.mapping(data, 1, path.name) if data is not None else None
    if top is None:
        if data is None and not c.unreadable:
            c.error(1, f"{path.name} est vide")
        return None
    c.known_keys(top, {"coordinations"}, path.name)
    coordinations: list[Coordination] = []
    lines: dict[str, int] = {}
    for line, item in c.items(top, "coordinations", path.name):
        raw = c.mapping(item, line, "coordination")
        if raw is None:
            continue
        coordination = _read_coordination(c, raw, territories)
        if coordination is None:
            continue
        if coordination.id in lines:
            c.error(raw.line_of("id"), f"coordination « {coordination.id} » : identifiant en "
                                       f"double (déjà ligne {lines[coordination.id]})")
            continue
        lines[coordination.id] = raw.line_of("id")
        coordinations.append(coordination)
    if territories is not None and "coordinations" in top:
        _check_regions(c, coordinations, lines, territories, top.line_of("coordinations"))
    if len(c.problems) > before:
        return None
    return Directory(tuple(coordinations))


def _read_coordination(c: Checker, raw: LineDict,
                       territories: Territories | None) -> Coordination | None:
    coordination_id = c.text(raw, "id", "coordination", max_len=MAX_ID)
    what = f"coordination « {coordination_id or '?'} »"
    if coordination_id and not _ID.match(coordination_id):
        c.error(raw.line_of("id"), f"{what} : l'identifiant ne doit contenir que a-z, 0-9 et -")
    if territories is not None and territories.region(coordination_id):
        c.error(raw.line_of("id"), f"{what} : l'identifiant est celui d'une région ; "
                                   "choisissez-en un autre (ex. cress-…)")
    _known_keys(c, raw, what)
    region_id = c.text(raw, "region", what)
    if region_id and territories is not None and territories.region(region_id) is None:
        c.error(raw.line_of("region"), f"{what} : région « {region_id} » inconnue (voir "
                                       "territories.yaml)")
    name = c.text(raw, "name", what, max_len=120)
    kind = c.text(raw, "kind", what)
    if kind and kind not in KINDS:
        c.error(raw.line_of("kind"), f"{what} : type « {kind} » inconnu (types possibles : "
                                     f"{', '.join(sorted(KINDS))})")
    website = c.text(raw, "website", what, required=False) or None
    if website and not is_web_address(website):
        c.error(raw.line_of("website"), f"{what} : site « {website} » mal formé (adresse "
                                        "complète attendue, ex. https://www.exemple.org)")
    role = c.text(raw, "role", what, max_len=400)
    for key, text in (("name", name), ("role", role)):
        if has_personal_data(text):
            c.error(raw.line_of(key), f"{what} : « {key} » contient une adresse e-mail ou un "
                                      f"numéro de téléphone ; {CONTACT_REFUSED}")
    default = raw.get("default", False)
    if not isinstance(default, bool):
        c.error(raw.line_of("default"), f"{what} : « default » vaut true ou false")
        default = False
    source = _read_source(c, raw, what)
    article = str(raw.get("article", "la"))
    if article not in ("la", "le", "l'", "les", ""):
        c.error(raw.line_of("article"), f"{what} : article « {article} » (la, le, l', les, "
                                        "ou \"\" pour un nom sans article)")
    if not coordination_id:
        return None
    line = Source("facts", "Sources publiques récentes", *source).label() if source else ""
    return Coordination(coordination_id, region_id, name, kind, website, role, line, default,
                        article)


def _known_keys(c: Checker, raw: LineDict, what: str) -> None:
    for key in raw:
        if str(key).lower() in _CONTACT_KEYS:
            c.error(raw.line_of(key), f"{what} : clé « {key} » refusée : {CONTACT_REFUSED}")
        elif key not in _KEYS:
            c.error(raw.line_of(key), f"{what} : clé inconnue « {key} » (clés possibles : "
                                      f"{', '.join(sorted(_KEYS))})")


def _read_source(c: Checker, raw: LineDict,
                 what: str) -> tuple[str, str | None, str | None] | None:
    """``(section, date, url)`` of the dated fact behind a coordination."""
    if "source" not in raw:
        c.error(raw.line, f"{what} : champ « source » manquant (le fait daté qui justifie "
                          "l'entrée)")
        return None
    spec = c.mapping(raw["source"], raw.line_of("source"), f"{what}, source")
    if spec is None:
        return None
    c.known_keys(spec, _SOURCE_KEYS, f"{what}, source")
    section = c.text(spec, "section", f"{what}, source", max_len=120)
    date = c.text(spec, "date", f"{what}, source")
    if date and not _DATE.match(date):
        c.error(spec.line_of("date"), f"{what} : date « {date} » au format AAAA, AAAA-MM, "
                                      "AAAA-MM-JJ ou s.d. (page non datée) attendue")
        date = ""
    url = c.text(spec, "url", f"{what}, source", required=False)
    if url and not is_web_address(url):
        c.error(spec.line_of("url"), f"{what} : adresse de source « {url} » mal formée")
        url = ""
    c.source_date(url, date, spec.line_of("date"))
    return section, date or None, url or None


def _check_regions(c: Checker, coordinations: list[Coordination], lines: dict[str, int],
                   territories: Territories, list_line: int) -> None:
    """Every region has coordinations, exactly one of them by default."""
    for region in territories.regions:
        mine = [x for x in coordinations if x.region_id == region.id]
        defaults = [x for x in mine if x.default]
        if not mine:
            c.error(list_line, f"région « {region.id} » ({region.name}) : aucune coordination "
                               "(chaque région en a au moins une)")
        elif not defaults:
            c.error(lines[mine[0].id], f"région « {region.id} » : aucune coordination marquée "
                                       "« default: true » (il en faut exactement une)")
        for extra in defaults[1:]:
            first = defaults[0]
            c.error(lines[extra.id], f"région « {region.id} » : « {extra.id} » et « {first.id} »"
                                     f" (ligne {lines[first.id]}) sont toutes deux marquées "
                                     "« default: true » (il en faut exactement une)")


def is_web_address(text: str) -> bool:
    """True for a complete http(s) address such as ``https://www.exemple.org/page``."""
    if any(ch.isspace() for ch in text):
        return False
    parts = urlparse(text)
    host = parts.hostname or ""
    return parts.scheme in ("http", "https") and "." in host.strip(".") and ".." not in host
