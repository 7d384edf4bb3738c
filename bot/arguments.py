"""This module contains the checks of the ``sportello`` command's arguments.

Each is an ``argparse`` type: a bad value stops the command before it does anything, with
one sentence in plain words (argparse adds which argument it was) and exit status 2.
"""

from __future__ import annotations

import argparse
import math
from datetime import date
from pathlib import Path


def day(text: str) -> date:
    """A date written as YYYY-MM-DD."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: write it as YYYY-MM-DD, for example 2026-03-31"
        ) from None


def _whole(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def count(text: str) -> int:
    """A whole number of at least 1 (days, copies)."""
    number = _whole(text)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{number} is too small: give 1 or more")
    return number


def days_or_none(text: str) -> int:
    """A whole number of days, 0 or more."""
    number = _whole(text)
    if number < 0:
        raise argparse.ArgumentTypeError(f"{number} is negative: give 0 or more days")
    return number


def hours(text: str) -> float:
    """A number of hours greater than 0 ("1.5" too)."""
    try:
        number = float(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of hours") from None
    if not math.isfinite(number) or number <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of hours greater than 0")
    return number


def words(text: str) -> str:
    """Some text, not blank."""
    if not text.strip():
        raise argparse.ArgumentTypeError("it is empty")
    return text.strip()


def folder(text: str) -> Path:
    """An existing folder."""
    path = Path(text)
    if not path.is_dir():
        what = "is a file" if path.exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"{text} {what}: give a folder")
    return path


def new_file(text: str) -> Path:
    """A file to write: not a folder, in a folder that exists."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder: give the name of a file in it")
    parent = path.absolute().parent
    if parent.exists() and not parent.is_dir():
        raise argparse.ArgumentTypeError(f"{path.parent} is a file, not a folder")
    if not parent.is_dir():
        raise argparse.ArgumentTypeError(
            f"the folder {path.parent} does not exist: create it first, or give another path"
        )
    return path
