"""Staff monitoring commands, channel-neutral: /registra (guided or in one line) and /mese."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.content.catalog import Catalog
from bot.content.schema import Area
from bot.i18n import STAFF_LANGUAGE, Interface, Translator
from bot.monitoring.events import Monitor
from bot.monitoring.stats import summarise
from bot.staff.monitoring import StaffMonitoring, area_namer, month_message
from bot.storage.records import Event
from tests.auxil.events import pseudonymous_events

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 1, 31, 18, 5, tzinfo=ROME)


class Memory:
    """An event sink and source in a list."""

    def __init__(self, events: list[Event] | None = None) -> None:
        self.events = list(events or [])

    async def record(self, event: Event, person: str | None) -> None:
        self.events.append(event)

    async def between(self, start: datetime, end: datetime) -> list[Event]:
        return [event for event in self.events if start <= event.hour < end]


#: What wrong words get, in the staff's Italian.
USAGE = (
    "Uso: /registra AREA LINGUA [sportello|telefono] [SEDE], per esempio /registra permesso ar "
    "sportello luino; oppure /registra da solo, e scegli con i pulsanti."
)


@pytest.fixture
def memory() -> Memory:
    return Memory()


@pytest.fixture
def italian(interface: Interface) -> Translator:
    return interface.translator(STAFF_LANGUAGE)


@pytest.fixture
def staff(memory: Memory, italian: Translator, catalog: Catalog) -> StaffMonitoring:
    monitor = Monitor(memory, clock=lambda: NOW)
    return StaffMonitoring(
        monitor,
        memory,
        ROME,
        lambda: ["it", "ar", "ur"],
        italian,
        areas=lambda: catalog.desk.areas,
        clock=lambda: NOW,
        offices=lambda: ["luino", "cittiglio"],
        office_name=lambda office: f"Sportello di {office.capitalize()}",
    )


@pytest.mark.parametrize(
    ("arguments", "area", "language", "channel"),
    [
        ("permesso ar sportello", "permits", "ar", "desk"),
        ("Cittadinanza UR telefono", "citizenship", "ur", "phone"),
        ("family_reunification wo", "family_reunification", "wo", "desk"),  # Wolof: any language
        ("a2 bn tel", "a2_test", "bn", "phone"),
    ],
)
async def test_one_line_logging(
    staff: StaffMonitoring, memory: Memory, arguments: str, area: str, language: str, channel: str
) -> None:
    step = await staff.log_command(arguments)
    assert step.text.startswith("Registrata: consultazione")
    assert step.buttons == ()
    (event,) = memory.events
    assert (event.kind, event.action, event.area, event.language, event.channel) == (
        "desk",
        "logged",
        area,
        language,
        channel,
    )
    assert event.user is None and event.hour == datetime(2026, 1, 31, 18, 0, tzinfo=ROME)


@pytest.mark.parametrize(
    "arguments",
    [
        "pizza ar",
        "permesso klingon",
        "permesso ar piscina",
        "permesso ar desk varese",  # not an office
        "permesso ar desk luino extra",
    ],
)
async def test_wrong_words_get_the_usage(
    staff: StaffMonitoring, memory: Memory, arguments: str
) -> None:
    assert (await staff.log_command(arguments)).text == USAGE
    assert memory.events == []


async def test_one_line_logging_with_the_office(staff: StaffMonitoring, memory: Memory) -> None:
    step = await staff.log_command("casa sq telefono Cittiglio")
    assert step.text == (
        "Registrata: consultazione al telefono (Sportello di Cittiglio), Casa, albanese."
    )
    (event,) = memory.events
    assert (event.area, event.language, event.channel, event.office) == (
        "housing",
        "sq",
        "phone",
        "cittiglio",
    )


async def test_guided_logging_area_language_channel(staff: StaffMonitoring, memory: Memory) -> None:
    areas = await staff.log_command("")
    assert ("Permesso di soggiorno", "reg:permits") in areas.buttons
    assert len(areas.buttons) == 15
    languages = await staff.step("reg:permits")
    assert languages.buttons == (
        ("italiano", "reg:permits:it"),
        ("arabo", "reg:permits:ar"),
        ("urdu", "reg:permits:ur"),
    )
    channels = await staff.step("reg:permits:ar")
    assert channels.buttons == (
        ("allo sportello", "reg:permits:ar:desk"),
        ("al telefono", "reg:permits:ar:phone"),
    )
    assert memory.events == []
    done = await staff.step("reg:permits:ar:phone")
    assert done.text == "Registrata: consultazione al telefono, Permesso di soggiorno, arabo."
    assert [(e.area, e.language, e.channel) for e in memory.events] == [("permits", "ar", "phone")]
    for forged in ("reg:nowhere", "reg:permits:xx", "reg:permits:ar:mars", "reg:a:b:c:d:e"):
        assert (await staff.step(forged)).text == USAGE
    assert len(memory.events) == 1


async def test_the_month_so_far(italian: Translator, catalog: Catalog) -> None:
    memory = Memory(pseudonymous_events())
    staff = StaffMonitoring(
        Monitor(memory),
        memory,
        ROME,
        lambda: ["it"],
        italian,
        areas=lambda: catalog.desk.areas,
        clock=lambda: NOW,
    )
    assert await staff.month() == "\n".join(
        [
            "📊 Gennaio 2026, fino a oggi:",
            "consultazioni 5 (Telegram 3, WhatsApp 2), utenti 4",
            "aree: Permesso di soggiorno 3, (nessuna) 1, Ricongiungimento familiare 1",
            "lingue: arabo 2, francese 2, italiano 1",
            "appuntamenti prenotati 4, presenti 2, assenti 1 (33% di assenze)",
            "domande senza risposta diretta 2",
            "richieste di parlare con una persona 1, risposta mediana 5 min",
            "promemoria di scadenze impostati 3 (permit_renewal 2, anagrafe_update 1), inviati 0",
        ]
    )


def test_the_month_says_how_many_more_languages_and_areas_there_are(
    italian: Translator, catalog: Catalog
) -> None:
    quarter = summarise(pseudonymous_events(), ROME, date(2026, 1, 1), date(2026, 3, 31))
    names = area_namer(catalog.desk.areas)
    lines = month_message(quarter, date(2026, 3, 31), italian, names).splitlines()
    assert lines[2] == "aree: Permesso di soggiorno 5, (nessuna) 2, Cittadinanza 2 e un'altra"
    assert lines[3] == "lingue: arabo 3, francese 3, inglese 1 e altre 3"
    assert sum(quarter.by_language.values()) == quarter.consultations  # the rest is in the total


async def test_the_areas_are_the_contents_and_old_ones_still_show(
    memory: Memory, italian: Translator
) -> None:
    """Another counter's areas (desk.yaml): those are offered and typed; an area of an older
    content, still in the month's events, shows as its id."""
    areas = (Area("jobs", "Lavoro e formazione", ("lavoro",)), Area("home", "Casa"))
    memory.events.extend(
        [event for event in pseudonymous_events() if event.hour.month == 1 and event.area]
    )
    staff = StaffMonitoring(
        Monitor(memory, clock=lambda: NOW),
        memory,
        ROME,
        lambda: ["it"],
        italian,
        areas=lambda: areas,
        clock=lambda: NOW,
        offices=lambda: ["como"],
    )
    guided = await staff.log_command("")
    assert guided.buttons == (("Lavoro e formazione", "reg:jobs"), ("Casa", "reg:home"))
    logged = await staff.log_command("lavoro fr")
    assert logged.text == "Registrata: consultazione allo sportello, Lavoro e formazione, francese."
    refused = await staff.log_command("permesso ar")  # the other counter's word
    assert "per esempio /registra lavoro ar sportello como;" in refused.text
    month = await staff.month()
    assert "Lavoro e formazione 1" in month and "permits" in month
