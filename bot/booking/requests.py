"""This module contains the request desk: appointments for offices that publish no slots.

The user says when they can come and gets a request code at once; staff propose a time (or
ask a question, or decline with a reason); the user accepts it, and it is an ordinary
appointment with the same code. Every change is stored with its notices (to the staff group,
to the user in their language) in one transaction, and sent by the channels' outbox workers.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.booking.handover import HandoverDesk
from bot.booking.request_texts import declined, proposal, staff_text
from bot.booking.service import BookingDesk
from bot.booking.workdays import WorkingTime, working_time
from bot.content.catalog import Catalog
from bot.content.schema import Office, OfficeRequests
from bot.i18n import STAFF_LANGUAGE, Interface, Translator, format_date, format_time
from bot.storage.backoff import Backoff
from bot.storage.records import Appointment, AppointmentRequest, Notice

log = logging.getLogger(__name__)

STAFF_REQUEST = "rq"  # the staff's buttons: "rq:p:LU-4K7P" (after the channel's own prefix)
PROPOSAL_PURPOSE = "request_proposal"  # WhatsApp templates outside the 24-hour window
DECLINED_PURPOSE = "request_declined"
MOVE_DECLINED_PURPOSE = "request_move_declined"  # another time for an appointment, refused
PASSED_PURPOSE = "request_passed"
DEFAULT_REQUESTS = OfficeRequests("XX", ())  # an office whose block was removed since
DEFAULT_MINUTES = 30  # an appointment's length when its service was removed since

#: Tells the engine which choices a user was just offered in a notice, so that on WhatsApp a
#: number typed next ("1") answers it: channel, user id, language, (choice id, label).
OnOffer = Callable[[str, str, str, Sequence[tuple[str, str]]], Awaitable[None]]


class RequestStore(Protocol):
    """What the desk needs of the requests table (``bot.storage.requests``)."""

    async def get(self, code: str) -> AppointmentRequest | None: ...

    async def of_user(self, channel: str, user_id: str) -> list[AppointmentRequest]: ...

    async def waiting(self) -> list[AppointmentRequest]: ...

    async def proposals(self) -> list[AppointmentRequest]: ...

    async def proposed_before(self, moment: datetime) -> list[AppointmentRequest]: ...

    async def held(self, channel: str, user_id: str, now: datetime) -> int: ...

    async def reply_action(self, channel: str, recipient: str, message_id: str) -> str | None: ...

    async def create(
        self,
        *,
        office: str,
        service: str,
        channel: str,
        user_id: str,
        language: str,
        speaks: str,
        days: Sequence[str],
        part: str,
        name: str | None,
        phone: str | None,
        code_prefix: str,
        max_active: int,
        now: datetime,
        notices: Callable[[AppointmentRequest], Sequence[Notice]],
    ) -> AppointmentRequest: ...

    async def accept(
        self,
        code: str,
        channel: str,
        user_id: str,
        now: datetime,
        notices: Callable[[Appointment, bool], Sequence[Notice]],
        *,
        timezone: ZoneInfo,
    ) -> tuple[Appointment, bool] | None: ...

    async def reopen(
        self,
        code: str,
        now: datetime,
        notices: Sequence[Notice],
        owner: tuple[str, str] | None = None,
    ) -> bool: ...

    async def withdraw(
        self,
        code: str,
        channel: str,
        user_id: str,
        now: datetime,
        notices: Callable[[AppointmentRequest], Sequence[Notice]],
    ) -> AppointmentRequest | None: ...

    async def reschedule(
        self, code: str, channel: str, user_id: str, now: datetime, notices: Sequence[Notice]
    ) -> bool: ...

    async def propose(
        self,
        code: str,
        start: datetime,
        end: datetime,
        now: datetime,
        notices: Callable[[AppointmentRequest], Sequence[Notice]],
    ) -> AppointmentRequest | None: ...

    async def decline(
        self,
        code: str,
        now: datetime,
        notices: Callable[[AppointmentRequest], Sequence[Notice]],
    ) -> AppointmentRequest | None: ...

    async def mark_reminded(self, code: str, now: datetime, notices: Sequence[Notice]) -> bool: ...


class RequestDesk:
    """Appointment requests, for the engine (the user's side) and the staff console."""

    def __init__(
        self,
        store: RequestStore,
        booking: BookingDesk,
        handovers: HandoverDesk,
        interface: Interface,
        catalog: Callable[[], Catalog],
        on_offer: OnOffer | None = None,
    ) -> None:
        self.store = store
        self.booking = booking
        self.handovers = handovers
        self.interface = interface
        self.catalog = catalog
        self.on_offer = on_offer

    @property
    def staff(self) -> Translator:
        """What the staff group reads: staff texts in its language (a cached translator)."""
        return self.interface.translator(STAFF_LANGUAGE)

    def now(self) -> datetime:
        return self.booking.now()

    # -- what the content offers -----------------------------------------------------------

    async def working_time(self, office_id: str) -> WorkingTime:
        """The staff's working days of an office, with the days they closed."""
        office = self.catalog().office(office_id)
        block = office.requests if office is not None and office.requests else DEFAULT_REQUESTS
        return working_time(block, self.booking.timezone, await self.booking.store.closures())

    # -- the user's side -------------------------------------------------------------------

    async def held(self, channel: str, user_id: str) -> int:
        return await self.store.held(channel, user_id, self.now())

    async def of_user(self, channel: str, user_id: str) -> list[AppointmentRequest]:
        return await self.store.of_user(channel, user_id)

    async def submit(
        self,
        office: Office,
        service: str,
        channel: str,
        user_id: str,
        language: str,
        speaks: str,
        days: Sequence[str],
        part: str,
        name: str | None,
        phone: str | None,
    ) -> AppointmentRequest:
        """A new request; raises ``TooManyBookings`` when the user holds the most allowed."""
        assert office.requests is not None
        request = await self.store.create(
            office=office.id,
            service=service,
            channel=channel,
            user_id=user_id,
            language=language,
            speaks=speaks,
            days=days,
            part=part,
            name=name,
            phone=phone,
            code_prefix=office.requests.code,
            max_active=office.requests.max_active,
            now=self.now(),
            notices=lambda made: self.to_staff(
                made, self.staff.pgettext("staff", "📝 New request")
            ),
        )
        self.booking.router.wake()
        return request

    async def accept(
        self, code: str, channel: str, user_id: str
    ) -> tuple[Appointment, bool] | None:
        """The user accepts the time proposed: an appointment (new, or moved); None when
        there was no proposal, or its time has passed (staff are asked for another)."""
        catalog = self.catalog()

        def notices(appointment: Appointment, moved: bool) -> list[Notice]:
            if moved:
                headline = self.staff.pgettext("staff", "🔁 Appointment moved (time accepted)")
            else:
                headline = self.staff.pgettext("staff", "📅 New appointment (time accepted)")
            text = self.booking.staff_text(catalog, headline, appointment, self.staff)
            return self.booking.staff_notices(text, appointment.code)

        accepted = await self.store.accept(
            code, channel, user_id, self.now(), notices, timezone=self.booking.timezone
        )
        if accepted is None:
            await self._expire(code)
            await self._day_closed(code)
            return None
        appointment, moved = accepted
        self.booking.router.wake()
        await self.booking.count("moved" if moved else "made", appointment.code)
        return accepted

    async def another_time(self, code: str, channel: str, user_id: str) -> bool:
        """The user cannot come at the time proposed: staff are asked for another."""
        request = await self.store.get(code)
        if request is None:
            return False
        notices = await self._to_staff(
            request, self.staff.pgettext("staff", "🔄 The user asks for another time for request")
        )
        if not await self.store.reopen(code, self.now(), notices, owner=(channel, user_id)):
            return False
        self.booking.router.wake()
        return True

    async def withdraw(self, code: str, channel: str, user_id: str) -> AppointmentRequest | None:
        withdrawn = await self.store.withdraw(
            code,
            channel,
            user_id,
            self.now(),
            lambda request: self.booking.staff_notices(self._withdrawn(request)),
        )
        if withdrawn is not None:
            self.booking.router.wake()
        return withdrawn

    def _withdrawn(self, request: AppointmentRequest) -> str:
        if request.rescheduling:
            text = self.staff.pgettext(
                "staff", "↩️ Request withdrawn by the user: {code} (the appointment stays as it was)"
            )
        else:
            text = self.staff.pgettext("staff", "↩️ Request withdrawn by the user: {code}")
        return text.format(code=request.code)

    def _when(self, start: datetime) -> str:
        """A time as staff read it: "mercoledì 2 dicembre 2026 10:00"."""
        day = format_date(start.date(), STAFF_LANGUAGE, "full")
        return f"{day} {format_time(start, STAFF_LANGUAGE)}"

    def _nothing_waiting(self, code: str) -> str:
        return self.staff.pgettext("staff", "{code}: no request waiting with this code.").format(
            code=code
        )

    async def reschedule(self, appointment: Appointment) -> bool:
        """The user asks to move an appointment made from a request: staff propose a time;
        the appointment stays until the user accepts the new one."""
        request = await self.store.get(appointment.code)
        if request is None:
            return False
        start = appointment.starts_at.astimezone(self.booking.timezone)
        headline = self.staff.pgettext("staff", "🔁 Asks to move the appointment of {when}")
        notices = self.to_staff(request, headline.format(when=self._when(start)), appointment)
        moved = await self.store.reschedule(
            appointment.code, appointment.channel, appointment.user_id, self.now(), notices
        )
        if moved:
            self.booking.router.wake()
        return moved

    # -- the staff's side ------------------------------------------------------------------

    async def propose(self, code: str, start: datetime) -> str:
        """Staff propose a time; returns what to tell the staff group."""
        request = await self.store.get(code)
        catalog = self.catalog()
        if request is None or request.status not in ("open", "proposed"):
            return self._nothing_waiting(code)
        start = start.astimezone(self.booking.timezone)
        if start <= self.now():
            return self.staff.pgettext("staff", "{code}: that time has passed already.").format(
                code=request.code
            )
        if not (await self.working_time(request.office)).is_working_day(start.date()):
            return self.staff.pgettext("staff", "{code}: {day} is not a working day.").format(
                code=request.code, day=format_date(start.date(), STAFF_LANGUAGE, "full")
            )
        service = catalog.services.get(request.service)
        end = start + timedelta(minutes=service.minutes if service else DEFAULT_MINUTES)
        offered: list[tuple[str, str]] = []
        answers = await self.booking.store.checklists.of(request.code)

        def notices(proposed: AppointmentRequest) -> list[Notice]:
            language = self._language(proposed.language)
            text, choices, variables = proposal(
                catalog, self.interface.translator(language), language, proposed, start, answers
            )
            offered.extend(choices)
            return self.booking.router.to_user(
                proposed.channel,
                proposed.user_id,
                text,
                PROPOSAL_PURPOSE,
                variables,
                language=proposed.language,
                reference=proposed.code,
                buttons=tuple((choice,) for choice in choices),
            )

        proposed = await self.store.propose(code, start, end, self.now(), notices)
        if proposed is None:
            return self._nothing_waiting(code)
        self.booking.router.wake()
        when = self._when(start)
        if not self.booking.router.reaches(proposed.channel):
            booked = await self.booking.store.by_code(proposed.code)  # asked to move it
            phone = request.phone or (booked.phone if booked else None)
            return self.staff.pgettext(
                "staff",
                "📨 {code}: proposal recorded for {when}, but the user cannot be reached in "
                "chat: phone {phone}.",
            ).format(code=proposed.code, when=when, phone=phone or "-")
        if self.on_offer is not None:
            await self.on_offer(proposed.channel, proposed.user_id, proposed.language, offered)
        return self.staff.pgettext(
            "staff", "📨 {code}: proposal sent to the user for {when}."
        ).format(code=proposed.code, when=when)

    async def decline(self, code: str, reason: str | None, typed: str | None = None) -> str:
        """Staff decline a request with one of the reasons, or with their own words."""
        catalog = self.catalog()

        def notices(request: AppointmentRequest) -> list[Notice]:
            t = self.interface.translator(self._language(request.language))
            text, because = declined(catalog, t, request, reason, typed)
            purpose = MOVE_DECLINED_PURPOSE if request.rescheduling else DECLINED_PURPOSE
            return self.booking.router.to_user(
                request.channel,
                request.user_id,
                text,
                purpose,
                {"1": request.code, "2": because},
                language=request.language,
                reference=request.code,
            ) + self.booking.staff_notices(
                self.staff.pgettext("staff", "✖️ Request {code} declined.").format(code=request.code)
            )

        closed = await self.store.decline(code, self.now(), notices)
        if closed is None:
            return self._nothing_waiting(code)
        self.booking.router.wake()
        return self.staff.pgettext(
            "staff", "✖️ {code}: declined; the user was told in their language."
        ).format(code=closed.code)

    async def ask(self, code: str, text: str) -> str:
        """Staff ask the user of a request a question; their answers come to the group."""
        request = await self.store.get(code)
        if request is None or request.user_id in ("erased", "expired"):
            return self.staff.pgettext("staff", "{code}: no request with this code.").format(
                code=code
            )
        t = self.interface.translator(self._language(request.language))
        heading = t._("The counter has a question about your request {code}:").format(
            code=request.code
        )
        return await self.handovers.question(
            request.channel, request.user_id, request.language, heading, text, request.code
        )

    async def reply_action(self, channel: str, recipient: str, message_id: str) -> str | None:
        """What a staff reply to this message is for ("ask:LU-4K7P"), if anything."""
        return await self.store.reply_action(channel, recipient, message_id)

    async def prompt(self, code: str, action: str, text: str) -> None:
        """A message for staff to answer by replying to it, with ``action`` ("ask",
        "decline") and the request's code: the reply finds them through its id."""
        notices = self.booking.router.to_staff(
            text, reference=code, reply_action=f"{action}:{code}"
        )
        if self.booking.queue is None or not notices:
            return
        await self.booking.queue.add_notices(notices)
        self.booking.router.wake()

    # -- texts -----------------------------------------------------------------------------

    async def _to_staff(self, request: AppointmentRequest, headline: str) -> list[Notice]:
        """As ``to_staff``; a request to move an appointment keeps no name or phone of its
        own (its appointment has them): staff read them from the appointment."""
        booked = None if request.name else await self.booking.store.by_code(request.code)
        return self.to_staff(request, headline, booked)

    def to_staff(
        self,
        request: AppointmentRequest,
        headline: str,
        appointment: Appointment | None = None,
    ) -> list[Notice]:
        """A request for the staff group, with its buttons: propose, ask, decline."""
        buttons = (
            (
                (
                    f"{STAFF_REQUEST}:p:{request.code}",
                    self.staff.pgettext("staff", "📅 Propose a time"),
                ),
                (f"{STAFF_REQUEST}:q:{request.code}", self.staff.pgettext("staff", "❓ Question")),
                (f"{STAFF_REQUEST}:n:{request.code}", self.staff.pgettext("staff", "✖️ Decline")),
            ),
        )
        text = staff_text(self.catalog(), self.staff, request, headline, appointment)
        return self.booking.router.to_staff(text, reference=request.code, buttons=buttons)

    def _language(self, code: str) -> str:
        """The request's language, or Italian if it was disabled since."""
        return code if self.catalog().language(code) else "it"

    # -- time passing ----------------------------------------------------------------------

    async def _day_closed(self, code: str) -> None:
        """A proposal on a day staff closed since: back to staff (the user was told)."""
        request = await self.store.get(code)
        if request is None or request.status != "proposed" or request.proposed_start is None:
            return
        day = request.proposed_start.astimezone(self.booking.timezone).date()
        if day not in await self.booking.store.closures():
            return
        notices = await self._to_staff(
            request,
            self.staff.pgettext(
                "staff", "🚫 The day proposed has been closed: propose another time for"
            ),
        )
        if await self.store.reopen(request.code, self.now(), notices):
            self.booking.router.wake()

    async def _expire(self, code: str) -> None:
        """A proposal whose time has come unanswered: back to staff, the user told."""
        request = await self.store.get(code)
        if request is None or request.status != "proposed" or request.proposed_start is None:
            return
        if request.proposed_start > self.now():
            return
        t = self.interface.translator(self._language(request.language))
        notices = self.booking.router.to_user(
            request.channel,
            request.user_id,
            t._(
                "The time proposed for your request {code} has passed. The counter will "
                "propose another one."
            ).format(code=request.code),
            PASSED_PURPOSE,
            {"1": request.code},
            language=request.language,
            reference=request.code,
            courtesy=True,
        ) + await self._to_staff(
            request,
            self.staff.pgettext(
                "staff", "⌛ Proposal expired without an answer: propose another time for"
            ),
        )
        if await self.store.reopen(request.code, self.now(), notices):
            self.booking.router.wake()

    async def expire_passed(self) -> int:
        """Every proposal whose time has come unanswered goes back to staff."""
        passed = await self.store.proposed_before(self.now())
        for request in passed:
            await self._expire(request.code)
        return len(passed)

    async def remind(self) -> int:
        """Remind the group of each request that has waited the office's working hours
        since it arrived (or since the last reminder); returns how many."""
        catalog = self.catalog()
        now = self.now()
        reminded = 0
        for request in await self.store.waiting():
            office = catalog.office(request.office)
            block = office.requests if office is not None and office.requests else None
            if block is None:
                continue  # no longer taken on request: staff see it with /richieste
            since = max(request.waiting_since, request.reminded_at or request.waiting_since)
            work = await self.working_time(request.office)
            if work.hours_between(since, now) < block.remind_after_hours:
                continue
            waited = round(work.hours_between(request.waiting_since, now))
            waiting = self.staff.pgettext("staff", "⏰ Waiting for {hours} working hours:")
            notices = await self._to_staff(request, waiting.format(hours=waited))
            if await self.store.mark_reminded(request.code, now, notices):
                reminded += 1
        if reminded:
            self.booking.router.wake()
        return reminded

    async def watch(self, interval: float = 300.0) -> None:
        """Every few minutes: remind staff of requests waiting too long, and hand back to
        them the proposals whose time came unanswered."""
        backoff = Backoff("requests", log, interval)
        while True:
            try:
                reminded = await self.remind()
                passed = await self.expire_passed()
                if reminded or passed:
                    log.info("requests: %d reminded, %d proposals passed", reminded, passed)
                backoff.succeeded()
            except Exception as error:
                backoff.failed(error)
            await asyncio.sleep(backoff.pause)
