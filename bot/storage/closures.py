"""This module contains the check of staff's closures inside a write transaction."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.storage.tables import closures


async def is_closed(connection: AsyncConnection, day: date) -> bool:
    """Whether staff closed ``day``, read inside the caller's write transaction: a closure
    committed a moment before is seen; one committed after waits for the caller's change and
    then cancels what it made on that day."""
    found = await connection.execute(
        select(closures.c.day).where(closures.c.day == day.isoformat())
    )
    return found.first() is not None
