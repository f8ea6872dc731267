"""Load and crash benchmark: many founders at once against the real ``ptce-bot run`` process.

Each simulated founder asks questions, runs the whole questionnaire and sends a consented lead
(see ``tests/support/crowd.py``); with ``--crashes N`` the bot is killed (SIGKILL) N times at random
moments and restarted. Prints actions per second, reply latency percentiles (from a founder's
action to the bot's first reply), peak memory of the bot, restart times, the founders'
recoveries, and every problem found afterwards in the database, the deliveries and the log
(there should be none). Loopback only; bounded in time by ``patience`` and ``max_tries``.

    python -m benchmarks.load [--users 200] [--questions 2] [--crashes 0] [--think 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
from pathlib import Path

from benchmarks.common import commit, report_problems
from tests.support.crowd import Crowd


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="ptce-load-") as workdir:
        crowd = Crowd(Path(workdir), args.users, questions=args.questions,
                      crashes=args.crashes, seed=args.seed, think=args.think)
        await crowd.run()
        problems = crowd.check()
        summary = crowd.summary()
        print(f"commit {commit()} — {args.users} founders, {args.crashes} crash(es)")
        print(json.dumps(summary, ensure_ascii=False, indent=1))
        print(f"lead deliveries repeated after a crash: {crowd.duplicates}")
        return report_problems(problems)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--questions", type=int, default=2, help="FAQ questions per founder")
    parser.add_argument("--crashes", type=int, default=0)
    parser.add_argument("--seed", type=int, default=20261126)
    parser.add_argument("--think", type=float, default=0.0,
                        help="seconds a founder takes before each action, on average "
                             "(0: everyone acts at once, a stress test)")
    raise SystemExit(asyncio.run(main(parser.parse_args())))
