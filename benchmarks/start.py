"""Start benchmark: the real ``ptce-bot run`` started again and again on the fake Telegram.

Each start is timed from the process's launch to its first ``getUpdates`` (polling), and to
its reply to a question a founder sent while it was down (what a founder feels after a
restart). Starts alternate between a *cold* cache (an empty ``PTCE_CACHE_DIR``: the content
is read and checked, the matcher's index built, as after an upgrade or an edit) and a *warm*
one (what every other start finds, see ``bot/storage/cache.py``). Loopback only.

    python -m benchmarks.start [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import commit
from tests.support.fake_telegram import FakeTelegram, FakeUser
from tests.support.processes import start, stop

FOUNDER = FakeUser(3001, "Camille")


async def one_start(fake: FakeTelegram, workdir: Path, cache: Path) -> tuple[float, float]:
    """Seconds from launch to polling, and to the reply to a question sent before."""
    calls, sent = len(fake.calls), len(fake.sent)
    fake.send_text(FOUNDER, "c koi un ptce ?")
    launched = time.monotonic()
    process = await start(fake, workdir, "run", env={"PTCE_CACHE_DIR": str(cache)})
    try:
        while not any(method == "getUpdates" for method, _ in fake.calls[calls:]):
            await asyncio.sleep(0.002)
        polling = time.monotonic() - launched
        await fake.replies(FOUNDER.id, after=sent, timeout=30)
        replied = time.monotonic() - launched
    finally:
        await stop(process)
    return polling, replied


async def main(runs: int) -> None:
    fake = FakeTelegram()
    await fake.start()
    times: dict[str, list[tuple[float, float]]] = {"cold": [], "warm": []}
    try:
        with tempfile.TemporaryDirectory(prefix="ptce-start-") as folder:
            workdir, warm = Path(folder), Path(folder) / "warm-cache"
            await one_start(fake, workdir, warm)  # fills the warm cache; not counted
            for n in range(runs):
                for kind in ("cold", "warm") if n % 2 == 0 else ("warm", "cold"):
                    cache = warm if kind == "warm" else Path(folder) / f"cold-{n}"
                    times[kind].append(await one_start(fake, workdir, cache))
    finally:
        await fake.stop()
    print(f"commit {commit()} — {runs} starts of each kind, alternated")
    for kind, measured in times.items():
        polling = [p for p, _ in measured]
        replied = [r for _, r in measured]
        print(f"{kind} cache: until polling median {statistics.median(polling):.2f} s "
              f"({' '.join(f'{p:.2f}' for p in polling)}); until the first reply median "
              f"{statistics.median(replied):.2f} s ({' '.join(f'{r:.2f}' for r in replied)})")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    asyncio.run(main(parser.parse_args().runs))
