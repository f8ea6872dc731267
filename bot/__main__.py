"""``python -m bot``: the ``ptce-bot`` command."""

from bot.ops.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
