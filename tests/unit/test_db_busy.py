"""Tests of the database's patience with another writer (a second process, a backup)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import Insert, exc, func, insert, select, text

from bot.storage.db import Database
from bot.storage.tables import daily_posts

#: SQLite's busy file: PostgreSQL's writers wait for each other (tests/unit/test_transactions.py).
pytestmark = pytest.mark.sqlite_only


def _hold_write_lock(path: Path, seconds: float, held: threading.Event) -> threading.Thread:
    """Another connection (as another process would) holds the write lock for a while."""

    def hold() -> None:
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        held.set()
        threading.Event().wait(seconds)
        other.execute("COMMIT")
        other.close()

    thread = threading.Thread(target=hold)
    thread.start()
    return thread


async def _wait(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, 5)


def _post(name: str) -> Insert:
    return insert(daily_posts).values(name=name, day="x")


async def _count(db: Database) -> int:
    return int(await db.fetch_value(select(func.count()).select_from(daily_posts)) or 0)


async def test_a_transaction_waits_for_another_writer_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    # SQLite's own wait is short here, so that the bounded retry is what saves the turn.
    async with Database(path, busy_timeout_ms=20, busy_retry_delays=(0.1, 0.2, 0.4)) as db:
        held = threading.Event()
        thread = _hold_write_lock(path, 0.3, held)
        await _wait(held)
        async with db.transaction() as connection:
            await connection.execute(_post("a"))
        await db.write(_post("b"))
        thread.join()
        assert await _count(db) == 2


async def test_a_single_write_waits_too(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path, busy_timeout_ms=20, busy_retry_delays=(0.1, 0.2, 0.4)) as db:
        held = threading.Event()
        thread = _hold_write_lock(path, 0.3, held)
        await _wait(held)
        assert await db.write(_post("b")) == 1
        thread.join()


async def test_the_wait_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path, busy_timeout_ms=10, busy_retry_delays=(0.01, 0.01)) as db:
        held = threading.Event()
        thread = _hold_write_lock(path, 1.0, held)
        await _wait(held)
        with pytest.raises(exc.OperationalError, match="locked"):
            async with db.transaction():
                pass
        thread.join()
        async with db.transaction():  # the lock is free again: nothing was left half-open
            pass


async def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    async with Database(tmp_path / "bot.sqlite3", busy_retry_delays=(5.0,)) as db:
        with pytest.raises(exc.OperationalError, match="no such table"):
            await asyncio.wait_for(db.write(text("INSERT INTO nowhere VALUES (1)")), 2)


async def test_a_transaction_that_fails_leaves_nothing(tmp_path: Path) -> None:
    async with Database(tmp_path / "bot.sqlite3") as db:
        with pytest.raises(ValueError, match="half-way"):
            async with db.transaction() as connection:
                await connection.execute(_post("a"))
                raise ValueError("half-way")
        assert await _count(db) == 0
        async with db.transaction() as connection:  # the lock is free again
            await connection.execute(_post("a"))
        assert await _count(db) == 1
