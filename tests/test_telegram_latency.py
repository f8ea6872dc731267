"""``python -m benchmarks.telegram_latency``: an operator measures how long the Bot API takes to
answer from their server, to run the throughput benchmark under the same delay."""

from __future__ import annotations

import asyncio
import os
import re
import sys
from pathlib import Path

from tests.support.fake_telegram import TOKEN, FakeTelegram

ROOT = Path(__file__).resolve().parent.parent


async def probe(server: FakeTelegram, token: str) -> tuple[int, str]:
    """Run the probe against ``server`` with ``token``: its exit status and everything it
    printed."""
    env = {**os.environ, "TELEGRAM_BOT_TOKEN": token,
           "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{server.port}"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "benchmarks.telegram_latency", "--calls", "3", env=env, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    return process.returncode or 0, output.decode()


async def test_the_probe_reports_the_delay_of_the_bot_api_and_the_next_command():
    server = FakeTelegram(latency=0.05)
    await server.start()
    try:
        status, output = await probe(server, TOKEN)
    finally:
        await server.stop()
    assert status == 0, output
    median = re.search(r"median (\d+) ms", output)
    assert median is not None and int(median.group(1)) >= 50, output
    assert f"-m benchmarks.telegram_throughput --latency {median.group(1)}" in output
    assert TOKEN not in output
    assert [method for method, _ in server.calls] == ["getMe"] * 4  # reads nothing else


async def test_a_wrong_token_is_explained_without_being_printed(fake):
    wrong = TOKEN[:-4] + "zzzz"
    status, output = await probe(fake, wrong)
    assert status != 0
    assert "vérifiez TELEGRAM_BOT_TOKEN" in output
    assert wrong not in output
