"""This module contains how staff write a period: ``/chiudi`` and ``/esporta``'s dates, with
their defaults and limits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

MAX_CLOSURE_DAYS = 92
MAX_CLOSURE_AHEAD_DAYS = 730


@dataclass(frozen=True)
class Period:
    """From ``first`` to ``last``, both included."""

    first: date
    last: date


class TooLong(ValueError):
    """A closure longer than ``MAX_CLOSURE_DAYS``, or ending too far ahead: a typo in a year
    would cancel every booking for months."""


def _dates(arguments: str) -> list[date]:
    """The first two words as ISO dates; ValueError when one is not."""
    return [date.fromisoformat(part) for part in arguments.split()[:2]]


def closure(arguments: str, today: date) -> Period | None:
    """``/chiudi 2026-12-24 [2026-12-31]``: the days to close; None when it cannot be read.

    Raises ``TooLong`` beyond the limits.
    """
    try:
        dates = _dates(arguments)
    except ValueError:
        return None
    if not dates or (len(dates) == 2 and dates[1] < dates[0]):
        return None
    if (dates[-1] - dates[0]).days > MAX_CLOSURE_DAYS or dates[-1] > today + timedelta(
        days=MAX_CLOSURE_AHEAD_DAYS
    ):
        raise TooLong(arguments)
    return Period(dates[0], dates[-1])


def export(arguments: str, today: date) -> Period | None:
    """``/esporta [FROM [TO]]``: this month by default, FROM's month when only FROM is given;
    None when a word is not a date."""
    try:
        dates = _dates(arguments)
    except ValueError:
        return None
    first = dates[0] if dates else today.replace(day=1)
    last = dates[1] if len(dates) > 1 else _end_of_month(first)
    return Period(first, last)


def _end_of_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
