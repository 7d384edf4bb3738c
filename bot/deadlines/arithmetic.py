"""This module contains date arithmetic for deadline rules: days, working days and months
before or after an event.

Working days are Monday to Friday that are not Italian public holidays (the project's holiday
calendar, ``bot.booking.holidays``, with the province's patron day when one is given). Months
end where the month ends: one month after 31 January is 28 (or 29) February.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from bot.booking.holidays import is_public_holiday
from bot.content.deadline_rules import Offset

WORKING_WEEKDAYS = frozenset(range(5))  # Monday to Friday


def is_working_day(day: date, province: str | None = None) -> bool:
    return day.weekday() in WORKING_WEEKDAYS and not is_public_holiday(day, province)


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months; a day the target month lacks becomes its last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_working_days(day: date, count: int, province: str | None = None) -> date:
    """The ``count``-th working day after ``day`` (before it, for a negative count); ``day``
    itself is not counted, as "within 8 working days of entry" counts from the day after."""
    step = 1 if count >= 0 else -1
    left = abs(count)
    while left:
        day += timedelta(days=step)
        if is_working_day(day, province):
            left -= 1
    return day


def shift(day: date, offset: Offset, province: str | None = None) -> date:
    """The date ``offset`` away from ``day``."""
    if offset.unit == "months":
        return add_months(day, offset.signed)
    if offset.unit == "working days":
        return add_working_days(day, offset.signed, province)
    return day + timedelta(days=offset.signed)
