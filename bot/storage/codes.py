"""This module contains the codes of appointments and requests, such as LU-4K7P.

A request and the appointment made from it share one code, so a code is new only when no
appointment and no request holds it.
"""

from __future__ import annotations

import secrets

from sqlalchemy import literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.records import CODE_ALPHABET, NoFreeCode
from bot.storage.tables import appointment_requests, appointments

CODE_LETTERS = 4
ATTEMPTS = 20


async def new_code(connection: AsyncConnection, prefix: str) -> str:
    """A code no appointment or request holds, inside the caller's transaction."""
    for _ in range(ATTEMPTS):
        code = f"{prefix}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LETTERS))
        taken = union_all(
            select(literal(1)).where(appointments.c.code == code),
            select(literal(1)).where(appointment_requests.c.code == code),
        )
        if (await connection.execute(taken)).first() is None:
            return code
    raise NoFreeCode("no free code: widen the codes")
