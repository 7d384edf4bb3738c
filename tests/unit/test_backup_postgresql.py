"""Backups of a PostgreSQL database: pg_dump's archive, restored by pg_restore (PostgreSQL
runs only: SPORTELLO_TEST_DB)."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot.storage.backup import (
    BackupError,
    backup_postgresql,
    inspect_dump,
    restore_postgresql,
    running_instances,
)
from bot.storage.db import Database
from bot.storage.instance import new_holder
from bot.storage.leases import INSTANCE, Leases
from bot.storage.tables import shared_questions
from tests.auxil.databases import on_postgresql
from tests.auxil.holders import dead_holder

pytestmark = pytest.mark.skipif(not on_postgresql(), reason="PostgreSQL only (pg_dump)")


def _question(text: str) -> dict[str, object]:
    return {"channel": "t", "user_id": "u", "language": "it", "text": text, "shared_at": 1.0}


async def test_a_backup_restores_the_data_it_held(database_target: str, tmp_path: Path) -> None:
    async with Database(database_target) as database:
        await database.write(insert(shared_questions).values(_question("kept")))
    copy = backup_postgresql(database_target, tmp_path)
    assert copy.name.startswith("sportello-") and copy.suffix == ".pgdump"
    assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    assert inspect_dump(copy)
    async with Database(database_target) as database:
        await database.write(insert(shared_questions).values(_question("later")))
    kept = restore_postgresql(copy, database_target, tmp_path / "kept")
    assert kept.is_file() and stat.S_IMODE(kept.stat().st_mode) == 0o600
    async with Database(database_target) as database:
        texts = [row[0] for row in await database.fetch_all(select(shared_questions.c.text))]
    assert texts == ["kept"]


def test_what_is_not_an_archive_is_refused(database_target: str, tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.pgdump"
    garbage.write_bytes(b"not an archive")
    with pytest.raises(BackupError, match="not a pg_dump archive"):
        restore_postgresql(garbage, database_target, tmp_path)


async def test_a_restore_is_refused_while_an_instance_runs_on_the_database(
    database_target: str, tmp_path: Path
) -> None:
    """A running instance holds its own lease, as a running bot holds a SQLite file open."""
    elsewhere = "db-client-2:4026531836:41:a1b2c3d4"  # an instance of another machine
    async with Database(database_target) as database:
        await database.write(insert(shared_questions).values(_question("kept")))
        copy = backup_postgresql(database_target, tmp_path)
        await Leases(database).take(f"{INSTANCE}{elsewhere}", elsewhere, 60)
        await database.write(insert(shared_questions).values(_question("later")))
    with pytest.raises(BackupError) as refused:
        restore_postgresql(copy, database_target, tmp_path / "kept")
    assert "in use by 1 running instance(s) of the bot (on db-client-2)" in str(refused.value)
    assert "stop the bot first" in str(refused.value)
    assert not (tmp_path / "kept").exists()  # nothing done, nothing dumped
    async with Database(database_target) as database:
        assert sorted(await _texts(database)) == ["kept", "later"]
        await Leases(database).take(f"{INSTANCE}{elsewhere}", elsewhere, 0.01)  # it stopped
    await asyncio.sleep(0.02)
    assert running_instances(database_target) == []
    assert restore_postgresql(copy, database_target, tmp_path / "kept").is_file()
    async with Database(database_target) as database:
        assert await _texts(database) == ["kept"]


async def test_force_restores_beside_a_running_instance_and_a_killed_one_is_not_running(
    database_target: str, tmp_path: Path
) -> None:
    living, killed = new_holder(), dead_holder()
    async with Database(database_target) as database:
        copy = backup_postgresql(database_target, tmp_path)
        for holder in (living, killed):
            await Leases(database).take(f"{INSTANCE}{holder}", holder, 60)
    assert running_instances(database_target) == [living]  # the killed one's process is gone
    with pytest.raises(BackupError, match="in use by 1 running instance"):
        restore_postgresql(copy, database_target, tmp_path)
    assert restore_postgresql(copy, database_target, tmp_path, force=True).is_file()


async def _texts(database: Database) -> list[str]:
    return [str(row[0]) for row in await database.fetch_all(select(shared_questions.c.text))]
