"""This module contains "My reminders": the user's deadline reminders, each to move to
another day or delete, and all of them to delete at once; every change confirmed with one
tap (see ``reminders.mmd`` beside this file).

Reached from "My dates and reminders" (the deadline dialogue, which sets them: ``deadlines.py``)
and the screen that confirms them, from "My appointments", from the main menu when it has no
entry for the deadlines, and from free text ("my reminders", "i miei promemoria"). Here they
are only looked after. A new day is typed in any common form ("15/03/2027", "12 marzo",
Bengali digits), read as the booking reads days: a day without a year is the next one to come.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.booking.when import reader
from bot.content.schema import Intent
from bot.core.messages import Choice, Reply
from bot.deadlines.notices import LONG_DATE, dated, kind_title
from bot.deadlines.reminders import DeadlineReminder, DeadlineReminders
from bot.i18n import format_date

if TYPE_CHECKING:
    from bot.core.turn import Turn, Typed


class RemindersState(StrEnum):
    """Where "My reminders" waits for a typed answer (the other steps are buttons)."""

    DAY = "reminders:day"  # the new day of the reminder in the draft ("reminder": its id)


REMINDERS = "rem:"
MINE = f"{REMINDERS}mine"
MOVE, MOVED = f"{REMINDERS}move:", f"{REMINDERS}moveyes:"  # "rem:moveyes:<id>:<day>"
DELETE, DELETED = f"{REMINDERS}del:", f"{REMINDERS}delyes:"
DELETE_ALL, DELETED_ALL = f"{REMINDERS}all", f"{REMINDERS}allyes"
DRAFT_KEY = "reminder"
SHORT_DATE = "d MMM y"  # in buttons: "12 mar 2027"


class RemindersFlow:
    """The list of the user's deadline reminders, where the bot can send them."""

    states = RemindersState
    choices = (REMINDERS,)

    def __init__(self, reminders: DeadlineReminders | None) -> None:
        self.reminders = reminders

    def available(self, turn: Turn) -> bool:
        """Whether reminders can be sent to this user at all (not in the terminal chat)."""
        return self.reminders is not None and turn.reach.unprompted

    def choice(self, turn: Turn) -> Choice:
        """The "My reminders" button: on the main menu and beside "My appointments"."""
        return Choice(MINE, "⏰ " + turn.t._("My reminders"))

    def buttons(self, turn: Turn) -> list[Choice]:
        """The button, where reminders can be sent; none elsewhere."""
        return [self.choice(turn)] if self.available(turn) else []

    def _listing(self, turn: Turn) -> MyReminders | None:
        if self.reminders is None or not self.available(turn):
            return None
        return MyReminders(turn, self.reminders)

    async def start(self, turn: Turn) -> Reply:
        listing = self._listing(turn)
        if listing is None:
            return turn.home(turn.t._("This chat cannot send you reminders."))
        return await listing.show()

    async def choose(self, turn: Turn, choice_id: str) -> Reply | None:
        listing = self._listing(turn)
        if listing is None:
            return None
        turn.browse()  # a button leaves the question of a new day behind
        if choice_id == MINE:
            return await listing.show()
        if choice_id == DELETE_ALL:
            return await listing.ask_delete_all()
        if choice_id == DELETED_ALL:
            return await listing.delete_all()
        step, _, value = choice_id.partition(":")[2].partition(":")
        if step == "move":
            return await listing.ask_day(_number(value))
        if step == "moveyes":
            number, _, day = value.partition(":")
            return await listing.move(_number(number), _day(day))
        if step == "del":
            return await listing.ask_delete(_number(value))
        if step == "delyes":
            return await listing.delete(_number(value))
        return None

    async def step(self, turn: Turn, state: RemindersState, typed: Typed) -> Reply | None:
        listing = self._listing(turn)
        if listing is None or typed.number is not None:
            return None  # a number no choice has is not a day
        return await listing.typed_day(typed)


