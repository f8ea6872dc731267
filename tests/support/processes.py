"""``ptce-bot`` as an operator runs it: the installed command (or ``python -m bot``), started
on the fake Telegram and stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import sys
from pathlib import Path

from tests.support.fake_telegram import TOKEN, FakeTelegram, FakeUser

_SCRIPT = Path(sys.executable).with_name("ptce-bot")
COMMAND = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "bot"]

LEA = FakeUser(2001, "Léa")


async def start(fake: FakeTelegram, tmp_path: Path, *args: str,
                env: dict[str, str] | None = None) -> asyncio.subprocess.Process:
    """``ptce-bot ARGS`` on the fake Telegram, with its database in ``tmp_path`` and ``env``
    added to the environment."""
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PTCE_DB": str(tmp_path / "ptce.db"),
           "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{fake.port}", **(env or {})}
    return await asyncio.create_subprocess_exec(
        *COMMAND, *args, env=env, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)


async def stop(process: asyncio.subprocess.Process) -> tuple[int, str]:
    """SIGTERM, as systemd sends it; the exit status and everything logged."""
    process.send_signal(signal.SIGTERM)
    _, stderr = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode or 0, stderr.decode()


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_LIBC = ctypes.CDLL(None, use_errno=True)


def cpu_seconds(pid: int) -> float:
    """CPU time of process ``pid``, all its threads, to the microsecond (its CPU-time clock;
    ``/proc/PID/stat`` counts in hundredths of a second, too coarse for one message). 0.0 once
    the process is gone."""
    clock = ctypes.c_int()
    spec = _Timespec()
    if (_LIBC.clock_getcpuclockid(pid, ctypes.byref(clock)) != 0
            or _LIBC.clock_gettime(clock.value, ctypes.byref(spec)) != 0):
        return 0.0
    return spec.tv_sec + spec.tv_nsec / 1e9


def children(pid: int) -> list[int]:
    """The child processes of ``pid`` (Linux /proc), e.g. the bot's drawing process."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in task.read_text().split()]
        except OSError:
            continue
    return found
