"""Measuring how questions are answered: accuracy on question sets, latency, memory.

``python -m bot.ops.bench`` asks every question of three sets through the conversation core, as a
user would, and prints direct right answers, wrong direct answers, suggestions (and how often
their first choice is right), abstentions on questions about PTCE, off-topic questions
declined and small talk recognised:

- ``tests/data/faq_dev.yaml``, the set the decision thresholds are calibrated on;
- ``benchmarks/data/faq_holdout.yaml``, never used for tuning;
- ``benchmarks/data/faq_blind.yaml``, long, contextual and persona questions, two questions in
  one and "near me" questions, written by someone who had not seen the knowledge base (its
  failures were read while building personas, two questions in one and "near me");
- ``benchmarks/data/faq_blind2.yaml``, a second such set, written and labelled the same way and
  kept unread until the final measurement.

Then the model's load time, matching latency p50/p99 (each question's vector computed anew) on
the shipped base and on a synthetic base of 10,000 entries, and the process's peak memory.
``--calibrate`` grid-searches the fused decision's :class:`~bot.answers.retrieval.Policy` on the dev
set. Figures are printed, never asserted: the accuracy floors are asserted by the test suite.
"""

from __future__ import annotations

import argparse
import itertools
import random
import resource
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy
import yaml

from bot.answers import semantic
from bot.answers.faq import Matcher
from bot.answers.retrieval import DEFAULT_POLICY, Policy, Retriever, Signals
from bot.answers.semantic import EntryVectors, SemanticIndex, passages
from bot.content import load as content_module
from bot.content.model import Content, Entry
from bot.core.conversation import ENTRY, Conversation
from bot.core.messages import Input, Reply, User
from bot.storage.db import Store

ROOT = Path(__file__).resolve().parents[2]  # the checkout
DEV_SET = ROOT / "tests" / "data" / "faq_dev.yaml"
HOLDOUT_SET = ROOT / "benchmarks" / "data" / "faq_holdout.yaml"
BLIND_SET = ROOT / "benchmarks" / "data" / "faq_blind.yaml"
FINAL_SET = ROOT / "benchmarks" / "data" / "faq_blind2.yaml"
_USER = User("bench", "bench")


@dataclass(frozen=True)
class Item:
    """One evaluation question and what it expects: entry ids, ``none`` or ``smalltalk:x``."""

    question: str
    expect: tuple[str, ...]
    kind: str

    @property
    def in_scope(self) -> bool:
        """About PTCE: an entry (or a region's poles, ``local:<region>``) answers it."""
        return self.expect[0] != "none" and not self.expect[0].startswith("smalltalk:")


def load_items(path: Path) -> list[Item]:
    """The items of a question set file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = []
    for raw in data["items"]:
        expect = raw["expect"]
        expect = tuple(expect) if isinstance(expect, list) else (str(expect),)
        items.append(Item(str(raw["q"]), expect, raw.get("kind", "")))
    return items


@dataclass(frozen=True)
class Outcome:
    """What the assistant did with one item."""

    item: Item
    status: str  # answer, suggest, local, smalltalk, none
    shown: tuple[str, ...]  # entry answered, suggestions offered, local:<region>, small talk

    @property
    def top1(self) -> bool:
        """In scope: the first thing shown (answer or first suggestion) is an expected entry."""
        return bool(self.shown) and self.status in ("answer", "suggest", "local") \
            and self.shown[0] in self.item.expect

    @property
    def direct(self) -> bool:
        """Answered at once (an entry, or a region's poles), without choices to make."""
        return self.status in ("answer", "local")

    @property
    def wrong_answer(self) -> bool:
        return self.direct and self.shown[0] not in self.item.expect

    @property
    def abstained(self) -> bool:
        """No entry was answered or offered."""
        return self.status not in ("answer", "suggest", "local")


def outcome(item: Item, replies: Sequence[Reply]) -> Outcome:
    """Classify the replies the conversation gave to ``item``."""
    reply = replies[0]
    if reply.kind == "answer" and reply.entry_id:
        return Outcome(item, "answer", (reply.entry_id,))
    if reply.kind == "suggest":
        ids = tuple(b.data[len(ENTRY):] for row in reply.buttons for b in row
                    if b.data.startswith(ENTRY))
        return Outcome(item, "suggest", ids)
    if reply.kind == "local" and reply.intent:
        return Outcome(item, "local", (f"local:{reply.intent}",))
    if reply.kind == "smalltalk" and reply.intent:
        return Outcome(item, "smalltalk", (f"smalltalk:{reply.intent}",))
    return Outcome(item, "none", ())


@dataclass
class Report:
    """Accuracy figures over a question set."""

    outcomes: list[Outcome] = field(default_factory=list)

    @property
    def in_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.item.in_scope]

    @property
    def out_of_scope(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.item.expect == ("none",)]

    @property
    def smalltalk(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.item.expect[0].startswith("smalltalk:")]

    @property
    def top1(self) -> float:
        return _share(o.top1 for o in self.in_scope)

    @property
    def answered_right(self) -> float:
        return _share(o.direct and o.top1 for o in self.in_scope)

    @property
    def wrong_answers(self) -> float:
        return _share(o.wrong_answer for o in self.in_scope)

    @property
    def suggested(self) -> float:
        """In scope: share answered with "Vouliez-vous dire…" choices."""
        return _share(o.status == "suggest" for o in self.in_scope)

    @property
    def suggested_right_first(self) -> float:
        """Among those choices, share whose first choice is right."""
        return _share(o.top1 for o in self.in_scope if o.status == "suggest")

    @property
    def in_scope_abstention(self) -> float:
        """In scope: share given no entry at all."""
        return _share(o.abstained for o in self.in_scope)

    @property
    def abstention(self) -> float:
        """Out of scope: share declined without offering any entry."""
        return _share(o.abstained for o in self.out_of_scope)

    @property
    def smalltalk_right(self) -> float:
        return _share(o.shown[:1] == o.item.expect[:1] for o in self.smalltalk)

    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes
                if (o.item.in_scope and not o.top1)
                or (o.item.expect == ("none",) and not o.abstained)
                or (o in self.smalltalk and o.shown[:1] != o.item.expect[:1])]

    def summary(self) -> str:
        kinds = Counter(o.item.kind for o in self.in_scope)
        right = Counter(o.item.kind for o in self.in_scope if o.top1)
        by_kind = ", ".join(f"{k} {right[k]}/{n}" for k, n in sorted(kinds.items()))
        return (
            f"in scope {len(self.in_scope)}: direct right {self.answered_right:.1%}, "
            f"wrong direct {self.wrong_answers:.1%}, suggestions {self.suggested:.1%} "
            f"(first right {self.suggested_right_first:.0%}), "
            f"abstentions {self.in_scope_abstention:.1%}; first shown right {self.top1:.1%}\n"
            f"  first shown right by kind: {by_kind}\n"
            f"out of scope {len(self.out_of_scope)}: declined {self.abstention:.1%}\n"
            f"small talk {len(self.smalltalk)}: recognised {self.smalltalk_right:.1%}"
        )


