"""Tests of SQLite's quick connection (``bot.storage.quick``): every message's statements run
straight on the driver, exactly as SQLAlchemy would run them, or the usual way."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import (
    Column,
    Executable,
    Integer,
    MetaData,
    Table,
    Text,
    bindparam,
    create_engine,
    event,
    exc,
    func,
    insert,
    select,
)

from bot.storage import quick as quick_module
from bot.storage.db import Database, quick
from bot.storage.events import _RECORD
from bot.storage.inbound import InboundLog, InboundQueue
from bot.storage.quick import (
    NotQuick,
    QuickConnection,
    QuickResult,
    QuickStatements,
    Statements,
)
from bot.storage.sessions import SqliteSessionStore
from bot.storage.tables import daily_posts
from tests.auxil.full_disk import grow_again, stop_growing
from tests.auxil.trips import Trips

pytestmark = pytest.mark.sqlite_only  # the quick connection is SQLite's


def _hot_statements(db: Database) -> Iterator[tuple[str, Executable, dict[str, Any]]]:
    """Every message's statements, with parameters as their callers give them."""
    sessions = SqliteSessionStore(db)
    queue = InboundQueue(db)
    log = InboundLog(db)
    turn = {"channel": "whatsapp", "user_id": "u1", "holder": db.holder}
    now = time.time()
    yield "take", sessions._take, {**turn, "since": now, "now": int(now)}
    yield "read", sessions._read, turn
    yield "save", sessions._save, sessions._saved("whatsapp", "u1", '{"a": 1}')
    yield "let go", sessions._let_go, turn
    stored = {"channel": "whatsapp", "key": "m1", "payload": "{}", "received_at": 1}
    yield "keep", queue._keep, {**stored, "holder": db.holder}
    forgetting = {"channel": "whatsapp", "key": "m1"}
    yield "forget", queue._processed._forget, forgetting
    seen = {"channel": "whatsapp", "message_id": "m1", "received_at": 2}
    yield "remember", queue._processed._remember, seen
    yield "seen", log._seen, {"channel": "whatsapp", "message_id": "m1"}
    touched = {"channel": "whatsapp", "user_id": "u1", "last_inbound_at": now}
    yield "touch", log._touch, touched
    yield "last inbound", log._last_inbound, {"channel": "whatsapp", "user_id": "u1"}
    event_row = {
        "hour": "2026-12-01T10",
        "kind": "question",
        "action": "answered",
        "channel": "whatsapp",
        "language": "it",
        "area": None,
        "topic": "renewal",
        "service": None,
        "office": None,
        "seconds": None,
        "user": "p",
    }
    yield "record", _RECORD, event_row


def _run_one(
    statement: Executable, parameters: dict[str, Any], statements: QuickStatements
) -> QuickResult:
    return statements.execute(statement, parameters)


async def test_every_message_statement_goes_to_sqlite_as_sqlalchemy_sends_it(
    tmp_path: Path,
) -> None:
    """The same SQL and the same parameters (bind processors applied: a Float's int becomes
    a float), and the same rows back, statement after statement on one file."""
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as db:
        sent: list[tuple[str, tuple[Any, ...]]] = []
        engine = create_engine(f"sqlite:///{path}")

        @event.listens_for(engine, "before_cursor_execute")
        def record(_c: Any, _cu: Any, sql: str, parameters: Any, _x: Any, _m: bool) -> None:
            sent.append((sql, tuple(parameters)))

        quick_connection = QuickConnection(create_engine(f"sqlite:///{tmp_path / 'twin.sqlite3'}"))
        async with Database(tmp_path / "twin.sqlite3"):
            pass  # the twin file gets the schema
        try:
            for name, statement, parameters in _hot_statements(db):
                with engine.begin() as connection:
                    expected = connection.execute(statement, parameters)
                    expected_rows = expected.fetchall() if expected.returns_rows else []
                    expected_count = expected.rowcount
                compiled = quick_connection.compiled(statement, parameters)
                values = compiled.parameters(parameters)
                assert (compiled.sql, values) == sent[-1], name
                assert [type(v) for v in values] == [type(v) for v in sent[-1][1]], name
                got = quick_connection.run(functools.partial(_run_one, statement, parameters), True)
                assert got.rows == [tuple(row) for row in expected_rows], name
                assert got.rowcount == expected_count, name
        finally:
            quick_connection.close()
            engine.dispose()


