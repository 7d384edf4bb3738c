"""This module contains the handovers table: users talking with a person at the counter.

Only who, in which language and when are kept here; the messages themselves travel as
notices in the outbox, so the retention rule that clears the outbox clears them too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Row, Select, insert, select, update

from bot.storage.db import Database
from bot.storage.expressions import json_text
from bot.storage.outbox import Notice, queue_notices, sent_as
from bot.storage.records import Handover, Posted
from bot.storage.tables import handovers, outbox

_COLUMNS = (
    handovers.c.id,
    handovers.c.channel,
    handovers.c.user_id,
    handovers.c.language,
    handovers.c.opened_at,
    handovers.c.answered_at,
    handovers.c.closed_at,
)


def _row(row: Row[Any]) -> Handover:
    number, channel, user, language, opened, answered, closed = tuple(row)
    return Handover(
        int(str(number)),
        str(channel),
        str(user),
        str(language),
        float(str(opened)),
        None if answered is None else float(str(answered)),
        None if closed is None else float(str(closed)),
    )


def _open_of(channel: str, user_id: str) -> Select[Any]:
    return select(*_COLUMNS).where(
        handovers.c.channel == channel,
        handovers.c.user_id == user_id,
        handovers.c.closed_at.is_(None),
    )


class HandoverStore:
    def __init__(self, database: Database) -> None:
        self._db = database

    async def open(
        self,
        channel: str,
        user_id: str,
        language: str,
        notices: Callable[[Handover, bool], Sequence[Notice]],
    ) -> tuple[Handover, bool]:
        """Open a conversation (or continue the user's open one) and queue its notices;
        ``notices`` learns, and the caller too, whether the conversation is new."""
        now = time.time()
        # Not concurrent: two instances opening the user's conversation at once must not
        # both find none and open two.
        async with self._db.transaction() as connection:
            row = (await connection.execute(_open_of(channel, user_id))).first()
            new = row is None
            if row is not None:
                handover = _row(row)
            else:
                added = await connection.execute(
                    insert(handovers)
                    .values(channel=channel, user_id=user_id, language=language, opened_at=now)
                    .returning(handovers.c.id)
                )
                handover = Handover(
                    int(added.scalar_one()), channel, user_id, language, now, None, None
                )
            await queue_notices(connection, notices(handover, new))
        return handover, new

    async def current(self, channel: str, user_id: str) -> Handover | None:
        row = await self._db.fetch_one(_open_of(channel, user_id))
        return None if row is None else _row(row)

    async def get(self, handover_id: int) -> Handover | None:
        row = await self._db.fetch_one(select(*_COLUMNS).where(handovers.c.id == handover_id))
        return None if row is None else _row(row)

    async def by_staff_message(self, channel: str, recipient: str, message_id: str) -> int | None:
        """The conversation a staff notice (by the platform's message id) belongs to."""
        found = await self._db.fetch_value(
            select(json_text(outbox.c.payload, "notice", "handover")).where(
                outbox.c.channel == channel,
                outbox.c.recipient == recipient,
                outbox.c.provider_id == sent_as(channel, recipient, message_id),
            )
        )
        # A number on SQLite, its text on PostgreSQL.
        return None if found is None else int(found)

    async def post(
        self, handover_id: int, notices: Sequence[Notice], answer: bool
    ) -> Posted | None:
        """Queue a message of an open conversation (None if it is closed); ``answer`` marks a
        staff reply, and the first one's time is kept: the counter reports how quickly people
        are answered."""
        async with self._db.transaction() as connection:
            still_open = await connection.execute(
                select(handovers.c.id).where(
                    handovers.c.id == handover_id, handovers.c.closed_at.is_(None)
                )
            )
            if still_open.first() is None:
                return None
            first = False
            if answer:
                answered = await connection.execute(
                    update(handovers)
                    .where(handovers.c.id == handover_id, handovers.c.answered_at.is_(None))
                    .values(answered_at=time.time())
                )
                first = answered.rowcount > 0  # decided here: two staff answering at once
            await queue_notices(connection, notices)
        return Posted(first_answer=first)

    async def close(self, handover_id: int, by: str, notices: Sequence[Notice]) -> bool:
        """Close an open conversation and queue its notices; False if it was not open."""
        async with self._db.transaction() as connection:
            closed = await connection.execute(
                update(handovers)
                .where(handovers.c.id == handover_id, handovers.c.closed_at.is_(None))
                .values(closed_at=time.time(), closed_by=by)
            )
            if closed.rowcount == 0:
                return False
            await queue_notices(connection, notices)
        return True
