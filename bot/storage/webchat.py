"""This module contains the web chat's mailbox: messages kept until a browser has them.

A browser fetches its messages by long polling and names, in each poll, the id of the last
message it holds: everything up to that id is then deleted. So a message lost on the way
(a dropped connection, a closed tab) is fetched again by the next poll, and one the browser
confirmed is never fetched twice. Nothing stays here once delivered: the transcript a user
sees after a reload is the one their browser kept.
"""

from __future__ import annotations

import json
import time
from typing import Any

from bot.storage.db import Database

#: The most messages one poll hands out (a burst of replies is a handful).
FETCH_LIMIT = 50


class WebchatMailbox:
    """Messages for web chat users (by the hash of their token), oldest first."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def put(self, user_id: str, payloads: list[dict[str, Any]]) -> list[int]:
        """Store messages for a user, in order, in one transaction; returns their ids."""
        now = time.time()
        ids: list[int] = []
        async with self._db.legacy_transaction() as connection:
            for payload in payloads:
                cursor = await connection.execute(
                    "INSERT INTO webchat_messages (user_id, payload, created_at) VALUES (?, ?, ?)",
                    (user_id, json.dumps(payload, ensure_ascii=False), now),
                )
                ids.append(int(cursor.lastrowid or 0))
        return ids

    async def fetch(
        self, user_id: str, after: int, limit: int = FETCH_LIMIT
    ) -> list[tuple[int, dict[str, Any]]]:
        """The user's messages newer than ``after``; those up to ``after`` are deleted first
        (the browser says it holds them)."""
        async with self._db.legacy_transaction() as connection:
            if after > 0:
                await connection.execute(
                    "DELETE FROM webchat_messages WHERE user_id = ? AND id <= ?", (user_id, after)
                )
            async with connection.execute(
                "SELECT id, payload FROM webchat_messages WHERE user_id = ? AND id > ? "
                "ORDER BY id LIMIT ?",
                (user_id, after, limit),
            ) as cursor:
                rows = await cursor.fetchall()
        return [(int(row[0]), json.loads(row[1])) for row in rows]

    async def forget(self, user_id: str) -> None:
        """Every message kept for the user, gone (the user erased their data)."""
        await self._db.legacy_write("DELETE FROM webchat_messages WHERE user_id = ?", (user_id,))
