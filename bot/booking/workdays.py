"""This module contains the staff's working time, for appointment requests: the days staff can
propose, and how many working hours a request has waited.

A working day is Monday to Friday, not a public holiday (national, or the province's patron
day) and not a day closed by staff or in the content. Working hours are those of the staff's
working day (``staff_hours`` in ``offices.yaml``): these are not the counter's opening hours,
which the bot never states or invents.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.booking.holidays import is_public_holiday
from bot.content.schema import OfficeRequests

WORKING_WEEKDAYS = frozenset(range(5))  # Monday to Friday
WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 400  # a request waits at most the retention period: a year is plenty


@dataclass(frozen=True)
class WorkingTime:
    """The staff's working days and the span of each, in the counter's time zone."""

    timezone: ZoneInfo
    start: time = time(9, 0)
    end: time = time(17, 0)
    province: str | None = None
    closed: frozenset[date] = field(default_factory=frozenset)

    def is_working_day(self, day: date) -> bool:
        return (
            day.weekday() in WORKING_WEEKDAYS
            and day not in self.closed
            and not is_public_holiday(day, self.province)
        )

    def days_from(self, first: date, count: int) -> list[date]:
        """The next ``count`` working days from ``first`` on (``first`` included)."""
        days: list[date] = []
        day = first
        while len(days) < count and (day - first).days < MAX_DAYS:
            if self.is_working_day(day):
                days.append(day)
            day += timedelta(days=1)
        return days

    def hours_between(self, since: datetime, until: datetime) -> float:
        """Working hours from ``since`` to ``until``: a request sent on Friday evening has
        waited none by Monday at nine."""
        if until <= since:
            return 0.0
        seconds = 0.0
        day = since.astimezone(self.timezone).date()
        last = until.astimezone(self.timezone).date()
        while day <= last and (day - since.date()).days <= MAX_DAYS:
            if self.is_working_day(day):
                opens = datetime.combine(day, self.start, self.timezone)
                closes = datetime.combine(day, self.end, self.timezone)
                overlap = min(closes, until) - max(opens, since)
                seconds += max(overlap.total_seconds(), 0.0)
            day += timedelta(days=1)
        return seconds / 3600

    def times(self, day: date, step_minutes: int = 30) -> list[datetime]:
        """Times of a working day staff may tap, every ``step_minutes``."""
        moment = datetime.combine(day, self.start, self.timezone)
        closes = datetime.combine(day, self.end, self.timezone)
        result = []
        while moment < closes:
            result.append(moment)
            moment += timedelta(minutes=step_minutes)
        return result


def working_time(
    requests: OfficeRequests, timezone: ZoneInfo, closed: frozenset[date] = frozenset()
) -> WorkingTime:
    """The working time an office's ``requests:`` block describes, with staff's closures."""

    def clock(text: str) -> time:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))

    return WorkingTime(
        timezone=timezone,
        start=clock(requests.staff_hours[0]),
        end=clock(requests.staff_hours[1]),
        province=requests.province,
        closed=closed,
    )
