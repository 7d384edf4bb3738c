"""This module contains the statistics of a period: the figures the reports print.

A *consultation* is one answer the counter gave: a topic read from the menus, a question
asked in free text (answered or not), or a consultation staff logged at the desk or by
phone. Unique users are counted by pseudonym; pseudonyms change every year, so a period
across New Year counts a person once in each year. Rates of attendance and no-show are over
the appointments whose outcome staff marked (attended + no-show).

For one office, only the events that office is named in count: its bookings and the
consultations staff logged there. Consultations that belong to no office (everything read or
asked online, desk and phone consultations logged without an office) are left out and only
counted (``Summary.shared``), so the figures of the offices and the shared ones add up to the
counter's total, and nothing is counted twice.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from bot.monitoring.events import (
    ANSWERED,
    BOOKING,
    DEADLINE,
    DESK,
    HANDOVER,
    QUESTION,
    TOPIC,
    UNANSWERED,
    UNSURE,
)
from bot.storage.records import Event

NONE = "-"  # the key of "no area" or "no nearby topic"


@dataclass(frozen=True)
class BookingRow:
    """One service at one office."""

    service: str
    office: str
    made: int = 0
    moved: int = 0
    cancelled: int = 0
    attended: int = 0
    no_show: int = 0

    @property
    def marked(self) -> int:
        return self.attended + self.no_show

    @property
    def attendance_rate(self) -> float | None:
        return self.attended / self.marked if self.marked else None

    @property
    def no_show_rate(self) -> float | None:
        return self.no_show / self.marked if self.marked else None


@dataclass(frozen=True)
class UnansweredRow:
    """Questions not answered directly, grouped by nearest topic and language."""

    topic: str  # NONE when nothing came near
    area: str
    language: str
    unsure: int  # possible topics were offered
    unanswered: int  # nothing was found

    @property
    def total(self) -> int:
        return self.unsure + self.unanswered


@dataclass(frozen=True)
class DeadlineRow:
    """Deadline reminders of one kind in one month (``YYYY-MM``): set and sent."""

    month: str
    kind: str
    set: int = 0
    sent: int = 0


@dataclass(frozen=True)
class Summary:
    first: date
    last: date
    office: str | None
    consultations: int = 0
    #: With an office: the consultations of the period that belong to no office (left out).
    shared: int = 0
    by_area: dict[str, int] = field(default_factory=dict)
    by_topic: dict[str, int] = field(default_factory=dict)
    by_language: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    by_month: dict[str, int] = field(default_factory=dict)
    by_month_area: dict[str, dict[str, int]] = field(default_factory=dict)
    questions: dict[str, int] = field(default_factory=dict)
    unique_users: int = 0
    bookings: tuple[BookingRow, ...] = ()
    handovers_requested: int = 0
    handovers_answered: int = 0
    median_response_seconds: float | None = None
    unanswered: tuple[UnansweredRow, ...] = ()
    deadlines: tuple[DeadlineRow, ...] = ()
    #: Per language, the content's titles and answers translated from an older Italian text
    #: (not events: what the content holds when the figures are printed).
    stale_translations: dict[str, int] = field(default_factory=dict)


def _ranked(counter: Counter[str]) -> dict[str, int]:
    """Largest first; ties in alphabetical order, so every run prints the same."""
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def summarise(
    events: Iterable[Event],
    timezone: ZoneInfo,
    first: date,
    last: date,
    office: str | None = None,
) -> Summary:
    """The figures of the events from ``first`` to ``last`` (local dates, both included).

    With ``office``, only the events naming that office count (its bookings, the consultations
    logged there); consultations naming no office are left out and counted in ``shared``.
    """
    areas: Counter[str] = Counter()
    topics: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    channels: Counter[str] = Counter()
    months: Counter[str] = Counter()
    month_areas: dict[str, Counter[str]] = {}
    questions: Counter[str] = Counter()
    users: set[str] = set()
    bookings: dict[tuple[str, str], Counter[str]] = {}
    unanswered: dict[tuple[str, str, str], Counter[str]] = {}
    deadlines: dict[tuple[str, str], Counter[str]] = {}
    requested = 0
    response_times: list[int] = []
    shared = 0
    for event in events:
        local = event.hour.astimezone(timezone)
        if not first <= local.date() <= last:
            continue
        if office is not None and event.office != office:
            if event.office is None and event.kind in (TOPIC, QUESTION, DESK):
                shared += 1
            continue
        if event.user is not None:
            users.add(event.user)
        if event.kind in (TOPIC, QUESTION, DESK):
            month = local.strftime("%Y-%m")
            area = event.area or NONE
            areas[area] += 1
            languages[event.language or NONE] += 1
            channels[event.channel] += 1
            months[month] += 1
            month_areas.setdefault(month, Counter())[area] += 1
            if event.topic is not None and event.action in ("opened", ANSWERED):
                topics[event.topic] += 1
        if event.kind == QUESTION:
            questions[event.action] += 1
            if event.action in (UNSURE, UNANSWERED):
                key = (event.topic or NONE, event.area or NONE, event.language or NONE)
                unanswered.setdefault(key, Counter())[event.action] += 1
        elif event.kind == BOOKING and event.service is not None and event.office is not None:
            bookings.setdefault((event.service, event.office), Counter())[event.action] += 1
        elif event.kind == DEADLINE and event.topic is not None:
            month_kind = (local.strftime("%Y-%m"), event.topic)
            deadlines.setdefault(month_kind, Counter())[event.action] += 1
        elif event.kind == HANDOVER and event.action == "requested":
            requested += 1
        elif event.kind == HANDOVER and event.action == "answered" and event.seconds is not None:
            response_times.append(event.seconds)
    booking_rows = tuple(
        BookingRow(
            service,
            where,
            made=counts["made"],
            moved=counts["moved"],
            cancelled=counts["cancelled"],
            attended=counts["attended"],
            no_show=counts["no_show"],
        )
        for (service, where), counts in sorted(bookings.items())
    )
    unanswered_rows = tuple(
        sorted(
            (
                UnansweredRow(topic, area, language, counts[UNSURE], counts[UNANSWERED])
                for (topic, area, language), counts in unanswered.items()
            ),
            key=lambda row: (-row.total, row.topic, row.language),
        )
    )
    return Summary(
        first=first,
        last=last,
        office=office,
        consultations=sum(areas.values()),
        shared=shared,
        by_area=_ranked(areas),
        by_topic=_ranked(topics),
        by_language=_ranked(languages),
        by_channel=_ranked(channels),
        by_month=dict(sorted(months.items())),
        by_month_area={month: _ranked(month_areas[month]) for month in sorted(month_areas)},
        questions={outcome: questions[outcome] for outcome in (ANSWERED, UNSURE, UNANSWERED)},
        unique_users=len(users),
        bookings=booking_rows,
        handovers_requested=requested,
        handovers_answered=len(response_times),
        median_response_seconds=statistics.median(response_times) if response_times else None,
        unanswered=unanswered_rows,
        deadlines=tuple(
            DeadlineRow(month, kind, set=counts["set"], sent=counts["sent"])
            for (month, kind), counts in sorted(deadlines.items())
        ),
    )
