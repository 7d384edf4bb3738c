"""This module contains the database connection: SQLite (a file, the default) or PostgreSQL
(a ``postgresql://`` address), opened, migrated, and used through SQLAlchemy Core.

Statements are built from ``bot.storage.tables`` and run by :meth:`Database.transaction`,
:meth:`Database.write` and the ``fetch_*`` methods; the dialect's ``INSERT ... ON CONFLICT``
is :meth:`Database.insert`. Writers take turns as SQLite makes them (``BEGIN IMMEDIATE``); on
PostgreSQL a transaction-scoped advisory lock does the same, except for the statements that
are safe side by side on their own (``concurrent=True``: a conditional upsert, a claim with
``FOR UPDATE SKIP LOCKED``), so that several instances share the work.

A database that cannot be used (damaged, unreadable, a full disk) raises one clear error at
the start; the last write the file refused while running is remembered for ``/healthz``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

import aiosqlite
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    CursorResult,
    Engine,
    Executable,
    Row,
    create_engine,
    event,
    exc,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool
from sqlalchemy.sql.schema import Table
from sqlalchemy.util import greenlet_spawn

from bot.storage import files, sqlite_driver
from bot.storage.instance import new_holder
from bot.storage.migrations import MIGRATIONS
from bot.storage.problems import DAMAGED, advice, storage_problem
from bot.storage.quick import BEGIN_WRITING, NotQuick, Outcome, QuickConnection, Statements

log = logging.getLogger(__name__)

#: How often, and how far apart, emptying the WAL is tried while reads are open.
CHECKPOINT_TRIES, CHECKPOINT_PAUSE = 20, 0.05

#: How long SQLite itself waits for another connection's write lock (a backup, a `sportello`
#: command writing while the server runs) before it answers "database is locked".
BUSY_TIMEOUT_MS = 5000
#: Then we wait a little more, a bounded number of times, before failing the user's turn.
BUSY_RETRY_DELAYS = (0.05, 0.2, 0.5, 1.0)


#: The execution option of a quick statement (a few rows by their index): on SQLite it runs on
#: the event loop's thread (``Database``'s quick connection). Elsewhere it changes nothing.
QUICK = "sportello_quick"
#: One quick write in this many runs on the database's thread instead, where SQLite's
#: automatic checkpoint runs (it is off on the quick connection: it writes to the disk and
#: waits for it).
CHECKPOINT_EVERY = 32

_Statement = TypeVar("_Statement", bound=Executable)


def quick(statement: _Statement) -> _Statement:
    """``statement`` marked ``QUICK``: it touches a few rows by their index, as every
    message's statements do."""
    return statement.execution_options(**{QUICK: True})


#: Where Alembic finds Sportello's migrations (``bot/storage/revisions``).
REVISIONS = str(Path(__file__).with_name("revisions"))
#: The first Alembic revision: the schema SQLite's own migrations 1 to 17 leave.
BASELINE = "0001"
#: Sportello's own parameter of a PostgreSQL address: the schema to use in that database
#: (several counters in one database, one schema each; the tests, one schema per test).
SCHEMA_PARAMETER = "schema"
#: What to do when a PostgreSQL server cannot be reached or refuses (not a file's advice).
SERVER_ADVICE = (
    "check that the PostgreSQL server runs and that SPORTELLO_DB's address (host, port, user, "
    "password, database) is right: `psql` with the same address says what it refuses"
)
#: On PostgreSQL, a writer that must not run beside another takes this lock first: one per
#: schema, so counters in one database do not wait for each other.
_WRITERS_LOCK = text("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")


def is_busy(error: BaseException) -> bool:
    """Whether SQLite refused only because another connection holds the database."""
    message = str(error).lower()
    return "database is locked" in message or "database is busy" in message


def is_postgresql(target: Path | str) -> bool:
    """Whether ``SPORTELLO_DB`` names a PostgreSQL database rather than a SQLite file."""
    return str(target).startswith(("postgresql:", "postgres:", "postgresql+"))


