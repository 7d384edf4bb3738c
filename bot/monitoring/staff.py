"""This module contains the monitoring's staff commands, channel-neutral: logging a desk or
phone consultation (``/registra``, ``/log``) and the month so far (``/mese``, ``/month``).

The Telegram channel only renders what these return: a text and, for the guided logging,
buttons whose data continues the dialogue (``reg:AREA``, ``reg:AREA:LANG``, ...). Texts are
in Italian, the staff group's language.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.content.schema import AREAS
from bot.i18n import format_date
from bot.monitoring.events import DESK_CHANNELS, EventSource, Monitor
from bot.monitoring.stats import Summary, summarise
from bot.monitoring.tables import AREA_NAMES, CHANNEL_NAMES, language_name

__all__ = ["HELP", "LOG", "USAGE", "StaffMonitoring", "Step", "language_name", "month_message"]

LOG = "reg"  # the buttons' data prefix (after the channel's own "staff:")

#: Words staff may type for an area, besides its id.
AREA_WORDS: dict[str, str] = {
    **{area: area for area in AREAS},
    "permesso": "permits",
    "permessi": "permits",
    "ricongiungimento": "family_reunification",
    "famiglia": "family_reunification",
    "a2": "a2_test",
    "test": "a2_test",
    "italiano": "a2_test",
    "lungo": "long_term_permit",
    "soggiornanti": "long_term_permit",
    "ue": "long_term_permit",
    "cittadinanza": "citizenship",
    "lavoro": "work",
    "scuola": "school",
    "casa": "housing",
    "salute": "health",
    "sanità": "health",
    "sociali": "social_services",
    "servizi": "social_services",
    "mediazione": "mediation",
    "mediatore": "mediation",
    "informazioni": "counter",
    "info": "counter",
    "orari": "counter",
    "asilo": "protection",
    "protezione": "protection",
    "anagrafe": "registry",
    "residenza": "registry",
    "fiscale": "registry",
    "pericolo": "emergency",
    "violenza": "emergency",
    "emergenza": "emergency",
}
CHANNEL_WORDS = {
    "sportello": "desk",
    "desk": "desk",
    "presenza": "desk",
    "telefono": "phone",
    "tel": "phone",
    "phone": "phone",
}
HELP = (
    "\n/registra (/log) registra una consultazione allo sportello o al telefono; /mese "
    "(/month) riassume il mese in corso."
)
USAGE = (
    "Uso: /registra AREA LINGUA [sportello|telefono] [SEDE], per esempio /registra permesso ar "
    "sportello luino; oppure /registra da solo, e scegli con i pulsanti."
)


@dataclass(frozen=True)
class Step:
    """What to show: a text, and buttons as (label, data) when the dialogue goes on."""

    text: str
    buttons: tuple[tuple[str, str], ...] = ()
    columns: int = 2  # buttons in a row


class StaffMonitoring:
    """The staff's side of the monitoring."""

    def __init__(
        self,
        monitor: Monitor,
        source: EventSource,
        timezone: ZoneInfo,
        languages: Callable[[], Sequence[str]],
        clock: Callable[[], datetime] | None = None,
        offices: Callable[[], Sequence[str]] = tuple,
        office_name: Callable[[str], str] = str,
    ) -> None:
        self.monitor = monitor
        self.source = source
        self.timezone = timezone
        self._languages = languages  # the bot's enabled languages: the buttons offer those
        self._clock = clock or (lambda: datetime.now(timezone))
        self._offices = offices  # office ids staff may add, so `stats --office` sees them
        self._office_name = office_name  # how staff read an office id back: its name

    # -- /registra -------------------------------------------------------------------------

    async def log_command(self, arguments: str) -> Step:
        """``/registra`` with words ("permesso ar sportello luino") logs at once; alone, it
        asks with buttons (the guided way leaves the office out: one tap less at a busy desk)."""
        words = arguments.lower().split()
        if not words:
            return await self.step(LOG)
        area = AREA_WORDS.get(words[0])
        language = words[1] if len(words) > 1 and language_name(words[1]) else None
        channel = CHANNEL_WORDS.get(words[2]) if len(words) > 2 else "desk"
        office = words[3] if len(words) > 3 else None
        if office is not None and office not in self._offices():
            return Step(USAGE)
        if area is None or language is None or channel is None or len(words) > 4:
            return Step(USAGE)
        return await self._logged(area, language, channel, office)

    async def step(self, data: str) -> Step:
        """One step of the guided logging: area, then language, then desk or phone."""
        parts = data.split(":")
        if parts[0] != LOG or len(parts) > 4:
            return Step(USAGE)
        if len(parts) == 1:
            return Step(
                "Registra una consultazione: di che cosa si è parlato?",
                tuple((AREA_NAMES[area], f"{LOG}:{area}") for area in AREAS),
            )
        area = parts[1]
        if area not in AREAS:
            return Step(USAGE)
        if len(parts) == 2:
            return Step(
                f"{AREA_NAMES[area]}: in che lingua? (Per altre lingue: /registra {area} CODICE)",
                tuple(
                    (language_name(code) or code, f"{LOG}:{area}:{code}")
                    for code in self._languages()
                ),
            )
        language = parts[2]
        if language_name(language) is None:
            return Step(USAGE)
        if len(parts) == 3:
            return Step(
                f"{AREA_NAMES[area]}, {language_name(language)}: dove?",
                tuple(
                    (CHANNEL_NAMES[channel], f"{LOG}:{area}:{language}:{channel}")
                    for channel in DESK_CHANNELS
                ),
            )
        if parts[3] not in DESK_CHANNELS:
            return Step(USAGE)
        return await self._logged(area, language, parts[3])

    async def _logged(
        self, area: str, language: str, channel: str, office: str | None = None
    ) -> Step:
        await self.monitor.desk(area, language, channel, office)
        where = f" ({self._office_name(office)})" if office else ""
        return Step(
            f"Registrata: consultazione {CHANNEL_NAMES[channel]}{where}, {AREA_NAMES[area]}, "
            f"{language_name(language)}."
        )

    # -- /mese -----------------------------------------------------------------------------

    async def month(self) -> str:
        """The month so far, in a few lines."""
        today = self._clock().date()
        first = today.replace(day=1)
        events = await self.source.between(
            datetime.combine(first, time(0), self.timezone),
            datetime.combine(today + timedelta(days=1), time(0), self.timezone),
        )
        return month_message(summarise(events, self.timezone, first, today), today)


