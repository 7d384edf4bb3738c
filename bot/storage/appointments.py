"""This module contains the appointments table: booked atomically, never over capacity.

Booking, moving and closing a day each run in one transaction that runs alone among writers
(SQLite's ``BEGIN IMMEDIATE``; on PostgreSQL the writers' advisory lock, so several instances
keep SQLite's one-writer order) and checks what the others change (staff's closures, the
places taken, the user's limit): a booking confirmed a moment after a closure is refused, and
a closure cancels every booking its transaction can see, so none is left active on a closed
day.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.checklists import ChecklistAnswers
from bot.storage.closures import is_closed
from bot.storage.codes import new_code
from bot.storage.db import Database
from bot.storage.outbox import Notice, queue_notices
from bot.storage.records import Appointment, SlotFull, SlotGone, TooManyBookings
from bot.storage.tables import appointment_requests, appointments, closures

#: Every status an appointment can have (``between(statuses=None)``).
STATUSES = ("active", "cancelled", "attended", "no_show")


def _iso(moment: datetime) -> str:
    """A moment as the text columns keep it: UTC, to the second, so that text order is time
    order on both backends (fixed width, digits and the same separators in the same places)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


_COLUMNS = (
    appointments.c.code,
    appointments.c.office,
    appointments.c.service,
    appointments.c.starts_at,
    appointments.c.ends_at,
    appointments.c.channel,
    appointments.c.user_id,
    appointments.c.name,
    appointments.c.phone,
    appointments.c.language,
    appointments.c.status,
)


def _select(*where: ColumnElement[bool]) -> Select[Any]:
    return select(*_COLUMNS).where(*where)


def _row(row: Sequence[object]) -> Appointment:
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


def _in_time_order(rows: Sequence[Sequence[object]]) -> list[Appointment]:
    """Appointments by start, then office: sorted here, where text compares by code point
    whatever the database's collation."""
    return sorted((_row(row) for row in rows), key=lambda found: (found.starts_at, found.office))


#: The transaction whose reads a store's own reads join while it runs in this task: what
#: ``close_days`` passes to its ``notices`` (the free times left) must see the day closed.
_joined: ContextVar[tuple[Database, AsyncConnection] | None] = ContextVar(
    "appointments_joined", default=None
)


async def _end_rescheduling(connection: AsyncConnection, code: str) -> None:
    """An appointment that ends (cancelled, attended, missed) while another time was being
    asked for it: that request ends with it."""
    await connection.execute(
        update(appointment_requests)
        .where(
            appointment_requests.c.code == code.upper(),
            appointment_requests.c.status.in_(("open", "proposed")),
        )
        .values(status="booked", proposed_start=None, proposed_end=None, updated_at=time.time())
    )


async def _refuse_closed(connection: AsyncConnection, day: date) -> None:
    """No booking on a day staff closed (``SlotGone``)."""
    if await is_closed(connection, day):
        raise SlotGone


async def _count(connection: AsyncConnection, *where: ColumnElement[bool]) -> int:
    found = await connection.execute(select(func.count()).select_from(appointments).where(*where))
    return int(found.scalar() or 0)


async def _refuse_over_capacity(
    connection: AsyncConnection, office: str, starts_at: datetime, capacity: int, code: str
) -> None:
    """The places of a slot taken by other appointments than ``code``."""
    taken = await _count(
        connection,
        appointments.c.office == office,
        appointments.c.starts_at == _iso(starts_at),
        appointments.c.status == "active",
        appointments.c.code != code.upper(),
    )
    if taken >= capacity:
        raise SlotFull


async def _refuse_over_limit(
    connection: AsyncConnection,
    channel: str,
    user_id: str,
    now: datetime,
    max_active: int,
    code: str,
) -> None:
    """The user's other appointments to come (not ``code``): at the limit, no more."""
    held = await _count(
        connection,
        appointments.c.channel == channel,
        appointments.c.user_id == user_id,
        appointments.c.status == "active",
        appointments.c.starts_at >= _iso(now),
        appointments.c.code != code.upper(),
    )
    if held >= max_active:
        raise TooManyBookings


def _day_of(starts_at: datetime, day: date | None) -> date:
    """The counter's day of a slot: given, or the date of ``starts_at`` in its own zone."""
    return starts_at.date() if day is None else day


