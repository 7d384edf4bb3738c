"""Appointment requests through the engine and the staff console, on a real SQLite store and
the fixture content (Luino books renewals by slots and takes family reunification on
request)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.booking.handover import HandoverDesk
from bot.booking.notices import NoticeRouter
from bot.booking.requests import RequestDesk
from bot.booking.service import BookingDesk
from bot.content.catalog import Catalog
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore
from bot.i18n import Interface
from bot.reach import UNPROMPTED
from bot.staff.requests import RequestConsole
from bot.storage.appointments import AppointmentStore
from bot.storage.db import Database
from bot.storage.handovers import HandoverStore
from bot.storage.outbox import Outbox
from bot.storage.requests import RequestStore
from tests.auxil.chat import Conversation

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ROME)  # a Wednesday


@dataclass
class Counter:
    """Everything a test needs: the user's chat, the staff console, the outbox, the clock."""

    chat: Conversation
    console: RequestConsole
    desk: RequestDesk
    outbox: Outbox
    clock: list[datetime]
    content: list[Catalog]  # the catalog the bot reads now (a test may change it)

    async def staff(self) -> list[dict[str, Any]]:
        return [m.payload["notice"] for m in await self.outbox.pending("staff")]

    async def told(self) -> list[dict[str, Any]]:
        """What the user was sent besides their replies (proposals, refusals...)."""
        return [m.payload["notice"] for m in await self.outbox.pending("test")]


@pytest.fixture
async def counter(
    database_target: str, catalog: Catalog, interface: Interface
) -> AsyncIterator[Counter]:
    async with Database(database_target) as database:
        clock = [NOW]
        content = [catalog]
        outbox = Outbox(database)
        router = NoticeRouter(staff=[("staff", "group")], channels={"test": UNPROMPTED})
        booking = BookingDesk(
            AppointmentStore(database), ROME, clock=lambda: clock[0], queue=outbox, router=router
        )
        handovers = HandoverDesk(HandoverStore(database), router, interface)
        store = MemoryStateStore()
        engine: Engine | None = None

        async def offer(*args: Any) -> None:
            assert engine is not None
            await engine.offer(*args)

        desk = RequestDesk(
            RequestStore(database), booking, handovers, interface, lambda: content[0], offer
        )
        engine = Engine(
            lambda: content[0], store, interface, desk=booking, handovers=handovers, requests=desk
        )
        handovers.on_answer = engine.converse
        yield Counter(Conversation(engine), RequestConsole(desk), desk, outbox, clock, content)


async def request_up_to_the_summary(chat: Conversation, language: str = "it") -> None:
    await chat.start(hint=language)
    await chat.send("vorrei un appuntamento")
    assert chat.ids()[:2] == ["bk:svc:permit_renewal", "bk:svc:family_reunification"]
    await chat.press("bk:svc:family_reunification")  # Luino takes it on request
    assert chat.ids()[0] == "rq:asap"
    await chat.press("rq:day:mon")
    await chat.press("rq:day:wed")
    await chat.press("rq:day:fri")
    await chat.press("rq:day:fri")  # a second tap takes Friday away
    assert chat.labels()[1:4] == ["✓ lunedì", "martedì", "✓ mercoledì"]
    await chat.press("rq:daysdone")
    await chat.press("rq:part:morning")
    assert chat.ids()[0] == f"rq:speaks:{language}"  # their own language first
    await chat.press("rq:speaks:fr")
    await chat.send("Amina Rossi")
    await chat.send("333 1234567")


async def send_a_request(counter: Counter) -> str:
    await request_up_to_the_summary(counter.chat)
    reply = await counter.chat.press("rq:send")
    return "LU-" + reply.text.split("LU-", 1)[1][:4]


