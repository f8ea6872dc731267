"""`ptce-bot` as an operator runs it: a real process on the fake Telegram, polling or webhook,
stopped by SIGTERM, with logs that never show the token."""

from __future__ import annotations

import asyncio
import os

from tests.support.fake_telegram import TOKEN, free_port
from tests.support.processes import COMMAND, LEA, start, stop


async def test_with_a_token_ptce_bot_answers_on_telegram_and_stops_cleanly(fake, tmp_path):
    process = await start(fake, tmp_path)  # no argument: the README's start command
    fake.send_text(LEA, "c koi un ptce")
    [answer] = await fake.replies(LEA.id, timeout=30)
    assert answer.text.startswith("Qu'est-ce qu'un PTCE ?")
    assert [c["command"] for c in fake.commands][:2] == ["start", "aide"]
    status, logs = await stop(process)
    assert status == 0
    assert "long polling" in logs
    assert TOKEN not in logs and TOKEN.split(":")[1] not in logs


async def test_webhook_mode_receives_updates_posted_by_telegram(fake, tmp_path):
    port = free_port()
    process = await start(fake, tmp_path, "run", "--webhook", f"http://127.0.0.1:{port}",
                          "--port", str(port), "--listen", "127.0.0.1")
    for _ in range(300):
        if fake.webhook is not None:
            break
        await asyncio.sleep(0.1)
    assert fake.webhook is not None, "the bot did not register its webhook"
    assert fake.webhook["secret_token"]  # only Telegram, which knows it, can post updates
    assert TOKEN not in fake.webhook["url"]
    fake.send_text(LEA, "/start")
    [welcome] = await fake.replies(LEA.id, timeout=30)
    assert welcome.text.startswith("Bonjour Léa !")
    status, logs = await stop(process)
    assert status == 0 and TOKEN not in logs


async def test_run_without_a_token_explains_what_to_do(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        *COMMAND, "run", env=env, stderr=asyncio.subprocess.PIPE)
    _, stderr = await process.communicate()
    assert process.returncode == 2
    assert "@BotFather" in stderr.decode()


async def test_a_token_telegram_refuses_stops_for_good_with_status_2(fake, tmp_path):
    """systemd's RestartPreventExitStatus=2 keeps a refused token from restarting every 5 s."""
    process = await start(fake, tmp_path, "run",
                          env={"TELEGRAM_BOT_TOKEN": "123456:refused-by-the-fake-server"})
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    logs = stderr.decode()
    assert process.returncode == 2
    assert "Telegram refuse le jeton" in logs and "refused-by-the-fake-server" not in logs


async def test_a_malformed_setting_is_explained_in_one_line(fake, tmp_path):
    process = await start(fake, tmp_path, "run", env={"PTCE_TELEGRAM_RATE": "abc"})
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    logs = stderr.decode()
    assert process.returncode == 2
    assert logs.strip() == ("Variable d'environnement invalide : PTCE_TELEGRAM_RATE='abc' : "
                            "un nombre positif est attendu (0 pour désactiver).")
