"""Choosing the entry that answers a question: words and meaning together.

Two retrievers rank the knowledge entries: the lexical :class:`~bot.answers.faq.Matcher`
(fast, explainable, forgiving of typos and SMS spellings) and the
:class:`~bot.answers.semantic.SemanticIndex` (sentence embeddings: it knows that "statut
juridique" and "forme juridique" mean the same).
Their rankings are fused by reciprocal rank (``1/(k + rank)`` summed: robust where weighted sums
of their scores were not, see ``../shared/notes/matching-experiment.md``), and the decision
reads both:

- **answer** when the two agree on the best entry and at least one of them is sure of it, or
  when one is very sure and the other ranks the same entry close behind;
- **suggest** the fused top entries ("Vouliez-vous dire…") when they disagree, unless the
  candidates mean nearly the same thing (then the best is answered);
- **none** when neither finds anything close enough.

Without the semantic half (model not loadable, vectors still being computed) the lexical
decision is used alone, as before.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from bot.answers.faq import Match, Matcher, Scored, decide
from bot.answers.semantic import SemanticIndex
from bot.answers.steering import Reading, Steering
from bot.core.text import question_sentences, sentences

_RRF_K = 10  # rank fusion constant (results were the same for k from 1 to 60)
_CANDIDATES = 12


@dataclass(frozen=True)
class Policy:
    """Decision thresholds of the fused retriever (``python -m bot.ops.bench --calibrate``)."""

    lexical_sure: float = 0.55  # lexical score that answers when the semantic top agrees
    semantic_sure: float = 0.86  # semantic score that answers when the lexical top agrees
    lexical_strong: float = 0.85  # lexical score that answers with the semantic top-3 agreeing
    lexical_exact: float = 0.90  # lexical score that answers alone, given a clear margin
    lexical_margin: float = 0.10
    semantic_alone: float = 0.91  # semantic score that answers with the lexical top-3 agreeing
    semantic_floor: float = 0.875  # below, the semantic half finds nothing relevant
    about_floor: float = 0.85  # the same for a message that speaks of PTCE: choices, not "no"
    prefer_within: int = 4  # an entry written for the asker is preferred among the fused top…
    prefer_band: float = 0.02  # …when its semantic score is this close to the best
    lexical_floor: float = 0.50  # below, the lexical half finds nothing relevant
    suggest_band: float = 0.015  # semantic: candidates within this of the best are offered
    max_suggestions: int = 3


DEFAULT_POLICY = Policy()


@dataclass(frozen=True)
class Signals:
    """What both retrievers said about a question: enough to decide, print or calibrate."""

    lexical: tuple[Scored, ...]
    semantic: tuple[Scored, ...]  # empty without the semantic half
    fused: tuple[str, ...]  # entry ids, best first
    about_ptce: bool = False  # the message names PTCE (or "pôle de coopération")
    reading: Reading = field(default_factory=Reading)  # who asks; do they describe a project


class Retriever:
    """Lexical and semantic retrieval fused into one decision."""

    def __init__(self, matcher: Matcher, semantic: SemanticIndex | None = None,
                 policy: Policy = DEFAULT_POLICY, steering: Steering | None = None,
                 themes: dict[str, str] | None = None) -> None:
        self.matcher = matcher
        self.semantic = semantic
        self.policy = policy
        self.steering = steering
        self.themes = themes or {}  # entry id -> theme id

    @property
    def semantic_ready(self) -> bool:
        return self.semantic is not None and self.semantic.ready

    def signals(self, question: str) -> Signals:
        """Both rankings of ``question`` and their fusion."""
        lexical = self.matcher.match(question).ranking
        words = self.matcher.normalizer.words(question)
        about = "ptce" in words or ("pole" in words and "cooperation" in words)
        reading = self.steering.read(question, about) if self.steering else Reading()
        if not self.semantic_ready:
            return Signals(lexical, (), tuple(s.entry_id for s in lexical), about, reading)
        assert self.semantic is not None
        focus = question_sentences(question)
        self.semantic.embedder.require([question, focus] if focus else [question])
        scores = self.semantic.scores(question)
        if focus and focus != question:  # context, then the question: read both
            for entry_id, score in self.semantic.scores(focus).items():
                scores[entry_id] = max(scores[entry_id], score)
        semantic = tuple(Scored(e, round(s, 4)) for e, s in
                         sorted(scores.items(), key=lambda i: i[1], reverse=True)[:_CANDIDATES])
        fused: dict[str, float] = {}
        for ranking in (lexical, semantic):
            for rank, scored in enumerate(ranking):
                fused[scored.entry_id] = fused.get(scored.entry_id, 0.0) + 1 / (_RRF_K + rank)
        order = sorted(fused, key=lambda e: fused[e], reverse=True)
        return Signals(lexical, semantic, tuple(order), about, reading)

    def match(self, question: str) -> Match:
        """Answer, suggest or decline ``question``. Two questions in one ("un GE ou un GIE c
        un ptce ?") that the whole message does not answer at once, but each half does, get
        both entries."""
        parts = two_questions(question) if len(question.split()) <= _TWO_QUESTIONS_WORDS else None
        if self.semantic_ready and parts:
            assert self.semantic is not None  # all vectors asked at once (deferred mode)
            texts = [question, *parts]
            self.semantic.embedder.require(
                texts + [f for f in map(question_sentences, texts) if f])
        signals = self.signals(question)
        match = self.decide(signals)
        if parts:
            first, second = (self.decide(self.signals(p)) for p in parts)
            if (first.entry_id and second.entry_id and first.entry_id != second.entry_id
                    and match.entry_id in (None, first.entry_id, second.entry_id)):
                match = Match("answer", _first(first.entry_id, match.ranking),
                              also=(second.entry_id,))
        reading = signals.reading
        if match.status == "suggest" and reading.project_entry in match.suggestions:
            # Hesitating about a described project: the questionnaire entry settles it.
            match = Match("answer", _first(str(reading.project_entry), match.ranking))
        elif match.status == "suggest" and self._siblings(signals, match.suggestions[:2]):
            # Two entries of one theme that both retrievers rank high ("combien d'objectifs ?":
            # the three general ones and the nine principal ones): both answer, briefly.
            one, other = match.suggestions[:2]
            match = Match("answer", _first(one, match.ranking), also=(other,))
        return replace(match, describes_project=reading.describes_project)

    def _siblings(self, signals: Signals, entry_ids: tuple[str, ...]) -> bool:
        """Two entries of the same theme, both in the top three of both retrievers."""
        if len(entry_ids) != 2 or not signals.semantic:
            return False
        top = ({s.entry_id for s in signals.lexical[:3]}
               & {s.entry_id for s in signals.semantic[:3]})
        first, second = entry_ids
        return (first in top and second in top
                and self.themes.get(first) is not None
                and self.themes.get(first) == self.themes.get(second))

    def decide(self, signals: Signals) -> Match:
        """The decision from both rankings (see the module's docstring)."""
        lexical, semantic, policy = signals.lexical, signals.semantic, self.policy
        if not semantic:
            return decide(lexical, self.matcher.tuning)
        fused_ranking = tuple(Scored(e, 0.0) for e in signals.fused[:_CANDIDATES])
        lex_best = lexical[0] if lexical else Scored("", 0.0)
        sem_best = semantic[0]
        lex_top3 = {s.entry_id for s in lexical[:3]}
        sem_top3 = {s.entry_id for s in semantic[:3]}
        agree = lex_best.entry_id == sem_best.entry_id
        if agree and (lex_best.score >= policy.lexical_sure
                      or sem_best.score >= policy.semantic_sure):
            return Match("answer", _first(sem_best.entry_id, fused_ranking))
        floor = policy.about_floor if signals.about_ptce else policy.semantic_floor
        close_by_meaning = {s.entry_id: s.score for s in semantic
                            if s.score >= max(sem_best.score - policy.prefer_band, floor)}
        preferred = set(signals.reading.preferred)
        for entry_id in signals.fused[:policy.prefer_within]:  # written for who asks, and close
            if entry_id in preferred and entry_id in close_by_meaning:
                return Match("answer", _first(entry_id, fused_ranking))
        if sem_best.score >= policy.semantic_alone and sem_best.entry_id in lex_top3:
            return Match("answer", _first(sem_best.entry_id, fused_ranking))
        if lex_best.score >= policy.lexical_strong and lex_best.entry_id in sem_top3:
            return Match("answer", _first(lex_best.entry_id, fused_ranking))
        lex_margin = lex_best.score - (lexical[1].score if len(lexical) > 1 else 0.0)
        if lex_best.score >= policy.lexical_exact and lex_margin >= policy.lexical_margin:
            return Match("answer", _first(lex_best.entry_id, fused_ranking))  # near verbatim
        lex_relevant = lex_best.score >= policy.lexical_floor
        sem_relevant = sem_best.score >= floor
        if not lex_relevant and not sem_relevant:
            return Match("none", fused_ranking)
        close = {s.entry_id for s in semantic
                 if s.score >= max(sem_best.score - policy.suggest_band, floor)}
        if lex_relevant:
            close |= {s.entry_id for s in lexical[:2] if s.score >= policy.lexical_floor}
        offered = tuple(e for e in signals.fused if e in close)[:policy.max_suggestions]
        if len(offered) == 1:
            return Match("answer", _first(offered[0], fused_ranking))
        return Match("suggest", fused_ranking, offered)


# A comma before "et" / "ou" marks the joint between two questions better than a bare one
# ("la différence entre ptce et cluster, et combien il y en a ?").
_JOINERS = tuple(re.compile(p + r"\s+(?:et|ou|ainsi que)\s+(?:est-ce qu(?:e\s+|')|aussi\s+)?",
                            re.IGNORECASE) for p in (",", ""))
_TWO_QUESTIONS_WORDS = 20  # longer messages give context: they are read as one question
_SHORT_SUBJECT = 3  # words: "un GE", "la SCIC", "ptce"
_ASKING = frozenset("quoi qui quand comment combien pourquoi ou où quel quelle quels quelles"
                    .split())


def two_questions(text: str) -> tuple[str, str] | None:
    """The two questions of a message asking two things, or None.

    Two sentences ending with "?" are two questions. Otherwise the message is cut once at
    "et" / "ou": when the first part is a short subject sharing the rest's predicate ("un GE
    ou un GIE c un ptce ?"), it gets the predicate too ("un GE c un ptce ?")."""
    asked = [s for s in sentences(text) if s.rstrip().endswith("?")]
    if len(asked) >= 2:
        return asked[-2], asked[-1]
    question = asked[0] if asked else text.strip()
    pieces = next((found for joiner in _JOINERS
                   if len(found := joiner.split(question, maxsplit=1)) == 2), None)
    if pieces is None or not pieces[0].strip() or not pieces[1].strip():
        return None
    first, second = pieces[0].split(), pieces[1].split()
    if (len(first) <= _SHORT_SUBJECT and len(second) > len(first) + 1
            and not _ASKING & {w.lower() for w in first}):
        first = first + second[len(first):]
    return " ".join(first), " ".join(second)


def _first(entry_id: str, ranking: tuple[Scored, ...]) -> tuple[Scored, ...]:
    """``ranking`` with ``entry_id`` first."""
    return (Scored(entry_id, 1.0), *(s for s in ranking if s.entry_id != entry_id))