async def test_a_request_from_the_service_to_its_code(counter: Counter) -> None:
    await request_up_to_the_summary(counter.chat)
    summary = counter.chat.last
    assert summary is not None
    assert "Quando puoi venire: lunedì, mercoledì; mattina" in summary.text
    assert "Lingua allo sportello: Français" in summary.text
    assert "Amina Rossi, +393331234567" in summary.text
    assert "Privacy" in summary.text and "documenti della casa" in summary.text
    assert counter.chat.ids()[0] == "rq:send"
    reply = await counter.chat.press("rq:send")
    code = "LU-" + reply.text.split("LU-", 1)[1][:4]
    assert "qui in questa chat" in reply.text
    (notice,) = await counter.staff()
    assert notice["text"].startswith(f"📝 Nuova richiesta {code}")
    assert "Quando può venire: lunedì, mercoledì; di mattina" in notice["text"]
    assert "Lingua per l'incontro: francese (chat in italiano, test)" in notice["text"]
    assert [button[0] for button in notice["buttons"][0]] == [
        f"rq:p:{code}",
        f"rq:q:{code}",
        f"rq:n:{code}",
    ]
    reply = await counter.chat.press("bk:mine")
    assert f"{code}: Ricongiungimento familiare — in attesa" in reply.text
    assert f"rq:withdraw:{code}" in counter.chat.ids()


async def test_days_and_the_part_of_the_day_can_be_typed(counter: Counter) -> None:
    chat = counter.chat
    await chat.start(hint="it")
    await chat.press("act:book:family_reunification")
    reply = await chat.send("boh")
    assert "non ho capito" in reply.text and "“lunedì, mercoledì”" in reply.text
    assert chat.ids()[0] == "rq:asap"  # the same choices again
    await chat.send("lunedì e giovedì pomeriggio")
    assert chat.ids()[0] == "rq:speaks:it"  # days and part in one go
    await chat.press("rq:speaks:it")
    await chat.send("Amina Rossi")
    reply = await chat.send("+39 333 1234567")
    assert "lunedì, giovedì; pomeriggio" in reply.text


async def test_as_soon_as_possible_skips_the_part_of_the_day(counter: Counter) -> None:
    chat = counter.chat
    await chat.start(hint="en")
    await chat.press("act:book:family_reunification")
    await chat.press("rq:asap")
    assert chat.ids()[0] == "rq:speaks:en"


async def test_staff_propose_with_the_buttons_and_the_user_accepts(counter: Counter) -> None:
    code = await send_a_request(counter)
    days = await counter.console.step(f"rq:p:{code}")
    assert days is not None
    labels = [label for label, _ in days.buttons]
    # Working days from today (the 25th), the user's days starred; not a holiday among them.
    assert labels[:4] == ["mer 25 nov ★", "gio 26 nov", "ven 27 nov", "lun 30 nov ★"]
    assert "mar 8 dic" not in labels  # the Immacolata
    times = await counter.console.step(f"rq:d:{code}:20261202")
    assert times is not None and times.columns == 4
    assert times.buttons[0] == ("09:00 ★", f"rq:t:{code}:202612020900")
    said = await counter.console.step(f"rq:t:{code}:202612021030")
    assert said is not None and "proposta inviata" in said.text
    (proposal,) = await counter.told()
    assert proposal["purpose"] == "request_proposal" and proposal["language"] == "it"
    assert "mercoledì 2 dicembre, 10:30" in proposal["text"]
    assert proposal["buttons"] == [
        [[f"rq:accept:{code}", "Sì, accetto"]],
        [[f"rq:other:{code}", "Mi serve un altro orario"]],
    ]
    assert proposal["variables"] == {
        "1": code,
        "2": "mercoledì 2 dicembre, 10:30",
        "3": "via Ronchetto 1, 21016 Luino (VA)",
        "4": "Ricongiungimento familiare",
    }
    # On WhatsApp the user answers with a number: the proposal's choices are offered.
    reply = await counter.chat.send("1")
    assert f"Il tuo codice è {code}" in reply.text
    (calendar,) = reply.attachments
    assert calendar.filename == f"{code}.ics" and b"DTSTART:20261202T093000Z" in calendar.data
    assert b"DTEND:20261202T101500Z" in calendar.data  # the service's 45 minutes
    booked = (await counter.staff())[-1]
    assert booked["text"].startswith(f"📅 Nuovo appuntamento (orario accettato) {code}")
    assert booked["code"] == code  # the appointment's buttons: attended, no-show, cancel
    reply = await counter.chat.press("bk:mine")
    assert f"{code}: Ricongiungimento familiare, mercoledì 2 dicembre, 10:30" in reply.text
    assert f"rq:move:{code}" in counter.chat.ids()  # moved by asking staff again


