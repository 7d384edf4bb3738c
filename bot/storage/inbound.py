"""This module contains what is remembered of inbound messages: ids seen, last contact."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    Float,
    Row,
    String,
    and_,
    bindparam,
    delete,
    exists,
    literal,
    or_,
    select,
    update,
)

from bot.storage.db import Database, quick
from bot.storage.leases import alive_at
from bot.storage.quick import Statements
from bot.storage.tables import contacts, inbound_seen, inbound_updates


class InboundLog:
    """Platform message ids already processed (marked by the outbox), and last contacts."""

    def __init__(self, database: Database) -> None:
        self._db = database
        contact = database.insert(contacts)
        # Every message runs it: built once (#21). channel, user_id, last_inbound_at.
        self._touch = quick(
            contact.on_conflict_do_update(
                index_elements=[contacts.c.channel, contacts.c.user_id],
                set_={"last_inbound_at": contact.excluded.last_inbound_at},
            )
        )
        #: channel, message_id.
        self._seen = quick(
            select(literal(1)).where(
                inbound_seen.c.channel == bindparam("channel"),
                inbound_seen.c.message_id == bindparam("message_id"),
            )
        )
        #: channel, user_id.
        self._last_inbound = quick(
            select(contacts.c.last_inbound_at).where(
                contacts.c.channel == bindparam("channel"),
                contacts.c.user_id == bindparam("user_id"),
            )
        )

    async def seen(self, channel: str, message_id: str) -> bool:
        """Whether this platform message id was processed already (a retried webhook)."""
        found = await self._db.fetch_value(
            self._seen, {"channel": channel, "message_id": message_id}
        )
        return found is not None

    async def touch(self, channel: str, user_id: str) -> None:
        """Remember that the user wrote now (it opens WhatsApp's 24-hour window)."""
        await self._db.write(
            self._touch,
            {"channel": channel, "user_id": user_id, "last_inbound_at": time.time()},
            concurrent=True,  # an upsert of the user's own row: last writer wins, as before
        )

    async def last_inbound(self, channel: str, user_id: str) -> float | None:
        moment = await self._db.fetch_value(
            self._last_inbound, {"channel": channel, "user_id": user_id}
        )
        return None if moment is None else float(moment)


class ProcessedUpdates:
    """A stored update done with: forgotten, and its key remembered in ``inbound_seen`` so
    that a redelivery is not answered again. Statements built once (every update runs them),
    run in the caller's transaction: the queue's own, or the one that saves the turn
    (``SessionStore.end``)."""

    def __init__(self, database: Database) -> None:
        self._forget = delete(inbound_updates).where(
            inbound_updates.c.channel == bindparam("channel"),
            inbound_updates.c.update_key == bindparam("key"),
        )
        self._remember = database.insert(inbound_seen).on_conflict_do_nothing()

    def forget(self, connection: Statements, channel: str, key: str) -> None:
        connection.execute(self._forget, {"channel": channel, "key": key})

    def remember(self, connection: Statements, channel: str, key: str, now: float) -> bool:
        """False if the key was remembered already."""
        seen = {"channel": channel, "message_id": key, "received_at": now}
        return connection.execute(self._remember, seen).rowcount > 0

    def done(self, connection: Statements, channel: str, key: str, now: float) -> None:
        """Forget the update, remember its key."""
        self.forget(connection, channel, key)
        self.remember(connection, channel, key, now)


class InboundQueue:
    """Updates stored as they arrive, before the platform is told they were received.

    The platform stops redelivering an update once we acknowledge it (a webhook's 200, the
    next getUpdates offset); a crash before its turn is saved would lose it. Stored first, it
    is processed at the next start. A processed update leaves its key in ``inbound_seen``
    (the platform's message id, as the outbox marks it), so a redelivery is not answered
    twice. Raw updates hold personal data: deleted as soon as processed.
    """

    def __init__(self, database: Database) -> None:
        self._db = database
        # Every update runs these: built once, filled at each run (#21).
        not_seen = ~exists().where(
            inbound_seen.c.channel == bindparam("channel"),
            inbound_seen.c.message_id == bindparam("key"),
        )
        #: The update stored unless its key is remembered or it is stored already: channel,
        #: key, payload, received_at, holder (this instance: another one takes it over only if
        #: this one dies).
        self._keep = quick(
            database.insert(inbound_updates)
            .from_select(
                ["channel", "update_key", "payload", "received_at", "holder"],
                select(
                    bindparam("channel", type_=String),
                    bindparam("key", type_=String),
                    bindparam("payload", type_=String),
                    bindparam("received_at", type_=Float),
                    bindparam("holder", type_=String),
                ).where(not_seen),
            )
            .on_conflict_do_nothing()
        )
        #: Whether the key is remembered: channel, key.
        self._seen = select(~not_seen)
        self._processed = ProcessedUpdates(database)

    async def keep(self, channel: str, key: str, payload: dict[str, Any]) -> bool:
        """Store an update, in one statement; False when it was processed already or is
        stored already (a redelivery: whoever holds the first copy answers it)."""
        update = {"channel": channel, "key": key}
        stored = {
            **update,
            "payload": json.dumps(payload, ensure_ascii=False),
            "received_at": time.time(),
            "holder": self._db.holder,
        }
        if self._db.is_sqlite:
            # One statement, atomic on its own among SQLite's writers, who take turns.
            return await self._db.write(self._keep, stored) > 0

        # On PostgreSQL side by side with the others: an insert meeting the first copy while
        # its turn is being saved (``done``, ``answered``, ``SessionStore.end`` delete it and
        # remember its key) waits for that, and then stores the copy, its "not seen" judged
        # before. A second look, a later statement, sees the key remembered and takes it back.
        def keep_unless_seen(connection: Statements) -> bool:
            if connection.execute(self._keep, stored).rowcount == 0:
                return False
            if connection.execute(self._seen, update).scalar():
                self._processed.forget(connection, channel, key)
                return False
            return True

        return await self._db.run_transaction(keep_unless_seen, concurrent=True)

    async def done(self, channel: str, key: str) -> None:
        """The update's turn is saved: forget the update, remember its key."""
        now = time.time()
        # Every Telegram reply waits for it before it is sent. A delete and an insert that
        # does nothing on a conflict: safe beside any other transaction.
        await self._db.run_transaction(
            lambda connection: self._processed.done(connection, channel, key, now),
            concurrent=True,
            quick=True,
        )

    async def answered(self, channel: str, key: str) -> bool:
        """The update's turn is saved and its replies go with the platform's answer: forget
        the update, remember its key, in one transaction; False if the key was remembered
        already (a redelivery racing the first: that one answers, this one must not)."""
        now = time.time()

        # Of two at once on PostgreSQL, the second insert waits for the first's commit and
        # then finds the key: exactly one of them answers.
        def answer(connection: Statements) -> bool:
            if not self._processed.remember(connection, channel, key, now):
                return False
            self._processed.forget(connection, channel, key)
            return True

        return await self._db.run_transaction(answer, concurrent=True, quick=True)

    async def forget_copies(self) -> None:
        """Empty the WAL, so that the deleted rows' old copies leave the disk (an erasure's
        last message was answered: nothing of the user is to stay)."""
        await self._db.checkpoint()

    async def left(self, channel: str) -> list[tuple[str, dict[str, Any]]]:
        """Every update stored and not yet processed, whoever holds it, oldest first."""
        stored = inbound_updates.c
        found = await self._db.fetch_all(
            select(stored.update_key, stored.payload, stored.received_at).where(
                stored.channel == channel
            )
        )
        return _oldest_first(found)

    async def take_over(self, channel: str) -> list[tuple[str, dict[str, Any]]]:
        """The updates stored and never processed, oldest first, now this instance's: those
        of an instance that died (a crash, a kill: its lease expired) or of an earlier run.
        Those another living instance holds are its own to answer."""
        holder = self._db.holder
        now = time.time()
        stored = inbound_updates.c
        # On PostgreSQL, FOR UPDATE SKIP LOCKED: of two instances taking over at once, each
        # gets the rows the other has not locked, judged again on their latest version (one
        # taken meanwhile names a living holder, and is left). SQLite ignores it.
        unclaimed = (
            select(stored.update_key)
            .where(
                stored.channel == channel,
                or_(
                    stored.holder.is_(None),
                    and_(stored.holder != holder, ~alive_at(stored.holder, now)),
                ),
            )
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(inbound_updates)
            .where(
                stored.channel == channel,
                stored.update_key.in_(unclaimed),
            )
            .values(holder=holder)
            .returning(stored.update_key, stored.payload, stored.received_at)
        )
        async with self._db.transaction(concurrent=True) as connection:
            taken = list((await connection.execute(claim)).fetchall())
        return _oldest_first(taken)


def _oldest_first(found: Sequence[Row[Any]]) -> list[tuple[str, dict[str, Any]]]:
    """Updates (key, payload, received_at) by arrival, then by key as SQLite compares text:
    sorted here, as RETURNING promises no order and PostgreSQL's collation compares
    otherwise."""
    ordered = sorted(found, key=lambda row: (float(row.received_at), str(row.update_key)))
    return [(str(row.update_key), json.loads(str(row.payload))) for row in ordered]
