"""This module contains the staff's side of appointment requests, channel-neutral: the
buttons under a request, ``/fissa``, ``/richieste``, and the replies staff type to a prompt (a
question for the user, a reason to decline). Its texts are staff texts (context ``"staff"``),
in the staff group's language, Italian.

A channel only renders what these return (a ``Step``: a text and buttons whose
data continues the dialogue, ``rq:p:LU-4K7P`` ...) and passes back what staff tapped or typed.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.booking.request_texts import availability, decline_labels
from bot.booking.requests import STAFF_REQUEST, RequestDesk
from bot.booking.when import WhenReader, part_of
from bot.booking.workdays import WEEKDAY_KEYS
from bot.i18n import STAFF_LANGUAGE, Translator, format_date, format_time
from bot.staff.answers import Step
from bot.storage.records import AppointmentRequest

DAYS_SHOWN = 10  # working days under "propose a time", two weeks
LISTED = 15  # requests /richieste shows
ASK, DECLINE = "ask", "decline"  # what a staff reply to a prompt is for


class RequestConsole:
    """What staff do with requests: propose a time, ask a question, decline."""

    def __init__(self, desk: RequestDesk) -> None:
        self.desk = desk
        self.t = desk.interface.translator(STAFF_LANGUAGE)
        self._italian = WhenReader("it")  # staff type days and times in Italian

    def _usage(self) -> str:
        return self.t.pgettext(
            "staff",
            "Usage: /fissa LU-4K7P 12/12 10:30 (the code, the day and the time; also «domani "
            "9:30» or «mercoledì 15»).",
        )

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
            return Step(
                self.t.pgettext("staff", "{code}: the request is no longer waiting.").format(
                    code=code
                )
            )
        if action == "p":
            return await self._days(request, int(value) if value.isdigit() else 0)
        if action == "d":
            return await self._times(request, value)
        if action == "t":
            start = _moment(value, self.desk.booking.timezone)
            return Step(await self.desk.propose(code, start) if start else self._usage())
        if action == "q":
            await self._prompt(request, ASK)
            return None
        if action == "n":
            reasons = [
                (label, f"{STAFF_REQUEST}:r:{code}:{key}")
                for key, label in decline_labels(self.t).items()
            ]
            other = self.t.pgettext("staff", "✍️ Another reason, in your own words")
            reasons.append((other, f"{STAFF_REQUEST}:r:{code}:other"))
            return Step(
                self.t.pgettext(
                    "staff",
                    "{code}: why do you decline it? The user gets the reason in their language.",
                ).format(code=code),
                tuple(reasons),
                columns=1,
            )
        if action == "r" and value in decline_labels(self.t):
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
                format_date(day, STAFF_LANGUAGE, "EEE d MMM")
                + (" ★" if _suits_day(request, day) else ""),
                f"{STAFF_REQUEST}:d:{request.code}:{day.strftime('%Y%m%d')}",
            )
            for day in shown
        )
        if len(days) > skip + DAYS_SHOWN:
            more = f"{STAFF_REQUEST}:p:{request.code}:{skip + DAYS_SHOWN}"
            buttons += ((self.t.pgettext("staff", "Later days ▶"), more),)
        return Step(
            self.t.pgettext(
                "staff",
                "{code} ({availability}): choose the day (★ when the user can come), or write "
                "/fissa {code} 12/12 10:30.",
            ).format(code=request.code, availability=availability(request, self.t)),
            buttons,
        )

    async def _times(self, request: AppointmentRequest, value: str) -> Step:
        try:
            day = datetime.strptime(value, "%Y%m%d").date()
        except ValueError:
            return Step(self._usage())
        work = await self.desk.working_time(request.office)
        now = self.desk.now()
        moments = [moment for moment in work.times(day) if moment > now]
        buttons = tuple(
            (
                format_time(moment, STAFF_LANGUAGE)
                + (" ★" if _suits_time(request, moment) else ""),
                f"{STAFF_REQUEST}:t:{request.code}:{moment.strftime('%Y%m%d%H%M')}",
            )
            for moment in moments
        )
        return Step(
            self.t.pgettext(
                "staff",
                "{code}, {day}: choose the time (★ when the user can come), or write /fissa "
                "{code} {date} and the time.",
            ).format(
                code=request.code,
                day=format_date(day, STAFF_LANGUAGE, "EEEE d MMMM"),
                date=f"{day.day}/{day.month}",
            ),
            buttons,
            columns=4,
        )

    async def _prompt(self, request: AppointmentRequest, action: str) -> None:
        """A message for staff to reply to with their words (it goes alone, never in a
        digest, so that the reply finds its request)."""
        speaks = request.language
        if action == ASK:
            text = self.t.pgettext(
                "staff",
                "❓ {code}: reply to this message with the question for the user. They get it "
                "as you write it (their chat is in «{language}»: if you can, write in that "
                "language, otherwise in plain Italian).",
            )
        else:
            text = self.t.pgettext(
                "staff",
                "✍️ {code}: reply to this message with the reason for declining. The user gets "
                "it as you write it (chat in «{language}»).",
            )
        text = text.format(code=request.code, language=speaks)
        await self.desk.prompt(request.code, action, text)

    # -- typed -----------------------------------------------------------------------------

    async def fix(self, arguments: str) -> str:
        """``/fissa LU-4K7P 12/12 10:30``: propose that time for that request."""
        words = arguments.split(maxsplit=1)
        if len(words) < 2:
            return self._usage()
        code = words[0].upper()
        said = self._italian.read(words[1], self.desk.now().date(), prefer="day")
        if said.day is None or said.clock is None:
            return self._usage()
        hour, minute = said.clock
        if not 0 <= hour <= 23:
            return self._usage()
        start = datetime.combine(said.day, time(hour, minute or 0), self.desk.booking.timezone)
        return await self.desk.propose(code, start)

    async def reply(self, action: str, text: str) -> str:
        """Staff replied to a prompt: the question goes to the user, or the request is
        declined with these words."""
        kind, _, code = action.partition(":")
        if not text.strip():
            return self.t.pgettext(
                "staff", "Text only, please: photos and files do not reach the user."
            )
        if kind == ASK:
            return await self.desk.ask(code, text.strip())
        if kind == DECLINE:
            return await self.desk.decline(code, None, typed=text.strip())
        return self.t.pgettext("staff", "{code}: I do not know what to do with this reply.").format(
            code=code
        )

    async def listing(self) -> Step:
        """``/richieste``: the requests waiting for staff, then those waiting for users."""
        now = self.desk.now()
        waiting = await self.desk.store.waiting()
        proposed = await self.desk.store.proposals()
        if not waiting and not proposed:
            return Step(self.t.pgettext("staff", "No appointment request is waiting."))
        catalog = self.desk.catalog()
        lines = [
            self.t.pgettext("staff", "📋 Requests waiting for the counter: {count}").format(
                count=len(waiting)
            )
        ]
        buttons: list[tuple[str, str]] = []
        for request in waiting[:LISTED]:
            service = catalog.services.get(request.service)
            name = (
                catalog.localize(service.name, STAFF_LANGUAGE).text if service else request.service
            )
            work = await self.desk.working_time(request.office)
            hours = round(work.hours_between(request.waiting_since, now))
            lines.append(
                self.t.pgettext(
                    "staff",
                    "- {code}: {service}; {availability}; waiting for {hours} working hours",
                ).format(
                    code=request.code,
                    service=name,
                    availability=availability(request, self.t),
                    hours=hours,
                )
            )
            buttons += [
                (f"📅 {request.code}", f"{STAFF_REQUEST}:p:{request.code}"),
                ("❓", f"{STAFF_REQUEST}:q:{request.code}"),
                ("✖️", f"{STAFF_REQUEST}:n:{request.code}"),
            ]
        if len(waiting) > LISTED:
            lines.append(
                self.t.pgettext("staff", "… and {count} more").format(count=len(waiting) - LISTED)
            )
        if proposed:
            lines.append(
                "\n"
                + self.t.pgettext(
                    "staff", "📨 Proposals waiting for the user's answer: {count}"
                ).format(count=len(proposed))
            )
            for request in proposed[:LISTED]:
                assert request.proposed_start is not None
                start = request.proposed_start.astimezone(self.desk.booking.timezone)
                lines.append(
                    f"- {request.code}: {format_date(start.date(), STAFF_LANGUAGE, 'EEE d MMM')} "
                    f"{format_time(start, STAFF_LANGUAGE)}"
                )
        return Step("\n".join(lines), tuple(buttons), columns=3)


def help_text(t: Translator) -> str:
    """The requests' lines of the staff commands' help."""
    return t.pgettext(
        "staff",
        "/richieste shows the appointment requests waiting; /fissa LU-4K7P 12/12 10:30 "
        "proposes a time for a request (or use the buttons under the request).",
    )


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
