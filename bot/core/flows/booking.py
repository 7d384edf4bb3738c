"""This module contains the booking dialogue (see ``booking.mmd`` beside this file).

service -> office (if several) -> day -> time -> name -> phone (not on WhatsApp: the number
is known) -> documents, privacy and confirmation -> code. Days and times may be chosen or
typed ("mercoledì", "2 dicembre", "9:30", "pomeriggio"); every free day of the horizon can
be reached ("later days"). An office that takes a service on request hands on to the request
dialogue; "My appointments" (``mine.py``) lists the bookings, each to move (here) or cancel.
The draft lives in the session: leaving with "menu" or "back" leaves nothing half-booked
behind.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.booking.calendar import Slot, days_with_slots
from bot.booking.checklists import answers_kept, to_bring
from bot.booking.requests import RequestDesk
from bot.booking.service import BookingDesk
from bot.booking.when import AFTERNOON, MORNING, Said, part_of, reader
from bot.content.markup import typed_name
from bot.content.schema import LEAVE_ANY_STEP, Intent, Office
from bot.core.contact_steps import ContactSteps
from bot.core.flows.mine import MINE, MyAppointments
from bot.core.messages import Attachment, Choice, Kind, Reply
from bot.core.wording import Wording
from bot.i18n import N_, format_date, format_time
from bot.storage.records import Appointment, Notice, SlotFull, SlotGone, TooManyBookings

if TYPE_CHECKING:
    from bot.core.turn import Turn, Typed


class BookingState(StrEnum):
    """Where a booking waits for a typed answer (the other steps are buttons)."""

    DAY = "book:day"  # the days are offered; a day may be typed too
    TIME = "book:time"  # the times of a day are offered; a time may be typed too
    NAME = "book:name"
    PHONE = "book:phone"  # not on WhatsApp: the number is known


BOOK = "bk:"
ACTION = "act:book:"  # a topic's "book" button: ACTION + the service
DAY, TIME = BookingState.DAY, BookingState.TIME
NOTHING_IN = {
    MORNING: N_("There are no free times in the morning."),
    AFTERNOON: N_("There are no free times in the afternoon."),
}
NOTHING_ON_DAY_IN = {
    MORNING: N_("There are no free times on {day} in the morning."),
    AFTERNOON: N_("There are no free times on {day} in the afternoon."),
}
#: A time that is no longer a free slot (the day was closed, the time has passed, or the
#: button offering it was stale or forged): said, and fresh choices follow.
GONE = N_("Sorry, that time is no longer free. Please choose another one.")
TAKEN = N_("Sorry, someone has just taken that time. Please choose another one.")
DAYS_SHOWN = 6
TIMES_SHOWN = 12


class BookingFlow:
    """Appointments by slots, when some office takes them online (by slots, or on request:
    then the request dialogue follows); the counter's contacts otherwise."""

    states = BookingState
    choices = (BOOK, ACTION)

    def __init__(self, desk: BookingDesk | None, requests: RequestDesk | None) -> None:
        self.desk = desk
        self.requests = requests

    def _booking(self, turn: Turn) -> _Booking | None:
        """This turn's booking, when some office takes appointments online."""
        if self.desk is None:
            return None
        booking = _Booking(turn, self.desk, self.requests)
        return booking if booking.services() else None

    def available(self, turn: Turn, service: str | None = None) -> bool:
        """Whether appointments are taken online (for ``service``, when given)."""
        booking = self._booking(turn)
        return booking is not None and (service is None or service in booking.services())

    async def after_checklist(self, turn: Turn) -> Reply:
        """The booking goes on once the checklist's questions are answered (or skipped)."""
        booking = self._booking(turn)
        service = turn.session.draft.get("cl_service")
        if booking is None or service not in booking.services():
            return await self.start(turn, service)
        return await booking.service_chosen(service)

    def choice(self, turn: Turn, service: str | None = None) -> Choice:
        """A topic's "book an appointment" button for a service (for any, without one)."""
        return Choice(ACTION + (service or ""), turn.t._("Book an appointment"))

    async def start(self, turn: Turn, service: str | None = None) -> Reply:
        booking = self._booking(turn)
        if booking is not None and (service is None or service in booking.services()):
            return await booking.start(service)
        intro = turn.t._("To book an appointment, phone or write to the counter:")
        named = turn.catalog.services.get(service) if service is not None else None
        if named is not None:
            intro += "\n" + turn.t._("Say that you need: {service}.").format(
                service=turn.catalog.localize(named.name, turn.code).text
            )
        return turn.contacts(intro)

    async def choose(self, turn: Turn, choice_id: str) -> Reply | None:
        if choice_id.startswith(ACTION):
            service = choice_id.removeprefix(ACTION)
            if not service:
                return await self.start(turn)
            return await self.start(turn, service) if service in turn.catalog.services else None
        booking = self._booking(turn)
        return await booking.choose(choice_id) if booking is not None else None

    async def step(self, turn: Turn, state: BookingState, typed: Typed) -> Reply | None:
        booking = self._booking(turn)
        if booking is None or typed.number is not None:
            return None  # a number no choice has is not a name, a phone, a day or a time
        if typed.kind is Kind.CONTACT:  # a shared contact card: its phone number
            return await booking.typed(typed.text, None) if state is BookingState.PHONE else None
        return await booking.typed(typed.text, typed.intent)


