"""A crowd of simulated founders against a real ``ptce-bot run`` process, for the load and
crash tests (``tests/test_load.py``, small) and benchmark (``benchmarks/load.py``, 200 users).

Everything is real and on loopback: the bot is the ``ptce-bot run`` command in its own
process, long-polling the fake Telegram Bot API server of ``fake_telegram.py`` (run here, in
the driver's event loop), writing a SQLite file, and delivering leads to coordination chats on
that server and to a CRM webhook served here. Each simulated founder, at the same time as all
the others:

1. sends ``/start``, then asks a few questions typed as users type them (the dev question
   set);
2. runs « Mon projet est-il un PTCE ? » to the end — pressing the buttons shown, typing the
   name, the department (then confirming it) and numbers — and gets the verdict, the chart and
   the report;
3. asks to be put in touch with their regional coordination, consents, gives their contact
   details and sends the lead.

A founder reads the chat like a person does: what to do next comes from the latest question
the bot asked (its buttons, its text), never from a script of expected replies. When the bot
does not answer within ``patience`` seconds (it was killed mid-way), the founder does what the
bot tells users to do: ``/reprendre`` (the step in progress is asked again), or sends the
question again.

With ``crashes``, the bot process is killed with SIGKILL at random moments and restarted.
With ``one_at_a_time``, the founders take turns instead, and the bot's CPU time for each action
is recorded by stage (``Figures.cpu``; ``benchmarks/steps.py``): alone, everything the bot and
its drawing process compute between an action and its last reply belongs to that action.

Afterwards the database and the deliveries are checked (:meth:`Crowd.check`): every founder
has one finished questionnaire holding exactly their answers, one lead with their contact
details and consent, routed to their region; every lead reached its region's chat and the CRM
exactly once; nothing was refused by the fake Telegram; the bot's log has no error and no
"database is locked".
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import sqlite3
import statistics
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.content import load as content_module
from bot.ops.bench import load_items
from tests.support.fake_telegram import TOKEN, FakeTelegram, FakeUser, Sent, free_port
from tests.support.founders import EMERGING, ESS_CORE_COMPANIES_IN_TALKS, POLE_SUD_ARCHER
from tests.support.processes import COMMAND, children, cpu_seconds

DEV_SET = Path(__file__).parent.parent / "data" / "faq_dev.yaml"
FIRST_FOUNDER = 500_001
FIRST_COORDINATOR = 7_000_001  # one chat per region
FALLBACK_CHAT = 7_999_999
PROFILES = (POLE_SUD_ARCHER, EMERGING, ESS_CORE_COMPANIES_IN_TALKS)
# Multiple-choice answers drawn per founder (so that their charts differ).
VARIED = {"pooling": ["skills", "premises", "jobs", "knowledge"],
          "innovation": ["social", "sector"], "impacts": ["jobs", "needs"],
          "values": ["solidarity", "trust"]}

Check = Callable[[list[Sent]], bool]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0–1) of ``values``, nearest rank."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


# --------------------------------------------------------------------------------------------
# The bot process


class BotProcess:
    """``ptce-bot run`` in its own process, killed and restarted at will."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.peak_rss_kb = 0  # highest VmHWM seen over every life of the process
        self.children_rss_kb = 0  # highest total VmHWM of its children (the drawing process)
        # Highest proportional memory (Pss: shared pages divided among the processes sharing
        # them) of the bot and its children together, as sampled: what they take of the RAM.
        self.peak_pss_kb = 0
        self.cpu_seconds = 0.0  # CPU time of the lives that ended
        self._cpu_now = 0.0  # CPU time of the current life, last sampled
        self.starts: list[float] = []

    async def start(self) -> None:
        self.cpu_seconds += self._cpu_now
        self._cpu_now = 0.0
        self.starts.append(time.monotonic())
        with self.log.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                *COMMAND, "run", env=self.env, stdout=log, stderr=log)

    def sample_memory(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
            stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        except OSError:
            return
        ticks = os.sysconf("SC_CLK_TCK")
        fields = stat.rsplit(")", 1)[1].split()
        self._cpu_now = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        self.peak_rss_kb = max(self.peak_rss_kb, _peak_kb(status))
        total = 0
        pss = _pss_kb(self.process.pid)
        for child in children(self.process.pid):
            try:
                total += _peak_kb(Path(f"/proc/{child}/status").read_text())
            except OSError:
                continue
            pss += _pss_kb(child)
        self.children_rss_kb = max(self.children_rss_kb, total)
        self.peak_pss_kb = max(self.peak_pss_kb, pss)

    @property
    def total_cpu(self) -> float:
        """CPU seconds used by the bot over all its lives (as last sampled)."""
        return self.cpu_seconds + self._cpu_now

    async def kill(self) -> None:
        """SIGKILL: no clean-up, no last confirmation of updates to Telegram."""
        assert self.process is not None
        self.sample_memory()
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def stop(self) -> int:
        """SIGTERM, as systemd stops it; the exit status."""
        assert self.process is not None
        self.sample_memory()
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)


