"""This module contains the record of posts made once a day, such as the morning agenda.

Kept in the database, so that a restart after the hour does not post the day's agenda again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.storage.db import Database
from bot.storage.outbox import queue_notices
from bot.storage.records import Notice


class DailyPosts:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def post_once(self, name: str, day: date, notices: Sequence[Notice]) -> bool:
        """Queue ``notices`` as the ``name`` post of ``day``, unless it was made already."""
        async with self._db.legacy_transaction() as connection:
            cursor = await connection.execute(
                "INSERT INTO daily_posts (name, day) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET day = excluded.day "
                "WHERE daily_posts.day != excluded.day",
                (name, day.isoformat()),
            )
            if cursor.rowcount == 0:
                return False
            await queue_notices(connection, notices)
        return True
