"""This module contains the outbox worker: it sends queued messages, retrying with backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import Protocol

from bot.notice import Notice
from bot.notify.leadership import Leadership
from bot.storage.backoff import Backoff
from bot.storage.outbox import OutboxMessage

log = logging.getLogger(__name__)

#: How long a message is retried while its platform fails: a reminder or a staff answer is
#: still worth sending after an outage of hours; after a day it is given up (``sportello
#: outbox retry`` can queue it again).
GIVE_UP_AFTER = 24 * 3600.0
MAX_DELAY = 300.0
UNEXPECTED_ATTEMPTS = 5


class SendError(Exception):
    """A message could not be sent; ``retry`` says whether trying again may help.

    ``retry_after`` is the wait the platform asked for (Telegram's flood control), used
    instead of our own backoff; ``refused`` marks a message the rules forbid sending at all
    (WhatsApp outside the 24-hour window with no template), kept for staff to see;
    ``max_attempts`` limits the retries of a failure that is not a platform's outage;
    ``maybe_sent`` marks a failure after which the message may still have gone (a timeout,
    a connection lost before the answer): the next attempt treats it as in doubt.
    """

    def __init__(
        self,
        reason: str,
        retry: bool,
        retry_after: float | None = None,
        refused: bool = False,
        max_attempts: int | None = None,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(reason)
        self.maybe_sent = maybe_sent
        self.reason = reason
        self.retry = retry and not refused
        self.retry_after = retry_after
        self.refused = refused
        self.max_attempts = max_attempts


#: A channel's ``send``: one notice to one recipient, the platform's id of what went.
Sender = Callable[[str, Notice], Awaitable[str | None]]

#: The most messages one digest gathers (Telegram shows about 100 buttons under a message;
#: a booking's or a request's notice brings three).
DIGEST_LIMIT = 20


class Digest(Protocol):
    """How a channel joins messages waiting for one recipient into one (staff notices in a
    burst: Telegram lets a bot post about 20 messages a minute to a group)."""

    def joins(self, notice: Notice) -> bool:
        """Whether this message may go in a digest."""
        ...

    def combine(self, notices: Sequence[Notice]) -> tuple[int, Notice]:
        """One message for the first notices (at least one): how many it holds, and it."""
        ...


class Meter(Protocol):
    """Counts what a worker sends and what fails (``bot.ops.metrics``)."""

    def message_sent(self, channel: str, count: int = 1) -> None: ...

    def send_failed(self, channel: str) -> None: ...


class NoMeter:
    """Counts nothing: a worker nobody measures (tests, tools)."""

    def message_sent(self, channel: str, count: int = 1) -> None:
        pass

    def send_failed(self, channel: str) -> None:
        pass


class OutboxQueue(Protocol):
    """The outbox as its worker uses it (``bot.storage.outbox.Outbox``)."""

    async def due(self, channel: str) -> list[OutboxMessage]: ...

    async def release_claims(self, channel: str) -> int: ...

    async def following(
        self, channel: str, recipient: str, after: int, limit: int
    ) -> list[OutboxMessage]: ...

    async def mark_sending(self, message_ids: list[int], since: float) -> None: ...

    async def clear_sending(self, message_ids: list[int]) -> None: ...

    async def mark_sent_many(self, message_ids: list[int], provider_id: str | None) -> None: ...

    async def mark_retry(
        self, message_id: int, error: str, delay: float, give_up: bool
    ) -> None: ...

    async def mark_refused(self, message_id: int, reason: str) -> None: ...


class OutboxWorker:
    """Sends one channel's outbox: each recipient's messages in order, recipients in parallel."""

    def __init__(
        self,
        outbox: OutboxQueue,
        channel: str,
        send: Sender,
        idle_seconds: float = 1.0,
        give_up_after: float = GIVE_UP_AFTER,
        digest: Digest | None = None,
        meter: Meter | None = None,
        leadership: Leadership | None = None,
    ) -> None:
        self.meter: Meter = meter if meter is not None else NoMeter()
        # Several instances on one database: only the holder of the lease "outbox:<channel>"
        # sends that channel's outbox, rather than each instance claiming messages of its own.
        # One sender keeps what a single one gives: each recipient's messages in order, staff
        # notices joined into digests, the platform's rate limits paced by one budget, and a
        # message in doubt meaning "its sender died" (asked about or sent again by the next
        # holder, as after a restart). It costs nothing that matters: sending is bound by the
        # platforms' limits, not by one process; a notice queued by another instance waits
        # for the holder's next look (``idle_seconds``), since wake() reaches this process only.
        self.leadership = leadership
        self.lease = f"outbox:{channel}"
        self.give_up_after = give_up_after
        self.digest = digest
        self.outbox = outbox
        self.channel = channel
        self.send = send
        self.idle_seconds = idle_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._stopping = False
        if self.leadership is None:
            self._task = asyncio.create_task(self._run())
        else:
            self._task = self.leadership.task(self.lease, self._run)

    async def stop(self, grace_seconds: float = 40.0) -> None:
        """Let the messages on the wire finish and be recorded, then stop.

        What is still queued waits in the outbox for the next start.
        """
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        if self.leadership is not None and not self.leadership.holds(self.lease):
            self._task.cancel()  # waiting for another instance's lease: nothing on the wire
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
            return
        try:
            await asyncio.wait_for(self._task, grace_seconds)
        except TimeoutError:
            log.warning(
                "outbox %s: a send did not finish in time; it will be retried", self.channel
            )
        self._task = None

    async def _run(self) -> None:
        # A database that fails (full, damaged) fails every round: wait longer each time.
        backoff = Backoff(f"outbox {self.channel}", log, self.idle_seconds, MAX_DELAY)
        # Only the lease's holder sends: what a holder before us left claimed is ours now.
        with contextlib.suppress(Exception):  # a failing database is the loop's to report
            await self.outbox.release_claims(self.channel)
        while not self._stopping:
            try:
                sent = await self.drain()
                backoff.succeeded()
            except Exception as error:
                backoff.failed(error)
                sent = 0
            if sent == 0 and not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), backoff.pause)
                self._wake.clear()

    async def drain(self) -> int:
        """Send every message whose turn has come; returns how many were attempted."""
        # The claim records the batch's attempts as begun in its own write (not one each at
        # once: a burst of 50 writes on the database's thread, which every user's reply would
        # wait behind). Those still waiting for their turn when a crash comes are in doubt
        # too: asked about (WhatsApp) or sent (the others), as they would be anyway.
        due = await self.outbox.due(self.channel)
        await asyncio.gather(*(self._deliver(message) for message in due))
        return len(due)

    async def _deliver(self, message: OutboxMessage) -> None:
        try:
            try:
                sent, provider_id = await self._attempt(message)
            except SendError:
                raise
            except Exception as error:
                log.exception("outbox %s: message %d could not be sent", self.channel, message.id)
                # A fault of ours or of a library fails the same way every time: backed off, a
                # few tries, then the messages queued behind it for the recipient go on.
                raise SendError(
                    f"unexpected: {type(error).__name__}",
                    retry=True,
                    max_attempts=UNEXPECTED_ATTEMPTS,
                ) from error
        except SendError as error:
            attempts = message.attempts + 1
            if error.refused:
                await self.outbox.mark_refused(message.id, error.reason)
                log.warning(
                    "outbox %s: message %d refused: %s", self.channel, message.id, error.reason
                )
                return
            waited = time.time() - message.created_at
            give_up = (
                not error.retry
                or waited >= self.give_up_after
                or (error.max_attempts is not None and attempts >= error.max_attempts)
            )
            delay = min(MAX_DELAY, 2.0 ** (attempts - 1))
            if error.retry_after is not None:
                delay = max(error.retry_after, 0.0)
            await self.outbox.mark_retry(message.id, error.reason, delay, give_up)
            if give_up:
                log.warning(
                    "outbox %s: message %d failed for good: %s",
                    self.channel,
                    message.id,
                    error.reason,
                )
            else:
                log.info(
                    "outbox %s: message %d will be retried in %.0f s",
                    self.channel,
                    message.id,
                    delay,
                )
            return
        await self.outbox.mark_sent_many(sent, provider_id)

    async def _attempt(self, message: OutboxMessage) -> tuple[list[int], str | None]:
        """Send a message, or a digest of it and those waiting behind it for the same
        recipient; returns the ids of what went. A failure is the first message's: the
        others wait behind it, as they would have anyway."""
        notice = _notice(message)
        group = [(message, notice)]
        if self.digest is not None and self.digest.joins(notice):
            behind = await self.outbox.following(
                self.channel, message.recipient, message.id, DIGEST_LIMIT - 1
            )
            for waiting in behind:
                try:
                    joining = _notice(waiting)
                except SendError:
                    break  # unreadable: it fails alone, in its turn
                if not self.digest.joins(joining):
                    break  # a conversation's message: it goes alone, in its turn
                group.append((waiting, joining))
        if len(group) > 1 and self.digest is not None:
            count, notice = self.digest.combine([joining for _, joining in group])
            group = group[: max(count, 1)]
        ids = [waiting.id for waiting, _ in group]
        # Recorded before the platform is called (the first by its claim, in due()): a
        # crash from then until the outcome is recorded leaves the messages "in doubt", and
        # the next attempt knows it.
        if len(ids) > 1:
            await self.outbox.mark_sending(ids[1:], time.time())
        doubt = [waiting.sending_since for waiting, _ in group if waiting.sending_since is not None]
        if doubt:
            log.info("outbox %s: message %d may have gone already", self.channel, message.id)
            notice = replace(notice, in_doubt_since=min(doubt))
        try:
            provider_id = await self.send(message.recipient, notice)
        except Exception as error:
            self.meter.send_failed(self.channel)
            if isinstance(error, SendError) and not error.maybe_sent:
                await self.outbox.clear_sending(ids)  # the platform said no: nothing went
            raise
        self.meter.message_sent(self.channel)
        return ids, provider_id


def _notice(message: OutboxMessage) -> Notice:
    """The queued message as its channel sends it; what no version wrote is refused."""
    try:
        return Notice.from_json(message.payload, message.channel, message.recipient)
    except ValueError as error:
        raise SendError("not a notice", retry=False) from error
