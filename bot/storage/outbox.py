"""This module contains the outbox: messages to send, kept until a channel confirms them.

A message is written before any attempt to send it, so a crash or a platform outage loses
nothing; each recipient's messages go out in order, one at a time. The sender claims them
(``Outbox.due``): a message claimed is no other claim's until its outcome is recorded or the
claim runs out, so that it goes once even if two instances ever send the same channel.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Delete,
    Row,
    Select,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import Database
from bot.storage.expressions import json_true
from bot.storage.records import Notice
from bot.storage.tables import inbound_seen, inbound_updates, notice_parts, outbox

__all__ = ["Notice", "Outbox", "OutboxMessage", "queue_notices", "sent_as"]

PENDING, SENT, FAILED, REFUSED = "pending", "sent", "failed", "refused"
#: SQL for the outbox's ``provider_id`` of the notice that the platform's message id
#: (channel, recipient, message id, message id again) belongs to: the id itself, or, for an
#: earlier part of a notice sent in several messages, its last part's (``remember_parts``).
SENT_AS = (
    "coalesce((SELECT last_id FROM notice_parts WHERE channel = ? AND recipient = ? "
    "AND message_id = ?), ?)"
)


def sent_as(channel: str, recipient: str, message_id: str) -> ColumnElement[str]:
    """The outbox's ``provider_id`` of the notice that the platform's message id belongs to:
    the id itself, or, for an earlier part of a notice sent in several messages, its last
    part's (``remember_parts``)."""
    last_part = (
        select(notice_parts.c.last_id)
        .where(
            notice_parts.c.channel == channel,
            notice_parts.c.recipient == recipient,
            notice_parts.c.message_id == message_id,
        )
        .scalar_subquery()
    )
    return func.coalesce(last_part, message_id)


#: How long a claim (``Outbox.due``) keeps the messages it took from any other claim: twice
#: the longest a platform's call may take (WhatsApp's 30 s). A message whose sender died with
#: it on the wire is sent again (in doubt) once the claim has run out, not at once.
CLAIM_SECONDS = 60.0


def _forgotten(message_ids: list[int]) -> Delete:
    """Deletes those of the messages marked ``forget`` that are no longer to send."""
    return delete(outbox).where(
        outbox.c.id.in_(message_ids),
        outbox.c.status != PENDING,
        json_true(outbox.c.payload, "forget"),
    )


@dataclass(frozen=True)
class OutboxMessage:
    id: int
    channel: str
    recipient: str
    payload: dict[str, Any]
    attempts: int
    created_at: float = 0.0
    #: When an attempt to send it began that never recorded its outcome (the process died
    #: or stopped meanwhile): the platform may have it already. None: not in doubt.
    sending_since: float | None = None


_COLUMNS = (
    outbox.c.id,
    outbox.c.channel,
    outbox.c.recipient,
    outbox.c.payload,
    outbox.c.attempts,
    outbox.c.created_at,
    outbox.c.sending_since,
)


