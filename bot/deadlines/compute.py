"""This module contains a user's dates: a rule applied to the date they gave.

Each of the rule's dates, whether it has passed, whether the rule's "late" case applies, and
the reminders still to come. Past events are fine: the answer then says what the content says
about being late.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from bot.content.catalog import Catalog
from bot.content.deadline_rules import DeadlineRule, RuleDate
from bot.deadlines.arithmetic import shift
from bot.deadlines.dates import ParsedDate


@dataclass(frozen=True)
class UserDate:
    """One of the rule's dates for this user."""

    rule_date: RuleDate
    day: date
    passed: bool  # before today


@dataclass(frozen=True)
class UserDeadline:
    """A rule applied to the user's event date."""

    rule: DeadlineRule
    event: ParsedDate
    dates: tuple[UserDate, ...]  # in the order of the calendar
    late: bool  # the rule's late_after date has passed: say what its late topic says
    reminders: tuple[date, ...]  # the default reminders still to come, earliest first

    @property
    def main(self) -> UserDate:
        """The date that matters most: the first one still to come, else the last one."""
        return next((item for item in self.dates if not item.passed), self.dates[-1])


def compute(
    rule: DeadlineRule, event: ParsedDate, today: date, province: str | None = None
) -> UserDeadline:
    """The user's dates from ``event`` (a month-only event counts from the month's first
    day: every date comes earlier, never later)."""
    dates = sorted(
        (
            UserDate(item, day, day < today)
            for item in rule.dates
            for day in (shift(event.day, item.offset, province),)
        ),
        key=lambda user_date: user_date.day,
    )
    late = any(item.passed and item.rule_date.id == rule.late_after for item in dates)
    reminders = sorted(
        {day for day in (shift(event.day, o, province) for o in rule.remind) if day > today}
    )
    return UserDeadline(rule, event, tuple(dates), late, tuple(reminders))


def counter_province(catalog: Catalog) -> str | None:
    """The province whose patron day the counter keeps (working days skip it too)."""
    for office in catalog.offices:
        for plan in (office.requests, office.booking):
            if plan is not None and plan.province:
                return plan.province
    return None
