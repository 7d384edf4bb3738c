"""The booking dialogue through the engine, on a real SQLite store and the fixture content."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.booking.notices import NoticeRouter
from bot.booking.service import BookingDesk
from bot.content.catalog import Catalog
from bot.content.markup import literal
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore
from bot.i18n import STAFF_LANGUAGE, Interface
from bot.reach import UNPROMPTED, Reach
from bot.staff.agenda import StaffAgenda
from bot.storage.appointments import AppointmentStore
from bot.storage.db import Database
from bot.storage.outbox import Outbox
from bot.storage.records import Appointment, Notice
from tests.auxil.chat import Conversation

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=ROME)  # a Wednesday: Luino opens 09:00-12:30


@pytest.fixture
async def desk(database_target: str) -> AsyncIterator[BookingDesk]:
    async with Database(database_target) as database:
        router = NoticeRouter(staff=[("staff", "group")], channels={"test": UNPROMPTED})
        yield BookingDesk(
            AppointmentStore(database),
            ROME,
            clock=lambda: NOW,
            queue=Outbox(database),
            router=router,
        )


async def staff_texts(desk: BookingDesk) -> list[str]:
    """What the staff group was sent (queued in the outbox)."""
    assert isinstance(desk.queue, Outbox)
    return [message.payload["notice"]["text"] for message in await desk.queue.pending("staff")]


async def user_notices(desk: BookingDesk) -> list[dict[str, Any]]:
    """What users of the test channel were sent, besides their replies."""
    assert isinstance(desk.queue, Outbox)
    return [message.payload["notice"] for message in await desk.queue.pending("test")]


@pytest.fixture
def chat(catalog: Catalog, interface: Interface, desk: BookingDesk) -> Conversation:
    return Conversation(Engine(lambda: catalog, MemoryStateStore(), interface, desk=desk))


async def book_up_to_the_summary(chat: Conversation) -> None:
    await chat.start(hint="it")
    await chat.send("vorrei un appuntamento")
    assert chat.ids()[0] == "bk:svc:permit_renewal"
    await chat.send("1")  # the only service; the only office is chosen by itself
    assert chat.ids()[0] == "bk:day:2026-11-25"
    assert chat.labels()[0] == "mercoledì 25 novembre"
    await chat.send("1")
    assert chat.labels()[0] == "10:00"  # two hours' notice from 08:00
    await chat.send("1")
    reply = await chat.send("  Amina   Rossi ")
    assert "telefono" in reply.text
    reply = await chat.send("333 1234567")
    assert "Amina Rossi, +393331234567" in reply.text  # the phone, normalised
    assert "passaporto e permesso di soggiorno" in reply.text  # the documents to bring
    assert "Privacy" in reply.text and "90" in reply.text
    assert chat.ids()[0] == "bk:confirm"


async def test_a_hostile_name_is_exported_as_text_and_shown_as_typed(
    chat: Conversation, desk: BookingDesk
) -> None:
    await chat.start(hint="it")
    await chat.send("vorrei un appuntamento")
    for _ in range(3):  # the service, the day, the time
        await chat.send("1")
    # A formula for the counter's spreadsheet, bold marks, and a right-to-left override.
    typed = '=HYPERLINK("http://evil.example","**Clicca**")'
    await chat.send(typed + "\u202e")
    reply = await chat.send("333 1234567")
    assert f"- {literal(typed)}, +393331234567" in reply.text  # the summary: no bold
    await chat.send("1")
    (notice,) = await staff_texts(desk)
    assert literal(typed) in notice and "\u202e" not in notice
    exported = (await desk.export(NOW.date(), NOW.date())).decode("utf-8-sig")
    (_, row) = csv.reader(io.StringIO(exported))
    assert row[-2:] == [f"'{typed}", "'+393331234567"]


async def test_the_whole_booking_then_cancel(
    chat: Conversation, desk: BookingDesk, interface: Interface
) -> None:
    await book_up_to_the_summary(chat)
    reply = await chat.send("1")
    assert "LU-" in reply.text
    code = reply.text.split("LU-", 1)[1][:4]
    (calendar,) = reply.attachments
    assert calendar.filename == f"LU-{code}.ics" and calendar.media_type == "text/calendar"
    assert b"DTSTART:20261125T090000Z" in calendar.data  # 10:00 in Rome
    (booked,) = await staff_texts(desk)
    assert f"📅 Nuovo appuntamento LU-{code}" in booked and "Amina Rossi, +393331234567" in booked
    staff = StaffAgenda(interface.translator(STAFF_LANGUAGE), desk, chat.engine._catalog)
    agenda = await staff.days(NOW.date())
    assert agenda.startswith("Agenda di mercoledì 25 novembre: 1 appuntamenti")
    assert f"10:00 LU-{code} (luino) Rinnovo del permesso — Amina Rossi, +393331234567" in agenda
    week = await staff.days(NOW.date(), days=7)
    assert "e dei 6 giorni seguenti: 1 appuntamenti" in week and f"LU-{code}" in week
    assert f"LU-{code}" in await staff.find(f"lu-{code}")
    assert f"LU-{code}" in await staff.find("1234567")
    assert "Nessun appuntamento" in await staff.find("99999")
    assert "almeno 4 cifre" in await staff.find("12")
    exported = (await desk.export(NOW.date(), NOW.date())).decode("utf-8-sig").splitlines()
    row = f"LU-{code},luino,permit_renewal,2026-11-25,10:00,active,it,test"
    assert exported[1] == f"{row},Amina Rossi,'+393331234567"  # "+": a formula to Excel
    reply = await chat.press("bk:mine")
    assert f"LU-{code}" in reply.text
    await chat.press(f"bk:cancel:LU-{code}")
    reply = await chat.press(f"bk:cancelyes:LU-{code}")
    assert "annullat" in reply.text.lower()
    assert (
        "Nessun appuntamento" in reply.text
        or "non hai" in reply.text.lower()
        or chat.ids()[0] == "bk:svc:"
    )
    assert any("Annullato dall'utente" in text for text in await staff_texts(desk))


async def test_a_double_tap_on_confirm_books_once(chat: Conversation, desk: BookingDesk) -> None:
    await book_up_to_the_summary(chat)
    await chat.press("bk:confirm")
    await chat.press("bk:confirm")  # the draft is gone: nothing more is booked
    assert len(await desk.store.active_for("test", "u1", now=NOW)) == 1


async def test_the_same_booking_made_again_is_given_back_not_told_twice(
    chat: Conversation, desk: BookingDesk
) -> None:
    await book_up_to_the_summary(chat)
    first = await chat.send("1")
    code = "LU-" + first.text.split("LU-", 1)[1][:4]
    await book_up_to_the_summary(chat)  # the whole dialogue again, the same time
    start = datetime(2026, 11, 25, 10, 0, tzinfo=ROME)
    await desk.store.book(  # meanwhile someone takes the slot's other place: it is full now
        office="luino",
        service="permit_renewal",
        starts_at=start,
        ends_at=start,
        capacity=2,
        max_active=2,
        channel="test",
        user_id="x",
        name="X",
        phone="1",
        language="it",
        code_prefix="LU",
        now=NOW,
    )
    again = await chat.send("1")
    assert code in again.text  # their booking, not an apology
    assert [a.code for a in await desk.store.active_for("test", "u1", now=NOW)] == [code]
    assert len(await staff_texts(desk)) == 1  # staff were told once


async def test_a_day_closed_while_the_user_confirms_is_not_booked(
    chat: Conversation, desk: BookingDesk, catalog: Catalog
) -> None:
    await book_up_to_the_summary(chat)
    await desk.close(catalog, NOW.date(), NOW.date())  # staff close today meanwhile
    reply = await chat.send("1")
    assert "quell'orario non è più libero" in reply.text  # and fresh days
    assert await desk.store.active_for("test", "u1", now=NOW) == []


async def test_a_slot_taken_meanwhile_gets_an_apology_and_fresh_times(
    chat: Conversation, desk: BookingDesk
) -> None:
    await book_up_to_the_summary(chat)
    start = datetime(2026, 11, 25, 10, 0, tzinfo=ROME)
    for other in ("x", "y"):  # capacity 2
        await desk.store.book(
            office="luino",
            service="permit_renewal",
            starts_at=start,
            ends_at=start,
            capacity=2,
            max_active=2,
            channel="test",
            user_id=other,
            name=None,
            phone=None,
            language="it",
            code_prefix="LU",
        )
    reply = await chat.press("bk:confirm")
    assert "Spiacente" in reply.text or "someone" in reply.text
    assert chat.labels()[0] == "10:30"


@pytest.mark.parametrize("leave", ["menu", "indietro"])
async def test_leaving_in_the_middle_leaves_nothing_behind(
    chat: Conversation, desk: BookingDesk, leave: str
) -> None:
    await chat.start(hint="it")
    await chat.send("vorrei un appuntamento")
    await chat.send("1")
    await chat.send("1")
    await chat.send("1")
    await chat.send(leave)  # while the name is asked
    reply = await chat.send("Amina")  # now an ordinary message, not a name
    assert "Amina, " not in reply.text
    assert await desk.store.active_for("test", "u1", now=NOW) == []


async def test_name_and_phone_are_checked(chat: Conversation) -> None:
    await chat.start(hint="it")
    for step in ("vorrei un appuntamento", "1", "1", "1"):
        await chat.send(step)
    reply = await chat.send("R2D2")
    assert "senza numeri" in reply.text  # what is wrong, not only that something is
    reply = await chat.send("Amina " * 20)
    assert "troppo lungo" in reply.text and "80" in reply.text
    await chat.send("Amina")
    reply = await chat.send("chiamami")
    assert "333 1234567" in reply.text  # the example of a valid number


async def test_without_online_booking_the_counter_contacts_are_given(
    catalog: Catalog, interface: Interface
) -> None:
    chat = Conversation(Engine(lambda: catalog, MemoryStateStore(), interface))
    await chat.start(hint="it")
    reply = await chat.send("vorrei un appuntamento")
    assert "0332 536727" in reply.text


async def test_a_shared_contact_card_gives_the_phone(chat: Conversation) -> None:
    from bot.core.messages import Kind

    await chat.start(hint="it")
    for step in ("vorrei un appuntamento", "1", "1", "1", "Amina Rossi"):
        await chat.send(step)
    reply = await chat.send("+39 333 1234567", kind=Kind.CONTACT)
    assert "Amina Rossi, +393331234567" in reply.text


async def test_moving_keeps_the_code(chat: Conversation, desk: BookingDesk) -> None:
    await book_up_to_the_summary(chat)
    reply = await chat.send("1")
    code = "LU-" + reply.text.split("LU-", 1)[1][:4]
    await chat.press("bk:mine")
    assert chat.ids()[:2] == [f"bk:move:{code}", f"bk:cancel:{code}"]
    await chat.press(f"bk:move:{code}")
    await chat.send("1")  # the same day
    reply = await chat.send("2")  # the second time: 10:30
    assert f"{code} è spostato a mercoledì 25 novembre, 10:30" in reply.text
    (moved,) = await desk.store.active_for("test", "u1", now=NOW)
    assert moved.code == code
    assert moved.starts_at == datetime(2026, 11, 25, 10, 30, tzinfo=ROME)
    moved_notice = (await staff_texts(desk))[-1]
    assert f"spostato {code}" in moved_notice and "10:30" in moved_notice


async def test_staff_close_a_day_users_told_with_free_times(
    chat: Conversation, desk: BookingDesk, catalog: Catalog, interface: Interface
) -> None:
    from bot.booking.reminders import StaffCancellations

    desk.user_notices = StaffCancellations(lambda: catalog, interface)
    await book_up_to_the_summary(chat)
    reply = await chat.send("1")
    code = "LU-" + reply.text.split("LU-", 1)[1][:4]
    assert await desk.close(catalog, NOW.date(), NOW.date()) == 1  # cancelled, user told
    assert await desk.store.active_for("test", "u1", now=NOW) == []
    told = [(notice["purpose"], notice["text"]) for notice in await user_notices(desk)]
    ((purpose, text),) = told
    assert purpose == "staff_cancel" and code in text
    assert "lunedì 30 novembre, 09:00" in text  # the next free times, offered
    office = catalog.offices[0]
    assert all(slot.start.date() != NOW.date() for slot in await desk.slots(office))


async def test_a_user_erases_all_their_data(
    database_target: str, catalog: Catalog, interface: Interface
) -> None:
    from bot.storage.inbound import InboundLog
    from bot.storage.retention import erase_user
    from bot.storage.sessions import SqliteSessionStore

    async with Database(database_target) as database:
        store = AppointmentStore(database)
        sessions = SqliteSessionStore(database)
        later = datetime.now(ROME).replace(microsecond=0) + timedelta(days=5)
        await store.book(
            office="luino",
            service="permit_renewal",
            starts_at=later,
            ends_at=later,
            capacity=2,
            max_active=2,
            channel="test",
            user_id="u1",
            name="Amina Rossi",
            phone="333 1234567",
            language="it",
            code_prefix="LU",
            notices=lambda booked: [
                Notice("telegram", "-100", f"Nuovo {booked.code}: Amina Rossi", "staff")
            ],
        )
        await InboundLog(database).touch("test", "u1")
        from bot.storage.handovers import HandoverStore

        await HandoverStore(database).open(
            "test",
            "u1",
            "it",
            lambda handover, new: [
                Notice("telegram", "-100", "Ho perso il permesso", "staff", handover=handover.id)
            ],
        )
        await Outbox(database).add_notices([Notice("telegram", "-100", "Agenda: 0", "staff")])

        async def erase(channel: str, user_id: str) -> None:
            await erase_user(database, channel, user_id)

        engine = Engine(lambda: catalog, sessions, interface, erase=erase)
        chat = Conversation(engine)
        await chat.start(hint="it")
        reply = await chat.send("per favore cancella i miei dati")
        assert "appuntamenti futuri saranno annullati" in reply.text
        assert chat.ids()[0] == "act:erase"
        reply = await chat.send("1")
        assert "cancellati" in reply.text
        assert await sessions.get("test", "u1") is None  # not even the conversation is kept
        assert await InboundLog(database).last_inbound("test", "u1") is None
        (row,) = await store.between(
            later - timedelta(hours=1), later + timedelta(hours=1), statuses=None
        )
        assert (row.status, row.name, row.phone, row.user_id) == ("cancelled", None, None, "erased")
        # Our copies of the staff notices about them are gone too; others stay.
        left = [
            message.payload["notice"]["text"]
            for message in await Outbox(database).pending("telegram")
        ]
        assert left == ["Agenda: 0"]


# -- typed days and times, and the whole horizon --------------------------------------------


async def to_the_days(chat: Conversation, language: str = "it") -> None:
    await chat.start(hint=language)
    await chat.press("act:book:permit_renewal")
    assert chat.ids()[0] == "bk:day:2026-11-25"


@pytest.mark.parametrize(
    ("language", "day", "time", "times_title", "name_prompt"),
    [
        ("it", "mercoledì 2 dicembre", "alle 9:30", "mercoledì 2 dicembre", "nome"),
        ("en", "Monday", "2pm", "Monday 30 November", "name"),
        ("fr", "le 9 décembre", "10h30", "mercredi 9 décembre", "nom"),
        ("ar", "٧/١٢", "٩:٣٠", "الاثنين", "اسم"),
    ],
)
async def test_days_and_times_can_be_typed(
    chat: Conversation,
    language: str,
    day: str,
    time: str,
    times_title: str,
    name_prompt: str,
) -> None:
    await to_the_days(chat, language)
    reply = await chat.send(day)
    assert times_title in reply.text
    assert all(choice.startswith("bk:time:") for choice in chat.ids()[:-1])
    reply = await chat.send(time)
    assert name_prompt in reply.text.lower()
    reply = await chat.send("Amina Rossi")
    reply = await chat.send("333 1234567")
    assert chat.ids()[0] == "bk:confirm"


async def test_a_typed_day_and_time_together_go_straight_to_the_name(chat: Conversation) -> None:
    await to_the_days(chat)
    reply = await chat.send("lunedì 30 novembre alle 14")
    assert "nome" in reply.text
    await chat.send("Amina Rossi")
    reply = await chat.send("333 1234567")
    assert "lunedì 30 novembre, 14:00" in reply.text


async def test_something_else_gets_an_example_and_the_same_choices(chat: Conversation) -> None:
    await to_the_days(chat)
    days = chat.ids()
    reply = await chat.send("quanto costa il rinnovo?")
    assert "non ho capito il giorno" in reply.text and "“mercoledì”" in reply.text
    assert chat.ids() == days  # still in the booking, the same days offered
    await chat.send("mercoledì")
    times = chat.ids()
    reply = await chat.send("presto presto")
    assert "non ho capito l'orario" in reply.text and "“10:00”" in reply.text
    assert chat.ids() == times


async def test_a_day_or_time_that_is_not_free_is_said_and_the_others_offered(
    chat: Conversation,
) -> None:
    await to_the_days(chat)
    reply = await chat.send("domenica")
    assert "Non ci sono orari liberi domenica 29 novembre" in reply.text
    assert "bk:day:2026-11-30" in chat.ids()  # the page with the next free day
    await chat.send("mercoledì 2 dicembre")
    reply = await chat.send("15:00")
    assert "Nessun orario libero alle 15:00 mercoledì 2 dicembre" in reply.text
    assert chat.labels()[0] == "09:00"


async def test_the_afternoon_typed_keeps_the_days_and_times_of_the_afternoon(
    chat: Conversation,
) -> None:
    await to_the_days(chat)
    await chat.send("pomeriggio")
    assert chat.ids()[0] == "bk:day:2026-11-30"  # Wednesdays close at 12:30
    reply = await chat.send("1")
    assert chat.labels()[:2] == ["14:00", "14:30"]
    assert "lunedì 30 novembre" in reply.text


async def test_the_whole_horizon_is_reachable(chat: Conversation) -> None:
    await to_the_days(chat)
    assert "bk:days:1" in chat.ids()
    assert "bk:day:2026-12-21" not in chat.ids()
    await chat.press("bk:days:1")
    assert "bk:day:2026-12-21" in chat.ids() and "bk:days:0" in chat.ids()
    await chat.press("bk:days:0")
    reply = await chat.send("21/12")  # typed, from the first page: the last days too
    assert "lunedì 21 dicembre" in reply.text


async def test_the_limit_is_said_before_the_name_is_asked(
    chat: Conversation, desk: BookingDesk
) -> None:
    for hour in (10, 11):
        start = datetime(2026, 11, 30, hour, 0, tzinfo=ROME)
        await desk.store.book(
            office="luino",
            service="permit_renewal",
            starts_at=start,
            ends_at=start + timedelta(minutes=30),
            capacity=2,
            max_active=2,
            channel="test",
            user_id="u1",
            name="Amina Rossi",
            phone="+393331234567",
            language="it",
            code_prefix="LU",
            now=NOW,
        )
    await chat.start(hint="it")
    reply = await chat.press("act:book:permit_renewal")
    assert "il numero massimo di appuntamenti" in reply.text
    assert chat.ids()[0].startswith("bk:move:")  # their list, to move or cancel one


async def test_moving_sends_the_new_calendar_file(chat: Conversation) -> None:
    await book_up_to_the_summary(chat)
    reply = await chat.send("1")
    code = "LU-" + reply.text.split("LU-", 1)[1][:4]
    await chat.press(f"bk:move:{code}")
    reply = await chat.send("lunedì 30 novembre alle 9")
    (calendar,) = reply.attachments
    assert calendar.filename == f"{code}.ics"
    assert b"DTSTART:20261130T080000Z" in calendar.data  # 09:00 in Rome
    assert f"UID:{code}@sportello".encode() in calendar.data  # the same event, moved


async def book_and_start_moving(chat: Conversation) -> str:
    """Book Wednesday 25 at 10:00, then ask to move it: the free days are offered."""
    await book_up_to_the_summary(chat)
    reply = await chat.send("1")
    code = "LU-" + reply.text.split("LU-", 1)[1][:4]
    await chat.press(f"bk:move:{code}")
    assert chat.ids()[0] == "bk:day:2026-11-25"
    return code


async def still_at_ten(desk: BookingDesk, code: str) -> None:
    (kept,) = await desk.store.active_for("test", "u1", now=NOW)
    assert kept.code == code and kept.starts_at == datetime(2026, 11, 25, 10, 0, tzinfo=ROME)


async def test_a_stale_time_button_does_not_move_into_a_day_closed_meanwhile(
    chat: Conversation, desk: BookingDesk, catalog: Catalog
) -> None:
    code = await book_and_start_moving(chat)
    await chat.press("bk:day:2026-11-30")
    assert "bk:time:20261130T0800" in chat.ids()  # Monday 30, 09:00 in Rome
    await desk.close(catalog, date(2026, 11, 30), date(2026, 11, 30))  # staff close it
    reply = await chat.press("bk:time:20261130T0800")  # the button still on the screen
    assert "quell'orario non è più libero" in reply.text
    assert "bk:day:2026-12-02" in chat.ids() and "bk:day:2026-11-30" not in chat.ids()
    await still_at_ten(desk, code)


@pytest.mark.parametrize(
    "forged",
    [
        "20991230T0800",  # a Wednesday 2099: beyond the booking horizon
        "20261118T0800",  # last week
        "20261125T0730",  # today 08:30: before the two hours' notice
        "20261130T0810",  # 09:10: not a slot
        "20261129T0800",  # a Sunday: closed
        "20261224T0800",  # Christmas Eve: closed in the content
    ],
)
async def test_a_forged_time_neither_moves_nor_books(
    chat: Conversation, desk: BookingDesk, forged: str
) -> None:
    code = await book_and_start_moving(chat)
    reply = await chat.press(f"bk:time:{forged}")
    assert "quell'orario non è più libero" in reply.text
    assert all(choice.startswith(("bk:day", "bk:time", "nav:")) for choice in chat.ids())
    await still_at_ten(desk, code)
    # The same forged time for a new booking: no name is asked, nothing is booked.
    await chat.press("bk:svc:permit_renewal")
    await chat.press("bk:day:2026-11-30")
    reply = await chat.press(f"bk:time:{forged}")
    assert "quell'orario non è più libero" in reply.text and "nome" not in reply.text
    await still_at_ten(desk, code)


async def test_a_new_booking_on_a_day_closed_after_its_time_was_chosen_is_refused(
    chat: Conversation, desk: BookingDesk
) -> None:
    await book_up_to_the_summary(chat)  # Wednesday 25, 10:00
    # The closure lands between the flow's look at the calendar and the booking's
    # transaction: only the store's check inside that transaction can see it.
    await desk.store.close_days([date(2026, 11, 25)], ROME, no_notices)
    desk.store.closures = no_closures  # type: ignore[method-assign]  # a stale read
    reply = await chat.send("1")
    assert "quell'orario non è più libero" in reply.text
    assert await desk.store.active_for("test", "u1", now=NOW) == []


async def test_a_move_does_not_give_a_user_more_appointments_than_allowed(
    chat: Conversation, desk: BookingDesk
) -> None:
    def at(day: int, hour: int) -> datetime:
        return datetime(2026, 11, day, hour, 0, tzinfo=ROME)

    # Monday's appointment, never marked attended or missed: it no longer counts.
    begun = await desk.store.book(**store_booking(at(23, 9), "u1"), now=at(20, 9))
    for hour in (10, 11):
        await desk.store.book(**store_booking(at(30, hour), "u1"), now=NOW)
    await chat.start(hint="it")
    await chat.press(f"bk:move:{begun.code}")  # forged: it is not in the user's list
    await chat.press("bk:day:2026-12-02")
    await chat.press("bk:time:20261202T0900")
    held = await desk.store.active_for("test", "u1", now=NOW)
    assert len(held) == 2 and begun.code not in {a.code for a in held}


async def no_notices(appointment: Appointment) -> list[Notice]:
    return []


async def no_closures() -> frozenset[date]:
    return frozenset()


def store_booking(start: datetime, user: str) -> dict[str, Any]:
    return {
        "office": "luino",
        "service": "permit_renewal",
        "starts_at": start,
        "ends_at": start + timedelta(minutes=30),
        "capacity": 2,
        "max_active": 2,
        "channel": "test",
        "user_id": user,
        "name": "Amina Rossi",
        "phone": "+393331234567",
        "language": "it",
        "code_prefix": "LU",
    }


async def test_a_channel_whose_user_id_is_the_phone_is_not_asked_for_it(
    catalog: Catalog, interface: Interface, desk: BookingDesk
) -> None:
    """The engine asks the channel's Reach, given at construction, not its name."""
    by_phone = Reach(user_id_is_phone=True, files=False, window_hours=24, unprompted=True)
    engine = Engine(
        lambda: catalog, MemoryStateStore(), interface, desk=desk, reaches={"sms": by_phone}
    )
    chat = Conversation(engine, user_id="+393339876543", channel="sms")
    await chat.start(hint="it")
    await chat.send("vorrei un appuntamento")
    for _ in range(3):  # the service, the day, the time
        await chat.send("1")
    reply = await chat.send("Amina Rossi")
    assert "telefono" not in reply.text.split("\n")[0]
    assert "Amina Rossi, +393339876543" in reply.text
    assert chat.ids()[0] == "bk:confirm"
    # The same conversation on a channel that knows no phone asks for one.
    other = Conversation(engine, user_id="+393339876543", channel="test")
    await other.start(hint="it")
    await other.send("vorrei un appuntamento")
    for _ in range(3):
        await other.send("1")
    assert "telefono" in (await other.send("Amina Rossi")).text