def _pss_kb(pid: int) -> int:
    """The process's proportional set size (kB), from /proc/PID/smaps_rollup; 0 if gone."""
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return 0
    for line in rollup.splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1])
    return 0


def _peak_kb(status: str) -> int:
    """VmHWM (peak resident memory, in kB) from a /proc/PID/status text."""
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# --------------------------------------------------------------------------------------------
# The CRM


@dataclass
class Crm:
    """A webhook endpoint: every lead payload it receives, with its idempotency key."""

    received: list[tuple[dict[str, Any], str | None]] = field(default_factory=list)

    async def hook(self, request: web.Request) -> web.Response:
        self.received.append((await request.json(), request.headers.get("Idempotency-Key")))
        return web.json_response({"ok": True})


# --------------------------------------------------------------------------------------------
# A founder


@dataclass
class Plan:
    """What one founder will do and say."""

    user: FakeUser
    questions: list[str]
    profile: dict[str, Any]
    department: str  # its code
    region_id: str
    name: str
    structure: str
    email: str
    phone: str


@dataclass
class Figures:
    latencies: list[float] = field(default_factory=list)  # action → first reply, seconds
    stage_latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    actions: int = 0
    timeouts: int = 0  # waits that ran out of patience (the founder then recovers)
    recoveries: Counter[str] = field(default_factory=Counter)
    questions_asked: int = 0  # FAQ questions sent, resends included
    questions_answered: int = 0  # FAQ questions that got their reply
    resume_times: list[float] = field(default_factory=list)  # first reply after a restart
    failures: list[str] = field(default_factory=list)  # founders who could not finish
    # One at a time: CPU seconds of each action, by stage (start, faq, step, result, handoff),
    # of the bot process and of its drawing process.
    cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    drawing_cpu: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))


