"""This module contains opening calendars and the free slots they leave.

All times are local to the configured time zone: a slot at 09:00 is at 09:00 on both sides of
a daylight-saving change. Datetimes handed out are timezone-aware.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.booking.holidays import is_public_holiday
from bot.content.schema import OfficeBooking

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Opening:
    """One opening period of a weekday, such as 09:00-12:30."""

    start: time
    end: time


@dataclass(frozen=True)
class Schedule:
    """When an office takes appointments, and how many at a time."""

    weekly: Mapping[str, tuple[Opening, ...]]
    slot_minutes: int = 30
    capacity: int = 1
    horizon_days: int = 30
    notice_hours: float = 2.0
    closed_days: frozenset[date] = field(default_factory=frozenset)
    province: str | None = None  # for its patron day, a public holiday there

    def is_closed(self, day: date) -> bool:
        return day in self.closed_days or is_public_holiday(day, self.province)


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    free: int


def schedule_of(booking: OfficeBooking) -> Schedule:
    """The calendar an office's ``booking:`` block describes."""

    def clock(text: str) -> time:
        hours, minutes = text.split(":")
        return time(int(hours), int(minutes))

    return Schedule(
        weekly={
            day: tuple(Opening(clock(start), clock(end)) for start, end in periods)
            for day, periods in booking.weekly.items()
        },
        slot_minutes=booking.slot_minutes,
        capacity=booking.capacity,
        horizon_days=booking.horizon_days,
        notice_hours=booking.notice_hours,
        closed_days=booking.closed,
        province=booking.province,
    )


def closed_range(first: date, last: date) -> set[date]:
    """Every day from ``first`` to ``last``, both included."""
    return {first + timedelta(days=offset) for offset in range((last - first).days + 1)}


def slots_of_day(schedule: Schedule, day: date, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The slots of one day, before looking at bookings, notice or horizon."""
    if schedule.is_closed(day):
        return []
    result = []
    step = timedelta(minutes=schedule.slot_minutes)
    for opening in schedule.weekly.get(WEEKDAYS[day.weekday()], ()):
        start = datetime.combine(day, opening.start)
        close = datetime.combine(day, opening.end)
        while start + step <= close:
            result.append((start.replace(tzinfo=tz), (start + step).replace(tzinfo=tz)))
            start += step
    return result


def free_slots(
    schedule: Schedule,
    taken: Mapping[datetime, int],
    now: datetime,
    tz: ZoneInfo,
    day: date | None = None,
) -> list[Slot]:
    """Slots from ``now`` + notice to the booking horizon with room left, in time order; only
    those of ``day`` if given (one slot looked up need not build a month of them).

    ``taken`` counts active bookings by slot start (any timezone-aware datetime).
    """
    earliest = now + timedelta(hours=schedule.notice_hours)
    first_day = now.astimezone(tz).date()
    days = [first_day + timedelta(days=offset) for offset in range(schedule.horizon_days + 1)]
    # By the instant, as a number: aware datetimes of two zones are never equal in the hour a
    # change of time repeats or skips (PEP 495), and a fold=1 one hashes as its fold=0 twin.
    taken_at = {start.timestamp(): count for start, count in taken.items()}
    result = []
    for each in days if day is None else [d for d in days if d == day]:
        for start, end in slots_of_day(schedule, each, tz):
            if start < earliest:
                continue
            free = schedule.capacity - (taken_at.get(start.timestamp(), 0) if taken_at else 0)
            if free > 0:
                result.append(Slot(start, end, free))
    return result


def days_with_slots(slots: Iterable[Slot]) -> list[date]:
    return sorted({slot.start.date() for slot in slots})
