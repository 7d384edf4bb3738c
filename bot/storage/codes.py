"""This module contains the codes of appointments and requests, such as LU-4K7P.

A request and the appointment made from it share one code, so a code is new only when no
appointment and no request holds it.
"""

from __future__ import annotations

import secrets

import aiosqlite

from bot.storage.records import CODE_ALPHABET, NoFreeCode

CODE_LETTERS = 4
ATTEMPTS = 20


async def new_code(connection: aiosqlite.Connection, prefix: str) -> str:
    """A code no appointment or request holds, inside the caller's transaction."""
    for _ in range(ATTEMPTS):
        code = f"{prefix}-" + "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LETTERS))
        async with connection.execute(
            "SELECT 1 FROM appointments WHERE code = ? "
            "UNION ALL SELECT 1 FROM appointment_requests WHERE code = ?",
            (code, code),
        ) as cursor:
            if await cursor.fetchone() is None:
                return code
    raise NoFreeCode("no free code: widen the codes")