class Founder:
    """Plays one founder through the fake Telegram."""

    def __init__(self, crowd: Crowd, plan: Plan) -> None:
        self.crowd = crowd
        self.fake = crowd.fake
        self.plan = plan
        self.chat = plan.user.id
        self.log = self.fake.by_chat[self.chat]
        self.m = crowd.messages
        self.figures = crowd.figures
        self.stage = "start"  # what the next actions are part of, for the CPU figures

    # Acting and waiting

    async def act(self, push: Callable[[], Any], done: Check, patience: float | None = None
                  ) -> bool:
        """Do ``push`` (type or press), then wait until the bot's new messages in this chat
        satisfy ``done``; False when patience ran out."""
        patience = patience or self.crowd.patience
        if self.crowd.think:  # reading the reply, finding the answer
            await asyncio.sleep(self.crowd.rng.expovariate(1 / self.crowd.think))
        seen = len(self.log)
        cpu = self.crowd.cpu() if self.crowd.one_at_a_time else None
        start = time.monotonic()
        deadline = start + patience
        push()
        self.figures.actions += 1
        timed = False
        while True:
            new = self.log[seen:]
            if new and not timed:
                timed = True
                self.figures.latencies.append(new[0].at - start)
                self.figures.stage_latencies[self.stage].append(new[0].at - start)
                self.crowd.note_reply(new[0].at)
            if done(new):
                if cpu is not None:
                    await self.crowd.record_cpu(self.stage, cpu)
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not await self.fake.wait_chat(self.chat, len(self.log),
                                                               remaining):
                self.figures.timeouts += 1
                return False

    def type(self, text: str) -> Callable[[], Any]:
        return lambda: self.fake.send_text(self.plan.user, text)

    def press(self, message: Sent, data: str) -> Callable[[], Any]:
        return lambda: self.fake.press_data(self.plan.user, message, data)

    def latest(self, message: Sent) -> Sent:
        """``message`` as the chat shows it now (after edits)."""
        return self.fake.messages[self.chat].get(message.message_id, message)

    def last_asked(self, wanted: Callable[[Sent], bool]) -> Sent | None:
        for sent in reversed(self.log):
            if sent.method == "sendMessage" and wanted(sent):
                return self.latest(sent)
        return None

    # The journey

    async def run(self) -> None:
        try:
            await self._until(self.type("/start"), _any, "start")
            self.stage = "faq"
            for question in self.plan.questions:
                await self._faq(question)
            self.stage = "step"
            await self._questionnaire()
            self.stage = "handoff"
            await self._handoff()
        except Exception as exc:  # recorded, so that one founder never hides the others
            self.figures.failures.append(f"{self.chat}: {type(exc).__name__}: {exc}")

    async def _until(self, push: Callable[[], Any], done: Check, what: str) -> None:
        """Do ``push`` until ``done``, sending it again when no reply comes."""
        for _ in range(self.crowd.max_tries):
            if await self.act(push, done):
                return
            self.figures.recoveries[f"resend {what}"] += 1
        raise RuntimeError(f"no reply to {what}")

    async def _faq(self, question: str) -> None:
        for _ in range(self.crowd.max_tries):
            self.figures.questions_asked += 1
            if await self.act(self.type(question), _any):
                self.figures.questions_answered += 1
                return
            self.figures.recoveries["resend question"] += 1
        raise RuntimeError("question never answered")

    async def _resume(self) -> list[Sent]:
        """``/reprendre``: the bot says what is in progress and asks its step again. The new
        messages, up to that step: replies to earlier actions that were only late come
        before it (a chat's updates are handled in order), so the step is the current one."""
        self.figures.recoveries["/reprendre"] += 1
        for _ in range(self.crowd.max_tries):
            seen = len(self.log)
            if await self.act(self.type("/reprendre"), self._resumed):
                return self.log[seen:]
        raise RuntimeError("/reprendre never answered")

    def _resumed(self, new: list[Sent]) -> bool:
        """The reply to /reprendre is complete: nothing in progress, or the step asked."""
        for n, sent in enumerate(new):
            if sent.method != "sendMessage":
                continue
            if sent.text == self.m["no_session"]:
                return True
            if sent.text in (self.m["resumed"], self.m["handoff_resumed"]):
                return any(s.method == "sendMessage" and s.data for s in new[n + 1:])
        return False

    async def _questionnaire(self) -> None:
        if not await self.act(self.type("/diagnostic"), _asks_question):
            await self._resume_questionnaire(started=False)
        for _ in range(200):
            message = self.last_asked(_is_question)
            assert message is not None
            current = _question_of(message)
            if current == "recap":
                self.stage = "result"
                if await self.act(self.press(message, "df"), _has_report,
                                  patience=self.crowd.patience * 4):
                    return
                self.stage = "step"
                if not await self._resume_questionnaire(started=True):
                    return  # finished: the verdict was lost with the crash, not the result
                continue
            if not await self._answer(message, current, self.plan.profile[current]):
                await self._resume_questionnaire(started=True)
        raise RuntimeError("questionnaire never finished")

    async def _resume_questionnaire(self, *, started: bool) -> bool:
        """After a silence: True when a question is shown again, False when nothing is in
        progress (never started, or already finished)."""
        while True:
            new = await self._resume()
            if _asks_question(new):
                return True
            if started:
                return False
            if await self.act(self.type("/diagnostic"), _asks_question):
                return True

    async def _answer(self, message: Sent, question: str, value: Any) -> bool:
        """Answer the question shown in ``message``; False when the bot fell silent."""
        if isinstance(value, list):
            for option in value:
                if _selected(self.latest(message), question, option):
                    continue
                if not await self.act(self.press(message, f"dt:{question}:{option}"), _any):
                    return False
            shown = self.latest(message)
            if sorted(o for o in _options(shown, question) if _selected(shown, question, o)) \
                    != sorted(value):
                return True  # a toggle was lost: the loop looks at the question again
            return await self.act(self.press(message, f"dv:{question}"), _asks_question)
        if f"da:{question}:{value}" in message.data:
            return await self.act(self.press(message, f"da:{question}:{value}"), _asks_question)
        picks = [d for d in message.data if d.startswith("dd:") and d.endswith(f":{value}")]
        if picks:  # "Is it this department?": ours, yes
            return await self.act(self.press(message, picks[0]), _asks_question)
        # Typed: the next question comes, or the department to confirm (a question too).
        return await self.act(self.type(str(value)), _asks_question)

    async def _handoff(self) -> None:
        m = self.m
        receipt = m["handoff_receipt"].split("{")[0]
        sent_lead = False
        if not await self.act(self.type("/start coordination"), _has("ky")):
            await self._resume_handoff(sent_lead)
        for _ in range(100):
            step = self.last_asked(lambda s: bool(s.data) or s.text.startswith(receipt))
            assert step is not None
            if step.text.startswith(receipt):
                return
            replies: dict[str, str] = {
                m["handoff_ask_name"]: self.plan.name,
                m["handoff_ask_structure"]: self.plan.structure,
                m["handoff_ask_email"]: self.plan.email,
                m["handoff_ask_phone"]: self.plan.phone,
                m["handoff_ask_message"]: "Nous voulons lancer une filière locale."}
            if "ky" in step.data:
                push = self.press(step, "ky")
            elif step.text in replies:
                push = self.type(replies[step.text])
            elif "kp:email" in step.data:
                push = self.press(step, "kp:email")
            elif "kok" in step.data:
                push, sent_lead = self.press(step, "kok"), True
            else:
                raise RuntimeError(f"unexpected hand-off step: {step.text[:60]!r}")
            answered = await self.act(push, lambda new: any(
                s.method == "sendMessage" and (s.data or s.text.startswith(receipt))
                for s in new))
            if not answered and not await self._resume_handoff(sent_lead):
                return
        raise RuntimeError("hand-off never finished")

    async def _resume_handoff(self, sent_lead: bool) -> bool:
        """After a silence: True when a hand-off step is shown again; False when none is in
        progress because the lead was sent (its receipt was lost with the crash)."""
        while True:
            new = await self._resume()
            if any(d.startswith("k") for s in new for d in s.data):
                return True
            if sent_lead:
                return False
            if await self.act(self.type("/start coordination"), _has("ky")):
                return True


