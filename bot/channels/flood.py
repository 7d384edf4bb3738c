"""This module contains per-user flood control shared by the messaging channels."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    WARN = "warn"  # the first message over the limit: answer once, politely
    DROP = "drop"  # later ones: silence until the window frees up


#: How many checks go by between two sweeps of the users with nothing in the window.
SWEEP_EVERY = 1024


class FloodControl:
    """At most ``limit`` messages per user within ``window`` seconds.

    Users quiet for a whole window are forgotten now and then: where new users cost nothing
    (the web chat's tokens, its client addresses), the table must not grow without end.
    """

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._warned: set[str] = set()
        self._checks = 0

    def __len__(self) -> int:
        """How many users it remembers."""
        return len(self._recent)

    def check(self, user: str) -> Verdict:
        now = self._clock()
        self._checks += 1
        if self._checks % SWEEP_EVERY == 0:
            self._sweep(now)
        recent = self._recent[user]
        while recent and recent[0] <= now - self.window:
            recent.popleft()
        if len(recent) < self.limit:
            recent.append(now)
            self._warned.discard(user)
            return Verdict.ALLOW
        if user in self._warned:
            return Verdict.DROP
        self._warned.add(user)
        return Verdict.WARN

    def _sweep(self, now: float) -> None:
        quiet = [user for user, recent in self._recent.items() if recent[-1] <= now - self.window]
        for user in quiet:
            del self._recent[user]
            self._warned.discard(user)
