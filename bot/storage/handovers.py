"""This module contains the handovers table: users talking with a person at the counter.

Only who, in which language and when are kept here; the messages themselves travel as
notices in the outbox, so the retention rule that clears the outbox clears them too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from bot.storage.db import Database
from bot.storage.outbox import SENT_AS, Notice, queue_notices
from bot.storage.records import Handover, Posted

_COLUMNS = "id, channel, user_id, language, opened_at, answered_at, closed_at"


def _row(row: Sequence[object]) -> Handover:
    number, channel, user, language, opened, answered, closed = row
    return Handover(
        int(str(number)),
        str(channel),
        str(user),
        str(language),
        float(str(opened)),
        None if answered is None else float(str(answered)),
        None if closed is None else float(str(closed)),
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
        async with self._db.legacy_transaction() as connection:
            async with connection.execute(
                f"SELECT {_COLUMNS} FROM handovers WHERE channel = ? AND user_id = ? "
                "AND closed_at IS NULL",
                (channel, user_id),
            ) as cursor:
                row = await cursor.fetchone()
            new = row is None
            if row is not None:
                handover = _row(tuple(row))
            else:
                cursor = await connection.execute(
                    "INSERT INTO handovers (channel, user_id, language, opened_at) "
                    "VALUES (?, ?, ?, ?)",
                    (channel, user_id, language, now),
                )
                handover = Handover(
                    int(cursor.lastrowid or 0), channel, user_id, language, now, None, None
                )
            await queue_notices(connection, notices(handover, new))
        return handover, new

    async def current(self, channel: str, user_id: str) -> Handover | None:
        async with self._db.legacy_connection.execute(
            f"SELECT {_COLUMNS} FROM handovers WHERE channel = ? AND user_id = ? "
            "AND closed_at IS NULL",
            (channel, user_id),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _row(tuple(row))

    async def get(self, handover_id: int) -> Handover | None:
        async with self._db.legacy_connection.execute(
            f"SELECT {_COLUMNS} FROM handovers WHERE id = ?", (handover_id,)
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None else _row(tuple(row))

    async def by_staff_message(self, channel: str, recipient: str, message_id: str) -> int | None:
        """The conversation a staff notice (by the platform's message id) belongs to."""
        async with self._db.legacy_connection.execute(
            "SELECT json_extract(payload, '$.notice.handover') FROM outbox "
            f"WHERE channel = ? AND recipient = ? AND provider_id = {SENT_AS}",
            (channel, recipient, channel, recipient, message_id, message_id),
        ) as cursor:
            row = await cursor.fetchone()
        return None if row is None or row[0] is None else int(row[0])

    async def post(
        self, handover_id: int, notices: Sequence[Notice], answer: bool
    ) -> Posted | None:
        """Queue a message of an open conversation (None if it is closed); ``answer`` marks a
        staff reply, and the first one's time is kept: the counter reports how quickly people
        are answered."""
        async with self._db.legacy_transaction() as connection:
            async with connection.execute(
                "SELECT 1 FROM handovers WHERE id = ? AND closed_at IS NULL", (handover_id,)
            ) as cursor:
                if await cursor.fetchone() is None:
                    return None
            first = False
            if answer:
                cursor = await connection.execute(
                    "UPDATE handovers SET answered_at = ? WHERE id = ? AND answered_at IS NULL",
                    (time.time(), handover_id),
                )
                first = cursor.rowcount > 0  # decided here: two staff answering at once
            await queue_notices(connection, notices)
        return Posted(first_answer=first)

    async def close(self, handover_id: int, by: str, notices: Sequence[Notice]) -> bool:
        """Close an open conversation and queue its notices; False if it was not open."""
        async with self._db.legacy_transaction() as connection:
            cursor = await connection.execute(
                "UPDATE handovers SET closed_at = ?, closed_by = ? "
                "WHERE id = ? AND closed_at IS NULL",
                (time.time(), by, handover_id),
            )
            if cursor.rowcount == 0:
                return False
            await queue_notices(connection, notices)
        return True
