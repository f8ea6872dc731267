"""Choosing the entry that answers a question: words and meaning together.

Two retrievers rank the knowledge entries: the lexical :class:`~bot.faq.Matcher` (fast,
explainable, forgiving of typos and SMS spellings) and the :class:`~bot.semantic.SemanticIndex`
(sentence embeddings: it knows that "statut juridique" and "forme juridique" mean the same).
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

from dataclasses import dataclass

from .faq import Match, Matcher, Scored, decide, question_sentences
from .semantic import SemanticIndex

_RRF_K = 10  # rank fusion constant (results were the same for k from 1 to 60)
_CANDIDATES = 12


@dataclass(frozen=True)
class Policy:
    """Decision thresholds of the fused retriever (``python -m bot.bench --calibrate``)."""

    lexical_sure: float = 0.55  # lexical score that answers when the semantic top agrees
    semantic_sure: float = 0.86  # semantic score that answers when the lexical top agrees
    lexical_exact: float = 0.90  # lexical score that answers alone, given a clear margin
    lexical_margin: float = 0.10
    semantic_alone: float = 0.91  # semantic score that answers with the lexical top-3 agreeing
    semantic_floor: float = 0.875  # below, the semantic half finds nothing relevant
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


class Retriever:
    """Lexical and semantic retrieval fused into one decision."""

    def __init__(self, matcher: Matcher, semantic: SemanticIndex | None = None,
                 policy: Policy = DEFAULT_POLICY) -> None:
        self.matcher = matcher
        self.semantic = semantic
        self.policy = policy

    @property
    def semantic_ready(self) -> bool:
        return self.semantic is not None and self.semantic.ready

    def signals(self, question: str) -> Signals:
        """Both rankings of ``question`` and their fusion."""
        lexical = self.matcher.match(question).ranking
        if not self.semantic_ready:
            return Signals(lexical, (), tuple(s.entry_id for s in lexical))
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
        return Signals(lexical, semantic, tuple(order))

    def match(self, question: str) -> Match:
        """Answer, suggest or decline ``question``."""
        return self.decide(self.signals(question))

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
        if sem_best.score >= policy.semantic_alone and sem_best.entry_id in lex_top3:
            return Match("answer", _first(sem_best.entry_id, fused_ranking))
        if lex_best.score >= policy.lexical_sure + 0.1 and lex_best.entry_id in sem_top3:
            return Match("answer", _first(lex_best.entry_id, fused_ranking))
        lex_margin = lex_best.score - (lexical[1].score if len(lexical) > 1 else 0.0)
        if lex_best.score >= policy.lexical_exact and lex_margin >= policy.lexical_margin:
            return Match("answer", _first(lex_best.entry_id, fused_ranking))  # near verbatim
        lex_relevant = lex_best.score >= policy.lexical_floor
        sem_relevant = sem_best.score >= policy.semantic_floor
        if not lex_relevant and not sem_relevant:
            return Match("none", fused_ranking)
        close = {s.entry_id for s in semantic
                 if s.score >= max(sem_best.score - policy.suggest_band, policy.semantic_floor)}
        if lex_relevant:
            close |= {s.entry_id for s in lexical[:2] if s.score >= policy.lexical_floor}
        offered = tuple(e for e in signals.fused if e in close)[:policy.max_suggestions]
        if len(offered) == 1:
            return Match("answer", _first(offered[0], fused_ranking))
        return Match("suggest", fused_ranking, offered)


def _first(entry_id: str, ranking: tuple[Scored, ...]) -> tuple[Scored, ...]:
    """``ranking`` with ``entry_id`` first."""
    return (Scored(entry_id, 1.0), *(s for s in ranking if s.entry_id != entry_id))
