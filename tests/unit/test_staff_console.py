"""The staff console: which commands there are, what they answer, in the staff's Italian."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import pytest

from bot.booking.handover import HandoverDesk
from bot.booking.service import BookingDesk, StaffUpdate
from bot.content.catalog import Catalog
from bot.i18n import STAFF_LANGUAGE, Interface
from bot.staff import StaffAnswer, StaffConsole, StaffFile
from bot.storage.records import Appointment

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=ROME)


class Desk:
    """The booking desk's staff side, recording what it is asked."""

    timezone = ROME

    def __init__(self) -> None:
        self.asked: list[tuple[Any, ...]] = []
        self.store = self

    def now(self) -> datetime:
        return NOW

    async def appointments(self, day: date, days: int = 1) -> list[Appointment]:
        self.asked.append(("agenda", day, days))
        return []

    async def by_code(self, code: str) -> Appointment | None:
        return None

    async def between(self, start: datetime, end: datetime) -> list[Appointment]:
        self.asked.append(("between", start, end))
        return []

    async def close(self, catalog: Catalog, first: date, last: date) -> int:
        self.asked.append(("close", first, last))
        return 2

    async def export(self, first: date, last: date) -> bytes:
        self.asked.append(("export", first, last))
        return b"code,office\n"

    async def staff_update(self, code: str, action: str) -> StaffUpdate | None:
        self.asked.append(("update", code, action))
        outcomes = {
            "cancel": StaffUpdate(code, "done", "cancelled"),
            "attended": StaffUpdate(code, "already", "no_show"),
            "no_show": StaffUpdate(code, "too_early", "active"),
        }
        return outcomes.get(action)


class Conversations:
    """The handover desk's staff side: conversation 7 answers to the bot's message "70"."""

    def __init__(self) -> None:
        self.store = self
        self.asked: list[tuple[Any, ...]] = []

    async def by_staff_message(self, channel: str, recipient: str, message_id: str) -> int | None:
        return 7 if message_id == "70" else None

    async def answer(self, number: int, text: str) -> str:
        self.asked.append(("answer", number, text))
        return f"sent #{number}"

    async def close_for_staff(self, number: int) -> str:
        self.asked.append(("close", number))
        return f"closed #{number}"


@pytest.fixture
def desk() -> Desk:
    return Desk()


@pytest.fixture
def conversations() -> Conversations:
    return Conversations()


@pytest.fixture
def console(
    interface: Interface, catalog: Catalog, desk: Desk, conversations: Conversations
) -> StaffConsole:
    return StaffConsole(
        interface.translator(STAFF_LANGUAGE),
        desk=cast(BookingDesk, desk),
        catalog=lambda: catalog,
        handovers=cast(HandoverDesk, conversations),
    )


async def run(console: StaffConsole, name: str, arguments: str = "") -> StaffAnswer:
    (command,) = [command for command in console.commands if name in command.names]
    return await command.run(arguments)


def test_commands_have_italian_names_and_english_aliases(console: StaffConsole) -> None:
    assert [command.names for command in console.commands] == [
        ("oggi", "today"),
        ("domani", "tomorrow"),
        ("settimana", "week"),
        ("chiudi", "close"),
        ("cerca", "find"),
        ("esporta", "export"),
    ]


def test_without_bookings_there_are_no_booking_commands(interface: Interface) -> None:
    console = StaffConsole(interface.translator(STAFF_LANGUAGE))
    assert console.commands == ()
    assert console.help().text.startswith("Comandi del personale: /status")


async def test_the_agenda_of_today_tomorrow_and_the_week(console: StaffConsole, desk: Desk) -> None:
    assert (await run(console, "oggi")).text == "Agenda di lunedì 30 novembre: nessun appuntamento."
    tomorrow = await run(console, "tomorrow")
    assert tomorrow.text == "Agenda di martedì 1 dicembre: nessun appuntamento."
    week = await run(console, "settimana")
    assert week.text.startswith("Agenda di lunedì 30 novembre e dei 6 giorni seguenti")
    assert desk.asked == [
        ("agenda", date(2026, 11, 30), 1),
        ("agenda", date(2026, 12, 1), 1),
        ("agenda", date(2026, 11, 30), 7),
    ]


async def test_close_explains_its_usage_and_limits_in_italian(
    console: StaffConsole, desk: Desk
) -> None:
    usage = await run(console, "chiudi", "domani")
    assert usage.text == "Uso: /chiudi 2026-12-24 oppure /chiudi 2026-12-24 2026-12-31"
    too_long = await run(console, "close", "2026-12-01 2027-06-30")
    assert too_long.text == "Al massimo 92 giorni alla volta, entro due anni da oggi."
    assert desk.asked == []
    closed = await run(console, "chiudi", "2026-12-24 2026-12-31")
    assert closed.text == (
        "Chiuso: 24 dicembre – 31 dicembre. Appuntamenti annullati e utenti avvisati: 2."
    )
    assert desk.asked == [("close", date(2026, 12, 24), date(2026, 12, 31))]