async def test_staff_propose_by_typing(counter: Counter) -> None:
    code = await send_a_request(counter)
    said = await counter.console.fix(f"{code.lower()} 3/12 9:15")
    assert "proposta inviata" in said and "giovedì 3 dicembre 2026 09:15" in said
    assert "è già passato" in await counter.console.fix(f"{code} oggi 9:00")
    assert "non è lavorativo" in await counter.console.fix(f"{code} 8/12 10:00")
    assert "non è lavorativo" in await counter.console.fix(f"{code} sabato 10:00")
    assert (await counter.console.fix(code)).startswith("Uso: /fissa")
    assert "nessuna richiesta" in await counter.console.fix("LU-XXXX 3/12 9:00")


async def test_another_time_goes_back_to_staff(counter: Counter) -> None:
    code = await send_a_request(counter)
    await counter.console.fix(f"{code} 3/12 9:15")
    reply = await counter.chat.press(f"rq:other:{code}")
    assert "ti proporrà un altro orario" in reply.text
    asked = (await counter.staff())[-1]
    assert asked["text"].startswith(f"🔄 L'utente chiede un altro orario per la richiesta {code}")
    assert asked["buttons"]
    request = await counter.desk.store.get(code)
    assert request is not None and request.status == "open"


async def test_a_proposal_accepted_too_late_goes_back_to_staff(counter: Counter) -> None:
    code = await send_a_request(counter)
    await counter.console.fix(f"{code} 26/11 9:00")
    counter.clock[0] = datetime(2026, 11, 26, 9, 30, tzinfo=ROME)
    reply = await counter.chat.press(f"rq:accept:{code}")
    assert "non è più valida" in reply.text
    assert "⌛ Proposta scaduta" in (await counter.staff())[-1]["text"]
    assert "è passato" in (await counter.told())[-1]["text"]
    request = await counter.desk.store.get(code)
    assert request is not None and request.status == "open"


async def test_a_proposal_on_a_day_closed_since_goes_back_to_staff(
    counter: Counter, catalog: Catalog
) -> None:
    code = await send_a_request(counter)
    await counter.console.fix(f"{code} 3/12 9:15")
    await counter.desk.booking.close(catalog, date(2026, 12, 3), date(2026, 12, 3))
    reply = await counter.chat.press(f"rq:accept:{code}")
    assert "non è più valida" in reply.text
    asked = (await counter.staff())[-1]
    assert (
        asked["text"].startswith("🚫 Il giorno proposto è stato chiuso") and code in asked["text"]
    )
    assert asked["buttons"]  # propose another time, ask, decline
    request = await counter.desk.store.get(code)
    assert request is not None and request.status == "open"
    assert await counter.desk.booking.store.active_for("test", "u1", NOW) == []


async def test_proposals_left_unanswered_expire_when_their_time_comes(counter: Counter) -> None:
    code = await send_a_request(counter)
    await counter.console.fix(f"{code} 26/11 9:00")
    assert await counter.desk.expire_passed() == 0
    counter.clock[0] = datetime(2026, 11, 26, 9, 0, tzinfo=ROME)
    assert await counter.desk.expire_passed() == 1
    request = await counter.desk.store.get(code)
    assert request is not None and request.status == "open"


async def test_staff_decline_with_a_reason_the_user_reads_in_their_language(
    counter: Counter,
) -> None:
    chat = counter.chat
    await chat.start(hint="fr")
    await chat.press("act:book:family_reunification")
    await chat.press("rq:asap")
    await chat.press("rq:speaks:fr")
    await chat.send("Amina Rossi")
    await chat.send("333 1234567")
    reply = await chat.press("rq:send")
    code = "LU-" + reply.text.split("LU-", 1)[1][:4]
    reasons = await counter.console.step(f"rq:n:{code}")
    assert reasons is not None and reasons.columns == 1
    assert [data for _, data in reasons.buttons][-1] == f"rq:r:{code}:other"
    said = await counter.console.step(f"rq:r:{code}:full")
    assert said is not None and "rifiutata" in said.text
    (declined,) = await counter.told()
    assert declined["purpose"] == "request_declined" and declined["language"] == "fr"
    assert f"ne peut pas vous donner de rendez-vous pour votre demande {code}" in declined["text"]
    assert "Envoyez une nouvelle demande plus tard" in declined["text"]
    assert "0332 536727" in declined["text"]  # how to reach the counter
    assert declined["variables"] == {
        "1": code,
        "2": "Il n'y a pas de place libre dans les prochaines semaines. Envoyez une nouvelle "
        "demande plus tard.",
    }
    request = await counter.desk.store.get(code)
    assert request is not None and (request.status, request.name) == ("declined", None)


