"""This module contains the retention rule: personal data is kept only as long as configured."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    Executable,
    Text,
    and_,
    case,
    cast,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import Database
from bot.storage.events import unlink
from bot.storage.expressions import json_text
from bot.storage.leases import alive_at
from bot.storage.tables import (
    appointment_requests,
    appointments,
    checklist_answers,
    contacts,
    deadline_reminders,
    handovers,
    inbound_seen,
    inbound_updates,
    leases,
    notice_parts,
    outbox,
    sessions,
    shared_questions,
    turn_locks,
    webchat_messages,
)

DAY = 86_400.0
INBOUND_IDS_DAYS = 7  # platform message ids: only needed to spot retries
WEBCHAT = "webchat"
#: How slot times and sessions' times are written (UTC): compared as text, as they sort.
MOMENT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
#: What a past row keeps instead of its user id: gone with time, or at the user's request.
EXPIRED, ERASED = "expired", "erased"
#: Requests still waiting for staff or for the user's answer.
WAITING = ("open", "proposed")


#: Days a deadline reminder is kept once sent and its event past (SPORTELLO_DEADLINE_KEEP_DAYS).
DEADLINE_KEEP_DAYS = 7


def _moment(now: datetime, days_ago: int = 0) -> str:
    """A UTC moment as slot times and sessions store it, ``days_ago`` days before ``now``."""
    return (now - timedelta(days=days_ago)).strftime(MOMENT_FORMAT)


def _day(now: datetime, days_ago: int) -> str:
    """A UTC calendar day as deadline reminders store it (``2026-12-01``)."""
    return (now.date() - timedelta(days=days_ago)).isoformat()


async def purge(
    database: Database, retention_days: int, deadline_keep_days: int = DEADLINE_KEEP_DAYS
) -> dict[str, int]:
    """Delete conversations, contacts and sent messages older than the retention period, and
    deadline reminders once sent and ``deadline_keep_days`` past their event."""
    now = time.time()
    today = datetime.fromtimestamp(now, UTC)
    cutoff = now - retention_days * DAY
    old_moment = _moment(today, int(retention_days))
    write = database.write
    removed: dict[str, int] = {}
    removed["sessions"] = await write(delete(sessions).where(sessions.c.updated_at < old_moment))
    removed["contacts"] = await write(delete(contacts).where(contacts.c.last_inbound_at < cutoff))
    # Pending messages stay while they may still go (the worker gives up after a day); one
    # still queued after the whole retention period (its channel was turned off) goes too.
    removed["outbox"] = await write(
        delete(outbox).where(
            or_(
                and_(outbox.c.status != "pending", outbox.c.updated_at < cutoff),
                outbox.c.created_at < cutoff,
            )
        )
    )
    removed["notice_parts"] = await write(
        delete(notice_parts).where(notice_parts.c.created_at < cutoff)
    )
    # Past appointments keep only what the anonymous counts need: office, service, time,
    # channel, language, status; not the name, the phone, nor the user id (on WhatsApp the
    # phone number itself, on Telegram the account).
    removed["appointment_contacts"] = await write(
        update(appointments)
        .where(
            appointments.c.ends_at < old_moment,
            or_(
                appointments.c.name.is_not(None),
                appointments.c.phone.is_not(None),
                appointments.c.user_id.not_in([EXPIRED, ERASED]),
            ),
        )
        .values(
            name=None,
            phone=None,
            user_id=case((appointments.c.user_id == ERASED, ERASED), else_=EXPIRED),
        )
    )
    # Conversations with a person: closed, and no longer linked to anyone, once old.
    removed["handovers"] = await write(
        update(handovers)
        .where(handovers.c.opened_at < cutoff, handovers.c.user_id != EXPIRED)
        .values(
            user_id=EXPIRED,
            closed_at=func.coalesce(handovers.c.closed_at, time.time()),
            closed_by=func.coalesce(handovers.c.closed_by, EXPIRED),
        )
    )
    removed["shared_questions"] = await write(
        delete(shared_questions).where(shared_questions.c.shared_at < cutoff)
    )
    # Requests: one left waiting longer than the retention period is closed; a closed one
    # keeps no name, phone or user once old (its appointment, if any, has its own rule).
    removed["requests_expired"] = await write(
        update(appointment_requests)
        .where(
            appointment_requests.c.status.in_(WAITING),
            # Both older than the cut-off: the later of the two is.
            appointment_requests.c.waiting_since < cutoff,
            appointment_requests.c.updated_at < cutoff,
        )
        .values(status=EXPIRED, name=None, phone=None, user_id=EXPIRED, updated_at=time.time())
    )
    removed["request_contacts"] = await write(
        update(appointment_requests)
        .where(
            appointment_requests.c.status.not_in(WAITING),
            appointment_requests.c.updated_at < cutoff,
            appointment_requests.c.user_id.not_in([EXPIRED, ERASED]),
        )
        .values(name=None, phone=None, user_id=EXPIRED)
    )
    # Checklist answers serve the confirmation, the proposal and the reminder: kept while the
    # appointment is still to come or the request waits, whatever the retention period.
    removed["checklist_answers"] = await write(
        delete(checklist_answers).where(
            checklist_answers.c.code.not_in(
                select(appointments.c.code).where(
                    appointments.c.status == "active", appointments.c.ends_at >= _moment(today)
                )
            ),
            checklist_answers.c.code.not_in(
                select(appointment_requests.c.code).where(
                    appointment_requests.c.status.in_(WAITING)
                )
            ),
        )
    )
    removed["inbound_ids"] = await write(
        delete(inbound_seen).where(inbound_seen.c.received_at < now - INBOUND_IDS_DAYS * DAY)
    )
    # Updates stored on arrival are deleted once processed; one left over (a crash that no
    # start processed) is never kept beyond the retention period.
    removed["inbound_updates"] = await write(
        delete(inbound_updates).where(inbound_updates.c.received_at < cutoff)
    )
    # Several instances: a turn held by an instance that died names its user (on WhatsApp a
    # phone number); a lease expired for a day is an instance long gone.
    now = time.time()
    removed["turn_locks"] = await write(
        delete(turn_locks).where(~alive_at(turn_locks.c.holder, now))
    )
    removed["leases"] = await write(delete(leases).where(leases.c.expires_at < now - DAY))
    # Deadline reminders: nothing is left to remind once sent and their event is past (the
    # permit expired, say). One never sent (its channel was turned off) goes when its day is
    # older than the retention period. Dates are the counter's days; a few hours of UTC do
    # not matter at this scale.
    removed["deadline_reminders"] = await write(
        delete(deadline_reminders).where(
            or_(
                and_(
                    deadline_reminders.c.sent_at.is_not(None),
                    deadline_reminders.c.event_date < _day(today, int(deadline_keep_days)),
                ),
                deadline_reminders.c.remind_on < _day(today, int(retention_days)),
            )
        )
    )
    # Web chat messages no browser came back for: kept no longer than a conversation.
    removed["webchat_messages"] = await write(
        delete(webchat_messages).where(webchat_messages.c.created_at < cutoff)
    )
    # The removed rows' old copies leave the WAL too (and those of an erasure whose own
    # emptying of the WAL could not finish): at the latest an hour after they were deleted.
    # (On PostgreSQL, a no-op: its own vacuum reclaims dead rows.)
    await database.checkpoint()
    return removed


def _mentions(database: Database, code: str) -> ColumnElement[bool]:
    """Whether an outbox message's payload holds ``code`` anywhere, letter case counting (a
    ``LIKE`` would ignore it on SQLite, and take ``_`` for any character)."""
    if database.is_sqlite:
        return func.instr(outbox.c.payload, code) > 0
    return func.strpos(outbox.c.payload, code) > 0


def _handover_notice(database: Database, channel: str, user_id: str) -> ColumnElement[bool]:
    """Whether an outbox message is a notice about one of this user's conversations with a
    person (``{"notice": {"handover": <its id>}}``)."""
    theirs = and_(handovers.c.channel == channel, handovers.c.user_id == user_id)
    field = json_text(outbox.c.payload, "notice", "handover")
    if database.is_sqlite:  # json_extract gives the number itself
        return field.in_(select(handovers.c.id).where(theirs))
    # PostgreSQL's #>> gives the number's text: compared with the ids' text, never cast
    # (a payload with anything else there must not fail the whole erasure).
    return field.in_(select(cast(handovers.c.id, Text)).where(theirs))


async def _codes(connection: AsyncConnection, statement: Executable) -> list[str]:
    result = await connection.execute(statement)
    return [str(row[0]) for row in result.fetchall()]


async def erase_user(database: Database, channel: str, user_id: str) -> list[str]:
    """Everything personal about one user, gone at their request; returns the codes of the
    future appointments this cancelled and of the requests it withdrew. Anonymous rows
    (service, office, date) stay for the counts, with no name, phone or user id.

    All of it in one transaction that runs alone among writers: either everything is erased
    or, on any error, nothing is."""
    theirs = and_(appointments.c.channel == channel, appointments.c.user_id == user_id)
    their_requests = and_(
        appointment_requests.c.channel == channel, appointment_requests.c.user_id == user_id
    )
    now_moment = _moment(datetime.now(UTC))
    async with database.transaction() as connection:
        execute = connection.execute
        # The checklist answers of every appointment and request of theirs, whatever its state.
        await execute(
            delete(checklist_answers).where(
                checklist_answers.c.code.in_(
                    select(appointments.c.code)
                    .where(theirs)
                    .union(select(appointment_requests.c.code).where(their_requests))
                )
            )
        )
        upcoming = and_(
            theirs, appointments.c.status == "active", appointments.c.starts_at >= now_moment
        )
        cancelled = await _codes(
            connection, select(appointments.c.code).where(upcoming).order_by(appointments.c.id)
        )
        await execute(update(appointments).where(upcoming).values(status="cancelled"))
        # Their requests still waiting are withdrawn (staff are told, with the bookings).
        withdrawn = await _codes(
            connection,
            select(appointment_requests.c.code)
            .where(their_requests, appointment_requests.c.status.in_(WAITING))
            .order_by(appointment_requests.c.id),
        )
        cancelled += [code for code in withdrawn if code not in cancelled]
        await execute(
            update(appointment_requests)
            .where(their_requests)
            .values(
                status=case(
                    (appointment_requests.c.status.in_(WAITING), "withdrawn"),
                    else_=appointment_requests.c.status,
                ),
                name=None,
                phone=None,
                user_id=ERASED,
                proposed_start=None,
                proposed_end=None,
                updated_at=time.time(),
            )
        )
        # Our copies of what staff were sent about this user: their bookings (names, phones)
        # and their conversations with a person (their questions).
        codes = await _codes(
            connection, select(appointments.c.code).where(theirs).order_by(appointments.c.id)
        )
        codes += [code for code in withdrawn if code not in codes]  # and their requests
        for code in codes:
            await execute(delete(outbox).where(_mentions(database, code)))
        await execute(delete(outbox).where(_handover_notice(database, channel, user_id)))
        await execute(
            update(appointments).where(theirs).values(name=None, phone=None, user_id=ERASED)
        )
        await execute(
            update(handovers)
            .where(handovers.c.channel == channel, handovers.c.user_id == user_id)
            .values(
                user_id=ERASED,
                closed_at=func.coalesce(handovers.c.closed_at, time.time()),
                closed_by=func.coalesce(handovers.c.closed_by, ERASED),
            )
        )
        await execute(
            delete(sessions).where(sessions.c.channel == channel, sessions.c.user_id == user_id)
        )
        await execute(
            delete(contacts).where(contacts.c.channel == channel, contacts.c.user_id == user_id)
        )
        # The turn asking for the erasure holds this row (the user's id): it goes now, before
        # the WAL is emptied; that turn saves nothing after this.
        await execute(
            delete(turn_locks).where(
                turn_locks.c.channel == channel, turn_locks.c.user_id == user_id
            )
        )
        await execute(
            delete(outbox).where(outbox.c.channel == channel, outbox.c.recipient == user_id)
        )
        await execute(
            delete(shared_questions).where(
                shared_questions.c.channel == channel, shared_questions.c.user_id == user_id
            )
        )
        await execute(
            delete(deadline_reminders).where(
                deadline_reminders.c.channel == channel, deadline_reminders.c.user_id == user_id
            )
        )
        if channel == WEBCHAT:  # its mailbox has one channel's users only
            await execute(delete(webchat_messages).where(webchat_messages.c.user_id == user_id))
        # The monitoring events stay (they are counts), cut loose from their pseudonym.
        await unlink(connection, f"{channel}:{user_id}")
    # Deleted rows are zeroed in the database file (secure_delete); their earlier versions
    # are still in the WAL until it is folded back and emptied. (PostgreSQL: a no-op.)
    await database.checkpoint()
    return cancelled
