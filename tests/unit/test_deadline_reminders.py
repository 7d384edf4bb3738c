"""The deadline reminders' service: set from today on, listed, moved, deleted; sent once on
their day from the configured hour, through each user's channel, counted without a person."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.booking.notices import NoticeRouter
from bot.content.catalog import Catalog
from bot.deadlines.notices import DeadlineNotice, dated
from bot.deadlines.reminders import MAX_DAYS_AHEAD, DeadlineReminder, DeadlineReminders
from bot.i18n import Interface
from bot.monitoring.events import Monitor
from bot.reach import UNPROMPTED
from bot.storage.db import Database
from bot.storage.deadlines import DeadlineStore
from bot.storage.outbox import Outbox
from bot.storage.records import Event

ROME = ZoneInfo("Europe/Rome")
EXPIRY = date(2027, 3, 12)
BEFORE_90, BEFORE_60 = date(2026, 12, 12), date(2027, 1, 11)


class Sink:
    """The monitoring's events, with the person each was recorded for."""

    def __init__(self) -> None:
        self.events: list[tuple[Event, str | None]] = []

    async def record(self, event: Event, person: str | None) -> None:
        self.events.append((event, person))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 1, 9, 0, tzinfo=ROME))


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def service(
    database: Database, catalog: Catalog, interface: Interface, clock: Clock, sink: Sink
) -> DeadlineReminders:
    router = NoticeRouter(channels={"telegram": UNPROMPTED, "whatsapp": UNPROMPTED})
    return DeadlineReminders(
        DeadlineStore(database),
        router,
        DeadlineNotice(lambda: catalog, interface),
        ROME,
        clock=clock,
        hour=10,
        monitor=Monitor(sink, clock=clock),
    )


async def test_set_keeps_the_days_still_to_come_and_counts_them_without_the_person(
    service: DeadlineReminders, sink: Sink
) -> None:
    days = [date(2026, 11, 30), date(2026, 12, 1), BEFORE_90, BEFORE_60, date(2040, 1, 1)]
    assert await service.set("telegram", "7", "bn", "permit_renewal", EXPIRY, days) == 3
    mine = await service.mine("telegram", "7")
    assert [reminder.remind_on for reminder in mine] == [date(2026, 12, 1), BEFORE_90, BEFORE_60]
    counted = [(e.kind, e.action, e.topic, e.language, e.channel, p) for e, p in sink.events]
    assert counted == [("deadline", "set", "permit_renewal", "bn", "telegram", None)] * 3
    # Set again (another expiry): replaced, not added.
    assert await service.set("telegram", "7", "bn", "permit_renewal", EXPIRY, [BEFORE_60]) == 1
    assert len(await service.mine("telegram", "7")) == 1


async def test_moving_and_deleting(service: DeadlineReminders) -> None:
    await service.set("telegram", "7", "it", "permit_renewal", EXPIRY, [BEFORE_90, BEFORE_60])
    first, second = await service.mine("telegram", "7")
    assert not await service.move("telegram", "7", first.id, date(2026, 11, 30))  # past
    too_far = date(2026, 12, 1).toordinal() + MAX_DAYS_AHEAD + 1
    assert not await service.move("telegram", "7", first.id, date.fromordinal(too_far))
    assert await service.move("telegram", "7", first.id, date(2026, 12, 20))
    assert [r.remind_on for r in await service.mine("telegram", "7")] == [
        date(2026, 12, 20),
        BEFORE_60,
    ]
    assert await service.delete("telegram", "7", second.id) == 1
    assert await service.delete("telegram", "7") == 1
    assert await service.mine("telegram", "7") == []


