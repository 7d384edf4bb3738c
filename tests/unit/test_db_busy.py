"""Tests of the database's patience with another writer (a second process, a backup)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from bot.storage.db import Database

#: SQLite's busy file, and the legacy aiosqlite API that goes once every module has moved off it.
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


async def test_a_transaction_waits_for_another_writer_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    # SQLite's own wait is short here, so that the bounded retry is what saves the turn.
    async with Database(path, busy_timeout_ms=20, busy_retry_delays=(0.1, 0.2, 0.4)) as db:
        held = threading.Event()
        thread = _hold_write_lock(path, 0.3, held)
        await _wait(held)
        async with db.legacy_transaction() as connection:
            await connection.execute("INSERT INTO daily_posts (name, day) VALUES ('a', 'x')")
        await db.legacy_write("INSERT INTO daily_posts (name, day) VALUES ('b', 'x')")
        thread.join()
        async with db.legacy_connection.execute("SELECT count(*) FROM daily_posts") as cursor:
            assert (await cursor.fetchone()) == (2,)


async def test_a_single_write_waits_too(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path, busy_timeout_ms=20, busy_retry_delays=(0.1, 0.2, 0.4)) as db:
        held = threading.Event()
        thread = _hold_write_lock(path, 0.3, held)
        await _wait(held)
        await db.legacy_write("INSERT INTO daily_posts (name, day) VALUES ('b', 'x')")
        thread.join()


async def test_the_wait_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path, busy_timeout_ms=10, busy_retry_delays=(0.01, 0.01)) as db:
        held = threading.Event()
        thread = _hold_write_lock(path, 1.0, held)
        await _wait(held)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            async with db.legacy_transaction():
                pass
        thread.join()
        async with db.legacy_transaction():  # the lock is free again: nothing was left half-open
            pass


async def test_other_errors_are_not_retried(tmp_path: Path) -> None:
    async with Database(tmp_path / "bot.sqlite3", busy_retry_delays=(5.0,)) as db:
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await asyncio.wait_for(db.legacy_write("INSERT INTO nowhere VALUES (1)"), 2)


def _two_posts(connection: sqlite3.Connection) -> int:
    connection.execute("INSERT INTO daily_posts (name, day) VALUES ('a', 'x')")
    return connection.execute("INSERT INTO daily_posts (name, day) VALUES ('b', 'x')").rowcount


async def test_a_transaction_in_one_trip_waits_for_another_writer_too(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path, busy_timeout_ms=20, busy_retry_delays=(0.1, 0.2, 0.4)) as db:
        held = threading.Event()
        thread = _hold_write_lock(path, 0.3, held)
        await _wait(held)
        assert await db.transaction_in_one_trip(_two_posts) == 1
        thread.join()
        rows = await db.legacy_connection.execute_fetchall("SELECT count(*) FROM daily_posts")
        assert list(rows) == [(2,)]


async def test_a_transaction_in_one_trip_that_fails_leaves_nothing(tmp_path: Path) -> None:
    def half(connection: sqlite3.Connection) -> None:
        _two_posts(connection)
        raise ValueError("half-way")

    async with Database(tmp_path / "bot.sqlite3") as db:
        with pytest.raises(ValueError, match="half-way"):
            await db.transaction_in_one_trip(half)
        rows = await db.legacy_connection.execute_fetchall("SELECT count(*) FROM daily_posts")
        assert list(rows) == [(0,)]
        assert not db.legacy_connection.in_transaction
        assert await db.transaction_in_one_trip(_two_posts) == 1  # the lock is free again
