"""This module contains the staff console: what each staff command, reply and button does.

A channel registers ``StaffConsole.commands`` with its own command machinery, lets only
staff reach them, and renders the ``StaffAnswer``s. Staff texts are English msgids rendered
with the Italian catalog (``STAFF_LANGUAGE``): the staff group reads Italian, and the other
catalogs may leave these strings untranslated.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from bot.booking.handover import HandoverDesk
from bot.booking.requests import STAFF_REQUEST
from bot.booking.service import BookingDesk, StaffUpdate
from bot.content.catalog import Catalog
from bot.i18n import STAFF_LANGUAGE, Translator, format_date
from bot.staff import monitoring, periods, requests
from bot.staff.agenda import StaffAgenda
from bot.staff.answers import Button, StaffAnswer, StaffFile
from bot.staff.monitoring import LOG, StaffMonitoring
from bot.staff.requests import RequestConsole

CLOSE = "hclose"  # a button's action: close a conversation with a person
END = ("fine", "end")  # a reply that closes the conversation it answers


@dataclass(frozen=True)
class Command:
    """A staff command: its names (Italian first, then the English alias) and what it does
    with the words after it."""

    names: tuple[str, ...]
    run: Callable[[str], Awaitable[StaffAnswer]]


class StaffConsole:
    """The staff's commands, their replies to the bot's messages, their buttons.

    Each collaborator is optional, as in a bot without bookings or monitoring: the commands
    that need a missing one are not offered (and not listed in the help).
    """

    def __init__(
        self,
        translator: Translator,
        desk: BookingDesk | None = None,
        catalog: Callable[[], Catalog] | None = None,
        handovers: HandoverDesk | None = None,
        requests: RequestConsole | None = None,
        monitoring: StaffMonitoring | None = None,
    ) -> None:
        self.t = translator
        self.desk = desk
        self.catalog = catalog
        self.handovers = handovers
        self.requests = requests
        self.monitoring = monitoring
        self.agenda = (
            StaffAgenda(translator, desk, catalog)
            if desk is not None and catalog is not None
            else None
        )
        self.commands = self._commands()

    def _commands(self) -> tuple[Command, ...]:
        commands: list[Command] = []
        if self.agenda is not None:
            commands += [
                Command(("oggi", "today"), self._today),
                Command(("domani", "tomorrow"), self._tomorrow),
                Command(("settimana", "week"), self._week),
                Command(("chiudi", "close"), self._close),
                Command(("cerca", "find"), self._find),
            ]
        if self.desk is not None:
            commands.append(Command(("esporta", "export"), self._export))
        if self.monitoring is not None:
            commands += [
                Command(("registra", "log"), self._log),
                Command(("mese", "month"), self._month),
            ]
        if self.requests is not None:
            commands += [
                Command(("fissa", "propose"), self._fix),
                Command(("richieste", "requests"), self._requests),
            ]
        return tuple(commands)

    # -- texts of the console itself -------------------------------------------------------

    def help(self) -> StaffAnswer:
        """What an unknown command gets: the commands there are."""
        t = self.t
        return StaffAnswer(
            t.pgettext(
                "staff",
                "Staff commands: /status shows whether the bot is working; /oggi and "
                "/domani (/today, /tomorrow) show the day's appointments, /settimana "
                "(/week) the next seven days; /cerca (/find) followed by a code or a "
                "phone number finds a booking; /esporta (/export) sends a month's "
                "bookings as a CSV file; /chiudi (/close) closes a day or a range.",
            )
            + "\n\n"
            + t.pgettext(
                "staff",
                "To answer a person who asked to talk to the counter, reply to their "
                "message in this group; reply /fine (/end) to close the conversation.",
            )
            + ("\n" + requests.help_text(t) if self.requests else "")
            + ("\n" + monitoring.help_text(t) if self.monitoring else "")
        )

    def refusal(self) -> StaffAnswer:
        """Someone in the staff group who is not staff."""
        return StaffAnswer(
            self.t.pgettext("staff", "Sorry, only the counter's staff can use these commands.")
        )

    def status(self, mode: str, languages: Sequence[str]) -> StaffAnswer:
        """``/status``: whether the bot is working, how it receives messages, its languages."""
        return StaffAnswer(
            self.t.pgettext("staff", "The bot is running ({mode}). Languages: {languages}.").format(
                mode=mode, languages=", ".join(languages)
            )
        )

    def unreachable(self, channel_name: str, about: str | None) -> StaffAnswer:
        """A user blocked the bot: what they were sent (a reply, a proposal, a reminder)
        never arrived."""
        if about:
            text = self.t.pgettext(
                "staff",
                "{channel}: a message ({about}) did not arrive: the user has blocked the bot. "
                "Contact the person another way.",
            ).format(channel=channel_name, about=about)
        else:
            text = self.t.pgettext(
                "staff",
                "{channel}: a message did not arrive: the user has blocked the bot. Contact "
                "the person another way.",
            ).format(channel=channel_name)
        return StaffAnswer(text)

    def notice_buttons(
        self, code: str | None, handover: int | None
    ) -> tuple[tuple[Button, ...], ...]:
        """The buttons under a staff notice: a booking's outcome, or closing a conversation."""
        t = self.t
        if code:
            return (
                (
                    (f"attended:{code}", t.pgettext("staff", "✅ Attended")),
                    (f"no_show:{code}", t.pgettext("staff", "🚫 No-show")),
                    (f"cancel:{code}", t.pgettext("staff", "❌ Cancel the booking")),
                ),
            )
        if handover is not None:
            return (((f"{CLOSE}:{handover}", t.pgettext("staff", "🔚 Close the conversation")),),)
        return ()

    # -- commands --------------------------------------------------------------------------

    async def _agenda(self, days_from_today: int, days: int = 1) -> StaffAnswer:
        assert self.desk is not None and self.agenda is not None
        day = self.desk.now().date() + timedelta(days=days_from_today)
        return StaffAnswer(await self.agenda.days(day, days))

    async def _today(self, arguments: str) -> StaffAnswer:
        return await self._agenda(0)

    async def _tomorrow(self, arguments: str) -> StaffAnswer:
        return await self._agenda(1)

    async def _week(self, arguments: str) -> StaffAnswer:
        return await self._agenda(0, 7)

    async def _close(self, arguments: str) -> StaffAnswer:
        """``/chiudi FROM [TO]``: close those days; their bookings are cancelled, users told."""
        assert self.desk is not None and self.catalog is not None
        try:
            period = periods.closure(arguments, self.desk.now().date())
        except periods.TooLong:
            return StaffAnswer(
                self.t.pgettext(
                    "staff", "At most {days} days at a time, within two years from today."
                ).format(days=periods.MAX_CLOSURE_DAYS)
            )
        if period is None:
            return StaffAnswer(
                self.t.pgettext(
                    "staff", "Usage: /chiudi 2026-12-24 or /chiudi 2026-12-24 2026-12-31"
                )
            )
        cancelled = await self.desk.close(self.catalog(), period.first, period.last)
        span = format_date(period.first, STAFF_LANGUAGE, "d MMMM")
        if period.last != period.first:
            span += f" – {format_date(period.last, STAFF_LANGUAGE, 'd MMMM')}"
        return StaffAnswer(
            self.t.pgettext(
                "staff", "Closed: {days}. Appointments cancelled and users told: {count}."
            ).format(days=span, count=cancelled)
        )

    async def _find(self, arguments: str) -> StaffAnswer:
        assert self.agenda is not None
        return StaffAnswer(await self.agenda.find(arguments))

    async def _export(self, arguments: str) -> StaffAnswer:
        """``/esporta [FROM [TO]]``: the bookings of a period as a CSV file."""
        assert self.desk is not None
        period = periods.export(arguments, self.desk.now().date())
        if period is None:
            return StaffAnswer(self.t.pgettext("staff", "Usage: /esporta 2026-11-01 2026-11-30"))
        data = await self.desk.export(period.first, period.last)
        name = self.t.pgettext("staff", "appointments-{first}-{last}.csv").format(
            first=period.first, last=period.last
        )
        return StaffAnswer(file=StaffFile(data, name))

    async def _log(self, arguments: str) -> StaffAnswer:
        assert self.monitoring is not None
        return StaffAnswer.of(await self.monitoring.log_command(arguments))

    async def _month(self, arguments: str) -> StaffAnswer:
        assert self.monitoring is not None
        return StaffAnswer(await self.monitoring.month())

    async def _fix(self, arguments: str) -> StaffAnswer:
        assert self.requests is not None
        return StaffAnswer(await self.requests.fix(arguments))

    async def _requests(self, arguments: str) -> StaffAnswer:
        assert self.requests is not None
        return StaffAnswer.of(await self.requests.listing())

    # -- replies ---------------------------------------------------------------------------

    async def reply(
        self, channel: str, chat: str, replied: str, text: str, *, edited: bool, staff: bool
    ) -> StaffAnswer | None:
        """Someone in the staff group replied to the bot's message ``replied``: an answer to a
        conversation (``/fine`` closes it), to a request's prompt, or to a message no
        conversation or request takes (staff are told it reaches nobody).

        None when the console has nothing to say: a stranger's or an edited reply to such a
        message, or a command (it runs as any other).
        """
        if self.requests is not None:
            action = await self.requests.desk.reply_action(channel, chat, replied)
            if action is not None:
                return await self._prompt_reply(action, text, edited, staff)
        number = (
            await self.handovers.store.by_staff_message(channel, chat, replied)
            if self.handovers is not None
            else None
        )
        if number is None:
            if text.startswith("/") or edited or not staff:
                return None
            return StaffAnswer(
                self.t.pgettext(
                    "staff",
                    "⚠️ This reply reaches no user: the message you are replying to is not (or "
                    "no longer) a conversation or a request in progress, or the user has erased "
                    "their data.",
                )
            )
        assert self.handovers is not None
        if not staff:
            return self.refusal()
        if edited:
            return self._edited()
        text = text.strip()
        command = text[1:].split("@", 1)[0].lower() if text.startswith("/") else ""
        if command in END:
            return StaffAnswer(await self.handovers.close_for_staff(number))
        if not text:
            return StaffAnswer(
                self.t.pgettext(
                    "staff", "Text only: photos and files are not passed on to the user."
                )
            )
        return StaffAnswer(await self.handovers.answer(number, text))

    async def _prompt_reply(self, action: str, text: str, edited: bool, staff: bool) -> StaffAnswer:
        """A reply to a request's prompt: the question for its user, or why it is declined."""
        assert self.requests is not None
        if not staff:
            return self.refusal()
        if edited:
            return self._edited()
        return StaffAnswer(await self.requests.reply(action, text))

    def _edited(self) -> StaffAnswer:
        # The first version has reached the user: an edit would arrive as a second answer.
        return StaffAnswer(
            self.t.pgettext("staff", "Edits do not reach the user: send a new reply.")
        )

    # -- buttons ---------------------------------------------------------------------------

    async def button(self, data: str, *, staff: bool) -> StaffAnswer | None:
        """A tap on a staff button (its choice id): a step of ``/registra``, of a request, a
        booking marked attended or no-show or cancelled (the user told), a conversation
        closed. None when there is nothing to show (a stranger's tap does nothing)."""
        if not staff:
            return None
        if data.startswith(LOG) and self.monitoring is not None:
            return StaffAnswer.of(await self.monitoring.step(data))
        if data.startswith(f"{STAFF_REQUEST}:") and self.requests is not None:
            step = await self.requests.step(data)  # propose, ask, decline a request
            return StaffAnswer.of(step) if step is not None else None
        action, _, code = data.partition(":")
        if action == CLOSE:
            return await self._close_conversation(code)
        if self.desk is None or not code:
            return None
        update = await self.desk.staff_update(code, action)
        return StaffAnswer(self._updated(update)) if update is not None else None

    def _updated(self, update: StaffUpdate) -> str:
        t = self.t
        labels = {
            "attended": t.pgettext("staff", "attended"),
            "no_show": t.pgettext("staff", "no-show"),
            "cancelled": t.pgettext("staff", "cancelled"),
        }
        label = labels.get(update.status, "?")
        if update.outcome == "already":
            text = t.pgettext("staff", "{code}: already marked ({status}).")
        elif update.outcome == "too_early":
            text = t.pgettext(
                "staff",
                "{code}: attended or no-show is marked from the time of the appointment on.",
            )
        else:
            text = t.pgettext("staff", "{code}: {status}.")
        return text.format(code=update.code, status=label)

    async def _close_conversation(self, number: str) -> StaffAnswer | None:
        # isdigit() alone accepts "²"; and SQLite takes no number beyond 64 bits.
        valid = number.isascii() and number.isdigit() and len(number) <= 15
        if self.handovers is None or not valid:
            return None
        return StaffAnswer(await self.handovers.close_for_staff(int(number)))
