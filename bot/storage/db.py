"""This module contains the database connection: opening, WAL mode and migrations.

A database that cannot be used (damaged, unreadable, a full disk) raises one clear error at
the start; the last write the file refused while running is remembered for ``/healthz``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar

import aiosqlite

from bot.storage import files
from bot.storage.instance import new_holder
from bot.storage.migrations import MIGRATIONS
from bot.storage.problems import DAMAGED, advice, storage_problem

log = logging.getLogger(__name__)

#: How often, and how far apart, emptying the WAL is tried while reads are open.
CHECKPOINT_TRIES, CHECKPOINT_PAUSE = 20, 0.05

#: How long SQLite itself waits for another connection's write lock (a backup, a `sportello`
#: command writing while the server runs) before it answers "database is locked".
BUSY_TIMEOUT_MS = 5000
#: Then we wait a little more, a bounded number of times, before failing the user's turn.
BUSY_RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0)


def is_busy(error: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused only because another connection holds the database."""
    text = str(error).lower()
    return "database is locked" in text or "database is busy" in text


def _is_folder(path: str) -> bool:
    return Path(path).is_dir()


class DatabaseUnavailable(Exception):
    """The database cannot be used; the message says which file, what is wrong, what to do."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(
            f"The database {path} cannot be used: {problem}. What to do: {advice(problem)}."
        )
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class WriteFailure:
    """The last write the database refused, and when (``time.time()``)."""

    problem: str
    at: float


_P = ParamSpec("_P")
_R = TypeVar("_R")
_T = TypeVar("_T")


def _watched(
    method: Callable[Concatenate[Database, _P], Coroutine[Any, Any, _R]],
) -> Callable[Concatenate[Database, _P], Coroutine[Any, Any, _R]]:
    """A write remembered if the file refused it (a full disk), forgotten once one succeeds."""

    @functools.wraps(method)
    async def watched(database: Database, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            result = await method(database, *args, **kwargs)
        except Exception as error:
            database.note_failure(error)
            raise
        database.write_failure = None
        return result

    return watched


def _watched_transaction(
    factory: Callable[[Database], AbstractAsyncContextManager[aiosqlite.Connection]],
) -> Callable[[Database], AbstractAsyncContextManager[aiosqlite.Connection]]:
    """``_watched`` for a transaction: its statements and its commit."""

    @functools.wraps(factory)
    @asynccontextmanager
    async def watched(database: Database) -> AsyncIterator[aiosqlite.Connection]:
        try:
            async with factory(database) as connection:
                yield connection
        except Exception as error:
            database.note_failure(error)
            raise
        database.write_failure = None

    return watched


class Database:
    """One SQLite database; ``async with Database(path) as db`` opens and migrates it."""

    def __init__(
        self,
        path: Path | str,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        busy_retry_delays: tuple[float, ...] = BUSY_RETRY_DELAYS,
        holder: str | None = None,
    ) -> None:
        self.path = str(path)
        #: This instance's id in leases, held turns and stored updates (``bot.storage.leases``):
        #: one per open database, so that two in one test are two instances.
        self.holder = holder or new_holder()
        self.busy_timeout_ms = busy_timeout_ms
        self.busy_retry_delays = busy_retry_delays
        self._connection: aiosqlite.Connection | None = None
        # One connection serves every coroutine: transactions must not interleave.
        self._transaction_lock = asyncio.Lock()
        #: The last write refused because of the file or its disk; None once one succeeds.
        self.write_failure: WriteFailure | None = None

    @property
    def connection(self) -> aiosqlite.Connection:
        if self._connection is None:
            raise RuntimeError("the database is not open")
        return self._connection

    def note_failure(self, error: BaseException) -> None:
        """Remember a write the file refused (other errors are not the database's health)."""
        problem = storage_problem(error)
        if problem is not None:
            self.write_failure = WriteFailure(problem, time.time())

    async def open(self) -> Database:
        """Open and migrate; a file that cannot be used raises :class:`DatabaseUnavailable`."""
        if self.path != ":memory:" and _is_folder(self.path):
            raise DatabaseUnavailable(self.path, "it is a folder, not a file")
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                files.prepare(Path(self.path))  # 0600 whatever the umask: -wal, -shm take its mode
            self._connection = await aiosqlite.connect(self.path, isolation_level=None)
            await self._connection.execute("PRAGMA journal_mode = WAL")
            await self._connection.execute("PRAGMA foreign_keys = ON")
            await self._connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            await self._connection.execute("PRAGMA synchronous = NORMAL")
            # Deleted rows are overwritten with zeros: erased data does not linger in the file.
            await self._connection.execute("PRAGMA secure_delete = ON")
            await self._check_intact()
            await self.migrate()
        except BaseException as error:
            await self.close()
            problem = storage_problem(error) or (
                f"{error.strerror or error}".lower() if isinstance(error, OSError) else None
            )
            if problem is not None:
                raise DatabaseUnavailable(self.path, problem) from error
            raise
        return self

    async def _check_intact(self) -> None:
        """A damaged file is found at the start, not in the middle of someone's booking."""
        async with self.connection.execute("PRAGMA quick_check") as cursor:
            found = [str(row[0]) for row in await cursor.fetchall()]
        if found != ["ok"]:
            raise DatabaseUnavailable(self.path, f"{DAMAGED} ({found[0] if found else '?'})")

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def __aenter__(self) -> Database:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    @_watched
    async def write(self, sql: str, parameters: tuple[object, ...] = ()) -> aiosqlite.Cursor:
        """One writing statement, never inside another coroutine's open transaction."""
        async with self._transaction_lock:
            # A refused statement changed nothing: trying it again is safe.
            return await self._while_busy(lambda: self.connection.execute(sql, parameters))

    @_watched_transaction
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` on any error."""
        async with self._transaction_lock:
            await self._while_busy(lambda: self.connection.execute("BEGIN IMMEDIATE"))
            try:
                yield self.connection
            except BaseException:
                await self.connection.execute("ROLLBACK")
                raise
            await self.connection.execute("COMMIT")

    @_watched
    async def transaction_in_one_trip(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """``work`` between ``BEGIN IMMEDIATE`` and ``COMMIT`` (``ROLLBACK`` on any error), run
        whole on the database's thread: one trip there and back, where ``transaction()``
        takes one per statement plus two (each about 35 us of CPU, the most a message cost).
        ``work`` gets the plain sqlite3 connection and must not await anything."""

        def whole() -> _T:
            connection = self.connection._conn  # on its own thread, as aiosqlite runs it
            connection.execute("BEGIN IMMEDIATE")
            try:
                result = work(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return result

        async with self._transaction_lock:
            # aiosqlite has no public way to run a function on its thread: _execute is how
            # its own methods do it (the same since its first versions; pinned below 1).
            # A busy database refuses BEGIN IMMEDIATE before anything ran: safe to try again.
            return await self._while_busy(lambda: self._on_thread(whole))

    async def _on_thread(self, function: Callable[[], _T]) -> _T:
        result: _T = await self.connection._execute(function)  # type: ignore[no-untyped-call]
        return result

    async def checkpoint(self) -> bool:
        """Fold the WAL into the database and empty it, so that the old copies of erased rows
        leave the disk; False if it could not finish (a backup reading, say): the hourly
        clean-up tries again. Never raises for that."""
        for _attempt in range(CHECKPOINT_TRIES):
            try:
                async with (
                    self._transaction_lock,
                    self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor,
                ):
                    row = await cursor.fetchone()
            except sqlite3.OperationalError:
                # "table is locked": another coroutine's read on this connection is still
                # open; it ends in a moment.
                await asyncio.sleep(CHECKPOINT_PAUSE)
                continue
            return row is not None and int(row[0]) == 0
        log.warning("the WAL could not be emptied now; the hourly clean-up will do it")
        return False

    async def _while_busy(self, attempt: Callable[[], Awaitable[_T]]) -> _T:
        """Run ``attempt``; while another connection holds the database (past SQLite's own
        busy_timeout), wait a little and try again a bounded number of times."""
        for delay in self.busy_retry_delays:
            try:
                return await attempt()
            except sqlite3.OperationalError as error:
                if not is_busy(error):
                    raise
                log.warning("database busy; trying again in %.2f s", delay)
            await asyncio.sleep(delay)
        return await attempt()

    async def schema_version(self) -> int:
        async with self.connection.execute("PRAGMA user_version") as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def journal_mode(self) -> str:
        async with self.connection.execute("PRAGMA journal_mode") as cursor:
            row = await cursor.fetchone()
        return str(row[0]) if row else ""

    async def migrate(self) -> None:
        """Apply every migration newer than the database, each in its own transaction."""
        current = await self.schema_version()
        latest = MIGRATIONS[-1][0] if MIGRATIONS else 0
        if current > latest:
            raise RuntimeError(
                f"the database {self.path} is at schema version {current}, newer than this "
                f"program knows ({latest}): update the program"
            )
        for version, name, script in MIGRATIONS:
            if version <= current:
                continue
            log.info("applying database migration %d: %s", version, name)
            # executescript commits on its own; BEGIN ... COMMIT keeps each migration atomic.
            try:
                await self.connection.executescript(
                    f"BEGIN IMMEDIATE;\n{script}\nPRAGMA user_version = {int(version)};\nCOMMIT;"
                )
            except Exception:
                if self.connection.in_transaction:
                    await self.connection.rollback()
                raise
