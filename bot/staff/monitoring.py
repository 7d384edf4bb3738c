"""This module contains the monitoring's staff commands, channel-neutral: logging a desk or
phone consultation (``/registra``, ``/log``) and the month so far (``/mese``, ``/month``).

A channel only renders what these return: a text and, for the guided logging, buttons
whose data continues the dialogue (``reg:AREA``, ``reg:AREA:LANG``, ...). Texts are staff
texts (context ``"staff"``) in the staff group's language, Italian; the areas, their names
and the words staff may type for them come from the content (``desk.yaml``), the names of
channels and languages from the monitoring's Italian tables, as in its reports.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.content.schema import Area
from bot.i18n import STAFF_LANGUAGE, Translator, format_date
from bot.monitoring.events import DESK_CHANNELS, EventSource, Monitor
from bot.monitoring.stats import NONE, Summary, summarise
from bot.monitoring.tables import CHANNEL_NAMES, NO_AREA, language_name
from bot.staff.answers import Step

__all__ = ["LOG", "StaffMonitoring", "help_text", "month_message", "usage"]

LOG = "reg"  # the buttons' data prefix (after the channel's own "staff:")

CHANNEL_WORDS = {
    "sportello": "desk",
    "desk": "desk",
    "presenza": "desk",
    "telefono": "phone",
    "tel": "phone",
    "phone": "phone",
}


def help_text(t: Translator) -> str:
    """The monitoring's lines of the staff commands' help."""
    return t.pgettext(
        "staff",
        "/registra (/log) logs a consultation at the desk or on the phone; /mese (/month) "
        "sums up the month so far.",
    )


def usage(t: Translator, areas: Sequence[Area] = (), offices: Sequence[str] = ()) -> str:
    """How to write ``/registra``, with an example of this counter's areas and offices."""
    first = areas[0] if areas else None
    example = " ".join(
        [
            (first.words[0] if first.words else first.id) if first else "AREA",
            "ar",
            "sportello",
            *offices[:1],
        ]
    )
    return t.pgettext(
        "staff",
        "Usage: /registra AREA LANGUAGE [sportello|telefono] [OFFICE], for example /registra "
        "{example}; or /registra alone, and choose with the buttons.",
    ).format(example=example)


def area_words(areas: Sequence[Area]) -> dict[str, str]:
    """What staff may type for each area: its id and its words (``desk.yaml``)."""
    return {word: area.id for area in areas for word in (area.id, *area.words)}


def area_namer(areas: Sequence[Area]) -> Callable[[str], str]:
    """An area's Italian name; an id the content no longer declares (an old event) stays."""
    names = {area.id: area.name for area in areas}
    return lambda area: NO_AREA if area == NONE else names.get(area, area)


class StaffMonitoring:
    """The staff's side of the monitoring."""

    def __init__(
        self,
        monitor: Monitor,
        source: EventSource,
        timezone: ZoneInfo,
        languages: Callable[[], Sequence[str]],
        translator: Translator,
        areas: Callable[[], Sequence[Area]],
        clock: Callable[[], datetime] | None = None,
        offices: Callable[[], Sequence[str]] = tuple,
        office_name: Callable[[str], str] = str,
        deadline_name: Callable[[str], str] = str,
    ) -> None:
        self.monitor = monitor
        self.source = source
        self.timezone = timezone
        self._languages = languages  # the bot's enabled languages: the buttons offer those
        self.t = translator  # the staff's language
        self._areas = areas  # the content's areas, as it is now
        self._clock = clock or (lambda: datetime.now(timezone))
        self._offices = offices  # office ids staff may add, so `stats --office` sees them
        self._office_name = office_name  # how staff read an office id back: its name
        self._deadline_name = deadline_name  # a kind of deadline, as staff read it

    # -- /registra -------------------------------------------------------------------------

    async def log_command(self, arguments: str) -> Step:
        """``/registra`` with words ("permesso ar sportello luino") logs at once; alone, it
        asks with buttons (the guided way leaves the office out: one tap less at a busy desk)."""
        words = arguments.lower().split()
        if not words:
            return await self.step(LOG)
        area = area_words(self._areas()).get(words[0])
        language = words[1] if len(words) > 1 and language_name(words[1]) else None
        channel = CHANNEL_WORDS.get(words[2]) if len(words) > 2 else "desk"
        office = words[3] if len(words) > 3 else None
        if office is not None and office not in self._offices():
            return Step(self._usage())
        if area is None or language is None or channel is None or len(words) > 4:
            return Step(self._usage())
        return await self._logged(area, language, channel, office)

    def _usage(self) -> str:
        return usage(self.t, self._areas(), self._offices())

    async def step(self, data: str) -> Step:
        """One step of the guided logging: area, then language, then desk or phone."""
        parts = data.split(":")
        if parts[0] != LOG or len(parts) > 4:
            return Step(self._usage())
        areas = self._areas()
        if len(parts) == 1:
            return Step(
                self.t.pgettext("staff", "Log a consultation: what was it about?"),
                tuple((area.name, f"{LOG}:{area.id}") for area in areas),
            )
        area = parts[1]
        if area not in {known.id for known in areas}:
            return Step(self._usage())
        area_name = area_namer(areas)
        if len(parts) == 2:
            return Step(
                self.t.pgettext(
                    "staff",
                    "{area}: in which language? (For other languages: /registra {id} CODE)",
                ).format(area=area_name(area), id=area),
                tuple(
                    (language_name(code) or code, f"{LOG}:{area}:{code}")
                    for code in self._languages()
                ),
            )
        language = parts[2]
        if language_name(language) is None:
            return Step(self._usage())
        if len(parts) == 3:
            return Step(
                self.t.pgettext("staff", "{area}, {language}: where?").format(
                    area=area_name(area), language=language_name(language)
                ),
                tuple(
                    (CHANNEL_NAMES[channel], f"{LOG}:{area}:{language}:{channel}")
                    for channel in DESK_CHANNELS
                ),
            )
        if parts[3] not in DESK_CHANNELS:
            return Step(self._usage())
        return await self._logged(area, language, parts[3])

    async def _logged(
        self, area: str, language: str, channel: str, office: str | None = None
    ) -> Step:
        await self.monitor.desk(area, language, channel, office)
        names = {
            "channel": CHANNEL_NAMES[channel],
            "area": area_namer(self._areas())(area),
            "language": language_name(language),
        }
        if office:
            text = self.t.pgettext(
                "staff", "Logged: a consultation {channel} ({office}), {area}, {language}."
            ).format(office=self._office_name(office), **names)
        else:
            text = self.t.pgettext(
                "staff", "Logged: a consultation {channel}, {area}, {language}."
            ).format(**names)
        return Step(text)

    # -- /mese -----------------------------------------------------------------------------

    async def month(self) -> str:
        """The month so far, in a few lines."""
        today = self._clock().date()
        first = today.replace(day=1)
        events = await self.source.between(
            datetime.combine(first, time(0), self.timezone),
            datetime.combine(today + timedelta(days=1), time(0), self.timezone),
        )
        summary = summarise(events, self.timezone, first, today)
        return month_message(summary, today, self.t, area_namer(self._areas()), self._deadline_name)


