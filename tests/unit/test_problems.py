"""A database that cannot be used: found at the start, in plain words; a full disk remembered.

All of it is about SQLite's file (the server's own troubles are the doctor's)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import exc, insert

from bot.storage.db import Database, DatabaseUnavailable
from bot.storage.problems import DAMAGED, FULL, NOT_A_DATABASE, storage_problem
from bot.storage.tables import sessions
from tests.auxil.databases import rows
from tests.auxil.full_disk import grow_again, stop_growing


def _session(user: str, state: str | None) -> dict[str, str | None]:
    return {"channel": "t", "user_id": user, "state": state, "updated_at": ""}


async def _made(path: Path) -> bytes:
    async with Database(path) as database:
        await rows(
            database,
            "INSERT INTO sessions (channel, user_id, state, updated_at) VALUES ('t', '1', :s, '')",
            s="x" * 5000,
        )
    return _bytes(path)


def _bytes(path: Path) -> bytes:
    return path.read_bytes()


async def _refused(path: Path) -> str:
    with pytest.raises(DatabaseUnavailable) as raised:
        await Database(path).open()
    message = str(raised.value)
    assert str(path) in message and "What to do:" in message
    assert "\n" not in message  # one line
    return message


async def test_a_file_that_is_no_database_is_named_with_what_to_do(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    path.write_text("these are my notes, not a database\n" * 10)
    message = await _refused(path)
    assert NOT_A_DATABASE in message and "sportello restore" in message


async def test_a_truncated_database_is_refused(tmp_path: Path) -> None:
    data = await _made(tmp_path / "good.sqlite3")
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(data[: len(data) // 2])
    message = await _refused(path)
    assert DAMAGED in message and "sportello restore" in message


async def test_a_database_damaged_inside_is_found_at_the_start(tmp_path: Path) -> None:
    good = tmp_path / "good.sqlite3"
    data = bytearray(await _made(good))
    with sqlite3.connect(good) as connection:
        page = int(connection.execute("PRAGMA page_size").fetchone()[0])
        root = int(  # the sessions' rows, not the schema: opening alone reads well
            connection.execute(
                "SELECT rootpage FROM sqlite_master WHERE name = 'sessions'"
            ).fetchone()[0]
        )
    connection.close()
    data[(root - 1) * page : root * page] = b"\x5a" * page
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(bytes(data))
    message = await _refused(path)
    assert DAMAGED in message


async def test_a_folder_is_no_database(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    path.mkdir()
    message = await _refused(path)
    assert "it is a folder" in message and "SPORTELLO_DB" in message


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every file")
async def test_a_file_the_user_may_not_read(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    await _made(path)
    path.chmod(0)
    try:
        message = await _refused(path)
    finally:
        path.chmod(0o600)
    assert "cannot be opened" in message and "may read and write" in message


async def test_a_folder_that_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "mkdir", refuse)
    message = await _refused(tmp_path / "new" / "bot.sqlite3")
    assert "cannot be opened" in message


async def test_a_refused_write_is_remembered_until_one_works(tmp_path: Path) -> None:
    async with Database(tmp_path / "bot.sqlite3") as database:
        await stop_growing(database)
        big = "x" * 100_000  # needs new pages: SQLite's own "database or disk is full"
        with pytest.raises(exc.OperationalError):
            await database.write(insert(sessions).values(_session("1", big)))
        assert database.write_failure is not None
        assert database.write_failure.problem == FULL
        with pytest.raises(exc.OperationalError):
            async with database.transaction() as connection:
                await connection.execute(insert(sessions).values(_session("2", big)))
        assert database.write_failure is not None
        await database.schema_version()  # a read says nothing about writing
        assert database.write_failure is not None
        await grow_again(database)
        async with database.transaction() as connection:
            await connection.execute(insert(sessions).values(_session("3", big)))
        assert database.write_failure is None


async def test_other_errors_are_not_the_database_s_health(tmp_path: Path) -> None:
    async with Database(tmp_path / "bot.sqlite3") as database:
        with pytest.raises(exc.IntegrityError):
            await database.write(insert(sessions).values(_session("4", None)))
        with pytest.raises(RuntimeError):
            async with database.transaction():
                raise RuntimeError("a rule of the booking said no")
        assert database.write_failure is None


def test_problems_in_plain_words() -> None:
    assert storage_problem(sqlite3.OperationalError("database or disk is full")) == FULL
    assert storage_problem(sqlite3.DatabaseError("database disk image is malformed")) == DAMAGED
    assert storage_problem(sqlite3.OperationalError("database is locked")) is None
    assert storage_problem(ValueError("database or disk is full")) is None