def _claimable(channel: str, now: float, limit: int) -> Select[Any]:
    """The next message of each recipient of the channel whose turn has come, in order, up to
    ``limit``; on PostgreSQL locked for the claim, skipping those another claim holds."""
    earlier = outbox.alias("earlier")
    return (
        select(*_COLUMNS)
        .where(
            outbox.c.channel == channel,
            outbox.c.status == PENDING,
            # "+ 0": no index on it, so that SQLite walks outbox_pending (channel, status, id)
            # in order and stops at the limit, rather than outbox_due and a sort of the whole
            # backlog (310,000 steps of its machine for 10,000 notices waiting).
            outbox.c.next_attempt_at + 0 <= now,
            ~exists().where(
                earlier.c.channel == outbox.c.channel,
                earlier.c.recipient == outbox.c.recipient,
                earlier.c.status == PENDING,
                earlier.c.id < outbox.c.id,
            ),
        )
        .order_by(outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )


def _message(row: Row[Any]) -> OutboxMessage:
    number, channel, recipient, payload, attempts, created_at, sending_since = tuple(row)
    return OutboxMessage(
        int(str(number)),
        str(channel),
        str(recipient),
        json.loads(str(payload)),
        int(str(attempts)),
        float(str(created_at)),
        float(str(sending_since)) if sending_since is not None else None,
    )


async def queue_notices(connection: AsyncConnection, notices: Iterable[Notice]) -> int:
    """Queue notices inside the caller's transaction; returns how many."""
    now = time.time()
    rows = [
        {
            "channel": notice.channel,
            "recipient": notice.recipient,
            "payload": json.dumps(notice.to_json(), ensure_ascii=False),
            "created_at": now,
            "updated_at": now,
        }
        for notice in notices
    ]
    if rows:
        await connection.execute(insert(outbox), rows)
    return len(rows)


class Outbox:
    """Persistent queue of outgoing messages, per channel."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def add(
        self,
        channel: str,
        recipient: str,
        replies: Sequence[Notice],
        in_reply_to: str | None = None,
    ) -> list[int] | None:
        """Queue messages (a channel's replies, rendered) for one recipient of a channel, in
        order, in one transaction; stored in their ``to_json`` form.

        With ``in_reply_to`` (the platform's id of the message being answered) the inbound
        message is marked processed in the same transaction; if it already was (a platform
        retry racing the first delivery), nothing is queued and None is returned.
        """
        now = time.time()
        async with self._db.transaction() as connection:
            if in_reply_to is not None:
                seen = await connection.execute(
                    self._db.insert(inbound_seen)
                    .values(channel=channel, message_id=in_reply_to, received_at=now)
                    .on_conflict_do_nothing()
                )
                if seen.rowcount == 0:
                    return None
                # The turn is saved with its replies: the stored update is done with.
                await connection.execute(
                    delete(inbound_updates).where(
                        inbound_updates.c.channel == channel,
                        inbound_updates.c.update_key == in_reply_to,
                    )
                )
            ids: list[int] = []
            for reply in replies:  # one by one: each id, in order
                added = await connection.execute(
                    insert(outbox)
                    .values(
                        channel=channel,
                        recipient=recipient,
                        payload=json.dumps(reply.to_json(), ensure_ascii=False),
                        created_at=now,
                        updated_at=now,
                    )
                    .returning(outbox.c.id)
                )
                ids.append(int(added.scalar_one()))
            return ids

    async def add_notices(self, notices: Iterable[Notice]) -> int:
        """Queue notices that follow no stored change (a staff alert, say)."""
        async with self._db.transaction() as connection:
            return await queue_notices(connection, notices)

    async def due(self, channel: str, limit: int = 50) -> list[OutboxMessage]:
        """Claim the next message of each recipient whose turn has come (older ones first):
        marked as being sent (``sending_since``, the earliest attempt kept) and kept from any
        other claim for ``CLAIM_SECONDS``, unless its outcome is recorded first. Each message
        comes with its ``sending_since`` as it was before: not None, an earlier attempt's
        outcome is unknown.

        Only the holder of the channel's lease sends its outbox; should two instances ever
        claim at once, on PostgreSQL each skips the rows the other has locked
        (``FOR UPDATE SKIP LOCKED``), and a message claimed is not due for the other, so that
        it goes once. A recipient's later messages wait behind the claimed one, in order."""
        now = time.time()
        async with self._db.transaction(concurrent=True) as connection:
            claimed = [
                _message(row) for row in await connection.execute(_claimable(channel, now, limit))
            ]
            if claimed:
                await connection.execute(
                    update(outbox)
                    .where(outbox.c.id.in_([message.id for message in claimed]))
                    .values(
                        sending_since=func.coalesce(outbox.c.sending_since, now),
                        next_attempt_at=now + CLAIM_SECONDS,
                    )
                )
        return claimed

    async def pending(self, channel: str) -> list[OutboxMessage]:
        """Every message of a channel still to send, oldest first."""
        rows = await self._db.fetch_all(
            select(*_COLUMNS)
            .where(outbox.c.channel == channel, outbox.c.status == PENDING)
            .order_by(outbox.c.id)
        )
        return [_message(row) for row in rows]

    async def following(
        self, channel: str, recipient: str, after: int, limit: int
    ) -> list[OutboxMessage]:
        """The recipient's messages waiting behind message ``after``, in order."""
        rows = await self._db.fetch_all(
            select(*_COLUMNS)
            .where(
                outbox.c.channel == channel,
                outbox.c.recipient == recipient,
                outbox.c.status == PENDING,
                outbox.c.id > after,
            )
            .order_by(outbox.c.id)
            .limit(limit)
        )
        return [_message(row) for row in rows]

    async def release_claims(self, channel: str) -> int:
        """The channel's outbox changes hands (its lease taken, at a start or from an instance
        that died): what an earlier holder claimed and never recorded is due now, in doubt,
        rather than when its claim would run out. Returns how many."""
        now = time.time()
        return await self._db.write(
            update(outbox)
            .where(
                outbox.c.channel == channel,
                outbox.c.status == PENDING,
                outbox.c.sending_since.is_not(None),
                outbox.c.next_attempt_at > now,
            )
            .values(next_attempt_at=now)
        )

    async def mark_sending(self, message_ids: list[int], since: float) -> None:
        """An attempt begins: until its outcome is recorded, the messages are in doubt."""
        # The earliest attempt whose outcome is unknown is kept: what went since then counts.
        await self._db.write(
            update(outbox)
            .where(outbox.c.id.in_(message_ids))
            .values(sending_since=func.coalesce(outbox.c.sending_since, since))
        )

    async def clear_sending(self, message_ids: list[int]) -> None:
        """The platform refused the attempt: nothing went, nothing is in doubt."""
        await self._db.write(
            update(outbox).where(outbox.c.id.in_(message_ids)).values(sending_since=None)
        )

    async def known_provider_ids(self, channel: str, provider_ids: list[str]) -> set[str]:
        """Which of these platform ids our outbox recorded already (as sent messages')."""
        if not provider_ids:
            return set()
        rows = await self._db.fetch_all(
            select(outbox.c.provider_id).where(
                outbox.c.channel == channel, outbox.c.provider_id.in_(provider_ids)
            )
        )
        return {str(row[0]) for row in rows}

    async def mark_sent(self, message_id: int, provider_id: str | None) -> None:
        await self.mark_sent_many([message_id], provider_id)

    async def mark_sent_many(self, message_ids: list[int], provider_id: str | None) -> None:
        """Messages that went out together (a digest) share the id of what was sent; those
        to forget are deleted in the same transaction."""
        now = time.time()
        async with self._db.transaction() as connection:
            await connection.execute(
                update(outbox)
                .where(outbox.c.id.in_(message_ids))
                .values(
                    status=SENT,
                    provider_id=provider_id,
                    attempts=outbox.c.attempts + 1,
                    error=None,
                    sending_since=None,
                    updated_at=now,
                )
            )
            forgotten = (await connection.execute(_forgotten(message_ids))).rowcount
        if forgotten > 0:
            await self._db.checkpoint()

    async def remember_parts(self, channel: str, recipient: str, part_ids: list[str]) -> None:
        """The platform's ids of a notice sent as several messages, in order: a reply to any
        of them finds the notice, recorded under the last one's id (``sent_as``)."""
        now = time.time()
        last = part_ids[-1]
        earlier = [
            {
                "channel": channel,
                "recipient": recipient,
                "message_id": part,
                "last_id": last,
                "created_at": now,
            }
            for part in part_ids[:-1]
        ]
        if not earlier:
            return
        statement = self._db.insert(notice_parts).values(earlier)
        await self._db.write(
            statement.on_conflict_do_update(
                index_elements=[
                    notice_parts.c.channel,
                    notice_parts.c.recipient,
                    notice_parts.c.message_id,
                ],
                set_={
                    "last_id": statement.excluded.last_id,
                    "created_at": statement.excluded.created_at,
                },
            )
        )

    async def mark_retry(self, message_id: int, error: str, delay: float, give_up: bool) -> None:
        await self._db.write(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(
                status=FAILED if give_up else PENDING,
                attempts=outbox.c.attempts + 1,
                error=error[:500],
                next_attempt_at=time.time() + delay,
                updated_at=time.time(),
            )
        )
        if give_up:
            await self._forget([message_id])

    async def mark_refused(self, message_id: int, reason: str) -> None:
        await self._db.write(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(status=REFUSED, error=reason[:500], sending_since=None, updated_at=time.time())
        )
        await self._forget([message_id])

    async def _forget(self, message_ids: list[int]) -> None:
        """Delete the messages marked ``forget`` (the confirmation that a user's data was
        erased) once they are no longer to send: their recipient and text leave the database,
        and the WAL is emptied so that no copy stays on disk."""
        if await self._db.write(_forgotten(message_ids)) > 0:
            await self._db.checkpoint()

    async def mark_delivery_failed(self, provider_id: str, error: str) -> bool:
        """A platform reported, later, that a sent message was not delivered."""
        changed = await self._db.write(
            update(outbox)
            .where(outbox.c.provider_id == provider_id)
            .values(status=FAILED, error=error[:500], updated_at=time.time())
        )
        return changed > 0

    async def counts(self, channel: str) -> dict[str, int]:
        rows = await self._db.fetch_all(
            select(outbox.c.status, func.count())
            .where(outbox.c.channel == channel)
            .group_by(outbox.c.status)
        )
        return {str(status): int(count) for status, count in map(tuple, rows)}

    async def errors(self, channel: str) -> list[tuple[str, str, str]]:
        """(recipient, status, error) of messages that failed or were refused."""
        rows = await self._db.fetch_all(
            select(outbox.c.recipient, outbox.c.status, outbox.c.error)
            .where(outbox.c.channel == channel, outbox.c.status.in_([FAILED, REFUSED]))
            .order_by(outbox.c.id)
        )
        return [(str(a), str(b), str(c)) for a, b, c in map(tuple, rows)]
