"""This module contains the SQLite driver connection that SQLAlchemy's ``sqlite+aiosqlite``
dialect is given: aiosqlite's own connection, whose cursors run a statement, fetch its rows
and close in one hop to the connection's thread.

Each hop is a wait on another thread that a user's reply may queue behind. aiosqlite's cursor
makes SQLAlchemy take four of them per statement (make the cursor, execute, fetch, close), and
a rollback of a connection that never began a transaction costs one more. Here a statement is
one hop, and a rollback with nothing to end is none.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import aiosqlite

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
        # aiosqlite's one way to run a function on its thread.
        outcome: _Outcome = await self._connection._execute(  # type: ignore[no-untyped-call]
            _run, self._connection._conn, sql, parameters, many
        )
        self.description, self.rowcount, self.lastrowid, rows, in_transaction = outcome
        self._rows = deque(rows)
        self._connection.began = in_transaction
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

    def __init__(self, connector: Callable[[], sqlite3.Connection]) -> None:
        super().__init__(connector, iter_chunk_size=64)
        # A thread left by a connection that was never closed must not keep the process alive.
        self._thread.daemon = True
        #: Whether the last statement left a transaction open (kept here because the
        #: sqlite3 connection belongs to the thread).
        self.began = False

    def cursor(self) -> OneHopCursor:  # type: ignore[override]  # no hop: nothing to make yet
        return OneHopCursor(self)

    async def commit(self) -> None:
        await super().commit()  # always: a commit skipped by mistake would lose a write
        self.began = False

    async def rollback(self) -> None:
        # SQLAlchemy rolls back every connection it closes or returns to its pool: after a
        # commit, or a lone read in autocommit, there is nothing to roll back.
        if self.began:
            await super().rollback()
            self.began = False


async def connect(path: str) -> OneHopConnection:
    """A connection to the SQLite file at ``path``, in autocommit (``BEGIN`` is ours to say)."""
    connection = OneHopConnection(
        lambda: sqlite3.connect(path, isolation_level=None, check_same_thread=True)
    )
    await connection  # starts its thread and connects there
    return connection
