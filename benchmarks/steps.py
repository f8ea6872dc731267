"""CPU per action: what the bot computes for each thing a founder does, one founder at a time.

The founders of ``tests/support/crowd.py`` (real ``ptce-bot run`` process, fake Telegram, real
SQLite, webhook CRM) take turns: ``/start``, two questions, the whole questionnaire, the
result, the hand-off. Alone, every CPU second the bot process and its drawing process spend
between an action and its last reply (plus 50 ms to settle) belongs to that action; it is read
on each process's CPU-time clock (to the microsecond). Prints, per stage, the number of
actions and the median, 90th percentile and mean of the bot's CPU per action, and the drawing
process's CPU per result (the first one includes starting that process).

    python -m benchmarks.steps [--founders 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from benchmarks.common import commit, report_problems
from tests.support.crowd import Crowd, percentile

STAGES = ("start", "faq", "step", "result", "handoff")


def row(label: str, values: list[float]) -> str:
    ms = [v * 1000 for v in values]
    return (f"{label:<28}{len(ms):>6}{statistics.median(ms):>9.2f}"
            f"{percentile(ms, 0.9):>9.2f}{statistics.fmean(ms):>9.2f}")


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="ptce-steps-") as workdir:
        crowd = Crowd(Path(workdir), args.founders, seed=args.seed, one_at_a_time=True)
        await crowd.run()
        problems = crowd.check()
    print(f"commit {commit()} — {args.founders} founders, one at a time")
    print(f"{'CPU per action (ms)':<28}{'n':>6}{'median':>9}{'p90':>9}{'mean':>9}")
    cpu, drawing = crowd.figures.cpu, crowd.figures.drawing_cpu
    for stage in STAGES:
        if cpu.get(stage):
            print(row(f"bot: {stage}", cpu[stage]))
    for stage in STAGES:
        if drawing.get(stage):
            print(row(f"drawing process: {stage}", drawing[stage]))
    return report_problems(problems)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--founders", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261126)
    raise SystemExit(asyncio.run(main(parser.parse_args())))
