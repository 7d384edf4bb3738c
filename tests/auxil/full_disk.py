"""A full disk, simulated under the bot's real database code.

``stop_growing`` makes SQLite itself refuse to grow the file (``PRAGMA max_page_count`` on
every connection): real "database or disk is full" errors, for writes that need a new page.
``full_disk`` refuses every writing statement, as a disk with no byte left does (SQLite would
still fit small rows into room left in existing pages, so a test could not count on their
failing); it works on either backend, raising what SQLite raises.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any

from sqlalchemy import event

from bot.storage.db import Database

_WRITING = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def _limit_pages(pages: int) -> Any:
    def limit(connection: Any, _record: object) -> None:
        connection.execute(f"PRAGMA max_page_count = {int(pages)}")

    return limit


_limits: dict[int, Any] = {}


async def stop_growing(database: Database) -> None:
    """From now on the file keeps its size: a write needing more room fails."""
    async with database.engine.connect() as connection:
        pages = int((await connection.exec_driver_sql("PRAGMA page_count")).scalar() or 0)
    limit = _limit_pages(pages)
    _limits[id(database)] = limit
    for engine in database.sync_engines:
        event.listen(engine, "connect", limit)
    await database.engine.dispose()  # the pooled connections reopen with the limit
    database.release_connections()


async def grow_again(database: Database) -> None:
    limit = _limits.pop(id(database))
    for engine in database.sync_engines:
        event.remove(engine, "connect", limit)
    await database.engine.dispose()
    database.release_connections()


def _refuse_writes(
    _connection: Any,
    _cursor: Any,
    statement: str,
    _parameters: Any,
    _context: Any,
    _executemany: bool,
) -> None:
    if statement.lstrip().upper().startswith(_WRITING):
        raise sqlite3.OperationalError("database or disk is full")


@contextlib.contextmanager
def full_disk(database: Database) -> Iterator[None]:
    """While inside, the database's disk is full; then there is room again."""
    engines = database.sync_engines
    for engine in engines:
        event.listen(engine, "before_cursor_execute", _refuse_writes)
    try:
        yield
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", _refuse_writes)
