"""Backups of a PostgreSQL database: pg_dump's archive, restored by pg_restore (PostgreSQL
runs only: SPORTELLO_TEST_DB)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from bot.storage.backup import BackupError, backup_postgresql, inspect_dump, restore_postgresql
from bot.storage.db import Database
from bot.storage.tables import shared_questions
from tests.auxil.databases import on_postgresql

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