def _top(counts: dict[str, int], name: Callable[[str], str], n: int = 3) -> str:
    """The ``n`` largest, then how many more there are: "arabo 2, francese 2, italiano 1 e
    altre 3" (the rest's consultations are in the total)."""
    text = ", ".join(f"{name(key)} {count}" for key, count in list(counts.items())[:n]) or "-"
    rest = len(counts) - n
    if rest == 1:
        text += " e un'altra"
    elif rest > 1:
        text += f" e altre {rest}"
    return text


def month_message(summary: Summary, today: date) -> str:
    """The staff group's short message on the month so far."""
    made = sum(row.made for row in summary.bookings)
    attended = sum(row.attended for row in summary.bookings)
    missed = sum(row.no_show for row in summary.bookings)
    marked = attended + missed
    lines = [
        f"📊 {format_date(today, 'it', 'LLLL yyyy').capitalize()}, fino a oggi:",
        f"consultazioni {summary.consultations} ({_top(summary.by_channel, _channel, 4)}), "
        f"utenti {summary.unique_users}",
        f"aree: {_top(summary.by_area, lambda area: AREA_NAMES.get(area, area))}",
        f"lingue: {_top(summary.by_language, lambda code: language_name(code) or code)}",
        f"appuntamenti prenotati {made}, presenti {attended}, assenti {missed}"
        + (f" ({missed / marked:.0%} di assenze)" if marked else ""),
        f"domande senza risposta diretta {sum(row.total for row in summary.unanswered)}",
    ]
    if summary.handovers_requested:
        line = f"richieste di parlare con una persona {summary.handovers_requested}"
        if summary.median_response_seconds is not None:
            line += f", risposta mediana {summary.median_response_seconds / 60:.0f} min"
        lines.append(line)
    return "\n".join(lines)


def _channel(channel: str) -> str:
    return CHANNEL_NAMES.get(channel, channel)
