"""This module contains the appointment requests table: what a user asked for, until staff fix
a time and the user accepts it. The appointment then made keeps the request's code.

Every change queues its notices in the same transaction: both happen, or neither.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import aiosqlite

from bot.storage.closures import is_closed
from bot.storage.codes import new_code
from bot.storage.db import Database
from bot.storage.outbox import SENT_AS, queue_notices
from bot.storage.records import Appointment, AppointmentRequest, Notice, TooManyBookings

OPEN, PROPOSED, BOOKED = "open", "proposed", "booked"
DECLINED, WITHDRAWN, EXPIRED = "declined", "withdrawn", "expired"
WAITING = (OPEN, PROPOSED)  # statuses of a request still alive

_COLUMNS = (
    "r.code, r.office, r.service, r.channel, r.user_id, r.language, r.speaks, r.days, r.part, "
    "r.name, r.phone, r.status, r.proposed_start, r.proposed_end, r.waiting_since, "
    "r.reminded_at, r.created_at, "
    # An active appointment with the same code: the request was accepted once, and is open
    # again because the user asked for another time.
    "EXISTS (SELECT 1 FROM appointments AS a WHERE a.code = r.code AND a.status = 'active')"
)
_FROM = "FROM appointment_requests AS r"


def _iso(moment: datetime) -> str:
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
    connection: aiosqlite.Connection, where: str, parameters: tuple[object, ...]
) -> AppointmentRequest | None:
    async with connection.execute(f"SELECT {_COLUMNS} {_FROM} WHERE {where}", parameters) as cursor:
        row = await cursor.fetchone()
    return None if row is None else _row(tuple(row))


class RequestStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    # -- reading ---------------------------------------------------------------------------

    async def get(self, code: str) -> AppointmentRequest | None:
        return await _one(self._db.legacy_connection, "r.code = ?", (code.upper(),))

    async def of_user(self, channel: str, user_id: str) -> list[AppointmentRequest]:
        """The user's requests still alive (waiting for staff, or for their answer)."""
        return await self._many(
            "r.channel = ? AND r.user_id = ? AND r.status IN ('open', 'proposed') "
            "ORDER BY r.created_at",
            (channel, user_id),
        )

    async def waiting(self) -> list[AppointmentRequest]:
        """Requests waiting for staff, the longest waiting first."""
        return await self._many("r.status = 'open' ORDER BY r.waiting_since", ())

    async def proposals(self) -> list[AppointmentRequest]:
        """Proposals waiting for their users' answers, the soonest first."""
        return await self._many("r.status = 'proposed' ORDER BY r.proposed_start", ())

    async def proposed_before(self, moment: datetime) -> list[AppointmentRequest]:
        """Proposals still unanswered whose time has come."""
        return await self._many(
            "r.status = 'proposed' AND r.proposed_start <= ? ORDER BY r.proposed_start",
            (_iso(moment),),
        )

    async def held(self, channel: str, user_id: str, now: datetime) -> int:
        """The user's appointments to come and requests alive (a request to move an
        appointment is that appointment: counted once)."""
        async with self._db.legacy_connection.execute(
            "SELECT (SELECT count(*) FROM appointments WHERE channel = ? AND user_id = ? "
            "AND status = 'active' AND starts_at >= ?) + (SELECT count(*) "
            f"{_FROM} WHERE r.channel = ? AND r.user_id = ? AND r.status IN ('open', 'proposed') "
            "AND NOT EXISTS (SELECT 1 FROM appointments AS a WHERE a.code = r.code "
            "AND a.status = 'active'))",
            (channel, user_id, _iso(now), channel, user_id),
        ) as cursor:
            row = await cursor.fetchone()
        return int(row[0]) if row else 0

    async def reply_action(self, channel: str, recipient: str, message_id: str) -> str | None:
        """What a staff reply to this message (by the platform's id) is for, if anything."""
        async with self._db.legacy_connection.execute(
            "SELECT json_extract(payload, '$.notice.reply_action') FROM outbox "
            f"WHERE channel = ? AND recipient = ? AND provider_id = {SENT_AS}",
            (channel, recipient, channel, recipient, message_id, message_id),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None or row[0] is None else str(row[0])

    async def _many(self, where: str, parameters: tuple[object, ...]) -> list[AppointmentRequest]:
        async with self._db.legacy_connection.execute(
            f"SELECT {_COLUMNS} {_FROM} WHERE {where}", parameters
        ) as cursor:
            return [_row(tuple(row)) for row in await cursor.fetchall()]

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
        async with self._db.legacy_transaction() as connection:
            same = await _one(
                connection,
                "r.channel = ? AND r.user_id = ? AND r.office = ? AND r.service = ? "
                "AND r.status IN ('open', 'proposed')",
                (channel, user_id, office, service),
            )
            if same is not None and not same.rescheduling:
                return same
            if await self.held(channel, user_id, now) >= max_active:
                raise TooManyBookings
            code = await new_code(connection, code_prefix)
            await connection.execute(
                "INSERT INTO appointment_requests (code, office, service, channel, user_id, "
                "language, speaks, days, part, name, phone, status, waiting_since, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
                (code, office, service, channel, user_id, language, speaks, ",".join(days),
                 part, name, phone, stamp, stamp, stamp),
            )  # fmt: skip
            made = await _one(connection, "r.code = ?", (code,))
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
        async with self._db.legacy_transaction() as connection:
            request = await _one(
                connection,
                "r.code = ? AND r.channel = ? AND r.user_id = ? AND r.status = 'proposed'",
                (code.upper(), channel, user_id),
            )
            start, end = (request.proposed_start, request.proposed_end) if request else (None, None)
            if request is None or start is None or end is None or start <= now:
                return None
            if await is_closed(connection, start.astimezone(timezone).date()):
                return None
            stamp = time.time()
            if request.rescheduling:
                await connection.execute(
                    "UPDATE appointments SET starts_at = ?, ends_at = ?, updated_at = ?, "
                    "reminded_at = NULL WHERE code = ? AND status = 'active'",
                    (_iso(start), _iso(end), stamp, request.code),
                )
            else:
                await connection.execute(
                    "INSERT INTO appointments (code, office, service, starts_at, ends_at, "
                    "channel, user_id, name, phone, language, status, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
                    (request.code, request.office, request.service, _iso(start), _iso(end),
                     channel, user_id, request.name, request.phone, request.language, stamp,
                     stamp),
                )  # fmt: skip
            # The appointment holds the name and phone now: the request keeps none.
            await connection.execute(
                "UPDATE appointment_requests SET status = 'booked', name = NULL, phone = NULL, "
                "updated_at = ? WHERE code = ?",
                (stamp, request.code),
            )
            async with connection.execute(
                "SELECT name, phone FROM appointments WHERE code = ?", (request.code,)
            ) as cursor:
                row = await cursor.fetchone()
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
        owned = "" if owner is None else " AND channel = ? AND user_id = ?"
        async with self._db.legacy_transaction() as connection:
            cursor = await connection.execute(
                "UPDATE appointment_requests SET status = 'open', proposed_start = NULL, "
                "proposed_end = NULL, waiting_since = ?, reminded_at = NULL, updated_at = ? "
                f"WHERE code = ? AND status = 'proposed'{owned}",
                (now.timestamp(), now.timestamp(), code.upper(), *(owner or ())),
            )
            if cursor.rowcount == 0:
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
            code, WITHDRAWN, now, notices, "AND r.channel = ? AND r.user_id = ?", (channel, user_id)
        )

    async def reschedule(
        self, code: str, channel: str, user_id: str, now: datetime, notices: Sequence[Notice]
    ) -> bool:
        """The user asks to move an appointment made from a request: the request waits for
        staff again; the appointment stays until a new time is accepted."""
        async with self._db.legacy_transaction() as connection:
            cursor = await connection.execute(
                "UPDATE appointment_requests SET status = 'open', waiting_since = ?, "
                "reminded_at = NULL, proposed_start = NULL, proposed_end = NULL, updated_at = ? "
                "WHERE code = ? AND status = 'booked' AND EXISTS (SELECT 1 FROM appointments "
                "AS a WHERE a.code = appointment_requests.code AND a.status = 'active' "
                "AND a.channel = ? AND a.user_id = ? AND a.starts_at > ?)",
                (now.timestamp(), now.timestamp(), code.upper(), channel, user_id, _iso(now)),
            )
            if cursor.rowcount == 0:
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
        async with self._db.legacy_transaction() as connection:
            cursor = await connection.execute(
                "UPDATE appointment_requests SET status = 'proposed', proposed_start = ?, "
                "proposed_end = ?, updated_at = ? "
                "WHERE code = ? AND status IN ('open', 'proposed')",
                (_iso(start), _iso(end), now.timestamp(), code.upper()),
            )
            if cursor.rowcount == 0:
                return None
            proposed = await _one(connection, "r.code = ?", (code.upper(),))
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
        return await self._close(code, DECLINED, now, notices, "", ())

    async def mark_reminded(self, code: str, now: datetime, notices: Sequence[Notice]) -> bool:
        """Staff were reminded of a request still waiting for them (queued with the record)."""
        async with self._db.legacy_transaction() as connection:
            cursor = await connection.execute(
                "UPDATE appointment_requests SET reminded_at = ? "
                "WHERE code = ? AND status = 'open'",
                (now.timestamp(), code.upper()),
            )
            if cursor.rowcount == 0:
                return False
            await queue_notices(connection, notices)
        return True

    async def _close(
        self,
        code: str,
        status: str,
        now: datetime,
        notices: Callable[[AppointmentRequest], Sequence[Notice]],
        owned: str,
        owner: tuple[str, ...],
    ) -> AppointmentRequest | None:
        """End a request alive: ``status``, or booked again when it was only to move an
        appointment (which stays). Its name and phone are no longer needed."""
        async with self._db.legacy_transaction() as connection:
            request = await _one(
                connection,
                f"r.code = ? AND r.status IN ('open', 'proposed') {owned}",
                (code.upper(), *owner),
            )
            if request is None:
                return None
            await connection.execute(
                "UPDATE appointment_requests SET status = ?, name = NULL, phone = NULL, "
                "proposed_start = NULL, proposed_end = NULL, updated_at = ? WHERE code = ?",
                (BOOKED if request.rescheduling else status, now.timestamp(), request.code),
            )
            await queue_notices(connection, notices(request))
        return request