async def test_staff_decline_in_their_own_words_by_replying_to_the_prompt(
    counter: Counter,
) -> None:
    code = await send_a_request(counter)
    assert await counter.console.step(f"rq:r:{code}:other") is None  # a prompt, by the outbox
    prompt = (await counter.staff())[-1]
    assert prompt["reply_action"] == f"decline:{code}" and prompt["alone"] is True
    said = await counter.console.reply(prompt["reply_action"], "Serve prima il nulla osta.")
    assert "rifiutata" in said
    assert "Serve prima il nulla osta." in (await counter.told())[-1]["text"]


async def test_staff_ask_a_question_and_the_answer_comes_back(counter: Counter) -> None:
    code = await send_a_request(counter)
    assert await counter.console.step(f"rq:q:{code}") is None
    prompt = (await counter.staff())[-1]
    assert prompt["reply_action"] == f"ask:{code}"
    said = await counter.console.reply(prompt["reply_action"], "Hai già il nulla osta?")
    assert said.startswith("✉️ Domanda inviata")
    question = (await counter.told())[-1]
    assert f"Lo sportello ha una domanda sulla tua richiesta {code}:" in question["text"]
    assert "Hai già il nulla osta?" in question["text"] and question["purpose"] == "handover"
    # What the user writes back goes to the staff group, like a handover answer.
    reply = await counter.chat.send("Sì, ce l'ho")
    assert "Inviato" in reply.text or "inviato" in reply.text
    assert "Sì, ce l'ho" in (await counter.staff())[-1]["text"]


async def test_unanswered_requests_are_reminded_after_working_hours(counter: Counter) -> None:
    code = await send_a_request(counter)  # Wednesday 10:00; 8 working hours by Thursday 10:00
    counter.clock[0] = datetime(2026, 11, 25, 16, 0, tzinfo=ROME)
    assert await counter.desk.remind() == 0
    counter.clock[0] = datetime(2026, 11, 26, 10, 0, tzinfo=ROME)
    assert await counter.desk.remind() == 1
    reminder = (await counter.staff())[-1]
    assert reminder["text"].startswith(f"⏰ In attesa da 8 ore lavorative: {code}")
    assert reminder["buttons"]
    assert await counter.desk.remind() == 0  # once, until another 8 working hours
    counter.clock[0] = datetime(2026, 11, 26, 16, 0, tzinfo=ROME)
    assert await counter.desk.remind() == 0
    counter.clock[0] = datetime(2026, 11, 27, 10, 0, tzinfo=ROME)
    assert await counter.desk.remind() == 1
    listing = await counter.console.listing()
    assert f"{code}: Ricongiungimento familiare" in listing.text
    assert (f"📅 {code}", f"rq:p:{code}") in listing.buttons


async def test_the_user_withdraws_a_request(counter: Counter) -> None:
    code = await send_a_request(counter)
    reply = await counter.chat.press(f"rq:withdraw:{code}")
    assert f"Ritirare la richiesta {code}?" in reply.text
    reply = await counter.chat.press(f"rq:withdrawyes:{code}")
    assert f"La richiesta {code} è stata ritirata." in reply.text
    assert (await counter.staff())[-1]["text"] == f"↩️ Richiesta ritirata dall'utente: {code}"
    assert "non è più in attesa" in (await counter.console.step(f"rq:p:{code}")).text  # type: ignore[union-attr]


