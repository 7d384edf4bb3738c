"""Tests of the database's patience with another writer (a second process, a backup)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Insert, exc, func, insert, select, text

from bot.storage.db import CHECKPOINT_EVERY, Database, quick
from bot.storage.quick import Statements
from bot.storage.tables import daily_posts
from tests.auxil.trips import Trips

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


def _post(name: str, day: str = "x") -> Insert:
    return insert(daily_posts).values(name=name, day=day)


def _posting(name: str, day: str = "x") -> Callable[[Statements], None]:
    """A transaction's work: one post."""

    def post(connection: Statements) -> None:
        connection.execute(_post(name, day))

    return post


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


async def _longest_pause_while(work: asyncio.Future[None] | asyncio.Task[None]) -> float:
    """The longest the event loop went without running a ticking task while ``work`` ran."""
    longest = 0.0
    loop = asyncio.get_running_loop()
    last = loop.time()
    while not work.done():
        await asyncio.sleep(0.005)
        now = loop.time()
        longest = max(longest, now - last)
        last = now
    await work
    return longest


async def test_a_quick_transaction_waits_for_another_writer_off_the_event_loop(
    tmp_path: Path,
) -> None:
    """A quick transaction's BEGIN runs on the event loop's thread without SQLite's busy wait:
    refused while another process writes, it waits on the database's thread, and every other
    user's reply goes on meanwhile."""
    path = tmp_path / "bot.sqlite3"
    async with Database(path, busy_timeout_ms=2000) as db:
        await db.write(_post("first"))  # the pool's connection made
        held = threading.Event()
        thread = _hold_write_lock(path, 0.4, held)
        await _wait(held)

        async def quick_write() -> None:
            await db.run_transaction(lambda connection: connection.execute(_post("q")), quick=True)

        started = asyncio.get_running_loop().time()
        longest = await _longest_pause_while(asyncio.ensure_future(quick_write()))
        waited = asyncio.get_running_loop().time() - started
        thread.join()
        assert waited >= 0.3  # it did wait for the other writer...
        assert longest < 0.2  # ...and not on the event loop
        assert await _count(db) == 2


async def test_a_quick_read_does_not_wait_for_another_writer(tmp_path: Path) -> None:
    """WAL: a read sees the last commit while another connection writes."""
    path = tmp_path / "bot.sqlite3"
    async with Database(path, busy_timeout_ms=2000) as db:
        await db.write(_post("first"))
        held = threading.Event()
        thread = _hold_write_lock(path, 0.5, held)
        await _wait(held)
        started = asyncio.get_running_loop().time()
        counting = quick(select(func.count()).select_from(daily_posts))
        assert await db.fetch_value(counting) == 1
        assert asyncio.get_running_loop().time() - started < 0.3
        thread.join()


async def test_quick_statements_take_no_trip_but_one_write_in_so_many(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quick transaction and a quick lone write run on the event loop's thread (no trip to
    the database's); one write in CHECKPOINT_EVERY goes there instead, where SQLite may fold
    the WAL into the file: BEGIN, its statement and the commit, one trip each."""

    def two(connection: Statements) -> None:
        connection.execute(_post("a"))
        connection.execute(_post("b"))

    async with Database(tmp_path / "bot.sqlite3") as db:
        await db.write(_post("first"))  # the pool's connection made
        trips = Trips(monkeypatch)
        await db.run_transaction(two, quick=True)
        await db.write(quick(_post("c")))
        assert trips.count == 0
        await db.write(_post("d"))  # not quick: on the thread
        assert trips.count == 1
        for n in range(CHECKPOINT_EVERY - 2):
            await db.run_transaction(_posting(f"n{n}"), quick=True)
        assert trips.count == 1 + 3
        monkeypatch.undo()
        assert await _count(db) == 5 + CHECKPOINT_EVERY - 2
        with pytest.raises(exc.IntegrityError):  # an error inside still rolls all back
            await db.run_transaction(two, quick=True)
        assert await _count(db) == 5 + CHECKPOINT_EVERY - 2


async def test_quick_commits_do_not_let_the_wal_grow_without_end(tmp_path: Path) -> None:
    """SQLite's automatic checkpoint is off on the quick connection: the writes that go to
    the database's thread keep the WAL near its 1000 pages (4 MB)."""
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as db:
        for n in range(3000):  # about 12 MB of rows
            await db.run_transaction(_posting(f"{n}", "x" * 4000), quick=True)
        wal = path.with_name(path.name + "-wal")
        assert wal.stat().st_size < 6_000_000, wal.stat().st_size


def _others_may_write(path: Path) -> bool:
    """Whether another connection (as another process would) can take the write lock now."""
    other = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    else:
        other.execute("ROLLBACK")
        return True
    finally:
        other.close()


@pytest.mark.parametrize("quickly", [True, False], ids=["quick", "on-the-thread"])
async def test_a_writers_transaction_holds_the_write_lock_from_its_start(
    tmp_path: Path, quickly: bool
) -> None:
    """A writer's transaction reads and then writes what it read (a free slot, a turn): it
    takes SQLite's write lock at its BEGIN (``BEGIN IMMEDIATE``), before its first read. A
    plain BEGIN would take it at the first write, and a writer that read in between would
    fail with "database is locked" (no wait helps a deferred transaction upgrading)."""
    path = tmp_path / "bot.sqlite3"
    seen: list[bool] = []

    def read_first(connection: Statements) -> None:
        connection.execute(quick(select(func.count()).select_from(daily_posts)))
        seen.append(_others_may_write(path))
        connection.execute(_post("after"))

    async with Database(path) as db:
        assert _others_may_write(path)
        await db.run_transaction(read_first, quick=quickly)
        async with db.transaction() as connection:
            await connection.execute(select(func.count()).select_from(daily_posts))
            seen.append(await asyncio.to_thread(_others_may_write, path))
        assert seen == [False, False]
        assert _others_may_write(path)
        assert await _count(db) == 1
