"""The schema's migrations: Alembic's revisions on SQLite and PostgreSQL, and SQLite files
made by the program's own migrations before Alembic (1 to 17), which are kept as they are."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from bot.storage import db as db_module
from bot.storage.db import BASELINE, Database, latest_version, shown
from bot.storage.migrations import MIGRATIONS
from bot.storage.tables import metadata
from tests.auxil.databases import rows

LEGACY_LAST = MIGRATIONS[-1][0]


def _differences(connection: Connection) -> list[Any]:
    return list(compare_metadata(MigrationContext.configure(connection), metadata))


async def differences(database: Database) -> list[Any]:
    """What Alembic finds different between the database and ``bot.storage.tables``."""
    async with database.engine.connect() as connection:
        return await connection.run_sync(_differences)


def legacy_file(path: Path, version: int) -> None:
    """A SQLite file as the program before Alembic made it, at ``version``."""
    connection = sqlite3.connect(path, isolation_level=None)
    for number, _name, script in MIGRATIONS[:version]:
        connection.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    connection.close()


async def test_a_new_database_has_exactly_the_tables_described(database: Database) -> None:
    assert await differences(database) == []
    assert await database.schema_version() == latest_version() >= LEGACY_LAST


async def test_opening_again_changes_nothing(database_target: str) -> None:
    for _ in range(2):
        async with Database(database_target) as database:
            assert await database.schema_version() == latest_version()
            assert await rows(database, "SELECT version_num FROM alembic_version") == [(BASELINE,)]


async def test_instances_starting_together_migrate_once(database_target: str) -> None:
    databases = [Database(database_target) for _ in range(3)]
    await asyncio.gather(*(database.open() for database in databases))
    try:
        assert await differences(databases[0]) == []
    finally:
        for database in databases:
            await database.close()


async def test_a_database_of_a_newer_program_is_refused(database_target: str) -> None:
    async with Database(database_target) as database:
        await rows(database, "UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(RuntimeError, match="newer than this program knows"):
        await Database(database_target).open()


@pytest.mark.sqlite_only
async def test_a_sqlite_file_numbered_beyond_this_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path):
        pass
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA user_version = 999")
    connection.close()
    with pytest.raises(RuntimeError, match="newer than this program knows"):
        await Database(path).open()


async def test_a_failing_revision_leaves_nothing_half_done(
    database_target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Database(database_target):
        pass  # at the baseline
    broken = tmp_path / "revisions"
    shutil.copytree(db_module.REVISIONS, broken)
    (broken / "versions" / "0002_broken.py").write_text(
        'revision = "0002"\ndown_revision = "0001"\nbranch_labels = None\ndepends_on = None\n'
        "from alembic import op\n\n\ndef upgrade() -> None:\n"
        '    op.execute("CREATE TABLE half (x INTEGER)")\n'
        '    op.execute("SELECT * FROM nowhere")\n',
        encoding="utf-8",
    )
    monkeypatch.setattr(db_module, "REVISIONS", str(broken))
    latest_version.cache_clear()
    try:
        with pytest.raises(Exception, match="nowhere"):
            await Database(database_target).open()
    finally:
        monkeypatch.undo()
        latest_version.cache_clear()
    async with Database(database_target) as database:
        assert await database.schema_version() == latest_version()
        assert await differences(database) == []  # no table "half"


@pytest.mark.sqlite_only
async def test_a_sqlite_file_of_the_old_migrations_is_kept_and_stamped(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    legacy_file(path, LEGACY_LAST)
    connection = sqlite3.connect(path)
    connection.execute("INSERT INTO closures (day, added_at) VALUES ('2026-12-24', 1.0)")
    connection.commit()
    connection.close()
    async with Database(path) as database:
        assert await rows(database, "SELECT day FROM closures") == [("2026-12-24",)]
        assert await rows(database, "SELECT version_num FROM alembic_version") == [(BASELINE,)]
        assert await database.schema_version() == latest_version()
        assert _only_spelling(await differences(database))


@pytest.mark.sqlite_only
async def test_an_older_sqlite_file_goes_through_its_own_migrations_first(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bot.sqlite3"
    legacy_file(path, 10)
    async with Database(path) as database:
        assert await database.schema_version() == latest_version()
        assert _only_spelling(await differences(database))


def _only_spelling(found: list[Any]) -> bool:
    """SQLite files of the old migrations spell REAL where the tables say DOUBLE (the same
    affinity), and their INTEGER PRIMARY KEY ids are implicitly not null: nothing else."""
    for difference in found:
        kind, *details = difference[0] if isinstance(difference, list) else difference
        if kind == "modify_type" and str(details[-2]) == "REAL":
            continue
        if kind == "modify_nullable" and details[2] == "id":
            continue
        return False
    return True


def test_an_address_is_shown_without_its_password() -> None:
    address = "postgresql://sportello:s3cret@db.example:5432/luino?schema=counter"
    assert "s3cret" not in shown(address)
    assert "db.example" in shown(address)
    assert shown("/var/lib/sportello/bot.sqlite3") == "/var/lib/sportello/bot.sqlite3"