def _share(flags: Iterable[bool]) -> float:
    flags = list(flags)
    return sum(flags) / len(flags) if flags else 0.0


def evaluate(conversation: Conversation, items: Iterable[Item]) -> Report:
    """Ask every item through the conversation core, as a user would."""
    return Report([outcome(i, conversation.handle(Input(_USER, text=i.question)))
                   for i in items])


# --------------------------------------------------------------------------------------------
# Latency


def latency(retriever: Retriever, questions: Sequence[str], rounds: int = 3
            ) -> tuple[float, float]:
    """Matching latency p50 and p99 in milliseconds over ``rounds`` passes of ``questions``:
    lexical ranking, the question's sentence vector (never taken from the cache: a new
    question pays it) and the decision."""
    embedder = retriever.semantic.embedder if retriever.semantic is not None else None
    for question in questions[:20]:  # warm the lexical caches, as a running bot has them
        retriever.match(question)
    timings = []
    for _ in range(rounds):
        for question in questions:
            if embedder is not None:
                embedder.clear()
            start = time.perf_counter()
            retriever.match(question)
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1]


def synthetic_vectors(entries: Sequence[Entry], dim: int, seed: int = 7) -> EntryVectors:
    """Random unit vectors in the shape of ``entries``' (for timing: the cost of semantic
    ranking depends on the number of phrasings, not on what they mean)."""
    rng = numpy.random.default_rng(seed)
    texts = passages(entries)
    matrix = rng.standard_normal((len(texts), dim)).astype(numpy.float32)
    matrix /= numpy.linalg.norm(matrix, axis=1, keepdims=True)
    return EntryVectors.assemble(entries, dict(zip(texts, matrix, strict=True)))


def synthetic_entries(content: Content, size: int, seed: int = 7) -> list[Entry]:
    """``size`` entries: the real ones, then recombinations of their words.

    Each synthetic entry keeps 60 % of a real entry's words, replaces the others with random
    words of the real base, and adds two distinctive words drawn with a Zipf-like skew from a
    pool of invented ones — as a real large base has its own names of places, bodies and
    schemes. Without them every word would sit in hundreds of entries, which no real base does.
    """
    rng = random.Random(seed)
    real = list(content.entries.values())
    vocabulary = sorted({w for e in real for q in e.questions for w in q.split()})
    syllables = [c + v for c in "bcdfglmnprstv" for v in "aeiou"]
    pool = ["".join(rng.choice(syllables) for _ in range(3)) for _ in range(size * 2)]

    def distinctive() -> str:
        return pool[min(int(rng.paretovariate(1.0)) - 1, len(pool) - 1) * 7 % len(pool)
                    if rng.random() < 0.3 else rng.randrange(len(pool))]

    def remix(text: str, names: list[str]) -> str:
        words = [w if rng.random() < 0.6 else rng.choice(vocabulary) for w in text.split()]
        return " ".join([*words, *names])

    out = list(real)
    for n in range(size - len(real)):
        model = rng.choice(real)
        names = [distinctive(), distinctive()]
        questions = tuple(remix(q, rng.sample(names, 1)) for q in model.questions)
        out.append(replace(model, id=f"synth-{n}", questions=questions,
                           answer=remix(model.answer, names), title=questions[0][:60]))
    return out


