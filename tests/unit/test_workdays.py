"""The staff's working days and hours, for requests."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.booking.workdays import WorkingTime, working_time
from bot.content.schema import OfficeRequests

ROME = ZoneInfo("Europe/Rome")
WORK = WorkingTime(ROME, time(9, 0), time(17, 0), province="VA")


def at(day: int, month: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=ROME)


def test_working_days_skip_weekends_holidays_and_closures() -> None:
    # Tuesday 8 December is the Immacolata; 7 December (Sant'Ambrogio) is Milan's, not Varese's.
    assert WORK.days_from(date(2026, 12, 4), 4) == [
        date(2026, 12, 4),
        date(2026, 12, 7),
        date(2026, 12, 9),
        date(2026, 12, 10),
    ]
    closed = WorkingTime(ROME, closed=frozenset({date(2026, 12, 9)}))
    assert date(2026, 12, 9) not in closed.days_from(date(2026, 12, 7), 3)


def test_working_hours_count_only_the_staff_day_on_working_days() -> None:
    assert WORK.hours_between(at(25, 11, 10), at(25, 11, 14)) == 4
    assert WORK.hours_between(at(25, 11, 7), at(25, 11, 10)) == 1  # from 9 o'clock
    # Friday 16:00 to Monday 10:00: one hour on Friday, one on Monday.
    assert WORK.hours_between(at(27, 11, 16), at(30, 11, 10)) == 2
    assert WORK.hours_between(at(25, 11, 14), at(26, 11, 14)) == 8  # a whole working day
    assert WORK.hours_between(at(30, 11, 10), at(27, 11, 10)) == 0


def test_the_times_staff_may_tap_span_their_day() -> None:
    times = WORK.times(date(2026, 12, 2))
    assert (times[0].time(), times[-1].time(), len(times)) == (time(9, 0), time(16, 30), 16)


def test_the_content_block_gives_the_working_time() -> None:
    block = OfficeRequests("LU", ("citizenship",), staff_hours=("08:30", "13:00"), province="VA")
    work = working_time(block, ROME)
    assert (work.start, work.end, work.province) == (time(8, 30), time(13, 0), "VA")
