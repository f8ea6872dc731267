"""Telegram throughput: our bot versus a bare python-telegram-bot echo bot, same fake server.

Acceptance criterion: with 50 concurrent simulated users, our bot handles at least 80 % of the
messages per second that a bare PTB echo bot handles (the ceiling for any PTB bot) on the same
fake Bot API server and machine. This script prints both figures, the ratio and the peak memory
of each bot; it asserts nothing.

Processes — so that no process's CPU counts against another's:

* the fake Bot API server, ``tests/fake_telegram.py --port N`` (standalone mode), driven through
  its ``/_control/`` API;
* two bot processes, started by this script with ``--serve echo|ours``, each long-polling the
  fake server as the tests do (``updater.start_polling(poll_interval=0, timeout=1)``), never
  both at once: the idle one has its polling paused. *echo* is a bare ``ApplicationBuilder``
  application with one ``MessageHandler`` answering ``update.message.reply_text(text)``. Its
  update processor (``--echo-processor``) is by default the same per-chat processor as ours,
  so that both bots handle chats concurrently. ``sequential`` is PTB's default, one update at
  a time: on this fake server, which answers in well under a millisecond, it is the fastest
  PTB bot there is (no concurrent HTTP requests to juggle); with a network delay
  (``--latency``) it falls to one message per round trip. ``simple`` is PTB's
  ``concurrent_updates(True)``: 256 updates at once, 2 to 3 times slower here, httpcore's
  connection pool spending its time scanning its connections;
  *ours* is ``TelegramChannel(Conversation(content, Store(<temporary SQLite file>)),
  Settings(rate=0))`` — no throttling (the fake has no flood limit), retries on, core and SQLite
  writes included;
* this driver, which injects the load and waits for the replies (idle meanwhile).

Load — ``--users`` users (distinct ids, private chats) each send ``--messages`` texts, drawn
(fixed seed, same draw for both bots) from the in-scope questions of ``tests/data/faq_dev.yaml``
plus a few greetings. All messages are injected in one batch, interleaved by user (every user's
1st message, then every user's 2nd…), so all users are active at once and the bot is saturated:
what is measured is the rate it can sustain.

Measure — a message is *handled* when every message the bot sends in reply to it has reached
the server. How many messages each text yields is calibrated first (each distinct text sent
once, from its own chat, replies counted once the bot is quiet); for our bot every text is
answered by exactly one message — printed — but the count would cover a reply split over several
messages. A run ends when the expected number of bot messages has arrived; then no other may
arrive during a quiet period and each chat must have its expected count, or the run fails.
``msg/s = messages injected / (time of the last reply - time of the injection)``, both taken
by the fake server on the machine's monotonic clock. Each bot gets a warm-up run (caches,
SQLite file, HTTP connections), then the measured runs alternate between the bots (echo, ours,
ours, echo…) so that a change in the machine's background load hits both alike; the median of
each bot's runs is reported, and the ratio of the medians.

Also printed: peak RSS of each bot process (``ru_maxrss``: when ready, and at the end — the
peak over its whole life); the bot's CPU time per message (both bots saturate one core, so the
ratio of these is a cross-check less sensitive to other processes); CPU use of the bot, of the
fake server and of all other processes during each bot's median run (in share of one core: a
server near 100 % would be the ceiling; busy other processes mean noisy figures, and a warning
is printed); the commit measured; and the *processing latency* of a message inside
the bot: from PTB's dispatch of the update (a ``TypeHandler`` in group -1) to the end of the
replying handler, reply sent and acknowledged (a ``TypeHandler`` in group 1). It includes
waiting for the event loop and, for our bot, for the core's worker thread; it excludes the time
an update waits in PTB's queue or behind its chat's previous message.

Two runs of this script at once would measure each other: a lock file makes the second wait.
``--profile`` adds one run of each bot under cProfile (for ours: the event-loop thread and the
core's worker thread) and prints the functions taking the most time.

    python -m benchmarks.telegram_throughput [--users 50] [--messages 40] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import fcntl
import io
import json
import os
import platform
import pstats
import random
import resource
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DEV_SET = ROOT / "tests" / "data" / "faq_dev.yaml"

GREETINGS = ("Bonjour", "bonjour, j'ai une question", "Salut !", "Bonsoir", "merci beaucoup",
             "ok merci")
GREETING_SHARE = 0.1
SEED = 20240611
FIRST_USER = 100_001
CALIBRATION_USER = 9_000_001
QUIET = 0.5  # seconds without a new bot message before a run is declared over
SATURATED = 0.9  # share of a core above which a bot is limited by its CPU
BUSY = 0.2  # other processes using more than this share of a core make the figures unreliable
LOCK = Path(tempfile.gettempdir()) / "ptce-telegram-throughput.lock"
ECHO_PROCESSORS = ("per-chat", "sequential", "simple")
KINDS = ("echo", "ours")


# --------------------------------------------------------------------------------------------
# The bot processes


def build_echo(token: str, api_root: str, processor: str, pool: int | None = None) -> Any:
    """A bare PTB echo bot: the ceiling for any PTB bot on this server and machine."""
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        await update.message.reply_text(update.message.text)

    builder = (ApplicationBuilder().token(token).base_url(f"{api_root}/bot")
               .base_file_url(f"{api_root}/file/bot"))
    if pool:
        builder = builder.connection_pool_size(pool)
    if processor == "sequential":
        pass  # PTB's default: one update at a time
    elif processor == "simple":
        builder = builder.concurrent_updates(True)  # PTB's SimpleUpdateProcessor, 256 at once
    else:
        from bot.channels.telegram.adapter import PerChatUpdateProcessor

        builder = builder.concurrent_updates(PerChatUpdateProcessor())
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return application


def build_ours(token: str, api_root: str, database: Path) -> tuple[Any, Any]:
    """Our Telegram channel, as ``ptce-bot`` runs it, without throttling."""
    from bot.channels.telegram.adapter import TelegramChannel
    from bot.channels.telegram.settings import Settings
    from bot.content import load as content_module
    from bot.core.conversation import Conversation
    from bot.storage.db import Store

    channel = TelegramChannel(Conversation(content_module.load(), Store(database)),
                              Settings(token=token, api_root=api_root, rate=0))
    return channel.build(), channel


def _rusage() -> dict[str, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"maxrss_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime}


async def serve_bot(kind: str, token: str, api_root: str, processor: str,
                    echo_pool: int | None = None) -> None:
    """Run one bot until stdin closes; answer the driver's commands, one JSON line each."""
    import logging

    from telegram import Update
    from telegram.ext import ContextTypes, TypeHandler

    logging.basicConfig(level=logging.WARNING)
    workdir = tempfile.TemporaryDirectory(prefix="ptce-bench-")
    channel = None
    if kind == "echo":
        application = build_echo(token, api_root, processor, echo_pool)
    else:
        application, channel = build_ours(token, api_root, Path(workdir.name) / "ptce.sqlite3")

    started: dict[int, float] = {}
    latencies: list[float] = []

    async def dispatched(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        started[update.update_id] = time.perf_counter()

    async def handled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        begin = started.pop(update.update_id, None)
        if begin is not None:
            latencies.append(time.perf_counter() - begin)

    application.add_handler(TypeHandler(Update, dispatched), group=-1)
    application.add_handler(TypeHandler(Update, handled), group=1)

    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    await application.start()
    updater = application.updater
    assert updater is not None
    await updater.start_polling(poll_interval=0, timeout=1)

    profilers: list[cProfile.Profile] = []
    loop = asyncio.get_running_loop()
    _reply({"ready": True, **_rusage()})
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).strip()
        if not line or line == "quit":
            break
        command, _, argument = line.partition(" ")
        if command == "stats":
            _reply({"latencies": latencies, **_rusage()})
            latencies = []
            continue
        if command == "pause":
            await updater.stop()  # also confirms the updates fetched last
        elif command == "resume":
            await updater.start_polling(poll_interval=0, timeout=1)
        elif command == "profile-start":
            profilers = [cProfile.Profile(), cProfile.Profile()]
            profilers[0].enable()
            if channel is not None:  # the core runs in the channel's single worker thread
                await loop.run_in_executor(channel._worker, profilers[1].enable)
        elif command == "profile-stop":
            profilers[0].disable()
            profilers[0].dump_stats(f"{argument}.loop")
            if channel is not None:
                await loop.run_in_executor(channel._worker, profilers[1].disable)
                profilers[1].dump_stats(f"{argument}.worker")
        _reply({"ok": True})
    if updater.running:
        await updater.stop()
    await application.stop()
    await application.shutdown()
    workdir.cleanup()


