"""Background loops on a failing database: growing pauses, one log line per change."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Callable, Coroutine
from types import SimpleNamespace
from typing import Any

import pytest

from bot import web
from bot.booking.reminders import MorningAgenda, Reminders
from bot.booking.requests import RequestDesk
from bot.deadlines.reminders import DeadlineReminders
from bot.notify.worker import OutboxWorker
from bot.storage.backoff import Backoff

log = logging.getLogger("tests.backoff")


def test_pauses_grow_while_rounds_fail_and_come_back_when_one_works(
    caplog: pytest.LogCaptureFixture,
) -> None:
    backoff = Backoff("reminders", log, usual=300.0, longest=1000.0)
    assert backoff.pause == 300.0
    broken = sqlite3.DatabaseError("database disk image is malformed")
    pauses = [backoff.failed(broken) for _ in range(5)]
    assert pauses == [300.0, 600.0, 1000.0, 1000.0, 1000.0]
    backoff.succeeded()
    backoff.succeeded()
    assert backoff.pause == 300.0
    said = [record.getMessage() for record in caplog.records]
    assert len(said) == 2, said  # when the failures began, when they ended
    assert "database: the file is damaged" in said[0] and caplog.records[0].exc_info is None
    assert "works again after 5 failed round(s)" in said[1]


def test_an_unknown_fault_keeps_its_traceback_once(caplog: pytest.LogCaptureFixture) -> None:
    backoff = Backoff("agenda", log, usual=1.0)
    for _ in range(3):
        backoff.failed(KeyError("a bug"))
    (record,) = caplog.records
    assert record.exc_info is not None and "KeyError" in record.getMessage()


class _BrokenOutbox:
    """An outbox on a database that went bad: every round fails."""

    def __init__(self) -> None:
        self.rounds = 0
        self.broken = True

    async def due(self, channel: str) -> list[Any]:
        self.rounds += 1
        if self.broken:
            raise sqlite3.DatabaseError("database disk image is malformed")
        return []


async def test_the_outbox_worker_backs_off_a_broken_database(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outbox = _BrokenOutbox()

    async def send(recipient: str, payload: dict[str, Any]) -> str | None:
        return None

    worker = OutboxWorker(outbox, "telegram", send, idle_seconds=0.01)  # type: ignore[arg-type]
    worker.start()
    await asyncio.sleep(0.6)
    failing_rounds = outbox.rounds
    # Every 0.01 s that would be 60 rounds and 60 tracebacks; doubling pauses: about 6.
    assert 3 <= failing_rounds <= 10, failing_rounds
    outbox.broken = False
    worker.wake()
    await asyncio.sleep(0.1)
    await worker.stop()
    assert outbox.rounds > failing_rounds
    said = [record.getMessage() for record in caplog.records if record.name == "bot.notify.worker"]
    assert len(said) == 2, said
    assert "outbox telegram: a round failed (database: the file is damaged)" in said[0]
    assert "works again" in said[1]


class _Unused:
    """A collaborator the loop under test never reaches."""


class _FailingReminders(Reminders):
    async def run_once(self) -> int:
        raise sqlite3.OperationalError("database or disk is full")


class _FailingAgenda(MorningAgenda):
    async def run_once(self) -> bool:
        raise sqlite3.OperationalError("database or disk is full")


class _FailingRequests(RequestDesk):
    async def remind(self) -> int:
        raise sqlite3.OperationalError("database or disk is full")


class _FailingDeadlines(DeadlineReminders):
    async def run_once(self) -> int:
        raise sqlite3.OperationalError("database or disk is full")


async def _failing_purge(database: object, days: int, keep_days: int) -> dict[str, int]:
    raise sqlite3.OperationalError("database or disk is full")


def _loops(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[float], Coroutine[Any, Any, None]]]:
    unused: Any = _Unused()
    monkeypatch.setattr(web, "purge", _failing_purge)
    running: Any = SimpleNamespace(
        database=unused, settings=SimpleNamespace(retention_days=1, deadline_keep_days=7)
    )
    return [
        _FailingReminders(unused, unused, unused).run,
        _FailingAgenda(unused, unused, unused).run,
        _FailingRequests(unused, unused, unused, unused, unused).watch,
        lambda interval: web._purge_periodically(running, interval),
        _FailingDeadlines(unused, unused, unused, unused).run,
    ]


@pytest.mark.parametrize(
    "index", range(5), ids=["reminders", "agenda", "requests", "retention", "deadlines"]
)
async def test_the_periodic_rounds_back_off_and_say_it_once(
    index: int, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop = asyncio.create_task(_loops(monkeypatch)[index](0.01))
    await asyncio.sleep(0.3)
    loop.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await loop
    said = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(said) == 1, [record.getMessage() for record in said]
    assert "database: the disk is full" in said[0].getMessage()
