"""This module contains the request dialogue (see ``requests.mmd`` beside this file): an
appointment at an office that publishes no slots.

service and office (chosen in the booking dialogue) -> the days the user can come, or "as
soon as possible" -> morning or afternoon -> the language they speak -> name -> phone (not on
WhatsApp) -> summary, documents, privacy -> a request code at once. Staff then propose a
time; the user accepts it (an appointment with the same code) or asks for another. Days and
parts of the day may be typed ("lunedì e mercoledì", "pomeriggio") in every language.
"""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.booking.checklists import answers_kept, to_bring
from bot.booking.request_texts import REQUEST
from bot.booking.requests import RequestDesk
from bot.booking.service import BookingDesk
from bot.booking.when import AFTERNOON, MORNING, PART_LABELS, reader
from bot.booking.workdays import WEEKDAY_KEYS
from bot.content.markup import typed_name
from bot.content.schema import LEAVE_ANY_STEP, Intent, Office
from bot.core.contact_steps import ContactSteps
from bot.core.flows.mine import MINE, MyAppointments
from bot.core.messages import Attachment, Choice, Kind, Reply
from bot.core.wording import Wording
from bot.storage.records import TooManyBookings

if TYPE_CHECKING:
    from bot.core.turn import Turn, Typed


class RequestState(StrEnum):
    """Where a request waits for a typed answer (the other steps are buttons)."""

    DAYS = "req:days"  # the weekdays are offered; they may be typed too
    PART = "req:part"  # morning or afternoon is offered; it may be typed too
    NAME = "req:name"
    PHONE = "req:phone"  # not on WhatsApp: the number is known


DAYS, PART = RequestState.DAYS, RequestState.PART
WORKDAYS = WEEKDAY_KEYS[:5]  # the counter's week: Monday to Friday
ANY = "any"


class RequestFlow:
    """Appointments on request, and the answers to the counter's proposals; offered when
    requests are taken at all (the booking dialogue says which office takes which)."""

    states = RequestState
    choices = (REQUEST,)

    def __init__(self, booking: BookingDesk | None, desk: RequestDesk | None) -> None:
        self.booking = booking
        self.desk = desk

    def _request(self, turn: Turn) -> _Request | None:
        if self.booking is None or self.desk is None:
            return None
        return _Request(turn, self.desk, MyAppointments(turn, self.booking, self.desk))

    async def start(
        self, turn: Turn, service: str | None = None, office: Office | None = None
    ) -> Reply:
        """A request for a service at an office the booking dialogue chose (without them,
        the booking dialogue asks for them first)."""
        request = self._request(turn)
        if request is None or service is None or office is None:
            return await turn.flows.booking.start(turn)
        return await request.start(service, office)

    async def choose(self, turn: Turn, choice_id: str) -> Reply | None:
        request = self._request(turn)
        return await request.choose(choice_id) if request is not None else None

    async def step(self, turn: Turn, state: RequestState, typed: Typed) -> Reply | None:
        request = self._request(turn)
        if request is None or typed.number is not None:
            return None  # a number no choice has is not a day, a name or a phone
        if typed.kind is Kind.CONTACT:  # a shared contact card: its phone number
            return await request.typed(typed.text, None) if state is RequestState.PHONE else None
        return await request.typed(typed.text, typed.intent)


