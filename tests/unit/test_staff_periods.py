"""How staff write a period: /chiudi's days and limits, /esporta's defaults."""

from __future__ import annotations

from datetime import date

import pytest

from bot.staff.periods import MAX_CLOSURE_DAYS, Period, TooLong, closure, export

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("arguments", "period"),
    [
        ("2026-12-24", Period(date(2026, 12, 24), date(2026, 12, 24))),
        ("2026-12-24 2026-12-31", Period(date(2026, 12, 24), date(2026, 12, 31))),
        ("2026-12-24 2026-12-31 and more", Period(date(2026, 12, 24), date(2026, 12, 31))),
        ("2026-12-24 2026-12-24", Period(date(2026, 12, 24), date(2026, 12, 24))),
    ],
)
def test_a_closure_is_one_day_or_a_range(arguments: str, period: Period) -> None:
    assert closure(arguments, TODAY) == period


@pytest.mark.parametrize(
    "arguments", ["", "domani", "24/12", "2026-12-31 2026-12-24", "2026-13-01"]
)
def test_a_closure_that_cannot_be_read_is_none(arguments: str) -> None:
    assert closure(arguments, TODAY) is None


@pytest.mark.parametrize(
    "arguments",
    [
        "2026-12-01 2027-03-04",  # 93 days: one too many
        "2028-12-01",  # beyond two years from today: a typo in the year?
        "2030-01-07",
    ],
)
def test_a_closure_too_long_or_too_far_is_refused(arguments: str) -> None:
    with pytest.raises(TooLong):
        closure(arguments, TODAY)


def test_the_longest_closure_allowed() -> None:
    period = closure("2026-12-01 2027-03-03", TODAY)
    assert period is not None and (period.last - period.first).days == MAX_CLOSURE_DAYS


@pytest.mark.parametrize(
    ("arguments", "period"),
    [
        ("", Period(date(2026, 11, 1), date(2026, 11, 30))),
        ("2028-02-03", Period(date(2028, 2, 3), date(2028, 2, 29))),  # to the end of its month
        ("2026-12-15", Period(date(2026, 12, 15), date(2026, 12, 31))),
        ("2026-10-01 2026-10-15", Period(date(2026, 10, 1), date(2026, 10, 15))),
    ],
)
def test_an_export_is_this_month_unless_told(arguments: str, period: Period) -> None:
    assert export(arguments, TODAY) == period


@pytest.mark.parametrize("arguments", ["novembre", "2026-11-01 fine", "2026-11-31"])
def test_an_export_that_cannot_be_read_is_none(arguments: str) -> None:
    assert export(arguments, TODAY) is None
