"""This module contains the copy of a counter's whole database to another one: from a SQLite
file to PostgreSQL when a counter moves there (or back), by ``sportello db copy``.

Every table of ``bot.storage.tables`` is copied, in foreign-key order, in batches read by
primary key, into a target migrated to the same schema and still empty: a copy never mixes
with data already there. The whole copy is one transaction on the target (all or nothing).
On PostgreSQL the id sequences are then set past the copied ids, so that the next row gets a
new one. The events table refuses only changes and deletions: the copy's inserts pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Table, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import Database
from bot.storage.events import HOUR_FORMAT
from bot.storage.records import Event
from bot.storage.tables import events, metadata

#: Rows read and written at a time: memory stays small whatever the database's size.
BATCH_ROWS = 1000


class CopyError(Exception):
    """The copy cannot be done; the message says why in plain words."""


@dataclass(frozen=True)
class TableCount:
    """One table's rows on both sides, after a copy."""

    table: str
    source: int
    target: int

    @property
    def same(self) -> bool:
        return self.source == self.target


async def count_rows(database: Database, table: Table) -> int:
    return int(await database.fetch_value(select(func.count()).select_from(table)) or 0)


async def _refuse_unfit(source: Database, target: Database) -> None:
    """The target must be at the source's schema version, and hold nothing yet."""
    source_version, target_version = await source.schema_version(), await target.schema_version()
    if source_version != target_version:
        raise CopyError(
            f"the source is at schema version {source_version}, the target at "
            f"{target_version}: open both with this program first (it migrates them)"
        )
    filled = [table.name for table in metadata.sorted_tables if await count_rows(target, table)]
    if filled:
        raise CopyError(
            "the target is not empty (rows in " + ", ".join(filled) + "): copy only into a new, "
            "empty database or schema, never over a counter's data"
        )


async def _copy_table(
    source: Database, connection: AsyncConnection, table: Table, batch_rows: int
) -> int:
    """Every row of ``table``, in primary key order, batch after batch; how many."""
    key = list(table.primary_key.columns)
    copied = 0
    last: tuple[Any, ...] | None = None
    while True:
        query = select(table).order_by(*key).limit(batch_rows)
        if last is not None:  # keyset paging: each batch starts after the previous one
            query = query.where(tuple_(*key) > tuple_(*last))
        rows = await source.fetch_all(query)
        if not rows:
            return copied
        await connection.execute(table.insert(), [dict(row._mapping) for row in rows])
        copied += len(rows)
        last = tuple(getattr(rows[-1], column.name) for column in key)


async def _advance_sequences(connection: AsyncConnection) -> None:
    """PostgreSQL: each table's id sequence past its highest copied id (SQLite's own
    counters follow the inserted ids by themselves)."""
    for table in metadata.sorted_tables:
        if "id" not in table.c or table.c.id.autoincrement is False:
            continue
        highest = select(func.max(table.c.id)).scalar_subquery()
        sequence = func.pg_get_serial_sequence(table.name, "id")
        await connection.execute(
            select(func.setval(sequence, func.coalesce(highest, 0) + 1, False))
        )


async def copy_database(
    source: Database, target: Database, batch_rows: int = BATCH_ROWS
) -> list[TableCount]:
    """Copy every table from ``source`` into the empty ``target``; then each table's rows
    counted on both sides (compare them: :attr:`TableCount.same`)."""
    await _refuse_unfit(source, target)
    async with target.transaction() as connection:
        for table in metadata.sorted_tables:
            await _copy_table(source, connection, table, batch_rows)
        if not target.is_sqlite:
            await _advance_sequences(connection)
    return [
        TableCount(table.name, await count_rows(source, table), await count_rows(target, table))
        for table in metadata.sorted_tables
    ]


async def every_event(database: Database) -> list[Event]:
    """All the monitoring events, oldest first (as ``EventStore.between`` reads a period)."""
    rows = await database.fetch_all(select(events).order_by(events.c.hour, events.c.id))
    return [
        Event(
            kind=row.kind,
            action=row.action,
            hour=datetime.strptime(row.hour, HOUR_FORMAT).replace(tzinfo=UTC),
            channel=row.channel,
            language=row.language,
            area=row.area,
            topic=row.topic,
            service=row.service,
            office=row.office,
            seconds=row.seconds,
            user=row.user,
        )
        for row in rows
    ]