class AppointmentStore:
    def __init__(self, database: Database) -> None:
        self._db = database
        #: The checklist answers kept with appointments and requests, by code.
        self.checklists = ChecklistAnswers(database)

    async def _read(self, statement: Select[Any]) -> list[tuple[Any, ...]]:
        """Every row of a query: inside this task's ``close_days`` transaction, through it
        (it sees its own closures and cancellations); otherwise on a connection of its own."""
        joined = _joined.get()
        if joined is not None and joined[0] is self._db:
            found = (await joined[1].execute(statement)).fetchall()
        else:
            found = await self._db.fetch_all(statement)
        return [tuple(row) for row in found]

    @asynccontextmanager
    async def _joinable(self, connection: AsyncConnection) -> AsyncIterator[None]:
        token = _joined.set((self._db, connection))
        try:
            yield
        finally:
            _joined.reset(token)

    async def taken(self, office: str, since: datetime) -> dict[datetime, int]:
        """Active bookings per slot start, from ``since`` on."""
        rows = await self._read(
            select(appointments.c.starts_at, func.count())
            .where(
                appointments.c.office == office,
                appointments.c.status == "active",
                appointments.c.starts_at >= _iso(since),
            )
            .group_by(appointments.c.starts_at)
        )
        return {_parse(str(starts)): int(count) for starts, count in rows}

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
        # Not concurrent: the counts read here must not change before the insert.
        async with self._db.transaction() as connection:
            existing = (
                await connection.execute(
                    _select(
                        appointments.c.office == office,
                        appointments.c.starts_at == _iso(starts_at),
                        appointments.c.channel == channel,
                        appointments.c.user_id == user_id,
                        appointments.c.status == "active",
                    )
                )
            ).first()
            if existing is not None:
                return _row(existing)
            await _refuse_closed(connection, _day_of(starts_at, day))
            await _refuse_over_capacity(connection, office, starts_at, capacity, "")
            await _refuse_over_limit(
                connection, channel, user_id, now or datetime.now(UTC), max_active, ""
            )
            code = await new_code(connection, code_prefix)
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
            await connection.execute(
                insert(appointments).values(
                    code=code,
                    office=office,
                    service=service,
                    starts_at=_iso(starts_at),
                    ends_at=_iso(ends_at),
                    channel=channel,
                    user_id=user_id,
                    name=name,
                    phone=phone,
                    language=language,
                    status="active",
                    created_at=stamp,
                    updated_at=stamp,
                )
            )
            if notices is not None:
                await queue_notices(connection, notices(booked))
        return booked

    async def by_code(self, code: str) -> Appointment | None:
        rows = await self._read(_select(appointments.c.code == code.upper()))
        return _row(rows[0]) if rows else None

    async def active_for(
        self, channel: str, user_id: str, now: datetime | None = None
    ) -> list[Appointment]:
        """The user's active appointments that have not started yet."""
        rows = await self._read(
            _select(
                appointments.c.channel == channel,
                appointments.c.user_id == user_id,
                appointments.c.status == "active",
                appointments.c.starts_at >= _iso(now or datetime.now(UTC)),
            )
        )
        return _in_time_order(rows)

    async def between(
        self, start: datetime, end: datetime, statuses: tuple[str, ...] | None = ("active",)
    ) -> list[Appointment]:
        """Appointments starting in [start, end) in time order; ``statuses=None``: all."""
        rows = await self._read(
            _select(
                appointments.c.status.in_(statuses or STATUSES),
                appointments.c.starts_at >= _iso(start),
                appointments.c.starts_at < _iso(end),
            )
        )
        return _in_time_order(rows)

    async def to_remind(self, start: datetime, end: datetime) -> list[Appointment]:
        """Active appointments starting in [start, end) whose reminder has not gone out."""
        rows = await self._read(
            _select(
                appointments.c.status == "active",
                appointments.c.reminded_at.is_(None),
                appointments.c.starts_at >= _iso(start),
                appointments.c.starts_at < _iso(end),
            )
        )
        return _in_time_order(rows)

    async def mark_reminded(
        self, code: str, notices: Sequence[Notice] = (), starts_at: datetime | None = None
    ) -> bool:
        """Record the reminder and queue it, once: False if it was already recorded, or the
        booking was cancelled (or moved from ``starts_at``) since the reminder was written."""
        unchanged = [] if starts_at is None else [appointments.c.starts_at == _iso(starts_at)]
        async with self._db.transaction() as connection:
            marked = await connection.execute(
                update(appointments)
                .where(
                    appointments.c.code == code,
                    appointments.c.reminded_at.is_(None),
                    appointments.c.status == "active",
                    *unchanged,
                )
                .values(reminded_at=time.time())
            )
            if marked.rowcount == 0:
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

        ``notices`` runs inside the transaction: it may read through this store (it sees the
        closure), never write.
        """
        cancelled: list[Appointment] = []
        stamp = time.time()
        # Not concurrent: a booking on these days either committed before (and is cancelled
        # here) or waits for this transaction and then finds the day closed.
        async with self._db.transaction() as connection, self._joinable(connection):
            for day in days:
                await connection.execute(
                    self._db.insert(closures)
                    .values(day=day.isoformat(), added_at=stamp)
                    .on_conflict_do_nothing()
                )
                start = datetime.combine(day, datetime.min.time(), timezone)
                end = datetime.combine(day + timedelta(days=1), datetime.min.time(), timezone)
                found = await connection.execute(
                    _select(
                        appointments.c.status == "active",
                        appointments.c.starts_at >= _iso(start),
                        appointments.c.starts_at < _iso(end),
                    )
                )
                for appointment in _in_time_order(found.fetchall()):
                    await connection.execute(
                        update(appointments)
                        .where(appointments.c.code == appointment.code)
                        .values(status="cancelled", updated_at=stamp)
                    )
                    await _end_rescheduling(connection, appointment.code)
                    ended = replace(appointment, status="cancelled")
                    await queue_notices(connection, await notices(ended))
                    cancelled.append(ended)
        return cancelled

    async def closures(self) -> frozenset[date]:
        rows = await self._read(select(closures.c.day))
        return frozenset(date.fromisoformat(str(row[0])) for row in rows)

    async def set_status(self, code: str, status: str, notices: Sequence[Notice] = ()) -> bool:
        """Staff mark an active booking attended, no-show or cancelled (``notices`` tell of it)."""
        async with self._db.transaction() as connection:
            changed = await connection.execute(
                update(appointments)
                .where(appointments.c.code == code.upper(), appointments.c.status == "active")
                .values(status=status, updated_at=time.time())
            )
            if changed.rowcount == 0:
                return False
            await _end_rescheduling(connection, code)
            await queue_notices(connection, notices)
        return True

    async def cancel(
        self, code: str, channel: str, user_id: str, notices: Sequence[Notice] = ()
    ) -> bool:
        async with self._db.transaction() as connection:
            changed = await connection.execute(
                update(appointments)
                .where(
                    appointments.c.code == code.upper(),
                    appointments.c.channel == channel,
                    appointments.c.user_id == user_id,
                    appointments.c.status == "active",
                )
                .values(status="cancelled", updated_at=time.time())
            )
            if changed.rowcount == 0:
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
        # Not concurrent, as a booking: the checks hold until the move is committed.
        async with self._db.transaction() as connection:
            office = (
                await connection.execute(
                    select(appointments.c.office).where(
                        appointments.c.code == code.upper(),
                        appointments.c.channel == channel,
                        appointments.c.user_id == user_id,
                        appointments.c.status == "active",
                        appointments.c.starts_at >= _iso(moment),
                    )
                )
            ).scalar()
            if office is None:
                return False
            await _refuse_closed(connection, _day_of(starts_at, day))
            await _refuse_over_capacity(connection, str(office), starts_at, capacity, code)
            await _refuse_over_limit(connection, channel, user_id, moment, max_active, code)
            await connection.execute(
                update(appointments)
                .where(appointments.c.code == code.upper())
                # a new day deserves a new reminder
                .values(
                    starts_at=_iso(starts_at),
                    ends_at=_iso(ends_at),
                    updated_at=time.time(),
                    reminded_at=None,
                )
            )
            await queue_notices(connection, notices)
        return True
