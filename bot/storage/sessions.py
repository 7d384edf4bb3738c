"""This module contains the database's store of conversation sessions, and the hold on a
user's turn that keeps one user's turns in order across every instance on the database.

Why the turn is safe on PostgreSQL, where these transactions run side by side
(``concurrent=True``) rather than one after another as on SQLite:

- Taking the turn is one ``INSERT ... ON CONFLICT DO UPDATE ... WHERE``: PostgreSQL locks
  the conflicting row and judges the condition on its latest version (waiting for a
  transaction that changes it), so two instances never both take one user's turn.
- Letting go deletes our own ``turn_locks`` row FIRST, and saves only if that deleted it.
  The delete locks the row; one taken over meanwhile (a committed takeover) no longer
  names us when PostgreSQL checks again, so nothing is saved (:class:`TurnLost`), and a
  takeover still running makes the delete wait for its end. The other way round, a takeover
  waits for our row until we commit, finds it gone and inserts its own; its read of the
  session, a later statement, sees what we saved. The old ``INSERT ... SELECT ... WHERE
  EXISTS (our turn_locks row)`` would not be safe there: EXISTS reads a snapshot without
  locking, so a takeover committing between our check and our commit would read the
  session from before our save and overwrite it later (a lost turn). On SQLite the
  writers take turns, and deleting first gives the same answers as before.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import bindparam, delete, or_, select

from bot.storage.db import Database, quick
from bot.storage.inbound import ProcessedUpdates
from bot.storage.leases import alive_at
from bot.storage.quick import Statements
from bot.storage.tables import sessions, turn_locks

#: How long a turn waits for the same user's turn in hand at another instance (a turn takes
#: milliseconds; that instance, if it died, lets go when its lease expires).
TURN_WAIT_SECONDS = 60.0
#: The first pause between looks, doubled up to the last.
TURN_PAUSES = (0.01, 0.25)


def _timestamp(moment: float) -> str:
    """``sessions.updated_at`` as it always was: UTC to the second, ISO text."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


class TurnBusy(Exception):
    """The user's turn stayed in another instance's hands for longer than a turn can take."""


class TurnLost(Exception):
    """This instance was taken for dead and another took the user's turn over meanwhile:
    the session is not saved over what that one saves."""


class SqliteSessionStore:
    """Conversation state (JSON text) in the ``sessions`` table, one row per (channel, user),
    on SQLite or PostgreSQL (the name is older than PostgreSQL).

    A turn holds a row of ``turn_locks`` from :meth:`begin` to :meth:`end`: another instance
    answering the same user waits for it (its draft would be overwritten otherwise), or takes
    it over once this instance's lease (``instance:<holder>``) expired. The row is taken with
    the session's read and let go with its write, each in one transaction.
    """

    def __init__(self, database: Database, wait_seconds: float = TURN_WAIT_SECONDS) -> None:
        self._db = database
        self.wait_seconds = wait_seconds
        # Every turn runs these: built once, filled at each run (building an upsert with its
        # ``excluded`` and the living instances' subquery cost more than running it, #21).
        saving = database.insert(sessions)
        #: The state written, whatever was there: channel, user_id, state, updated_at.
        self._save = quick(
            saving.on_conflict_do_update(
                index_elements=[sessions.c.channel, sessions.c.user_id],
                set_={"state": saving.excluded.state, "updated_at": saving.excluded.updated_at},
            )
        )
        #: channel, user_id.
        self._read = quick(
            select(sessions.c.state).where(
                sessions.c.channel == bindparam("channel"),
                sessions.c.user_id == bindparam("user_id"),
            )
        )
        taking = database.insert(turn_locks)
        #: The turn taken unless another living instance holds it: channel, user_id, holder,
        #: since, and now (the same moment).
        self._take = taking.on_conflict_do_update(
            index_elements=[turn_locks.c.channel, turn_locks.c.user_id],
            set_={"holder": taking.excluded.holder, "since": taking.excluded.since},
            where=or_(
                turn_locks.c.holder == taking.excluded.holder,
                ~alive_at(turn_locks.c.holder, bindparam("now")),
            ),
        )
        #: Our own turn let go: channel, user_id, holder.
        self._let_go = delete(turn_locks).where(
            turn_locks.c.channel == bindparam("channel"),
            turn_locks.c.user_id == bindparam("user_id"),
            turn_locks.c.holder == bindparam("holder"),
        )
        self._processed = ProcessedUpdates(database)

    @staticmethod
    def _saved(channel: str, user_id: str, state: str) -> dict[str, str]:
        return {
            "channel": channel,
            "user_id": user_id,
            "state": state,
            "updated_at": _timestamp(time.time()),
        }

    async def get(self, channel: str, user_id: str) -> str | None:
        state = await self._db.fetch_value(self._read, {"channel": channel, "user_id": user_id})
        return None if state is None else str(state)

    async def put(self, channel: str, user_id: str, state: str) -> None:
        await self._db.write(self._save, self._saved(channel, user_id, state))

    async def delete(self, channel: str, user_id: str) -> None:
        await self._db.write(
            delete(sessions).where(sessions.c.channel == channel, sessions.c.user_id == user_id)
        )

    async def begin(self, channel: str, user_id: str) -> str | None:
        """Hold the user's turn (waiting while another live instance holds it) and read their
        state; raises :class:`TurnBusy` if it waited too long."""
        holder = self._db.holder
        deadline = time.monotonic() + self.wait_seconds
        pause, longest = TURN_PAUSES
        turn = {"channel": channel, "user_id": user_id, "holder": holder}

        def take(connection: Statements) -> tuple[bool, str | None]:
            now = time.time()
            if connection.execute(self._take, {**turn, "since": now, "now": now}).rowcount == 0:
                return False, None
            return True, connection.execute(self._read, turn).scalar()

        while True:
            taken, state = await self._db.run_transaction(take, concurrent=True, quick=True)
            if taken:
                return None if state is None else str(state)
            if time.monotonic() >= deadline:
                raise TurnBusy(f"a {channel} user's turn is held by another instance")
            await asyncio.sleep(pause)
            pause = min(pause * 2, longest)

    async def end(
        self, channel: str, user_id: str, state: str | None, processed: str | None = None
    ) -> None:
        """Save the state (None: save nothing, the user's data was erased, say) and let go of
        the turn, in one transaction; raises :class:`TurnLost` (saving nothing) if the turn is
        no longer this instance's. With the state, the stored message ``processed`` is done
        with (as ``InboundQueue.done``): a crash after this does not answer it again."""
        holder = self._db.holder
        now = time.time()
        # Our own turn first (see the module's docstring): its delete locks the row.
        turn = {"channel": channel, "user_id": user_id, "holder": holder}

        def let_go(connection: Statements) -> bool:
            ours = connection.execute(self._let_go, turn).rowcount > 0
            if ours and state is not None:
                connection.execute(self._save, self._saved(channel, user_id, state))
                if processed is not None:
                    self._processed.done(connection, channel, processed, now)
            return ours

        ours = await self._db.run_transaction(let_go, concurrent=True, quick=True)
        if not ours and state is not None:
            raise TurnLost(f"a {channel} user's turn was taken over by another instance")
