"""This module contains a counter of trips to the database's thread: every statement or fetch
through aiosqlite is one hop there and back, which a user's reply may wait behind."""

from __future__ import annotations

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