def shown(target: Path | str) -> str:
    """The database's name as logs and messages may show it: never a password."""
    if is_postgresql(target):
        return make_url(str(target)).render_as_string(hide_password=True)
    return str(target)


async def postgresql_version(address: str) -> int:
    """The schema number of the PostgreSQL database at ``address`` (0: no tables yet), read
    in a read-only transaction: ``sportello doctor`` changes nothing, where opening a
    :class:`Database` would migrate. :class:`DatabaseUnavailable` if it cannot be read."""
    engine = _postgresql_engine(address)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SET TRANSACTION READ ONLY"))
            return await connection.run_sync(_schema_version)
    except OSError as error:
        raise DatabaseUnavailable(
            shown(address),
            f"the server cannot be reached ({error.strerror or error})",
            SERVER_ADVICE,
        ) from error
    except DBAPIError as error:
        # The server answered no: a wrong password, a database that does not exist...
        reason = str(error.orig).strip().splitlines()[0] if error.orig else type(error).__name__
        raise DatabaseUnavailable(
            shown(address), f"the server refused ({reason})", SERVER_ADVICE
        ) from error
    finally:
        await engine.dispose()


def _postgresql_engine(address: str) -> AsyncEngine:
    url = make_url(address).set(drivername="postgresql+asyncpg")
    settings = {"application_name": "sportello"}
    schema = url.query.get(SCHEMA_PARAMETER)
    if isinstance(schema, str) and schema:
        settings["search_path"] = schema
    url = url.difference_update_query([SCHEMA_PARAMETER])
    return create_async_engine(url, connect_args={"server_settings": settings})


def _sqlite_engine(path: str, busy_timeout_ms: int) -> AsyncEngine:
    engine = create_async_engine(
        URL.create("sqlite+aiosqlite", database=path),
        async_creator=functools.partial(sqlite_driver.connect, path),
    )

    @event.listens_for(engine.sync_engine, "connect")
    def prepare(connection: Any, _record: object) -> None:
        # The driver's own transaction handling is off (sqlite_driver.connect): writers say
        # BEGIN IMMEDIATE themselves (BEGIN_WRITING).
        for pragma in _pragmas(busy_timeout_ms):
            connection.execute(f"PRAGMA {pragma}")
        # After busy_timeout: a new file turns to WAL under an exclusive lock, which instances
        # starting together wait for instead of failing with "database is locked".
        connection.execute("PRAGMA journal_mode = WAL")

    # No listener of the connections' events (a BEGIN IMMEDIATE on "begin", say): with one,
    # SQLAlchemy looks for listeners of every event of every statement, about a tenth of a
    # quick statement's time (#21).
    return engine


def _pragmas(busy_timeout_ms: int) -> tuple[str, ...]:
    return (
        "foreign_keys = ON",
        f"busy_timeout = {int(busy_timeout_ms)}",
        "synchronous = NORMAL",
        # Deleted rows are overwritten with zeros: erased data does not linger in the file.
        "secure_delete = ON",
    )


def _quick_engine(path: str) -> Engine:
    """The quick connection's opener: statements of a few rows by their index, run on the
    event loop's own thread, where a hop to the database's thread and its two thread switches
    cost more than they do, straight on the driver (:mod:`bot.storage.quick`, #21).

    It never waits: another connection's lock (another process writing) refuses it at once
    (``busy_timeout`` 0), and the work goes to the database's thread, to wait there; SQLite's
    automatic checkpoint, which writes the WAL into the file and waits for the disk, is off
    (:data:`CHECKPOINT_EVERY`). A commit here appends to the WAL without waiting for the disk
    (``synchronous = NORMAL``). Used one piece of work at a time, never across an ``await``:
    one connection is enough."""

    def connect() -> sqlite3.Connection:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        for pragma in (*_pragmas(0), "wal_autocheckpoint = 0"):
            connection.execute(f"PRAGMA {pragma}")
        return connection

    return create_engine("sqlite://", creator=connect, poolclass=StaticPool)


