"""SQLite storage: migrations, WAL mode, sessions that survive a restart."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest
from sqlalchemy import insert
from sqlalchemy import text as sql

from bot.content.catalog import Catalog
from bot.core.engine import Engine
from bot.i18n import Interface
from bot.notice import Notice
from bot.storage import tables
from bot.storage.db import Database, latest_version
from bot.storage.sessions import SqliteSessionStore
from tests.auxil.chat import Conversation
from tests.auxil.databases import execute
from tests.auxil.trips import Trips


@pytest.mark.sqlite_only
async def test_open_applies_migrations_and_wal(tmp_path: Path) -> None:
    async with Database(tmp_path / "sub" / "bot.sqlite3") as database:
        assert await database.schema_version() == latest_version()
        assert await database.journal_mode() == "wal"
    async with Database(tmp_path / "sub" / "bot.sqlite3") as database:  # reopening is a no-op
        assert await database.schema_version() == latest_version()


async def test_session_store_round_trip(database: Database) -> None:
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
        (sent, _pending) = (
            await outbox.add(
                "wa",
                "+39old",
                [Notice.reply("wa", "+39old", "a"), Notice.reply("wa", "+39old", "b")],
            )
            or []
        )
        await outbox.mark_sent(sent, "SM1")
        long_ago = time.time() - 100 * 86_400
        await execute(
            database,
            "UPDATE sessions SET updated_at = '2000-01-01T00:00:00Z' WHERE user_id = 'old'",
        )
        await execute(
            database,
            "UPDATE contacts SET last_inbound_at = ? WHERE user_id = '+39old'",
            (long_ago,),
        )
        await execute(database, "UPDATE outbox SET updated_at = ?", (long_ago,))
        # A stored update no start ever processed holds a message: not kept beyond the period.
        updates = InboundQueue(database)
        await updates.keep("wa", "SMold", {"Body": "a"})
        await updates.keep("wa", "SMnew", {"Body": "b"})
        await execute(
            database,
            "UPDATE inbound_updates SET received_at = ? WHERE update_key = 'SMold'",
            (long_ago,),
        )
        removed = await purge(database, retention_days=90)
        assert removed == {
            "sessions": 1,
            "contacts": 1,
            "outbox": 1,
            "notice_parts": 0,
            "appointment_contacts": 0,
            "handovers": 0,
            "requests_expired": 0,
            "request_contacts": 0,
            "checklist_answers": 0,
            "shared_questions": 0,
            "inbound_ids": 0,
            "inbound_updates": 1,
            "turn_locks": 0,
            "leases": 0,
            "deadline_reminders": 0,
            "webchat_messages": 0,
        }
        kept = await execute(database, "SELECT update_key FROM inbound_updates")
        assert [key for (key,) in kept] == ["SMnew"]
        assert await store.get("t", "old") is None
        assert await store.get("t", "new") == "{}"
        assert await inbound.last_inbound("wa", "+39new") is not None
        assert await outbox.counts("wa") == {"pending": 1}  # not delivered yet: kept


async def test_a_restart_resumes_where_the_user_was(
    database_target: str, catalog: Catalog, interface: Interface
) -> None:
    path = database_target
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


async def test_a_failed_transaction_does_not_undo_other_writers(database: Database) -> None:
    """Writes from other coroutines wait for an open transaction instead of joining it."""
    import asyncio

    sessions = SqliteSessionStore(database)
    entered = asyncio.Event()

    async def failing_transaction() -> None:
        async with database.transaction() as connection:
            await connection.execute(
                insert(tables.sessions).values(
                    channel="t", user_id="a", state="{}", updated_at="2026-11-30T00:00:00Z"
                ),
            )
            entered.set()
            await asyncio.sleep(0.05)  # another coroutine writes meanwhile
            raise RuntimeError("boom")

    async def other_writer() -> None:
        await entered.wait()
        await sessions.put("t", "b", '{"language": "it"}')

    results = await asyncio.gather(failing_transaction(), other_writer(), return_exceptions=True)
    assert isinstance(results[0], RuntimeError)
    assert await sessions.get("t", "a") is None  # rolled back
    assert await sessions.get("t", "b") == '{"language": "it"}'  # kept


def _modes(database: Path) -> dict[str, int]:
    """The permission bits of a database and its -wal and -shm files, by suffix."""
    paths = {end: database.with_name(database.name + end) for end in ("", "-wal", "-shm")}
    return {end: stat.S_IMODE(path.stat().st_mode) for end, path in paths.items()}


@pytest.mark.parametrize("umask", [0o022, 0o002, 0o000])
async def test_the_database_and_its_wal_are_private_whatever_the_umask(
    tmp_path: Path, umask: int
) -> None:
    path = tmp_path / "bot.sqlite3"
    previous = os.umask(umask)  # a shell's or a container's usual umask: files would be 0644
    try:
        async with Database(path) as database:
            await SqliteSessionStore(database).put("whatsapp", "+393331234567", "{}")
            assert _modes(path) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
    finally:
        os.umask(previous)


async def test_an_older_world_readable_database_is_made_private(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    previous = os.umask(0o022)
    try:
        connection = sqlite3.connect(path)  # as an older version left it: 0644, with a WAL
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("CREATE TABLE t (x)")
        connection.commit()
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        async with Database(path):
            assert _modes(path) == {"": 0o600, "-wal": 0o600, "-shm": 0o600}
        connection.close()
    finally:
        os.umask(previous)


def _on_disk(database: Path) -> bytes:
    """The bytes of the database and its -wal and -shm, as anyone reading the disk sees them."""
    paths = [database.with_name(database.name + end) for end in ("", "-wal", "-shm")]
    return b"".join(path.read_bytes() for path in paths if path.exists())


PAST_PEOPLE = {  # user id (a WhatsApp number or a Telegram account), name, phone, what they wrote
    "whatsapp": ("+393471112223", "Fatima Benali", "+393471112223", "permesso scaduto zanzibar"),
    "telegram": ("778899001122", "Oleksandr Koval", "+380501234567", "ricongiungimento qwerty"),
}


async def _past_of_everyone(database: Database, long_ago: float) -> None:
    """Two people's data in every table, from before the retention period, as the bot wrote it."""
    for channel, (user_id, name, phone, text) in PAST_PEOPLE.items():
        values = (channel, user_id)
        await execute(
            database,
            "INSERT INTO appointments (code, office, service, starts_at, ends_at, channel, "
            "user_id, name, phone, language, status, created_at, updated_at) VALUES (?, 'lu', "
            "'kit', '2000-01-01T09:00:00Z', '2000-01-01T09:20:00Z', ?, ?, ?, ?, 'it', "
            "'attended', ?, ?)",
            (f"LU-{channel[:4].upper()}", *values, name, phone, long_ago, long_ago),
        )
        await execute(
            database,
            "INSERT INTO appointment_requests (code, office, service, channel, user_id, language, "
            "speaks, days, part, name, phone, status, waiting_since, created_at, updated_at) "
            "VALUES (?, 'lu', 'kit', ?, ?, 'it', 'it', 'mon', 'any', ?, ?, ?, ?, ?, ?)",
            (
                f"RQ-{channel[:4].upper()}",
                *values,
                name,
                phone,
                "open",
                long_ago,
                long_ago,
                long_ago,
            ),
        )
        await execute(
            database,
            "INSERT INTO handovers (channel, user_id, language, opened_at) VALUES (?, ?, 'it', ?)",
            (*values, long_ago),
        )
        await execute(
            database,
            "INSERT INTO contacts (channel, user_id, last_inbound_at) VALUES (?, ?, ?)",
            (*values, long_ago),
        )
        await execute(
            database,
            "INSERT INTO sessions (channel, user_id, state, updated_at) "
            "VALUES (?, ?, ?, '2000-01-01T00:00:00Z')",
            (*values, f'{{"draft": "{name} {phone}"}}'),
        )
        await execute(
            database,
            "INSERT INTO shared_questions (channel, user_id, language, text, shared_at) "
            "VALUES (?, ?, 'it', ?, ?)",
            (*values, text, long_ago),
        )
        for status in ("sent", "pending"):  # one that never went (its channel was turned off)
            await execute(
                database,
                "INSERT INTO outbox (channel, recipient, payload, status, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (*values, f'{{"body": "{name}: {text}"}}', status, long_ago, long_ago),
            )


