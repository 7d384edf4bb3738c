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
        await store.delete("telegram", "42")
        assert await store.get("telegram", "42") is None


async def test_retention_removes_old_personal_data_only(tmp_path: Path) -> None:
    import time

    from bot.storage.inbound import InboundLog, InboundQueue
    from bot.storage.outbox import Outbox
    from bot.storage.retention import purge

    async with Database(tmp_path / "bot.sqlite3") as database:
        store = SqliteSessionStore(database)
        outbox = Outbox(database)
        inbound = InboundLog(database)
        await store.put("t", "old", "{}")
        await store.put("t", "new", "{}")
        await inbound.touch("wa", "+39old")
        await inbound.touch("wa", "+39new")
        (sent, _pending) = await outbox.add("wa", "+39old", [{"body": "a"}, {"body": "b"}]) or []
        await outbox.mark_sent(sent, "SM1")
        long_ago = time.time() - 100 * 86_400
        connection = database.connection
        await connection.execute(
            "UPDATE sessions SET updated_at = '2000-01-01T00:00:00Z' WHERE user_id = 'old'"
        )
        await connection.execute(
            "UPDATE contacts SET last_inbound_at = ? WHERE user_id = '+39old'", (long_ago,)
        )
        await connection.execute("UPDATE outbox SET updated_at = ?", (long_ago,))
        # A stored update no start ever processed holds a message: not kept beyond the period.
        updates = InboundQueue(database)
        await updates.keep("wa", "SMold", {"Body": "a"})
        await updates.keep("wa", "SMnew", {"Body": "b"})
        await connection.execute(
            "UPDATE inbound_updates SET received_at = ? WHERE update_key = 'SMold'", (long_ago,)
        )
        removed = await purge(database, retention_days=90)
        assert removed == {
            "sessions": 1,
            "contacts": 1,
            "outbox": 1,
            "appointment_contacts": 0,
            "handovers": 0,
            "requests_expired": 0,
            "request_contacts": 0,
            "shared_questions": 0,
            "inbound_ids": 0,
            "inbound_updates": 1,
        }
        assert [key for key, _ in await updates.left("wa")] == ["SMnew"]
        assert await store.get("t", "old") is None
        assert await store.get("t", "new") == "{}"
        assert await inbound.last_inbound("wa", "+39new") is not None
        assert await outbox.counts("wa") == {"pending": 1}  # not delivered yet: kept


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


async def test_a_failed_transaction_does_not_undo_other_writers(tmp_path: Path) -> None:
    """Writes from other coroutines wait for an open transaction instead of joining it."""
    import asyncio

    async with Database(tmp_path / "bot.sqlite3") as database:
        sessions = SqliteSessionStore(database)
        entered = asyncio.Event()

        async def failing_transaction() -> None:
            async with database.transaction() as connection:
                await connection.execute(
                    "INSERT INTO sessions (channel, user_id, state) VALUES ('t', 'a', '{}')"
                )
                entered.set()
                await asyncio.sleep(0.05)  # another coroutine writes meanwhile
                raise RuntimeError("boom")

        async def other_writer() -> None:
            await entered.wait()
            await sessions.put("t", "b", '{"language": "it"}')

        results = await asyncio.gather(
            failing_transaction(), other_writer(), return_exceptions=True
        )
        assert isinstance(results[0], RuntimeError)
        assert await sessions.get("t", "a") is None  # rolled back
        assert await sessions.get("t", "b") == '{"language": "it"}'  # kept