def _is_folder(path: str) -> bool:
    return Path(path).is_dir()


class DatabaseUnavailable(Exception):
    """The database cannot be used; the message says which file, what is wrong, what to do."""

    def __init__(self, path: str, problem: str, what_to_do: str | None = None) -> None:
        what_to_do = advice(problem) if what_to_do is None else what_to_do
        super().__init__(
            f"The database {path} cannot be used: {problem}. What to do: {what_to_do}."
        )
        self.path = path
        self.problem = problem


@dataclass(frozen=True)
class WriteFailure:
    """The last write the database refused, and when (``time.time()``)."""

    problem: str
    at: float


#: Values for a statement's ``bindparam``s (and an ``INSERT``'s columns), by name.
Parameters = Mapping[str, Any]

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
    factory: Callable[Concatenate[Database, _P], AbstractAsyncContextManager[_T]],
) -> Callable[Concatenate[Database, _P], AbstractAsyncContextManager[_T]]:
    """``_watched`` for a transaction: its statements and its commit."""

    @functools.wraps(factory)
    @asynccontextmanager
    async def watched(
        database: Database, /, *args: _P.args, **kwargs: _P.kwargs
    ) -> AsyncIterator[_T]:
        try:
            async with factory(database, *args, **kwargs) as connection:
                yield connection
        except Exception as error:
            database.note_failure(error)
            raise
        database.write_failure = None

    return watched


