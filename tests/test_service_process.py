"""Operating the bot: JSON logs, ``/health`` in webhook mode, reloading the content on SIGHUP.

Each test runs the real ``ptce-bot`` process on the fake Telegram, as systemd would run it.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
from collections.abc import AsyncIterator
from importlib import metadata

import pytest
from aiohttp import ClientSession

from bot.channels.telegram.webhook import SECRET_HEADER
from tests.support.fake_telegram import TOKEN, FakeTelegram, free_port
from tests.support.processes import LEA, start, stop

LOG_FIELDS = {"time", "level", "logger", "message"}
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")


@pytest.fixture
async def bots() -> AsyncIterator[list[asyncio.subprocess.Process]]:
    """The bot processes a test starts: killed at the end if the test failed before stopping
    them, so that no bot outlives its test."""
    started: list[asyncio.subprocess.Process] = []
    yield started
    for process in started:
        if process.returncode is None:
            process.kill()
            await process.wait()


class Logs:
    """What the process writes to standard error, read while it runs."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []

    async def wait_for(self, text: str, timeout: float = 60) -> str:
        """The first line containing ``text`` read from now on; fails if none comes."""
        async def read() -> str:
            assert self.process.stderr is not None
            while True:
                line = (await self.process.stderr.readline()).decode()
                assert line, f"the bot stopped before logging {text!r}: {self.lines[-5:]}"
                self.lines.append(line)
                if text in line:
                    return line

        return await asyncio.wait_for(read(), timeout)


async def ask(fake: FakeTelegram, text: str) -> str:
    """Léa types ``text``; the text of the bot's first reply."""
    after = len(fake.sent)
    fake.send_text(LEA, text)
    [reply] = await fake.replies(LEA.id, timeout=30, after=after)
    return reply.text


# --------------------------------------------------------------------------------------------
# Structured logs


def parse_json_lines(logs: str) -> list[dict[str, str]]:
    records = [json.loads(line) for line in logs.splitlines()]  # fails on any other line
    for record in records:
        assert record.keys() >= LOG_FIELDS, record
        assert ISO_UTC.match(record["time"]), record["time"]
    return records


async def test_json_logs_are_one_object_per_line_and_never_show_the_token(fake, tmp_path, bots):
    process = await start(fake, tmp_path, "run", "--log-format", "json")
    bots.append(process)
    assert (await ask(fake, "c koi un ptce")).startswith("Qu'est-ce qu'un PTCE ?")
    status, logs = await stop(process)
    assert status == 0
    records = parse_json_lines(logs)
    assert any("long polling" in r["message"] and r["level"] == "INFO" for r in records)
    assert TOKEN not in logs and TOKEN.split(":")[1] not in logs


async def test_a_refused_token_is_logged_as_json_without_the_token(tmp_path, bots):
    # Telegram refuses the token: PTB's error message quotes it in full.
    server = FakeTelegram(token=f"{TOKEN}x")
    await server.start()
    try:
        process = await start(server, tmp_path, env={"PTCE_LOG_FORMAT": "json"})
        bots.append(process)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        await server.stop()
    logs = stderr.decode()
    assert process.returncode == 2  # systemd's RestartPreventExitStatus=2: no restart loop
    [failure] = [r for r in parse_json_lines(logs) if r["level"] == "CRITICAL"]
    assert failure["message"].startswith("Telegram refuse le jeton TELEGRAM_BOT_TOKEN")
    assert TOKEN not in logs and TOKEN.split(":")[1] not in logs


async def test_unreadable_tls_certificates_are_named_not_dumped(fake, tmp_path, bots):
    """An operator's SSL_CERT_FILE that names no file: one clear line, status 1."""
    process = await start(fake, tmp_path, "run",
                          env={"SSL_CERT_FILE": str(tmp_path / "absent.pem")})
    bots.append(process)
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    logs = stderr.decode()
    assert process.returncode == 1
    assert "Certificats TLS illisibles (FileNotFoundError) : vérifiez SSL_CERT_FILE" in logs
    assert "Traceback" not in logs and TOKEN not in logs


async def test_an_unknown_log_format_is_refused(fake, tmp_path, bots):
    process = await start(fake, tmp_path, "run", env={"PTCE_LOG_FORMAT": "xml"})
    bots.append(process)
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    assert "format de journal inconnu « xml »" in stderr.decode()


# --------------------------------------------------------------------------------------------
# /health in webhook mode


