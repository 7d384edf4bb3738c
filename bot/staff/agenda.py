"""This module contains the agenda as staff read it: ``/oggi``, ``/domani``, ``/settimana``,
the morning post, and ``/cerca`` (a booking by its code or its user's phone).

Texts are staff texts (context ``"staff"``), in the staff group's language, Italian; services
are named as the Italian content names them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from bot.booking.service import BookingDesk
from bot.content.catalog import Catalog
from bot.content.markup import typed_name
from bot.i18n import STAFF_LANGUAGE, Translator, format_date, format_time
from bot.storage.records import Appointment

MIN_PHONE_DIGITS = 4  # fewer would find half the bookings
SEARCH_DAYS = 366  # a phone finds bookings from yesterday to a year ahead


class StaffAgenda:
    """The bookings of a day or a week, and the search, as lines for the staff group."""

    def __init__(
        self, translator: Translator, desk: BookingDesk, catalog: Callable[[], Catalog]
    ) -> None:
        self.t = translator
        self.desk = desk
        self.catalog = catalog

    async def days(self, day: date, days: int = 1) -> str:
        """The appointments of ``days`` days from ``day``, one line each."""
        appointments = await self.desk.appointments(day, days)
        when = format_date(day, STAFF_LANGUAGE, "EEEE d MMMM")
        if days > 1:
            title = self.t.pgettext("staff", "Agenda for {day} and the {count} days after").format(
                day=when, count=days - 1
            )
        else:
            title = self.t.pgettext("staff", "Agenda for {day}").format(day=when)
        if not appointments:
            return self.t.pgettext("staff", "{title}: no appointments.").format(title=title)
        catalog = self.catalog()
        return "\n".join(
            [
                self.t.pgettext("staff", "{title}: {count} appointments").format(
                    title=title, count=len(appointments)
                )
            ]
            + [self._line(catalog, appointment, days > 1) for appointment in appointments]
        )

    async def find(self, query: str) -> str:
        """Bookings by code (LU-4K7P, any case) or by phone number (any part of it)."""
        catalog = self.catalog()
        code = query.strip().upper()
        found = await self.desk.store.by_code(code) if "-" in code else None
        if found is not None:
            return self.t.pgettext("staff", "{line} — status: {status}").format(
                line=self._line(catalog, found, True), status=found.status
            )
        digits = "".join(c for c in query if c.isdigit())
        if len(digits) < MIN_PHONE_DIGITS:
            return self.t.pgettext(
                "staff", "Write a code (LU-4K7P) or at least 4 digits of the phone number."
            )
        now = self.desk.now()
        upcoming = await self.desk.store.between(
            now - timedelta(days=1), now + timedelta(days=SEARCH_DAYS)
        )
        matches = [
            a for a in upcoming if digits in "".join(c for c in a.phone or "" if c.isdigit())
        ]
        if not matches:
            return self.t.pgettext("staff", "No active appointment for {query}.").format(
                query=query.strip()
            )
        return "\n".join(self._line(catalog, appointment, True) for appointment in matches)

    def _line(self, catalog: Catalog, appointment: Appointment, with_day: bool) -> str:
        service = catalog.services.get(appointment.service)
        name = (
            catalog.localize(service.name, STAFF_LANGUAGE).text if service else appointment.service
        )
        start = appointment.starts_at.astimezone(self.desk.timezone)
        when = format_time(start, STAFF_LANGUAGE)
        if with_day:
            when = f"{format_date(start.date(), STAFF_LANGUAGE, 'EEE d MMM')} {when}"
        return self.t.pgettext(
            "staff", "{when} {code} ({office}) {service} — {name}, {phone}, language {language}"
        ).format(
            when=when,
            code=appointment.code,
            office=appointment.office,
            service=name,
            name=typed_name(appointment.name),
            phone=appointment.phone or "-",
            language=appointment.language,
        )
