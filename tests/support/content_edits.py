"""Editing a copy of the content to check what ``ptce-bot check`` reports."""

from __future__ import annotations

from pathlib import Path

from bot.content import load as content_module


def problems_in(root: Path) -> list[str]:
    return [str(p) for p in content_module.check(root)]


def edit(path: Path, old: str, new: str) -> int:
    """Replace the first ``old`` by ``new`` in ``path``; return the 1-based line of the change."""
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return line
