"""This module contains the staff's side of appointment requests, channel-neutral and in
Italian (the staff group's language): the buttons under a request, ``/fissa``, ``/richieste``,
and the replies staff type to a prompt (a question for the user, a reason to decline).

The Telegram channel only renders what these return (a ``Step``: a text and buttons whose
data continues the dialogue, ``rq:p:LU-4K7P`` ...) and passes back what staff tapped or typed.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.booking.request_texts import DECLINE_LABELS, availability
from bot.booking.requests import STAFF_REQUEST, RequestDesk
from bot.booking.when import WhenReader, part_of
from bot.booking.workdays import WEEKDAY_KEYS
from bot.i18n import format_date, format_time
from bot.monitoring.staff import Step
from bot.storage.records import AppointmentRequest

DAYS_SHOWN = 10  # working days under "propose a time", two weeks
LISTED = 15  # requests /richieste shows
USAGE = (
    "Uso: /fissa LU-4K7P 12/12 10:30 (il codice, il giorno e l'ora; anche «domani 9:30» o "
    "«mercoledì 15»)."
)
HELP = (
    "\n/richieste mostra le richieste di appuntamento in attesa; /fissa LU-4K7P 12/12 10:30 "
    "propone un orario per una richiesta (o usate i pulsanti sotto la richiesta)."
)
ASK, DECLINE = "ask", "decline"  # what a staff reply to a prompt is for


class RequestConsole:
    """What staff do with requests: propose a time, ask a question, decline."""

    def __init__(self, desk: RequestDesk) -> None:
        self.desk = desk
        self._italian = WhenReader("it")

    # -- buttons ---------------------------------------------------------------------------

    async def step(self, data: str) -> Step | None:
        """A tap on a request's button; None when the answer goes through the outbox (a
        prompt staff reply to)."""
        parts = data.split(":")
        if len(parts) < 3 or parts[0] != STAFF_REQUEST:
            return None
        action, code, value = parts[1], parts[2].upper(), parts[3] if len(parts) > 3 else ""
        request = await self.desk.store.get(code)
        if request is None or request.status not in ("open", "proposed"):
            return Step(f"{code}: la richiesta non è più in attesa.")
        if action == "p":
            return await self._days(request, int(value) if value.isdigit() else 0)
        if action == "d":
            return await self._times(request, value)
        if action == "t":
            start = _moment(value, self.desk.booking.timezone)
            return Step(await self.desk.propose(code, start) if start else USAGE)
        if action == "q":
            await self._prompt(request, ASK)
            return None
        if action == "n":
            reasons = [
                (label, f"{STAFF_REQUEST}:r:{code}:{key}") for key, label in DECLINE_LABELS.items()
            ]
            reasons.append(("✍️ Un altro motivo, scritto da voi", f"{STAFF_REQUEST}:r:{code}:other"))
            return Step(
                f"{code}: perché la rifiutate? L'utente riceve il motivo nella sua lingua.",
                tuple(reasons),
                columns=1,
            )
        if action == "r" and value in DECLINE_LABELS:
            return Step(await self.desk.decline(code, value))
        if action == "r" and value == "other":
            await self._prompt(request, DECLINE)
            return None
        return None

    async def _days(self, request: AppointmentRequest, skip: int) -> Step:
        work = await self.desk.working_time(request.office)
        today = self.desk.now().date()
        days = work.days_from(today, skip + DAYS_SHOWN + 1)
        if days and days[0] == today and work.end <= self.desk.now().time():
            days = days[1:]  # today's working day is over
        shown = days[skip : skip + DAYS_SHOWN]
        buttons = tuple(
            (
                format_date(day, "it", "EEE d MMM") + (" ★" if _suits_day(request, day) else ""),
                f"{STAFF_REQUEST}:d:{request.code}:{day.strftime('%Y%m%d')}",
            )
            for day in shown
        )
        if len(days) > skip + DAYS_SHOWN:
            more = f"{STAFF_REQUEST}:p:{request.code}:{skip + DAYS_SHOWN}"
            buttons += (("Giorni successivi ▶", more),)
        return Step(
            f"{request.code} ({availability(request)}): scegliete il giorno (★ quando "
            f"l'utente può venire), oppure scrivete /fissa {request.code} 12/12 10:30.",
            buttons,
        )

    async def _times(self, request: AppointmentRequest, value: str) -> Step:
        try:
            day = datetime.strptime(value, "%Y%m%d").date()
        except ValueError:
            return Step(USAGE)
        work = await self.desk.working_time(request.office)
        now = self.desk.now()
        moments = [moment for moment in work.times(day) if moment > now]
        buttons = tuple(
            (
                format_time(moment, "it") + (" ★" if _suits_time(request, moment) else ""),
                f"{STAFF_REQUEST}:t:{request.code}:{moment.strftime('%Y%m%d%H%M')}",
            )
            for moment in moments
        )
        label = format_date(day, "it", "EEEE d MMMM")
        return Step(
            f"{request.code}, {label}: scegliete l'ora (★ quando l'utente può venire), oppure "
            f"scrivete /fissa {request.code} {day.day}/{day.month} e l'ora.",
            buttons,
            columns=4,
        )

    async def _prompt(self, request: AppointmentRequest, action: str) -> None:
        """A message for staff to reply to with their words (it goes alone, never in a
        digest, so that the reply finds its request)."""
        speaks = request.language
        if action == ASK:
            text = (
                f"❓ {request.code}: rispondete a questo messaggio con la domanda per l'utente. "
                f"La riceve così come la scrivete (la sua chat è in lingua «{speaks}»: se "
                "potete scrivete in quella lingua, altrimenti in italiano semplice)."
            )
        else:
            text = (
                f"✍️ {request.code}: rispondete a questo messaggio con il motivo del rifiuto. "
                f"L'utente lo riceve così come lo scrivete (chat in lingua «{speaks}»)."
            )
        await self.desk.prompt(request.code, action, text)

    # -- typed -----------------------------------------------------------------------------

    async def fix(self, arguments: str) -> str:
        """``/fissa LU-4K7P 12/12 10:30``: propose that time for that request."""
        words = arguments.split(maxsplit=1)
        if len(words) < 2:
            return USAGE
        code = words[0].upper()
        said = self._italian.read(words[1], self.desk.now().date(), prefer="day")
        if said.day is None or said.clock is None:
            return USAGE
        hour, minute = said.clock
        if not 0 <= hour <= 23:
            return USAGE
        start = datetime.combine(said.day, time(hour, minute or 0), self.desk.booking.timezone)
        return await self.desk.propose(code, start)

    async def reply(self, action: str, text: str) -> str:
        """Staff replied to a prompt: the question goes to the user, or the request is
        declined with these words."""
        kind, _, code = action.partition(":")
        if not text.strip():
            return "Solo testo, per favore: foto e file non arrivano all'utente."
        if kind == ASK:
            return await self.desk.ask(code, text.strip())
        if kind == DECLINE:
            return await self.desk.decline(code, None, typed=text.strip())
        return f"{code}: non so che cosa fare di questa risposta."

    async def listing(self) -> Step:
        """``/richieste``: the requests waiting for staff, then those waiting for users."""
        now = self.desk.now()
        waiting = await self.desk.store.waiting()
        proposed = await self.desk.store.proposals()
        if not waiting and not proposed:
            return Step("Nessuna richiesta di appuntamento in attesa.")
        catalog = self.desk.catalog()
        lines = [f"📋 Richieste in attesa dello sportello: {len(waiting)}"]
        buttons: list[tuple[str, str]] = []
        for request in waiting[:LISTED]:
            service = catalog.services.get(request.service)
            name = catalog.localize(service.name, "it").text if service else request.service
            work = await self.desk.working_time(request.office)
            hours = round(work.hours_between(request.waiting_since, now))
            lines.append(
                f"- {request.code}: {name}; {availability(request)}; "
                f"in attesa da {hours} ore lavorative"
            )
            buttons += [
                (f"📅 {request.code}", f"{STAFF_REQUEST}:p:{request.code}"),
                ("❓", f"{STAFF_REQUEST}:q:{request.code}"),
                ("✖️", f"{STAFF_REQUEST}:n:{request.code}"),
            ]
        if len(waiting) > LISTED:
            lines.append(f"… e altre {len(waiting) - LISTED}")
        if proposed:
            lines.append(f"\n📨 Proposte in attesa di risposta dell'utente: {len(proposed)}")
            for request in proposed[:LISTED]:
                assert request.proposed_start is not None
                start = request.proposed_start.astimezone(self.desk.booking.timezone)
                lines.append(
                    f"- {request.code}: {format_date(start.date(), 'it', 'EEE d MMM')} "
                    f"{format_time(start, 'it')}"
                )
        return Step("\n".join(lines), tuple(buttons), columns=3)


def _moment(value: str, timezone: ZoneInfo) -> datetime | None:
    try:
        moment = datetime.strptime(value, "%Y%m%d%H%M")
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone)


def _suits_day(request: AppointmentRequest, day: date) -> bool:
    return not request.days or WEEKDAY_KEYS[day.weekday()] in request.days


def _suits_time(request: AppointmentRequest, moment: datetime) -> bool:
    return request.part == "any" or part_of(moment.time()) == request.part
