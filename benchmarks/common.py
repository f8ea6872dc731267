"""What the crowd benchmarks print alike: the commit measured and the problems found."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def commit() -> str:
    """The short hash of the commit measured, or « ? » outside a Git checkout."""
    found = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                           capture_output=True, text=True).stdout.strip()
    return found or "?"


def report_problems(problems: list[str]) -> int:
    """Print the problems the crowd's check found (the first 20); the exit status."""
    print(f"problems: {len(problems)}")
    for problem in problems[:20]:
        print(f"  {problem}")
    return 1 if problems else 0
