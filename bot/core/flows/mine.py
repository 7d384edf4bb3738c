"""This module contains "My appointments": the user's appointments to come, each to move or
cancel, and their requests still waiting, each to withdraw (or, when the counter proposed a
time, to accept or to ask for another).

Moving is the booking's (or the request's) dialogue again; cancelling is answered here.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from bot.booking.request_texts import REQUEST
from bot.booking.requests import RequestDesk
from bot.booking.service import BookingDesk
from bot.core.messages import Choice, Reply
from bot.core.wording import Wording
from bot.storage.records import Appointment, AppointmentRequest

if TYPE_CHECKING:
    from bot.core.turn import Turn, Typed

BOOK = "bk:"
MINE = f"{BOOK}mine"
CANCEL = f"{BOOK}cancel"  # and "bk:cancelyes:<code>", the confirmation


class MineState(StrEnum):
    """None: every step of the list is a button."""


class MineFlow:
    """The list of the user's appointments and requests, when appointments are taken
    online; the counter's contacts otherwise."""

    states = MineState
    choices = (MINE, CANCEL)

    def __init__(self, desk: BookingDesk | None, requests: RequestDesk | None) -> None:
        self.desk = desk
        self.requests = requests

    def _listing(self, turn: Turn) -> MyAppointments | None:
        if self.desk is None or not turn.flows.booking.available(turn):
            return None
        return MyAppointments(turn, self.desk, self.requests)

    async def start(self, turn: Turn) -> Reply:
        listing = self._listing(turn)
        if listing is None:
            return turn.contacts(
                turn.t._("To see, move or cancel an appointment, contact the counter:")
            )
        return await listing.show()

    async def choose(self, turn: Turn, choice_id: str) -> Reply | None:
        listing = self._listing(turn)
        step, _, value = choice_id.removeprefix(BOOK).partition(":")
        if listing is None:
            return None
        if step == "mine":
            return await listing.show()
        if step == "cancel":
            return await listing.ask_cancel(value)
        if step == "cancelyes":
            return await listing.cancel(value)
        return None

    async def step(self, turn: Turn, state: MineState, typed: Typed) -> Reply | None:
        return None  # no state of its own: never asked


class MyAppointments:
    """The list, and cancelling an appointment (requests are the request flow's)."""

    def __init__(self, turn: Turn, desk: BookingDesk, requests: RequestDesk | None) -> None:
        self.turn = turn
        self.desk = desk
        self.requests = requests
        self.t = turn.t
        self.words = Wording(turn.catalog, turn.code, turn.t, desk.timezone)

    async def show(self, before: str | None = None) -> Reply:
        session = self.turn.session
        appointments = await self.desk.store.active_for(
            session.channel, session.user_id, now=self.desk.now()
        )
        requests = (
            await self.requests.of_user(session.channel, session.user_id) if self.requests else []
        )
        if not appointments and not requests:
            text = self.t._("You have no appointments booked.")
            return self.turn.reply(
                f"{before}\n\n{text}" if before else text,
                [
                    Choice(f"{BOOK}svc:", self.t._("Book an appointment")),
                    *self._reminders(),
                    self.turn.home_choice(),
                ],
            )
        lines = [before] if before else []
        choices: list[Choice] = []
        if appointments:
            title = self.t._("Your appointments:")
            lines.append(f"**{title}**")
            for appointment in appointments:
                lines.append(self._appointment_line(appointment, requests))
                choices += self._appointment_choices(appointment)
        waiting = [request for request in requests if not request.rescheduling]
        if waiting:
            title = self.t._("Your requests:")
            lines.append(f"**{title}**")
            for request in waiting:
                lines.append(self._request_line(request))
        for request in requests:
            choices += self._request_choices(request)
        return self.turn.reply(
            "\n".join(lines), [*choices, *self._reminders(), self.turn.home_choice()]
        )

    def _reminders(self) -> list[Choice]:
        """ "My reminders" beside the appointments, where reminders can be sent."""
        return self.turn.flows.reminders.buttons(self.turn)

    def _appointment_line(
        self, appointment: Appointment, requests: list[AppointmentRequest]
    ) -> str:
        line = (
            f"- {appointment.code}: {self.words.service(appointment.service)}, "
            f"{self.words.when(appointment.starts_at)}"
        )
        moving = next((r for r in requests if r.code == appointment.code), None)
        if moving is not None and moving.status == "proposed" and moving.proposed_start:
            new = self.t._("new time proposed: {when}").format(
                when=self.words.when(moving.proposed_start)
            )
            line += f" ({new})"
        elif moving is not None:
            line += " (" + self.t._("another time asked") + ")"
        return line

    def _appointment_choices(self, appointment: Appointment) -> list[Choice]:
        code = appointment.code
        office = self.turn.catalog.office(appointment.office)
        takes = office.takes(appointment.service) if office else None
        choices = []
        if takes == "slots":
            choices.append(Choice(f"{BOOK}move:{code}", self.t._("Move {code}").format(code=code)))
        elif takes == "requests" and self.requests is not None:
            choices.append(
                Choice(f"{REQUEST}move:{code}", self.t._("Move {code}").format(code=code))
            )
        choices.append(Choice(f"{BOOK}cancel:{code}", self.t._("Cancel {code}").format(code=code)))
        return choices

    def _request_line(self, request: AppointmentRequest) -> str:
        line = f"- {request.code}: {self.words.service(request.service)} — "
        if request.status == "proposed" and request.proposed_start is not None:
            return line + self.t._("proposed: {when}").format(
                when=self.words.when(request.proposed_start)
            )
        return line + self.t._("waiting for the counter to propose a time")

    def _request_choices(self, request: AppointmentRequest) -> list[Choice]:
        code = request.code
        choices = []
        if request.status == "proposed":
            choices += [
                Choice(f"{REQUEST}accept:{code}", self.t._("Accept {code}").format(code=code)),
                Choice(
                    f"{REQUEST}other:{code}", self.t._("Another time for {code}").format(code=code)
                ),
            ]
        if request.rescheduling:
            label = self.t._("Keep the time of {code}").format(code=code)
        else:
            label = self.t._("Withdraw {code}").format(code=code)
        choices.append(Choice(f"{REQUEST}withdraw:{code}", label))
        return choices

    # -- cancelling ------------------------------------------------------------------------

    async def own(self, code: str) -> Appointment | None:
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

    async def ask_cancel(self, code: str) -> Reply:
        appointment = await self.own(code)
        if appointment is None:
            return await self.show()
        question = self.t._("Cancel the appointment {code}?").format(code=appointment.code)
        return self.turn.reply(
            question,
            [
                Choice(f"{BOOK}cancelyes:{appointment.code}", self.t._("Yes, cancel it")),
                Choice(MINE, self.t._("No, keep it")),
            ],
        )

    async def cancel(self, code: str) -> Reply:
        session = self.turn.session
        appointment = await self.own(code)
        if appointment is None:
            return await self.show()
        notices = self.desk.staff_notices(
            self.desk.staff_text(
                self.turn.catalog,
                self.turn.staff.pgettext("staff", "❌ Cancelled by the user"),
                appointment,
                self.turn.staff,
            )
        )
        if await self.desk.store.cancel(code, session.channel, session.user_id, notices):
            self.desk.router.wake()
            await self.desk.count("cancelled", code)
            return await self.show(
                self.t._("The appointment {code} is cancelled.").format(code=code.upper())
            )
        return await self.show()
