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

from sqlalchemy import delete, insert, select

from bot.storage.db import Database
from bot.storage.tables import webchat_messages

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
        # Plain inserts of rows of their own: safe beside any other transaction.
        async with self._db.transaction(concurrent=True) as connection:
            for payload in payloads:
                result = await connection.execute(
                    insert(webchat_messages)
                    .values(
                        user_id=user_id,
                        payload=json.dumps(payload, ensure_ascii=False),
                        created_at=now,
                    )
                    .returning(webchat_messages.c.id)
                )
                ids.append(int(result.scalar_one()))
        return ids

    async def fetch(
        self, user_id: str, after: int, limit: int = FETCH_LIMIT
    ) -> list[tuple[int, dict[str, Any]]]:
        """The user's messages newer than ``after``; those up to ``after`` are deleted first
        (the browser says it holds them)."""
        messages = webchat_messages.c
        # The user's own rows, deleted or read: safe beside any other transaction.
        async with self._db.transaction(concurrent=True) as connection:
            if after > 0:
                await connection.execute(
                    delete(webchat_messages).where(
                        messages.user_id == user_id, messages.id <= after
                    )
                )
            found = (
                await connection.execute(
                    select(messages.id, messages.payload)
                    .where(messages.user_id == user_id, messages.id > after)
                    .order_by(messages.id)
                    .limit(limit)
                )
            ).fetchall()
        return [(int(row.id), json.loads(row.payload)) for row in found]

    async def forget(self, user_id: str) -> None:
        """Every message kept for the user, gone (the user erased their data)."""
        await self._db.write(delete(webchat_messages).where(webchat_messages.c.user_id == user_id))
