"""How long the Bot API takes to answer, seen from the machine that will run the assistant.

The throughput benchmark (``telegram_throughput.py``) depends on it: on a fake server that
answers at once, HTTP costs nothing and a bot doing real work loses against an echo; with the
delay of a real network, every bot pays the same HTTP costs. Run this on the production server,
then give its median to the throughput benchmark::

    TELEGRAM_BOT_TOKEN=… python -m benchmarks.telegram_latency [--calls 20]
    python -m benchmarks.telegram_throughput --latency <median in ms>

It calls ``getMe`` (reads nothing, sends nothing) ``--calls`` times over one connection and
prints the median and the slowest round trips. ``TELEGRAM_API_BASE_URL`` points it at a
self-hosted Bot API server, as for the bot. The token is never printed.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def round_trips(base_url: str, token: str, calls: int) -> list[float]:
    """Seconds each of ``calls`` ``getMe`` calls took, after one call that opens the
    connection (not counted)."""
    import httpx

    timings = []
    with httpx.Client(timeout=10) as client:
        for n in range(calls + 1):
            start = time.perf_counter()
            response = client.post(f"{base_url}{token}/getMe")
            elapsed = time.perf_counter() - start
            if response.status_code != 200:
                raise SystemExit(f"Telegram a répondu {response.status_code} à getMe : "
                                 "vérifiez TELEGRAM_BOT_TOKEN.")
            if n:
                timings.append(elapsed)
    return timings


def main(argv: Sequence[str] | None = None) -> None:
    from bot.channels.telegram.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=20)
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    if not settings.token:
        raise SystemExit("Définissez TELEGRAM_BOT_TOKEN (le jeton donné par @BotFather).")
    base_url = settings.base_url or "https://api.telegram.org/bot"
    timings = sorted(t * 1e3 for t in round_trips(base_url, settings.token, args.calls))
    where = settings.api_root or "api.telegram.org"
    print(f"getMe × {len(timings)} to {where}: median {statistics.median(timings):.0f} ms, "
          f"slowest {timings[-1]:.0f} ms (one connection, kept open)")
    print("next: python -m benchmarks.telegram_throughput --latency "
          f"{statistics.median(timings):.0f}")


if __name__ == "__main__":
    main()
