"""This module contains what is remembered of inbound messages: ids seen, last contact."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from bot.storage.db import Database
from bot.storage.leases import alive


class InboundLog:
    """Platform message ids already processed (marked by the outbox), and last contacts."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def seen(self, channel: str, message_id: str) -> bool:
        """Whether this platform message id was processed already (a retried webhook)."""
        rows = await self._db.legacy_connection.execute_fetchall(
            "SELECT 1 FROM inbound_seen WHERE channel = ? AND message_id = ?", (channel, message_id)
        )
        return bool(rows)

    async def touch(self, channel: str, user_id: str) -> None:
        """Remember that the user wrote now (it opens WhatsApp's 24-hour window)."""
        await self._db.legacy_write(
            "INSERT INTO contacts (channel, user_id, last_inbound_at) VALUES (?, ?, ?) "
            "ON CONFLICT (channel, user_id) "
            "DO UPDATE SET last_inbound_at = excluded.last_inbound_at",
            (channel, user_id, time.time()),
        )

    async def last_inbound(self, channel: str, user_id: str) -> float | None:
        rows = list(
            await self._db.legacy_connection.execute_fetchall(
                "SELECT last_inbound_at FROM contacts WHERE channel = ? AND user_id = ?",
                (channel, user_id),
            )
        )
        return float(rows[0][0]) if rows else None


class InboundQueue:
    """Updates stored as they arrive, before the platform is told they were received.

    The platform stops redelivering an update once we acknowledge it (a webhook's 200, the
    next getUpdates offset); a crash before its turn is saved would lose it. Stored first, it
    is processed at the next start. A processed update leaves its key in ``inbound_seen``
    (the platform's message id, as the outbox marks it), so a redelivery is not answered
    twice. Raw updates hold personal data: deleted as soon as processed.
    """

    def __init__(self, database: Database) -> None:
        self._db = database

    async def keep(self, channel: str, key: str, payload: dict[str, Any]) -> bool:
        """Store an update, in one statement; False when it was processed already or is
        stored already (a redelivery: whoever holds the first copy answers it)."""
        # One statement, so one round trip to the database's thread, and atomic on its own.
        # Stored as this instance's: another one takes it over only if this one dies.
        cursor = await self._db.legacy_write(
            "INSERT OR IGNORE INTO inbound_updates "
            "(channel, update_key, payload, received_at, holder) "
            "SELECT ?, ?, ?, ?, ? WHERE NOT EXISTS "
            "(SELECT 1 FROM inbound_seen WHERE channel = ? AND message_id = ?)",
            (
                channel,
                key,
                json.dumps(payload, ensure_ascii=False),
                time.time(),
                self._db.holder,
                channel,
                key,
            ),
        )
        return cursor.rowcount > 0

    async def done(self, channel: str, key: str) -> None:
        """The update's turn is saved: forget the update, remember its key."""
        now = time.time()

        def mark(connection: sqlite3.Connection) -> None:
            connection.execute(
                "DELETE FROM inbound_updates WHERE channel = ? AND update_key = ?", (channel, key)
            )
            connection.execute(
                "INSERT OR IGNORE INTO inbound_seen (channel, message_id, received_at) "
                "VALUES (?, ?, ?)",
                (channel, key, now),
            )

        # One trip, not four: every Telegram reply waits for it before it is sent.
        await self._db.transaction_in_one_trip(mark)

    async def answered(self, channel: str, key: str) -> bool:
        """The update's turn is saved and its replies go with the platform's answer: forget
        the update, remember its key, in one trip; False if the key was remembered already
        (a redelivery racing the first: that one answers, this one must not)."""
        now = time.time()

        def mark(connection: sqlite3.Connection) -> bool:
            cursor = connection.execute(
                "INSERT OR IGNORE INTO inbound_seen (channel, message_id, received_at) "
                "VALUES (?, ?, ?)",
                (channel, key, now),
            )
            if cursor.rowcount == 0:
                return False
            connection.execute(
                "DELETE FROM inbound_updates WHERE channel = ? AND update_key = ?", (channel, key)
            )
            return True

        return await self._db.transaction_in_one_trip(mark)

    async def forget_copies(self) -> None:
        """Empty the WAL, so that the deleted rows' old copies leave the disk (an erasure's
        last message was answered: nothing of the user is to stay)."""
        await self._db.checkpoint()

    async def left(self, channel: str) -> list[tuple[str, dict[str, Any]]]:
        """Every update stored and not yet processed, whoever holds it, oldest first."""
        async with self._db.legacy_connection.execute(
            "SELECT update_key, payload FROM inbound_updates WHERE channel = ? "
            "ORDER BY received_at, update_key",
            (channel,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [(str(key), json.loads(str(payload))) for key, payload in rows]

    async def take_over(self, channel: str) -> list[tuple[str, dict[str, Any]]]:
        """The updates stored and never processed, oldest first, now this instance's: those
        of an instance that died (a crash, a kill: its lease expired) or of an earlier run.
        Those another living instance holds are its own to answer."""
        holder = self._db.holder

        def take(connection: sqlite3.Connection) -> list[tuple[str, str]]:
            rows = connection.execute(
                "SELECT update_key, payload FROM inbound_updates WHERE channel = ? "
                f"AND (holder IS NULL OR (holder != ? AND NOT {alive('inbound_updates.holder')})) "
                "ORDER BY received_at, update_key",
                (channel, holder, time.time()),
            ).fetchall()
            connection.executemany(
                "UPDATE inbound_updates SET holder = ? WHERE channel = ? AND update_key = ?",
                [(holder, channel, key) for key, _payload in rows],
            )
            return [(str(key), str(payload)) for key, payload in rows]

        taken = await self._db.transaction_in_one_trip(take)
        return [(key, json.loads(payload)) for key, payload in taken]