async def test_moving_an_appointment_made_from_a_request(counter: Counter) -> None:
    code = await send_a_request(counter)
    await counter.console.fix(f"{code} 2/12 10:30")
    await counter.chat.press(f"rq:accept:{code}")
    reply = await counter.chat.press(f"rq:move:{code}")
    assert "resta com'è finché non ne accetti uno nuovo" in reply.text
    assert "chiesto un altro orario" in reply.text
    asked = (await counter.staff())[-1]["text"]
    assert asked.startswith("🔁 Chiede di spostare l'appuntamento del mercoledì 2 dicembre 2026")
    assert "Amina Rossi, +393331234567" in asked  # from the appointment
    counter.clock[0] = datetime(2026, 11, 27, 10, 0, tzinfo=ROME)  # nobody answered
    assert await counter.desk.remind() == 1
    assert "Amina Rossi, +393331234567" in (await counter.staff())[-1]["text"]
    await counter.console.fix(f"{code} 4/12 11:00")
    reply = await counter.chat.press("bk:mine")
    assert "nuovo orario proposto: venerdì 4 dicembre, 11:00" in reply.text
    reply = await counter.chat.press(f"rq:accept:{code}")
    assert f"Il tuo appuntamento {code} è spostato a venerdì 4 dicembre, 11:00" in reply.text
    (calendar,) = reply.attachments
    assert b"DTSTART:20261204T100000Z" in calendar.data
    assert (await counter.staff())[-1]["text"].startswith("🔁 Appuntamento spostato")


async def test_the_limit_is_said_before_the_name(counter: Counter) -> None:
    await send_a_request(counter)
    chat = counter.chat
    await chat.send("menu")
    await chat.press("act:book:permit_renewal")  # a booking by slots counts the request too
    await chat.press("bk:day:2026-11-30")
    await chat.press("bk:time:20261130T0800")
    await chat.send("Amina Rossi")
    await chat.send("333 1234567")
    await chat.press("bk:confirm")
    reply = await chat.press("act:book:family_reunification")
    assert "il numero massimo di appuntamenti" in reply.text


async def test_without_a_chat_to_reach_the_user_the_counter_will_phone(
    counter: Counter,
) -> None:
    counter.chat.channel = "terminal"  # the terminal chat: nobody can write to it later
    await request_up_to_the_summary(counter.chat)
    reply = await counter.chat.press("rq:send")
    assert "Lo sportello ti telefonerà" in reply.text
    code = "LU-" + reply.text.split("LU-", 1)[1][:4]
    said = await counter.console.fix(f"{code} 2/12 10:30")
    assert "telefonate al +393331234567" in said


async def test_requests_are_not_offered_without_their_desk(
    catalog: Catalog, interface: Interface, database_target: str
) -> None:
    async with Database(database_target) as database:
        booking = BookingDesk(AppointmentStore(database), ROME, clock=lambda: NOW)
        chat = Conversation(Engine(lambda: catalog, MemoryStateStore(), interface, desk=booking))
        await chat.start(hint="it")
        await chat.send("vorrei un appuntamento")
        assert chat.ids() == ["bk:svc:permit_renewal", "nav:home"]


async def test_a_slot_button_from_an_old_message_books_nothing_for_a_request(
    counter: Counter,
) -> None:
    chat = counter.chat
    await chat.start(hint="it")
    await chat.press("act:book:family_reunification")  # a request: no slots for it
    reply = await chat.press("bk:day:2026-11-30")  # a day button from an earlier booking
    assert not any(i.startswith("bk:time:") for i in chat.ids())
    assert "Menu principale" in reply.text  # an old button leads to the main menu
    await chat.press("bk:time:20261130T0800")
    await chat.send("Amina Rossi")
    assert "bk:confirm" not in chat.ids()


async def test_an_office_whose_details_are_not_confirmed_says_so(
    counter: Counter, catalog: Catalog
) -> None:
    from dataclasses import replace

    unconfirmed = replace(catalog.offices[0], confirmed=False)
    counter.content[0] = replace(catalog, offices=(unconfirmed, catalog.offices[1]))
    await request_up_to_the_summary(counter.chat)
    summary = counter.chat.last
    assert summary is not None and "Questi dati non sono ancora confermati" in summary.text
    code = "LU-" + (await counter.chat.press("rq:send")).text.split("LU-", 1)[1][:4]
    await counter.console.fix(f"{code} 2/12 10:30")
    assert "Questi dati non sono ancora confermati" in (await counter.told())[-1]["text"]
