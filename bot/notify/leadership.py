"""This module contains ``Leadership``: a loop that runs only while this instance holds its
lease, for jobs that one instance of several must do (reminders, an outbox, ...).

``await leadership.run("reminders", reminders.run)`` waits until the lease is free, runs the
loop while renewing the lease, and cancels the loop the moment the lease cannot be kept (the
database refused the renewals until it expired, or another instance has it): then waits for
it again. When the loop returns, the lease is let go at once, and so it is when ``run`` is
cancelled (a graceful stop): another instance takes over without waiting for it to expire.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

from bot.storage.leases import INSTANCE

__all__ = ["INSTANCE", "Leadership", "LeaseStore"]

log = logging.getLogger(__name__)


class LeaseStore(Protocol):
    """The leases as the runner uses them (``bot.storage.leases.Leases``)."""

    async def take(self, name: str, holder: str, seconds: float) -> bool: ...

    async def release(self, name: str, holder: str) -> None: ...

    async def expire_gone(self) -> list[str]: ...


class Leadership:
    """This instance's leases: taken, renewed, let go."""

    def __init__(
        self, store: LeaseStore, holder: str, seconds: float = 30.0, renew_every: float = 10.0
    ) -> None:
        if renew_every >= seconds:
            raise ValueError("a lease must be renewed before it expires")
        self.store = store
        self.holder = holder
        self.seconds = seconds
        self.renew_every = renew_every
        self._held: set[str] = set()

    @property
    def held(self) -> frozenset[str]:
        """The leases this instance holds now."""
        return frozenset(self._held)

    def holds(self, name: str) -> bool:
        return name in self._held

    async def claim(self, name: str) -> bool:
        """Take (or renew) a lease once, now; False while another instance holds it."""
        if await self.store.take(name, self.holder, self.seconds):
            self._held.add(name)
            return True
        self._held.discard(name)
        return False

    async def live(self) -> None:
        """Hold this instance's own lease for as long as it runs (until cancelled): what it
        holds elsewhere (a user's turn, an update in hand) is its own while this lives."""
        await self.run(f"{INSTANCE}{self.holder}", _forever)

    def task(self, name: str, work: Callable[[], Awaitable[object]]) -> asyncio.Task[None]:
        """``run`` as a task: one line to make one more loop run on one instance at a time."""
        return asyncio.create_task(self.run(name, work), name=f"lease {name}")

    async def run(self, name: str, work: Callable[[], Awaitable[object]]) -> None:
        """Run ``work`` whenever this instance holds the lease ``name``, until ``work``
        returns (or ``run`` is cancelled)."""
        try:
            while True:
                asked = time.monotonic()  # the database writes a later time, never earlier
                if not await self._renewed(name):
                    # Someone else has it: an instance of this machine that was killed lets
                    # go of nothing, so look for those (then try again at once) before
                    # waiting for the lease to expire.
                    if not await self._expired_gone():
                        await asyncio.sleep(self.renew_every)
                    continue
                log.info("lease %s: taken; running it here", name)
                if await self._while_held(name, work, asked + self.seconds):
                    return
                log.warning("lease %s: lost; another instance may take it over", name)
        finally:
            await self._let_go(name)

    async def _while_held(
        self, name: str, work: Callable[[], Awaitable[object]], expires: float
    ) -> bool:
        """Run ``work`` while renewing the lease (held until ``expires``, monotonic); True if
        it ended by itself, False if the lease was lost (``work`` was cancelled)."""
        task: asyncio.Task[object] = asyncio.ensure_future(work())
        # Renewals that fail (a busy database) keep it only until it would expire; the
        # margin stops the work a moment before another instance could take it.
        margin = min(1.0, (self.seconds - self.renew_every) / 2)
        try:
            while True:
                done, _ = await asyncio.wait({task}, timeout=self.renew_every)
                if task in done:
                    if not task.cancelled() and task.exception() is not None:
                        log.error("lease %s: its loop failed", name, exc_info=task.exception())
                    return True
                asked = time.monotonic()  # the database writes a later time, never earlier
                renewed = await self._renewed(name)
                if renewed:
                    expires = asked + self.seconds
                elif renewed is False or time.monotonic() >= expires - margin:
                    return False
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _renewed(self, name: str) -> bool | None:
        """Take or renew the lease: True, False (another holds it), None (could not ask)."""
        try:
            return await self.claim(name)
        except Exception as error:
            log.warning("lease %s: cannot renew it now (%s)", name, type(error).__name__)
            return None

    async def _expired_gone(self) -> bool:
        try:
            return bool(await self.store.expire_gone())
        except Exception as error:
            log.warning("leases: cannot look for instances gone (%s)", type(error).__name__)
            return False

    async def _let_go(self, name: str) -> None:
        if name not in self._held:
            return
        self._held.discard(name)
        try:
            await self.store.release(name, self.holder)
        except Exception as error:  # it expires by itself
            log.warning("lease %s: cannot let go of it (%s)", name, type(error).__name__)


async def _forever() -> None:
    await asyncio.Event().wait()
