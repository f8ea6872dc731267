"""French text normalisation for matching questions as people type them.

The pipeline, applied identically to user questions and to knowledge entries:

1. :func:`fold` — lower case, accents and ligatures removed, typographic apostrophes unified,
   elisions (``l'``, ``qu'``, ``jusqu'``…) dropped, punctuation turned into spaces;
2. SMS spellings replaced word by word (``koi`` → ``quoi``, ``pk`` → ``pourquoi``);
3. multi-word synonyms and abbreviations folded into one concept token (``pôle territorial de
   coopération économique`` → ``ptce``, ``GE`` → ``groupement-employeurs``);
4. stop words dropped and the remaining words stemmed with the French Snowball stemmer
   (concept tokens are never stemmed nor dropped).

The SMS and synonym tables come from ``knowledge/synonyms.yaml``: a domain expert edits them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache

import snowballstemmer

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'", "′": "'"})
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})
# Elided words: "l'ess", "qu'est", "jusqu'à", "aujourd'hui" stays whole (no elision there).
_ELISION = re.compile(r"\b(?:l|d|j|m|n|s|t|c|qu|jusqu|lorsqu|puisqu|quoiqu)'(?=\w)")
_NON_WORD = re.compile(r"[^0-9a-z]+")
_CAPITALS = re.compile(r"\b[A-Z]{2,6}\b")

STOP_WORDS = frozenset(
    """
    a ai aie ais ait as au aux avec avez avoir c ca ce ceci cela celle celles celui ces cet cette
    ceux chez d dans de des du elle elles en es est et etc etaient etait etant ete etre eu eux
    il ils j je l la le les leur leurs lui m ma mais me meme mes moi mon n ne nos notre nous
    on ont ou par peu peut peuvent pouvez puis qu que quel quelle quelles quels qui quoi s sa
    sais sait sans se ses si soit sommes son sont sur t ta te tes toi ton tu un une vos votre
    vous y svp stp merci bien alors donc voila dire dites expliquer explique expliquez
    savoir veux voudrais aimerais souhaite besoin info infos information informations
    question plait ptit petit petite fait faire fais font pour tout tous toute toutes
    comme plus tres aussi autre autres chose choses faut falloir ok va vont
    """.split()
)

_STEMMER = snowballstemmer.stemmer("french")
# Combining marks (accents) left by NFKD decomposition.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")


@lru_cache(maxsize=256)  # patterns and phrasings folded again and again; a message a few times
def fold(text: str) -> str:
    """Return ``text`` lower-cased, without accents, elisions or punctuation.

    >>> fold("Qu'est-ce qu'un Pôle territorial ?")
    'est ce un pole territorial'
    """
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).lower()
    text = text.translate(_LIGATURES)
    text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    text = _ELISION.sub(" ", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


@lru_cache(maxsize=50_000)
def stem(word: str) -> str:
    """Stem one folded French word (numbers are kept as they are)."""
    return word if word.isdigit() else _STEMMER.stemWord(word)


class Normalizer:
    """Turns French text into the tokens the matcher compares.

    ``sms`` maps one word to its standard spelling (possibly several words); ``synonyms`` maps
    a concept token to the phrases that mean it (the concept itself always means itself).
    """

    def __init__(
        self,
        sms: Mapping[str, str] | None = None,
        synonyms: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self._sms = {fold(k): fold(v).split() for k, v in (sms or {}).items()}
        # One word must match exactly ("coordinateur" and "coordination" share a stem);
        # a phrase matches on stems, so plurals and conjugations need not be listed.
        self._words: dict[str, str] = {}
        self._phrases: dict[tuple[str, ...], str] = {}
        # An acronym that is also a common word ("MES" and "mes") counts only in capitals.
        self._capitals: dict[str, str] = {}
        for concept, variants in (synonyms or {}).items():
            for variant in [concept, *variants]:
                words = _expand(fold(variant).split(), self._sms)
                if variant.isupper() and len(words) == 1 and words[0] in STOP_WORDS:
                    placeholder = "acronym" + "".join(fold(concept).split())
                    self._capitals[variant] = f" {placeholder} "
                    self._words[placeholder] = concept
                elif len(words) == 1:
                    self._words[words[0]] = concept
                elif words:
                    self._phrases[tuple(stem(w) for w in words)] = concept
        # The longest phrase starting with each stem: most words start none, and are passed
        # over at once.
        self._longest: dict[str, int] = {}
        for phrase in self._phrases:
            self._longest[phrase[0]] = max(self._longest.get(phrase[0], 0), len(phrase))
        self._concepts_set = frozenset(synonyms or ())
        # One message is normalised by small talk, the off-topic check and the matcher: once
        # (a small cache: it serves the message being handled, not later ones).
        self._words_cached = lru_cache(maxsize=8)(self._words_uncached)

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_words_cached"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._words_cached = lru_cache(maxsize=8)(self._words_uncached)

    def words(self, text: str) -> list[str]:
        """Folded words with SMS spellings expanded and synonyms turned into concepts."""
        return list(self._words_cached(text))

    def _words_uncached(self, text: str) -> tuple[str, ...]:
        if self._capitals:
            text = _CAPITALS.sub(lambda m: self._capitals.get(m.group(), m.group()), text)
        return tuple(self._concepts(_expand(fold(text).split(), self._sms)))

    def content_words(self, text: str) -> list[str]:
        """:meth:`words` without stop words (concepts always kept)."""
        return [w for w in self.words(text) if w in self._concepts_set or w not in STOP_WORDS]

    def token(self, word: str) -> str:
        """The token of one content word: a concept stays whole, another word is stemmed."""
        return word if word in self._concepts_set else stem(word)

    def tokens(self, text: str) -> list[str]:
        """Content tokens of ``text``: content words, stemmed unless they are concepts."""
        return [self.token(w) for w in self.content_words(text)]

    def _concepts(self, words: list[str]) -> list[str]:
        stems = [stem(w) for w in words]
        out: list[str] = []
        i = 0
        while i < len(words):
            for n in range(min(self._longest.get(stems[i], 0), len(words) - i), 1, -1):
                concept = self._phrases.get(tuple(stems[i : i + n]))
                if concept is not None:
                    out.append(concept)
                    i += n
                    break
            else:
                out.append(self._words.get(words[i], words[i]))
                i += 1
        return out


def _expand(words: list[str], sms: Mapping[str, list[str]]) -> list[str]:
    out: list[str] = []
    for word in words:
        out.extend(sms.get(word, (word,)))
    return out


_SENTENCE_END = re.compile(r"(?<=[.?!…])\s+")


def sentences(text: str) -> list[str]:
    """The sentences of ``text``, cut after ``.``, ``?``, ``!`` or ``…``."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s.strip()]


