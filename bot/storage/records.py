"""This module contains the records the storage hands out: plain data, no database in sight.

Layers above (booking, the engine) import these without importing the database driver.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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


class SlotFull(Exception):
    """Someone else took the last place in this slot."""


class TooManyBookings(Exception):
    """The user already holds the most active appointments allowed."""


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
