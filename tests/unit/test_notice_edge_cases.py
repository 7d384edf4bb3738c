"""Edge cases of notices, conversations and reminders found in review: each was a bug."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from bot.booking.ical import link_matches
from bot.notify.worker import OutboxWorker, SendError
from bot.storage.appointments import AppointmentStore
from bot.storage.db import Database
from bot.storage.outbox import Outbox
from bot.storage.records import Notice
from bot.storage.requeue import requeue_failed
from tests.auxil.databases import rows


# The calendar link: a non-ASCII key is a mismatch, not a crash (500).
def test_calendar_token_with_non_ascii_is_a_mismatch_not_a_crash() -> None:
    assert link_matches("secret", "LU-AAAA", "é") is False


# A requeued message older than a day gets a new day of retries, not one attempt.
async def test_a_requeued_old_message_is_retried_more_than_once(database: Database) -> None:
    outbox = Outbox(database)
    await outbox.add("wa", "alice", [Notice.reply("wa", "alice", "1")])
    two_days_ago = time.time() - 2 * 86400
    await rows(
        database,
        "UPDATE outbox SET status = 'failed', created_at = :created, updated_at = :updated",
        created=two_days_ago,
        updated=time.time() - 3600,
    )
    assert await requeue_failed(database, time.time() - 7200) == 1

    async def still_flaky(recipient: str, notice: Notice) -> str:
        raise SendError("Twilio 503", retry=True)

    await OutboxWorker(outbox, "wa", still_flaky).drain()
    assert await outbox.counts("wa") == {"pending": 1}  # a new day of retries


# No reminder for a booking cancelled between the reminder's query and its queueing.
async def test_no_reminder_for_a_booking_cancelled_meanwhile(database: Database) -> None:
    store = AppointmentStore(database)
    start = datetime.now(UTC) + timedelta(days=1)
    booked = await store.book(
        office="lu",
        service="s",
        starts_at=start,
        ends_at=start + timedelta(minutes=30),
        capacity=1,
        max_active=3,
        channel="test",
        user_id="u1",
        name="N",
        phone="1",
        language="it",
        code_prefix="LU",
    )
    (due,) = await store.to_remind(start - timedelta(hours=1), start + timedelta(hours=1))
    assert await store.cancel(booked.code, "test", "u1")  # the user cancels in between
    reminder = Notice("test", "u1", "Reminder: tomorrow", "reminder")
    assert not await store.mark_reminded(due.code, [reminder])
    assert await Outbox(database).pending("test") == []


# A staff reply sent as a WhatsApp template variable: WhatsApp refuses new lines, tabs and
# long runs of spaces there, and long values.
def test_template_variables_are_flattened() -> None:
    from bot.channels.whatsapp import TEMPLATE_VARIABLE_LIMIT, template_variable

    assert template_variable("Buongiorno,\nvenga lunedì\n\n\talle 9.     Grazie") == (
        "Buongiorno, venga lunedì alle 9. Grazie"
    )
    assert len(template_variable("parola " * 1000)) == TEMPLATE_VARIABLE_LIMIT


# One message that hits a bug of ours does not block its recipient's queue for a day.
async def test_a_poison_message_does_not_hold_up_the_recipient_for_a_day(
    database: Database,
) -> None:
    outbox = Outbox(database)
    await outbox.add(
        "tg",
        "staff-group",
        [Notice.reply("tg", "staff-group", "1"), Notice.reply("tg", "staff-group", "2")],
    )
    sent: list[int] = []

    async def buggy_for_the_first(recipient: str, notice: Notice) -> str:
        if notice.text == "1":
            raise ValueError("a bug of ours, the same every time")
        sent.append(int(notice.text))
        return "ok"

    worker = OutboxWorker(outbox, "tg", buggy_for_the_first)
    for _ in range(20):  # 20 attempts: more than an hour of back-off
        await rows(database, "UPDATE outbox SET next_attempt_at = 0")
        await worker.drain()
    assert sent == [2]  # given up after a few tries; the staff group's next notice goes
