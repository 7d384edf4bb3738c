"""Waiting, in tests, for something another task or process will do."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


async def wait_until(
    predicate: Callable[[], object], seconds: float, describe: Callable[[], str]
) -> None:
    """Poll ``predicate`` until it is true; fail with ``describe()`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; {describe()}")
        await asyncio.sleep(0.02)
