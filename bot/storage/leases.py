"""This module contains the leases: which running instance does a job that only one may do.

Several ``serve`` processes may share one database (a rolling restart, or more than one for
the load). A job that must run once (the reminders, one channel's outbox, Telegram's long
polling) is a lease: a row naming its holder and when it expires. The holder renews it
before then; once it has expired (the holder died, or stopped renewing), another instance
takes it. Each running instance also holds ``instance:<its holder id>``: what it holds
elsewhere (a user's turn, an update it stored) is its own only while that lease lives.

Plain SQL with the time passed as a parameter, so that it ports as it is; the time is the
machine's clock, shared by every instance on it.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import ColumnElement, exists, literal

from bot.storage.db import Database
from bot.storage.instance import is_gone
from bot.storage.tables import leases

#: The lease every running instance holds for itself: ``instance:<holder>``.
INSTANCE = "instance:"


def alive_at(holder: ColumnElement[str], now: float) -> ColumnElement[bool]:
    """True while the instance named in ``holder`` (a column of another table: a turn's, a
    stored update's) holds its own lease ``instance:<holder>`` at ``now``."""
    life = leases.alias("life")
    return exists().where(life.c.name == literal(INSTANCE) + holder, life.c.expires_at > now)


def alive(holder_column: str) -> str:
    """SQL true while the instance named in ``holder_column`` holds its own lease; it takes
    one parameter, the time now. Name the column with its table (``turn_locks.holder``): a
    bare ``holder`` would be the lease's own."""
    return (
        f"EXISTS (SELECT 1 FROM leases AS life WHERE life.name = '{INSTANCE}' || "
        f"{holder_column} AND life.expires_at > ?)"
    )


@dataclass(frozen=True)
class Held:
    """A lease as ``/healthz`` and ``doctor`` show it."""

    name: str
    holder: str
    expires_in: float  # seconds; negative once expired


def leases_held(path: Path, now: float) -> list[Held]:
    """Read (never write) the leases living at ``now`` in the database file at ``path``; none
    in a database from before leases."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = connection.execute(
            "SELECT name, holder, expires_at FROM leases WHERE expires_at > ? ORDER BY name",
            (now,),
        ).fetchall()
    except sqlite3.OperationalError as error:
        if "no such table" in str(error):
            return []
        raise
    finally:
        connection.close()
    return [Held(str(name), str(holder), float(at) - now) for name, holder, at in rows]


class Leases:
    """The ``leases`` table."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def take(self, name: str, holder: str, seconds: float) -> bool:
        """Take the lease, or renew it if ``holder`` has it; False while another holds it."""

        def take(connection: sqlite3.Connection) -> bool:
            # The time once the database is ours (a busy one makes us wait): what is written
            # never ends before what the caller, who noted the time before asking, believes.
            now = time.time()
            cursor = connection.execute(
                "INSERT INTO leases (name, holder, expires_at, taken_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
                "expires_at = excluded.expires_at, taken_at = CASE WHEN leases.holder = "
                "excluded.holder THEN leases.taken_at ELSE excluded.taken_at END "
                "WHERE leases.holder = excluded.holder OR leases.expires_at <= ?",
                (name, holder, now + seconds, now, now),
            )
            return cursor.rowcount > 0

        return await self._db.transaction_in_one_trip(take)

    async def release(self, name: str, holder: str) -> None:
        """Let go of a lease, if it is still ``holder``'s: another instance takes it at once."""
        await self._db.legacy_write(
            "DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder)
        )

    async def held(self) -> list[Held]:
        """Every lease, living or expired, by name."""
        now = time.time()
        rows = await self._db.legacy_connection.execute_fetchall(
            "SELECT name, holder, expires_at FROM leases ORDER BY name"
        )
        return [Held(str(name), str(holder), float(at) - now) for name, holder, at in rows]

    async def holder_of(self, name: str) -> str | None:
        """Who holds the lease now; None if nobody (or it expired)."""
        rows = list(
            await self._db.legacy_connection.execute_fetchall(
                "SELECT holder FROM leases WHERE name = ? AND expires_at > ?", (name, time.time())
            )
        )
        return str(rows[0][0]) if rows else None

    async def expire_gone(self) -> list[str]:
        """End at once the leases of instances of this machine whose process has ended (a
        kill -9 lets go of nothing): their jobs, turns and updates are taken over now, not
        when their leases would have expired. Returns those holders."""
        now = time.time()
        rows = await self._db.legacy_connection.execute_fetchall(
            "SELECT DISTINCT holder FROM leases WHERE expires_at > ?", (now,)
        )
        gone = [str(holder) for (holder,) in rows if is_gone(str(holder))]
        for holder in gone:
            await self._db.legacy_write(
                "UPDATE leases SET expires_at = ? WHERE holder = ? AND expires_at > ?",
                (now, holder, now),
            )
        return gone