class Database:
    """One database, a SQLite file or a ``postgresql://`` address; ``async with
    Database(target) as db`` opens and migrates it."""

    def __init__(
        self,
        path: Path | str,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        busy_retry_delays: tuple[float, ...] = BUSY_RETRY_DELAYS,
        holder: str | None = None,
    ) -> None:
        address = str(path)
        #: "sqlite" or "postgresql".
        self.backend = "postgresql" if is_postgresql(address) else "sqlite"
        if self.backend == "sqlite" and address.startswith("sqlite:"):
            address = make_url(address).database or ":memory:"
        #: The SQLite file, or the PostgreSQL address (with its password, if it has one).
        self.path = address
        self._engine: AsyncEngine | None = None
        self._quick: QuickConnection | None = None  # SQLite's (_quick_engine)
        self._quick_writes = 0  # counted for CHECKPOINT_EVERY
        #: This instance's id in leases, held turns and stored updates (``bot.storage.leases``):
        #: one per open database, so that two in one test are two instances.
        self.holder = holder or new_holder()
        self.busy_timeout_ms = busy_timeout_ms
        self.busy_retry_delays = busy_retry_delays
        # SQLite lets one writer in at a time: this process's writers queue here rather than
        # wait on the file's lock (busy_timeout) for each other.
        self._transaction_lock = asyncio.Lock()
        #: The last write refused because of the file or its disk; None once one succeeds.
        self.write_failure: WriteFailure | None = None

    def note_failure(self, error: BaseException) -> None:
        """Remember a write the file refused (other errors are not the database's health)."""
        problem = storage_problem(error)
        if problem is not None:
            self.write_failure = WriteFailure(problem, time.time())

    @property
    def engine(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("the database is not open")
        return self._engine

    @property
    def sync_engines(self) -> tuple[Engine, ...]:
        """The synchronous side of every engine statements run through: the database's, and
        on SQLite the quick connection's (tests simulate a full disk on them)."""
        quick = () if self._quick is None else (self._quick.engine,)
        return (self.engine.sync_engine, *quick)

    def release_connections(self) -> None:
        """Close the quick connection, so that it opens again (the pool's are closed by
        ``engine.dispose()``)."""
        if self._quick is not None:
            self._quick.close()

    @property
    def is_sqlite(self) -> bool:
        return self.backend == "sqlite"

    async def open(self) -> Database:
        """Open and migrate; a database that cannot be used raises
        :class:`DatabaseUnavailable`."""
        if self.backend == "postgresql":
            return await self._open_postgresql()
        if self.path != ":memory:" and _is_folder(self.path):
            raise DatabaseUnavailable(self.path, "it is a folder, not a file")
        try:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                files.prepare(Path(self.path))  # 0600 whatever the umask: -wal, -shm take its mode
            self._engine = _sqlite_engine(self.path, self.busy_timeout_ms)
            # Instances starting together on a new file: one turns it to WAL under an
            # exclusive lock, and SQLite refuses another's switch at once, without its busy
            # wait (which could deadlock there): the first connection is tried again.
            await self._while_busy(self._check_intact)
            await self.migrate()
            if self.path != ":memory:":  # a second connection would be another database
                self._quick = QuickConnection(_quick_engine(self.path))
        except BaseException as error:
            await self.close()
            problem = storage_problem(error) or (
                f"{error.strerror or error}".lower() if isinstance(error, OSError) else None
            )
            if problem is not None:
                raise DatabaseUnavailable(self.path, problem) from error
            raise
        return self

    async def _open_postgresql(self) -> Database:
        try:
            self._engine = _postgresql_engine(self.path)
            await self.migrate()
        except BaseException as error:
            await self.close()
            if isinstance(error, OSError):
                raise DatabaseUnavailable(
                    shown(self.path),
                    f"the server cannot be reached ({error.strerror or error})",
                    SERVER_ADVICE,
                ) from error
            raise
        return self

    async def _check_intact(self) -> None:
        """A damaged file is found at the start, not in the middle of someone's booking."""
        async with self.engine.connect() as connection:
            checked = await connection.exec_driver_sql("PRAGMA quick_check")
            found = [str(row[0]) for row in checked.fetchall()]
        if found != ["ok"]:
            raise DatabaseUnavailable(self.path, f"{DAMAGED} ({found[0] if found else '?'})")

    async def close(self) -> None:
        if self._quick is not None:
            self._quick.close()
            self._quick = None
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def __aenter__(self) -> Database:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def insert(self, table: Table) -> sqlite.Insert | postgresql.Insert:
        """``INSERT`` in this database's dialect, which has ``on_conflict_do_update`` and
        ``on_conflict_do_nothing`` (the same on both)."""
        return sqlite.insert(table) if self.is_sqlite else postgresql.insert(table)

    @_watched_transaction
    @asynccontextmanager
    async def transaction(self, concurrent: bool = False) -> AsyncIterator[AsyncConnection]:
        """A transaction, committed at the end or rolled back on any error. It runs alone among
        writers (SQLite's ``BEGIN IMMEDIATE``; PostgreSQL's advisory lock) unless
        ``concurrent``: then, on PostgreSQL, it must be safe beside any other transaction
        by itself (row locks, ``ON CONFLICT``, ``SKIP LOCKED``)."""
        if self.is_sqlite:
            async with self._transaction_lock:
                connection = await self._while_busy(self._begin_sqlite)
                try:
                    yield connection
                except BaseException:
                    await connection.rollback()
                    raise
                else:
                    await connection.commit()
                finally:
                    await connection.close()
            return
        async with self.engine.begin() as connection:
            if not concurrent:
                await connection.execute(_WRITERS_LOCK)
            yield connection

    @_watched
    async def run_transaction(
        self, work: Callable[[Statements], _T], concurrent: bool = False, quick: bool = False
    ) -> _T:
        """``work`` run on a synchronous connection in a transaction, as :meth:`transaction`
        runs one, and what it returns. ``quick``: its statements each touch a few rows by
        their index, as every message's do; on SQLite they run on the quick connection
        (:func:`_quick_engine`). Through AsyncConnection, taking the connection, each
        statement, the commit and giving the connection back are each a greenlet; here one in
        all, or none (#21)."""
        if not self.is_sqlite:
            async with self.transaction(concurrent) as connection:
                return await connection.run_sync(work)
        async with self._transaction_lock:
            if quick:
                done, result = self._quickly(work, writes=True, transaction=True)
                if done:
                    return cast(_T, result)
            # A transaction refused at its BEGIN (another process writes) is tried again
            # whole: nothing of it ran.
            return await self._while_busy(
                lambda: greenlet_spawn(_run_on, self.engine.sync_engine, work, True)
            )

    def _quickly(
        self, work: Callable[[Statements], _T], writes: bool, transaction: bool = False
    ) -> tuple[bool, _T | None]:
        """``work`` on the quick connection: (True, what it returns); (False, None) when it
        must go to the database's thread (another connection's lock refused it, or one of its
        statements is not quick, which leaves nothing done; or it is the write in
        CHECKPOINT_EVERY)."""
        if self._quick is None:
            return False, None
        if writes:
            self._quick_writes += 1
            if self._quick_writes % CHECKPOINT_EVERY == 0:
                return False, None
        try:
            return True, self._quick.run(work, transaction)
        except NotQuick:
            return False, None
        except exc.OperationalError as error:
            if not is_busy(error):
                raise
            return False, None

    async def _begin_sqlite(self) -> AsyncConnection:
        connection = await self.engine.connect()
        try:
            await connection.exec_driver_sql(BEGIN_WRITING)  # busy now, or ours to the commit
        except BaseException:
            await connection.close()
            raise
        return connection

    async def write(
        self,
        statement: Executable,
        parameters: Parameters | None = None,
        concurrent: bool = False,
    ) -> int:
        """One writing statement in a transaction of its own; the number of rows it changed.
        ``parameters`` fill a statement built once with ``bindparam`` (the hot paths': building
        an upsert costs more than running it)."""
        if self.is_sqlite:
            async with self._transaction_lock:
                return await self._while_busy(lambda: self._write_alone(statement, parameters))
        async with self.transaction(concurrent) as connection:
            result: CursorResult[Any] = await connection.execute(statement, parameters)
            return result.rowcount

    @_watched
    async def _write_alone(self, statement: Executable, parameters: Parameters | None) -> int:
        # A lone statement is atomic by itself: in autocommit it is one trip to SQLite's
        # thread (none if quick), where BEGIN IMMEDIATE and COMMIT around it would make three.
        return await self._alone_or_quick(statement, parameters, _row_count, writes=True)

    async def fetch_all(
        self, statement: Executable, parameters: Parameters | None = None
    ) -> list[Row[Any]]:
        """Every row a reading statement gives."""
        return await self._alone(statement, parameters, _all_rows)

    async def fetch_one(
        self, statement: Executable, parameters: Parameters | None = None
    ) -> Row[Any] | None:
        """The first row a reading statement gives, or None."""
        return await self._alone(statement, parameters, CursorResult.first)

    async def fetch_value(self, statement: Executable, parameters: Parameters | None = None) -> Any:
        """The first column of the first row, or None."""
        return await self._alone_or_quick(statement, parameters, _scalar)

    async def _alone_or_quick(
        self,
        statement: Executable,
        parameters: Parameters | None,
        outcome: Callable[[Outcome], _T],
        writes: bool = False,
    ) -> _T:
        """:meth:`_alone`, on SQLite's quick connection if the statement is quick (``QUICK``)
        and the connection can run it now."""
        if self._quick is not None and statement.get_execution_options().get(QUICK):

            def run(statements: Statements) -> _T:
                return outcome(statements.execute(statement, parameters))

            done, result = self._quickly(run, writes)
            if done:
                return cast(_T, result)
        return await self._alone(statement, parameters, outcome)

    async def _alone(
        self,
        statement: Executable,
        parameters: Parameters | None,
        outcome: Callable[[CursorResult[Any]], _T],
    ) -> _T:
        """One statement on a connection of its own, and what ``outcome`` takes of its result."""
        if not self.is_sqlite:
            async with self.engine.connect() as connection:
                return outcome(await connection.execute(statement, parameters))

        def run(connection: Connection) -> _T:
            return outcome(connection.execute(statement, parameters))

        # In one greenlet on the engine's synchronous side: taking the connection, running the
        # statement and giving the connection back each cost a greenlet, and giving it back
        # through AsyncConnection a task and two turns of the event loop (#21). Giving back
        # waits for nothing here (nothing is left to roll back in autocommit), so no
        # cancellation can leave it half done.
        return await greenlet_spawn(_run_on, self.engine.sync_engine, run, False)

    async def checkpoint(self) -> bool:
        """Fold the WAL into the database and empty it, so that the old copies of erased rows
        leave the disk; False if it could not finish (a backup reading, say): the hourly
        clean-up tries again. Never raises for that. PostgreSQL has no such file to empty
        (its own vacuum reclaims deleted rows): True at once."""
        if not self.is_sqlite:
            return True
        for _attempt in range(CHECKPOINT_TRIES):
            try:
                async with self._transaction_lock, self.engine.connect() as connection:
                    # On the driver's connection: SQLAlchemy would wrap it in a transaction,
                    # inside which SQLite cannot empty the WAL.
                    raw = (await connection.get_raw_connection()).driver_connection
                    assert isinstance(raw, aiosqlite.Connection)
                    async with raw.execute("PRAGMA wal_checkpoint(TRUNCATE)") as cursor:
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
            except (sqlite3.OperationalError, exc.OperationalError) as error:
                # SQLAlchemy wraps the driver's error: both say "database is locked".
                if not is_busy(error):
                    raise
                log.warning("database busy; trying again in %.2f s", delay)
            await asyncio.sleep(delay)
        return await attempt()

    async def schema_version(self) -> int:
        """The schema's number: SQLite's own migrations numbered 1 to 17, and each Alembic
        revision after the first adds one (:func:`version_of`)."""
        async with self.engine.connect() as connection:
            return await connection.run_sync(_schema_version)

    async def journal_mode(self) -> str:
        """SQLite's journal mode ("wal"); "" on PostgreSQL, which has no such setting."""
        if not self.is_sqlite:
            return ""
        async with self.engine.connect() as connection:
            mode = (await connection.exec_driver_sql("PRAGMA journal_mode")).scalar()
        return str(mode or "")

    async def migrate(self) -> None:
        """Bring the schema up to date: a SQLite file from before Alembic first through its own
        migrations (to 17), then Alembic's revisions, all in one transaction that runs alone
        (two instances starting at once do not both migrate)."""
        if self.is_sqlite:
            await self._migrate_legacy_sqlite()
        async with self.engine.connect() as connection, connection.begin():
            if self.is_sqlite:
                await connection.exec_driver_sql(BEGIN_WRITING)
            else:
                await connection.execute(_WRITERS_LOCK)
            await connection.run_sync(_upgrade, shown(self.path))

    async def _migrate_legacy_sqlite(self) -> None:
        """A file of SQLite's own migrations, older than 17, brought to 17 by them, on a
        connection of its own (``executescript`` commits as it goes)."""
        connection = await aiosqlite.connect(self.path, isolation_level=None)
        try:
            await connection.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_ms)}")
            async with connection.execute("PRAGMA user_version") as cursor:
                row = await cursor.fetchone()
            current = int(row[0]) if row else 0
            if current == 0 or current >= MIGRATIONS[-1][0]:
                return  # a new file starts with Alembic; a later one is Alembic's already
            for version, name, script in MIGRATIONS:
                if version <= current:
                    continue
                log.info("applying database migration %d: %s", version, name)
                # BEGIN ... COMMIT keeps each migration atomic.
                try:
                    number = f"PRAGMA user_version = {int(version)};"
                    await connection.executescript(f"BEGIN IMMEDIATE;\n{script}\n{number}\nCOMMIT;")
                except Exception:
                    if connection.in_transaction:
                        await connection.rollback()
                    raise
        finally:
            await connection.close()


