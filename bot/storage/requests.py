"""This module contains the appointment requests table: what a user asked for, until staff fix
a time and the user accepts it. The appointment then made keeps the request's code.

Every change queues its notices in the same transaction: both happen, or neither. Every
transaction here runs alone among writers (not ``concurrent``), as it did on SQLite: a request
and the appointment made from it share a code, and the user's limit counts both tables.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, exists, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.closures import is_closed
from bot.storage.codes import new_code
from bot.storage.db import Database
from bot.storage.expressions import json_text
from bot.storage.outbox import queue_notices, sent_as
from bot.storage.records import Appointment, AppointmentRequest, Notice, TooManyBookings
from bot.storage.tables import appointment_requests, appointments, outbox

OPEN, PROPOSED, BOOKED = "open", "proposed", "booked"
DECLINED, WITHDRAWN, EXPIRED = "declined", "withdrawn", "expired"
WAITING = (OPEN, PROPOSED)  # statuses of a request still alive

_r = appointment_requests.alias("r")
_a = appointments.alias("a")

#: An active appointment with the same code: the request was accepted once, and is open
#: again because the user asked for another time.
_RESCHEDULING = exists().where(_a.c.code == _r.c.code, _a.c.status == "active")

_COLUMNS = (
    _r.c.code,
    _r.c.office,
    _r.c.service,
    _r.c.channel,
    _r.c.user_id,
    _r.c.language,
    _r.c.speaks,
    _r.c.days,
    _r.c.part,
    _r.c.name,
    _r.c.phone,
    _r.c.status,
    _r.c.proposed_start,
    _r.c.proposed_end,
    _r.c.waiting_since,
    _r.c.reminded_at,
    _r.c.created_at,
    _RESCHEDULING.label("rescheduling"),
)


def _select(*where: ColumnElement[bool]) -> Select[Any]:
    return select(*_COLUMNS).select_from(_r).where(*where)


def _iso(moment: datetime) -> str:
    """A moment as the text columns keep it: UTC, to the second (text order is time order)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(text: object) -> datetime | None:
    if text is None:
        return None
    return datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def _moment(seconds: object) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(float(str(seconds)), UTC)


def _row(row: Sequence[object]) -> AppointmentRequest:
    (code, office, service, channel, user, language, speaks, days, part, name, phone, status,
     start, end, waiting, reminded, created, rescheduling) = row  # fmt: skip
    return AppointmentRequest(
        code=str(code),
        office=str(office),
        service=str(service),
        channel=str(channel),
        user_id=str(user),
        language=str(language),
        speaks=str(speaks),
        days=tuple(day for day in str(days).split(",") if day),
        part=str(part),
        name=None if name is None else str(name),
        phone=None if phone is None else str(phone),
        status=str(status),
        proposed_start=_parse(start),
        proposed_end=_parse(end),
        waiting_since=_moment(waiting) or datetime.fromtimestamp(0, UTC),
        reminded_at=_moment(reminded),
        created_at=_moment(created) or datetime.fromtimestamp(0, UTC),
        rescheduling=bool(rescheduling),
    )


async def _one(
    connection: AsyncConnection, *where: ColumnElement[bool]
) -> AppointmentRequest | None:
    row = (await connection.execute(_select(*where))).first()
    return None if row is None else _row(row)


def _held(channel: str, user_id: str, now: datetime) -> Select[Any]:
    """The user's appointments to come plus requests alive (a request to move an appointment
    is that appointment: counted once)."""
    to_come = (
        select(func.count())
        .select_from(appointments)
        .where(
            appointments.c.channel == channel,
            appointments.c.user_id == user_id,
            appointments.c.status == "active",
            appointments.c.starts_at >= _iso(now),
        )
        .scalar_subquery()
    )
    alive = (
        select(func.count())
        .select_from(_r)
        .where(
            _r.c.channel == channel,
            _r.c.user_id == user_id,
            _r.c.status.in_(WAITING),
            ~_RESCHEDULING,
        )
        .scalar_subquery()
    )
    return select(to_come + alive)


class RequestStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    # -- reading ---------------------------------------------------------------------------

    async def get(self, code: str) -> AppointmentRequest | None:
        row = await self._db.fetch_one(_select(_r.c.code == code.upper()))
        return None if row is None else _row(row)

    async def of_user(self, channel: str, user_id: str) -> list[AppointmentRequest]:
        """The user's requests still alive (waiting for staff, or for their answer)."""
        return await self._many(
            _select(
                _r.c.channel == channel, _r.c.user_id == user_id, _r.c.status.in_(WAITING)
            ).order_by(_r.c.created_at)
        )

    async def waiting(self) -> list[AppointmentRequest]:
        """Requests waiting for staff, the longest waiting first."""
        return await self._many(_select(_r.c.status == OPEN).order_by(_r.c.waiting_since))

    async def proposals(self) -> list[AppointmentRequest]:
        """Proposals waiting for their users' answers, the soonest first."""
        # ISO times of one width: their text order is time order under any collation.
        return await self._many(_select(_r.c.status == PROPOSED).order_by(_r.c.proposed_start))

    async def proposed_before(self, moment: datetime) -> list[AppointmentRequest]:
        """Proposals still unanswered whose time has come."""
        return await self._many(
            _select(_r.c.status == PROPOSED, _r.c.proposed_start <= _iso(moment)).order_by(
                _r.c.proposed_start
            )
        )

    async def held(self, channel: str, user_id: str, now: datetime) -> int:
        """The user's appointments to come and requests alive (a request to move an
        appointment is that appointment: counted once)."""
        return int(await self._db.fetch_value(_held(channel, user_id, now)) or 0)

    async def reply_action(self, channel: str, recipient: str, message_id: str) -> str | None:
        """What a staff reply to this message (by the platform's id) is for, if anything."""
        found = await self._db.fetch_value(
            select(json_text(outbox.c.payload, "notice", "reply_action")).where(
                outbox.c.channel == channel,
                outbox.c.recipient == recipient,
                outbox.c.provider_id == sent_as(channel, recipient, message_id),
            )
        )
        return None if found is None else str(found)

    async def _many(self, statement: Select[Any]) -> list[AppointmentRequest]:
        return [_row(row) for row in await self._db.fetch_all(statement)]

    # -- the user --------------------------------------------------------------------------

    async def create(
        self,
        *,
        office: str,
        service: str,
        channel: str,
        user_id: str,
        language: str,
        speaks: str,
        days: Sequence[str],
        part: str,
        name: str | None,
        phone: str | None,
        code_prefix: str,
        max_active: int,
        now: datetime,
        notices: Callable[[AppointmentRequest], Sequence[Notice]],
    ) -> AppointmentRequest:
        """A new request, checking the user's limit in the same transaction. The same request
        sent again (a double tap) gives back the one already waiting, not a second one."""
        stamp = now.timestamp()
        async with self._db.transaction() as connection:
            same = await _one(
                connection,
                _r.c.channel == channel,
                _r.c.user_id == user_id,
                _r.c.office == office,
                _r.c.service == service,
                _r.c.status.in_(WAITING),
            )
            if same is not None and not same.rescheduling:
                return same
            held = (await connection.execute(_held(channel, user_id, now))).scalar()
            if int(held or 0) >= max_active:
                raise TooManyBookings
            code = await new_code(connection, code_prefix)
            await connection.execute(
                insert(appointment_requests).values(
                    code=code,
                    office=office,
                    service=service,
                    channel=channel,
                    user_id=user_id,
                    language=language,
                    speaks=speaks,
                    days=",".join(days),
                    part=part,
                    name=name,
                    phone=phone,
                    status=OPEN,
                    waiting_since=stamp,
                    created_at=stamp,
                    updated_at=stamp,
                )
            )
            made = await _one(connection, _r.c.code == code)
            assert made is not None
            await queue_notices(connection, notices(made))
        return made

    async def accept(
        self,
        code: str,
        channel: str,
        user_id: str,
        now: datetime,
        notices: Callable[[Appointment, bool], Sequence[Notice]],
        *,
        timezone: ZoneInfo,
    ) -> tuple[Appointment, bool] | None:
        """The user accepts the time proposed: the appointment is made (or, when the user had
        asked to move it, moved), with the request's code. Returns it, and whether it was
        moved; None when there is no proposal to accept, its time has passed or staff
        closed its day (in ``timezone``) since it was proposed."""
        async with self._db.transaction() as connection:
            request = await _one(
                connection,
                _r.c.code == code.upper(),
                _r.c.channel == channel,
                _r.c.user_id == user_id,
                _r.c.status == PROPOSED,
            )
            start, end = (request.proposed_start, request.proposed_end) if request else (None, None)
            if request is None or start is None or end is None or start <= now:
                return None
            if await is_closed(connection, start.astimezone(timezone).date()):
                return None
            stamp = time.time()
            if request.rescheduling:
                await connection.execute(
                    update(appointments)
                    .where(appointments.c.code == request.code, appointments.c.status == "active")
                    .values(
                        starts_at=_iso(start), ends_at=_iso(end), updated_at=stamp, reminded_at=None
                    )
                )
            else:
                await connection.execute(
                    insert(appointments).values(
                        code=request.code,
                        office=request.office,
                        service=request.service,
                        starts_at=_iso(start),
                        ends_at=_iso(end),
                        channel=channel,
                        user_id=user_id,
                        name=request.name,
                        phone=request.phone,
                        language=request.language,
                        status="active",
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
            # The appointment holds the name and phone now: the request keeps none.
            await connection.execute(
                update(appointment_requests)
                .where(appointment_requests.c.code == request.code)
                .values(status=BOOKED, name=None, phone=None, updated_at=stamp)
            )
            row = (
                await connection.execute(
                    select(appointments.c.name, appointments.c.phone).where(
                        appointments.c.code == request.code
                    )
                )
            ).first()
            name, phone = (row[0], row[1]) if row else (None, None)
            appointment = Appointment(
                request.code,
                request.office,
                request.service,
                start,
                end,
                channel,
                user_id,
                None if name is None else str(name),
                None if phone is None else str(phone),
                request.language,
                "active",
            )
            await queue_notices(connection, notices(appointment, request.rescheduling))
        return appointment, request.rescheduling

    async def reopen(
        self,
        code: str,
        now: datetime,
        notices: Sequence[Notice],
        owner: tuple[str, str] | None = None,
    ) -> bool:
        """A proposal turned down ("another time", by its ``owner``) or left to pass: the
        request waits for staff again, from now."""
        owned = (
            []
            if owner is None
            else [
                appointment_requests.c.channel == owner[0],
                appointment_requests.c.user_id == owner[1],
            ]
        )
        async with self._db.transaction() as connection:
            changed = await connection.execute(
                update(appointment_requests)
                .where(
                    appointment_requests.c.code == code.upper(),
                    appointment_requests.c.status == PROPOSED,
                    *owned,
                )
                .values(
                    status=OPEN,
                    proposed_start=None,
                    proposed_end=None,
                    waiting_since=now.timestamp(),
                    reminded_at=None,
                    updated_at=now.timestamp(),
                )
            )
            if changed.rowcount == 0:
                return False
            await queue_notices(connection, notices)
        return True

    async def withdraw(
        self,
        code: str,
        channel: str,
        user_id: str,
        now: datetime,
        notices: Callable[[AppointmentRequest], Sequence[Notice]],
    ) -> AppointmentRequest | None:
        """The user withdraws a request; a request to move an appointment ends, and the
        appointment stays as it was."""
        return await self._close(
            code, WITHDRAWN, now, notices, _r.c.channel == channel, _r.c.user_id == user_id
        )

    async def reschedule(
        self, code: str, channel: str, user_id: str, now: datetime, notices: Sequence[Notice]
    ) -> bool:
        """The user asks to move an appointment made from a request: the request waits for
        staff again; the appointment stays until a new time is accepted."""
        async with self._db.transaction() as connection:
            changed = await connection.execute(
                update(appointment_requests)
                .where(
                    appointment_requests.c.code == code.upper(),
                    appointment_requests.c.status == BOOKED,
                    exists().where(
                        _a.c.code == appointment_requests.c.code,
                        _a.c.status == "active",
                        _a.c.channel == channel,
                        _a.c.user_id == user_id,
                        _a.c.starts_at > _iso(now),
                    ),
                )
                .values(
                    status=OPEN,
                    waiting_since=now.timestamp(),
                    reminded_at=None,
                    proposed_start=None,
                    proposed_end=None,
                    updated_at=now.timestamp(),
                )
            )
            if changed.rowcount == 0:
                return False
            await queue_notices(connection, notices)
        return True

    # -- staff -----------------------------------------------------------------------------

    async def propose(
        self,
        code: str,
        start: datetime,
        end: datetime,
        now: datetime,
        notices: Callable[[AppointmentRequest], Sequence[Notice]],
    ) -> AppointmentRequest | None:
        """Staff propose a time (another proposal replaces the one not yet answered)."""
        async with self._db.transaction() as connection:
            changed = await connection.execute(
                update(appointment_requests)
                .where(
                    appointment_requests.c.code == code.upper(),
                    appointment_requests.c.status.in_(WAITING),
                )
                .values(
                    status=PROPOSED,
                    proposed_start=_iso(start),
                    proposed_end=_iso(end),
                    updated_at=now.timestamp(),
                )
            )
            if changed.rowcount == 0:
                return None
            proposed = await _one(connection, _r.c.code == code.upper())
            assert proposed is not None
            await queue_notices(connection, notices(proposed))
        return proposed

    async def decline(
        self,
        code: str,
        now: datetime,
        notices: Callable[[AppointmentRequest], Sequence[Notice]],
    ) -> AppointmentRequest | None:
        """Staff decline a request; declining another time for an appointment leaves the
        appointment as it was."""
        return await self._close(code, DECLINED, now, notices)

    async def mark_reminded(self, code: str, now: datetime, notices: Sequence[Notice]) -> bool:
        """Staff were reminded of a request still waiting for them (queued with the record)."""
        async with self._db.transaction() as connection:
            changed = await connection.execute(
                update(appointment_requests)
                .where(
                    appointment_requests.c.code == code.upper(),
                    appointment_requests.c.status == OPEN,
                )
                .values(reminded_at=now.timestamp())
            )
            if changed.rowcount == 0:
                return False
            await queue_notices(connection, notices)
        return True

    async def _close(
        self,
        code: str,
        status: str,
        now: datetime,
        notices: Callable[[AppointmentRequest], Sequence[Notice]],
        *owned: ColumnElement[bool],
    ) -> AppointmentRequest | None:
        """End a request alive: ``status``, or booked again when it was only to move an
        appointment (which stays). Its name and phone are no longer needed."""
        async with self._db.transaction() as connection:
            request = await _one(
                connection, _r.c.code == code.upper(), _r.c.status.in_(WAITING), *owned
            )
            if request is None:
                return None
            await connection.execute(
                update(appointment_requests)
                .where(appointment_requests.c.code == request.code)
                .values(
                    status=BOOKED if request.rescheduling else status,
                    name=None,
                    phone=None,
                    proposed_start=None,
                    proposed_end=None,
                    updated_at=now.timestamp(),
                )
            )
            await queue_notices(connection, notices(request))
        return request