def _number(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


class MyReminders:
    """The list, and each change to it, for one turn."""

    def __init__(self, turn: Turn, reminders: DeadlineReminders) -> None:
        self.turn = turn
        self.reminders = reminders
        self.t = turn.t
        self.session = turn.session

    def _date(self, day: date, format: str = LONG_DATE) -> str:
        return format_date(day, self.turn.code, format)

    def _title(self, reminder: DeadlineReminder) -> str:
        return kind_title(self.turn.catalog, reminder.kind, self.turn.code, self.t)

    async def _own(self, reminder_id: int | None) -> DeadlineReminder | None:
        """The user's own reminder with this id, or None (deleted since, or a forged id)."""
        if reminder_id is None:
            return None
        mine = await self.reminders.mine(self.session.channel, self.session.user_id)
        return next((reminder for reminder in mine if reminder.id == reminder_id), None)

    async def show(self, before: str | None = None) -> Reply:
        mine = await self.reminders.mine(self.session.channel, self.session.user_id)
        lines = [before] if before else []
        if not mine:
            lines.append(
                self.t._(
                    "You have no reminders. When you tell me the date of a deadline (your "
                    "permit's expiry, for example), I can remind you of it in time."
                )
            )
            return self.turn.reply("\n\n".join(lines), [self.turn.home_choice()])
        title = self.t._("Your reminders:")
        lines.append(f"**{title}**")
        choices: list[Choice] = []
        for reminder in mine:
            lines.append(self._line(reminder))
            short = self._date(reminder.remind_on, SHORT_DATE)
            choices += [
                Choice(f"{MOVE}{reminder.id}", self.t._("Change {date}").format(date=short)),
                Choice(f"{DELETE}{reminder.id}", self.t._("Delete {date}").format(date=short)),
            ]
        if len(mine) > 1:
            choices.append(Choice(DELETE_ALL, self.t._("Delete all reminders")))
        return self.turn.reply("\n".join(lines), [*choices, self.turn.home_choice()])

    def _line(self, reminder: DeadlineReminder) -> str:
        """ "- Rinnovo del permesso (12 marzo 2027): promemoria il 12 dicembre 2026"."""
        deadline = f"{self._title(reminder)} ({self._date(reminder.event_date)})"
        day = self._date(reminder.remind_on)
        if reminder.sent:
            return f"- {deadline}: " + self.t._("reminded on {date}").format(date=day)
        return f"- {deadline}: " + self.t._("reminder on {date}").format(date=day)

    # -- another day -----------------------------------------------------------------------

    async def ask_day(self, reminder_id: int | None) -> Reply:
        reminder = await self._own(reminder_id)
        if reminder is None:
            return await self.show()
        self.session.state = RemindersState.DAY
        self.session.draft[DRAFT_KEY] = str(reminder.id)
        return self._day_question(
            self.t._("On which day should I remind you of “{deadline}” instead of {date}?").format(
                deadline=self._title(reminder), date=self._date(reminder.remind_on)
            )
        )

    def _day_question(self, text: str) -> Reply:
        example = self._date(self.reminders.today() + timedelta(days=30), "dd/MM/y")
        hint = self.t._("Write the date, for example {example}.").format(example=example)
        return self.turn.reply(
            f"{text}\n{hint}",
            [Choice(MINE, self.t._("Back to my reminders")), self.turn.home_choice()],
        )

    async def typed_day(self, typed: Typed) -> Reply | None:
        """The new day, typed; None for a way out ("menu") or another request."""
        reminder = await self._own(_number(self.session.draft.get(DRAFT_KEY, "")))
        if reminder is None:
            self.turn.browse()
            return await self.show()
        today = self.reminders.today()
        said = reader(self.turn.code, self.t).read(typed.text, today, prefer="day")
        if said.day is None or typed.intent is Intent.DANGER:  # help first, day or not
            if typed.intent is not None:  # "menu", "talk to a person": not a day
                self.turn.browse()
                return None
            return self._day_question(self.t._("I could not read a date in that."))
        if said.day < today:
            return self._day_question(self.t._("That day has passed: choose one from today on."))
        if not self.reminders.can_remind_on(said.day):
            return self._day_question(self.t._("That day is too far ahead."))
        self.turn.browse()
        question = self.t._("Remind you of “{deadline}” on {new} instead of {old}?").format(
            deadline=self._title(reminder),
            new=self._date(said.day),
            old=self._date(reminder.remind_on),
        )
        return self.turn.reply(
            question,
            [
                Choice(f"{MOVED}{reminder.id}:{said.day.isoformat()}", self.t._("Yes, change it")),
                Choice(MINE, self.t._("No, leave it as it is")),
            ],
        )

    async def move(self, reminder_id: int | None, day: date | None) -> Reply:
        self.session.draft.pop(DRAFT_KEY, None)
        reminder = await self._own(reminder_id)
        if reminder is None or day is None:
            return await self.show()
        channel, user_id = self.session.channel, self.session.user_id
        if not await self.reminders.move(channel, user_id, reminder.id, day):
            # A confirmation tapped days later: its day has passed since.
            return await self.show(self.t._("That day has passed: choose one from today on."))
        return await self.show(
            dated(self.t._("Done: I will remind you on {date}."), date=self._date(day))
        )

    # -- deleting --------------------------------------------------------------------------

    async def ask_delete(self, reminder_id: int | None) -> Reply:
        reminder = await self._own(reminder_id)
        if reminder is None:
            return await self.show()
        question = self.t._("Delete the reminder of {date} for “{deadline}”?").format(
            date=self._date(reminder.remind_on), deadline=self._title(reminder)
        )
        return self.turn.reply(
            question,
            [
                Choice(f"{DELETED}{reminder.id}", self.t._("Yes, delete it")),
                Choice(MINE, self.t._("No, keep the reminder")),
            ],
        )

    async def delete(self, reminder_id: int | None) -> Reply:
        reminder = await self._own(reminder_id)
        if reminder is None:
            return await self.show()
        await self.reminders.delete(self.session.channel, self.session.user_id, reminder.id)
        return await self.show(self.t._("The reminder is deleted."))

    async def ask_delete_all(self) -> Reply:
        return self.turn.reply(
            self.t._("Delete all your reminders?"),
            [
                Choice(DELETED_ALL, self.t._("Yes, delete them all")),
                Choice(MINE, self.t._("No, keep them")),
            ],
        )

    async def delete_all(self) -> Reply:
        await self.reminders.delete(self.session.channel, self.session.user_id)
        return await self.show(self.t._("Your reminders are deleted."))
