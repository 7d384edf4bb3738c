"""This module contains the SQLite driver connection that SQLAlchemy's ``sqlite+aiosqlite``
dialect is given: aiosqlite's own connection, whose cursors run a statement, fetch its rows
and close in one hop to the connection's thread.

Each hop is a wait on another thread that a user's reply may queue behind. aiosqlite's cursor
makes SQLAlchemy take four of them per statement (make the cursor, execute, fetch, close), and
a rollback of a connection that never began a transaction costs one more. Here a statement is
one hop, and a rollback with nothing to end is none.

A *quick* statement (a few rows by their index: a turn's session, a stored update) takes no
hop at all: it runs on the event loop's own thread, where the hop and its two thread switches
cost more than the statement (#21). It does so only where it cannot wait on another
connection's lock, which would hold every user's reply:

- inside our own write transaction (``BEGIN IMMEDIATE`` took the file's write lock), its
  commit and its rollback included;
- a read (WAL: readers wait on no writer), the ``BEGIN IMMEDIATE`` itself, or a lone write,
  each tried without SQLite's busy wait: refused, it goes to the thread, to wait there.

A commit here appends to the WAL and does not wait for the disk (``synchronous = NORMAL``),
but SQLite's automatic checkpoint, which folds the WAL into the file, does: it is off for
commits made here, and one commit in :data:`CHECKPOINT_EVERY` goes to the thread instead,
where SQLite checkpoints once the WAL has passed its 1000 pages.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import aiosqlite

#: SQLite's automatic checkpoint, in WAL pages (its default, which we keep).
WAL_AUTOCHECKPOINT = 1000
#: One quick commit in this many goes to the thread, where the automatic checkpoint runs.
CHECKPOINT_EVERY = 32

_T = TypeVar("_T")

#: How a statement's outcome comes back from the thread: the cursor's description, rowcount,
#: last row id, every row, and whether the connection is now inside a transaction.
_Outcome = tuple[Any, int, int | None, list[Any], bool]


def _run(connection: sqlite3.Connection, sql: str, parameters: Any, many: bool = False) -> _Outcome:
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        # Read after the fetch: a RETURNING statement counts its rows as they are fetched.
        return description, cursor.rowcount, cursor.lastrowid, rows, connection.in_transaction
    finally:
        cursor.close()


class OneHopCursor:
    """What SQLAlchemy's adapter asks of an aiosqlite cursor, from a statement's rows
    fetched in the same hop as its execution."""

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self.arraysize = 1
        self._rows: deque[Any] = deque()

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(self, *_exception: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = ()) -> OneHopCursor:
        return await self._hop(sql, parameters, many=False)

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneHopCursor:
        return await self._hop(sql, list(parameters), many=True)

    async def _hop(self, sql: str, parameters: Any, many: bool) -> OneHopCursor:
        connection = self._connection
        outcome = connection.run_here(sql, parameters, many) if connection.quick else None
        if outcome is None:
            # aiosqlite's one way to run a function on its thread.
            outcome = await connection._execute(  # type: ignore[no-untyped-call]
                _run, connection._conn, sql, parameters, many
            )
        self.description, self.rowcount, self.lastrowid, rows, in_transaction = outcome
        self._rows = deque(rows)
        connection.began = in_transaction
        return self

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        count = min(self.arraysize if size is None else size, len(self._rows))
        return [self._rows.popleft() for _ in range(count)]

    async def fetchall(self) -> Sequence[Any]:
        rows = list(self._rows)
        self._rows.clear()
        return rows

    async def close(self) -> None:
        self._rows.clear()


class OneHopConnection(aiosqlite.Connection):
    """aiosqlite's connection (its thread, its queue), with :class:`OneHopCursor` cursors."""

    def __init__(self, connector: Callable[[], sqlite3.Connection], busy_timeout_ms: int) -> None:
        super().__init__(connector, iter_chunk_size=64)
        # A thread left by a connection that was never closed must not keep the process alive.
        self._thread.daemon = True
        #: Whether the last statement left a transaction open (kept here, where the event
        #: loop reads it without asking the thread).
        self.began = False
        #: Whether the statements run now are quick: set by the database for a lone statement
        #: or a transaction, from start to end.
        self.quick = False
        #: Whether the open transaction began here, quick: it ends here too.
        self._quick_transaction = False
        self._commits = 0  # quick commits, counted for CHECKPOINT_EVERY
        self._busy_timeout_ms = int(busy_timeout_ms)

    def run_here(self, sql: str, parameters: Any, many: bool) -> _Outcome | None:
        """A quick statement's outcome, run on this thread; None where it was refused for
        another connection's lock, or where its commit is the one to checkpoint: the thread
        runs it then."""
        conn = self._conn
        if self.began:  # our BEGIN IMMEDIATE holds the write lock: nothing to wait for
            return _run(conn, sql, parameters, many)
        keyword = sql[:6].upper()
        begins, commits = keyword == "BEGIN ", keyword != "SELECT" and keyword != "BEGIN "
        if commits and self._checkpoint_due():
            return None
        outcome = self._without_waiting(lambda: _run(conn, sql, parameters, many), commits)
        self._quick_transaction = begins and outcome is not None
        return outcome

    def _without_waiting(self, work: Callable[[], _T], commits: bool) -> _T | None:
        """``work``'s result, with neither SQLite's busy wait nor its automatic checkpoint
        (if it ``commits``); None if another connection's lock refused it."""
        conn = self._conn
        conn.execute("PRAGMA busy_timeout = 0")
        if commits:
            conn.execute("PRAGMA wal_autocheckpoint = 0")
        try:
            return work()
        except sqlite3.OperationalError as error:
            if "locked" in str(error) or "busy" in str(error):
                return None
            raise
        finally:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
            if commits:
                conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")

    def _checkpoint_due(self) -> bool:
        self._commits += 1
        return self._commits % CHECKPOINT_EVERY == 0

    def cursor(self) -> OneHopCursor:  # type: ignore[override]  # no hop: nothing to make yet
        return OneHopCursor(self)

    async def commit(self) -> None:
        # Always: a commit skipped by mistake would lose a write.
        if self._quick_transaction and not self._checkpoint_due():
            conn = self._conn
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            try:
                conn.commit()
            finally:
                conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT}")
        else:
            await super().commit()
        self.began = self._quick_transaction = False

    async def rollback(self) -> None:
        # SQLAlchemy rolls back every connection it closes or returns to its pool: after a
        # commit, or a lone read in autocommit, there is nothing to roll back.
        if not self.began:
            return
        if self._quick_transaction:
            self._conn.rollback()  # our own pages in the WAL forgotten: nothing to wait for
        else:
            await super().rollback()
        self.began = self._quick_transaction = False


async def connect(path: str, busy_timeout_ms: int) -> OneHopConnection:
    """A connection to the SQLite file at ``path``, in autocommit (``BEGIN`` is ours to say),
    that waits up to ``busy_timeout_ms`` for another connection's lock (on its thread)."""
    connection = OneHopConnection(
        # Made on the connection's thread; quick statements run on the event loop's, never
        # both at once (SQLAlchemy runs one statement at a time on a connection).
        lambda: sqlite3.connect(path, isolation_level=None, check_same_thread=False),
        busy_timeout_ms,
    )
    await connection  # starts its thread and connects there
    return connection
