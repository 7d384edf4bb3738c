"""The checklist dialogue through the engine: on its own, and before a booking, whose
confirmation and reminder carry the list; its answers erased with the user's data."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.booking.notices import NoticeRouter
from bot.booking.reminders import Reminders
from bot.booking.service import BookingDesk
from bot.content.catalog import Catalog
from bot.content.loader import load_catalog
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore
from bot.i18n import Interface
from bot.reach import UNPROMPTED
from bot.storage.appointments import AppointmentStore
from bot.storage.db import Database
from bot.storage.outbox import Outbox
from bot.storage.retention import erase_user, purge
from tests.auxil.chat import Conversation
from tests.auxil.checklists import add_checklist
from tests.conftest import TODAY

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=ROME)  # a Wednesday: Luino opens 09:00-12:30


@pytest.fixture
def with_list(content_copy: Path) -> Catalog:
    add_checklist(content_copy)
    return load_catalog(content_copy, today=TODAY)


@pytest.fixture
def desk(database: Database) -> BookingDesk:
    router = NoticeRouter(staff=[("staff", "group")], channels={"test": UNPROMPTED})
    return BookingDesk(
        AppointmentStore(database), ROME, clock=lambda: NOW, queue=Outbox(database), router=router
    )


@pytest.fixture
def chat(with_list: Catalog, interface: Interface, desk: BookingDesk) -> Conversation:
    return Conversation(Engine(lambda: with_list, MemoryStateStore(), interface, desk=desk))


async def test_on_its_own_with_buttons_typed_answers_and_a_skip(chat: Conversation) -> None:
    await chat.start(hint="en")
    reply = await chat.press("cl:start")  # the only service with a list: straight to it
    assert "**Documents to bring: Permit renewal**" in reply.text
    assert "(1/2) Which permit do you have?" in reply.text
    assert chat.labels() == ["Employed work", "Family", "Skip", "Main menu"]
    reply = await chat.send("lavoro")  # a word of the Italian label, typed
    assert "(2/2) Do you have the kit?" in reply.text
    reply = await chat.send("Skip")
    assert reply.text.startswith("**Documents to bring: Permit renewal**")
    assert "- Passport and a photocopy (passaporto)" in reply.text
    assert "Also, if it applies to you:\n- Form 2 of the kit (Modulo 2 del kit)" in reply.text
    assert "family" not in reply.text.lower()  # ruled out by the answer "work"
    assert "Official sources:\n- Portale Immigrazione - kit postale: https://" in reply.text
    assert chat.ids() == ["cl:book:permit_renewal", "nav:home"]


async def test_something_else_typed_asks_again_and_menu_leaves(chat: Conversation) -> None:
    await chat.start(hint="en")
    await chat.press("cl:svc:permit_renewal")
    reply = await chat.send("hmm, not sure")
    assert reply.text.startswith("Sorry, I did not understand. Please choose an answer, or skip.")
    assert "(1/2) Which permit do you have?" in reply.text
    assert chat.ids()[:2] == ["cl:a:permit:work", "cl:a:permit:family"]
    reply = await chat.send("menu")
    assert reply.text.startswith("**Main menu**")
    stale = await chat.press("cl:a:permit:work")  # a button from before
    assert stale.text.startswith("That option is no longer available.")


async def test_a_booking_asks_first_then_confirms_and_reminds_with_the_list(
    chat: Conversation,
    desk: BookingDesk,
    database: Database,
    with_list: Catalog,
    interface: Interface,
) -> None:
    await chat.start(hint="en")
    await chat.send("I want an appointment")
    assert chat.ids()[0] == "bk:svc:permit_renewal"
    reply = await chat.send("1")  # the service: its questions come first
    assert "(1/2) Which permit do you have?" in reply.text
    await chat.send("2")  # Family
    reply = await chat.press("cl:a:kit:yes")
    assert chat.ids()[0].startswith("bk:day:")  # then the booking goes on
    await chat.send("1")
    await chat.send("1")
    await chat.send("Amina Rossi")
    summary = await chat.send("333 1234567")
    assert "**Bring with you:**\n- Passport and a photocopy (passaporto)" in summary.text
    assert "- Papers about your family (documenti sulla famiglia)" in summary.text
    assert "Form 2" not in summary.text
    assert "Your answers about the documents are kept with the appointment only" in summary.text
    confirmed = await chat.send("1")
    assert "LU-" in confirmed.text
    assert "- Papers about your family (documenti sulla famiglia)" in confirmed.text
    code = "LU-" + confirmed.text.split("LU-", 1)[1][:4]
    assert await desk.store.checklists.of(code) == "kit=yes;permit=family"

    later = datetime(2026, 11, 24, 18, 30, tzinfo=ROME)  # the evening before
    reminding = BookingDesk(
        desk.store, ROME, clock=lambda: later, queue=desk.queue, router=desk.router
    )
    reminders = Reminders(reminding, lambda: with_list, interface, hour=18)
    assert await reminders.run_once() == 1
    assert isinstance(desk.queue, Outbox)
    (reminder,) = [m.payload["notice"]["text"] for m in await desk.queue.pending("test")]
    assert "Reminder:" in reminder
    assert "- Papers about your family (documenti sulla famiglia)" in reminder
    assert "Form 2" not in reminder

    # Erasing the user's data takes the answers with it.
    await erase_user(database, "test", "u1")
    assert await desk.store.checklists.of(code) == ""


async def test_skipping_every_question_books_with_the_whole_list(
    chat: Conversation, desk: BookingDesk
) -> None:
    await chat.start(hint="it")
    await chat.send("vorrei un appuntamento")
    await chat.send("1")
    await chat.press("cl:skip:permit")
    await chat.press("cl:skip:kit")
    for answer in ("1", "1", "Amina Rossi", "333 1234567"):
        summary = await chat.send(answer)
    assert "- Passaporto e fotocopia\n\nE, se ti riguarda:" in summary.text
    assert "- Il Modulo 2 del kit\n- I documenti sulla famiglia" in summary.text
    assert "Le tue risposte sui documenti" not in summary.text  # none given, none kept
    confirmed = await chat.send("1")
    code = "LU-" + confirmed.text.split("LU-", 1)[1][:4]
    assert await desk.store.checklists.of(code) == ""  # nothing answered, nothing kept


async def test_the_list_then_book_keeps_the_answers(chat: Conversation) -> None:
    await chat.start(hint="en")
    await chat.press("cl:svc:permit_renewal")
    await chat.press("cl:a:permit:work")
    await chat.press("cl:a:kit:no")
    await chat.press("cl:book:permit_renewal")
    assert chat.ids()[0].startswith("bk:day:")  # no questions again
    for answer in ("1", "1", "Amina Rossi"):
        await chat.send(answer)
    summary = await chat.send("333 1234567")
    assert "Form 2" not in summary.text and "Passport" in summary.text


async def test_answers_of_an_appointment_no_longer_coming_are_purged(
    chat: Conversation, desk: BookingDesk, database: Database
) -> None:
    await desk.store.checklists.keep("LU-GONE", "permit=work")
    await desk.store.checklists.keep("lu-kept", "permit=family")
    start = datetime(2026, 12, 2, 10, 0, tzinfo=ROME)
    booked = await desk.store.book(
        office="luino",
        service="permit_renewal",
        starts_at=start,
        ends_at=start,
        capacity=1,
        max_active=2,
        channel="test",
        user_id="u9",
        name="A",
        phone="1",
        language="it",
        code_prefix="LU",
        now=NOW,
    )
    await desk.store.checklists.keep(booked.code, "permit=family")
    removed = await purge(database, retention_days=90)
    assert removed["checklist_answers"] == 2  # no appointment or request holds those codes
    assert await desk.store.checklists.of(booked.code) == "permit=family"


async def test_erasing_takes_the_answers_of_a_declined_request_too(
    desk: BookingDesk, database: Database
) -> None:
    from bot.storage.requests import RequestStore

    requests = RequestStore(database)
    made = []
    for service in ("family_reunification", "permit_renewal"):
        made.append(
            await requests.create(
                office="luino",
                service=service,
                channel="test",
                user_id="u7",
                language="it",
                speaks="it",
                days=(),
                part="any",
                name="A",
                phone="1",
                code_prefix="LU",
                max_active=5,
                now=NOW,
                notices=lambda request: [],
            )
        )
        await desk.store.checklists.keep(made[-1].code, "who=parents")
    assert made[0].code != made[1].code
    assert await requests.decline(made[0].code, NOW, lambda request: []) is not None
    await desk.store.checklists.keep("LU-OTHR", "who=spouse")  # someone else's
    await erase_user(database, "test", "u7")
    assert [await desk.store.checklists.of(request.code) for request in made] == ["", ""]
    assert await desk.store.checklists.of("LU-OTHR") == "who=spouse"
