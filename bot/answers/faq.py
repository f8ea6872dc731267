"""Finding the knowledge entry that answers a question typed in French.

Each entry is indexed through its question phrasings, title, keywords and answer, all
normalised by :class:`bot.core.text.Normalizer`. A question is scored against every entry that
shares a token with it:

- ``phrasing``: IDF-weighted cosine with the entry's closest phrasing (or its title);
- ``coverage``: share of the question's weight that the entry's questions and keywords explain;
- ``answer``: share of the question's weight found anywhere in the entry, answer included;
- ``fuzzy``: rapidfuzz similarity of the question's words with the closest phrasing, which
  forgives typos and word order.

A query word unknown to the index is corrected to the closest indexed word when rapidfuzz finds
one close enough (typo tolerance); an unknown word that stays unknown weighs in the question's
norm, so a question mostly about something else scores low.

:meth:`Matcher.match` turns the ranking into a decision with thresholds calibrated on
``tests/data/faq_dev.yaml`` (see ``python -m bot.ops.bench --calibrate``): answer, offer up to
three "Vouliez-vous dire…" choices, or admit there is no answer.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import numpy
from rapidfuzz import fuzz, process

from bot.content.model import Entry
from bot.core.text import Normalizer, question_sentences
from bot.storage import cache

_SHORTLIST = 60  # entries, by phrasing similarity, whose coverage is computed
_CANDIDATES = 12  # entries re-ranked with rapidfuzz
_TYPO_DISCOUNT = 0.8  # a corrected word weighs less than a word typed right
_TYPO_MIN_LENGTH = 5  # shorter words are too easily "corrected" into another word
_TYPO_CUTOFF = 80  # rapidfuzz ratio: one edit in five letters

_LONG_QUESTION = 12  # content words; longer messages are also ranked on their question part

Status = Literal["answer", "suggest", "none"]


@dataclass(frozen=True)
class Tuning:
    """Signal weights and decision thresholds. The defaults were calibrated on
    ``tests/data/faq_dev.yaml`` with ``python -m bot.ops.bench --calibrate``."""

    phrasing: float = 0.375
    coverage: float = 0.29
    answer: float = 0.085
    fuzzy: float = 0.25
    recall: float = 0.0  # share of the closest phrasing found in the question
    unknown_weight: float = 1.0  # an unknown word weighs this times the rarest known word
    answer_threshold: float = 0.60  # below: never answer directly
    clear_margin: float = 0.08  # the best must lead the runner-up by this much to be answered
    suggest_threshold: float = 0.42  # below: no suggestion either
    suggest_band: float = 0.12  # suggestions are the candidates within this band of the best
    max_suggestions: int = 3


DEFAULT_TUNING = Tuning()


@dataclass(frozen=True)
class Scored:
    entry_id: str
    score: float


@dataclass(frozen=True)
class Match:
    """The matcher's decision: what to answer, or which entries to offer."""

    status: Status
    ranking: tuple[Scored, ...]  # best first, at most _CANDIDATES
    suggestions: tuple[str, ...] = ()  # "Vouliez-vous dire…" choices when status is "suggest"
    also: tuple[str, ...] = ()  # two questions in one: the entry answering the second one
    describes_project: bool = False  # the asker describes their project: offer the questionnaire

    @property
    def entry_id(self) -> str | None:
        """The entry to answer with, when ``status == "answer"``."""
        return self.ranking[0].entry_id if self.status == "answer" else None


@dataclass
class _Doc:
    entry_id: str
    tokens: frozenset[str]
    norm: float  # sqrt of the sum of squared IDF of its tokens
    sorted_text: str  # the same words in alphabetical order, for rapidfuzz


