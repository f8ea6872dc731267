"""One user cannot slow the others: five accounts flood the assistant with 4,096-character
messages while a sixth asks short questions; prints the sixth user's wait (p50, p99, max).

The core runs behind one lock, as in the Telegram channel (``TelegramChannel._core_lock``):
every message of every user takes it in turn, so the sixth user's wait is what the flood
costs them. The semantic model is off (``PTCE_SEMANTIC=off``) to measure the core alone.

    python -m benchmarks.flood [--flooders 5] [--messages 60] [--length 4096]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--flooders", type=int, default=5)
    parser.add_argument("--messages", type=int, default=60)
    parser.add_argument("--length", type=int, default=4096)
    args = parser.parse_args()
    os.environ.setdefault("PTCE_SEMANTIC", "off")
    from bot.content.load import load
    from bot.core.conversation import Conversation
    from bot.core.messages import Input, User
    from bot.storage.db import Store

    with tempfile.TemporaryDirectory() as folder:
        conversation = Conversation(load(), Store(Path(folder) / "flood.sqlite3"))
        lock = threading.Lock()
        long_text = ("Je voudrais savoir si notre projet " * 200)[: args.length - 40] \
            + " lea@exemple.fr 06 12 34 56 78"
        done = threading.Event()

        def flood(n: int) -> None:
            user = User("bench", f"flooder-{n}")
            for _ in range(args.messages):
                with lock:
                    conversation.handle(Input(user, text=long_text))

        waits: list[float] = []

        def ask() -> None:
            user = User("bench", "other")
            while not done.is_set():
                start = time.perf_counter()
                with lock:
                    conversation.handle(Input(user, text="c'est quoi un ptce ?"))
                waits.append(time.perf_counter() - start)
                time.sleep(0.02)

        flooders = [threading.Thread(target=flood, args=(n,)) for n in range(args.flooders)]
        other = threading.Thread(target=ask)
        began = time.perf_counter()
        other.start()
        for thread in flooders:
            thread.start()
        for thread in flooders:
            thread.join()
        elapsed = time.perf_counter() - began
        done.set()
        other.join()

    waits.sort()
    p99 = waits[min(len(waits) - 1, int(len(waits) * 0.99))]
    print(f"{args.flooders} accounts × {args.messages} messages of {args.length} characters "
          f"in {elapsed:.1f} s ({args.flooders * args.messages / elapsed:.0f} msg/s)")
    print(f"the other user's wait over {len(waits)} questions: p50 "
          f"{1000 * statistics.median(waits):.1f} ms, p99 {1000 * p99:.1f} ms, "
          f"max {1000 * waits[-1]:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
