"""This module contains a counter of trips to the database's thread: every statement or fetch
through aiosqlite is one hop there and back, which a user's reply may wait behind."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiosqlite
import pytest


class Trips:
    """Counts aiosqlite's hops to its thread from the moment it is made (``count``)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        execute = aiosqlite.Connection._execute

        async def counted(connection: aiosqlite.Connection, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await execute(connection, *args, **kwargs)  # type: ignore[no-untyped-call]  # aiosqlite

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)

    async def settled(self, still: float = 0.4, within: float = 20.0) -> None:
        """Wait until no trip has been made for ``still`` seconds, then count from zero: a
        bot's start runs its clean-up, takes its leases and records its first replies on the
        thread, which on a slow machine still goes on while the next message is measured."""
        deadline = time.monotonic() + within
        while True:
            before = self.count
            await asyncio.sleep(still)
            if self.count == before:
                break
            assert time.monotonic() < deadline, "the database's thread never fell quiet"
        self.count = 0
