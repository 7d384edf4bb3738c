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

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.db import Database
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
        await self._db.legacy_write(
            "INSERT INTO events (hour, kind, action, channel, language, area, topic, service, "
            "office, seconds, user) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                hour_of(event.hour),
                event.kind,
                event.action,
                event.channel,
                event.language,
                event.area,
                event.topic,
                event.service,
                event.office,
                event.seconds,
                user,
            ),
        )

    async def pseudonym(self, person: str, year: int) -> str:
        """The person's pseudonym for this year (a later year's salt if the clock went back)."""
        return _pseudonym(await self._salt_for(year), person)

    async def _salt_for(self, year: int) -> bytes:
        if self._salt is not None and self._salt[0] >= year:
            return self._salt[1]
        async with self._db.legacy_transaction() as connection:
            await connection.execute(
                "INSERT INTO event_salts (year, salt) SELECT ?, ? "
                "WHERE NOT EXISTS (SELECT 1 FROM event_salts WHERE year >= ?)",
                (year, secrets.token_bytes(32), year),
            )
            # Only the newest salt survives: older pseudonyms can never be recomputed.
            await connection.execute(
                "DELETE FROM event_salts WHERE year < (SELECT max(year) FROM event_salts)"
            )
            async with connection.execute(
                "SELECT year, salt FROM event_salts ORDER BY year DESC LIMIT 1"
            ) as cursor:
                row = await cursor.fetchone()
        assert row is not None
        self._salt = (int(row[0]), bytes(row[1]))
        return self._salt[1]

    async def between(self, start: datetime, end: datetime) -> list[Event]:
        """Events from ``start`` (included) to ``end`` (excluded), oldest first."""
        async with self._db.legacy_connection.execute(
            "SELECT hour, kind, action, channel, language, area, topic, service, office, "
            "seconds, user FROM events WHERE hour >= ? AND hour < ? ORDER BY hour, id",
            (hour_of(start), hour_of(end)),
        ) as cursor:
            rows = await cursor.fetchall()
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
            for row in rows
        ]