async def test_retention_leaves_nothing_personal_of_the_past_in_any_table_or_on_disk(
    tmp_path: Path,
) -> None:
    import time

    from bot.storage.retention import purge

    path = tmp_path / "bot.sqlite3"
    async with Database(path) as database:
        await _past_of_everyone(database, long_ago=time.time() - 100 * 86_400)
        # Someone whose appointment is still to come: kept whole.
        await execute(
            database,
            "INSERT INTO appointments (code, office, service, starts_at, ends_at, channel, "
            "user_id, name, phone, language, created_at, updated_at) VALUES ('LU-NEXT', 'lu', "
            "'kit', '2099-01-01T09:00:00Z', '2099-01-01T09:20:00Z', 'telegram', '5550001', "
            "'Kept Person', '+390001', 'it', 0, 0)",
        )
        personal = [value.encode() for person in PAST_PEOPLE.values() for value in person] + [
            value.removeprefix("+").encode() for _u, _n, value, _t in PAST_PEOPLE.values()
        ]
        assert [value for value in personal if value not in _on_disk(path)] == []  # visible

        await purge(database, retention_days=90)

        rows = await execute(
            database,
            "SELECT code, channel, user_id, name, phone, status FROM appointments ORDER BY code",
        )
        assert rows == [  # what the anonymous counts need, and the future one untouched
            ("LU-NEXT", "telegram", "5550001", "Kept Person", "+390001", "active"),
            ("LU-TELE", "telegram", "expired", None, None, "attended"),
            ("LU-WHAT", "whatsapp", "expired", None, None, "attended"),
        ]
        assert [value for value in personal if value in _on_disk(path)] == []
    assert [value for value in personal if value in _on_disk(path)] == []  # and once closed
    assert b"Kept Person" in _on_disk(path)


