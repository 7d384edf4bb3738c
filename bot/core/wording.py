"""This module contains how appointments read in the user's language: a service, a day, a
time, when someone can come. Shared by the booking, the request and the "my appointments"
dialogues, so that a day is written the same way in all of them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.booking.when import AFTERNOON, MORNING, PART_LABELS
from bot.booking.workdays import WEEKDAY_KEYS
from bot.content.catalog import Catalog
from bot.i18n import Translator, format_date, format_time

_A_MONDAY = date(2024, 1, 1)  # to name a weekday with Babel


class Wording:
    """Appointment words for one user: their language, the counter's time zone."""

    def __init__(self, catalog: Catalog, code: str, t: Translator, timezone: ZoneInfo) -> None:
        self.catalog = catalog
        self.code = code
        self.t = t
        self.timezone = timezone

    def service(self, service_id: str) -> str:
        service = self.catalog.services.get(service_id)
        return self.catalog.localize(service.name, self.code).text if service else service_id

    def day(self, day: date) -> str:
        return format_date(day, self.code, "EEEE d MMMM")

    def weekday(self, key: str) -> str:
        """ "lunedì" for "mon"."""
        offset = WEEKDAY_KEYS.index(key)
        return format_date(_A_MONDAY + timedelta(days=offset), self.code, "EEEE")

    def when(self, moment: datetime) -> str:
        local = moment.astimezone(self.timezone)
        return f"{self.day(local.date())}, {format_time(local, self.code)}"

    def availability(self, days: Sequence[str], part: str) -> str:
        """When someone can come: "lunedì, mercoledì; mattina", or "as soon as possible"."""
        if not days and part not in (MORNING, AFTERNOON):
            return self.t._("as soon as possible, any day")
        named = ", ".join(self.weekday(day) for day in days if day in WEEKDAY_KEYS)
        named = named or self.t._("any day")
        if part in PART_LABELS:
            return f"{named}; {self.t._(PART_LABELS[part]).lower()}"
        return named
