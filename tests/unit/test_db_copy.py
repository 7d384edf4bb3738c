"""`sportello db copy`: a counter's data from SQLite to the test's database (PostgreSQL when
SPORTELLO_TEST_DB says so) and back, every row identical, the figures the same."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Double, Integer, LargeBinary, Table, delete, insert, select

from bot.cli import db_copy, main, monitoring_figures
from bot.config import Settings
from bot.storage.copy import CopyError, copy_database, every_event
from bot.storage.db import Database
from bot.storage.events import EventStore
from bot.storage.questions import SharedQuestions
from bot.storage.records import Event
from bot.storage.tables import metadata, outbox, shared_questions
from bot.storage.webchat import WebchatMailbox

ROWS = 3
#: Values the tables' checks accept, where any text would not do.
KNOWN = {
    ("outbox", "status"): "sent",
    ("appointments", "status"): "active",
    ("appointment_requests", "status"): "open",
    ("appointment_requests", "part"): "any",
}
#: Filled through their stores (events need their hour's format and the year's salt).
BY_STORES = {"events", "event_salts", "shared_questions", "webchat_messages"}


def _value(table: Table, name: str, number: int) -> Any:
    column = table.c[name]
    if (table.name, name) in KNOWN:
        return KNOWN[(table.name, name)]
    if column.nullable and number == 0:
        return None  # NULLs travel too
    if isinstance(column.type, LargeBinary):
        return bytes([number, 0, 255]) * 4
    if isinstance(column.type, Double):
        return 1_790_000_000.123456 + number
    if isinstance(column.type, Integer):
        return number * 7
    return f"{name}-{number}-àé"  # not only ASCII


async def _fill(database: Database) -> None:
    """Rows in every table: the stores that are on SQLAlchemy where they can, plain inserts
    of every column's kind of value elsewhere."""
    for table in metadata.sorted_tables:
        if table.name in BY_STORES:
            continue
        for number in range(ROWS):
            values = {
                column.name: _value(table, column.name, number)
                for column in table.columns
                if not (column.primary_key and column.autoincrement is True and column.name == "id")
            }
            if "id" in table.c and table.c.id.autoincrement is not False:
                values.pop("id", None)
            await database.write(insert(table).values(values))
    await database.write(delete(outbox).where(outbox.c.id == 2))  # a gap in the ids
    store = EventStore(database, ZoneInfo("Europe/Rome"))
    for hour in (3, 11, 23):
        moment = datetime(2026, 11, 20, hour, tzinfo=UTC)
        await store.record(Event("topic", "viewed", moment, "telegram", "it", topic="permit"), "a")
        await store.record(
            Event("booking", "booked", moment, "whatsapp", "uk", office="luino"), "b"
        )
    questions = SharedQuestions(database, 90)
    await questions.share("telegram", "u1", "it", "Una domanda?", "permit")
    await questions.share("whatsapp", "u2", "uk", "Питання?", None)
    await WebchatMailbox(database).put("w1", [{"text": "ciao"}, {"text": "a dopo"}])


async def _every_row(database: Database) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table.name: [
            tuple(row)
            for row in await database.fetch_all(select(table).order_by(*table.primary_key.columns))
        ]
        for table in metadata.sorted_tables
    }


async def test_a_copy_to_the_test_database_and_back_is_identical(
    tmp_path: Path, database_target: str
) -> None:
    rome = ZoneInfo("Europe/Rome")
    async with Database(tmp_path / "source.sqlite3") as source:
        await _fill(source)
        original = await _every_row(source)
        figures = monitoring_figures(await every_event(source), rome)
        async with Database(database_target) as middle:
            counts = await copy_database(source, middle, batch_rows=2)  # several batches
            assert all(count.same and count.source for count in counts)
            assert await _every_row(middle) == original
            assert monitoring_figures(await every_event(middle), rome) == figures != ""
            # New rows get new ids: past the copied ones (PostgreSQL's sequences were set).
            new_id = await middle.fetch_value(
                insert(outbox)
                .values(channel="t", recipient="r", payload="{}", created_at=1.0, updated_at=1.0)
                .returning(outbox.c.id)
            )
            assert new_id is None or new_id > max(row[0] for row in original["outbox"])
            await middle.write(delete(outbox).where(outbox.c.recipient == "r"))
            async with Database(tmp_path / "back.sqlite3") as back:
                await copy_database(middle, back)
                assert await _every_row(back) == original
                assert monitoring_figures(await every_event(back), rome) == figures


async def test_a_target_with_data_is_refused_and_left_alone(
    tmp_path: Path, database_target: str
) -> None:
    async with Database(tmp_path / "source.sqlite3") as source, Database(database_target) as target:
        await _fill(source)
        await target.write(
            insert(shared_questions).values(
                channel="telegram", user_id="u9", language="it", text="Già qui", shared_at=1.0
            )
        )
        with pytest.raises(CopyError, match=r"not empty .*shared_questions"):
            await copy_database(source, target)
        assert len((await _every_row(target))["shared_questions"]) == 1
        assert not (await _every_row(target))["events"]


async def test_the_command_prints_both_sides_and_says_what_differs(
    tmp_path: Path, database_target: str, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "source.sqlite3"
    async with Database(source) as database:
        await _fill(database)
    settings = Settings(timezone="Europe/Rome")
    assert await db_copy(settings, f"sqlite:///{source}", database_target, io.StringIO()) == 0
    # A second copy into the same target: refused, exit 1.
    assert await db_copy(settings, str(source), database_target, io.StringIO()) == 1
    assert "not empty" in capsys.readouterr().err


def test_a_missing_source_is_not_created(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "missing.sqlite3"
    assert main(["db", "copy", "--from", str(missing), "--to", str(tmp_path / "t.sqlite3")]) == 1
    assert "no database" in capsys.readouterr().err and not missing.exists()
