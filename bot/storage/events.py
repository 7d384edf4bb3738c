"""This module contains the monitoring events table: append-only, anonymous, pseudonymous.

A person appears only as ``HMAC-SHA256(salt, "channel:user id")``, cut to 16 hex digits: enough
to count unique users, and the user id cannot be read back from it. Whoever has the salt and a
user id can recompute the pseudonym, so the salt is random, kept only in the database, and
replaced on the first event of each new year, older salts deleted at once: last year's
pseudonyms can no longer be recomputed and nothing links one year to the next. A user who erases
their data gets a random pseudonym on their events (``unlink``), so even this year's salt no
longer leads to them.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime, tzinfo

from sqlalchemy import Integer, LargeBinary, delete, exists, func, insert, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import Database, quick
from bot.storage.records import Event
from bot.storage.tables import event_salts, events

HOUR_FORMAT = "%Y-%m-%dT%H:00:00Z"
PSEUDONYM_HEX_DIGITS = 16  # 64 bits: no collisions in a counter's few thousand users a year


def _pseudonym(salt: bytes, person: str) -> str:
    digest = hmac.new(salt, person.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_HEX_DIGITS]


async def unlink(connection: AsyncConnection, person: str) -> int:
    """Give a person's events a random pseudonym (inside the caller's transaction).

    For "erase my data": the events stay and still count one person, but nothing, not even
    this year's key and the user id together, leads from the person to them any more.
    """
    token = secrets.token_hex(PSEUDONYM_HEX_DIGITS // 2)
    changed = 0
    salts = [bytes(row[0]) for row in await connection.execute(select(event_salts.c.salt))]
    for salt in salts:
        result = await connection.execute(
            update(events).where(events.c.user == _pseudonym(salt, person)).values(user=token)
        )
        changed += result.rowcount
    return changed


def hour_of(moment: datetime) -> str:
    """The UTC hour a moment falls in, as stored: minutes and seconds are never kept."""
    return moment.astimezone(UTC).strftime(HOUR_FORMAT)


#: Every message records one or two: built once, filled at each run (#21).
_RECORD = quick(insert(events))


class EventStore:
    """Writes events (the ``EventSink`` of ``bot.monitoring``) and reads them back for reports."""

    def __init__(self, database: Database, timezone: tzinfo = UTC) -> None:
        self._db = database
        # Years are the counter's years: an event at 00:30 on New Year's Day in Rome belongs
        # to the new year, with the new salt, like the reports that count it.
        self._timezone = timezone
        self._salt: tuple[int, bytes] | None = None  # (year, salt), cached

    async def record(self, event: Event, person: str | None) -> None:
        """Append one event; ``person`` ("channel:user id") is stored only as its pseudonym."""
        year = event.hour.astimezone(self._timezone).year
        user = await self.pseudonym(person, year) if person else None
        # A plain insert of a row of its own: beside any other transaction.
        row = {
            "hour": hour_of(event.hour),
            "kind": event.kind,
            "action": event.action,
            "channel": event.channel,
            "language": event.language,
            "area": event.area,
            "topic": event.topic,
            "service": event.service,
            "office": event.office,
            "seconds": event.seconds,
            "user": user,
        }
        await self._db.write(_RECORD, row, concurrent=True)

    async def pseudonym(self, person: str, year: int) -> str:
        """The person's pseudonym for this year (a later year's salt if the clock went back)."""
        return _pseudonym(await self._salt_for(year), person)

    async def _salt_for(self, year: int) -> bytes:
        if self._salt is not None and self._salt[0] >= year:
            return self._salt[1]
        # Not concurrent: two instances starting a year at once must agree on one salt.
        async with self._db.transaction() as connection:
            newer = select(event_salts.c.year).where(event_salts.c.year >= year)
            await connection.execute(
                insert(event_salts).from_select(
                    ["year", "salt"],
                    select(
                        literal(year, Integer), literal(secrets.token_bytes(32), LargeBinary)
                    ).where(~exists(newer)),
                )
            )
            # Only the newest salt survives: older pseudonyms can never be recomputed.
            newest = select(func.max(event_salts.c.year)).scalar_subquery()
            await connection.execute(delete(event_salts).where(event_salts.c.year < newest))
            row = (
                await connection.execute(
                    select(event_salts.c.year, event_salts.c.salt)
                    .order_by(event_salts.c.year.desc())
                    .limit(1)
                )
            ).first()
        assert row is not None
        self._salt = (int(row[0]), bytes(row[1]))
        return self._salt[1]

    async def between(self, start: datetime, end: datetime) -> list[Event]:
        """Events from ``start`` (included) to ``end`` (excluded), oldest first."""
        rows = await self._db.fetch_all(
            select(
                events.c.hour,
                events.c.kind,
                events.c.action,
                events.c.channel,
                events.c.language,
                events.c.area,
                events.c.topic,
                events.c.service,
                events.c.office,
                events.c.seconds,
                events.c.user,
            )
            .where(events.c.hour >= hour_of(start), events.c.hour < hour_of(end))
            # ISO hours: the same order bytewise and in any collation.
            .order_by(events.c.hour, events.c.id)
        )
        return [
            Event(
                kind=str(row[1]),
                action=str(row[2]),
                hour=datetime.strptime(str(row[0]), HOUR_FORMAT).replace(tzinfo=UTC),
                channel=str(row[3]),
                language=row[4],
                area=row[5],
                topic=row[6],
                service=row[7],
                office=row[8],
                seconds=row[9],
                user=row[10],
            )
            for row in map(tuple, rows)
        ]