def question_sentences(text: str) -> str | None:
    """The last one or two sentences ending with "?" of a message of several sentences (its
    last sentence if none does); None for a single sentence."""
    found = sentences(text)
    if len(found) < 2:
        return None
    questions = [s for s in found if s.rstrip().endswith("?")]
    return " ".join(questions[-2:]) if questions else found[-1]


# --------------------------------------------------------------------------------------------
# French as an editor writes it: dates, non-breaking spaces

UNDATED = "s.d."  # a page that gives no date
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
          "octobre", "novembre", "décembre")
PARIS = "Europe/Paris"


def french_date(date: str) -> str:
    """``2023-05`` → ``mai 2023``; ``2021-05-12`` → ``12 mai 2021``; ``2021-05-01`` →
    ``1er mai 2021``; ``2015`` stays; ``s.d.`` → ``page non datée``; anything else (or a
    longer timestamp, cut to its date) is returned as it came."""
    if date == UNDATED:
        return "page non datée"
    match = re.fullmatch(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?", date.strip()[:10])
    if match is None:
        return date
    year, month, day = match.groups()
    if month is None:
        return year
    if day is None:
        return f"{MONTHS[int(month) - 1]} {year}"
    return f"{'1er' if int(day) == 1 else int(day)} {MONTHS[int(month) - 1]} {year}"


def french_datetime(moment: str) -> str:
    """An ISO timestamp (UTC when it carries no offset) as read in France:
    ``2026-12-02T09:29:00+00:00`` → ``2 décembre 2026 à 10 h 29``."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    try:
        when = datetime.fromisoformat(moment.strip())
    except ValueError:
        return moment
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    local = when.astimezone(ZoneInfo(PARIS))
    return f"{french_date(local.date().isoformat())} à {local.hour} h {local.minute:02d}"


_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


def clean_field(text: str, max_length: int) -> str:
    """A typed contact field as it may be stored and forwarded: NUL, control, format
    (zero-width, bidirectional overrides) and unassigned characters removed, spaces
    collapsed; "" when nothing visible is left (a name of invisible characters)."""
    kept = "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE or c in "\n")
    lines = [" ".join(line.split()) for line in kept.splitlines()]
    cleaned = "\n".join(line for line in lines if line).strip()
    return cleaned if len(cleaned) <= max_length else ""


_NARROW_BEFORE = re.compile(r"[ \u00a0]+([;?!])")
_BEFORE_COLON = re.compile(r"[ \u202f]+:(?=\s|$)")
_AFTER_OPENING = re.compile(r"«[ \u202f]*")
_BEFORE_CLOSING = re.compile(r"[ \u202f]*»")
_NUMERO = re.compile(r"\bn° ")


def typeset(text: str) -> str:
    """French typography for what a user reads: a narrow no-break space before ; ? ! (only
    where a space was typed), a no-break space before a colon, inside « » and after « n° »,
    so that « PTCE ? » never wraps before its question mark. URLs and times are untouched."""
    text = _NARROW_BEFORE.sub("\u202f\\1", text)
    text = _BEFORE_COLON.sub("\u00a0:", text)
    text = _AFTER_OPENING.sub("«\u00a0", text)
    text = _BEFORE_CLOSING.sub("\u00a0»", text)
    return _NUMERO.sub("n°\u00a0", text)


# --------------------------------------------------------------------------------------------
# Personal data in text

# Each match may only start where a run of its characters starts (the look-behinds): a long
# text without "@" is then read once, not once per position (which was quadratic).
_EMAIL_IN_TEXT = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_IN_TEXT = re.compile(r"(?:\+|\b0)\d(?:[\s.-]?\d{2}){4}\b|(?<![\d+])\+\d[\d\s.-]{7,}\d")
_EMAIL_ADDRESS = re.compile(
    r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")


def mask_personal_data(text: str) -> str:
    """Replace e-mail addresses and phone numbers by placeholders."""
    return _PHONE_IN_TEXT.sub("[téléphone]", _EMAIL_IN_TEXT.sub("[e-mail]", text))


def has_personal_data(text: str) -> bool:
    """Whether ``text`` holds an e-mail address or a phone number."""
    return bool(_EMAIL_IN_TEXT.search(text) or _PHONE_IN_TEXT.search(text))


def valid_email(text: str) -> str | None:
    """The address, trimmed, if it looks like one."""
    text = text.strip()
    return text if len(text) <= 254 and _EMAIL_ADDRESS.match(text) else None
