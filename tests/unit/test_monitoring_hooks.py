"""What the engine and the booking desk record for the monitoring, on plain objects."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.booking.service import BookingDesk, StaffUpdate
from bot.content.catalog import Catalog
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore
from bot.i18n import Interface
from bot.monitoring.events import Monitor
from bot.storage.appointments import AppointmentStore
from bot.storage.db import Database
from bot.storage.records import Event
from tests.auxil.chat import Conversation

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=ROME)


class Recorder:
    """An event sink that keeps what it is given."""

    def __init__(self) -> None:
        self.events: list[tuple[Event, str | None]] = []

    async def record(self, event: Event, person: str | None) -> None:
        self.events.append((event, person))

    def seen(self) -> list[tuple[str, str, str | None, str | None, str | None]]:
        return [(e.kind, e.action, e.language, e.area, e.topic) for e, _ in self.events]


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def chat(engine: Engine, recorder: Recorder) -> Conversation:
    engine.monitor = Monitor(recorder, clock=lambda: NOW)
    return Conversation(engine)


async def test_menus_are_not_counted_topics_are(chat: Conversation, recorder: Recorder) -> None:
    await chat.start(hint="it")
    await chat.send("1")  # a menu
    await chat.send("1")  # a topic
    await chat.press("nav:back")  # going back is not a new consultation
    assert recorder.seen() == [("topic", "opened", "it", "permits", "permit_renewal")]
    event, person = recorder.events[0]
    assert (event.channel, person) == ("test", "test:u1")
    assert event.hour == NOW  # on the hour already; the hour is stored in UTC


async def test_questions_answered_unsure_and_unanswered(
    chat: Conversation, recorder: Recorder
) -> None:
    await chat.start(hint="it")
    await chat.send("come rinnovo il permesso di soggiorno?")
    await chat.send("menu")  # an intent, not a question
    await chat.send("best pizza recipe with pineapple")
    kinds = recorder.seen()
    assert kinds[0] == ("question", "answered", "it", "permits", "permit_renewal")
    assert kinds[1][:2] == ("question", "unanswered")
    assert kinds[1][2] == "en"  # the language the question was written in
    assert len(kinds) == 2
    assert all("pizza" not in repr(event) for event, _ in recorder.events)


async def test_ask_is_never_counted(engine: Engine, recorder: Recorder) -> None:
    engine.monitor = Monitor(recorder, clock=lambda: NOW)
    await engine.ask("come rinnovo il permesso di soggiorno?")
    assert recorder.events == []


@pytest.fixture
async def desk(tmp_path: Path, recorder: Recorder) -> AsyncIterator[BookingDesk]:
    async with Database(tmp_path / "bot.sqlite3") as database:
        desk = BookingDesk(AppointmentStore(database), ROME, clock=lambda: NOW)
        desk.monitor = Monitor(recorder, clock=lambda: NOW)
        yield desk


async def test_bookings_made_moved_cancelled_and_marked(
    catalog: Catalog, interface: Interface, desk: BookingDesk, recorder: Recorder
) -> None:
    chat = Conversation(Engine(lambda: catalog, MemoryStateStore(), interface, desk=desk))
    await chat.start(hint="it")
    await chat.send("vorrei un appuntamento")
    for answer in ("1", "1", "1", "Amina Rossi", "333 1234567", "1"):
        reply = await chat.send(answer)
    code = "LU-" + reply.text.split("LU-", 1)[1][:4]
    await chat.press(f"bk:move:{code}")
    await chat.send("1")
    await chat.send("2")
    await chat.press(f"bk:cancelyes:{code}")
    # Cancelled: nothing to mark.
    assert await desk.staff_update(code, "attended") == StaffUpdate(code, "already", "cancelled")
    for time_choice in ("1", "2"):  # two more bookings, at 09:00 and 09:30
        await chat.press("bk:svc:permit_renewal")
        for answer in ("1", time_choice, "Amina Rossi", "333 1234567", "1"):
            await chat.send(answer)
    first, second = (
        appointment.code for appointment in await desk.store.active_for("test", "u1", now=NOW)
    )
    too_early = await desk.staff_update(first, "no_show")  # a mis-tap before the time
    assert too_early == StaffUpdate(first, "too_early", "active")
    desk._clock = lambda: NOW + timedelta(hours=3)  # the morning at the counter
    await desk.staff_update(first, "attended")
    await desk.staff_update(second, "no_show")
    bookings = [(e.action, e.service, e.office) for e, _ in recorder.events if e.kind == "booking"]
    assert bookings == [
        ("made", "permit_renewal", "luino"),
        ("moved", "permit_renewal", "luino"),
        ("cancelled", "permit_renewal", "luino"),
        ("made", "permit_renewal", "luino"),
        ("made", "permit_renewal", "luino"),
        ("attended", "permit_renewal", "luino"),
        ("no_show", "permit_renewal", "luino"),
    ]
    assert {person for e, person in recorder.events if e.kind == "booking"} == {"test:u1"}
    await desk.close(catalog, NOW.date(), NOW.date())  # nothing left active that day
    assert len([e for e, _ in recorder.events if e.kind == "booking"]) == 7


async def test_a_failing_count_never_fails_the_booking(
    desk: BookingDesk, recorder: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(code: str) -> None:
        raise OSError("database is locked")

    monkeypatch.setattr(desk.store, "by_code", broken)
    await desk.count("made", "LU-XXXX")  # logged, not raised
    assert recorder.events == []
