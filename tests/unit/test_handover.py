"""Talk to a person, through the engine: the user's messages reach staff as notices in the
outbox, a staff reply reaches the user, until one side closes the conversation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.booking.handover import HandoverDesk
from bot.booking.notices import NoticeRouter
from bot.content.catalog import Catalog
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore
from bot.i18n import Interface
from bot.reach import UNPROMPTED
from bot.storage.db import Database
from bot.storage.handovers import HandoverStore
from bot.storage.outbox import Outbox
from bot.storage.retention import erase_user
from tests.auxil.chat import Conversation


@pytest.fixture
def desk(database: Database, interface: Interface) -> HandoverDesk:
    router = NoticeRouter(staff=[("staff", "group")], channels={"test": UNPROMPTED})
    return HandoverDesk(HandoverStore(database), router, interface)


@pytest.fixture
def chat(catalog: Catalog, interface: Interface, desk: HandoverDesk) -> Conversation:
    engine = Engine(lambda: catalog, MemoryStateStore(), interface, handovers=desk)
    desk.on_answer = engine.converse
    return Conversation(engine)


async def notices(database: Database, channel: str) -> list[dict[str, Any]]:
    return [message.payload["notice"] for message in await Outbox(database).pending(channel)]


async def test_a_question_reaches_staff_and_the_reply_reaches_the_user(
    chat: Conversation, desk: HandoverDesk, database: Database
) -> None:
    await chat.start(hint="it")
    prompt = await chat.send("vorrei un operatore")
    assert "operatori dello sportello" in prompt.text
    reply = await chat.send("Ho perso il permesso di soggiorno")
    assert "inviato allo sportello" in reply.text
    assert chat.ids() == ["act:human:end", "nav:home"]
    (request,) = await notices(database, "staff")
    assert request["handover"] == 1 and request["purpose"] == "staff"
    assert "Ho perso il permesso di soggiorno" in request["text"]
    assert "lingua it, test" in request["text"]

    # The staff group's message id leads back to the conversation.
    (queued,) = await Outbox(database).pending("staff")
    await Outbox(database).mark_sent(queued.id, "77")
    number = await desk.store.by_staff_message("staff", "group", "77")
    assert number == 1
    assert await desk.answer(1, "Venga lunedì.") == "✉️ Inviato (#1)."
    (answer,) = await notices(database, "test")
    assert answer["purpose"] == "handover" and answer["variables"] == {"1": "Venga lunedì."}
    assert answer["text"] == "💬 Lo sportello risponde:\n\nVenga lunedì."
    handover = await desk.store.get(1)
    assert handover is not None and handover.answered_at is not None

    # The user goes on writing: same conversation; a number answers the counter's question
    # (the old menu choices are gone), "grazie" is for the person too; "menu" leaves.
    ack = await chat.send("Grazie, a che ora?")
    assert ack.text == "Inviato allo sportello."
    assert "Messaggio #1" in (await notices(database, "staff"))[-1]["text"]
    await desk.answer(1, "Quanti figli ha?")
    await chat.send("2")
    assert (await notices(database, "staff"))[-1]["text"].split("\n\n")[1] == "2"
    await chat.send("grazie")
    assert (await notices(database, "staff"))[-1]["text"].split("\n\n")[1] == "grazie"
    menu = await chat.send("menu")
    assert "Inviato" not in menu.text
    staff_count = len(await notices(database, "staff"))
    await chat.send("rinnovo del permesso di soggiorno")  # back in the menus: the bot answers
    assert len(await notices(database, "staff")) == staff_count

    # Staff close it: the user is told, and free text is answered by the bot again.
    assert await desk.close(1, by_staff=True)
    assert "chiuso questa conversazione" in (await notices(database, "test"))[-1]["text"]
    assert not await desk.close(1, by_staff=True)
    assert "è chiusa" in await desk.answer(1, "ancora")
    staff_count = len(await notices(database, "staff"))
    await chat.send("rinnovo del permesso di soggiorno")
    assert len(await notices(database, "staff")) == staff_count


async def test_the_user_ends_it_and_staff_are_told(
    chat: Conversation, desk: HandoverDesk, database: Database
) -> None:
    await chat.start(hint="en")
    await chat.press("act:human")
    await chat.send("Where do I renew my permit?")
    reply = await chat.press("act:human:end")
    assert "ended the conversation" in reply.text
    assert (
        "L'utente ha chiuso la conversazione #1" in (await notices(database, "staff"))[-1]["text"]
    )
    assert await desk.current("test", "u1") is None


async def test_without_staff_the_user_gets_the_counters_contacts(
    catalog: Catalog, interface: Interface, database: Database
) -> None:
    router = NoticeRouter(staff=[], channels={"test": UNPROMPTED})
    desk = HandoverDesk(HandoverStore(database), router, interface)
    chat = Conversation(Engine(lambda: catalog, MemoryStateStore(), interface, handovers=desk))
    await chat.start(hint="it")
    reply = await chat.press("act:human")
    assert "0332 536727" in reply.text or "Telefono" in reply.text


async def test_erasing_the_user_unlinks_their_conversations(
    chat: Conversation, desk: HandoverDesk, database: Database
) -> None:
    await chat.start(hint="it")
    await chat.press("act:human")
    await chat.send("Una domanda")
    await erase_user(database, "test", "u1")
    assert await desk.current("test", "u1") is None
    handover = await desk.store.get(1)
    assert handover is not None and handover.user_id == "erased" and not handover.open


async def test_requests_and_first_answers_are_counted_for_the_monitoring(
    chat: Conversation, desk: HandoverDesk, database: Database
) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.monitoring.events import Monitor
    from bot.storage.events import EventStore

    events = EventStore(database)
    desk.monitor = Monitor(events)
    await chat.start(hint="it")
    await chat.send("vorrei un operatore")
    await chat.send("Ho perso il permesso di soggiorno")
    await chat.send("E anche il passaporto")  # the same conversation: one request
    assert await desk.answer(1, "Venga lunedì.") == "✉️ Inviato (#1)."
    assert await desk.answer(1, "Porti una foto.") == "✉️ Inviato (#1)."  # not a first answer
    now = datetime.now(UTC)
    recorded = await events.between(now - timedelta(hours=2), now + timedelta(hours=2))
    assert [(e.kind, e.action, e.language) for e in recorded] == [
        ("handover", "requested", "it"),
        ("handover", "answered", "it"),
    ]
    assert recorded[1].seconds is not None and 0 <= recorded[1].seconds < 60
    assert recorded[0].user == recorded[1].user


# Two staff members answering at once: the first answer is counted once.
async def test_two_simultaneous_first_answers_count_once(
    chat: Conversation, desk: HandoverDesk, database: Database
) -> None:
    from bot.monitoring.events import Monitor
    from bot.storage.events import EventStore

    events = EventStore(database)
    desk.monitor = Monitor(events)
    await chat.start(hint="it")
    await chat.send("vorrei un operatore")
    await chat.send("Ho perso il permesso di soggiorno")
    await asyncio.gather(desk.answer(1, "Venga lunedì."), desk.answer(1, "Venga martedì."))
    now = datetime.now(UTC)
    recorded = await events.between(now - timedelta(hours=2), now + timedelta(hours=2))
    assert [e.action for e in recorded] == ["requested", "answered"]


# A long message for the counter reaches staff whole (search reads only 2000 characters).
async def test_a_long_message_reaches_staff_whole(chat: Conversation, database: Database) -> None:
    await chat.start(hint="it")
    await chat.send("vorrei un operatore")
    long = ("parola " * 500).strip() + " FINE"  # 3504 characters, within Telegram's 4096
    await chat.send(long)
    (notice,) = await Outbox(database).pending("staff")
    assert "FINE" in notice.payload["notice"]["text"]
