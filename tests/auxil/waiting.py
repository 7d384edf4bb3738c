"""Waiting, in tests, for something another task or process will do."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def wait_until(
    predicate: Callable[[], object], seconds: float, describe: Callable[[], str]
) -> None:
    """Poll ``predicate`` until it is true; fail with ``describe()`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; {describe()}")
        await asyncio.sleep(0.02)


async def eventually(check: Callable[[], Awaitable[T]], seconds: float = 10.0) -> T:
    """Await ``check`` until it returns something true, and return that."""
    deadline = time.monotonic() + seconds
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; last value {value!r}")
        await asyncio.sleep(0.02)
