"""The console channel: a chat in the terminal, buttons shown as numbered choices."""

from __future__ import annotations

from collections.abc import Callable
from typing import TextIO

from rapidfuzz import fuzz

from ..conversation import Conversation
from ..replies import Button, Input, Reply, User
from ..text import fold

PROMPT = "vous › "
QUIT = {"/quitter", "/quit", "/exit", "quitter"}


def render(reply: Reply) -> tuple[str, list[Button]]:
    """A reply as terminal text, with its buttons numbered from 1."""
    buttons = [b for row in reply.buttons for b in row]
    lines = [reply.plain()]
    if buttons:
        lines.append("")
        lines += [f"  {n}. {b.label}" for n, b in enumerate(buttons, 1)]
    return "\n".join(lines), buttons


def to_input(user: User, line: str, buttons: list[Button]) -> Input:
    """What the user typed: a command, the number or label of a button, or a question."""
    line = line.strip()
    if line.startswith("/") and len(line) > 1:
        command, _, args = line[1:].partition(" ")
        return Input(user, command=command, args=args.strip())
    if line.isdigit() and 1 <= int(line) <= len(buttons):
        return Input(user, button=buttons[int(line) - 1].data)
    for button in buttons:
        if fold(line) and fuzz.ratio(fold(line), fold(button.label)) >= 90:
            return Input(user, button=button.data)
    return Input(user, text=line)


def chat(conversation: Conversation, stdin: TextIO, write: Callable[[str], None],
         user_id: str = "console") -> None:
    """Run a console chat until end of input or ``/quitter``."""
    user = User("console", user_id)
    text, buttons = render(conversation.welcome())
    write(f"{text}\n\n(Tapez le numéro d'un choix, votre question, ou /quitter pour sortir.)\n")
    while True:
        write(PROMPT)
        line = stdin.readline()
        if not line or line.strip() in QUIT:
            write("\nAu revoir !\n")
            return
        if not line.strip():
            continue
        for reply in conversation.handle(to_input(user, line, buttons)):
            text, buttons = render(reply)
            write(f"\n{text}\n\n")
