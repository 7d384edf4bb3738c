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
from typing import Any

from sqlalchemy import ColumnElement, Row, delete, insert, select, update

from bot.storage.db import Database
from bot.storage.outbox import queue_notices
from bot.storage.records import DeadlineReminder, Notice
from bot.storage.tables import deadline_reminders

_COLUMNS = (
    deadline_reminders.c.id,
    deadline_reminders.c.channel,
    deadline_reminders.c.user_id,
    deadline_reminders.c.language,
    deadline_reminders.c.kind,
    deadline_reminders.c.event_date,
    deadline_reminders.c.remind_on,
    deadline_reminders.c.sent_at,
)


def _reminder(row: Row[Any]) -> DeadlineReminder:
    number, channel, user_id, language, kind, event_date, remind_on, sent_at = tuple(row)
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
        async with self._db.transaction() as connection:
            await connection.execute(
                delete(deadline_reminders).where(
                    deadline_reminders.c.channel == channel,
                    deadline_reminders.c.user_id == user_id,
                    deadline_reminders.c.kind == kind,
                )
            )
            if unique:
                await connection.execute(
                    insert(deadline_reminders),
                    [
                        {
                            "channel": channel,
                            "user_id": user_id,
                            "language": language,
                            "kind": kind,
                            "event_date": event_date.isoformat(),
                            "remind_on": day.isoformat(),
                            "created_at": now,
                        }
                        for day in unique
                    ],
                )
        return len(unique)

    def _bytewise(self, column: ColumnElement[str]) -> ColumnElement[str]:
        """Text ordered by its bytes, as SQLite orders it, not by PostgreSQL's collation
        (which passes over the underscore of ``permit_renewal``). SQLite has no "C"."""
        return column if self._db.is_sqlite else column.collate("C")

    async def of_user(self, channel: str, user_id: str) -> list[DeadlineReminder]:
        """The user's reminders, the soonest first."""
        rows = await self._db.fetch_all(
            select(*_COLUMNS)
            .where(deadline_reminders.c.channel == channel, deadline_reminders.c.user_id == user_id)
            # ISO dates: the same order in any collation; the kinds' names bytewise.
            .order_by(
                deadline_reminders.c.remind_on,
                self._bytewise(deadline_reminders.c.kind),
                deadline_reminders.c.id,
            )
        )
        return [_reminder(row) for row in rows]

    async def delete(self, channel: str, user_id: str, reminder_id: int | None = None) -> int:
        """Delete one of the user's reminders, or all of them (None); returns how many."""
        statement = delete(deadline_reminders).where(
            deadline_reminders.c.channel == channel, deadline_reminders.c.user_id == user_id
        )
        if reminder_id is not None:
            statement = statement.where(deadline_reminders.c.id == reminder_id)
        return await self._db.write(statement)

    async def move(self, channel: str, user_id: str, reminder_id: int, remind_on: date) -> bool:
        """Another day for one of the user's reminders (one already sent goes again on it);
        False if it is not theirs, or gone."""
        changed = await self._db.write(
            update(deadline_reminders)
            .where(
                deadline_reminders.c.id == reminder_id,
                deadline_reminders.c.channel == channel,
                deadline_reminders.c.user_id == user_id,
            )
            .values(remind_on=remind_on.isoformat(), sent_at=None)
        )
        return changed > 0

    async def due(
        self, today: date, channels: Sequence[str], limit: int = 200
    ) -> list[DeadlineReminder]:
        """Reminders not yet sent whose day has come, on these channels, the oldest first."""
        if not channels:
            return []
        rows = await self._db.fetch_all(
            select(*_COLUMNS)
            .where(
                deadline_reminders.c.sent_at.is_(None),
                deadline_reminders.c.remind_on <= today.isoformat(),
                deadline_reminders.c.channel.in_(list(channels)),
            )
            .order_by(deadline_reminders.c.remind_on, deadline_reminders.c.id)
            .limit(limit)
        )
        return [_reminder(row) for row in rows]

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
        async with self._db.transaction() as connection:
            for index, each in enumerate([reminder, *covered]):
                marked = await connection.execute(
                    update(deadline_reminders)
                    .where(
                        deadline_reminders.c.id == each.id,
                        deadline_reminders.c.sent_at.is_(None),
                        deadline_reminders.c.remind_on == each.remind_on.isoformat(),
                    )
                    .values(sent_at=now)
                )
                if index == 0 and marked.rowcount == 0:
                    return False
            await queue_notices(connection, notices)
        return True