def _reply(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


# --------------------------------------------------------------------------------------------
# The driver: processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Fake:
    """The fake Bot API server, in its own process, driven through its control API."""

    def __init__(self, latency_ms: float = 0.0) -> None:
        from tests.support import fake_telegram  # noqa: F401 - the run's token, first

        self.port = free_port()
        self.root = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.fake_telegram", "--port", str(self.port),
             "--latency", str(latency_ms)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if "fake Telegram" not in line:
            raise RuntimeError(f"the fake server did not start: {line!r}")

    def control(self, action: str, body: dict[str, Any] | None = None,
                timeout: float = 30) -> dict[str, Any]:
        request = urllib.request.Request(
            f"{self.root}/_control/{action}", data=json.dumps(body or {}).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return dict(json.load(response))

    def quiet_stats(self, minimum: int, timeout: float) -> dict[str, Any]:
        """Stats once ``minimum`` messages were sent and none came for :data:`QUIET` s."""
        stats = self.control("wait", {"sent": minimum, "timeout": timeout}, timeout + 10)
        while True:
            time.sleep(QUIET)
            again = self.control("stats")
            if again["sent"] == stats["sent"]:
                return stats
            stats = again

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


class BotProcess:
    """One bot in its own process, answering the driver's commands on stdin/stdout."""

    def __init__(self, kind: str, token: str, api_root: str, processor: str,
                 echo_pool: int | None = None) -> None:
        self.kind = kind
        pool = f", pool {echo_pool}" if echo_pool else ""
        self.label = f"echo ({processor}{pool})" if kind == "echo" else "ours"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.telegram_throughput", "--serve", kind,
             "--token", token, "--api-root", api_root, "--echo-processor", processor,
             *(["--echo-pool", str(echo_pool)] if echo_pool else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        self.ready = self._read()

    def ask(self, command: str) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        return self._read()

    def _read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.label} bot died (exit status {self.process.wait()})")
        return dict(json.loads(line))

    def stop(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_cpu() -> float:
    """CPU seconds spent busy by the whole machine, all cores (Linux /proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return (sum(values[:8]) - idle) / os.sysconf("SC_CLK_TCK")


# --------------------------------------------------------------------------------------------
# The driver: load and runs


def questions() -> list[str]:
    """The in-scope questions of the dev set: what users of the assistant really ask."""
    from bot.ops.bench import load_items

    return [item.question for item in load_items(DEV_SET) if item.in_scope]


def draw_load(texts: Sequence[str], users: int, messages: int) -> list[list[str]]:
    """Each user's messages, in order; the same for every bot."""
    rng = random.Random(SEED)
    return [[rng.choice(GREETINGS) if rng.random() < GREETING_SHARE else rng.choice(texts)
             for _ in range(messages)] for _ in range(users)]


def speed_probe() -> float:
    """CPU seconds this process takes for a fixed pure-Python loop: on a shared virtual
    machine it varies from minute to minute, and so does every bot's CPU time per message."""
    start = time.process_time()
    total = 0
    for n in range(300_000):
        total += n * n
    return time.process_time() - start


@dataclass
class Run:
    messages: int
    elapsed: float
    bot_cpu: float  # shares of one core over the run
    server_cpu: float
    other_cpu: float
    chat_actions: int
    latencies: list[float]
    probe: float  # speed_probe() just before the run
    @property
    def rate(self) -> float:
        return self.messages / self.elapsed

    @property
    def cpu_per_message(self) -> float:
        """Bot CPU seconds per message: less sensitive than the rate to a busy machine."""
        return self.bot_cpu * self.elapsed / self.messages


@dataclass
class Result:
    bot: BotProcess
    replies: dict[str, int] = field(default_factory=dict)  # text -> bot messages it yields
    runs: list[Run] = field(default_factory=list)
    rss_peak: float = 0.0

    @property
    def median(self) -> Run:
        return sorted(self.runs, key=lambda r: r.rate)[len(self.runs) // 2]


def calibrate(fake: Fake, bot: BotProcess, texts: Sequence[str]) -> dict[str, int]:
    """How many messages the bot sends in reply to each distinct text (each in its own chat)."""
    fake.control("reset")
    batch = [{"user": CALIBRATION_USER + n, "text": text} for n, text in enumerate(texts)]
    fake.control("send_text", {"messages": batch})
    stats = fake.quiet_stats(len(texts), timeout=120)
    per_chat = {int(chat): count for chat, count in stats["per_chat"].items()}
    bot.ask("stats")  # drop the calibration's latencies
    replies = {text: per_chat.get(CALIBRATION_USER + n, 0) for n, text in enumerate(texts)}
    silent = [text for text, count in replies.items() if count == 0]
    if silent:
        raise RuntimeError(f"{bot.label}: no reply to {silent[:3]}")
    return replies


def measure(fake: Fake, bot: BotProcess, load: list[list[str]],
            replies: dict[str, int]) -> Run:
    """One run: inject everything, wait for every reply, check the counts."""
    fake.control("reset")
    before = fake.control("stats")
    expected = {FIRST_USER + u: sum(replies[t] for t in texts) for u, texts in enumerate(load)}
    total = sum(expected.values())
    batch = [{"user": FIRST_USER + u, "text": load[u][m]}
             for m in range(len(load[0])) for u in range(len(load))]
    probe = speed_probe()
    cpu = (process_cpu(bot.process.pid), process_cpu(fake.process.pid), machine_cpu())
    injected = fake.control("send_text", {"messages": batch})
    done = fake.control("wait", {"sent": total, "timeout": 300}, timeout=310)
    cpu_after = (process_cpu(bot.process.pid), process_cpu(fake.process.pid), machine_cpu())
    elapsed = done["last_sent_at"] - injected["at"]
    settled = fake.quiet_stats(total, timeout=10)
    per_chat = {int(chat): count for chat, count in settled["per_chat"].items()}
    if settled["sent"] != total or per_chat != expected or settled["rejected"]:
        raise RuntimeError(f"{bot.label}: expected {total} replies, got {settled['sent']} "
                           f"({settled['rejected']} rejected by the server)")
    bot_cpu, server_cpu, all_cpu = (after - b for after, b in zip(cpu_after, cpu, strict=True))
    return Run(len(batch), elapsed, bot_cpu / elapsed, server_cpu / elapsed,
               max(0.0, all_cpu - bot_cpu - server_cpu) / elapsed,
               settled["chat_actions"] - before["chat_actions"], bot.ask("stats")["latencies"],
               probe)


def benchmark(fake: Fake, load: list[list[str]], runs: int, processor: str,
              profile_dir: Path | None, echo_pool: int | None = None) -> dict[str, Result]:
    """Calibrate and warm up each bot, then alternate their measured runs."""
    from tests.support.fake_telegram import TOKEN

    results: dict[str, Result] = {}
    texts = sorted({t for user in load for t in user})
    try:
        for kind in KINDS:
            bot = BotProcess(kind, TOKEN, fake.root, processor, echo_pool)
            result = results[kind] = Result(bot)
            _progress(f"{bot.label}: calibration and warm-up")
            result.replies = calibrate(fake, bot, texts)
            measure(fake, bot, load, result.replies)
            bot.ask("pause")
        for n in range(runs):
            for kind in KINDS if n % 2 == 0 else reversed(KINDS):
                result = results[kind]
                result.bot.ask("resume")
                run = measure(fake, result.bot, load, result.replies)
                result.bot.ask("pause")
                result.runs.append(run)
                _progress(f"run {n + 1}, {result.bot.label}: {run.rate:.1f} msg/s, "
                          f"{run.cpu_per_message * 1e3:.2f} ms CPU/msg (CPU: bot "
                          f"{run.bot_cpu:.0%}, server {run.server_cpu:.0%}, other "
                          f"{run.other_cpu:.0%})")
        if profile_dir is not None:
            for kind, result in results.items():
                result.bot.ask("resume")
                result.bot.ask(f"profile-start {profile_dir / kind}")
                run = measure(fake, result.bot, load, result.replies)
                result.bot.ask(f"profile-stop {profile_dir / kind}")
                result.bot.ask("pause")
                _progress(f"profiled run, {result.bot.label}: {run.rate:.1f} msg/s "
                          "(slowed down by cProfile)")
        for result in results.values():
            result.rss_peak = result.bot.ask("stats")["maxrss_mb"]
    finally:
        for result in results.values():
            result.bot.stop()
    return results


def _progress(text: str) -> None:
    print(f"  … {text}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------------
# The report


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


def report(args: argparse.Namespace, results: dict[str, Result], load_1m: float) -> None:
    echo, ours = results["echo"], results["ours"]
    messages = args.users * args.messages
    print(f"\nTelegram throughput — {args.users} users × {args.messages} messages = {messages} "
          f"messages per run; median of {args.runs} runs per bot, after a warm-up run")
    print(f"machine: {os.cpu_count()} CPUs, load average {load_1m:.2f} before the benchmark; "
          f"Python {platform.python_version()}, python-telegram-bot {_version('telegram')}, "
          f"httpx {_version('httpx')}; {_code_state()}; fake server, each bot and the driver "
          "in separate processes")
    if args.latency:
        print(f"network delay simulated by the fake server: {args.latency:g} ms per Bot API call "
              "(getUpdates excepted)")
    header = (f"{'bot':<16}{'msg/s':>7}  {'runs (msg/s)':<14}{'CPU/msg':>9}{'proc p50':>9}"
              f"{'p99':>8}{'bot CPU':>8}{'server':>7}{'other':>6}{'RSS ready':>10}"
              f"{'RSS peak':>9}")
    print("\n" + header)
    print("-" * len(header))
    for result in (echo, ours):
        run = result.median
        latencies = [x for r in result.runs for x in r.latencies]
        runs = " ".join(f"{r.rate:.0f}" for r in result.runs)
        p50, p99 = (percentile(latencies, q) * 1e3 for q in (0.5, 0.99))
        cpu = statistics.median(r.cpu_per_message for r in result.runs) * 1e3
        print(f"{result.bot.label:<16}{run.rate:>7.1f}  {runs:<14}{cpu:>7.2f}ms{p50:>7.0f}ms"
              f"{p99:>6.0f}ms{run.bot_cpu:>8.0%}{run.server_cpu:>7.0%}{run.other_cpu:>6.0%}"
              f"{result.bot.ready['maxrss_mb']:>7.1f} MB{result.rss_peak:>6.1f} MB")
    ratio = ours.median.rate / echo.median.rate
    pairs = " ".join(f"{o.rate / e.rate:.0%}" for e, o in zip(echo.runs, ours.runs, strict=True))
    verdict = "meets" if ratio >= 0.8 else "does NOT meet"
    cpu_ratio = (statistics.median(r.cpu_per_message for r in echo.runs)
                 / statistics.median(r.cpu_per_message for r in ours.runs))
    print(f"\nratio ours / echo (medians): {ratio:.1%} — {verdict} the 80 % criterion "
          f"(run by run: {pairs})")
    if min(r.bot_cpu for result in (echo, ours) for r in result.runs) >= SATURATED:
        print(f"cross-check, echo CPU/msg ÷ ours CPU/msg: {cpu_ratio:.1%} (each bot saturates "
              "one core, so this ratio depends less on the load of other processes)")
    else:
        print("no CPU cross-check: a bot did not keep its core busy (it waited for the "
              "network), so its CPU time per message says nothing of its throughput")
    for result in (echo, ours):
        counts: dict[int, int] = {}
        for count in result.replies.values():
            counts[count] = counts.get(count, 0) + 1
        print(f"bot messages per text, {result.bot.label}: " + ", ".join(
            f"{n} distinct texts → {count} message{'s' if count > 1 else ''}"
            for count, n in sorted(counts.items())))
    print(f"'typing…' chat actions sent by our bot per run: {[r.chat_actions for r in ours.runs]}")
    probes = [r.probe * 1e3 for result in (echo, ours) for r in result.runs]
    print(f"machine speed: the same Python loop took {min(probes):.0f} to {max(probes):.0f} ms "
          f"of CPU before the runs ({max(probes) / min(probes) - 1:.0%} apart): differences "
          "between runs up to that size come from the machine, not from the bots")
    busiest = max(r.other_cpu for result in (echo, ours) for r in result.runs)
    if busiest > BUSY:
        print(f"\nWARNING: other processes used up to {busiest:.0%} of a core during the runs "
              f"(of {os.cpu_count()}): the bots competed for the CPU, the figures are noisy. "
              "Rerun on an idle machine.")
    print("\nmsg/s: messages injected / (last reply received − injection), on the fake server's "
          "clock. CPU/msg: bot CPU time per message, median of the runs. proc p50/p99: in-bot "
          "processing latency over all measured runs. bot CPU, "
          "server, other: CPU used by the bot, the fake server and all other processes during "
          "the median run, in share of one core. RSS: ru_maxrss of the bot process when ready "
          "and at the end (its peak).")
    print("reproduce: " + shlex.join(
        [".venv/bin/python", "-m", "benchmarks.telegram_throughput", "--users", str(args.users),
         "--messages", str(args.messages), "--runs", str(args.runs),
         "--echo-processor", args.echo_processor, "--latency", f"{args.latency:g}"]
        + (["--profile"] if args.profile else [])))


def print_profile(label: str, path: Path, top: int = 25) -> None:
    for suffix, title in (("loop", "event-loop thread"), ("worker", "core worker thread")):
        if not Path(f"{path}.{suffix}").exists():
            continue
        out = io.StringIO()
        pstats.Stats(f"{path}.{suffix}", stream=out).sort_stats("tottime").print_stats(top)
        text = out.getvalue()
        print(f"\ncProfile of the {label} bot, {title}, sorted by own time:")
        print(text[text.find("   ncalls"):].rstrip() if "   ncalls" in text else text)


def _code_state() -> str:
    """The commit measured, and whether the bot's code differs from it."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  timeout=10).stdout.strip()
        except OSError:
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = git("status", "--porcelain", "--", "bot", "knowledge", "dialogs")
    return f"commit {commit}" + (" with uncommitted changes in bot/ or content" if dirty else "")


def _version(module: str) -> str:
    return str(getattr(__import__(module), "__version__", "?"))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--messages", type=int, default=40, help="messages per user")
    parser.add_argument("--runs", type=int, default=3, help="measured runs per bot")
    parser.add_argument("--echo-processor", choices=ECHO_PROCESSORS, default="per-chat",
                        help="update processor of the echo bot: the same per-chat processor "
                        "as ours (default), PTB's default of one update at a time "
                        "(sequential), or PTB's concurrent_updates(True) (simple)")
    parser.add_argument("--latency", type=float, default=0.0,
                        help="milliseconds the fake server waits before answering each call "
                        "(getUpdates excepted), as a network would; 0 by default")
    parser.add_argument("--echo-pool", type=int, default=None,
                        help="HTTP connections of the echo bot: PTB's default (256, as ours) "
                        "unless given")
    parser.add_argument("--profile", action="store_true",
                        help="add a run of each bot under cProfile; print the top functions")
    parser.add_argument("--serve", choices=KINDS, help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    parser.add_argument("--api-root", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve:
        asyncio.run(serve_bot(args.serve, args.token, args.api_root, args.echo_processor,
                              args.echo_pool))
        return

    lock = LOCK.open("w")  # two runs at once would each measure the other's load
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("waiting for another run of this benchmark to finish…", file=sys.stderr, flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
    load_1m = os.getloadavg()[0]
    load = draw_load(questions(), args.users, args.messages)
    profile_dir = Path(tempfile.mkdtemp(prefix="ptce-profile-")) if args.profile else None
    fake = Fake(args.latency)
    try:
        results = benchmark(fake, load, args.runs, args.echo_processor, profile_dir,
                            args.echo_pool)
    finally:
        fake.stop()
    report(args, results, load_1m)
    if profile_dir is not None:
        for kind, result in results.items():
            print_profile(result.bot.label, profile_dir / kind)
        print(f"\nprofiles kept in {profile_dir} (pstats files)")


if __name__ == "__main__":
    main()