def _top(counts: dict[str, int], name: Callable[[str], str], t: Translator, n: int = 3) -> str:
    """The ``n`` largest, then how many more there are: "arabo 2, francese 2, italiano 1 e
    altre 3" (the rest's consultations are in the total)."""
    text = ", ".join(f"{name(key)} {count}" for key, count in list(counts.items())[:n]) or "-"
    rest = len(counts) - n
    if rest == 1:
        text += t.pgettext("staff", " and one more")
    elif rest > 1:
        text += t.pgettext("staff", " and {count} more").format(count=rest)
    return text


def month_message(
    summary: Summary,
    today: date,
    t: Translator,
    area_name: Callable[[str], str],
    kind_name: Callable[[str], str] = str,
) -> str:
    """The staff group's short message on the month so far (``area_name``: an area's name;
    ``kind_name`` names a kind of deadline, ``permit_renewal``, as staff read it)."""
    made = sum(row.made for row in summary.bookings)
    attended = sum(row.attended for row in summary.bookings)
    missed = sum(row.no_show for row in summary.bookings)
    marked = attended + missed
    month = format_date(today, STAFF_LANGUAGE, "LLLL yyyy").capitalize()
    booked = t.pgettext(
        "staff", "appointments booked {made}, attended {attended}, no-shows {missed}"
    ).format(made=made, attended=attended, missed=missed)
    if marked:
        booked += t.pgettext("staff", " ({share} no-shows)").format(share=f"{missed / marked:.0%}")
    lines = [
        t.pgettext("staff", "📊 {month}, so far:").format(month=month),
        t.pgettext("staff", "consultations {count} ({channels}), users {users}").format(
            count=summary.consultations,
            channels=_top(summary.by_channel, _channel, t, 4),
            users=summary.unique_users,
        ),
        t.pgettext("staff", "areas: {areas}").format(areas=_top(summary.by_area, area_name, t)),
        t.pgettext("staff", "languages: {languages}").format(
            languages=_top(summary.by_language, lambda code: language_name(code) or code, t)
        ),
        booked,
        t.pgettext("staff", "questions without a direct answer {count}").format(
            count=sum(row.total for row in summary.unanswered)
        ),
    ]
    if summary.handovers_requested:
        line = t.pgettext("staff", "requests to talk to a person {count}").format(
            count=summary.handovers_requested
        )
        if summary.median_response_seconds is not None:
            line += t.pgettext("staff", ", median answer {minutes} min").format(
                minutes=f"{summary.median_response_seconds / 60:.0f}"
            )
        lines.append(line)
    deadlines_set = Counter[str]()
    for row in summary.deadlines:
        deadlines_set[row.kind] += row.set
    if summary.deadlines:
        lines.append(
            t.pgettext("staff", "deadline reminders set {count} ({kinds}), sent {sent}").format(
                count=sum(deadlines_set.values()),
                kinds=_top(dict(deadlines_set.most_common()), kind_name, t),
                sent=sum(row.sent for row in summary.deadlines),
            )
        )
    return "\n".join(lines)


def _channel(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)
