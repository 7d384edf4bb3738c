"""This module contains the storage of personal deadline reminders (migration 15).

A row holds only what sending the reminder needs: the chat (channel and user id), its
language, the kind of deadline, the day of the event and the day to remind. Dates are ISO
dates in the counter's time zone. A reminder is marked sent in the transaction that queues
its notice, so it goes exactly once, even across a crash or two processes.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import date

from bot.storage.db import Database
from bot.storage.outbox import queue_notices
from bot.storage.records import DeadlineReminder, Notice

_COLUMNS = "id, channel, user_id, language, kind, event_date, remind_on, sent_at"


def _reminder(row: Sequence[object]) -> DeadlineReminder:
    number, channel, user_id, language, kind, event_date, remind_on, sent_at = row
    return DeadlineReminder(
        id=int(str(number)),
        channel=str(channel),
        user_id=str(user_id),
        language=str(language),
        kind=str(kind),
        event_date=date.fromisoformat(str(event_date)),
        remind_on=date.fromisoformat(str(remind_on)),
        sent_at=float(str(sent_at)) if sent_at is not None else None,
    )


class DeadlineStore:
    """The ``deadline_reminders`` table."""

    def __init__(self, database: Database) -> None:
        self._db = database

    async def replace(
        self,
        channel: str,
        user_id: str,
        language: str,
        kind: str,
        event_date: date,
        days: Sequence[date],
    ) -> int:
        """The user's reminders of this kind become one on each of ``days`` (sent ones
        included: a new date of the event supersedes the old); returns how many."""
        now = time.time()
        unique = sorted(set(days))
        async with self._db.legacy_transaction() as connection:
            await connection.execute(
                "DELETE FROM deadline_reminders WHERE channel = ? AND user_id = ? AND kind = ?",
                (channel, user_id, kind),
            )
            await connection.executemany(
                "INSERT INTO deadline_reminders "
                "(channel, user_id, language, kind, event_date, remind_on, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (channel, user_id, language, kind, event_date.isoformat(), day.isoformat(), now)
                    for day in unique
                ],
            )
        return len(unique)

    async def of_user(self, channel: str, user_id: str) -> list[DeadlineReminder]:
        """The user's reminders, the soonest first."""
        rows = await self._db.legacy_connection.execute_fetchall(
            f"SELECT {_COLUMNS} FROM deadline_reminders WHERE channel = ? AND user_id = ? "
            "ORDER BY remind_on, kind, id",
            (channel, user_id),
        )
        return [_reminder(tuple(row)) for row in rows]

    async def delete(self, channel: str, user_id: str, reminder_id: int | None = None) -> int:
        """Delete one of the user's reminders, or all of them (None); returns how many."""
        if reminder_id is None:
            cursor = await self._db.legacy_write(
                "DELETE FROM deadline_reminders WHERE channel = ? AND user_id = ?",
                (channel, user_id),
            )
        else:
            cursor = await self._db.legacy_write(
                "DELETE FROM deadline_reminders WHERE id = ? AND channel = ? AND user_id = ?",
                (reminder_id, channel, user_id),
            )
        return int(cursor.rowcount)

    async def move(self, channel: str, user_id: str, reminder_id: int, remind_on: date) -> bool:
        """Another day for one of the user's reminders (one already sent goes again on it);
        False if it is not theirs, or gone."""
        cursor = await self._db.legacy_write(
            "UPDATE deadline_reminders SET remind_on = ?, sent_at = NULL "
            "WHERE id = ? AND channel = ? AND user_id = ?",
            (remind_on.isoformat(), reminder_id, channel, user_id),
        )
        return cursor.rowcount > 0

    async def due(
        self, today: date, channels: Sequence[str], limit: int = 200
    ) -> list[DeadlineReminder]:
        """Reminders not yet sent whose day has come, on these channels, the oldest first."""
        if not channels:
            return []
        marks = ", ".join("?" for _ in channels)
        rows = await self._db.legacy_connection.execute_fetchall(
            f"SELECT {_COLUMNS} FROM deadline_reminders WHERE sent_at IS NULL "
            f"AND remind_on <= ? AND channel IN ({marks}) ORDER BY remind_on, id LIMIT ?",
            (today.isoformat(), *channels, limit),
        )
        return [_reminder(tuple(row)) for row in rows]

    async def mark_sent(
        self,
        reminder: DeadlineReminder,
        notices: Sequence[Notice],
        covered: Sequence[DeadlineReminder] = (),
    ) -> bool:
        """Record the reminder as sent and queue its notices, in one transaction: False (and
        nothing queued) if it was sent, moved to another day or deleted meanwhile.
        ``covered``: the same deadline's earlier reminders, due at once (the bot was
        stopped), which this one stands for: marked sent with it."""
        now = time.time()
        async with self._db.legacy_transaction() as connection:
            cursor = await connection.execute(
                "UPDATE deadline_reminders SET sent_at = ? "
                "WHERE id = ? AND sent_at IS NULL AND remind_on = ?",
                (now, reminder.id, reminder.remind_on.isoformat()),
            )
            if cursor.rowcount == 0:
                return False
            await connection.executemany(
                "UPDATE deadline_reminders SET sent_at = ? "
                "WHERE id = ? AND sent_at IS NULL AND remind_on = ?",
                [(now, other.id, other.remind_on.isoformat()) for other in covered],
            )
            await queue_notices(connection, notices)
        return True
