"""This module contains the leases: which running instance does a job that only one may do.

Several ``serve`` processes may share one database (a rolling restart, or more than one for
the load). A job that must run once (the reminders, one channel's outbox, Telegram's long
polling) is a lease: a row naming its holder and when it expires. The holder renews it
before then; once it has expired (the holder died, or stopped renewing), another instance
takes it. Each running instance also holds ``instance:<its holder id>``: what it holds
elsewhere (a user's turn, an update it stored) is its own only while that lease lives.

The time is passed to the database as a value, never the database's own clock: it is the
machine's clock, shared by every instance on it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    case,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError

from bot.storage.db import Database
from bot.storage.instance import is_gone
from bot.storage.peek import is_missing_table, reading
from bot.storage.tables import leases

#: The lease every running instance holds for itself: ``instance:<holder>``.
INSTANCE = "instance:"


def alive_at(holder: ColumnElement[str], now: float | ColumnElement[Any]) -> ColumnElement[bool]:
    """True while the instance named in ``holder`` (a column of another table: a turn's, a
    stored update's) holds its own lease ``instance:<holder>`` at ``now`` (a moment, or a
    ``bindparam`` for a statement built once)."""
    # ``holder IN (the living instances)``, not a correlated EXISTS: in an INSERT's
    # ON CONFLICT ... WHERE, SQLAlchemy cannot correlate a subquery with the row being
    # changed; it would give it a FROM of its own (any living holder would then do).
    life = leases.alias("life")
    return holder.in_(
        select(func.substr(life.c.name, len(INSTANCE) + 1)).where(
            life.c.name.startswith(INSTANCE, autoescape=True), life.c.expires_at > now
        )
    )


@dataclass(frozen=True)
class Held:
    """A lease as ``/healthz`` and ``doctor`` show it."""

    name: str
    holder: str
    expires_in: float  # seconds; negative once expired


def _living(now: float) -> Select[str, str, float]:
    return select(leases.c.name, leases.c.holder, leases.c.expires_at).where(
        leases.c.expires_at > now
    )


def _shown(found: Sequence[Any], now: float) -> list[Held]:
    """By name, compared as SQLite compares text (PostgreSQL's collation would not)."""
    held = [Held(str(row.name), str(row.holder), float(row.expires_at) - now) for row in found]
    return sorted(held, key=lambda lease: lease.name)


async def living_leases(target: Path | str, now: float) -> list[Held]:
    """Read (never write) the leases living at ``now`` in ``SPORTELLO_DB``'s database, a
    SQLite file or PostgreSQL; none in a database from before leases."""
    try:
        async with reading(target) as connection:
            return _shown((await connection.execute(_living(now))).fetchall(), now)
    except DBAPIError as error:
        if is_missing_table(error):
            return []
        raise


class Leases:
    """The ``leases`` table."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def take(self, name: str, holder: str, seconds: float) -> bool:
        """Take the lease, or renew it if ``holder`` has it; False while another holds it."""
        # One conditional upsert: on PostgreSQL ``ON CONFLICT DO UPDATE ... WHERE`` locks the
        # row and judges the condition on its latest version, so two instances taking an
        # expired lease at once cannot both have it: safe beside any other transaction.
        async with self._db.transaction(concurrent=True) as connection:
            # The time once the database is ours (a busy one makes us wait): what is written
            # never ends before what the caller, who noted the time before asking, believes.
            now = time.time()
            statement = self._db.insert(leases).values(
                name=name, holder=holder, expires_at=now + seconds, taken_at=now
            )
            new = statement.excluded
            result = await connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[leases.c.name],
                    set_={
                        "holder": new.holder,
                        "expires_at": new.expires_at,
                        "taken_at": case(
                            (leases.c.holder == new.holder, leases.c.taken_at),
                            else_=new.taken_at,
                        ),
                    },
                    where=or_(leases.c.holder == new.holder, leases.c.expires_at <= now),
                )
            )
            return result.rowcount > 0

    async def release(self, name: str, holder: str) -> None:
        """Let go of a lease, if it is still ``holder``'s: another instance takes it at once."""
        await self._db.write(
            delete(leases).where(leases.c.name == name, leases.c.holder == holder),
            concurrent=True,  # one row, only if still ours: row locks suffice
        )

    async def held(self) -> list[Held]:
        """Every lease, living or expired, by name."""
        now = time.time()
        found = await self._db.fetch_all(
            select(leases.c.name, leases.c.holder, leases.c.expires_at)
        )
        return _shown(found, now)

    async def holder_of(self, name: str) -> str | None:
        """Who holds the lease now; None if nobody (or it expired)."""
        holder = await self._db.fetch_value(
            select(leases.c.holder).where(leases.c.name == name, leases.c.expires_at > time.time())
        )
        return None if holder is None else str(holder)

    async def expire_gone(self) -> list[str]:
        """End at once the leases of instances of this machine whose process has ended (a
        kill -9 lets go of nothing): their jobs, turns and updates are taken over now, not
        when their leases would have expired. Returns those holders."""
        now = time.time()
        found = await self._db.fetch_all(
            select(leases.c.holder).distinct().where(leases.c.expires_at > now)
        )
        gone = [str(holder) for (holder,) in found if is_gone(str(holder))]
        for holder in gone:
            await self._db.write(
                update(leases)
                .where(leases.c.holder == holder, leases.c.expires_at > now)
                .values(expires_at=now),
                concurrent=True,  # a dead holder's rows, each changed alone: row locks suffice
            )
        return gone