async def test_erasing_leaves_nothing_of_the_person_on_disk(tmp_path: Path) -> None:
    import time

    from bot.storage.retention import erase_user

    path = tmp_path / "bot.sqlite3"
    async with Database(path) as database:
        await _past_of_everyone(database, long_ago=time.time())
        user_id, name, phone, text = PAST_PEOPLE["telegram"]
        await SqliteSessionStore(database).begin("telegram", user_id)  # the turn asking it
        await erase_user(database, "telegram", user_id)
        erased = [user_id.encode(), name.encode(), phone.encode(), text.encode()]
        assert [value for value in erased if value in _on_disk(path)] == []
        other = PAST_PEOPLE["whatsapp"]
        assert all(value.encode() in _on_disk(path) for value in other)  # not theirs to erase


async def test_the_wal_is_emptied_once_a_read_still_open_ends(tmp_path: Path) -> None:
    import asyncio

    path = tmp_path / "bot.sqlite3"
    async with Database(path) as database:
        store = SqliteSessionStore(database)
        for number in range(3):
            await store.put("whatsapp", f"+39{number}", "{}")
        wal = path.with_name(path.name + "-wal")
        reading = await database.engine.connect()
        # Statements through SQLAlchemy fetch every row at once (bot.storage.sqlite_driver):
        # only the driver's own cursor stays open halfway through its rows.
        driver = (await reading.get_raw_connection()).driver_connection
        assert driver is not None
        rows = await driver.execute("SELECT * FROM sessions")
        assert await rows.fetchone() is not None  # another coroutine, halfway through its rows

        async def finish_reading() -> None:
            await asyncio.sleep(0.2)
            await rows.close()
            await reading.close()

        finishing = asyncio.create_task(finish_reading())
        assert await database.checkpoint()
        await finishing
        assert wal.stat().st_size == 0


@pytest.mark.sqlite_only  # counts hops to SQLite's thread (bot.storage.sqlite_driver)
async def test_a_lone_write_and_a_lone_read_take_one_trip_each(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In autocommit: no BEGIN, COMMIT or rollback around them (each would be a trip more).
    Quick ones (a session's) take none: they run on the event loop's thread."""
    store = SqliteSessionStore(database)
    await store.put("whatsapp", "+39333", "{}")  # the pool's connection made
    trips = Trips(monkeypatch)
    await database.write(sql("UPDATE sessions SET state = '{\"step\": 2}'"))
    assert trips.count == 1
    assert await database.fetch_value(sql("SELECT state FROM sessions")) == '{"step": 2}'
    assert trips.count == 2
    await store.put("whatsapp", "+39333", '{"step": 3}')
    assert await store.get("whatsapp", "+39333") == '{"step": 3}'
    assert trips.count == 2
