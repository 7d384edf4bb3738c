"""This module contains the repair after an outage: failed messages put back in the outbox.

The outbox worker gives a message up after a day of failed attempts. After a longer
outage of a platform, the administrator queues those messages again once it is back
(``sportello outbox retry``). Only messages the platform never accepted go back: one it accepted
and later reported undelivered would most likely fail the same way again.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.storage.db import Database


async def requeue_failed(database: Database, since: float, channel: str | None = None) -> int:
    """Queue again the messages that failed for good since ``since``; returns how many."""
    # created_at starts again too: the worker measures a message's day of retries from it.
    now = time.time()
    cursor = await database.legacy_write(
        "UPDATE outbox SET status = 'pending', attempts = 0, next_attempt_at = 0, "
        "created_at = ?, updated_at = ? WHERE status = 'failed' AND provider_id IS NULL "
        "AND updated_at >= ? AND (? IS NULL OR channel = ?)",
        (now, now, since, channel, channel),
    )
    return int(cursor.rowcount)


@dataclass(frozen=True)
class OutboxTrouble:
    """What ``sportello doctor`` reports of the outbox: waiting and given-up messages."""

    pending: dict[str, int] = field(default_factory=dict)
    oldest_pending_at: float | None = None
    failed_since: dict[str, int] = field(default_factory=dict)


def outbox_trouble(path: Path, since: float) -> OutboxTrouble:
    """Read (never write) the outbox of the database file at ``path``."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        pending = dict(
            connection.execute(
                "SELECT channel, count(*) FROM outbox WHERE status = 'pending' GROUP BY channel"
            ).fetchall()
        )
        oldest = connection.execute(
            "SELECT min(created_at) FROM outbox WHERE status = 'pending'"
        ).fetchone()[0]
        failed = dict(
            connection.execute(
                "SELECT channel, count(*) FROM outbox WHERE status = 'failed' "
                "AND provider_id IS NULL AND updated_at >= ? GROUP BY channel",
                (since,),
            ).fetchall()
        )
    finally:
        connection.close()
    return OutboxTrouble(
        {str(k): int(v) for k, v in pending.items()},
        float(oldest) if oldest is not None else None,
        {str(k): int(v) for k, v in failed.items()},
    )
