"""This module contains the days the counters are closed by law: Italian public holidays.

They come from the maintained ``holidays`` package (Italy, and the office's province for its
patron day), not from dates written by hand: the law changes (4 October is a national holiday
again from 2026, L. 151/2025) and a hand-written list goes on opening the counter on it.
Closures of the counter's own (the town's patron day, summer) are configured per office.
"""

from __future__ import annotations

import functools
from datetime import date

import holidays

COUNTRY = "IT"


@functools.cache
def public_holidays(year: int, province: str | None = None) -> frozenset[date]:
    """National holidays of ``year``, plus the province's patron day when one is given."""
    return frozenset(holidays.country_holidays(COUNTRY, subdiv=province, years=year))


def is_public_holiday(day: date, province: str | None = None) -> bool:
    return day in public_holidays(day.year, province)
