"""Opening calendars: holidays, Easter, closures, daylight saving, notice, horizon, capacity."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.booking.calendar import (
    Opening,
    Schedule,
    closed_range,
    days_with_slots,
    free_slots,
    slots_of_day,
)
from bot.booking.holidays import is_public_holiday, public_holidays

ROME = ZoneInfo("Europe/Rome")
WEEKDAYS_MORNING = {
    day: (Opening(time(9), time(12)),) for day in ("mon", "tue", "wed", "thu", "fri")
}


@pytest.mark.parametrize(
    ("year", "pasquetta"),
    [
        (2024, date(2024, 4, 1)),
        (2025, date(2025, 4, 21)),
        (2026, date(2026, 4, 6)),
        (2027, date(2027, 3, 29)),
        (2038, date(2038, 4, 26)),
    ],
)
def test_easter_monday_moves_with_easter(year: int, pasquetta: date) -> None:
    assert is_public_holiday(pasquetta)
    assert not is_public_holiday(pasquetta + timedelta(days=1))


def test_national_holidays_follow_the_law_of_the_year() -> None:
    holidays = public_holidays(2026)
    assert {date(2026, 1, 1), date(2026, 4, 25), date(2026, 6, 2), date(2026, 12, 26)} <= holidays
    # San Francesco d'Assisi, a national holiday again from 2026 (L. 151/2025), not before.
    assert date(2026, 10, 4) in holidays
    assert date(2025, 10, 4) not in public_holidays(2025)


def test_a_province_adds_its_patron_day() -> None:
    # Varese's San Vittore (8 May) closes offices in that province only.
    assert is_public_holiday(date(2026, 5, 8), "VA")
    assert not is_public_holiday(date(2026, 5, 8))
    assert not is_public_holiday(date(2026, 5, 8), "MI")
    schedule = Schedule(WEEKDAYS_MORNING, province="VA")
    assert slots_of_day(schedule, date(2026, 5, 8), ROME) == []  # a Friday
    assert slots_of_day(Schedule(WEEKDAYS_MORNING), date(2026, 5, 8), ROME) != []


def test_no_slots_on_holidays_weekends_and_closures() -> None:
    schedule = Schedule(
        WEEKDAYS_MORNING, closed_days=frozenset(closed_range(date(2026, 8, 10), date(2026, 8, 14)))
    )
    assert slots_of_day(schedule, date(2026, 4, 6), ROME) == []  # Easter Monday
    assert slots_of_day(schedule, date(2026, 11, 28), ROME) == []  # a Saturday
    assert slots_of_day(schedule, date(2026, 8, 12), ROME) == []  # configured closure
    assert len(slots_of_day(schedule, date(2026, 11, 27), ROME)) == 6  # 09:00-12:00, 30 minutes


def test_local_times_hold_across_daylight_saving_changes() -> None:
    schedule = Schedule(WEEKDAYS_MORNING)
    before = slots_of_day(schedule, date(2026, 3, 27), ROME)[0][0]  # Friday, winter time
    after = slots_of_day(schedule, date(2026, 3, 30), ROME)[0][0]  # Monday, summer time
    assert before.hour == after.hour == 9
    assert before.astimezone(UTC).hour == 8
    assert after.astimezone(UTC).hour == 7
    autumn = slots_of_day(schedule, date(2026, 10, 26), ROME)[0][0]
    assert autumn.hour == 9 and autumn.astimezone(UTC).hour == 8


def test_notice_horizon_and_capacity() -> None:
    schedule = Schedule(WEEKDAYS_MORNING, capacity=2, horizon_days=7, notice_hours=2)
    now = datetime(2026, 11, 25, 9, 45, tzinfo=ROME)  # Wednesday
    taken = {
        datetime(2026, 11, 26, 9, 0, tzinfo=ROME): 2,
        datetime(2026, 11, 26, 9, 30, tzinfo=ROME).astimezone(UTC): 1,
    }
    slots = free_slots(schedule, taken, now, ROME)
    # 11:30 starts too soon and 09:00 tomorrow is full: the first is 09:30 tomorrow.
    assert slots[0].start == datetime(2026, 11, 26, 9, 30, tzinfo=ROME)
    assert all(slot.start >= now + timedelta(hours=2) for slot in slots)
    assert datetime(2026, 11, 26, 9, 0, tzinfo=ROME) not in [slot.start for slot in slots]  # full
    half = next(slot for slot in slots if slot.start == datetime(2026, 11, 26, 9, 30, tzinfo=ROME))
    assert half.free == 1
    assert max(days_with_slots(slots)) <= date(2026, 12, 2)
    assert date(2026, 11, 28) not in days_with_slots(slots)


def test_the_schedule_written_in_offices_yaml(catalog) -> None:
    from bot.booking.calendar import schedule_of

    (luino,) = [office for office in catalog.offices if office.booking is not None]
    assert luino.booking is not None
    assert luino.booking.code == "LU"
    assert catalog.services["permit_renewal"].minutes == 30
    schedule = schedule_of(luino.booking)
    monday = slots_of_day(schedule, date(2026, 11, 30), ROME)
    assert [start.strftime("%H:%M") for start, _ in monday][:2] == ["09:00", "09:30"]
    assert len(monday) == 7 + 4  # 09:00-12:30 and 14:00-16:00
    assert slots_of_day(schedule, date(2026, 12, 1), ROME) == []  # Tuesday: closed
    assert slots_of_day(schedule, date(2026, 8, 17), ROME) == []  # closed range
    assert schedule.capacity == 2


def test_one_days_slots_are_those_of_the_whole_horizon_on_that_day() -> None:
    """A slot looked up by its start (``slot_at``) builds its day only, with the same rules."""
    schedule = Schedule(WEEKDAYS_MORNING, capacity=2, horizon_days=7, notice_hours=2)
    now = datetime(2026, 11, 25, 9, 45, tzinfo=ROME)
    every = free_slots(schedule, {}, now, ROME)
    for day in (date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 28), date(2026, 12, 9)):
        assert free_slots(schedule, {}, now, ROME, day) == [
            slot for slot in every if slot.start.date() == day
        ]
    assert free_slots(schedule, {}, now, ROME, date(2026, 11, 26))  # a weekday has slots


def test_a_full_slot_in_the_hour_the_clocks_repeat_is_not_offered() -> None:
    """Bookings come back from the store in UTC; a Rome slot of 25 October 02:00-03:00 is in
    the hour that comes twice, where datetimes of two zones never compare equal (PEP 495)."""
    schedule = Schedule({"sun": (Opening(time(1), time(4)),)}, capacity=1)
    day = date(2026, 10, 25)
    now = datetime(2026, 10, 20, 9, tzinfo=ROME)
    taken = {start.astimezone(UTC): 1 for start, _end in slots_of_day(schedule, day, ROME)}
    assert free_slots(schedule, taken, now, ROME, day) == []
    assert [
        slot for slot in free_slots(schedule, taken, now, ROME) if slot.start.date() == day
    ] == []