_metadata = MetaData()
#: A column whose default Python works out: only SQLAlchemy's execution fills it in.
_defaulted = Table(
    "defaulted",
    _metadata,
    Column("id", Integer, primary_key=True),
    Column("name", Text),
    Column("made", Text, default=lambda: "by python"),
)


async def test_a_statement_the_quick_way_cannot_run_goes_the_usual_way_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its transaction's earlier statements are rolled back and the whole work runs on the
    database's thread: nothing twice, the Python default filled in."""
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as db:
        async with db.engine.begin() as connection:
            await connection.run_sync(_metadata.create_all)
        post = insert(daily_posts)

        def both(statements: Statements) -> int:
            statements.execute(post, {"name": "a", "day": "x"})
            return statements.execute(insert(_defaulted), {"name": "n"}).rowcount

        trips = Trips(monkeypatch)
        assert await db.run_transaction(both, quick=True) == 1
        assert trips.count > 0  # it went to the database's thread
        monkeypatch.undo()
        assert await db.fetch_value(select(func.count()).select_from(daily_posts)) == 1
        assert await db.fetch_value(select(_defaulted.c.made)) == "by python"


def test_a_refused_statement_is_not_compiled_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every message would pay the compiling again, to be refused again."""
    compiled = []
    compile_for_real = quick_module._compile

    def counted(*args: Any) -> Any:
        compiled.append(args)
        return compile_for_real(*args)

    monkeypatch.setattr(quick_module, "_compile", counted)
    quick_connection = QuickConnection(create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    refused = insert(_defaulted)
    try:
        for _ in range(3):
            with pytest.raises(NotQuick):
                quick_connection.compiled(refused, {"name": "n"})
    finally:
        quick_connection.close()
    assert len(compiled) == 1


def test_what_the_quick_way_refuses(tmp_path: Path) -> None:
    quick_connection = QuickConnection(create_engine(f"sqlite:///{tmp_path / 'x.sqlite3'}"))
    try:
        with pytest.raises(NotQuick):
            quick_connection.compiled(insert(_defaulted), {"name": "n"})  # a Python default
        with pytest.raises(NotQuick):  # RETURNING
            quick_connection.compiled(
                insert(daily_posts).returning(daily_posts.c.name), {"name": "n"}
            )
        with pytest.raises(NotQuick):  # an expanding IN
            quick_connection.compiled(
                select(daily_posts).where(daily_posts.c.name.in_(["a", "b"])), {}
            )
        with pytest.raises(NotQuick):  # a parameter nobody gave
            quick_connection.compiled(
                select(daily_posts).where(daily_posts.c.name == bindparam("n")), {}
            )
    finally:
        quick_connection.close()


async def test_a_full_disk_on_the_quick_connection_is_sqlalchemys_error_and_noted(
    tmp_path: Path,
) -> None:
    """SQLite refuses to grow the file (``max_page_count``): the quick write fails as the
    usual way fails (SQLAlchemy's OperationalError, the user's data not in its text), the
    failure is remembered for /healthz, and the connection works once there is room."""
    async with Database(tmp_path / "bot.sqlite3") as db:
        quick_post = quick(insert(daily_posts))
        await db.write(quick_post, {"name": "first", "day": "x"})
        await stop_growing(db)
        secret = "Fatima's passport " + "x" * 3000
        with pytest.raises(exc.OperationalError, match="full") as raised:
            for n in range(200):
                await db.write(quick_post, {"name": f"{n}", "day": secret})
        assert "passport" not in str(raised.value)
        assert db.write_failure is not None
        await grow_again(db)
        await db.write(quick_post, {"name": "after", "day": "x"})
        assert db.write_failure is None
        found = select(daily_posts.c.day).where(daily_posts.c.name == "after")
        assert await db.fetch_value(found) == "x"
