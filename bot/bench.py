"""Measuring the matcher: accuracy on question sets, latency, and calibration.

``python -m bot.bench`` prints top-1 accuracy and abstention on ``tests/data/faq_dev.yaml``
(the set thresholds are calibrated on) and on ``benchmarks/data/faq_holdout.yaml`` (never used
for tuning), then matching latency p50/p99 on the shipped base and on a synthetic base of
10,000 entries. ``--calibrate`` grid-searches the matcher's :class:`~bot.faq.Tuning` on the dev
set. Figures are printed, never asserted: the accuracy floor is asserted by the test suite.
"""

from __future__ import annotations

import argparse
import itertools
import random
import statistics
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from . import content as content_module
from .content import Content, Entry
from .conversation import ENTRY, Conversation
from .faq import DEFAULT_TUNING, Matcher, Scored, Tuning
from .replies import Input, Reply, User
from .store import Store
from .text import Normalizer

ROOT = Path(__file__).resolve().parent.parent
DEV_SET = ROOT / "tests" / "data" / "faq_dev.yaml"
HOLDOUT_SET = ROOT / "benchmarks" / "data" / "faq_holdout.yaml"
_USER = User("bench", "bench")


@dataclass(frozen=True)
class Item:
    """One evaluation question and what it expects: entry ids, ``none`` or ``smalltalk:x``."""

    question: str
    expect: tuple[str, ...]
    kind: str

    @property
    def in_scope(self) -> bool:
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
    status: str  # answer, suggest, smalltalk, none
    shown: tuple[str, ...]  # entry answered, suggestions offered, or the small-talk intent

    @property
    def top1(self) -> bool:
        """In scope: the first thing shown (answer or first suggestion) is an expected entry."""
        return bool(self.shown) and self.status in ("answer", "suggest") \
            and self.shown[0] in self.item.expect

    @property
    def wrong_answer(self) -> bool:
        return self.status == "answer" and self.shown[0] not in self.item.expect

    @property
    def abstained(self) -> bool:
        """No entry was answered or offered."""
        return self.status not in ("answer", "suggest")


def outcome(item: Item, replies: Sequence[Reply]) -> Outcome:
    """Classify the replies the conversation gave to ``item``."""
    reply = replies[0]
    if reply.kind == "answer" and reply.entry_id:
        return Outcome(item, "answer", (reply.entry_id,))
    if reply.kind == "suggest":
        ids = tuple(b.data[len(ENTRY):] for row in reply.buttons for b in row
                    if b.data.startswith(ENTRY))
        return Outcome(item, "suggest", ids)
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
        return _share(o.status == "answer" and o.top1 for o in self.in_scope)

    @property
    def wrong_answers(self) -> float:
        return _share(o.wrong_answer for o in self.in_scope)

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
            f"in scope {len(self.in_scope)}: top-1 {self.top1:.1%} "
            f"(answered directly and right {self.answered_right:.1%}, "
            f"wrong direct answers {self.wrong_answers:.1%})\n"
            f"  by kind: {by_kind}\n"
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


def latency(matcher: Matcher, questions: Sequence[str], rounds: int = 5) -> tuple[float, float]:
    """Matching latency p50 and p99 in milliseconds over ``rounds`` passes of ``questions``."""
    for question in questions:  # warm the caches, as a running bot has them
        matcher.match(question)
    timings = []
    for _ in range(rounds):
        for question in questions:
            start = time.perf_counter()
            matcher.match(question)
            timings.append((time.perf_counter() - start) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1]


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


class _RankCachingMatcher(Matcher):
    """A matcher that ranks each question once, for trying many thresholds quickly."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._rankings: dict[str, tuple[Scored, ...]] = {}

    def rank(self, question: str) -> tuple[Scored, ...]:
        if question not in self._rankings:
            self._rankings[question] = super().rank(question)
        return self._rankings[question]


def calibrate(content: Content, items: list[Item]) -> list[tuple[float, Tuning, Report]]:
    """Grid-search the tuning on ``items``; best first.

    The objective rewards top-1 accuracy and clean abstention, punishes a wrong direct answer
    three times as much as a missed one, and prefers a direct answer to a choice among three.
    """
    base = Conversation(content, Store(":memory:"), record=False)
    normalizer = Normalizer(content.sms, content.synonyms)
    results = []
    for phrasing, coverage, recall, fuzzy, unknown in itertools.product(
        (0.3, 0.375, 0.45), (0.15, 0.25, 0.35), (0.0, 0.1), (0.2, 0.3), (0.5, 1.0)
    ):
        total = phrasing + coverage + recall + fuzzy + 0.1
        tuning = replace(DEFAULT_TUNING, phrasing=phrasing / total, coverage=coverage / total,
                         recall=recall / total, fuzzy=fuzzy / total, answer=0.1 / total,
                         unknown_weight=unknown)
        base.matcher = _RankCachingMatcher(content.entries.values(), normalizer, tuning)
        for answer_t, margin, suggest_t in itertools.product(
            (0.45, 0.52, 0.60, 0.68), (0.0, 0.04, 0.08), (0.30, 0.36, 0.42)
        ):
            # Thresholds do not change the ranking: only the decision is made again.
            base.matcher.tuning = replace(tuning, answer_threshold=answer_t, clear_margin=margin,
                                          suggest_threshold=suggest_t)
            report = evaluate(base, items)
            score = (report.top1 + report.abstention - 3 * report.wrong_answers
                     + 0.25 * report.answered_right)
            results.append((score, base.matcher.tuning, report))
    results.sort(key=lambda r: r[0], reverse=True)
    return results


# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.bench", description=__doc__)
    parser.add_argument("--calibrate", action="store_true", help="grid-search the tuning")
    parser.add_argument("--failures", action="store_true", help="list the dev set's failures")
    parser.add_argument("--synthetic", type=int, default=10_000, help="size of the large base")
    args = parser.parse_args(argv)

    content = content_module.load()
    conversation = Conversation(content, Store(":memory:"), record=False)
    dev = load_items(DEV_SET)
    if args.calibrate:
        for score, tuning, report in calibrate(content, dev)[:5]:
            print(f"objective {score:.3f}  {tuning}\n{report.summary()}\n")
        return 0

    print(f"Knowledge base: {len(content.entries)} entries\n")
    report = evaluate(conversation, dev)
    print(f"Dev set ({DEV_SET.name}, used for calibration)\n{report.summary()}\n")
    if args.failures:
        for o in report.failures():
            print(f"  ✗ [{o.item.kind}] {o.item.question!r}: expected {'|'.join(o.item.expect)},"
                  f" got {o.status} {', '.join(o.shown)}")
        print()
    if HOLDOUT_SET.exists():
        holdout = evaluate(conversation, load_items(HOLDOUT_SET))
        print(f"Held-out set ({HOLDOUT_SET.name}, never tuned on)\n{holdout.summary()}\n")

    questions = [i.question for i in dev]
    p50, p99 = latency(conversation.matcher, questions)
    print(f"Matching latency, shipped base ({len(content.entries)} entries): "
          f"p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    start = time.perf_counter()
    big = Matcher(synthetic_entries(content, args.synthetic), conversation.matcher.normalizer)
    built = time.perf_counter() - start
    p50, p99 = latency(big, questions, rounds=2)
    print(f"Matching latency, synthetic base ({args.synthetic} entries, index built in "
          f"{built:.1f} s): p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