async def test_each_reminder_goes_once_on_its_day_from_the_hour(
    service: DeadlineReminders, database: Database, clock: Clock, sink: Sink
) -> None:
    outbox = Outbox(database)
    await service.set("telegram", "7", "it", "permit_renewal", EXPIRY, [BEFORE_90, BEFORE_60])
    await service.set("whatsapp", "+8801712345678", "en", "permit_renewal", EXPIRY, [BEFORE_90])
    await service.set("console", "local", "it", "permit_renewal", EXPIRY, [BEFORE_90])
    sink.events.clear()
    assert await service.run_once() == 0  # 1 December: nothing due
    clock.now = datetime(2026, 12, 12, 9, 59, tzinfo=ROME)
    assert await service.run_once() == 0  # its day, before the hour
    clock.now = datetime(2026, 12, 12, 10, 0, tzinfo=ROME)
    assert await service.run_once() == 2  # the terminal chat cannot be reached
    assert await service.run_once() == 0  # once only
    telegram = [m.payload["notice"] for m in await outbox.pending("telegram")]
    whatsapp = [m.payload["notice"] for m in await outbox.pending("whatsapp")]
    assert [n["purpose"] for n in telegram + whatsapp] == ["deadline", "deadline"]
    (italian,) = telegram
    assert italian["text"].splitlines()[0] == (
        "⏰ Promemoria: **Rinnovo del permesso**. La tua data: 12 marzo 2027."
    )
    assert "“Rinnovo del permesso” nel menu" in italian["text"]
    assert "scrivi “I miei promemoria”" in italian["text"]
    assert italian["variables"] == {"1": "Rinnovo del permesso", "2": "12 marzo 2027"}
    assert italian["language"] == "it"
    assert whatsapp[0]["variables"] == {"1": "Permit renewal", "2": "March 12, 2027"}
    sent = [(e.action, e.channel, p) for e, p in sink.events]
    assert sent == [("sent", "telegram", None), ("sent", "whatsapp", None)]
    reminders = await service.mine("telegram", "7")
    assert [r.sent for r in reminders] == [True, False]


async def test_after_a_pause_one_message_stands_for_a_deadline_s_reminders_due_at_once(
    service: DeadlineReminders, database: Database, clock: Clock
) -> None:
    await service.set("telegram", "7", "it", "permit_renewal", EXPIRY, [BEFORE_90, BEFORE_60])
    clock.now = datetime(2027, 1, 20, 11, 0, tzinfo=ROME)  # the bot was stopped for weeks
    assert await service.run_once() == 1
    assert len(await Outbox(database).pending("telegram")) == 1
    assert all(reminder.sent for reminder in await service.mine("telegram", "7"))


async def test_a_reminder_whose_text_fails_does_not_hold_up_the_others(
    database: Database, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    def text_for(reminder: DeadlineReminder) -> tuple[str, dict[str, str]]:
        if reminder.kind == "broken":
            raise KeyError(reminder.kind)
        return "⏰", {}

    service = DeadlineReminders(
        DeadlineStore(database),
        NoticeRouter(channels={"telegram": UNPROMPTED}),
        text_for,
        ROME,
        clock=clock,
    )
    await service.set("telegram", "7", "it", "broken", EXPIRY, [BEFORE_90])
    await service.set("telegram", "7", "it", "permit_renewal", EXPIRY, [BEFORE_90])
    clock.now = datetime(2026, 12, 12, 12, 0, tzinfo=ROME)
    assert await service.run_once() == 1
    # The log names the reminder's number only: no chat, no user, no date.
    assert [record.getMessage() for record in caplog.records] == [
        "deadline reminders: no text for reminder 1"
    ]


async def test_a_kind_no_topic_explains_and_a_disabled_language_still_read_well(
    catalog: Catalog, interface: Interface
) -> None:
    text_for = DeadlineNotice(lambda: catalog, interface)
    reminder = DeadlineReminder(1, "telegram", "7", "de", "nulla_osta", EXPIRY, BEFORE_90)
    text, variables = text_for(reminder)  # German is disabled: the default language
    assert text.startswith("⏰ Promemoria: **La tua scadenza**. La tua data: 12 marzo 2027.")
    assert "nel menu" not in text  # no topic to point to
    assert variables == {"1": "La tua scadenza", "2": "12 marzo 2027"}


async def test_the_loop_keeps_going_through_a_failing_round(
    service: DeadlineReminders, monkeypatch: pytest.MonkeyPatch
) -> None:
    rounds: list[int] = []
    three = asyncio.Event()

    async def failing() -> int:
        rounds.append(1)
        if len(rounds) == 3:
            three.set()
        if len(rounds) == 1:
            raise RuntimeError("the disk is full")
        return 0

    monkeypatch.setattr(service, "run_once", failing)
    task = asyncio.create_task(service.run(interval=0.01))
    await asyncio.wait_for(three.wait(), 10)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert len(rounds) >= 3


def test_a_date_that_ends_with_a_full_stop_gets_no_second_one() -> None:
    assert dated("Your date: {date}.", date="12 березня 2027 р.") == "Your date: 12 березня 2027 р."
    assert dated("Your date: {date}.", date="12 marzo 2027") == "Your date: 12 marzo 2027."
