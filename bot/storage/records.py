"""This module contains the records the storage hands out: plain data, no database in sight.

Layers above (booking, the engine) import these without importing the database driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from bot.notice import Notice as Notice  # queued by storage, built above it

# Letters and digits that cannot be confused with each other when read aloud or on a screen.
CODE_ALPHABET = "ACDEFHJKLMNPRTUVWXY34679"


@dataclass(frozen=True)
class Appointment:
    code: str
    office: str
    service: str
    starts_at: datetime
    ends_at: datetime
    channel: str
    user_id: str
    name: str | None
    phone: str | None
    language: str
    status: str


@dataclass(frozen=True)
class AppointmentRequest:
    """A user's request for an appointment, until staff fix a time it becomes an appointment
    with the same code.

    ``status``: open (waiting for staff), proposed (a time waits for the user's answer),
    booked (accepted: see the appointment), declined, withdrawn, expired. ``rescheduling``:
    the request is open again because the user asked to move the appointment made from it,
    which stays until a new time is accepted.
    """

    code: str
    office: str
    service: str
    channel: str
    user_id: str
    language: str  # the chat's language: notices and the proposal
    speaks: str  # the language for the meeting at the counter
    days: tuple[str, ...]  # weekdays ("mon" ... "fri") the user can come; empty: any day
    part: str  # morning, afternoon, any
    name: str | None
    phone: str | None
    status: str
    proposed_start: datetime | None
    proposed_end: datetime | None
    waiting_since: datetime  # when it began waiting for staff (sent, or another time asked)
    reminded_at: datetime | None  # staff's last reminder in this wait
    created_at: datetime
    rescheduling: bool = False

    @property
    def asap(self) -> bool:
        """Any day, any time: as soon as possible."""
        return not self.days and self.part == "any"


@dataclass(frozen=True)
class DeadlineReminder:
    """A personal reminder of a deadline (``bot.deadlines``): nothing but the chat, its
    language, the kind of deadline (``permit_renewal``), the day of the event (the permit
    expires) and the day to remind; ``sent_at`` once it was queued for sending."""

    id: int
    channel: str
    user_id: str
    language: str
    kind: str
    event_date: date
    remind_on: date
    sent_at: float | None = None

    @property
    def sent(self) -> bool:
        return self.sent_at is not None


@dataclass(frozen=True)
class Handover:
    """A user's conversation with a person at the counter; the texts live in the outbox."""

    id: int
    channel: str
    user_id: str
    language: str
    opened_at: float
    answered_at: float | None
    closed_at: float | None

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class Posted:
    """A message added to a conversation; ``first_answer``: staff's first reply in it."""

    first_answer: bool


class SlotFull(Exception):
    """Someone else took the last place in this slot."""


class SlotGone(Exception):
    """The time is not a slot that can be booked now: its day was closed, or it is past, out
    of the office's hours or beyond the booking horizon (a stale or forged button)."""


class TooManyBookings(Exception):
    """The user already holds the most active appointments allowed."""


class NoFreeCode(RuntimeError):
    """Every code tried was taken: the codes need more characters."""


@dataclass(frozen=True)
class Event:
    """One anonymous fact for the counter's monitoring (see ``bot.monitoring``).

    Nothing here identifies a person: ``hour`` is truncated to the hour (UTC), ``user`` is a
    keyed one-way pseudonym whose key changes every year, and no text the user wrote is kept.
    """

    kind: str  # topic, question, desk, booking, handover
    action: str  # opened; answered, unsure, unanswered; logged; made, moved, ...; requested, ...
    hour: datetime
    channel: str  # telegram, whatsapp; desk and phone for consultations logged by staff
    language: str | None = None
    area: str | None = None
    topic: str | None = None  # for unanswered questions: the nearest topic, if any
    service: str | None = None
    office: str | None = None
    seconds: int | None = None  # a handover's response time
    user: str | None = None  # the pseudonym; None for what staff log at the desk