def _run_on(engine: Engine, work: Callable[[Statements], _T], transaction: bool) -> _T:
    """``work`` on a connection of ``engine``'s synchronous side: in a writer's transaction
    (committed at the end, rolled back on an error), or alone in autocommit."""
    with engine.connect() as connection:
        if not transaction:
            return work(connection)
        with connection.begin():
            connection.exec_driver_sql(BEGIN_WRITING)
            return work(connection)


def _row_count(result: Outcome) -> int:
    return result.rowcount


def _scalar(result: Outcome) -> Any:
    return result.scalar()


def _all_rows(result: CursorResult[Any]) -> list[Row[Any]]:
    return list(result.fetchall())


def version_of(revision: str | None) -> int:
    """The schema number of an Alembic revision ("0001" is 17, where SQLite's own stopped)."""
    return 0 if revision is None else MIGRATIONS[-1][0] - 1 + int(revision)


@functools.cache
def latest_version() -> int:
    """The schema number this program brings a database to."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    return version_of(head)


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", REVISIONS)
    config.attributes["connection"] = connection
    return config


def _schema_version(connection: Connection) -> int:
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is None and connection.dialect.name == "sqlite":
        return int(connection.exec_driver_sql("PRAGMA user_version").scalar() or 0)
    return version_of(revision)


def revision_of(version: int) -> str:
    """The Alembic revision of the schema number ``version`` (17 or more: :func:`version_of`)."""
    for script in ScriptDirectory.from_config(_alembic_config()).walk_revisions():
        if version_of(script.revision) == version:
            return script.revision
    raise ValueError(f"no schema revision of this program has the number {version}")


def upgrade_legacy(connection: Connection, version: int) -> None:
    """Alembic's revisions up to the schema number ``version`` on a SQLite ``connection``
    that SQLite's own migrations brought to 17 (its user_version says so), in its transaction,
    as a file of those migrations is upgraded when it is opened: the shape of any version in a
    scratch database (``bot.storage.backup``)."""
    _upgrade(connection, "scratch", revision_of(version))


def _upgrade(connection: Connection, name: str, to: str = "head") -> None:
    """Alembic's ``upgrade head`` (or ``to`` a revision) on ``connection`` (in its
    transaction); a SQLite file that SQLite's own migrations brought to 17 is stamped with the
    baseline instead of running it."""
    config = _alembic_config(connection)
    scripts = ScriptDirectory.from_config(config)
    revision = MigrationContext.configure(connection).get_current_revision()
    if revision is not None and revision not in {
        script.revision for script in scripts.walk_revisions()
    }:
        raise RuntimeError(
            f"the database {name} is at schema revision {revision}, newer than this program "
            f"knows ({scripts.get_current_head()}): update the program"
        )
    number = _schema_version(connection)
    if connection.dialect.name == "sqlite":  # the file's own number, set by every program
        number = max(number, int(connection.exec_driver_sql("PRAGMA user_version").scalar() or 0))
    if number > latest_version():
        raise RuntimeError(
            f"the database {name} is at schema version {number}, newer than this program "
            f"knows ({latest_version()}): update the program"
        )
    if revision is None and number == MIGRATIONS[-1][0]:
        command.stamp(config, BASELINE)
    command.upgrade(config, to)
    if connection.dialect.name == "sqlite":
        # backup and doctor read the number from the file alone, as they always did.
        head = MigrationContext.configure(connection).get_current_revision()
        connection.exec_driver_sql(f"PRAGMA user_version = {version_of(head)}")