def _any(new: list[Sent]) -> bool:
    return bool(new)


def _has(data: str) -> Check:
    return lambda new: any(data in s.data for s in new)


def _question_of(message: Sent) -> str:
    for data in message.data:
        if data.startswith("dw:"):
            return data[3:]
        if data == "df":
            return "recap"
    raise ValueError("not a question")


def _is_question(sent: Sent) -> bool:
    return any(d.startswith("dw:") or d == "df" for d in sent.data)


def _asks_question(new: list[Sent]) -> bool:
    return any(s.method == "sendMessage" and _is_question(s) for s in new)


def _has_report(new: list[Sent]) -> bool:
    return any(s.method == "sendDocument" for s in new)


def _options(message: Sent, question: str) -> list[str]:
    prefix = f"dt:{question}:"
    return [d[len(prefix):] for d in message.data if d.startswith(prefix)]


def _selected(message: Sent, question: str, option: str) -> bool:
    return any(b.get("callback_data") == f"dt:{question}:{option}"
               and b["text"].startswith("✅ ") for row in message.buttons for b in row)


# --------------------------------------------------------------------------------------------
# The crowd


class Crowd:
    """``users`` founders at once against one bot process, with ``crashes`` SIGKILLs."""

    def __init__(self, workdir: Path, users: int, *, questions: int = 2, crashes: int = 0,
                 seed: int = 20261126, patience: float | None = None,
                 max_tries: int = 8, think: float = 0.0, one_at_a_time: bool = False) -> None:
        self.workdir = workdir
        self.users = users
        self.crashes = crashes
        self.rng = random.Random(seed)
        self.questions_each = questions
        # Without crashes, a founder waits long: any wait that runs out is an error. With
        # crashes, a silence longer than the queue of a saturated bot (about 0.05 s per
        # founder here) means the message was lost.
        self.patience = patience or (max(6.0, 0.1 * users) if crashes else 60.0)
        self.max_tries = max_tries
        # Seconds a founder takes, on average, before each action. 0 (the default) is a
        # stress test: everyone acts the instant the reply arrives, so that latency measures
        # the queue at full capacity (closed loop: latency ≈ founders ÷ throughput).
        self.think = think
        self.one_at_a_time = one_at_a_time
        self.fake = FakeTelegram()
        self.crm = Crm()
        self.figures = Figures()
        content = content_module.load()
        assert content.dialog is not None and content.territories is not None
        self.messages = content.dialog.messages
        self.territories = content.territories
        self.plans = self._plans()
        self.db = workdir / "ptce.sqlite3"
        self.log = workdir / "bot.log"
        self.bot: BotProcess | None = None
        self.kills: list[float] = []
        self.ready_times: list[float] = []  # seconds from a kill to the bot polling again
        self.exit_status: int | None = None  # after SIGTERM at the end
        self.duplicates = 0  # lead deliveries repeated (set by :meth:`check`)
        self._last_reply = 0.0
        self._waiting_resume: float | None = None
        self.started = self.finished = 0.0

    def _plans(self) -> list[Plan]:
        texts = [item.question for item in load_items(DEV_SET) if item.in_scope]
        departments = self.territories.departments
        plans = []
        for n in range(self.users):
            profile = dict(PROFILES[n % len(PROFILES)])
            for key, options in VARIED.items():
                profile[key] = self.rng.sample(options, self.rng.randint(1, len(options)))
            department = departments[n % len(departments)]
            profile["department"] = department.code
            profile["project_name"] = f"Projet <{n}> & partenaires"
            profile["members_total"] = str(self.rng.randint(3, 80))
            uid = FIRST_FOUNDER + n
            plans.append(Plan(
                user=FakeUser(uid, f"Fondateur {n}"),
                questions=self.rng.sample(texts, self.questions_each),
                profile=profile, department=department.code, region_id=department.region.id,
                name=f"Camille « {n} » Martin", structure=f"Association n° {n} & Cie",
                email=f"porteur{n}@exemple.fr",
                phone=f"06 {n // 100 % 100:02d} {n % 100:02d} 34 56"))
        return plans

    def coordinator_chat(self, region_id: str) -> int:
        ids = [r.id for r in self.territories.regions]
        return FIRST_COORDINATOR + ids.index(region_id)

    def note_reply(self, at: float) -> None:
        self._last_reply = max(self._last_reply, at)
        if self._waiting_resume is not None and at >= self._waiting_resume:
            self.figures.resume_times.append(at - self._waiting_resume)
            self._waiting_resume = None

    async def run(self) -> None:
        """Start everything, play every founder, wait for the deliveries, stop the bot."""
        await self.fake.start()
        app = web.Application(client_max_size=30 * 1024 * 1024)
        app.router.add_post("/hook", self.crm.hook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        crm_port = free_port()
        await web.TCPSite(runner, "127.0.0.1", crm_port).start()
        config = self.workdir / "config.yaml"
        lines = ["coordinations:"]
        for region in self.territories.regions:
            lines += [f"  {region.id}:",
                      f"    telegram_chat_ids: [{self.coordinator_chat(region.id)}]",
                      f'    webhook: "http://127.0.0.1:{crm_port}/hook"']
        lines += ["fallback:", f"  telegram_chat_ids: [{FALLBACK_CHAT}]", "retention_days: 365"]
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PTCE_DB": str(self.db),
               "PTCE_CONFIG": str(config), "PTCE_TELEGRAM_RATE": "0",
               "PTCE_OUTBOX_INTERVAL": "0.2",
               "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{self.fake.port}"}
        self.bot = BotProcess(env, self.log)
        try:
            await self.bot.start()
            await self._ready(self.bot.starts[-1])
            self.started = time.monotonic()
            chaos = asyncio.create_task(self._chaos())
            memory = asyncio.create_task(self._watch_memory())
            if self.one_at_a_time:
                for plan in self.plans:
                    await Founder(self, plan).run()
            else:
                await asyncio.gather(*(Founder(self, plan).run() for plan in self.plans))
            self.finished = time.monotonic()
            chaos.cancel()
            await self._delivered()
            memory.cancel()
            self.exit_status = await self.bot.stop()
        finally:
            if self.bot.process is not None and self.bot.process.returncode is None:
                self.bot.process.kill()
                await self.bot.process.wait()
            await runner.cleanup()
            await self.fake.stop()

    def cpu(self) -> tuple[float, float]:
        """CPU seconds used so far by the bot process and by its children (drawing)."""
        assert self.bot is not None and self.bot.process is not None
        pid = self.bot.process.pid
        return cpu_seconds(pid), sum(cpu_seconds(child) for child in children(pid))

    async def record_cpu(self, stage: str, before: tuple[float, float]) -> None:
        """Note the CPU an action took (one founder at a time), once the bot has settled: the
        last reply's acknowledgement and the update's bookkeeping come after it."""
        await asyncio.sleep(0.05)
        bot, drawing = self.cpu()
        self.figures.cpu[stage].append(bot - before[0])
        if drawing > before[1]:
            self.figures.drawing_cpu[stage].append(drawing - before[1])

    async def _ready(self, since: float, timeout: float = 60.0) -> float:
        """Seconds until the freshly started bot asks for updates."""
        calls = len(self.fake.calls)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(method == "getUpdates" for method, _ in self.fake.calls[calls:]):
                return time.monotonic() - since
            await asyncio.sleep(0.02)
        raise RuntimeError(f"the bot did not start; see {self.log}")

    async def _chaos(self) -> None:
        """Kill the bot at random moments, restart it at once."""
        assert self.bot is not None
        for _ in range(self.crashes):
            await asyncio.sleep(self.rng.uniform(1.5, 5.0))
            await self.bot.kill()
            killed = time.monotonic()
            self.kills.append(killed)
            await self.bot.start()
            self.ready_times.append(await self._ready(killed))
            self._waiting_resume = killed

    async def _watch_memory(self) -> None:
        assert self.bot is not None
        while True:
            self.bot.sample_memory()
            await asyncio.sleep(0.5)

    async def _delivered(self, timeout: float = 120.0) -> None:
        """Wait until the outbox has no delivery left to make."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with sqlite3.connect(self.db) as db:
                left = db.execute("SELECT COUNT(*) FROM deliveries WHERE status = 'pending'"
                                  ).fetchone()[0]
            if left == 0:
                return
            await asyncio.sleep(0.3)

    # Checks

    def check(self) -> list[str]:
        """Every problem found in the database, the deliveries and the log (none expected)."""
        problems = list(self.figures.failures)
        # "Not modified": an edit showing what the message already shows, which the channel
        # expects (two presses on one message) and ignores.
        refused = [r for r in self.fake.rejected if "message is not modified" not in r[1]]
        if self.crashes:
            # A kill after a button's query was answered but before Telegram recorded the
            # update as read: the restarted bot gets the update again, and Telegram refuses a
            # second answer to the same query, which the channel expects and logs.
            refused = [r for r in refused
                       if not (r[0] == "answerCallbackQuery" and "query is too old" in r[1])]
        if refused:
            problems.append(f"refused by Telegram: {refused[:3]}")
        log = self.log.read_text(encoding="utf-8", errors="replace")
        for marker in ("database is locked", "Traceback", " ERROR "):
            if marker in log:
                problems.append(f"the bot's log shows {marker!r}")
        if not self.crashes and self.figures.timeouts:
            problems.append(f"{self.figures.timeouts} replies never came")
        db = sqlite3.connect(self.db)
        db.row_factory = sqlite3.Row
        sessions = defaultdict(list)
        for row in db.execute("SELECT user_key, status, state FROM sessions"):
            sessions[row["user_key"]].append(row)
        leads = defaultdict(list)
        for row in db.execute("SELECT * FROM leads"):
            leads[row["user_key"]].append(row)
        lead_region: dict[int, str] = {}
        for plan in self.plans:
            key = f"telegram:{plan.user.id}"
            done = [s for s in sessions[key] if s["status"] == "done"]
            # A second /diagnostic before any answer replaces the empty questionnaire.
            others = [s for s in sessions[key] if s["status"] != "done"
                      and (s["status"] != "abandoned" or json.loads(s["state"])["answers"])]
            if len(done) != 1 or others:
                problems.append(f"{key}: {len(done)} questionnaire(s) finished, others: "
                                f"{[s['status'] for s in others]}")
            else:
                answers = json.loads(done[0]["state"])["answers"]
                wrong = {q: v for q, v in answers.items()
                         if q in plan.profile and _normal(v) != _normal(plan.profile[q])}
                if wrong:
                    problems.append(f"{key}: answers differ from what was given: {wrong}")
            if len(leads[key]) != 1:
                problems.append(f"{key}: {len(leads[key])} lead(s)")
                continue
            lead = leads[key][0]
            contact = json.loads(lead["contact"])
            if (contact.get("name"), contact.get("email")) != (plan.name, plan.email):
                problems.append(f"{key}: lead contact {contact}")
            if lead["region_id"] != plan.region_id or not lead["consent_at"]:
                problems.append(f"{key}: lead routed to {lead['region_id']}, consent "
                                f"{lead['consent_at']!r}")
            lead_region[lead["id"]] = plan.region_id
        for row in db.execute("SELECT lead_id, kind, status FROM deliveries"):
            if row["status"] != "sent":
                problems.append(f"delivery of lead {row['lead_id']} by {row['kind']}: "
                                f"{row['status']}")
        questions = db.execute("SELECT COUNT(*) FROM questions").fetchone()[0]
        asked, answered = self.figures.questions_asked, self.figures.questions_answered
        if not answered <= questions <= asked:
            problems.append(f"{questions} questions recorded; {answered} answered, {asked} "
                            "sent")
        db.close()
        self.duplicates = self._delivery_counts(lead_region, problems)
        return problems

    def _delivery_counts(self, lead_region: dict[int, str], problems: list[str]) -> int:
        """Check each lead reached its region's chat and the CRM; the number of repeats."""
        chats: Counter[tuple[int, int]] = Counter()
        for sent in self.fake.sent:
            if sent.method == "sendMessage" and sent.text.startswith("Demande n° "):
                number = int(sent.text.split()[2])
                chats[(number, sent.chat_id)] += 1
        hooks = Counter(payload["id"] for payload, _ in self.crm.received
                        if payload.get("event") == "lead")
        repeats = 0
        for number, region_id in lead_region.items():
            got = chats[(number, self.coordinator_chat(region_id))]
            if got == 0 or hooks[number] == 0:
                problems.append(f"lead {number}: {got} chat message(s), {hooks[number]} "
                                "webhook call(s)")
            repeats += max(0, got - 1) + max(0, hooks[number] - 1)
        strays = sum(n for (number, chat), n in chats.items()
                     if chat != self.coordinator_chat(lead_region.get(number, "")))
        if strays:
            problems.append(f"{strays} lead message(s) in another region's chat")
        if not self.crashes and repeats:
            problems.append(f"{repeats} lead(s) delivered more than once")
        return repeats

    def summary(self) -> dict[str, Any]:
        f = self.figures
        elapsed = self.finished - self.started
        return {
            "users": self.users, "crashes": len(self.kills), "think_s": self.think,
            "actions": f.actions, "seconds": round(elapsed, 1),
            "actions_per_s": round(f.actions / elapsed, 1) if elapsed else 0,
            "latency_ms": {f"p{q}": round(percentile(f.latencies, q / 100) * 1000, 1)
                           for q in (50, 95, 99)},
            "latency_max_ms": round(max(f.latencies, default=0) * 1000, 1),
            "latency_ms_by_stage": {
                stage: f"{len(values)} actions, p50 / p95 / p99 " + " / ".join(
                    f"{percentile(values, q) * 1000:.0f}" for q in (0.5, 0.95, 0.99))
                for stage, values in f.stage_latencies.items()},
            "timeouts": f.timeouts, "recoveries": dict(f.recoveries),
            "peak_rss_mb": round((self.bot.peak_rss_kb if self.bot else 0) / 1024, 1),
            "drawing_process_peak_rss_mb": round(
                (self.bot.children_rss_kb if self.bot else 0) / 1024, 1),
            "bot_and_drawing_peak_pss_mb": round(
                (self.bot.peak_pss_kb if self.bot else 0) / 1024, 1),
            "bot_cpu_ms_per_action": round(self.bot.total_cpu / f.actions * 1000, 2)
            if self.bot and f.actions else None,
            "ready_s": [round(t, 2) for t in self.ready_times],
            "resume_s": [round(t, 2) for t in f.resume_times],
            "median_ready_s": round(statistics.median(self.ready_times), 2)
            if self.ready_times else None,
        }


def _normal(value: Any) -> Any:
    """Answers as stored: lists compared as sets, numbers and codes as text."""
    if isinstance(value, list):
        return sorted(str(v) for v in value)
    return str(value).strip().upper()
