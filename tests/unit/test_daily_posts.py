"""Posts made once a day (the morning agenda), on SQLite and PostgreSQL: once per day, even
when two instances post at the same moment, and the notices only with the post."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from bot.storage.daily import DailyPosts
from bot.storage.db import Database
from bot.storage.records import Notice
from tests.auxil.databases import rows

DAY = date(2026, 12, 2)


def agenda(text: str) -> list[Notice]:
    return [Notice("telegram", "-100", text, "staff")]


async def queued(database: Database) -> int:
    ((count,),) = await rows(database, "SELECT count(*) FROM outbox")
    return int(count)


async def test_a_post_is_made_once_a_day(database: Database) -> None:
    posts = DailyPosts(database)
    assert await posts.post_once("agenda", DAY, agenda("Oggi"))
    assert not await posts.post_once("agenda", DAY, agenda("Oggi di nuovo"))
    assert await posts.post_once("other", DAY, [])  # another post has its own day
    assert await queued(database) == 1
    assert await posts.post_once("agenda", DAY + timedelta(days=1), agenda("Domani"))
    assert await queued(database) == 2


async def test_two_instances_posting_at_once_post_once(database_target: str) -> None:
    async with Database(database_target) as first, Database(database_target) as second:
        made = await asyncio.gather(
            *(
                DailyPosts(database).post_once("agenda", DAY, agenda("Oggi"))
                for database in (first, second) * 4
            )
        )
        assert sorted(made) == [False] * 7 + [True]
        assert await queued(first) == 1
