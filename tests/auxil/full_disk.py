"""A full disk, simulated under the bot's real database code.

``stop_growing`` makes SQLite itself refuse to grow the file (``PRAGMA max_page_count``):
real "database or disk is full" errors, for writes that need a new page. ``full_disk``
refuses every writing statement, as a disk with no byte left does: SQLite would still fit
small rows into room left in existing pages, so a test could not count on their failing.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any

import aiosqlite

from bot.storage.db import Database

UNLIMITED_PAGES = 1_073_741_823
_WRITING = ("INSERT", "UPDATE", "DELETE", "REPLACE")


async def stop_growing(database: Database) -> None:
    """From now on the file keeps its size: a write needing more room fails."""
    async with database.legacy_connection.execute("PRAGMA page_count") as cursor:
        row = await cursor.fetchone()
    assert row is not None
    await database.legacy_connection.execute(f"PRAGMA max_page_count = {int(row[0])}")


async def grow_again(database: Database) -> None:
    await database.legacy_connection.execute(f"PRAGMA max_page_count = {UNLIMITED_PAGES}")


class _FullSqlite:
    """The real sqlite3 connection, except that writing statements fail as on a full disk."""

    def __init__(self, real: sqlite3.Connection) -> None:
        self._real = real

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        if sql.lstrip().upper().startswith(_WRITING):
            raise sqlite3.OperationalError("database or disk is full")
        return self._real.execute(sql, parameters)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class _FullConnection:
    """The real connection, except that every writing statement fails as on a full disk."""

    def __init__(self, real: aiosqlite.Connection) -> None:
        self._real = real

    def execute(self, sql: str, parameters: Any = ()) -> Any:
        if sql.lstrip().upper().startswith(_WRITING):
            raise sqlite3.OperationalError("database or disk is full")
        return self._real.execute(sql, parameters)

    async def executemany(self, sql: str, parameters: Any) -> Any:
        raise sqlite3.OperationalError("database or disk is full")

    @property
    def _conn(self) -> _FullSqlite:
        """The sqlite3 connection a transaction in one trip uses, on the database's thread."""
        return _FullSqlite(self._real._conn)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


@contextlib.contextmanager
def full_disk(database: Database) -> Iterator[None]:
    """While inside, the database's disk is full; then there is room again."""
    real = database.legacy_connection
    database._connection = _FullConnection(real)  # type: ignore[assignment]
    try:
        yield
    finally:
        database._connection = real
