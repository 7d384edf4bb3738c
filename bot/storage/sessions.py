"""This module contains the SQLite store of conversation sessions, and the hold on a user's
turn that keeps one user's turns in order across every instance on the database."""

from __future__ import annotations

import asyncio
import sqlite3
import time

from bot.storage.db import Database
from bot.storage.leases import alive

#: How long a turn waits for the same user's turn in hand at another instance (a turn takes
#: milliseconds; that instance, if it died, lets go when its lease expires).
TURN_WAIT_SECONDS = 60.0
#: The first pause between looks, doubled up to the last.
TURN_PAUSES = (0.01, 0.25)

_TAKE = (
    "INSERT INTO turn_locks (channel, user_id, holder, since) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (channel, user_id) DO UPDATE SET holder = excluded.holder, since = excluded.since "
    f"WHERE turn_locks.holder = excluded.holder OR NOT {alive('turn_locks.holder')}"
)
_SAVE = """
    INSERT INTO sessions (channel, user_id, state)
    SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM turn_locks
                                 WHERE channel = ? AND user_id = ? AND holder = ?)
    ON CONFLICT (channel, user_id) DO UPDATE
    SET state = excluded.state, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
"""


class TurnBusy(Exception):
    """The user's turn stayed in another instance's hands for longer than a turn can take."""


class TurnLost(Exception):
    """This instance was taken for dead and another took the user's turn over meanwhile:
    the session is not saved over what that one saves."""


class SqliteSessionStore:
    """Conversation state (JSON text) in the ``sessions`` table, one row per (channel, user).

    A turn holds a row of ``turn_locks`` from :meth:`begin` to :meth:`end`: another instance
    answering the same user waits for it (its draft would be overwritten otherwise), or takes
    it over once this instance's lease (``instance:<holder>``) expired. The row is taken with
    the session's read and let go with its write, each in one trip to the database.
    """

    def __init__(self, database: Database, wait_seconds: float = TURN_WAIT_SECONDS) -> None:
        self._db = database
        self.wait_seconds = wait_seconds

    async def get(self, channel: str, user_id: str) -> str | None:
        # execute_fetchall: one round trip to the database's thread (a cursor costs three).
        rows = list(
            await self._db.legacy_connection.execute_fetchall(
                "SELECT state FROM sessions WHERE channel = ? AND user_id = ?", (channel, user_id)
            )
        )
        return str(rows[0][0]) if rows else None

    async def put(self, channel: str, user_id: str, state: str) -> None:
        await self._db.legacy_write(
            """
            INSERT INTO sessions (channel, user_id, state) VALUES (?, ?, ?)
            ON CONFLICT (channel, user_id) DO UPDATE
            SET state = excluded.state, updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')
            """,
            (channel, user_id, state),
        )

    async def delete(self, channel: str, user_id: str) -> None:
        await self._db.legacy_write(
            "DELETE FROM sessions WHERE channel = ? AND user_id = ?", (channel, user_id)
        )

    async def begin(self, channel: str, user_id: str) -> str | None:
        """Hold the user's turn (waiting while another live instance holds it) and read their
        state; raises :class:`TurnBusy` if it waited too long."""
        holder = self._db.holder

        def take(connection: sqlite3.Connection) -> tuple[bool, str | None]:
            now = time.time()
            taken = connection.execute(_TAKE, (channel, user_id, holder, now, now)).rowcount > 0
            if not taken:
                return False, None
            row = connection.execute(
                "SELECT state FROM sessions WHERE channel = ? AND user_id = ?", (channel, user_id)
            ).fetchone()
            return True, (str(row[0]) if row else None)

        deadline = time.monotonic() + self.wait_seconds
        pause, longest = TURN_PAUSES
        while True:
            taken, state = await self._db.transaction_in_one_trip(take)
            if taken:
                return state
            if time.monotonic() >= deadline:
                raise TurnBusy(f"a {channel} user's turn is held by another instance")
            await asyncio.sleep(pause)
            pause = min(pause * 2, longest)

    async def end(
        self, channel: str, user_id: str, state: str | None, processed: str | None = None
    ) -> None:
        """Save the state (None: save nothing, the user's data was erased, say) and let go of
        the turn, in one trip; raises :class:`TurnLost` (saving nothing) if the turn is no
        longer this instance's. With the state, the stored message ``processed`` is done with
        (as ``InboundQueue.done``): a crash after this does not answer it again."""
        holder = self._db.holder
        now = time.time()

        def finish(connection: sqlite3.Connection) -> bool:
            if state is not None:
                saved = connection.execute(
                    _SAVE, (channel, user_id, state, channel, user_id, holder)
                ).rowcount
                if saved == 0:
                    return False
                if processed is not None:
                    connection.execute(
                        "DELETE FROM inbound_updates WHERE channel = ? AND update_key = ?",
                        (channel, processed),
                    )
                    connection.execute(
                        "INSERT OR IGNORE INTO inbound_seen (channel, message_id, received_at) "
                        "VALUES (?, ?, ?)",
                        (channel, processed, now),
                    )
            connection.execute(
                "DELETE FROM turn_locks WHERE channel = ? AND user_id = ? AND holder = ?",
                (channel, user_id, holder),
            )
            return True

        if not await self._db.transaction_in_one_trip(finish):
            raise TurnLost(f"a {channel} user's turn was taken over by another instance")
