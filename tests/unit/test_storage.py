"""SQLite storage: migrations, WAL mode, sessions that survive a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.content.catalog import Catalog
from bot.core.engine import Engine
from bot.i18n import Interface
from bot.storage import db as db_module
from bot.storage.db import Database
from bot.storage.migrations import MIGRATIONS
from bot.storage.sessions import SqliteSessionStore
from tests.auxil.chat import Conversation


async def test_open_applies_migrations_and_wal(tmp_path: Path) -> None:
    async with Database(tmp_path / "sub" / "bot.sqlite3") as database:
        assert await database.schema_version() == MIGRATIONS[-1][0]
        assert await database.journal_mode() == "wal"
    async with Database(tmp_path / "sub" / "bot.sqlite3") as database:  # reopening is a no-op
        assert await database.schema_version() == MIGRATIONS[-1][0]


async def test_a_newer_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as database:
        await database.connection.execute("PRAGMA user_version = 999")
    with pytest.raises(RuntimeError, match="newer than this program knows"):
        await Database(path).open()


async def test_a_failing_migration_leaves_nothing_half_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = (*MIGRATIONS, (99, "broken", "CREATE TABLE half (x INTEGER); SELECT * FROM nowhere;"))
    monkeypatch.setattr(db_module, "MIGRATIONS", broken)
    database = Database(tmp_path / "bot.sqlite3")
    with pytest.raises(Exception, match="nowhere"):
        await database.open()
    await database.close()
    monkeypatch.setattr(db_module, "MIGRATIONS", MIGRATIONS)
    async with Database(tmp_path / "bot.sqlite3") as database:
        assert await database.schema_version() == MIGRATIONS[-1][0]
        async with database.connection.execute(
            "SELECT count(*) FROM sqlite_master WHERE name = 'half'"
        ) as cursor:
            assert (await cursor.fetchone()) == (0,)


async def test_session_store_round_trip(tmp_path: Path) -> None:
    async with Database(tmp_path / "bot.sqlite3") as database:
        store = SqliteSessionStore(database)
        assert await store.get("telegram", "42") is None
        await store.put("telegram", "42", '{"language": "fr"}')
        await store.put("telegram", "42", '{"language": "ar"}')
        assert await store.get("telegram", "42") == '{"language": "ar"}'
        assert await store.get("whatsapp", "42") is None
        assert await store.delete_idle(older_than_days=1) == 0
        await store.delete("telegram", "42")
        assert await store.get("telegram", "42") is None


async def test_idle_sessions_are_forgotten(tmp_path: Path) -> None:
    async with Database(tmp_path / "bot.sqlite3") as database:
        store = SqliteSessionStore(database)
        await store.put("t", "old", "{}")
        await store.put("t", "new", "{}")
        await database.connection.execute(
            "UPDATE sessions SET updated_at = '2000-01-01T00:00:00Z' WHERE user_id = 'old'"
        )
        assert await store.delete_idle(older_than_days=30) == 1
        assert await store.get("t", "old") is None
        assert await store.get("t", "new") == "{}"


async def test_a_restart_resumes_where_the_user_was(
    tmp_path: Path, catalog: Catalog, interface: Interface
) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as database:
        engine = Engine(lambda: catalog, SqliteSessionStore(database), interface)
        chat = Conversation(engine)
        await chat.start(hint="it")
        await chat.send("1")
    async with Database(path) as database:
        engine = Engine(lambda: catalog, SqliteSessionStore(database), interface)
        reply = await Conversation(engine).send("1")
        assert reply.text.startswith("**Rinnovo del permesso**")
        assert reply.language == "it"
