"""``ptce-bot`` as an operator runs it: the installed command (or ``python -m bot``), started
on the fake Telegram and stopped by SIGTERM."""

from __future__ import annotations

import asyncio
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