async def test_export_sends_this_months_file_by_default(console: StaffConsole, desk: Desk) -> None:
    answer = await run(console, "esporta")
    assert answer == StaffAnswer(
        file=StaffFile(b"code,office\n", "appuntamenti-2026-11-01-2026-11-30.csv")
    )
    usage = await run(console, "export", "novembre")
    assert usage.text == "Uso: /esporta 2026-11-01 2026-11-30" and usage.file is None


async def test_find_takes_the_words_as_typed(console: StaffConsole, desk: Desk) -> None:
    answer = await run(console, "cerca", " 333 1234567 ")
    assert answer.text == "Nessun appuntamento attivo per 333 1234567."
    assert (await run(console, "find", "12")).text.startswith("Scrivi un codice (LU-4K7P)")


def test_buttons_under_staff_notices_are_in_italian(console: StaffConsole) -> None:
    assert console.notice_buttons("LU-4K7P", None) == (
        (
            ("attended:LU-4K7P", "✅ Presente"),
            ("no_show:LU-4K7P", "🚫 Assente"),
            ("cancel:LU-4K7P", "❌ Annulla"),
        ),
    )
    assert console.notice_buttons(None, 7) == ((("hclose:7", "🔚 Chiudi la conversazione"),),)
    assert console.notice_buttons("", None) == ()


async def test_buttons_only_for_staff(
    console: StaffConsole, desk: Desk, conversations: Conversations
) -> None:
    assert await console.button("cancel:LU-4K7P", staff=False) is None
    assert desk.asked == []
    answer = await console.button("cancel:LU-4K7P", staff=True)
    assert answer == StaffAnswer("LU-4K7P: annullato.")
    already = await console.button("attended:LU-4K7P", staff=True)
    assert already == StaffAnswer("LU-4K7P: già segnato (assente).")
    early = await console.button("no_show:LU-4K7P", staff=True)
    assert early == StaffAnswer(
        "LU-4K7P: presente o assente si segna dall'ora dell'appuntamento in poi."
    )
    assert await console.button("lost:LU-4K7P", staff=True) is None
    assert await console.button("hclose:²", staff=True) is None  # not a number SQLite takes
    assert (await console.button("hclose:7", staff=True)) == StaffAnswer("closed #7")
    assert conversations.asked == [("close", 7)]


async def test_replies_to_a_conversation(
    console: StaffConsole, conversations: Conversations
) -> None:
    async def reply(text: str, edited: bool = False, staff: bool = True) -> StaffAnswer | None:
        return await console.reply("telegram", "-100", "70", text, edited=edited, staff=staff)

    assert await reply(" Venga lunedì ") == StaffAnswer("sent #7")
    assert conversations.asked == [("answer", 7, "Venga lunedì")]
    edited = await reply("Venga martedì", edited=True)
    assert edited == StaffAnswer(
        "Le modifiche non arrivano all'utente: inviate una nuova risposta."
    )
    photo = await reply("")
    assert photo == StaffAnswer("Solo testo: foto e file non vengono inoltrati all'utente.")
    stranger = await reply("ciao", staff=False)
    assert stranger is not None and stranger.text.startswith("Spiacente, solo il personale")
    assert await reply("/fine") == StaffAnswer("closed #7")
    assert conversations.asked[1:] == [("close", 7)]


async def test_a_reply_to_no_conversation(console: StaffConsole) -> None:
    async def reply(text: str, edited: bool = False, staff: bool = True) -> StaffAnswer | None:
        return await console.reply("telegram", "-100", "71", text, edited=edited, staff=staff)

    told = await reply("Chi la chiama?")
    assert told is not None and told.text.startswith("⚠️ Questa risposta non arriva")
    # A command runs as any other; strangers and edits get nothing.
    assert await reply("/oggi") is None
    assert await reply("ciao", staff=False) is None
    assert await reply("ciao", edited=True) is None


def test_status_and_the_user_who_blocked_the_bot(console: StaffConsole) -> None:
    assert console.status("polling", ["it", "en"]) == StaffAnswer(
        "Il bot è attivo (polling). Lingue: it, en."
    )
    told = console.unreachable("Telegram", "conversazione #7")
    assert told.text.startswith("Telegram: un messaggio (conversazione #7) non è arrivato")
    assert console.unreachable("Telegram", None).text.startswith(
        "Telegram: un messaggio non è arrivato"
    )
