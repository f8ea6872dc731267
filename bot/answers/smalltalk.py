"""Small talk (bonjour, merci, qui es-tu, aide…) and subjects we decline (Pôle emploi…).

Small talk is recognised on the whole message, forgiving typos; a greeting at the start of a
real question ("bonjour, c'est quoi un PTCE ?") is peeled off so that the question gets answered.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.content.model import Intent
from bot.core.text import Normalizer, fold

_THANKS_EMOJI = re.compile("[👍🙏❤💯👌😊🙂☺]")
_FUZZY_MIN_LENGTH = 5
_FUZZY_CUTOFF = 88
_KEYWORD_MAX_WORDS = 8  # a longer message naming an insult is probably about something else
_VOCABULARY_MAX_WORDS = 6
# A message made only of courtesies ("bjr merci bcp", "ok super merci, bonne journée") answers
# the one that matters most: thanks before goodbye before greeting.
_COURTESIES = ("thanks", "goodbye", "greeting", "yes_no")
_COURTESY_MAX_WORDS = 12
_FILLERS = frozenset(
    "est c ce ca que qu a le la les l un une de des d du et vraiment tres trop bien beaucoup "
    "encore aussi alors donc oh ah eh".split()
)


@dataclass(frozen=True)
class Detected:
    """A recognised intent; ``rest`` is what remains of the message once a greeting is removed."""

    intent: Intent | None
    rest: str


class SmallTalk:
    """Recognises small-talk intents and out-of-scope subjects in a message."""

    def __init__(self, intents: Iterable[Intent], out_of_scope: Iterable[Intent],
                 normalizer: Normalizer) -> None:
        self._intents = tuple(intents)
        self._out_of_scope = tuple(out_of_scope)
        self._normalize = lambda text: " ".join(normalizer.words(text))
        self._patterns = {self._normalize(p): i for i in self._intents for p in i.patterns
                          if self._normalize(p)}
        self._pattern_list = list(self._patterns)
        self._vocabulary = {i.id: {w for p in i.patterns for w in self._normalize(p).split()}
                            for i in self._intents}
        # The words of every other intent, per intent (for _by_vocabulary).
        self._others = {i.id: set().union(*(v for k, v in self._vocabulary.items()
                                            if k != i.id)) for i in self._intents}
        # A message much longer than every pattern cannot be 88 % similar to one.
        self._fuzzy_max_length = int(max(map(len, self._pattern_list), default=0) * 1.3) + 1
        # One regular expression per subject: its patterns as whole words of the folded text.
        self._subjects = [
            (i, re.compile(" (?:" + "|".join(re.escape(fold(p)) for p in i.patterns
                                            if fold(p)) + ") "))
            for i in self._out_of_scope]
        self._keywords = {fold(k): i for i in self._intents for k in i.keywords}
        self._greetings = sorted(
            (fold(p) for i in self._intents if i.id == "greeting" for p in i.patterns),
            key=len, reverse=True)

    def detect(self, text: str) -> Detected:
        """The intent the whole message expresses, or the message without a leading greeting."""
        folded = fold(text)
        if not folded:
            thanks = self.intent("thanks") if _THANKS_EMOJI.search(text) else None
            return Detected(thanks, "")
        normalized = self._normalize(text)
        intent = self._patterns.get(normalized)
        if intent is None and _FUZZY_MIN_LENGTH <= len(normalized) <= self._fuzzy_max_length:
            found = process.extractOne(normalized, self._pattern_list, scorer=fuzz.token_sort_ratio,
                                       score_cutoff=_FUZZY_CUTOFF)
            if found is not None:
                intent = self._patterns[found[0]]
        if intent is None:
            intent = self._by_vocabulary(normalized.split())
        if intent is None:
            intent = self._courtesies(normalized.split())
        if intent is not None:
            return Detected(intent, "")
        for greeting in self._greetings:
            if folded.startswith(greeting + " "):
                return Detected(None, _drop_words(text, len(greeting.split())))
        return Detected(None, text)

    def out_of_scope(self, text: str) -> Intent | None:
        """The out-of-scope subject the message names, if any."""
        joined = f" {fold(text)} "
        return next((intent for intent, pattern in self._subjects if pattern.search(joined)),
                    None)

    def _by_vocabulary(self, words: list[str]) -> Intent | None:
        """The one intent whose patterns' words make up the whole of a short message.

        "merci c top" is thanks although no pattern is exactly that: every word is thanks
        vocabulary or filler, and "merci" belongs to no other intent.
        """
        if not words or len(words) > _VOCABULARY_MAX_WORDS:
            return None
        found = []
        for intent in self._intents:
            vocabulary, others = self._vocabulary[intent.id], self._others[intent.id]
            if all(w in vocabulary or w in _FILLERS for w in words) and any(
                w in vocabulary and w not in others and w not in _FILLERS for w in words
            ):
                found.append(intent)
        return found[0] if len(found) == 1 else None

    def _courtesies(self, words: list[str]) -> Intent | None:
        """The main courtesy of a message made of several ("bjr merci bcp"): every word is
        greeting, thanks, goodbye or yes/no vocabulary (or filler)."""
        if not words or len(words) > _COURTESY_MAX_WORDS:
            return None
        present = [i for i in _COURTESIES if i in self._vocabulary]
        known = set().union(*(self._vocabulary[i] for i in present)) | _FILLERS
        if not all(w in known for w in words):
            return None
        joined = f" {' '.join(words)} "
        for intent_id in present:  # the first whose whole pattern the message contains
            if any(f" {p} " in joined for p, i in self._patterns.items() if i.id == intent_id):
                return self.intent(intent_id)
        return None

    def courtesy_in(self, text: str) -> Intent | None:
        """Thanks or goodbye said in a longer message that asks nothing ("Merci, c'est très
        clair. Je reviendrai vers vous. Excellente soirée !"): for a message nothing else
        answered."""
        if "?" in text:
            return None
        joined = f" {self._normalize(text)} "
        for intent_id in ("thanks", "goodbye"):
            if any(f" {p} " in joined for p, i in self._patterns.items() if i.id == intent_id
                   and len(p) > 3):
                return self.intent(intent_id)
        return None

    def by_keyword(self, text: str) -> Intent | None:
        """An intent one of whose keywords a short message contains (e.g. an insult)."""
        words = fold(text).split()
        if len(words) > _KEYWORD_MAX_WORDS:
            return None
        return next((self._keywords[w] for w in words if w in self._keywords), None)

    def intent(self, intent_id: str) -> Intent | None:
        return next((i for i in self._intents if i.id == intent_id), None)


def _drop_words(text: str, count: int) -> str:
    """``text`` without its first ``count`` words (punctuation after them included)."""
    parts = re.split(r"[\s,;:!.]+", text.strip(), maxsplit=count)
    return parts[count] if len(parts) > count else ""