class _Booking:
    """One step of the booking dialogue, for one turn."""

    def __init__(self, turn: Turn, desk: BookingDesk, requests: RequestDesk | None) -> None:
        self.turn = turn
        self.desk = desk
        self.requests = requests
        self.t = turn.t
        self.catalog = turn.catalog
        self.draft = turn.session.draft
        self.contact = ContactSteps(turn, BookingState.NAME, BookingState.PHONE, self._summary)
        self.words = Wording(turn.catalog, turn.code, turn.t, desk.timezone)
        self.listing = MyAppointments(turn, desk, requests)

    # -- entry points ----------------------------------------------------------------------

    async def start(self, service: str | None) -> Reply:
        self.draft.clear()
        services = self.services()
        if service in services:
            return await self.service_chosen(service)
        choices = [Choice(f"{BOOK}svc:{s}", self._service_name(s)) for s in services]
        return self.turn.reply(
            self.t._("What is the appointment for?"), [*choices, self.turn.home_choice()]
        )

    async def choose(self, choice_id: str) -> Reply:
        step, _, value = choice_id.removeprefix(BOOK).partition(":")
        if step == "svc":
            return await self.start(value or None)
        if step == "office" and self.draft.get("service"):
            office = self.catalog.office(value)
            if office is not None and office in self.offices_for(self.draft["service"]):
                return await self._office_for_service(office, self.draft["service"])
        if step == "day" and self.draft.get("office"):
            return await self._day_chosen(value)
        if step == "days" and value.isdigit() and (office := self._office_in_draft()):
            return await self._office_chosen(office, page=int(value))
        if step == "times" and value.isdigit() and self.draft.get("day"):
            return await self._day_chosen(self.draft["day"], page=int(value))
        if step == "time" and self.draft.get("office"):
            return await self._time_chosen(value)
        if step == "confirm" and self._complete():
            return await self._confirm()
        if step == "move":
            return await self._start_move(value)
        return self.turn.home(
            self.t._("That option is no longer available. Here is the main menu.")
        )

    async def typed(self, text: str, intent: Intent | None) -> Reply | None:
        """A typed answer to the step waiting for one; None when the text is not for it (a
        navigation word, or another request such as "talk to a person")."""
        state = self.turn.session.state
        if intent is not None and intent in LEAVE_ANY_STEP:  # "menu"; "he hits me", day or not
            return None
        if state in (DAY, TIME):
            said = reader(self.turn.code, self.t).read(
                text, self.desk.now().date(), prefer="day" if state == DAY else "time"
            )
            if not said.anything and intent is not None and intent is not Intent.BOOKING:
                return None
            return await self._typed_when(said, state)
        return self.contact.typed(text)  # the name or the phone

    async def _typed_when(self, said: Said, state: str) -> Reply:
        """A day, a time or a part of the day, typed where days or times are offered."""
        office = self._office_in_draft()
        if office is None:
            return self.turn.home()
        slots = await self.desk.slots(office)
        day = said.day
        if day is None and state == TIME and self.draft.get("day"):
            day = date.fromisoformat(self.draft["day"])
        if day is None:
            if said.part is not None:  # "pomeriggio": the days with afternoon times
                return await self._office_chosen(office, part=said.part)
            return await self._office_chosen(office, before=self._not_understood(DAY, slots))
        on_day = [slot for slot in slots if slot.start.date() == day]
        if not on_day:
            nothing = self.t._("There are no free times on {day}.").format(day=self._day_label(day))
            later = [free for free in days_with_slots(slots) if free >= day]
            page = (len(days_with_slots(slots)) - len(later)) // DAYS_SHOWN
            return await self._office_chosen(office, before=nothing, page=page)
        if said.clock is None:
            if said.part is None and state == TIME and said.day is None:
                return await self._day_chosen(
                    day.isoformat(), before=self._not_understood(TIME, on_day)
                )
            return await self._day_chosen(day.isoformat(), part=said.part)
        slot = _at(on_day, said.clock)
        if slot is None:
            taken = self.t._("There is no free time at {time} on {day}.").format(
                time=f"{said.clock[0]}:{said.clock[1] or 0:02d}", day=self._day_label(day)
            )
            return await self._day_chosen(day.isoformat(), before=taken)
        self.draft["day"] = day.isoformat()
        return await self._time_chosen(_slot_id(slot))

    def _not_understood(self, state: str, slots: list[Slot]) -> str:
        """A short explanation with an example the user can copy; the choices follow."""
        if state == DAY:
            first = slots[0].start.date() if slots else self.desk.now().date()
            return self.t._(
                "Sorry, I did not understand the day. Choose one below, or write a day such "
                "as “{example}”."
            ).format(example=format_date(first, self.turn.code, "EEEE"))
        example = format_time(slots[0].start, self.turn.code) if slots else "10:00"
        return self.t._(
            "Sorry, I did not understand the time. Choose one below, or write a time such as "
            "“{example}”."
        ).format(example=example)

    # -- steps -----------------------------------------------------------------------------

    def services(self) -> list[str]:
        """Services some office takes, by slots or on request, in the content's order."""
        return [
            service
            for service in self.catalog.services
            if any(
                office.takes(service) == "slots"
                or (office.takes(service) == "requests" and self.requests is not None)
                for office in self.catalog.offices
            )
        ]

    def offices_for(self, service: str) -> list[Office]:
        return [
            office
            for office in self.catalog.offices
            if office.takes(service) == "slots"
            or (office.takes(service) == "requests" and self.requests is not None)
        ]

    async def service_chosen(self, service: str) -> Reply:
        """The service is known: its checklist's questions first (once), then the office."""
        content = self.catalog.services.get(service)
        if content is not None:
            questions = await self.turn.flows.checklist.before_booking(self.turn, content)
            if questions is not None:
                return questions
        self.draft["service"] = service
        offices = self.offices_for(service)
        if len(offices) == 1:
            return await self._office_for_service(offices[0], service)
        choices = [
            Choice(f"{BOOK}office:{o.id}", self.catalog.localize(o.name, self.turn.code).text)
            for o in offices
        ]
        return self.turn.reply(self.t._("Which office?"), [*choices, self.turn.home_choice()])

    async def _office_for_service(self, office: Office, service: str) -> Reply:
        """Slots to choose from, or a request to send: as the office takes that service."""
        if office.takes(service) == "requests" and self.requests is not None:
            return await self.turn.flows.requests.start(self.turn, service, office)
        return await self._office_chosen(office)

    async def _office_chosen(
        self, office: Office, before: str | None = None, page: int = 0, part: str | None = None
    ) -> Reply:
        self.draft["office"] = office.id
        if not self.draft.get("move") and (full := await self._at_limit(office)) is not None:
            return full  # said now, before the user types a name and a phone number
        slots = await self.desk.slots(office)
        if part is not None:
            in_part = [slot for slot in slots if part_of(slot.start.time()) == part]
            if in_part:
                slots = in_part
                self.draft["part"] = part
            else:
                before = self._nothing_in(part)
        days = days_with_slots(slots)
        if not days:
            self.draft.clear()
            return self.turn.contacts(
                self.t._(
                    "There are no free appointments in the coming weeks. "
                    "Please contact the counter:"
                )
            )
        page = max(0, min(page, (len(days) - 1) // DAYS_SHOWN))
        shown = days[page * DAYS_SHOWN : (page + 1) * DAYS_SHOWN]
        choices = [Choice(f"{BOOK}day:{day.isoformat()}", self._day_label(day)) for day in shown]
        if len(days) > (page + 1) * DAYS_SHOWN:
            choices.append(Choice(f"{BOOK}days:{page + 1}", self.t._("Later days")))
        if page > 0:
            choices.append(Choice(f"{BOOK}days:{page - 1}", self.t._("Earlier days")))
        self.turn.session.state = DAY
        text = self.t._("Choose a day:")
        return self.turn.reply(
            f"{before}\n\n{text}" if before else text, [*choices, self.turn.home_choice()]
        )

    async def _at_limit(self, office: Office) -> Reply | None:
        """The user's list, if they already hold the most appointments allowed."""
        assert office.booking is not None
        session = self.turn.session
        held = await self.desk.store.active_for(session.channel, session.user_id, self.desk.now())
        if len(held) < office.booking.max_active:
            return None
        self.draft.clear()
        return await self.mine(
            self.t._("You already have the most appointments allowed. You can cancel one here:")
        )

    async def _day_chosen(
        self, value: str, before: str | None = None, page: int = 0, part: str | None = None
    ) -> Reply:
        office = self._office_in_draft()
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
        part = part or self.draft.get("part")
        if part is not None:
            in_part = [slot for slot in slots if part_of(slot.start.time()) == part]
            if in_part:
                slots = in_part
            elif before is None:
                before = self._nothing_in(part, day)
        page = max(0, min(page, (len(slots) - 1) // TIMES_SHOWN))
        shown = slots[page * TIMES_SHOWN : (page + 1) * TIMES_SHOWN]
        choices = [
            Choice(f"{BOOK}time:{_slot_id(slot)}", format_time(slot.start, self.turn.code))
            for slot in shown
        ]
        if len(slots) > (page + 1) * TIMES_SHOWN:
            choices.append(Choice(f"{BOOK}times:{page + 1}", self.t._("Later times")))
        if page > 0:
            choices.append(Choice(f"{BOOK}times:{page - 1}", self.t._("Earlier times")))
        self.turn.session.state = TIME
        text = self.t._("Choose a time on {day}:").format(day=self._day_label(day))
        return self.turn.reply(
            f"{before}\n\n{text}" if before else text, [*choices, self.turn.home_choice()]
        )

    def _nothing_in(self, part: str, day: date | None = None) -> str:
        """ "No free times in the afternoon" (on that day): the other times follow."""
        if day is None:
            return self.t._(NOTHING_IN[part])
        return self.t._(NOTHING_ON_DAY_IN[part]).format(day=self._day_label(day))

    async def _time_chosen(self, value: str) -> Reply:
        office = self._office_in_draft()
        try:
            start = datetime.strptime(value, "%Y%m%dT%H%M").replace(tzinfo=UTC)
        except ValueError:
            return self.turn.home()
        if office is None:
            return self.turn.home()
        if start not in {slot.start for slot in await self.desk.slots(office)}:
            # Said now, before a name and a phone number are asked for nothing.
            return await self._not_free(start, GONE)
        self.draft["start"] = value
        self.draft["day"] = start.astimezone(self.desk.timezone).date().isoformat()
        if self.draft.get("move"):
            return await self._move()
        return self.contact.ask_name()

    async def _refused(
        self, start: datetime, refusal: SlotFull | SlotGone | TooManyBookings
    ) -> Reply:
        """Why the chosen time could not be had (a booking or a move), and what to do now."""
        if isinstance(refusal, TooManyBookings):
            self.draft.clear()
            return await self.mine(
                self.t._("You already have the most appointments allowed. You can cancel one here:")
            )
        return await self._not_free(start, TAKEN if isinstance(refusal, SlotFull) else GONE)

    async def _not_free(self, start: datetime, why: str) -> Reply:
        """Why the time cannot be had, and the free times of its day (or the free days)."""
        day = start.astimezone(self.desk.timezone).date()
        return await self._day_chosen(day.isoformat(), self.t._(why))

    async def _start_move(self, code: str) -> Reply:
        appointment = await self.listing.own(code)
        office = self._office(appointment.office) if appointment else None
        if appointment is None or office is None:
            return await self.mine()
        self.draft.clear()
        self.draft.update(move=appointment.code, service=appointment.service, office=office.id)
        return await self._office_chosen(office)

    async def _move(self) -> Reply:
        office = self._office_in_draft()
        before = await self.listing.own(self.draft["move"])
        if office is None or before is None:
            self.draft.clear()
            return await self.mine()
        start = self._start()

        def staff(after: Appointment) -> list[Notice]:
            text = self.desk.staff_text(
                self.catalog,
                self.turn.staff.pgettext("staff", "🔁 Appointment moved"),
                after,
                self.turn.staff,
            )
            return self.desk.staff_notices(text, after.code)

        try:
            moved = await self.desk.move(office, before, start, staff)
        except (SlotFull, SlotGone, TooManyBookings) as refusal:
            return await self._refused(start, refusal)
        self.draft.clear()
        if moved is None:
            return await self.mine()
        self.desk.router.wake()
        await self.desk.count("moved", moved.code)
        text = self.t._("Your appointment {code} is moved to {when}.").format(
            code=moved.code, when=self._when(moved.starts_at)
        )
        listing = await self.mine(f"**{text}**")
        # The new calendar file: the same event (same code), at its new time.
        calendar = self.desk.invitation(self.catalog, moved)
        return replace(
            listing, attachments=(Attachment(f"{moved.code}.ics", "text/calendar", calendar),)
        )

    def _summary(self) -> Reply:
        self.turn.browse()
        office = self._office_in_draft()
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
            f"- {typed_name(self.draft['name'])}, {self.draft['phone']}",
            "",
            f"**{bring}**",
            to_bring(
                self.catalog, service, self.draft.get("checklist", ""), self.turn.code, self.t
            ),
            "",
            *answers_kept(self.t, self.draft.get("checklist", "")),
            self.t._(
                "Privacy: the counter keeps your name and phone number only to manage this "
                "appointment, and deletes them {days} days after it. You can ask at any time to "
                "delete them. By confirming you agree."
            ).format(days=self.desk.retention_days),
        ]
        choices = [
            Choice(f"{BOOK}confirm", self.t._("Confirm the appointment")),
            self.turn.home_choice(),
        ]
        return self.turn.reply("\n".join(lines), choices)

    async def _confirm(self) -> Reply:
        office = self._office_in_draft()
        service = self.catalog.services.get(self.draft["service"])
        if office is None or office.booking is None or service is None:
            return self.turn.home()
        start = self._start()
        session = self.turn.session
        held = await self.desk.store.active_for(session.channel, session.user_id, self.desk.now())
        already = next((a for a in held if a.office == office.id and a.starts_at == start), None)
        try:
            # Checked again as it is booked: staff may have closed the day, or the time may
            # have passed, since the user chose it.
            booked = already or await self.desk.book(
                office,
                service.id,
                start,
                channel=self.turn.session.channel,
                user_id=self.turn.session.user_id,
                name=self.draft["name"],
                phone=self.draft["phone"],
                language=self.turn.code,
                notices=lambda booked: self.desk.staff_notices(
                    self.desk.staff_text(
                        self.catalog,
                        self.turn.staff.pgettext("staff", "📅 New appointment"),
                        booked,
                        self.turn.staff,
                    ),
                    booked.code,
                ),
            )
        except (SlotFull, SlotGone, TooManyBookings) as refusal:
            return await self._refused(start, refusal)
        answers = self.draft.get("checklist", "")
        self.draft.clear()
        if already is None:  # the same booking made again is neither told nor counted twice
            # Ids only, for the reminder; a crash just before leaves the reminder the
            # service's whole list, which is what it carried before checklists.
            await self.desk.store.checklists.keep(booked.code, answers)
            self.desk.router.wake()
            await self.desk.count("made", booked.code)
        else:
            answers = await self.desk.store.checklists.of(booked.code)
        text = self.t._("Your appointment is booked. Your code is {code}: keep it.").format(
            code=booked.code
        )
        bring = self.t._("Bring with you:")
        documents = to_bring(self.catalog, service, answers, self.turn.code, self.t)
        details = f"{self._when(start)}\n{office.address}\n\n**{bring}**\n{documents}"
        reply = self.turn.reply(
            f"**{text}**\n\n{details}",
            [Choice(MINE, self.t._("My appointments")), self.turn.home_choice()],
        )
        calendar = self.desk.invitation(self.catalog, booked)
        return replace(
            reply, attachments=(Attachment(f"{booked.code}.ics", "text/calendar", calendar),)
        )

    async def mine(self, before: str | None = None) -> Reply:
        return await self.listing.show(before)

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

    def _office_in_draft(self) -> Office | None:
        """The office of the booking being made, if it gives slots for its service (a slot
        button from an old message must not book a service the office takes on request)."""
        office = self._office(self.draft.get("office", ""))
        service = self.draft.get("service")
        if (
            office is None
            or self.draft.get("request")
            or (service and office.takes(service) != "slots")
        ):
            return None
        return office

    def _office(self, office_id: str) -> Office | None:
        office = self.catalog.office(office_id)
        return office if office is not None and office.booking is not None else None

    def _service_name(self, service_id: str) -> str:
        return self.words.service(service_id)

    def _when(self, start: datetime) -> str:
        return self.words.when(start)

    def _day_label(self, day: date) -> str:
        return self.words.day(day)


def _slot_id(slot: Slot) -> str:
    """A slot in a choice id: its start in UTC, minutes included (fits Telegram's 64 bytes)."""
    return slot.start.astimezone(UTC).strftime("%Y%m%dT%H%M")


def _at(slots: list[Slot], clock: tuple[int, int | None]) -> Slot | None:
    """The slot starting at a typed time: "10" is 10:00 (or the first time of that hour),
    "3" is 15:00 when nobody opens at three in the morning."""
    hour, minute = clock
    for candidate in (hour, hour + 12) if hour < 12 else (hour,):
        starting = [slot for slot in slots if slot.start.hour == candidate]
        if minute is not None:
            starting = [slot for slot in starting if slot.start.minute == minute]
        elif any(slot.start.minute == 0 for slot in starting):
            starting = [slot for slot in starting if slot.start.minute == 0]
        if starting:
            return starting[0]
    return None
