"""This module contains the questions users chose to share after the bot found no answer.

Nothing of what people write is kept unless they agree: a user who gets "I did not understand"
may tap "share my question" (bot/core/engine.py). Editors read the shared questions
(``sportello unanswered``) to learn what the content lacks; the retention period deletes them,
and "erase my data" deletes a user's own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import insert, select

from bot.storage.db import Database
from bot.storage.tables import shared_questions


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
        await self._db.write(
            insert(shared_questions).values(
                channel=channel,
                user_id=user_id,
                language=language,
                text=text,
                nearest_topic=nearest_topic,
                shared_at=time.time(),
            ),
            concurrent=True,  # a row of its own
        )

    async def since(self, moment: float) -> list[SharedQuestion]:
        """Questions shared from ``moment`` on, newest first (who shared them is not told)."""
        shared = shared_questions.c
        found = await self._db.fetch_all(
            select(shared.shared_at, shared.language, shared.text, shared.nearest_topic)
            .where(shared.shared_at >= moment)
            .order_by(shared.shared_at.desc(), shared.id.desc())
        )
        return [
            SharedQuestion(
                float(row.shared_at), str(row.language), str(row.text), row.nearest_topic
            )
            for row in found
        ]
