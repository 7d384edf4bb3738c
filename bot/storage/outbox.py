"""This module contains the outbox: messages to send, kept until a channel confirms them.

A message is written before any attempt to send it, so a crash or a platform outage loses
nothing; each recipient's messages go out in order, one at a time.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import Database
from bot.storage.records import Notice
from bot.storage.tables import notice_parts, outbox

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


#: Deletes the messages ``{marks}`` marked ``forget`` that are no longer to send (``_forget``).
_FORGET = (
    "DELETE FROM outbox WHERE id IN ({marks}) AND status != 'pending' "
    "AND json_extract(payload, '$.forget') = 1"
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


_COLUMNS = "id, channel, recipient, payload, attempts, created_at, sending_since"


def _message(row: tuple[object, ...]) -> OutboxMessage:
    number, channel, recipient, payload, attempts, created_at, sending_since = row
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
        rows = [
            (channel, recipient, json.dumps(reply.to_json(), ensure_ascii=False), now, now)
            for reply in replies
        ]

        def queue(connection: sqlite3.Connection) -> list[int] | None:
            if in_reply_to is not None:
                cursor = connection.execute(
                    "INSERT OR IGNORE INTO inbound_seen (channel, message_id, received_at) "
                    "VALUES (?, ?, ?)",
                    (channel, in_reply_to, now),
                )
                if cursor.rowcount == 0:
                    return None
                # The turn is saved with its replies: the stored update is done with.
                connection.execute(
                    "DELETE FROM inbound_updates WHERE channel = ? AND update_key = ?",
                    (channel, in_reply_to),
                )
            return [
                int(
                    connection.execute(
                        "INSERT INTO outbox (channel, recipient, payload, created_at, updated_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        row,
                    ).lastrowid
                    or 0
                )
                for row in rows
            ]

        # Every reply of every WhatsApp message comes through here: one trip, not 4 + n.
        return await self._db.transaction_in_one_trip(queue)

    async def add_notices(self, notices: Iterable[Notice]) -> int:
        """Queue notices that follow no stored change (a staff alert, say)."""
        async with self._db.legacy_transaction() as connection:
            return await queue_notices(connection, notices)

    async def due(self, channel: str, limit: int = 50) -> list[OutboxMessage]:
        """The next message of each recipient whose turn has come (older ones first)."""
        # execute_fetchall: one round trip to the database's thread (a cursor costs three).
        # The pending messages in order, up to the limit (the index named: without statistics
        # SQLite would take outbox_due, read every pending message and sort them all).
        rows = await self._db.legacy_connection.execute_fetchall(
            f"""
            SELECT {_COLUMNS} FROM outbox AS o INDEXED BY outbox_pending
            WHERE channel = ? AND status = 'pending' AND next_attempt_at <= ?
              AND NOT EXISTS (SELECT 1 FROM outbox AS earlier
                              WHERE earlier.channel = o.channel
                                AND earlier.recipient = o.recipient
                                AND earlier.status = 'pending' AND earlier.id < o.id)
            ORDER BY id LIMIT ?
            """,
            (channel, time.time(), limit),
        )
        return [_message(tuple(row)) for row in rows]

    async def pending(self, channel: str) -> list[OutboxMessage]:
        """Every message of a channel still to send, oldest first."""
        async with self._db.legacy_connection.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE channel = ? AND status = 'pending' ORDER BY id",
            (channel,),
        ) as cursor:
            return [_message(tuple(row)) for row in await cursor.fetchall()]

    async def following(
        self, channel: str, recipient: str, after: int, limit: int
    ) -> list[OutboxMessage]:
        """The recipient's messages waiting behind message ``after``, in order."""
        async with self._db.legacy_connection.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE channel = ? AND recipient = ? "
            "AND status = 'pending' AND id > ? ORDER BY id LIMIT ?",
            (channel, recipient, after, limit),
        ) as cursor:
            return [_message(tuple(row)) for row in await cursor.fetchall()]

    async def mark_sending(self, message_ids: list[int], since: float) -> None:
        """An attempt begins: until its outcome is recorded, the messages are in doubt."""
        marks = ", ".join("?" for _ in message_ids)
        # The earliest attempt whose outcome is unknown is kept: what went since then counts.
        await self._db.legacy_write(
            f"UPDATE outbox SET sending_since = coalesce(sending_since, ?) WHERE id IN ({marks})",
            (since, *message_ids),
        )

    async def clear_sending(self, message_ids: list[int]) -> None:
        """The platform refused the attempt: nothing went, nothing is in doubt."""
        marks = ", ".join("?" for _ in message_ids)
        await self._db.legacy_write(
            f"UPDATE outbox SET sending_since = NULL WHERE id IN ({marks})", tuple(message_ids)
        )

    async def known_provider_ids(self, channel: str, provider_ids: list[str]) -> set[str]:
        """Which of these platform ids our outbox recorded already (as sent messages')."""
        if not provider_ids:
            return set()
        marks = ", ".join("?" for _ in provider_ids)
        async with self._db.legacy_connection.execute(
            f"SELECT provider_id FROM outbox WHERE channel = ? AND provider_id IN ({marks})",
            (channel, *provider_ids),
        ) as cursor:
            return {str(row[0]) for row in await cursor.fetchall()}

    async def mark_sent(self, message_id: int, provider_id: str | None) -> None:
        await self.mark_sent_many([message_id], provider_id)

    async def mark_sent_many(self, message_ids: list[int], provider_id: str | None) -> None:
        """Messages that went out together (a digest) share the id of what was sent."""
        marks = ", ".join("?" for _ in message_ids)
        now = time.time()

        def mark(connection: sqlite3.Connection) -> int:
            connection.execute(
                "UPDATE outbox SET status = 'sent', provider_id = ?, attempts = attempts + 1, "
                f"error = NULL, sending_since = NULL, updated_at = ? WHERE id IN ({marks})",
                (provider_id, now, *message_ids),
            )
            return int(connection.execute(_FORGET.format(marks=marks), message_ids).rowcount)

        # One trip for every message sent (30 a second while a backlog drains), not two: a
        # user's reply waits behind each on the database's thread.
        if await self._db.transaction_in_one_trip(mark) > 0:
            await self._db.checkpoint()

    async def remember_parts(self, channel: str, recipient: str, part_ids: list[str]) -> None:
        """The platform's ids of a notice sent as several messages, in order: a reply to any
        of them finds the notice, recorded under the last one's id (``SENT_AS``)."""
        now = time.time()
        last = part_ids[-1]
        async with self._db.legacy_transaction() as connection:
            await connection.executemany(
                "INSERT OR REPLACE INTO notice_parts "
                "(channel, recipient, message_id, last_id, created_at) VALUES (?, ?, ?, ?, ?)",
                [(channel, recipient, part, last, now) for part in part_ids[:-1]],
            )

    async def mark_retry(self, message_id: int, error: str, delay: float, give_up: bool) -> None:
        await self._db.legacy_write(
            "UPDATE outbox SET status = ?, attempts = attempts + 1, error = ?, "
            "next_attempt_at = ?, updated_at = ? WHERE id = ?",
            (
                FAILED if give_up else PENDING,
                error[:500],
                time.time() + delay,
                time.time(),
                message_id,
            ),
        )
        if give_up:
            await self._forget([message_id])

    async def mark_refused(self, message_id: int, reason: str) -> None:
        await self._db.legacy_write(
            "UPDATE outbox SET status = 'refused', error = ?, sending_since = NULL, updated_at = ? "
            "WHERE id = ?",
            (reason[:500], time.time(), message_id),
        )
        await self._forget([message_id])

    async def _forget(self, message_ids: list[int]) -> None:
        """Delete the messages marked ``forget`` (the confirmation that a user's data was
        erased) once they are no longer to send: their recipient and text leave the database,
        and the WAL is emptied so that no copy stays on disk."""
        marks = ", ".join("?" for _ in message_ids)
        cursor = await self._db.legacy_write(_FORGET.format(marks=marks), tuple(message_ids))
        if cursor.rowcount > 0:
            await self._db.checkpoint()

    async def mark_delivery_failed(self, provider_id: str, error: str) -> bool:
        """A platform reported, later, that a sent message was not delivered."""
        cursor = await self._db.legacy_write(
            "UPDATE outbox SET status = 'failed', error = ?, updated_at = ? WHERE provider_id = ?",
            (error[:500], time.time(), provider_id),
        )
        return cursor.rowcount > 0

    async def counts(self, channel: str) -> dict[str, int]:
        async with self._db.legacy_connection.execute(
            "SELECT status, count(*) FROM outbox WHERE channel = ? GROUP BY status", (channel,)
        ) as cursor:
            return {str(status): int(count) for status, count in await cursor.fetchall()}

    async def errors(self, channel: str) -> list[tuple[str, str, str]]:
        """(recipient, status, error) of messages that failed or were refused."""
        async with self._db.legacy_connection.execute(
            "SELECT recipient, status, error FROM outbox WHERE channel = ? "
            "AND status IN ('failed', 'refused') ORDER BY id",
            (channel,),
        ) as cursor:
            return [(str(a), str(b), str(c)) for a, b, c in await cursor.fetchall()]
