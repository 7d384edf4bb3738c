"""The deadline reminders' storage: only the chat, the language, the kind and two dates; each
marked sent with its notice in one transaction; erased on request, purged once past."""

from __future__ import annotations

import time
from datetime import date, timedelta

from sqlalchemy import inspect

from bot.storage.db import Database
from bot.storage.deadlines import DeadlineStore
from bot.storage.outbox import Outbox
from bot.storage.records import Notice
from bot.storage.retention import erase_user, purge
from tests.auxil.databases import rows

EXPIRY = date(2027, 3, 12)
EARLY, LATE = date(2026, 12, 12), date(2027, 1, 11)


async def test_the_table_holds_nothing_but_the_chat_the_kind_and_two_dates(
    database: Database,
) -> None:
    async with database.engine.connect() as connection:
        columns, indexes = await connection.run_sync(
            lambda sync: (
                [column["name"] for column in inspect(sync).get_columns("deadline_reminders")],
                {index["name"] for index in inspect(sync).get_indexes("deadline_reminders")},
            )
        )
    assert columns == [
        "id",
        "channel",
        "user_id",
        "language",
        "kind",
        "event_date",
        "remind_on",
        "created_at",
        "sent_at",
    ]
    assert indexes >= {"deadline_reminders_due", "deadline_reminders_user"}


async def test_setting_replaces_that_kind_only_and_lists_the_soonest_first(
    database: Database,
) -> None:
    store = DeadlineStore(database)
    assert await store.replace("telegram", "7", "bn", "permit_renewal", EXPIRY, [LATE, EARLY]) == 2
    assert await store.replace("telegram", "7", "bn", "anagrafe_update", EXPIRY, [LATE]) == 1
    assert await store.replace("telegram", "8", "it", "permit_renewal", EXPIRY, [EARLY]) == 1
    # The same kind again (another expiry): the old ones go, twice the same day is one.
    later = date(2028, 3, 12)
    assert await store.replace("telegram", "7", "bn", "permit_renewal", later, [LATE, LATE]) == 1
    mine = await store.of_user("telegram", "7")
    assert [(r.kind, r.event_date, r.remind_on, r.language) for r in mine] == [
        ("anagrafe_update", EXPIRY, LATE, "bn"),
        ("permit_renewal", later, LATE, "bn"),
    ]
    assert not any(reminder.sent for reminder in mine)
    assert len(await store.of_user("telegram", "8")) == 1
    assert await store.of_user("whatsapp", "7") == []


async def test_only_the_owner_deletes_or_moves_a_reminder(database: Database) -> None:
    store = DeadlineStore(database)
    await store.replace("telegram", "7", "bn", "permit_renewal", EXPIRY, [EARLY, LATE])
    first, second = await store.of_user("telegram", "7")
    assert await store.delete("telegram", "8", first.id) == 0  # someone else's
    assert not await store.move("whatsapp", "7", first.id, date(2027, 1, 2))
    assert await store.move("telegram", "7", first.id, date(2027, 1, 2))
    assert await store.delete("telegram", "7", second.id) == 1
    (moved,) = await store.of_user("telegram", "7")
    assert moved.remind_on == date(2027, 1, 2)
    await store.replace("telegram", "7", "bn", "anagrafe_update", EXPIRY, [LATE])
    assert await store.delete("telegram", "7") == 2  # all of them
    assert await store.of_user("telegram", "7") == []


