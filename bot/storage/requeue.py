"""This module contains the repair after an outage: failed messages put back in the outbox.

The outbox worker gives a message up after a day of failed attempts. After a longer
outage of a platform, the administrator queues those messages again once it is back
(``sportello outbox retry``). Only messages the platform never accepted go back: one it accepted
and later reported undelivered would most likely fail the same way again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Row, Select, func, select, update
from sqlalchemy.exc import DBAPIError

from bot.storage.db import Database
from bot.storage.peek import is_missing_table, reading
from bot.storage.tables import outbox


async def requeue_failed(database: Database, since: float, channel: str | None = None) -> int:
    """Queue again the messages that failed for good since ``since``; returns how many."""
    # created_at starts again too: the worker measures a message's day of retries from it.
    now = time.time()
    which = [
        outbox.c.status == "failed",
        outbox.c.provider_id.is_(None),
        outbox.c.updated_at >= since,
    ]
    if channel is not None:
        which.append(outbox.c.channel == channel)
    return await database.write(
        update(outbox)
        .where(*which)
        .values(status="pending", attempts=0, next_attempt_at=0.0, created_at=now, updated_at=now)
    )


@dataclass(frozen=True)
class OutboxTrouble:
    """What ``sportello doctor`` reports of the outbox: waiting and given-up messages."""

    pending: dict[str, int] = field(default_factory=dict)
    oldest_pending_at: float | None = None
    failed_since: dict[str, int] = field(default_factory=dict)


def _pending() -> Select[str, int]:
    return (
        select(outbox.c.channel, func.count())
        .where(outbox.c.status == "pending")
        .group_by(outbox.c.channel)
    )


def _oldest() -> Select[float]:
    return select(func.min(outbox.c.created_at)).where(outbox.c.status == "pending")


def _failed(since: float) -> Select[str, int]:
    return (
        select(outbox.c.channel, func.count())
        .where(
            outbox.c.status == "failed",
            outbox.c.provider_id.is_(None),
            outbox.c.updated_at >= since,
        )
        .group_by(outbox.c.channel)
    )


def _trouble(
    pending: Sequence[Row[str, int]],
    oldest: float | None,
    failed: Sequence[Row[str, int]],
) -> OutboxTrouble:
    return OutboxTrouble(
        {str(row[0]): int(row[1]) for row in pending},
        float(oldest) if oldest is not None else None,
        {str(row[0]): int(row[1]) for row in failed},
    )


async def outbox_trouble_in(target: Path | str, since: float) -> OutboxTrouble:
    """Read (never write) the outbox of ``SPORTELLO_DB``'s database, a SQLite file or
    PostgreSQL; none in a database with no tables yet (a PostgreSQL schema before the bot's
    first start)."""
    try:
        async with reading(target) as connection:
            return _trouble(
                (await connection.execute(_pending())).fetchall(),
                (await connection.execute(_oldest())).scalar(),
                (await connection.execute(_failed(since))).fetchall(),
            )
    except DBAPIError as error:
        if is_missing_table(error):
            return OutboxTrouble()
        raise
