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
