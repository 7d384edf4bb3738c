"""The tests' databases: a SQLite file by default, or a PostgreSQL schema of the test's own
when ``SPORTELLO_TEST_DB`` names a PostgreSQL database (``make test`` runs the suite both ways).

A test asks for the ``database_target`` fixture (what ``SPORTELLO_DB`` would say) or the
``database`` fixture (opened and migrated); ``rows`` reads tables directly on either backend.
A test of what only SQLite has (its file, WAL, ``sqlite3`` itself) is marked ``sqlite_only``.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.engine import make_url

from bot.storage.db import SCHEMA_PARAMETER, Database

#: The PostgreSQL database the suite's second half runs on, or "" for SQLite.
POSTGRESQL = os.environ.get("SPORTELLO_TEST_DB", "")
if POSTGRESQL and not POSTGRESQL.startswith("postgresql"):
    raise RuntimeError(f"SPORTELLO_TEST_DB must be a postgresql:// address, not {POSTGRESQL!r}")


def on_postgresql() -> bool:
    return bool(POSTGRESQL)


async def _connect(address: str) -> asyncpg.Connection:
    """A connection to the PostgreSQL database at ``address``, with what it leaves out taken
    from the test server's defaults (127.0.0.1:5432, user postgres, database test)."""
    url = make_url(address)
    return await asyncpg.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 5432,
        user=url.username or "postgres",
        password=url.password,
        database=url.database or "test",
    )


def _run(statement: str) -> None:
    """One statement on the PostgreSQL test database, from sync or async code alike."""

    async def run() -> None:
        connection = await _connect(POSTGRESQL)
        try:
            await connection.execute(statement)
        finally:
            await connection.close()

    failure: list[BaseException] = []

    def in_thread() -> None:
        try:
            asyncio.run(run())
        except BaseException as error:
            failure.append(error)

    worker = threading.Thread(target=in_thread)
    worker.start()
    worker.join()
    if failure:
        raise failure[0]


def new_target(tmp_path: Path, name: str = "bot.sqlite3") -> str:
    """A new, empty database: a file in ``tmp_path``, or a new schema on PostgreSQL."""
    if not on_postgresql():
        return str(tmp_path / name)
    schema = f"test_{secrets.token_hex(6)}"
    _run(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in POSTGRESQL else "?"
    return f"{POSTGRESQL}{separator}{SCHEMA_PARAMETER}={schema}"


def drop_target(target: str) -> None:
    """Remove a schema made by :func:`new_target` (a file goes with its ``tmp_path``)."""
    if not target.startswith("postgresql"):
        return
    schema = make_url(target).query.get(SCHEMA_PARAMETER)
    if isinstance(schema, str) and schema.startswith("test_"):
        _run(f"DROP SCHEMA {schema} CASCADE")


async def rows(database: Database, sql: str, **parameters: Any) -> list[tuple[Any, ...]]:
    """Every row of a statement (``:name`` parameters), read or written, on either backend."""
    async with database.engine.connect() as connection:
        result = await connection.execute(text(sql), parameters)
        found = [tuple(row) for row in result.fetchall()] if result.returns_rows else []
        await connection.commit()
    return found


def _reachable(address: str) -> str | None:
    """Why the PostgreSQL database at ``address`` cannot be used by the tests, or None."""
    try:
        asyncio.run(asyncio.wait_for(_probe(address), timeout=5))
    except Exception as error:
        return str(error) or type(error).__name__
    return None


async def _probe(address: str) -> None:
    connection = await _connect(address)
    await connection.close()


if __name__ == "__main__":
    # `make test` asks first (`python -m tests.auxil.databases --reachable ADDRESS`), so that
    # a missing server is one clear line, not hundreds of failed tests.
    import sys

    if sys.argv[1:2] != ["--reachable"] or len(sys.argv) != 3:
        sys.exit("usage: python -m tests.auxil.databases --reachable postgresql://...")
    problem = _reachable(sys.argv[2])
    if problem is not None:
        print(f"PostgreSQL: {problem}", file=sys.stderr)
    sys.exit(0 if problem is None else 1)


async def execute(
    database: Database, sql: str, parameters: tuple[Any, ...] = ()
) -> list[tuple[Any, ...]]:
    """:func:`rows` for SQL written with ``?`` placeholders, as the older tests wrote it."""
    named = sql
    for number in range(len(parameters)):
        named = named.replace("?", f":p{number}", 1)
    return await rows(database, named, **{f"p{n}": value for n, value in enumerate(parameters)})
