"""This module contains the booking dialogue (see ``booking.mmd`` beside this file).

service -> office (if several) -> day -> time -> name -> phone (not on WhatsApp: the number
is known) -> documents, privacy and confirmation -> code. "My appointments" lists the
user's bookings; each can be cancelled. The draft lives in the session: leaving with "menu"
or "back" leaves nothing half-booked behind.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from bot.booking.calendar import days_with_slots
from bot.booking.service import BookingDesk
from bot.content.schema import Office
from bot.core.details import NameProblem, clean_name, name_error, normalise_phone
from bot.core.messages import Attachment, Choice, Reply
from bot.core.sessions import State
from bot.i18n import format_date, format_time
from bot.storage.records import Appointment, SlotFull, TooManyBookings

if TYPE_CHECKING:
    from bot.core.engine import _Turn

BOOK = "bk:"
NAME, PHONE = "book:name", "book:phone"
DAYS_SHOWN = 6
TIMES_SHOWN = 12


class BookingFlow:
    """One step of the booking dialogue, for one turn."""

    def __init__(self, turn: _Turn, desk: BookingDesk) -> None:
        self.turn = turn
        self.desk = desk
        self.t = turn.t
        self.catalog = turn.catalog
        self.draft = turn.session.draft

    # -- entry points ----------------------------------------------------------------------

    async def start(self, service: str | None) -> Reply:
        self.draft.clear()
        services = self.desk.services(self.catalog)
        if service in services:
            return await self._service_chosen(service)
        choices = [Choice(f"{BOOK}svc:{s}", self._service_name(s)) for s in services]
        return self.turn.reply(
            self.t._("What is the appointment for?"), [*choices, self.turn._home_choice()]
        )

    async def choose(self, choice_id: str) -> Reply:
        step, _, value = choice_id.removeprefix(BOOK).partition(":")
        if step == "svc":
            return await self.start(value or None)
        if step == "office" and self.draft.get("service"):
            office = self._office(value)
            if office is not None:
                return await self._office_chosen(office)
        if step == "day" and self.draft.get("office"):
            return await self._day_chosen(value)
        if step == "time" and self.draft.get("office"):
            return await self._time_chosen(value)
        if step == "confirm" and self._complete():
            return await self._confirm()
        if step == "mine":
            return await self.mine()
        if step == "move":
            return await self._start_move(value)
        if step == "cancel":
            return await self._ask_cancel(value)
        if step == "cancelyes":
            return await self._cancel(value)
        return self.turn.home(
            self.t._("That option is no longer available. Here is the main menu.")
        )

    async def typed(self, text: str) -> Reply:
        """A typed answer while the flow waits for the name or the phone number."""
        if self.turn.session.state == NAME:
            name = clean_name(text)
            if isinstance(name, NameProblem):
                return self._ask_name(name_error(name, self.t))
            self.draft["name"] = name
            return self._after_name()
        phone = normalise_phone(text)
        if phone is None:
            return self._ask_phone(
                self.t._(
                    "That does not look like a phone number. "
                    "Please write it again, for example 333 1234567."
                )
            )
        self.draft["phone"] = phone
        return self._summary()

    # -- steps -----------------------------------------------------------------------------

    async def _service_chosen(self, service: str) -> Reply:
        self.draft["service"] = service
        offices = self.desk.offices_for(self.catalog, service)
        if len(offices) == 1:
            return await self._office_chosen(offices[0])
        choices = [
            Choice(f"{BOOK}office:{o.id}", self.catalog.localize(o.name, self.turn.code).text)
            for o in offices
        ]
        return self.turn.reply(self.t._("Which office?"), [*choices, self.turn._home_choice()])

    async def _office_chosen(self, office: Office, before: str | None = None) -> Reply:
        self.draft["office"] = office.id
        slots = await self.desk.slots(office)
        days = days_with_slots(slots)[:DAYS_SHOWN]
        if not days:
            self.draft.clear()
            return self.turn.contacts(
                self.t._(
                    "There are no free appointments in the coming weeks. "
                    "Please contact the counter:"
                )
            )
        choices = [Choice(f"{BOOK}day:{day.isoformat()}", self._day_label(day)) for day in days]
        text = self.t._("Choose a day:")
        return self.turn.reply(
            f"{before}\n\n{text}" if before else text, [*choices, self.turn._home_choice()]
        )

    async def _day_chosen(self, value: str, before: str | None = None) -> Reply:
        office = self._office(self.draft["office"])
        try:
            day = date.fromisoformat(value)
        except ValueError:
            day = None
        if office is None or day is None:
            return self.turn.home()
        self.draft["day"] = day.isoformat()
        slots = [slot for slot in await self.desk.slots(office) if slot.start.date() == day]
        if not slots:  # that day is gone: the other days, still saying why
            return await self._office_chosen(office, before)
        choices = [
            Choice(
                f"{BOOK}time:{slot.start.astimezone(UTC).strftime('%Y%m%dT%H%M')}",
                format_time(slot.start, self.turn.code),
            )
            for slot in slots[:TIMES_SHOWN]
        ]
        text = self.t._("Choose a time on {day}:").format(day=self._day_label(day))
        return self.turn.reply(
            f"{before}\n\n{text}" if before else text, [*choices, self.turn._home_choice()]
        )

    async def _time_chosen(self, value: str) -> Reply:
        try:
            datetime.strptime(value, "%Y%m%dT%H%M")
        except ValueError:
            return self.turn.home()
        self.draft["start"] = value
        if self.draft.get("move"):
            return await self._move()
        return self._ask_name(self.t._("Please write your name and surname."))

    async def _start_move(self, code: str) -> Reply:
        appointment = await self._own(code)
        office = self._office(appointment.office) if appointment else None
        if appointment is None or office is None:
            return await self.mine()
        self.draft.clear()
        self.draft.update(move=appointment.code, service=appointment.service, office=office.id)
        return await self._office_chosen(office)

    async def _move(self) -> Reply:
        office = self._office(self.draft["office"])
        code = self.draft["move"]
        if office is None or office.booking is None:
            return self.turn.home()
        start = self._start()
        session = self.turn.session
        end = start + timedelta(minutes=office.booking.slot_minutes)
        before = await self._own(code)
        notices = []
        if before is not None:
            after = replace(before, starts_at=start, ends_at=end)
            notices = self.desk.staff_notices(
                self.desk.staff_text(self.catalog, "🔁 Appuntamento spostato", after), code
            )
        try:
            moved = await self.desk.store.move(
                code,
                session.channel,
                session.user_id,
                start,
                end,
                office.booking.capacity,
                notices=notices,
            )
        except SlotFull:
            return await self._day_chosen(
                self.draft["day"],
                self.t._("Sorry, someone has just taken that time. Please choose another one."),
            )
        self.draft.clear()
        if not moved or before is None:
            return await self.mine()
        self.desk.router.wake()
        await self.desk.count("moved", code)
        text = self.t._("Your appointment {code} is moved to {when}.").format(
            code=code, when=self._when(start)
        )
        return await self.mine(f"**{text}**")

    async def _own(self, code: str) -> Appointment | None:
        """The user's own active appointment with this code, or None."""
        appointment = await self.desk.store.by_code(code)
        session = self.turn.session
        if (
            appointment is None
            or appointment.status != "active"
            or appointment.user_id != session.user_id
            or appointment.channel != session.channel
        ):
            return None
        return appointment

    def _ask_name(self, text: str) -> Reply:
        self.turn.session.state = NAME
        return self.turn.reply(text, [self.turn._home_choice()])

    def _after_name(self) -> Reply:
        if self.turn.session.channel == "whatsapp":  # their WhatsApp number is their phone
            self.draft["phone"] = self.turn.session.user_id
            return self._summary()
        return self._ask_phone(
            self.t._("Please write a phone number where the counter can call you.")
        )

    def _ask_phone(self, text: str) -> Reply:
        self.turn.session.state = PHONE
        return self.turn.reply(text, [self.turn._home_choice()])

    def _summary(self) -> Reply:
        self.turn.session.state = State.BROWSE
        office = self._office(self.draft["office"])
        service = self.catalog.services.get(self.draft["service"])
        if office is None or service is None:
            return self.turn.home()
        start = self._start()
        # Messages outside f-strings, where Babel's extractor can see them.
        check, bring = self.t._("Please check your appointment:"), self.t._("Bring with you:")
        lines = [
            f"**{check}**",
            f"- {self._service_name(service.id)}",
            f"- {self._when(start)}",
            f"- {self.catalog.localize(office.name, self.turn.code).text}, {office.address}",
            f"- {self.draft['name']}, {self.draft['phone']}",
            "",
            f"**{bring}**",
            self.catalog.localize(service.documents, self.turn.code).text,
            "",
            self.t._(
                "Privacy: the counter keeps your name and phone number only to manage this "
                "appointment, and deletes them {days} days after it. You can ask at any time to "
                "delete them. By confirming you agree."
            ).format(days=self.desk.retention_days),
        ]
        choices = [
            Choice(f"{BOOK}confirm", self.t._("Confirm the appointment")),
            self.turn._home_choice(),
        ]
        return self.turn.reply("\n".join(lines), choices)

    async def _confirm(self) -> Reply:
        office = self._office(self.draft["office"])
        service = self.catalog.services.get(self.draft["service"])
        if office is None or office.booking is None or service is None:
            return self.turn.home()
        start = self._start()
        session = self.turn.session
        held = await self.desk.store.active_for(session.channel, session.user_id, self.desk.now())
        already = next((a for a in held if a.office == office.id and a.starts_at == start), None)
        if already is None and start not in {slot.start for slot in await self.desk.slots(office)}:
            # Closed by staff, or too close now, since the user chose it.
            return await self._day_chosen(
                self.draft["day"],
                self.t._("Sorry, someone has just taken that time. Please choose another one."),
            )
        try:
            booked = already or await self.desk.store.book(
                office=office.id,
                service=service.id,
                starts_at=start,
                ends_at=start + timedelta(minutes=office.booking.slot_minutes),
                capacity=office.booking.capacity,
                max_active=office.booking.max_active,
                channel=self.turn.session.channel,
                user_id=self.turn.session.user_id,
                name=self.draft["name"],
                phone=self.draft["phone"],
                language=self.turn.code,
                code_prefix=office.booking.code,
                now=self.desk.now(),
                notices=lambda booked: self.desk.staff_notices(
                    self.desk.staff_text(self.catalog, "📅 Nuovo appuntamento", booked),
                    booked.code,
                ),
            )
        except SlotFull:
            return await self._day_chosen(
                self.draft["day"],
                self.t._("Sorry, someone has just taken that time. Please choose another one."),
            )
        except TooManyBookings:
            self.draft.clear()
            return await self.mine(
                self.t._("You already have the most appointments allowed. You can cancel one here:")
            )
        self.draft.clear()
        if already is None:  # the same booking made again is neither told nor counted twice
            self.desk.router.wake()
            await self.desk.count("made", booked.code)
        text = self.t._("Your appointment is booked. Your code is {code}: keep it.").format(
            code=booked.code
        )
        details = f"{self._when(start)}\n{office.address}"
        reply = self.turn.reply(
            f"**{text}**\n\n{details}",
            [Choice(f"{BOOK}mine", self.t._("My appointments")), self.turn._home_choice()],
        )
        calendar = self.desk.invitation(self.catalog, booked)
        return replace(
            reply, attachments=(Attachment(f"{booked.code}.ics", "text/calendar", calendar),)
        )

    async def mine(self, before: str | None = None) -> Reply:
        appointments = await self.desk.store.active_for(
            self.turn.session.channel, self.turn.session.user_id, now=self.desk.now()
        )
        if not appointments:
            text = self.t._("You have no appointments booked.")
            return self.turn.reply(
                f"{before}\n\n{text}" if before else text,
                [Choice(f"{BOOK}svc:", self.t._("Book an appointment")), self.turn._home_choice()],
            )
        lines = [before] if before else []
        title = self.t._("Your appointments:")
        lines.append(f"**{title}**")
        choices = []
        for appointment in appointments:
            start = appointment.starts_at.astimezone(self.desk.timezone)
            lines.append(
                f"- {appointment.code}: {self._service_name(appointment.service)}, "
                f"{self._when(start)}"
            )
            choices.append(
                Choice(
                    f"{BOOK}move:{appointment.code}",
                    self.t._("Move {code}").format(code=appointment.code),
                )
            )
            choices.append(
                Choice(
                    f"{BOOK}cancel:{appointment.code}",
                    self.t._("Cancel {code}").format(code=appointment.code),
                )
            )
        return self.turn.reply("\n".join(lines), [*choices, self.turn._home_choice()])

    async def _ask_cancel(self, code: str) -> Reply:
        appointment = await self._own(code)
        if appointment is None:
            return await self.mine()
        question = self.t._("Cancel the appointment {code}?").format(code=appointment.code)
        return self.turn.reply(
            question,
            [
                Choice(f"{BOOK}cancelyes:{appointment.code}", self.t._("Yes, cancel it")),
                Choice(f"{BOOK}mine", self.t._("No, keep it")),
            ],
        )

    async def _cancel(self, code: str) -> Reply:
        session = self.turn.session
        appointment = await self._own(code)
        if appointment is None:
            return await self.mine()
        notices = self.desk.staff_notices(
            self.desk.staff_text(self.catalog, "❌ Annullato dall'utente", appointment)
        )
        if await self.desk.store.cancel(code, session.channel, session.user_id, notices):
            self.desk.router.wake()
            await self.desk.count("cancelled", code)
            return await self.mine(
                self.t._("The appointment {code} is cancelled.").format(code=code.upper())
            )
        return await self.mine()

    # -- helpers ---------------------------------------------------------------------------

    def _complete(self) -> bool:
        return all(
            self.draft.get(key) for key in ("service", "office", "day", "start", "name", "phone")
        )

    def _start(self) -> datetime:
        return (
            datetime.strptime(self.draft["start"], "%Y%m%dT%H%M")
            .replace(tzinfo=UTC)
            .astimezone(self.desk.timezone)
        )

    def _office(self, office_id: str) -> Office | None:
        office = self.catalog.office(office_id)
        return office if office is not None and office.booking is not None else None

    def _service_name(self, service_id: str) -> str:
        service = self.catalog.services.get(service_id)
        return self.catalog.localize(service.name, self.turn.code).text if service else service_id

    def _when(self, start: datetime) -> str:
        return f"{self._day_label(start.date())}, {format_time(start, self.turn.code)}"

    def _day_label(self, day: date) -> str:
        return format_date(day, self.turn.code, "EEEE d MMMM")
