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


class FloodControl:
    """At most ``limit`` messages per user within ``window`` seconds."""

    def __init__(
        self, limit: int, window: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._warned: set[str] = set()

    def check(self, user: str) -> Verdict:
        now = self._clock()
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