# --------------------------------------------------------------------------------------------
# Calibration


class _SignalCachingRetriever(Retriever):
    """A retriever that ranks each question once, for trying many thresholds quickly."""

    def __init__(self, retriever: Retriever) -> None:
        super().__init__(retriever.matcher, retriever.semantic, retriever.policy)
        self._signals: dict[str, Signals] = {}

    def signals(self, question: str) -> Signals:
        if question not in self._signals:
            self._signals[question] = super().signals(question)
        return self._signals[question]


def calibrate(conversation: Conversation, items: list[Item]
              ) -> list[tuple[float, Policy, Report]]:
    """Grid-search the fused retriever's :class:`~bot.answers.retrieval.Policy` on ``items``; best
    first. The objective rewards right first choices, clean abstention and direct answers,
    punishes a wrong direct answer three times as much as a missed one, and a choice among
    three half as much as a direct answer."""
    retriever = _SignalCachingRetriever(conversation.retriever)
    conversation.retriever = retriever
    results = []
    for floor, lexical_floor, lexical_sure, sure, alone, band in itertools.product(
        (0.865, 0.87, 0.875, 0.88), (0.42, 0.5), (0.55, 0.6, 0.65), (0.86, 0.87, 0.88),
        (0.89, 0.9, 0.91), (0.015, 0.025)
    ):
        retriever.policy = replace(DEFAULT_POLICY, semantic_floor=floor,
                                   lexical_floor=lexical_floor, lexical_sure=lexical_sure,
                                   semantic_sure=sure, semantic_alone=alone, suggest_band=band)
        report = evaluate(conversation, items)
        score = (report.top1 + report.abstention - 3 * report.wrong_answers
                 + 0.5 * report.answered_right - 0.5 * report.suggested)
        results.append((score, retriever.policy, report))
    results.sort(key=lambda r: r[0], reverse=True)
    return results


# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.ops.bench", description=__doc__)
    parser.add_argument("--calibrate", action="store_true", help="grid-search the decision")
    parser.add_argument("--failures", action="store_true", help="list each set's failures")
    parser.add_argument("--synthetic", type=int, default=10_000, help="size of the large base")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    model = semantic.load_model.__wrapped__()
    loaded = time.perf_counter() - start
    content = content_module.load()
    conversation = Conversation(content, Store(":memory:"), record=False)
    dev = load_items(DEV_SET)
    if args.calibrate:
        for score, policy, report in calibrate(conversation, dev)[:5]:
            print(f"objective {score:.3f}  {policy}\n{report.summary()}\n")
        return 0

    retriever = conversation.retriever
    print(f"Knowledge base: {len(content.entries)} entries; semantic half: "
          f"{'on' if retriever.semantic_ready else 'OFF (lexical matching alone)'}; model "
          f"loaded in {loaded:.2f} s\n")
    for title, path in (("Dev set", DEV_SET), ("Held-out set", HOLDOUT_SET),
                        ("Blind long/persona set", BLIND_SET),
                        ("Second blind set, measured once at the end", FINAL_SET)):
        report = evaluate(conversation, load_items(path))
        print(f"{title} ({path.name})\n{report.summary()}\n")
        if args.failures:
            for o in report.failures():
                print(f"  ✗ [{o.item.kind}] {o.item.question!r}: expected "
                      f"{'|'.join(o.item.expect)}, got {o.status} {', '.join(o.shown)}")
            print()

    questions = [i.question for i in load_items(DEV_SET) + load_items(BLIND_SET)]
    p50, p99 = latency(retriever, questions)
    print(f"Matching latency, shipped base ({len(content.entries)} entries, dev and blind "
          f"questions): p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"Peak RSS so far (content, model, shipped base: what the bot holds): {_rss_mb():.0f} MB")
    start = time.perf_counter()
    entries = synthetic_entries(content, args.synthetic)
    big_matcher = Matcher(entries, retriever.matcher.normalizer)
    big_semantic = None
    if model is not None and retriever.semantic is not None:
        big_semantic = SemanticIndex(retriever.semantic.embedder,
                                     synthetic_vectors(entries, retriever.semantic.dimension))
    built = time.perf_counter() - start
    p50, p99 = latency(Retriever(big_matcher, big_semantic), questions[:150], rounds=2)
    print(f"Matching latency, synthetic base ({args.synthetic} entries, built in {built:.1f} s):"
          f" p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    print(f"Peak RSS with the synthetic base as well: {_rss_mb():.0f} MB")
    return 0


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    raise SystemExit(main())
