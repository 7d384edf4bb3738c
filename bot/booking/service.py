"""This module contains the booking desk: free slots, booking, moving, listing and cancelling.

It joins the content (offices and their calendars) with the appointments store; the
engine's booking flow talks to it, and staff are told of every change. A time to book or
to move to is taken only when it is a slot of the office's calendar that can be booked now
(the button offering it may be stale or forged); the store then checks staff's closures,
the places left and the user's limit in the same transaction as the change.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from bot.booking.calendar import Schedule, Slot, free_slots, schedule_of
from bot.booking.ical import invitation
from bot.booking.notices import NoticeRouter
from bot.content.catalog import Catalog
from bot.content.identity import staff_name
from bot.content.markup import typed_name
from bot.content.schema import Office
from bot.i18n import Translator, format_date, format_time
from bot.monitoring.events import Monitor, NullMonitor
from bot.monitoring.tables import spreadsheet_cell
from bot.storage.records import Appointment, Notice, SlotGone

log = logging.getLogger(__name__)


class ChecklistAnswerStore(Protocol):
    """The checklist answers kept by appointment or request code (``bot.storage.checklists``):
    answer ids as one text, "permit=work;kit=yes"."""

    async def keep(self, code: str, answers: str) -> None: ...

    async def of(self, code: str) -> str: ...


class AppointmentStore(Protocol):
    """What the desk needs of the appointments table (``bot.storage.appointments``)."""

    #: The answers to a service's checklist, kept with the booking for its reminder.
    @property
    def checklists(self) -> ChecklistAnswerStore: ...

    async def taken(self, office: str, since: datetime) -> dict[datetime, int]: ...

    async def book(
        self,
        *,
        office: str,
        service: str,
        starts_at: datetime,
        ends_at: datetime,
        capacity: int,
        max_active: int,
        channel: str,
        user_id: str,
        name: str | None,
        phone: str | None,
        language: str,
        code_prefix: str,
        now: datetime | None = None,
        notices: Callable[[Appointment], Sequence[Notice]] | None = None,
        day: date | None = None,
    ) -> Appointment: ...

    async def active_for(
        self, channel: str, user_id: str, now: datetime | None = None
    ) -> list[Appointment]: ...

    async def by_code(self, code: str) -> Appointment | None: ...

    async def cancel(
        self, code: str, channel: str, user_id: str, notices: Sequence[Notice] = ()
    ) -> bool: ...

    async def set_status(self, code: str, status: str, notices: Sequence[Notice] = ()) -> bool: ...

    async def close_days(
        self,
        days: Sequence[date],
        timezone: ZoneInfo,
        notices: Callable[[Appointment], Awaitable[Sequence[Notice]]],
    ) -> list[Appointment]: ...

    async def closures(self) -> frozenset[date]: ...

    async def move(
        self,
        code: str,
        channel: str,
        user_id: str,
        starts_at: datetime,
        ends_at: datetime,
        capacity: int,
        *,
        max_active: int,
        now: datetime | None = None,
        notices: Sequence[Notice] = (),
        day: date | None = None,
    ) -> bool: ...

    async def between(
        self, start: datetime, end: datetime, statuses: tuple[str, ...] | None = ("active",)
    ) -> list[Appointment]: ...

    async def to_remind(self, start: datetime, end: datetime) -> list[Appointment]: ...

    async def mark_reminded(
        self, code: str, notices: Sequence[Notice] = (), starts_at: datetime | None = None
    ) -> bool: ...


class NoticeQueue(Protocol):
    """Where notices that follow no stored change are queued (``bot.storage.outbox``)."""

    async def add_notices(self, notices: Iterable[Notice]) -> int: ...


class UserNotices(Protocol):
    """The notices telling a user what staff did to their booking ("cancelled_by_staff",
    "closed"), in the user's language (``bot.booking.reminders.StaffCancellations``).

    Given the desk when called, not when built: they offer its next free times, and the
    desk is built with them."""

    async def __call__(
        self, desk: BookingDesk, appointment: Appointment, event: str
    ) -> list[Notice]: ...


async def _nobody_told(desk: BookingDesk, appointment: Appointment, event: str) -> list[Notice]:
    return []


STAFF_STATUSES = {"attended": "attended", "no_show": "no_show", "cancel": "cancelled"}


@dataclass(frozen=True)
class StaffUpdate:
    """What a staff button did to a booking: ``done`` (it now has ``status``), ``already``
    (it had ``status`` already: nothing changed), ``too_early`` (attended or no-show before
    its time: nothing changed)."""

    code: str
    outcome: Literal["done", "already", "too_early"]
    status: str


class BookingDesk:
    """Everything the booking flow needs, for the current content."""

    def __init__(
        self,
        store: AppointmentStore,
        timezone: ZoneInfo,
        clock: Callable[[], datetime] | None = None,
        retention_days: int = 90,
        queue: NoticeQueue | None = None,
        router: NoticeRouter | None = None,
        user_notices: UserNotices = _nobody_told,
        monitor: Monitor | None = None,
    ) -> None:
        self.store = store
        self.retention_days = retention_days
        self.timezone = timezone
        self.queue = queue
        self.router = router or NoticeRouter()
        #: Tells a user (on their channel, in their language) what staff did to a booking.
        self.user_notices = user_notices
        #: Counts bookings for the monitoring, anonymously (only a serving bot counts).
        self.monitor: Monitor = monitor if monitor is not None else NullMonitor()
        self._clock = clock or (lambda: datetime.now(timezone))

    def now(self) -> datetime:
        return self._clock()

    async def slots(self, office: Office) -> list[Slot]:
        """Free slots of an office, from the minimum notice to the booking horizon."""
        taken = await self.store.taken(office.id, self.now() - timedelta(days=1))
        return free_slots(await self._schedule(office), taken, self.now(), self.timezone)

    async def slot_at(self, office: Office, start: datetime) -> Slot | None:
        """The office's slot starting at ``start`` if it can be booked now, full or not: a
        slot of its calendar, on an open day staff did not close, after the minimum notice
        and within the booking horizon (the same rules as the slots offered)."""
        schedule = await self._schedule(office)
        day = start.astimezone(self.timezone).date()
        slots = free_slots(schedule, {}, self.now(), self.timezone, day)
        return next((slot for slot in slots if slot.start == start), None)

    async def _schedule(self, office: Office) -> Schedule:
        assert office.booking is not None
        schedule = schedule_of(office.booking)
        return replace(schedule, closed_days=schedule.closed_days | await self.store.closures())

    async def book(
        self,
        office: Office,
        service: str,
        start: datetime,
        *,
        channel: str,
        user_id: str,
        name: str | None,
        phone: str | None,
        language: str,
        notices: Callable[[Appointment], Sequence[Notice]] | None = None,
    ) -> Appointment:
        """Book the slot of ``office`` starting at ``start``: ``SlotGone`` when it is not
        one that can be booked now, else as ``AppointmentStore.book`` (``SlotFull``,
        ``TooManyBookings``; a closure made meanwhile is ``SlotGone`` too)."""
        slot = await self.slot_at(office, start)
        if slot is None or office.booking is None or office.takes(service) != "slots":
            raise SlotGone
        return await self.store.book(
            office=office.id,
            service=service,
            starts_at=slot.start,
            ends_at=slot.end,
            capacity=office.booking.capacity,
            max_active=office.booking.max_active,
            channel=channel,
            user_id=user_id,
            name=name,
            phone=phone,
            language=language,
            code_prefix=office.booking.code,
            now=self.now(),
            notices=notices,
            day=slot.start.astimezone(self.timezone).date(),
        )

    async def move(
        self,
        office: Office,
        appointment: Appointment,
        start: datetime,
        notices: Callable[[Appointment], Sequence[Notice]],
    ) -> Appointment | None:
        """Move the user's ``appointment`` to the slot of ``office`` starting at ``start``,
        checked as a new booking is (``SlotGone``, ``SlotFull``, ``TooManyBookings``).
        Returns it moved, or None when it cannot be moved (cancelled, begun, not theirs)."""
        slot = await self.slot_at(office, start)
        if slot is None or office.booking is None or office.id != appointment.office:
            raise SlotGone
        moved = replace(appointment, starts_at=slot.start, ends_at=slot.end)
        done = await self.store.move(
            appointment.code,
            appointment.channel,
            appointment.user_id,
            slot.start,
            slot.end,
            office.booking.capacity,
            max_active=office.booking.max_active,
            now=self.now(),
            notices=notices(moved),
            day=slot.start.astimezone(self.timezone).date(),
        )
        return moved if done else None

    async def appointments(self, day: date, days: int = 1) -> list[Appointment]:
        """The active appointments of ``days`` days from ``day``, in order (the staff's
        agenda: ``bot.staff.agenda``)."""
        start = datetime.combine(day, time(0), self.timezone)
        return await self.store.between(start, start + timedelta(days=days))

    async def export(self, first: date, last: date) -> bytes:
        """Bookings from ``first`` to ``last`` (both included) as CSV, for the staff."""
        start = datetime.combine(first, time(0), self.timezone)
        end = datetime.combine(last + timedelta(days=1), time(0), self.timezone)
        rows = await self.store.between(start, end, statuses=None)
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(
            [
                "code",
                "office",
                "service",
                "date",
                "time",
                "status",
                "language",
                "channel",
                "name",
                "phone",
            ]
        )
        for appointment in rows:
            local = appointment.starts_at.astimezone(self.timezone)
            # Names and phones are what users typed: a spreadsheet must not run them.
            writer.writerow(
                spreadsheet_cell(text)
                for text in (
                    appointment.code,
                    appointment.office,
                    appointment.service,
                    local.date().isoformat(),
                    local.strftime("%H:%M"),
                    appointment.status,
                    appointment.language,
                    appointment.channel,
                    appointment.name or "",
                    appointment.phone or "",
                )
            )
        return buffer.getvalue().encode("utf-8-sig")  # the BOM lets spreadsheets read accents

    def invitation(self, catalog: Catalog, appointment: Appointment) -> bytes:
        """The appointment as an iCalendar file, in the user's language."""
        language = appointment.language
        service = catalog.services.get(appointment.service)
        office = catalog.office(appointment.office)
        name = catalog.localize(service.name, language).text if service else appointment.service
        place = catalog.localize(office.name, language).text if office else appointment.office
        documents = catalog.localize(service.documents, language).text if service else ""
        return invitation(
            appointment.code,
            f"{name} - {place}",
            office.address if office else "",
            f"{appointment.code}\n{documents}".strip(),
            appointment.starts_at,
            appointment.ends_at,
            counter=staff_name(catalog),
        )

    def staff_text(
        self, catalog: Catalog, headline: str, appointment: Appointment, staff: Translator
    ) -> str:
        """A booking change for the staff group: what, where, when, who, in which language
        (in the staff group's language, ``staff``)."""
        code = staff.language
        service = catalog.services.get(appointment.service)
        name = catalog.localize(service.name, code).text if service else appointment.service
        office = catalog.office(appointment.office)
        place = catalog.localize(office.name, code).text if office else appointment.office
        start = appointment.starts_at.astimezone(self.timezone)
        language = staff.pgettext("staff", "language {code}").format(code=appointment.language)
        return (
            f"{headline} {appointment.code}\n{name} — {place}\n"
            f"{format_date(start.date(), code, 'full')} {format_time(start, code)}\n"
            f"{typed_name(appointment.name)}, {appointment.phone or '-'} — {language}"
        )

    async def close(self, catalog: Catalog, first: date, last: date) -> int:
        """Staff close days: bookings on them are cancelled and their users told; returns how
        many were cancelled."""
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        # One transaction closes the days and cancels their bookings: a booking confirmed
        # at the same moment is either cancelled here (and counted) or refused.
        affected = await self.store.close_days(
            days, self.timezone, lambda appointment: self._user_notices(appointment, "closed")
        )
        for appointment in affected:
            await self.count("cancelled", appointment.code)
        self.router.wake()
        return len(affected)

    async def next_free(self, catalog: Catalog, office_id: str, count: int = 3) -> list[datetime]:
        """The next free slot starts of an office, to offer after a cancellation."""
        office = catalog.office(office_id)
        if office is None or office.booking is None:
            return []
        return [slot.start for slot in (await self.slots(office))[:count]]

    async def staff_update(self, code: str, action: str) -> StaffUpdate | None:
        """A staff button: mark attended or no-show, or cancel (the user is told). None for
        an unknown action or booking."""
        status = STAFF_STATUSES.get(action)
        appointment = await self.store.by_code(code)
        if status is None or appointment is None:
            return None
        if appointment.status != "active":
            return StaffUpdate(appointment.code, "already", appointment.status)
        if status != "cancelled" and self.now() < appointment.starts_at:
            # A tap on "absent" days before would end the booking silently: not yet.
            return StaffUpdate(appointment.code, "too_early", appointment.status)
        notices: list[Notice] = []
        if status == "cancelled":
            notices = await self._user_notices(appointment, "cancelled_by_staff")
        if not await self.store.set_status(code, status, notices):
            return None
        self.router.wake()
        await self.count(status, code)
        return StaffUpdate(appointment.code, "done", status)

    async def count(self, action: str, code: str) -> None:
        """Record a booking made, moved, cancelled, attended or missed, for the monitoring."""
        if not self.monitor.records:
            return  # nothing would be recorded: no need to read the appointment
        try:
            appointment = await self.store.by_code(code)
        except Exception:
            # The booking is done; a missed count must not turn it into an error for the user.
            log.exception("booking: a %s booking could not be counted", action)
            return
        if appointment is not None:
            await self.monitor.booking(action, appointment)

    async def _user_notices(self, appointment: Appointment, event: str) -> list[Notice]:
        return await self.user_notices(self, appointment, event)

    def staff_notices(self, text: str, code: str | None = None) -> list[Notice]:
        """Notices to staff, to queue with the change they tell of."""
        return self.router.to_staff(text, code)

    async def tell_staff(self, text: str, code: str | None = None) -> None:
        """Tell staff something that follows no stored change (the morning agenda, say)."""
        notices = self.router.to_staff(text, code)
        if not notices:
            return
        if self.queue is None:
            # The text stays out of the log: it may hold names and phone numbers.
            log.warning("a staff notice was dropped: no outbox to queue it in")
            return
        await self.queue.add_notices(notices)
        self.router.wake()
