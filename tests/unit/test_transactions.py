"""Transactions of ``Database``: writers take turns on both backends, and a SQLite file
another connection holds is waited for rather than failing the user's turn at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot.storage.db import Database
from bot.storage.tables import closures


async def test_writers_take_turns(database_target: str) -> None:
    """A second writer starts only once the first has committed: it sees what the first
    wrote, as a booking sees the places another booking took a moment before."""
    first, second = Database(database_target), Database(database_target)
    await first.open()
    await second.open()
    order: list[str] = []
    try:
        first_in = asyncio.Event()

        async def first_writer() -> None:
            async with first.transaction() as connection:
                first_in.set()
                await asyncio.sleep(0.3)
                await connection.execute(insert(closures).values(day="2026-12-24", added_at=1.0))
                order.append("first committed")

        async def second_writer() -> None:
            await first_in.wait()
            async with second.transaction() as connection:
                order.append("second began")
                seen = (await connection.execute(select(closures.c.day))).all()
                order.append(f"second saw {len(seen)}")

        await asyncio.gather(first_writer(), second_writer())
    finally:
        await first.close()
        await second.close()
    assert order == ["first committed", "second began", "second saw 1"]


@pytest.mark.sqlite_only
async def test_a_busy_sqlite_file_is_waited_for(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    holder = Database(path, busy_timeout_ms=50)
    waiter = Database(path, busy_timeout_ms=50, busy_retry_delays=(0.1, 0.2, 0.4))
    await holder.open()
    await waiter.open()
    try:
        held = asyncio.Event()

        async def hold() -> None:
            async with holder.transaction() as connection:
                await connection.execute(insert(closures).values(day="2026-12-24", added_at=1.0))
                held.set()
                await asyncio.sleep(0.4)

        async def write() -> int:
            await held.wait()
            return await waiter.write(insert(closures).values(day="2026-12-25", added_at=2.0))

        _, written = await asyncio.gather(hold(), write())
    finally:
        await holder.close()
        await waiter.close()
    assert written == 1
