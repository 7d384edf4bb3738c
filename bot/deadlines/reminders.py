"""This module contains the personal deadline reminders: set by their user (the date a permit
expires, reminded 90 and 60 days before), listed, moved and deleted in "My reminders", and
sent once on their day.

Sending follows the appointment reminders (``bot.booking.reminders``): from the configured
hour, each reminder due is queued as a notice with the purpose ``deadline`` (on WhatsApp
outside the 24-hour window, the template ``TWILIO_TEMPLATE_DEADLINE``) in the transaction that
marks it sent, so each goes exactly once, also after a crash. Nothing personal is logged, and
the monitoring counts them by kind only.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, tzinfo
from typing import Protocol

from bot.booking.notices import NoticeRouter
from bot.monitoring.events import Monitor, NullMonitor
from bot.storage.backoff import Backoff
from bot.storage.records import DeadlineReminder, Notice

__all__ = [
    "DEADLINE_PURPOSE",
    "DeadlineReminder",
    "DeadlineReminders",
    "DeadlineStore",
    "TextFor",
]

log = logging.getLogger(__name__)

#: The notices' purpose: WhatsApp's template for it is ``TWILIO_TEMPLATE_DEADLINE``.
DEADLINE_PURPOSE = "deadline"
#: How far ahead a reminder may be set: the longest permits last years, not decades.
MAX_DAYS_AHEAD = 10 * 366
#: Reminders read from the database at a time while sending.
BATCH = 200

#: The reminder's text in its user's language, and the variables of its WhatsApp template.
TextFor = Callable[[DeadlineReminder], tuple[str, dict[str, str]]]


class DeadlineStore(Protocol):
    """Where the reminders are kept (``bot.storage.deadlines``)."""

    async def replace(
        self,
        channel: str,
        user_id: str,
        language: str,
        kind: str,
        event_date: date,
        days: Sequence[date],
    ) -> int: ...

    async def of_user(self, channel: str, user_id: str) -> list[DeadlineReminder]: ...

    async def delete(self, channel: str, user_id: str, reminder_id: int | None = None) -> int: ...

    async def move(self, channel: str, user_id: str, reminder_id: int, remind_on: date) -> bool: ...

    async def due(
        self, today: date, channels: Sequence[str], limit: int = ...
    ) -> list[DeadlineReminder]: ...

    async def mark_sent(
        self,
        reminder: DeadlineReminder,
        notices: Sequence[Notice],
        covered: Sequence[DeadlineReminder] = (),
    ) -> bool: ...


class DeadlineReminders:
    """The users' deadline reminders: what "My reminders" and the deadline dialogue change,
    and the loop that sends them."""

    def __init__(
        self,
        store: DeadlineStore,
        router: NoticeRouter,
        text_for: TextFor,
        timezone: tzinfo,
        clock: Callable[[], datetime] | None = None,
        hour: int = 10,
        monitor: Monitor | None = None,
    ) -> None:
        self.store = store
        self.router = router
        self.text_for = text_for
        self.timezone = timezone
        self._clock = clock
        self.hour = hour
        self.monitor: Monitor = monitor if monitor is not None else NullMonitor()

    def now(self) -> datetime:
        """The counter's "now" (the desk's clock: the tests move it)."""
        return self._clock() if self._clock is not None else datetime.now(self.timezone)

    def today(self) -> date:
        return self.now().astimezone(self.timezone).date()

    def can_remind_on(self, day: date) -> bool:
        """Whether a reminder may be set on ``day``: from today, not beyond the horizon."""
        today = self.today()
        return today <= day <= today + timedelta(days=MAX_DAYS_AHEAD)

    # -- what users change -------------------------------------------------------------------

    async def set(
        self,
        channel: str,
        user_id: str,
        language: str,
        kind: str,
        event_date: date,
        remind_on: Sequence[date],
    ) -> int:
        """Replace the user's reminders of this kind with one on each day of ``remind_on``
        still to come (today included: it goes from the hour); returns how many were set."""
        days = [day for day in remind_on if self.can_remind_on(day)]
        count = await self.store.replace(channel, user_id, language, kind, event_date, days)
        for _ in range(count):
            await self.monitor.deadline("set", channel, language, kind)
        return count

    async def mine(self, channel: str, user_id: str) -> list[DeadlineReminder]:
        """The user's reminders, the soonest first (those sent included, until the
        retention rule removes them)."""
        return await self.store.of_user(channel, user_id)

    async def delete(self, channel: str, user_id: str, reminder_id: int | None = None) -> int:
        """Delete one of the user's reminders, or all of them (None); returns how many."""
        return await self.store.delete(channel, user_id, reminder_id)

    async def move(self, channel: str, user_id: str, reminder_id: int, remind_on: date) -> bool:
        """Another day for one of the user's reminders; False when the day cannot be one
        (past, too far) or the reminder is not theirs any more."""
        if not self.can_remind_on(remind_on):
            return False
        return await self.store.move(channel, user_id, reminder_id, remind_on)

    # -- sending -----------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Queue the reminders that are due now; returns how many messages were queued."""
        now = self.now()
        if now.astimezone(self.timezone).hour < self.hour:
            return 0
        channels = [channel for channel in self.router.channels if self.router.reaches(channel)]
        sent = 0
        while True:
            due = await self.store.due(self.today(), channels, BATCH)
            queued = [await self._send(group) for group in _by_deadline(due)]
            sent += sum(queued)
            if len(due) < BATCH or not any(queued):
                break
        if sent:
            self.router.wake()
        return sent

    async def _send(self, group: list[DeadlineReminder]) -> bool:
        """One deadline's reminders due at once: the latest goes, and stands for the others
        (after the bot was stopped for a while, one message, not three)."""
        latest = group[-1]
        try:
            text, variables = self.text_for(latest)
        except Exception:
            # One reminder the text cannot be written for must not hold up the others.
            log.exception("deadline reminders: no text for reminder %d", latest.id)
            return False
        notices = self.router.to_user(
            latest.channel,
            latest.user_id,
            text,
            DEADLINE_PURPOSE,
            variables,
            language=latest.language,
        )
        if not await self.store.mark_sent(latest, notices, covered=group[:-1]):
            return False  # changed meanwhile (moved, deleted), or another process sent it
        await self.monitor.deadline("sent", latest.channel, latest.language, latest.kind)
        return True

    async def run(self, interval: float = 300.0) -> None:
        backoff = Backoff("deadline reminders", log, interval)
        while True:
            try:
                count = await self.run_once()
                if count:
                    log.info("deadline reminders: %d sent", count)
                backoff.succeeded()
            except Exception as error:
                backoff.failed(error)
            await asyncio.sleep(backoff.pause)


def _by_deadline(due: Sequence[DeadlineReminder]) -> list[list[DeadlineReminder]]:
    """Reminders due grouped by the deadline they are for (user, kind, event), each group in
    the order of its days."""
    groups: dict[tuple[str, str, str, date], list[DeadlineReminder]] = {}
    for reminder in due:
        key = (reminder.channel, reminder.user_id, reminder.kind, reminder.event_date)
        groups.setdefault(key, []).append(reminder)
    return list(groups.values())
