"""Dates computed from an event (bot/deadlines/arithmetic.py, compute.py, kinds.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from bot.content.catalog import Catalog
from bot.content.deadline_rules import Offset
from bot.content.loader import load_catalog
from bot.deadlines.arithmetic import add_months, add_working_days, shift
from bot.deadlines.compute import compute
from bot.deadlines.dates import ParsedDate
from bot.deadlines.kinds import kind_of, situation_of
from tests.conftest import REPO_CONTENT

TODAY = date(2026, 11, 30)


@pytest.fixture(scope="module")
def repo() -> Catalog:
    return load_catalog(REPO_CONTENT)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("60 days before", Offset(60, "days", "before")),
        ("8 days after", Offset(8, "days", "after")),
        ("1 day after", Offset(1, "days", "after")),
        ("10 working days after", Offset(10, "working days", "after")),
        ("6 months before", Offset(6, "months", "before")),
        ("on the day", Offset()),
        ("sixty days before", None),
        ("60 days", None),
    ],
)
def test_offsets_as_editors_write_them(text: str, expected: Offset | None) -> None:
    assert Offset.parse(text) == expected


def test_calendar_days_cross_months_years_and_leap_days() -> None:
    assert shift(date(2027, 3, 12), Offset(60, "days", "before")) == date(2027, 1, 11)
    assert shift(date(2028, 2, 25), Offset(8, "days", "after")) == date(2028, 3, 4)  # 29 Feb
    assert shift(date(2027, 2, 25), Offset(8, "days", "after")) == date(2027, 3, 5)
    assert shift(date(2026, 12, 28), Offset(8, "days", "after")) == date(2027, 1, 5)


def test_months_end_where_the_month_ends() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2027, 8, 31), -6) == date(2027, 2, 28)
    assert add_months(date(2026, 12, 15), 1) == date(2027, 1, 15)


def test_working_days_skip_weekends_and_public_holidays() -> None:
    # Friday 24 April 2026: Saturday, Sunday, 25 April (Saturday), then 1 May is a holiday.
    assert add_working_days(date(2026, 4, 24), 1) == date(2026, 4, 27)
    assert add_working_days(date(2026, 4, 29), 2) == date(2026, 5, 4)  # skips Fri 1 May
    # 4 October is a national holiday again from 2026 (a Sunday in 2026, Monday in 2027).
    assert add_working_days(date(2027, 10, 1), 1) == date(2027, 10, 5)
    # Christmas week, backwards.
    assert add_working_days(date(2026, 12, 28), -1) == date(2026, 12, 24)
    # Varese's patron day (San Vittore, 8 May) only for that province.
    assert add_working_days(date(2026, 5, 7), 1, "VA") == date(2026, 5, 11)
    assert add_working_days(date(2026, 5, 7), 1) == date(2026, 5, 8)


def test_a_permit_renewal_from_its_expiry(repo: Catalog) -> None:
    rule = repo.deadlines["permit_renewal"]
    deadline = compute(rule, ParsedDate(date(2027, 3, 12)), TODAY)
    assert [(item.rule_date.id, item.day) for item in deadline.dates] == [
        ("apply_by", date(2027, 1, 11)),
        ("expiry", date(2027, 3, 12)),
    ]
    assert not deadline.late
    assert deadline.reminders == (date(2026, 12, 12), date(2027, 1, 11))  # 90 and 60 before


def test_an_expired_permit_is_late_and_has_no_reminders(repo: Catalog) -> None:
    deadline = compute(repo.deadlines["permit_renewal"], ParsedDate(date(2026, 10, 1)), TODAY)
    assert deadline.late
    assert all(item.passed for item in deadline.dates)
    assert deadline.reminders == ()


def test_only_reminders_still_to_come_are_offered(repo: Catalog) -> None:
    # Expiry in 70 days: the 90-days reminder is past, the 60-days one to come.
    deadline = compute(repo.deadlines["permit_renewal"], ParsedDate(date(2027, 2, 8)), TODAY)
    assert deadline.reminders == (date(2026, 12, 10),)


def test_the_family_members_8_days_are_calendar_days(repo: Catalog) -> None:
    deadline = compute(repo.deadlines["family_arrival"], ParsedDate(date(2026, 11, 29)), TODAY)
    assert [item.day for item in deadline.dates] == [date(2026, 12, 7)]


def test_the_other_rules_follow_the_checked_facts(repo: Catalog) -> None:
    day = ParsedDate(date(2026, 11, 1))
    first = {
        kind: compute(repo.deadlines[kind], day, TODAY).dates[0].day
        for kind in ("anagrafe_update", "nulla_osta_wait", "a2_retry")
    }
    assert first == {
        "anagrafe_update": date(2026, 12, 31),  # 60 days
        "nulla_osta_wait": date(2027, 3, 31),  # 150 days
        "a2_retry": date(2027, 1, 30),  # 90 days
    }


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("il mio permesso scade il 12/03/2027", "permit_renewal"),
        ("my permit expires on 12/03/2027", "permit_renewal"),
        ("mia moglie è arrivata ieri", "family_arrival"),
        ("我妻子昨天到了", "family_arrival"),
        ("আমার স্ত্রী গতকাল এসেছে", "family_arrival"),
        ("ho fatto domanda di nulla osta il 3 marzo", "nulla_osta_wait"),
        ("sono stato bocciato al test A2 il 3 ottobre", "a2_retry"),
        ("ho ricevuto il permesso rinnovato il 2 novembre", "anagrafe_update"),
        ("sono arrivato ieri", None),  # no family member: not the 8 days of reunification
        ("ho il test A2 il 12 marzo", None),  # a test to come, not a failed one
        ("appuntamento in questura il 12/03/2027 per il rinnovo", None),
    ],
)
def test_which_deadline_a_message_names(repo: Catalog, text: str, kind: str | None) -> None:
    assert kind_of(text, repo.deadlines) == kind


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("non ho passato il test A2, quando posso rifarlo?", "a2_retry"),
        ("nulla osta申请了半年还没消息", "nulla_osta_wait"),  # Latin words glued to Chinese
        ("got my renewed permit, do I tell the comune?", "anagrafe_update"),
        ("come funziona il ricongiungimento familiare?", None),
        ("come far arrivare mia moglie in Italia?", None),  # an arrival to come
        ("quando posso prenotare il test A2?", None),
        ("what happens if I fail the A2 test?", None),  # a question, not a failed test
    ],
)
def test_which_deadline_a_message_lives_without_a_date(
    repo: Catalog, text: str, kind: str | None
) -> None:
    assert situation_of(text, repo.deadlines) == kind


def test_a_rules_phrases_are_compiled_once_not_at_every_message(
    repo: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each message is checked against every phrase of every rule in every language: more
    patterns than the re module keeps, and compiling them each time cost most of a webhook's
    CPU (#21)."""
    import re

    # Every rule's phrases and situations seen once (run alone, no other test has).
    assert kind_of("il mio permesso scade il 12/03/2027", repo.deadlines) == "permit_renewal"
    assert situation_of("mia moglie è arrivata ieri", repo.deadlines) == "family_arrival"
    compiled: list[str] = []
    compile_pattern = re.compile

    def counted(pattern: str, flags: int = 0) -> re.Pattern[str]:
        compiled.append(pattern)
        return compile_pattern(pattern, flags)

    monkeypatch.setattr(re, "compile", counted)
    assert kind_of("my permit expires on 12/03/2027", repo.deadlines) == "permit_renewal"
    assert situation_of("mia moglie è arrivata ieri", repo.deadlines) == "family_arrival"
    assert compiled == []
    # A reload: new rules, the same phrases. Compiling them all again held the event loop
    # for a second at the first message after each content edit.
    reloaded = {rule_id: replace(rule) for rule_id, rule in repo.deadlines.items()}
    assert kind_of("my permit expires on 12/03/2027", reloaded) == "permit_renewal"
    assert situation_of("mia moglie è arrivata ieri", reloaded) == "family_arrival"
    assert compiled == []
