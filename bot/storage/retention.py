"""This module contains the retention rule: personal data is kept only as long as configured."""

from __future__ import annotations

import time

from bot.storage.db import Database
from bot.storage.events import unlink
from bot.storage.leases import alive

DAY = 86_400.0
INBOUND_IDS_DAYS = 7  # platform message ids: only needed to spot retries
WEBCHAT = "webchat"


#: Days a deadline reminder is kept once sent and its event past (SPORTELLO_DEADLINE_KEEP_DAYS).
DEADLINE_KEEP_DAYS = 7


async def purge(
    database: Database, retention_days: int, deadline_keep_days: int = DEADLINE_KEEP_DAYS
) -> dict[str, int]:
    """Delete conversations, contacts and sent messages older than the retention period, and
    deadline reminders once sent and ``deadline_keep_days`` past their event."""
    cutoff = time.time() - retention_days * DAY
    removed: dict[str, int] = {}
    cursor = await database.legacy_write(
        "DELETE FROM sessions WHERE updated_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?)",
        (f"-{int(retention_days)} days",),
    )
    removed["sessions"] = cursor.rowcount
    cursor = await database.legacy_write(
        "DELETE FROM contacts WHERE last_inbound_at < ?", (cutoff,)
    )
    removed["contacts"] = cursor.rowcount
    # Pending messages stay while they may still go (the worker gives up after a day); one
    # still queued after the whole retention period (its channel was turned off) goes too.
    cursor = await database.legacy_write(
        "DELETE FROM outbox WHERE (status != 'pending' AND updated_at < ?) OR created_at < ?",
        (cutoff, cutoff),
    )
    removed["outbox"] = cursor.rowcount
    cursor = await database.legacy_write("DELETE FROM notice_parts WHERE created_at < ?", (cutoff,))
    removed["notice_parts"] = cursor.rowcount
    # Past appointments keep only what the anonymous counts need: office, service, time,
    # channel, language, status; not the name, the phone, nor the user id (on WhatsApp the
    # phone number itself, on Telegram the account).
    cursor = await database.legacy_write(
        "UPDATE appointments SET name = NULL, phone = NULL, "
        "user_id = CASE WHEN user_id = 'erased' THEN user_id ELSE 'expired' END "
        "WHERE ends_at < strftime('%Y-%m-%dT%H:%M:%SZ', 'now', ?) "
        "AND (name IS NOT NULL OR phone IS NOT NULL OR user_id NOT IN ('expired', 'erased'))",
        (f"-{int(retention_days)} days",),
    )
    removed["appointment_contacts"] = cursor.rowcount
    # Conversations with a person: closed, and no longer linked to anyone, once old.
    cursor = await database.legacy_write(
        "UPDATE handovers SET user_id = 'expired', closed_at = coalesce(closed_at, ?), "
        "closed_by = coalesce(closed_by, 'expired') WHERE opened_at < ? AND user_id != 'expired'",
        (time.time(), cutoff),
    )
    removed["handovers"] = cursor.rowcount
    cursor = await database.legacy_write(
        "DELETE FROM shared_questions WHERE shared_at < ?", (cutoff,)
    )
    removed["shared_questions"] = cursor.rowcount
    # Requests: one left waiting longer than the retention period is closed; a closed one
    # keeps no name, phone or user once old (its appointment, if any, has its own rule).
    cursor = await database.legacy_write(
        "UPDATE appointment_requests SET status = 'expired', name = NULL, phone = NULL, "
        "user_id = 'expired', updated_at = ? "
        "WHERE status IN ('open', 'proposed') AND max(waiting_since, updated_at) < ?",
        (time.time(), cutoff),
    )
    removed["requests_expired"] = cursor.rowcount
    cursor = await database.legacy_write(
        "UPDATE appointment_requests SET name = NULL, phone = NULL, user_id = 'expired' "
        "WHERE status NOT IN ('open', 'proposed') AND updated_at < ? "
        "AND user_id NOT IN ('expired', 'erased')",
        (cutoff,),
    )
    removed["request_contacts"] = cursor.rowcount
    # Checklist answers serve the confirmation, the proposal and the reminder: kept while the
    # appointment is still to come or the request waits, whatever the retention period.
    cursor = await database.legacy_write(
        "DELETE FROM checklist_answers WHERE code NOT IN (SELECT code FROM appointments "
        "WHERE status = 'active' AND ends_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now')) "
        "AND code NOT IN (SELECT code FROM appointment_requests "
        "WHERE status IN ('open', 'proposed'))"
    )
    removed["checklist_answers"] = cursor.rowcount
    cursor = await database.legacy_write(
        "DELETE FROM inbound_seen WHERE received_at < ?", (time.time() - INBOUND_IDS_DAYS * DAY,)
    )
    removed["inbound_ids"] = cursor.rowcount
    # Updates stored on arrival are deleted once processed; one left over (a crash that no
    # start processed) is never kept beyond the retention period.
    cursor = await database.legacy_write(
        "DELETE FROM inbound_updates WHERE received_at < ?", (cutoff,)
    )
    removed["inbound_updates"] = cursor.rowcount
    # Several instances: a turn held by an instance that died names its user (on WhatsApp a
    # phone number); a lease expired for a day is an instance long gone.
    now = time.time()
    cursor = await database.legacy_write(
        f"DELETE FROM turn_locks WHERE NOT {alive('turn_locks.holder')}", (now,)
    )
    removed["turn_locks"] = cursor.rowcount
    cursor = await database.legacy_write("DELETE FROM leases WHERE expires_at < ?", (now - DAY,))
    removed["leases"] = cursor.rowcount
    # Deadline reminders: nothing is left to remind once sent and their event is past (the
    # permit expired, say). One never sent (its channel was turned off) goes when its day is
    # older than the retention period. Dates are the counter's days; a few hours of UTC do
    # not matter at this scale.
    cursor = await database.legacy_write(
        "DELETE FROM deadline_reminders WHERE (sent_at IS NOT NULL AND event_date < "
        "date('now', ?)) OR remind_on < date('now', ?)",
        (f"-{int(deadline_keep_days)} days", f"-{int(retention_days)} days"),
    )
    removed["deadline_reminders"] = cursor.rowcount
    # Web chat messages no browser came back for: kept no longer than a conversation.
    cursor = await database.legacy_write(
        "DELETE FROM webchat_messages WHERE created_at < ?", (cutoff,)
    )
    removed["webchat_messages"] = cursor.rowcount
    # The removed rows' old copies leave the WAL too (and those of an erasure whose own
    # emptying of the WAL could not finish): at the latest an hour after they were deleted.
    await database.checkpoint()
    return removed


