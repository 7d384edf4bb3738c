"""This module contains the read-only queries behind ``/healthz`` and ``/metrics``.

Only counts and times: nothing here reads a recipient, a name or a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.storage.db import Database


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
    async with database.legacy_connection.execute(
        "SELECT channel, status, count(*), max(updated_at), min(created_at) "
        "FROM outbox GROUP BY channel, status"
    ) as cursor:
        for channel, status, count, last_update, first_created in await cursor.fetchall():
            state = states.setdefault(str(channel), OutboxState(str(channel)))
            state.counts[str(status)] = int(count)
            if status == "sent":
                state.last_sent_at = float(last_update)
            elif status == "pending":
                state.oldest_pending_at = float(first_created)
    return states


async def bookings_by_status(database: Database) -> dict[str, int]:
    """How many appointments are active, cancelled, attended, no-show (all time)."""
    async with database.legacy_connection.execute(
        "SELECT status, count(*) FROM appointments GROUP BY status"
    ) as cursor:
        return {str(status): int(count) for status, count in await cursor.fetchall()}
