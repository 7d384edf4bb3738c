"""This module contains the record of posts made once a day, such as the morning agenda.

Kept in the database, so that a restart after the hour does not post the day's agenda again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from bot.storage.db import Database
from bot.storage.outbox import queue_notices
from bot.storage.records import Notice
from bot.storage.tables import daily_posts


class DailyPosts:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def post_once(self, name: str, day: date, notices: Sequence[Notice]) -> bool:
        """Queue ``notices`` as the ``name`` post of ``day``, unless it was made already."""
        claim = self._db.insert(daily_posts).values(name=name, day=day.isoformat())
        claim = claim.on_conflict_do_update(
            index_elements=[daily_posts.c.name],
            set_={"day": claim.excluded.day},
            where=daily_posts.c.day != claim.excluded.day,
        )
        # Concurrent: a conditional upsert claims the day by itself (a second instance
        # waits for the first one's row, then finds the day taken), and the notices are
        # plain inserts of their own rows.
        async with self._db.transaction(concurrent=True) as connection:
            if (await connection.execute(claim)).rowcount == 0:
                return False
            await queue_notices(connection, notices)
        return True
