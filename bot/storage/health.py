"""This module contains the read-only queries behind ``/healthz`` and ``/metrics``.

Only counts and times: nothing here reads a recipient, a name or a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select

from bot.storage.db import Database
from bot.storage.tables import appointments, outbox


@dataclass
class OutboxState:
    """One channel's outbox: messages per status, the last send, the oldest message waiting."""

    channel: str
    counts: dict[str, int] = field(default_factory=dict)
    last_sent_at: float | None = None
    oldest_pending_at: float | None = None

    @property
    def backlog(self) -> int:
        return self.counts.get("pending", 0)


async def outbox_states(database: Database) -> dict[str, OutboxState]:
    """Every channel that has used the outbox, by name."""
    states: dict[str, OutboxState] = {}
    found = await database.fetch_all(
        select(
            outbox.c.channel,
            outbox.c.status,
            func.count(),
            func.max(outbox.c.updated_at),
            func.min(outbox.c.created_at),
        ).group_by(outbox.c.channel, outbox.c.status)
    )
    for row in found:
        channel, status, count, last_update, first_created = tuple(row)
        state = states.setdefault(str(channel), OutboxState(str(channel)))
        state.counts[str(status)] = int(count)
        if status == "sent":
            state.last_sent_at = float(last_update)
        elif status == "pending":
            state.oldest_pending_at = float(first_created)
    return states


async def bookings_by_status(database: Database) -> dict[str, int]:
    """How many appointments are active, cancelled, attended, no-show (all time)."""
    found = await database.fetch_all(
        select(appointments.c.status, func.count().label("bookings")).group_by(
            appointments.c.status
        )
    )
    return {str(row.status): int(row.bookings) for row in found}