class Matcher:
    """An index of knowledge entries answering :meth:`match` queries."""

    def __init__(self, entries: Iterable[Entry], normalizer: Normalizer,
                 tuning: Tuning = DEFAULT_TUNING) -> None:
        self.normalizer = normalizer
        self.tuning = tuning
        self._question_side: dict[str, set[str]] = {}  # entry -> tokens of questions, keywords
        self._whole: dict[str, set[str]] = {}  # entry -> all its tokens, answer included
        self._surface: dict[str, str] = {}  # indexed word -> its token, for typo correction
        phrasings: list[tuple[str, list[str]]] = []  # (entry id, content words)
        for entry in entries:
            phrasings += self._read_entry(entry)
        self._weigh_tokens()
        self._index_phrasings(phrasings)
        self._surface_words = list(self._surface)
        self._correct = lru_cache(maxsize=20_000)(self._correct_uncached)

    @classmethod
    def kept(cls, entries: Iterable[Entry], sms: Mapping[str, str],
             synonyms: Mapping[str, Iterable[str]]) -> Matcher:
        """The matcher of ``entries`` with a :class:`Normalizer` of ``sms`` and ``synonyms``,
        read back from the cache when these very texts were indexed before by this code
        (:mod:`bot.storage.cache`: 15 ms instead of 0.2 s)."""
        entries = list(entries)
        texts = [[e.id, list(e.questions), e.title, list(e.keywords), e.answer]
                 for e in entries]
        words = {concept: list(variants) for concept, variants in synonyms.items()}
        signature = json.dumps([texts, dict(sms), words], ensure_ascii=False)
        return cache.kept("matcher", cache.key(signature),
                          lambda: cls(entries, Normalizer(sms, synonyms)))

    def __getstate__(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if k != "_correct"}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        self._correct = lru_cache(maxsize=20_000)(self._correct_uncached)

    def _read_entry(self, entry: Entry) -> list[tuple[str, list[str]]]:
        """Record the entry's tokens; return its phrasings' content words."""
        to_token = self.normalizer.token
        phrasings = [(entry.id, self.normalizer.content_words(p))
                     for p in (*entry.questions, entry.title)]
        keywords = [w for k in entry.keywords for w in self.normalizer.content_words(k)]
        answer = self.normalizer.content_words(entry.answer)
        question_words = [w for _, words in phrasings for w in words] + keywords
        for word in question_words + answer:
            self._surface[word] = to_token(word)
        self._question_side[entry.id] = {to_token(w) for w in question_words}
        self._whole[entry.id] = self._question_side[entry.id] | {to_token(w) for w in answer}
        return phrasings

    def _weigh_tokens(self) -> None:
        """Squared IDF of every token, counted over entries."""
        count = len(self._whole)
        self._frequency: dict[str, int] = defaultdict(int)
        for tokens in self._whole.values():
            for token in tokens:
                self._frequency[token] += 1
        self._idf2 = {t: math.log(1 + count / f) ** 2 for t, f in self._frequency.items()}
        self._max_idf2 = max(self._idf2.values(), default=1.0)
        # A token in more than this many entries only re-scores phrasings found by rarer ones.
        self._common = max(50, count // 40)

    def _index_phrasings(self, phrasings: list[tuple[str, list[str]]]) -> None:
        """The inverted index from tokens to phrasings, and each phrasing's norm."""
        postings: dict[str, list[int]] = defaultdict(list)
        self._docs: list[_Doc] = []
        self._entry_docs: dict[str, list[int]] = defaultdict(list)
        for entry_id, words in phrasings:
            tokens = frozenset(self.normalizer.token(w) for w in words)
            if not tokens:
                continue
            index = len(self._docs)
            norm = math.sqrt(sum(self._idf2[t] for t in sorted(tokens)))  # same sum every run
            self._docs.append(_Doc(entry_id, tokens, norm, " ".join(sorted(words))))
            self._entry_docs[entry_id].append(index)
            for token in tokens:
                postings[token].append(index)
        self._postings = dict(postings)
        self._entry_of = [d.entry_id for d in self._docs]
        self._norm_of = [d.norm for d in self._docs]

    # ----------------------------------------------------------------------------------------

    def match(self, question: str) -> Match:
        """Rank the entries for ``question`` and decide what to do with the ranking.

        A long message that tells its context before asking ("Je suis élue d'une commune
        rurale… Comment une collectivité peut-elle aider ?") is also ranked on its question
        sentences alone; each entry keeps its better score."""
        ranking = self.rank(question)
        focus = question_sentences(question)
        if focus and len(self.normalizer.content_words(question)) > _LONG_QUESTION:
            best = {s.entry_id: s.score for s in ranking}
            for scored in self.rank(focus):
                best[scored.entry_id] = max(best.get(scored.entry_id, 0.0), scored.score)
            ranking = tuple(sorted((Scored(e, s) for e, s in best.items()),
                                   key=lambda s: s.score, reverse=True)[:_CANDIDATES])
        return decide(ranking, self.tuning)

    def rank(self, question: str) -> tuple[Scored, ...]:
        """The best entries for ``question``, best first, with their combined scores."""
        words = self.normalizer.content_words(question)
        weights = self._query_weights(words)
        total = sum(weights.values())
        if not total:
            return ()
        query_norm = math.sqrt(total)

        dots = self._dot_products(weights)
        # The closest phrasing of each entry (hot loop: plain lists, no attribute look-ups).
        entry_of, norm_of = self._entry_of, self._norm_of
        closest: dict[str, float] = {}
        closest_index: dict[str, int] = {}
        for index, dot in dots.items():
            similarity = dot / norm_of[index]
            entry_id = entry_of[index]
            if similarity > closest.get(entry_id, -1.0):
                closest[entry_id] = similarity
                closest_index[entry_id] = index

        tuning = self.tuning
        partial: list[tuple[float, str]] = []
        for entry_id in heapq.nlargest(_SHORTLIST, closest, key=closest.__getitem__):
            index = closest_index[entry_id]
            cosine = closest[entry_id] / query_norm
            recall = dots[index] / norm_of[index] ** 2
            side, whole = self._question_side[entry_id], self._whole[entry_id]
            coverage = answer = 0.0
            for token, weight in weights.items():  # the question's few tokens, in order
                if token in whole:  # the question side is part of the whole
                    answer += weight
                    if token in side:
                        coverage += weight
            score = (tuning.phrasing * cosine + tuning.coverage * coverage / total
                     + tuning.answer * answer / total + tuning.recall * recall)
            partial.append((score, entry_id))
        partial.sort(reverse=True)

        # rapidfuzz's token_sort_ratio, with the phrasings' words sorted once at indexing and
        # every candidate phrasing compared in one call.
        query_sorted = " ".join(sorted(words))
        candidates = partial[:_CANDIDATES]
        texts = [self._docs[i].sorted_text for _, entry_id in candidates
                 for i in self._entry_docs[entry_id]]
        best = [0.0] * len(candidates)
        if texts:
            # Each candidate's phrasings are consecutive in ``texts`` (every entry has one at
            # least): its best similarity is the maximum over its slice.
            starts = list(itertools.accumulate(
                (len(self._entry_docs[entry_id]) for _, entry_id in candidates), initial=0))
            similarities = process.cdist([query_sorted], texts, scorer=fuzz.ratio, workers=1)[0]
            best = numpy.maximum.reduceat(similarities, starts[:-1]).tolist()
        scored = [Scored(entry_id, round(score + tuning.fuzzy * best[n] / 100, 4))
                  for n, (score, entry_id) in enumerate(candidates)]
        scored.sort(key=lambda s: s.score, reverse=True)
        return tuple(scored)

    # ----------------------------------------------------------------------------------------

    def _dot_products(self, weights: dict[str, float]) -> dict[int, float]:
        """Weighted overlap of the query with every phrasing sharing a token with it.

        Tokens found in many entries (like ``ptce``) only add to phrasings a rarer token already
        found, which keeps a query fast on a large base; if all tokens are common, the two
        rarest find the phrasings.
        """
        dots: dict[int, float] = defaultdict(float)
        known = sorted((t for t in weights if t in self._postings),
                       key=self._frequency.__getitem__)
        rare = [t for t in known if self._frequency[t] <= self._common] or known[:2]
        for token in rare:
            for index in self._postings[token]:
                dots[index] += weights[token]
        docs = self._docs
        for token in known[len(rare):]:
            weight = weights[token]
            for index in dots:
                if token in docs[index].tokens:
                    dots[index] += weight
        return dots

    def _query_weights(self, words: list[str]) -> dict[str, float]:
        """Squared IDF per query token, after typo correction; unknown words weigh most."""
        weights: dict[str, float] = {}
        for word in words:
            token = self.normalizer.token(word)
            if token in self._idf2:
                weights[token] = self._idf2[token]
                continue
            corrected = self._correct(word)
            if corrected is None:
                weights[token] = self._max_idf2 * self.tuning.unknown_weight
            else:
                fixed, similarity = corrected
                weights[fixed] = max(weights.get(fixed, 0.0),
                                     self._idf2[fixed] * _TYPO_DISCOUNT * similarity)
        return weights

    def _correct_uncached(self, word: str) -> tuple[str, float] | None:
        """The indexed token closest to an unknown ``word``, with its similarity (0–1)."""
        if len(word) < _TYPO_MIN_LENGTH or word.isdigit():
            return None
        found = process.extractOne(word, self._surface_words, scorer=fuzz.ratio,
                                   score_cutoff=_TYPO_CUTOFF)
        if found is None:
            return None
        return self._surface[found[0]], found[1] / 100


def decide(ranking: tuple[Scored, ...], tuning: Tuning = DEFAULT_TUNING) -> Match:
    """Answer, suggest or decline, from a ranking (best first)."""
    if not ranking or ranking[0].score < tuning.suggest_threshold:
        return Match("none", ranking)
    best = ranking[0].score
    runner_up = ranking[1].score if len(ranking) > 1 else 0.0
    if best >= tuning.answer_threshold and best - runner_up >= tuning.clear_margin:
        return Match("answer", ranking)
    floor = max(tuning.suggest_threshold, best - tuning.suggest_band)
    suggestions = tuple(s.entry_id for s in ranking[: tuning.max_suggestions] if s.score >= floor)
    return Match("suggest", ranking, suggestions)