class _Request:
    """One step of the request dialogue, for one turn."""

    def __init__(self, turn: Turn, desk: RequestDesk, listing: MyAppointments) -> None:
        self.turn = turn
        self.desk = desk
        self.listing = listing
        self.t = turn.t
        self.catalog = turn.catalog
        self.draft = turn.session.draft
        self.contact = ContactSteps(turn, RequestState.NAME, RequestState.PHONE, self._summary)
        self.words = Wording(turn.catalog, turn.code, turn.t, desk.booking.timezone)

    # -- entry points ----------------------------------------------------------------------

    async def start(self, service: str, office: Office) -> Reply:
        assert office.requests is not None
        answers = self.draft.get("checklist", "")  # given in the booking dialogue, just now
        self.draft.clear()
        session = self.turn.session
        if await self.desk.held(session.channel, session.user_id) >= office.requests.max_active:
            # Said now, before the user types a name and a phone number.
            return await self.listing.show(
                self.t._("You already have the most appointments allowed. You can cancel one here:")
            )
        self.draft.update(
            request="1", service=service, office=office.id, days="", checklist=answers
        )
        return self._ask_days()

    async def choose(self, choice_id: str) -> Reply:
        step, _, value = choice_id.removeprefix(REQUEST).partition(":")
        if step == "accept":
            return await self._accept(value)
        if step == "other":
            return await self._another_time(value)
        if step == "withdraw":
            return await self._ask_withdraw(value)
        if step == "withdrawyes":
            return await self._withdraw(value)
        if step == "move":
            return await self._move(value)
        if not self.draft.get("request"):
            return self.turn.home(
                self.t._("That option is no longer available. Here is the main menu.")
            )
        if step == "asap":
            self.draft.update(days="", part=ANY)
            return self._ask_language()
        if step == "day" and value in WORKDAYS:
            chosen = set(self._days())
            chosen ^= {value}  # a tap adds the day, a second tap takes it away
            self.draft["days"] = ",".join(day for day in WORKDAYS if day in chosen)
            return self._ask_days()
        if step == "daysdone" and self._days():
            return self._ask_part()
        if step == "part" and value in (MORNING, AFTERNOON, ANY):
            self.draft["part"] = value
            return self._ask_language()
        if step == "speaks" and self.catalog.language(value):
            self.draft["speaks"] = value
            return self.contact.ask_name()
        if step == "send" and self._complete():
            return await self._send()
        return self._ask_days()

    async def typed(self, text: str, intent: Intent | None) -> Reply | None:
        """A typed answer to the step waiting for one; None when it is a way out."""
        state = self.turn.session.state
        if intent is not None and intent in LEAVE_ANY_STEP:
            return None
        if state in (DAYS, PART):
            said = reader(self.turn.code, self.t).read(text, self.desk.now().date())
            weekdays = {WEEKDAY_KEYS[day] for day in said.weekdays}
            if not weekdays and said.day is not None:  # "domani": the weekday it falls on
                weekdays = {WEEKDAY_KEYS[said.day.weekday()]}
            weekdays &= set(WORKDAYS)
            if state == DAYS and weekdays:
                self.draft["days"] = ",".join(day for day in WORKDAYS if day in weekdays)
                if said.part is None:
                    return self._ask_part()
            if said.part is not None:  # "pomeriggio": the days chosen so far, or any day
                self.draft["part"] = said.part
                return self._ask_language()
            if intent is not None and intent is not Intent.BOOKING:
                return None
            return self._ask_days(True) if state == DAYS else self._ask_part(True)
        return self.contact.typed(text)  # the name or the phone

    # -- the request's steps ---------------------------------------------------------------

    def _ask_days(self, not_understood: bool = False) -> Reply:
        chosen = self._days()
        text = self.t._(
            "When can you come to the counter? Choose the days that suit you, then “Done”. "
            "Or choose “As soon as possible”."
        )
        if not_understood:
            example = f"{self.words.weekday('mon')}, {self.words.weekday('wed')}"
            text = (
                self.t._(
                    "Sorry, I did not understand. Choose below, or write the days, such as "
                    "“{example}”."
                ).format(example=example)
                + "\n\n"
                + text
            )
        choices = [Choice(f"{REQUEST}asap", self.t._("As soon as possible"))]
        for day in WORKDAYS:
            mark = "✓ " if day in chosen else ""
            choices.append(Choice(f"{REQUEST}day:{day}", mark + self.words.weekday(day)))
        if chosen:
            choices.append(Choice(f"{REQUEST}daysdone", self.t._("Done")))
        self.turn.session.state = DAYS
        return self.turn.reply(text, [*choices, self.turn.home_choice()])

    def _ask_part(self, not_understood: bool = False) -> Reply:
        text = self.t._("Morning or afternoon?")
        if not_understood:
            text = self.t._("Sorry, I did not understand. Choose one of these:") + "\n\n" + text
        choices = [
            Choice(f"{REQUEST}part:{MORNING}", self.t._(PART_LABELS[MORNING])),
            Choice(f"{REQUEST}part:{AFTERNOON}", self.t._(PART_LABELS[AFTERNOON])),
            Choice(f"{REQUEST}part:{ANY}", self.t._("Either is fine")),
        ]
        self.turn.session.state = PART
        return self.turn.reply(text, [*choices, self.turn.home_choice()])

    def _ask_language(self) -> Reply:
        self.turn.browse()
        languages = list(self.catalog.enabled_languages)
        languages.sort(key=lambda language: language.code != self.turn.code)  # theirs first
        choices = [
            Choice(f"{REQUEST}speaks:{language.code}", language.name) for language in languages
        ]
        return self.turn.reply(
            self.t._(
                "In which language do you want to talk at the counter? The counter will know "
                "before you come."
            ),
            [*choices, self.turn.home_choice()],
        )

    def _summary(self) -> Reply:
        self.turn.browse()
        office = self.catalog.office(self.draft.get("office", ""))
        service = self.catalog.services.get(self.draft.get("service", ""))
        speaks = self.catalog.language(self.draft.get("speaks"))
        if office is None or service is None or speaks is None:
            return self.turn.home()
        check, bring = self.t._("Please check your request:"), self.t._("Bring with you:")
        when = self.t._("When you can come: {when}").format(
            when=self.words.availability(self._days(), self.draft.get("part", ANY))
        )
        language = self.t._("Language at the counter: {language}").format(language=speaks.name)
        lines = [
            f"**{check}**",
            f"- {self.words.service(service.id)}",
            f"- {self.catalog.localize(office.name, self.turn.code).text}, {office.address}",
            *(
                []
                if office.confirmed
                else ["  ℹ️ " + self.t._("These details are not yet confirmed.")]
            ),
            f"- {when}",
            f"- {language}",
            f"- {typed_name(self.draft['name'])}, {self.draft['phone']}",
            "",
            f"**{bring}**",
            to_bring(
                self.catalog, service, self.draft.get("checklist", ""), self.turn.code, self.t
            ),
            "",
            *answers_kept(self.t, self.draft.get("checklist", "")),
            self.t._(
                "Privacy: the counter keeps your name and phone number only to arrange this "
                "appointment, and deletes them {days} days after it, or after the request is "
                "closed. You can ask at any time to delete them. By sending the request you "
                "agree."
            ).format(days=self.desk.booking.retention_days),
        ]
        choices = [
            Choice(f"{REQUEST}send", self.t._("Send the request")),
            self.turn.home_choice(),
        ]
        return self.turn.reply("\n".join(lines), choices)

    async def _send(self) -> Reply:
        office = self.catalog.office(self.draft["office"])
        if office is None or office.requests is None:
            return self.turn.home()
        session = self.turn.session
        try:
            request = await self.desk.submit(
                office,
                self.draft["service"],
                session.channel,
                session.user_id,
                self.turn.code,
                self.draft["speaks"],
                self._days(),
                self.draft.get("part", ANY),
                self.draft["name"],
                self.draft["phone"],
            )
        except TooManyBookings:
            self.draft.clear()
            return await self.listing.show(
                self.t._("You already have the most appointments allowed. You can cancel one here:")
            )
        # Ids only, for the counter's proposal and the reminder (same code once booked).
        await self.desk.booking.store.checklists.keep(request.code, self.draft.get("checklist", ""))
        self.draft.clear()
        sent = self.t._("Your request is sent. Your code is {code}: keep it.").format(
            code=request.code
        )
        if self.desk.booking.router.reaches(session.channel):
            then = self.t._(
                "The counter will propose a day and time here in this chat. You can see or "
                "withdraw your request in “My appointments”."
            )
        else:
            then = self.t._("The counter will phone you to agree a day and time.")
        return self.turn.reply(
            f"**{sent}**\n\n{then}",
            [Choice(MINE, self.t._("My appointments")), self.turn.home_choice()],
        )

    # -- after the counter answered --------------------------------------------------------

    async def _accept(self, code: str) -> Reply:
        session = self.turn.session
        accepted = await self.desk.accept(code, session.channel, session.user_id)
        if accepted is None:
            return await self.listing.show(
                self.t._("This proposal is no longer valid. The counter will propose another time.")
            )
        appointment, moved = accepted
        office = self.catalog.office(appointment.office)
        if moved:
            text = self.t._("Your appointment {code} is moved to {when}.").format(
                code=appointment.code, when=self.words.when(appointment.starts_at)
            )
        else:
            text = self.t._("Your appointment is booked. Your code is {code}: keep it.").format(
                code=appointment.code
            )
        details = f"{self.words.when(appointment.starts_at)}\n{office.address if office else ''}"
        service = self.catalog.services.get(appointment.service)
        if service is not None:  # the list the proposal gave, from the answers kept with it
            answers = await self.desk.booking.store.checklists.of(appointment.code)
            bring = self.t._("Bring with you:")
            documents = to_bring(self.catalog, service, answers, self.turn.code, self.t)
            details += f"\n\n**{bring}**\n{documents}"
        reply = self.turn.reply(
            f"**{text}**\n\n{details}".rstrip(),
            [Choice(MINE, self.t._("My appointments")), self.turn.home_choice()],
        )
        calendar = self.desk.booking.invitation(self.catalog, appointment)
        return replace(
            reply, attachments=(Attachment(f"{appointment.code}.ics", "text/calendar", calendar),)
        )

    async def _another_time(self, code: str) -> Reply:
        session = self.turn.session
        if await self.desk.another_time(code, session.channel, session.user_id):
            return await self.listing.show(
                self.t._("All right: the counter will propose another time.")
            )
        return await self.listing.show()

    async def _ask_withdraw(self, code: str) -> Reply:
        session = self.turn.session
        request = next(
            (
                r
                for r in await self.desk.of_user(session.channel, session.user_id)
                if r.code == code
            ),
            None,
        )
        if request is None:
            return await self.listing.show()
        if request.rescheduling:
            question = self.t._("Keep your appointment {code} at its time?").format(code=code)
        else:
            question = self.t._("Withdraw the request {code}?").format(code=code)
        return self.turn.reply(
            question,
            [
                Choice(f"{REQUEST}withdrawyes:{code}", self.t._("Yes")),
                Choice(MINE, self.t._("No")),
            ],
        )

    async def _withdraw(self, code: str) -> Reply:
        session = self.turn.session
        withdrawn = await self.desk.withdraw(code, session.channel, session.user_id)
        if withdrawn is None:
            return await self.listing.show()
        if withdrawn.rescheduling:
            return await self.listing.show(
                self.t._("Your appointment {code} stays at its time.").format(code=code)
            )
        return await self.listing.show(
            self.t._("The request {code} is withdrawn.").format(code=code)
        )

    async def _move(self, code: str) -> Reply:
        """An appointment made from a request: staff are asked for another time."""
        appointment = await self.listing.own(code)
        if appointment is None or not await self.desk.reschedule(appointment):
            return await self.listing.show()
        return await self.listing.show(
            self.t._(
                "The counter will propose another time for {code}. Your appointment stays as "
                "it is until you accept a new one."
            ).format(code=code)
        )

    # -- helpers ---------------------------------------------------------------------------

    def _days(self) -> list[str]:
        return [day for day in self.draft.get("days", "").split(",") if day in WORKDAYS]

    def _complete(self) -> bool:
        return all(self.draft.get(key) for key in ("service", "office", "speaks", "name", "phone"))