async def test_due_reminders_go_once_with_their_notice(database: Database) -> None:
    store, outbox = DeadlineStore(database), Outbox(database)
    await store.replace("telegram", "7", "bn", "permit_renewal", EXPIRY, [EARLY, LATE])
    await store.replace("console", "1", "it", "permit_renewal", EXPIRY, [EARLY])
    assert await store.due(EARLY - timedelta(days=1), ["telegram"]) == []
    (due,) = await store.due(EARLY, ["telegram"])  # the console's is on no channel asked for
    notice = Notice("telegram", "7", "⏰", "deadline", language="bn")
    assert await store.mark_sent(due, [notice])
    assert not await store.mark_sent(due, [notice])  # a second process, or a second round
    assert await store.due(EARLY, ["telegram"]) == []
    assert [m.payload["notice"]["purpose"] for m in await outbox.pending("telegram")] == [
        "deadline"
    ]
    # Moved to another day after it was read as due: not sent on the old day.
    (late,) = await store.due(LATE, ["telegram"])
    await store.move("telegram", "7", late.id, date(2027, 2, 1))
    assert not await store.mark_sent(late, [notice])
    assert len(await outbox.pending("telegram")) == 1
    # A reminder already sent, moved to a later day, goes again on it.
    await store.move("telegram", "7", due.id, date(2027, 2, 1))
    assert [r.id for r in await store.due(date(2027, 2, 1), ["telegram"])] == [due.id, late.id]


async def test_a_later_reminder_stands_for_the_earlier_ones_due_at_once(
    database: Database,
) -> None:
    store = DeadlineStore(database)
    await store.replace("telegram", "7", "bn", "permit_renewal", EXPIRY, [EARLY, LATE])
    early, late = await store.due(LATE, ["telegram"])
    assert await store.mark_sent(late, [], covered=[early])
    assert all(reminder.sent for reminder in await store.of_user("telegram", "7"))


async def test_erasing_the_user_removes_their_reminders_and_queued_ones(
    database: Database,
) -> None:
    store, outbox = DeadlineStore(database), Outbox(database)
    await store.replace("whatsapp", "+8801712345678", "bn", "permit_renewal", EXPIRY, [EARLY])
    await store.replace("telegram", "8", "it", "permit_renewal", EXPIRY, [EARLY])
    (due,) = await store.due(EARLY, ["whatsapp"])
    await store.mark_sent(due, [Notice("whatsapp", "+8801712345678", "⏰", "deadline")])
    await erase_user(database, "whatsapp", "+8801712345678")
    assert await store.of_user("whatsapp", "+8801712345678") == []
    assert await outbox.pending("whatsapp") == []
    assert len(await store.of_user("telegram", "8")) == 1  # someone else's stay


async def test_retention_removes_reminders_sent_once_their_event_is_past(
    database: Database,
) -> None:
    store = DeadlineStore(database)
    today = date.today()
    past = today - timedelta(days=10)
    # Sent, its event ten days past: gone with a limit of 7 days, kept with 30.
    await store.replace("telegram", "1", "it", "permit_renewal", past, [past - timedelta(days=60)])
    (sent,) = await store.due(today, ["telegram"])
    await store.mark_sent(sent, [])
    # Sent, its event to come (the permit expires next month): kept.
    await store.replace(
        "telegram", "2", "it", "permit_renewal", today + timedelta(days=30), [today]
    )
    (coming,) = await store.due(today, ["telegram"])
    await store.mark_sent(coming, [])
    # Not sent, its event past (the anagrafe's update after a renewal): kept until it goes.
    await store.replace("telegram", "3", "it", "anagrafe_update", past, [today + timedelta(days=5)])
    # Never sent, its day older than the retention period (the channel was turned off).
    await store.replace("email", "4", "it", "permit_renewal", past, [today - timedelta(days=100)])
    removed = await purge(database, retention_days=90, deadline_keep_days=30)
    assert removed["deadline_reminders"] == 1  # the one no channel could send
    removed = await purge(database, retention_days=90, deadline_keep_days=7)
    assert removed["deadline_reminders"] == 1
    left = await rows(database, "SELECT user_id FROM deadline_reminders ORDER BY user_id")
    assert [row[0] for row in left] == ["2", "3"]
    created = await rows(database, "SELECT created_at FROM deadline_reminders")
    assert all(abs(float(row[0]) - time.time()) < 60 for row in created)
