"""This module contains the SQLite store of conversation sessions."""

from __future__ import annotations

from bot.storage.db import Database


class SqliteSessionStore:
    """Conversation state (JSON text) in the ``sessions`` table, one row per (channel, user)."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def get(self, channel: str, user_id: str) -> str | None:
        # execute_fetchall: one round trip to the database's thread (a cursor costs three).
        rows = list(
            await self._db.connection.execute_fetchall(
                "SELECT state FROM sessions WHERE channel = ? AND user_id = ?", (channel, user_id)
            )
        )
        return str(rows[0][0]) if rows else None

    async def put(self, channel: str, user_id: str, state: str) -> None:
        await self._db.write(
            """
            INSERT INTO sessions (channel, user_id, state) VALUES (?, ?, ?)
            ON CONFLICT (channel, user_id) DO UPDATE
            SET state = excluded.state, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
            """,
            (channel, user_id, state),
        )

    async def delete(self, channel: str, user_id: str) -> None:
        await self._db.write(
            "DELETE FROM sessions WHERE channel = ? AND user_id = ?", (channel, user_id)
        )
