"""This module contains how a background loop waits while its rounds fail.

A database that went bad (or a full disk) fails every round of every worker: without this,
each would log a traceback every second. Here the pauses grow while rounds fail, and the log
says it once when the failures begin and once when they end.
"""

from __future__ import annotations

import logging

from bot.storage.problems import storage_problem

#: The longest pause between failing rounds: the loop notices a repaired database by then.
LONGEST_PAUSE = 600.0


class Backoff:
    """The pause before a loop's next round: ``usual`` while it works, doubling while it fails."""

    def __init__(
        self, name: str, log: logging.Logger, usual: float, longest: float = LONGEST_PAUSE
    ) -> None:
        self.name = name
        self.log = log
        self.usual = usual
        self.longest = max(longest, usual)
        self.failures = 0

    @property
    def pause(self) -> float:
        if self.failures == 0:
            return self.usual
        return min(self.longest, self.usual * 2.0 ** (self.failures - 1))

    def failed(self, error: Exception) -> float:
        """Count a failed round (logged only if it is the first); returns the pause."""
        self.failures += 1
        if self.failures == 1:
            problem = storage_problem(error)
            # A known problem of the database says it all in one line; anything else is a
            # fault worth its traceback, once.
            self.log.error(
                "%s: a round failed (%s); trying again less and less often, up to every "
                "%.0f s, and saying so here when it works again",
                self.name,
                f"database: {problem}" if problem else type(error).__name__,
                self.longest,
                exc_info=None if problem else error,
            )
        return self.pause

    def succeeded(self) -> None:
        """Count a round that worked: the usual pause again, logged if rounds had failed."""
        if self.failures:
            self.log.warning("%s: works again after %d failed round(s)", self.name, self.failures)
        self.failures = 0
