"""The console channel: a chat in the terminal, buttons shown as numbered choices."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from rapidfuzz import fuzz

from bot.core.conversation import Conversation
from bot.core.messages import Button, Input, Reply, User
from bot.core.text import fold, typeset
from bot.handoff.consent import FORGOTTEN
from bot.storage.db import default_path

PROMPT = "vous › "
QUIT = {"/quitter", "/quit", "/exit", "quitter"}


def render(reply: Reply) -> tuple[str, list[Button]]:
    """A reply as terminal text, with its buttons numbered from 1 — or, when the answer is to
    be typed (a number…), shown by label only, so that digits stay answers."""
    buttons = [b for row in reply.buttons for b in row]
    lines = [typeset(reply.plain())]
    if buttons and reply.expects_text:
        lines += ["", "  " + " · ".join(f"[{b.label}]" for b in buttons)]
    elif buttons:
        lines.append("")
        lines += [f"  {n}. {b.label}" for n, b in enumerate(buttons, 1)]
    return "\n".join(lines), buttons


def to_input(user: User, line: str, buttons: list[Button], numbered: bool = True) -> Input:
    """What the user typed: a command, the number (if ``numbered``) or label of a button, or
    a question."""
    line = line.strip()
    if line.startswith("/") and len(line) > 1:
        command, _, args = line[1:].partition(" ")
        return Input(user, command=command, args=args.strip())
    if numbered and line.isdigit() and 1 <= int(line) <= len(buttons):
        return Input(user, button=buttons[int(line) - 1].data)
    for button in buttons:
        if fold(line) and fuzz.ratio(fold(line), fold(button.label)) >= 90:
            return Input(user, button=button.data)
    return Input(user, text=line)


SAVED = ("profil-ptce-*.png", "rapport-ptce-*.pdf", "rapport-ptce-*.html")


def save_attachments(reply: Reply, folder: Path) -> list[str]:
    """Write the reply's files (chart, report) into ``folder``, readable by their owner only
    (they hold personal data); one line per file to show."""
    lines = []
    for attachment in reply.attachments:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / attachment.filename
        descriptor = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(attachment.data)
        os.chmod(path, 0o600)
        lines.append(f"📎 {attachment.caption} → {path}")
    return lines


def erase_saved(folder: Path) -> int:
    """``/oublier`` in the console: the charts and reports saved here go too."""
    erased = 0
    for pattern in SAVED:
        for path in folder.glob(pattern):
            path.unlink(missing_ok=True)
            erased += 1
    return erased


def chat(conversation: Conversation, stdin: TextIO, write: Callable[[str], None],
         user_id: str = "console", files: Path | None = None) -> None:
    """Run a console chat until end of input or ``/quitter``; files sent by the assistant
    (chart, report) are saved in ``files`` (default: ``rapports/`` beside the database)."""
    files = files or default_path().parent / "rapports"
    user = User("console", user_id)
    text, buttons = render(conversation.welcome())
    numbered = True
    write(f"{text}\n\n{conversation.content.message('console_intro')}\n")
    while True:
        write(PROMPT)
        line = stdin.readline()
        if not line or line.strip() in QUIT:
            write(f"\n{conversation.content.message('console_goodbye')}\n")
            return
        if not line.strip():
            continue
        for reply in conversation.handle(to_input(user, line, buttons, numbered)):
            text, buttons = render(reply)
            numbered = not reply.expects_text
            attached = "".join(f"{saved}\n" for saved in save_attachments(reply, files))
            if reply.intent == FORGOTTEN:
                erase_saved(files)
            write(f"\n{text}\n{attached}\n")
