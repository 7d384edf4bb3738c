"""This module lets ``python -m bot`` run the ``sportello`` command."""

from bot.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
