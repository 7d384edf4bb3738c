"""'My reminders': from the main menu and from free text, each reminder to move (the day typed,
then confirmed) or delete (confirmed), all of them at once; erased with the user's data."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.booking.notices import NoticeRouter
from bot.content.catalog import Catalog
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore
from bot.deadlines.notices import DeadlineNotice
from bot.deadlines.reminders import DeadlineReminders
from bot.i18n import Interface
from bot.reach import UNPROMPTED
from bot.storage.db import Database
from bot.storage.deadlines import DeadlineStore
from bot.storage.retention import erase_user
from tests.auxil.chat import Conversation
from tests.conftest import TODAY

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=ROME)
EXPIRY = date(2027, 3, 12)


@pytest.fixture
def reminders(database: Database, catalog: Catalog, interface: Interface) -> DeadlineReminders:
    return DeadlineReminders(
        DeadlineStore(database),
        NoticeRouter(channels={"test": UNPROMPTED}),
        DeadlineNotice(lambda: catalog, interface),
        ROME,
        clock=lambda: NOW,
    )


@pytest.fixture
def chat(
    catalog: Catalog, interface: Interface, reminders: DeadlineReminders, database: Database
) -> Conversation:
    async def erase(channel: str, user_id: str) -> None:
        await erase_user(database, channel, user_id)

    engine = Engine(
        lambda: catalog,
        MemoryStateStore(),
        interface,
        today=lambda: TODAY,
        erase=erase,
        reaches={"test": UNPROMPTED},
        reminders=reminders,
    )
    return Conversation(engine)


async def renewal(reminders: DeadlineReminders, *days: date) -> None:
    await reminders.set("test", "u1", "it", "permit_renewal", EXPIRY, days)


async def test_the_main_menu_offers_them_where_they_can_be_sent(
    chat: Conversation, catalog: Catalog, interface: Interface, reminders: DeadlineReminders
) -> None:
    await chat.start(hint="it")
    assert "⏰ I miei promemoria" in chat.labels()
    assert chat.ids()[-2:] == ["rem:mine", "nav:language"]
    # The terminal chat cannot send a reminder: no button, and a kind word if asked.
    console = Conversation(
        Engine(lambda: catalog, MemoryStateStore(), interface, reminders=reminders),
        channel="console",
    )
    await console.start(hint="it")
    assert "rem:mine" not in console.ids()
    reply = await console.send("i miei promemoria")
    assert reply.text.startswith("Questa chat non può mandarti promemoria.")


async def test_none_yet_and_then_the_list_from_free_text(
    chat: Conversation, reminders: DeadlineReminders
) -> None:
    await chat.start(hint="it")
    reply = await chat.press("rem:mine")
    assert reply.text.startswith("Non hai promemoria.")
    assert chat.ids() == ["nav:home"]
    await renewal(reminders, date(2026, 12, 12), date(2027, 1, 11))
    reply = await chat.send("vorrei vedere i miei promemoria")
    assert reply.text.splitlines() == [
        "**I tuoi promemoria:**",
        "- Rinnovo del permesso (12 marzo 2027): promemoria in data 12 dicembre 2026",
        "- Rinnovo del permesso (12 marzo 2027): promemoria in data 11 gennaio 2027",
    ]
    first, second = await reminders.mine("test", "u1")
    assert chat.ids() == [
        f"rem:move:{first.id}",
        f"rem:del:{first.id}",
        f"rem:move:{second.id}",
        f"rem:del:{second.id}",
        "rem:all",
        "nav:home",
    ]
    assert chat.labels()[:2] == ["Cambia 12 dic 2026", "Cancella 12 dic 2026"]
    again = await chat.send("my reminders")  # the English words work too
    assert again.text.startswith("**I tuoi promemoria:**")


async def test_another_day_typed_then_confirmed(
    chat: Conversation, reminders: DeadlineReminders
) -> None:
    await renewal(reminders, date(2026, 12, 12))
    (reminder,) = await reminders.mine("test", "u1")
    await chat.start(hint="it")
    question = await chat.press(f"rem:move:{reminder.id}")
    assert question.text.startswith(
        "In quale giorno vuoi che ti ricordi “Rinnovo del permesso”, invece che in data 12 "
        "dicembre 2026?"
    )
    assert "per esempio 31/12/2026" in question.text
    assert (await chat.send("boh")).text.startswith("Non sono riuscito a leggere una data.")
    passed = await chat.send("30/11/2026")
    assert passed.text.startswith("Quel giorno è già passato")
    confirm = await chat.send("১৫/০১/২০২৭")  # Bengali digits
    assert confirm.text == (
        "Ti ricordo “Rinnovo del permesso” in data 15 gennaio 2027, invece che in data 12 "
        "dicembre 2026?"
    )
    assert chat.ids() == [f"rem:moveyes:{reminder.id}:2027-01-15", "rem:mine"]
    assert (await reminders.mine("test", "u1"))[0].remind_on == date(2026, 12, 12)  # not yet
    done = await chat.press(f"rem:moveyes:{reminder.id}:2027-01-15")
    assert done.text.startswith("Fatto: te lo ricorderò in data 15 gennaio 2027.")
    assert (await reminders.mine("test", "u1"))[0].remind_on == date(2027, 1, 15)


async def test_a_way_out_while_a_day_is_asked(
    chat: Conversation, reminders: DeadlineReminders
) -> None:
    await renewal(reminders, date(2026, 12, 12))
    (reminder,) = await reminders.mine("test", "u1")
    await chat.start(hint="it")
    await chat.press(f"rem:move:{reminder.id}")
    home = await chat.send("menu")
    assert "**Menu principale**" in home.text
    # The question is over: a date typed now is a question like any other, not a new day.
    await chat.send("15/01/2027")
    assert (await reminders.mine("test", "u1"))[0].remind_on == date(2026, 12, 12)


async def test_deleting_one_then_all_each_confirmed(
    chat: Conversation, reminders: DeadlineReminders
) -> None:
    await renewal(reminders, date(2026, 12, 12), date(2027, 1, 11))
    await reminders.set("test", "u1", "it", "anagrafe_update", EXPIRY, [date(2027, 4, 1)])
    first, *_ = await reminders.mine("test", "u1")
    await chat.start(hint="it")
    asked = await chat.press(f"rem:del:{first.id}")
    assert asked.text == (
        "Cancellare il promemoria in data 12 dicembre 2026 per “Rinnovo del permesso”?"
    )
    assert chat.labels() == ["Sì, cancellalo", "No, tieni il promemoria"]
    kept = await chat.press("rem:mine")  # "no"
    assert kept.text.count("\n- ") == 3
    deleted = await chat.press(f"rem:delyes:{first.id}")
    assert deleted.text.startswith("Il promemoria è cancellato.")
    assert len(await reminders.mine("test", "u1")) == 2
    # The kind no topic explains is named plainly.
    assert "- La tua scadenza (12 marzo 2027): promemoria in data 1 aprile 2027" in deleted.text
    await chat.press("rem:all")
    assert chat.labels() == ["Sì, cancellali tutti", "No, tienili"]
    gone = await chat.press("rem:allyes")
    assert gone.text.startswith("I tuoi promemoria sono cancellati.\n\nNon hai promemoria.")
    assert await reminders.mine("test", "u1") == []


async def test_someone_else_s_or_a_deleted_reminder_just_shows_the_list(
    chat: Conversation, reminders: DeadlineReminders
) -> None:
    await reminders.set("test", "u2", "it", "permit_renewal", EXPIRY, [date(2026, 12, 12)])
    (theirs,) = await reminders.mine("test", "u2")
    await chat.start(hint="it")
    for forged in (
        f"rem:del:{theirs.id}",
        f"rem:delyes:{theirs.id}",
        f"rem:move:{theirs.id}",
        f"rem:moveyes:{theirs.id}:2027-01-15",
        "rem:move:x",
        "rem:moveyes:1:not-a-day",
    ):
        reply = await chat.press(forged)
        assert reply.text.startswith("Non hai promemoria."), forged
    assert (await reminders.mine("test", "u2"))[0].remind_on == date(2026, 12, 12)
    assert len(await reminders.mine("test", "u2")) == 1


async def test_erasing_my_data_names_the_reminders_and_removes_them(
    chat: Conversation, reminders: DeadlineReminders
) -> None:
    await renewal(reminders, date(2026, 12, 12))
    await chat.start(hint="it")
    asked = await chat.send("cancella i miei dati")
    assert "(conversazione, appuntamenti, promemoria, numero di telefono)" in asked.text
    await chat.press("act:erase")
    assert await reminders.mine("test", "u1") == []
