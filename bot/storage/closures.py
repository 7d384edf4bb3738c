"""This module contains the check of staff's closures inside a write transaction."""

from __future__ import annotations

from datetime import date

import aiosqlite


async def is_closed(connection: aiosqlite.Connection, day: date) -> bool:
    """Whether staff closed ``day``, read inside the caller's write transaction: a closure
    committed a moment before is seen; one committed after waits for the caller's change and
    then cancels what it made on that day."""
    async with connection.execute(
        "SELECT 1 FROM closures WHERE day = ?", (day.isoformat(),)
    ) as cursor:
        return await cursor.fetchone() is not None
