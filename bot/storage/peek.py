"""This module contains a look into a database that is never a write: what ``sportello
doctor`` reads beside (or without) a running bot.

Opening a :class:`~bot.storage.db.Database` migrates it; the doctor must change nothing. So
a SQLite file is opened read-only (``mode=ro``: never created, never written) and a
PostgreSQL session is made read-only before it reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bot.storage.db import _postgresql_engine, is_postgresql


def _sqlite_url(path: Path, driver: str) -> URL:
    return URL.create(driver, database=f"{path.resolve().as_uri()}?mode=ro", query={"uri": "true"})


@asynccontextmanager
async def reading(target: Path | str) -> AsyncIterator[AsyncConnection]:
    """A read-only connection to ``SPORTELLO_DB``'s database: a SQLite file or a
    ``postgresql://`` address."""
    if is_postgresql(target):
        engine = _postgresql_engine(str(target))
    else:
        engine = create_async_engine(_sqlite_url(Path(target), "sqlite+aiosqlite"))
    try:
        async with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                await connection.execute(text("SET TRANSACTION READ ONLY"))
            yield connection
    finally:
        await engine.dispose()


def is_missing_table(error: DBAPIError) -> bool:
    """Whether a read failed because the table is not there (a database from before it)."""
    message = str(error.orig).lower()
    return "no such table" in message or ("relation" in message and "does not exist" in message)
