"""This module contains what is remembered of inbound messages: ids seen, last contact."""

from __future__ import annotations

import time

from bot.storage.db import Database


class InboundLog:
    """Platform message ids already processed (marked by the outbox), and last contacts."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def seen(self, channel: str, message_id: str) -> bool:
        """Whether this platform message id was processed already (a retried webhook)."""
        async with self._db.connection.execute(
            "SELECT 1 FROM inbound_seen WHERE channel = ? AND message_id = ?", (channel, message_id)
        ) as cursor:
            return await cursor.fetchone() is not None

    async def touch(self, channel: str, user_id: str) -> None:
        """Remember that the user wrote now (it opens WhatsApp's 24-hour window)."""
        await self._db.write(
            "INSERT INTO contacts (channel, user_id, last_inbound_at) VALUES (?, ?, ?) "
            "ON CONFLICT (channel, user_id) "
            "DO UPDATE SET last_inbound_at = excluded.last_inbound_at",
            (channel, user_id, time.time()),
        )

    async def last_inbound(self, channel: str, user_id: str) -> float | None:
        async with self._db.connection.execute(
            "SELECT last_inbound_at FROM contacts WHERE channel = ? AND user_id = ?",
            (channel, user_id),
        ) as cursor:
            row = await cursor.fetchone()
        return float(row[0]) if row else None