async def erase_user(database: Database, channel: str, user_id: str) -> list[str]:
    """Everything personal about one user, gone at their request; returns the codes of the
    future appointments this cancelled and of the requests it withdrew. Anonymous rows
    (service, office, date) stay for the counts, with no name, phone or user id."""
    async with database.legacy_transaction() as connection:
        # The checklist answers of every appointment and request of theirs, whatever its state.
        await connection.execute(
            "DELETE FROM checklist_answers WHERE code IN (SELECT code FROM appointments "
            "WHERE channel = ? AND user_id = ? UNION SELECT code FROM appointment_requests "
            "WHERE channel = ? AND user_id = ?)",
            (channel, user_id, channel, user_id),
        )
        async with connection.execute(
            "SELECT code FROM appointments WHERE channel = ? AND user_id = ? AND status = 'active' "
            "AND starts_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            (channel, user_id),
        ) as cursor:
            cancelled = [str(row[0]) for row in await cursor.fetchall()]
        await connection.execute(
            "UPDATE appointments SET status = 'cancelled' WHERE channel = ? AND user_id = ? "
            "AND status = 'active' AND starts_at >= strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
            (channel, user_id),
        )
        # Their requests still waiting are withdrawn (staff are told, with the bookings).
        async with connection.execute(
            "SELECT code FROM appointment_requests WHERE channel = ? AND user_id = ? "
            "AND status IN ('open', 'proposed')",
            (channel, user_id),
        ) as cursor:
            withdrawn = [str(row[0]) for row in await cursor.fetchall()]
        cancelled += [code for code in withdrawn if code not in cancelled]
        await connection.execute(
            "UPDATE appointment_requests SET status = CASE WHEN status IN ('open', 'proposed') "
            "THEN 'withdrawn' ELSE status END, name = NULL, phone = NULL, user_id = 'erased', "
            "proposed_start = NULL, proposed_end = NULL, updated_at = ? "
            "WHERE channel = ? AND user_id = ?",
            (time.time(), channel, user_id),
        )
        # Our copies of what staff were sent about this user: their bookings (names, phones)
        # and their conversations with a person (their questions).
        async with connection.execute(
            "SELECT code FROM appointments WHERE channel = ? AND user_id = ?", (channel, user_id)
        ) as cursor:
            codes = [str(row[0]) for row in await cursor.fetchall()]
        codes += [code for code in withdrawn if code not in codes]  # and their requests
        for code in codes:
            await connection.execute("DELETE FROM outbox WHERE instr(payload, ?) > 0", (code,))
        await connection.execute(
            "DELETE FROM outbox WHERE json_extract(payload, '$.notice.handover') IN "
            "(SELECT id FROM handovers WHERE channel = ? AND user_id = ?)",
            (channel, user_id),
        )
        await connection.execute(
            "UPDATE appointments SET name = NULL, phone = NULL, user_id = 'erased' "
            "WHERE channel = ? AND user_id = ?",
            (channel, user_id),
        )
        await connection.execute(
            "UPDATE handovers SET user_id = 'erased', closed_at = coalesce(closed_at, ?), "
            "closed_by = coalesce(closed_by, 'erased') WHERE channel = ? AND user_id = ?",
            (time.time(), channel, user_id),
        )
        await connection.execute(
            "DELETE FROM sessions WHERE channel = ? AND user_id = ?", (channel, user_id)
        )
        await connection.execute(
            "DELETE FROM contacts WHERE channel = ? AND user_id = ?", (channel, user_id)
        )
        # The turn asking for the erasure holds this row (the user's id): it goes now, before
        # the WAL is emptied; that turn saves nothing after this.
        await connection.execute(
            "DELETE FROM turn_locks WHERE channel = ? AND user_id = ?", (channel, user_id)
        )
        await connection.execute(
            "DELETE FROM outbox WHERE channel = ? AND recipient = ?", (channel, user_id)
        )
        await connection.execute(
            "DELETE FROM shared_questions WHERE channel = ? AND user_id = ?", (channel, user_id)
        )
        await connection.execute(
            "DELETE FROM deadline_reminders WHERE channel = ? AND user_id = ?", (channel, user_id)
        )
        if channel == WEBCHAT:  # its mailbox has one channel's users only
            await connection.execute("DELETE FROM webchat_messages WHERE user_id = ?", (user_id,))
        # The monitoring events stay (they are counts), cut loose from their pseudonym.
        await unlink(connection, f"{channel}:{user_id}")
    # Deleted rows are zeroed in the database file (secure_delete); their earlier versions
    # are still in the WAL until it is folded back and emptied.
    await database.checkpoint()
    return cancelled
