"""This module contains the questions users chose to share after the bot found no answer.

Nothing of what people write is kept unless they agree: a user who gets "I did not understand"
may tap "share my question" (bot/core/engine.py). Editors read the shared questions
(``sportello unanswered``) to learn what the content lacks; the retention period deletes them,
and "erase my data" deletes a user's own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.storage.db import Database


@dataclass(frozen=True)
class SharedQuestion:
    shared_at: float
    language: str
    text: str
    nearest_topic: str | None


class SharedQuestions:
    def __init__(self, database: Database, keep_days: int) -> None:
        self._db = database
        self.keep_days = keep_days  # the retention period (retention.py deletes them then)

    async def share(
        self, channel: str, user_id: str, language: str, text: str, nearest_topic: str | None
    ) -> None:
        await self._db.legacy_write(
            "INSERT INTO shared_questions "
            "(channel, user_id, language, text, nearest_topic, shared_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (channel, user_id, language, text, nearest_topic, time.time()),
        )

    async def since(self, moment: float) -> list[SharedQuestion]:
        """Questions shared from ``moment`` on, newest first (who shared them is not told)."""
        async with self._db.legacy_connection.execute(
            "SELECT shared_at, language, text, nearest_topic FROM shared_questions "
            "WHERE shared_at >= ? ORDER BY shared_at DESC, id DESC",
            (moment,),
        ) as cursor:
            rows = await cursor.fetchall()
        return [SharedQuestion(float(a), str(b), str(c), d) for a, b, c, d in rows]
