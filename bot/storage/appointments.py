"""This module contains the appointments table: booked atomically, never over capacity.

Booking, moving and closing a day each run in one ``BEGIN IMMEDIATE`` transaction that
checks what the others change (staff's closures, the places taken, the user's limit): a
booking confirmed a moment after a closure is refused, and a closure cancels every booking
its transaction can see, so none is left active on a closed day.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import aiosqlite

from bot.storage.checklists import ChecklistAnswers
from bot.storage.closures import is_closed
from bot.storage.codes import new_code
from bot.storage.db import Database
from bot.storage.outbox import Notice, queue_notices
from bot.storage.records import Appointment, SlotFull, SlotGone, TooManyBookings


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


_COLUMNS = (
    "code, office, service, starts_at, ends_at, channel, user_id, name, phone, language, status"
)


def _row(row: tuple[object, ...]) -> Appointment:
    code, office, service, starts, ends, channel, user, name, phone, language, status = row
    return Appointment(
        str(code),
        str(office),
        str(service),
        _parse(str(starts)),
        _parse(str(ends)),
        str(channel),
        str(user),
        None if name is None else str(name),
        None if phone is None else str(phone),
        str(language),
        str(status),
    )


async def _end_rescheduling(connection: aiosqlite.Connection, code: str) -> None:
    """An appointment that ends (cancelled, attended, missed) while another time was being
    asked for it: that request ends with it."""
    await connection.execute(
        "UPDATE appointment_requests SET status = 'booked', proposed_start = NULL, "
        "proposed_end = NULL, updated_at = ? WHERE code = ? AND status IN ('open', 'proposed')",
        (time.time(), code.upper()),
    )


async def _refuse_closed(connection: aiosqlite.Connection, day: date) -> None:
    """No booking on a day staff closed (``SlotGone``)."""
    if await is_closed(connection, day):
        raise SlotGone


async def _refuse_over_capacity(
    connection: aiosqlite.Connection, office: str, starts_at: datetime, capacity: int, code: str
) -> None:
    """The places of a slot taken by other appointments than ``code``."""
    async with connection.execute(
        "SELECT count(*) FROM appointments WHERE office = ? AND starts_at = ? "
        "AND status = 'active' AND code != ?",
        (office, _iso(starts_at), code.upper()),
    ) as cursor:
        row = await cursor.fetchone()
    if row is not None and int(row[0]) >= capacity:
        raise SlotFull


async def _refuse_over_limit(
    connection: aiosqlite.Connection,
    channel: str,
    user_id: str,
    now: datetime,
    max_active: int,
    code: str,
) -> None:
    """The user's other appointments to come (not ``code``): at the limit, no more."""
    async with connection.execute(
        "SELECT count(*) FROM appointments WHERE channel = ? AND user_id = ? "
        "AND status = 'active' AND starts_at >= ? AND code != ?",
        (channel, user_id, _iso(now), code.upper()),
    ) as cursor:
        row = await cursor.fetchone()
    if row is not None and int(row[0]) >= max_active:
        raise TooManyBookings


def _day_of(starts_at: datetime, day: date | None) -> date:
    """The counter's day of a slot: given, or the date of ``starts_at`` in its own zone."""
    return starts_at.date() if day is None else day


class AppointmentStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        #: The checklist answers kept with appointments and requests, by code.
        self.checklists = ChecklistAnswers(database)

    async def _read(
        self, sql: str, parameters: tuple[object, ...] = ()
    ) -> list[tuple[object, ...]]:
        """Every row of a query, read in one step of the connection's thread.

        The one connection is shared by every coroutine: a query fetched in several steps
        could see another coroutine's transaction change the table between them, and SQLite
        leaves the rows of such a query undefined (a slot's start came back NULL under load).
        """
        return [
            tuple(row) for row in await self._db.legacy_connection.execute_fetchall(sql, parameters)
        ]

    async def taken(self, office: str, since: datetime) -> dict[datetime, int]:
        """Active bookings per slot start, from ``since`` on."""
        rows = await self._read(
            "SELECT starts_at, count(*) FROM appointments WHERE office = ? AND status = 'active' "
            "AND starts_at >= ? GROUP BY starts_at",
            (office, _iso(since)),
        )
        return {_parse(str(starts)): int(str(count)) for starts, count in rows}

    async def book(
        self,
        *,
        office: str,
        service: str,
        starts_at: datetime,
        ends_at: datetime,
        capacity: int,
        max_active: int,
        channel: str,
        user_id: str,
        name: str | None,
        phone: str | None,
        language: str,
        code_prefix: str,
        now: datetime | None = None,
        notices: Callable[[Appointment], Sequence[Notice]] | None = None,
        day: date | None = None,
    ) -> Appointment:
        """Book one place, checking staff's closures, capacity and the user's limit in the
        same transaction (``SlotGone``, ``SlotFull``, ``TooManyBookings``).

        ``day`` is the slot's day at the counter (by default the date of ``starts_at`` in
        its own time zone), refused when staff closed it. The same user confirming the same
        slot twice (a double tap) gets the booking they already have, not a second one.
        ``notices`` of the new booking are queued in the same transaction: both happen, or
        neither. Whether the time is a slot of the office's calendar at all is the booking
        desk's to check (``BookingDesk.book``).
        """
        stamp = time.time()
        async with self._db.legacy_transaction() as connection:
            async with connection.execute(
                f"SELECT {_COLUMNS} FROM appointments WHERE office = ? AND starts_at = ? "
                "AND channel = ? AND user_id = ? AND status = 'active'",
                (office, _iso(starts_at), channel, user_id),
            ) as cursor:
                existing = await cursor.fetchone()
            if existing is not None:
                return _row(tuple(existing))
            await _refuse_closed(connection, _day_of(starts_at, day))
            await _refuse_over_capacity(connection, office, starts_at, capacity, "")
            await _refuse_over_limit(
                connection, channel, user_id, now or datetime.now(UTC), max_active, ""
            )
            code = await new_code(connection, code_prefix)
            await connection.execute(
                f"INSERT INTO appointments ({_COLUMNS}, created_at, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
                (
                    code,
                    office,
                    service,
                    _iso(starts_at),
                    _iso(ends_at),
                    channel,
                    user_id,
                    name,
                    phone,
                    language,
                    stamp,
                    stamp,
                ),
            )
            booked = Appointment(
                code,
                office,
                service,
                starts_at,
                ends_at,
                channel,
                user_id,
                name,
                phone,
                language,
                "active",
            )
            if notices is not None:
                await queue_notices(connection, notices(booked))
        return booked

    async def by_code(self, code: str) -> Appointment | None:
        rows = await self._read(
            f"SELECT {_COLUMNS} FROM appointments WHERE code = ?", (code.upper(),)
        )
        return _row(tuple(rows[0])) if rows else None

    async def active_for(
        self, channel: str, user_id: str, now: datetime | None = None
    ) -> list[Appointment]:
        """The user's active appointments that have not started yet."""
        rows = await self._read(
            f"SELECT {_COLUMNS} FROM appointments WHERE channel = ? AND user_id = ? "
            "AND status = 'active' AND starts_at >= ? ORDER BY starts_at",
            (channel, user_id, _iso(now or datetime.now(UTC))),
        )
        return [_row(tuple(row)) for row in rows]

    async def between(
        self, start: datetime, end: datetime, statuses: tuple[str, ...] | None = ("active",)
    ) -> list[Appointment]:
        """Appointments starting in [start, end) in time order; ``statuses=None``: all."""
        wanted = statuses or ("active", "cancelled", "attended", "no_show")
        marks = ", ".join("?" for _ in wanted)
        rows = await self._read(
            f"SELECT {_COLUMNS} FROM appointments WHERE status IN ({marks}) "
            "AND starts_at >= ? AND starts_at < ? ORDER BY starts_at, office",
            (*wanted, _iso(start), _iso(end)),
        )
        return [_row(tuple(row)) for row in rows]

    async def to_remind(self, start: datetime, end: datetime) -> list[Appointment]:
        """Active appointments starting in [start, end) whose reminder has not gone out."""
        rows = await self._read(
            f"SELECT {_COLUMNS} FROM appointments WHERE status = 'active' AND reminded_at IS NULL "
            "AND starts_at >= ? AND starts_at < ? ORDER BY starts_at",
            (_iso(start), _iso(end)),
        )
        return [_row(tuple(row)) for row in rows]

    async def mark_reminded(
        self, code: str, notices: Sequence[Notice] = (), starts_at: datetime | None = None
    ) -> bool:
        """Record the reminder and queue it, once: False if it was already recorded, or the
        booking was cancelled (or moved from ``starts_at``) since the reminder was written."""
        async with self._db.legacy_transaction() as connection:
            cursor = await connection.execute(
                "UPDATE appointments SET reminded_at = ? WHERE code = ? AND reminded_at IS NULL "
                "AND status = 'active' AND (? IS NULL OR starts_at = ?)",
                (
                    time.time(),
                    code,
                    None if starts_at is None else _iso(starts_at),
                    None if starts_at is None else _iso(starts_at),
                ),
            )
            if cursor.rowcount == 0:
                return False
            await queue_notices(connection, notices)
        return True

    async def close_days(
        self,
        days: Sequence[date],
        timezone: ZoneInfo,
        notices: Callable[[Appointment], Awaitable[Sequence[Notice]]],
    ) -> list[Appointment]:
        """Staff close ``days`` (at every office, days in ``timezone``): the closures are
        added and the active appointments on those days cancelled in one transaction, each
        with the ``notices`` telling its user. Returns the appointments cancelled.

        ``notices`` runs inside the transaction: it may read (it sees the closure), never
        write.
        """
        cancelled: list[Appointment] = []
        stamp = time.time()
        async with self._db.legacy_transaction() as connection:
            for day in days:
                await connection.execute(
                    "INSERT OR IGNORE INTO closures (day, added_at) VALUES (?, ?)",
                    (day.isoformat(), stamp),
                )
                start = datetime.combine(day, datetime.min.time(), timezone)
                end = datetime.combine(day + timedelta(days=1), datetime.min.time(), timezone)
                async with connection.execute(
                    f"SELECT {_COLUMNS} FROM appointments WHERE status = 'active' "
                    "AND starts_at >= ? AND starts_at < ? ORDER BY starts_at, office",
                    (_iso(start), _iso(end)),
                ) as cursor:
                    on_day = [_row(tuple(row)) for row in await cursor.fetchall()]
                for appointment in on_day:
                    await connection.execute(
                        "UPDATE appointments SET status = 'cancelled', updated_at = ? "
                        "WHERE code = ?",
                        (stamp, appointment.code),
                    )
                    await _end_rescheduling(connection, appointment.code)
                    ended = replace(appointment, status="cancelled")
                    await queue_notices(connection, await notices(ended))
                    cancelled.append(ended)
        return cancelled

    async def closures(self) -> frozenset[date]:
        rows = await self._read("SELECT day FROM closures")
        return frozenset(date.fromisoformat(str(row[0])) for row in rows)

    async def set_status(self, code: str, status: str, notices: Sequence[Notice] = ()) -> bool:
        """Staff mark an active booking attended, no-show or cancelled (``notices`` tell of it)."""
        async with self._db.legacy_transaction() as connection:
            cursor = await connection.execute(
                "UPDATE appointments SET status = ?, updated_at = ? "
                "WHERE code = ? AND status = 'active'",
                (status, time.time(), code.upper()),
            )
            if cursor.rowcount == 0:
                return False
            await _end_rescheduling(connection, code)
            await queue_notices(connection, notices)
        return True

    async def cancel(
        self, code: str, channel: str, user_id: str, notices: Sequence[Notice] = ()
    ) -> bool:
        async with self._db.legacy_transaction() as connection:
            cursor = await connection.execute(
                "UPDATE appointments SET status = 'cancelled', updated_at = ? "
                "WHERE code = ? AND channel = ? AND user_id = ? AND status = 'active'",
                (time.time(), code.upper(), channel, user_id),
            )
            if cursor.rowcount == 0:
                return False
            await _end_rescheduling(connection, code)
            await queue_notices(connection, notices)
        return True

    async def move(
        self,
        code: str,
        channel: str,
        user_id: str,
        starts_at: datetime,
        ends_at: datetime,
        capacity: int,
        *,
        max_active: int,
        now: datetime | None = None,
        notices: Sequence[Notice] = (),
        day: date | None = None,
    ) -> bool:
        """Move the user's active booking, not yet begun, to another slot of its office,
        keeping its code. Checked as a new booking is, in the same transaction: staff's
        closure of ``day`` (``SlotGone``), the places taken (``SlotFull``) and the user's
        limit of appointments to come (``TooManyBookings``: moving one that no longer counted
        must not add one). False when there is no such booking to move."""
        moment = now or datetime.now(UTC)
        async with self._db.legacy_transaction() as connection:
            async with connection.execute(
                "SELECT office FROM appointments WHERE code = ? AND channel = ? AND user_id = ? "
                "AND status = 'active' AND starts_at >= ?",
                (code.upper(), channel, user_id, _iso(moment)),
            ) as cursor:
                row = await cursor.fetchone()
            if row is None:
                return False
            await _refuse_closed(connection, _day_of(starts_at, day))
            await _refuse_over_capacity(connection, str(row[0]), starts_at, capacity, code)
            await _refuse_over_limit(connection, channel, user_id, moment, max_active, code)
            await connection.execute(
                "UPDATE appointments SET starts_at = ?, ends_at = ?, updated_at = ?, "
                # a new day deserves a new reminder
                "reminded_at = NULL WHERE code = ?",
                (_iso(starts_at), _iso(ends_at), time.time(), code.upper()),
            )
            await queue_notices(connection, notices)
        return True