async def test_health_answers_in_webhook_mode_and_says_when_the_database_is_gone(
        fake, tmp_path, bots):
    port = free_port()
    process = await start(fake, tmp_path, "run", "--webhook", f"http://127.0.0.1:{port}",
                          "--port", str(port), "--listen", "127.0.0.1")
    bots.append(process)
    for _ in range(300):
        if fake.webhook is not None:
            break
        await asyncio.sleep(0.1)
    assert fake.webhook is not None, "the bot did not register its webhook"
    assert (await ask(fake, "/start")).startswith("Bonjour Léa !")
    base = f"http://127.0.0.1:{port}"
    async with ClientSession() as session:
        async with session.get(f"{base}/health") as response:
            assert response.status == 200
            assert response.content_type == "application/json"
            health = await response.json()
        assert health["status"] == "ok" and health["database"] == "ok"
        assert health["outbox_pending"] == 0
        assert health["version"] == metadata.version("ptce-bot")

        # Only Telegram, which knows the secret header, may post updates.
        update = {"update_id": 999, "message": {"message_id": 1, "date": 0,
                                                "chat": {"id": LEA.id, "type": "private"},
                                                "text": "/start"}}
        async with session.post(fake.webhook["url"], json=update) as response:
            assert response.status == 403
        async with session.post(fake.webhook["url"], json=update,
                                headers={SECRET_HEADER: "devine"}) as response:
            assert response.status == 403

        # The database file disappears (a volume unmounted, a wrong clean-up): 503.
        for path in tmp_path.glob("ptce.db*"):
            path.unlink()
        async with session.get(f"{base}/health") as response:
            assert response.status == 503
            assert (await response.json())["status"] == "error"
    status, logs = await stop(process)
    assert status == 0 and TOKEN not in logs
    assert fake.webhook["url"].split("/")[-1] not in logs  # the secret path is not logged


# --------------------------------------------------------------------------------------------
# Reloading the content on SIGHUP


async def test_sighup_reloads_valid_content_and_keeps_serving_when_it_is_broken(
        fake, tmp_path, content_copy, content, bots):
    config = tmp_path / "config.yaml"
    config.write_text("admins: []\n", encoding="utf-8")
    process = await start(fake, tmp_path, "run", env={"PTCE_CONTENT_DIR": str(content_copy),
                                                      "PTCE_CONFIG": str(config)})
    bots.append(process)
    logs = Logs(process)
    assert (await ask(fake, "c koi un ptce")).startswith("Qu'est-ce qu'un PTCE ?")
    stats = content.dialog.messages["coord_stats"]
    assert not (await ask(fake, "/stats")).startswith(stats)  # Léa is no admin yet

    # An editor rewrites an answer, an operator makes Léa an admin; then `systemctl reload`.
    faq = content_copy / "knowledge" / "faq" / "definition.yaml"
    text = faq.read_text(encoding="utf-8")
    edited = text.replace("Un PTCE est un regroupement d'acteurs",
                          "Un PTCE (réponse revue à chaud) est un regroupement d'acteurs")
    assert edited != text
    faq.write_text(edited, encoding="utf-8")
    config.write_text(f"admins: [{LEA.id}]\n", encoding="utf-8")
    messages = content_copy / "knowledge" / "messages.yaml"
    messages.write_text(messages.read_text(encoding="utf-8").replace(
        'menu_oublier: "Effacer vos données"', 'menu_oublier: "Effacer tout ce qui vous concerne"'),
        encoding="utf-8")
    process.send_signal(signal.SIGHUP)
    await logs.wait_for(f"Contenu rechargé : {len(content.entries)} entrées")
    assert "réponse revue à chaud" in await ask(fake, "c koi un ptce")
    assert (await ask(fake, "/stats")).startswith(stats)
    menu = {c["command"]: c["description"] for c in fake.commands}
    assert menu["oublier"] == "Effacer tout ce qui vous concerne"

    # A broken file: the error is logged with file:line, the last good content stays.
    faq.write_text(edited.replace('title: "Qu\'est-ce qu\'un PTCE ?"',
                                  'title: "Qu\'est-ce qu\'un PTCE ?'), encoding="utf-8")
    process.send_signal(signal.SIGHUP)
    refusal = await logs.wait_for("rechargement refusé")
    assert " ERROR " in refusal
    assert "réponse revue à chaud" in await ask(fake, "c koi un ptce")
    status, rest = await stop(process)
    everything = "".join(logs.lines) + rest
    assert status == 0
    assert re.search(rf"{re.escape(str(faq))}:\d+: ", everything)
    assert TOKEN not in everything


async def test_run_refuses_broken_content_and_logs_where_in_json(fake, tmp_path, content_copy,
                                                                 bots):
    themes = content_copy / "knowledge" / "themes.yaml"
    themes.write_text("themes: [\n", encoding="utf-8")
    process = await start(fake, tmp_path, "run", "--log-format", "json",
                          env={"PTCE_CONTENT_DIR": str(content_copy)})
    bots.append(process)
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 2
    [error] = [r for r in parse_json_lines(stderr.decode()) if r["level"] == "ERROR"]
    assert re.search(rf"{re.escape(str(themes))}:\d+: ", error["message"])
