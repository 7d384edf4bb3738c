"""This module contains the scheduled messages: reminders the day before, the morning agenda."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Protocol

from bot.booking.checklists import to_bring
from bot.booking.service import BookingDesk
from bot.content.catalog import Catalog
from bot.i18n import Interface, format_date, format_time
from bot.storage.backoff import Backoff
from bot.storage.records import Appointment, Notice

log = logging.getLogger(__name__)


class Reminders:
    """Once a day, from the configured hour, reminds everyone booked for the next day."""

    def __init__(
        self,
        desk: BookingDesk,
        catalog: Callable[[], Catalog],
        interface: Interface,
        hour: int = 18,
    ) -> None:
        self.desk = desk
        self.catalog = catalog
        self.interface = interface
        self.hour = hour

    def text(self, appointment: Appointment, answers: str = "") -> tuple[str, dict[str, str]]:
        """The reminder in the user's language, and the variables of its WhatsApp template
        (``answers``: the user's checklist answers, kept with the appointment)."""
        catalog = self.catalog()
        language = _language(catalog, appointment)
        t = self.interface.translator(language)
        office = catalog.office(appointment.office)
        service = catalog.services.get(appointment.service)
        when = _when(appointment.starts_at, self.desk.timezone, language)
        address = office.address if office else ""
        lines = [
            t._("Reminder: your appointment {code} is tomorrow, {when}, at {address}.").format(
                code=appointment.code, when=when, address=address
            )
        ]
        if service is not None:
            lines += [
                "",
                t._("Bring with you:"),
                to_bring(catalog, service, answers, language, t),
            ]
        lines += ["", t._("If you cannot come, please cancel it in “My appointments”.")]
        return "\n".join(lines), {"1": appointment.code, "2": when, "3": address}

    async def run_once(self) -> int:
        """Queue the reminders that are due now; returns how many."""
        now = self.desk.now()
        if now.hour < self.hour:
            return 0
        tomorrow = datetime.combine(now.date() + timedelta(days=1), time(0), self.desk.timezone)
        sent = 0
        for appointment in await self.desk.store.to_remind(tomorrow, tomorrow + timedelta(days=1)):
            if not self.desk.router.reaches(appointment.channel):
                continue  # the terminal chat, say: nobody to remind
            answers = await self.desk.store.checklists.of(appointment.code)
            text, variables = self.text(appointment, answers)
            notices = self.desk.router.about(appointment, text, "reminder", variables)
            if await self.desk.store.mark_reminded(
                appointment.code, notices, starts_at=appointment.starts_at
            ):
                sent += 1
        if sent:
            self.desk.router.wake()
        return sent

    async def run(self, interval: float = 300.0) -> None:
        backoff = Backoff("reminders", log, interval)
        while True:
            try:
                count = await self.run_once()
                if count:
                    log.info("reminders: %d sent", count)
                backoff.succeeded()
            except Exception as error:
                backoff.failed(error)
            await asyncio.sleep(backoff.pause)


class StaffCancellations:
    """Tells a user what staff did to their booking: cancelled it, or closed the day
    (``bot.booking.service.UserNotices``).

    The notices use the WhatsApp template ``staff_cancel`` outside the 24-hour window.
    """

    def __init__(self, catalog: Callable[[], Catalog], interface: Interface) -> None:
        self.catalog = catalog
        self.interface = interface

    async def __call__(
        self, desk: BookingDesk, appointment: Appointment, event: str
    ) -> list[Notice]:
        if not desk.router.reaches(appointment.channel) or event not in (
            "cancelled_by_staff",
            "closed",
        ):
            return []
        catalog = self.catalog()
        language = _language(catalog, appointment)
        t = self.interface.translator(language)
        when = _when(appointment.starts_at, desk.timezone, language)
        text = t._(
            "The counter had to cancel your appointment {code} ({when}). Please book another "
            "time or contact the counter."
        ).format(code=appointment.code, when=when)
        free = await desk.next_free(catalog, appointment.office)
        if free:
            times = [f"- {_when(start, desk.timezone, language)}" for start in free]
            text += "\n\n" + t._("Free times at the moment:") + "\n" + "\n".join(times)
        return desk.router.about(
            appointment, text, "staff_cancel", {"1": appointment.code, "2": when}
        )


def _language(catalog: Catalog, appointment: Appointment) -> str:
    """The booking's language, or Italian if it was disabled since."""
    return appointment.language if catalog.language(appointment.language) else "it"


def _when(moment: datetime, timezone: tzinfo, language: str) -> str:
    """ "mercoledì 2 dicembre, 10:00", in the counter's time zone."""
    local = moment.astimezone(timezone)
    return f"{format_date(local.date(), language, 'EEEE d MMMM')}, {format_time(local, language)}"


class DailyPostStore(Protocol):
    """What the agenda needs to post once a day (``bot.storage.daily``)."""

    async def post_once(self, name: str, day: date, notices: Sequence[Notice]) -> bool: ...


class MorningAgenda:
    """Posts the day's agenda to the staff group once a day, from the configured hour."""

    def __init__(
        self,
        desk: BookingDesk,
        agenda: Callable[[date], Awaitable[str]],
        posts: DailyPostStore,
        hour: int = 8,
    ) -> None:
        self.desk = desk
        self.agenda = agenda  # the day's agenda as staff read it (``bot.staff.agenda``)
        self.posts = posts
        self.hour = hour

    async def run_once(self) -> bool:
        now = self.desk.now()
        if now.hour < self.hour:
            return False
        text = await self.agenda(now.date())
        posted = await self.posts.post_once("agenda", now.date(), self.desk.staff_notices(text))
        if posted:
            self.desk.router.wake()
        return posted

    async def run(self, interval: float = 300.0) -> None:
        backoff = Backoff("agenda", log, interval)
        while True:
            try:
                await self.run_once()
                backoff.succeeded()
            except Exception as error:
                backoff.failed(error)
            await asyncio.sleep(backoff.pause)
