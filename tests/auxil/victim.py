"""User B of the property tests: someone with a booking, a request and an open conversation
with the counter, whose stored data must not change whatever user A sends."""

from __future__ import annotations

import asyncio
import atexit
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import (
    AbstractAsyncContextManager,
    AsyncExitStack,
    asynccontextmanager,
    contextmanager,
)
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from bot.app import Services, services
from bot.config import Settings
from bot.reach import UNPROMPTED
from bot.storage.handovers import HandoverStore
from bot.storage.outbox import Outbox
from bot.storage.requests import RequestStore
from tests.auxil.chat import Conversation

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2027, 3, 3, 10, 0, tzinfo=ROME)  # a Wednesday, no holiday near
T = TypeVar("T")
_MODEL_CACHE = Path(tempfile.mkdtemp(prefix="sportello-props-model-"))  # trained once a run
atexit.register(shutil.rmtree, _MODEL_CACHE, ignore_errors=True)


@asynccontextmanager
async def fresh_bot(
    content: Path, locales: Path, user_channels: set[str], now: datetime = NOW, **settings: Any
) -> AsyncIterator[Services]:
    """The bot as ``serve`` builds it, on a database of its own (each example starts clean)."""
    with tempfile.TemporaryDirectory() as folder:
        configured = Settings(
            db_path=Path(folder) / "bot.sqlite3",
            content_dir=content,
            locales_dir=locales,
            cache_dir=_MODEL_CACHE,
            **settings,
        )
        channels = bool(settings)
        # Users of these channels can be told things: B's outbox is part of the snapshot.
        reaches = {channel: UNPROMPTED for channel in user_channels}
        async with services(
            configured, channels=channels, clock=lambda: now, reaches=reaches
        ) as running:
            assert running.desk is not None
            yield running


class Failures(logging.Handler):
    """What the bot logs at ERROR or above: "engine failed", "error while handling"..."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [record.getMessage() for record in self.records]


@contextmanager
def failures_logged() -> Iterator[Failures]:
    failures = Failures()
    logger = logging.getLogger("bot")
    logger.addHandler(failures)
    try:
        yield failures
    finally:
        logger.removeHandler(failures)


@dataclass
class Victim:
    channel: str
    user_id: str
    booking: str
    request: str


def _code(text: str) -> str:
    return "LU-" + text.split("LU-", 1)[1][:4]


async def _contact(chat: Conversation, done: str) -> None:
    """Name, then phone unless the channel knows it (WhatsApp's sender)."""
    await chat.send("Bruna Bianchi")
    if done not in chat.ids():
        await chat.send("333 7654321")


async def victim_with_everything(running: Services, channel: str, user_id: str) -> Victim:
    """User B: a booking, a request waiting for staff, an open conversation with the counter."""
    chat = Conversation(running.engine, user_id, channel)
    await chat.start(hint="it")
    await chat.send("vorrei un appuntamento")
    await chat.press("bk:svc:permit_renewal")
    await chat.press(next(i for i in chat.ids() if i.startswith("bk:day:")))
    await chat.press(next(i for i in chat.ids() if i.startswith("bk:time:")))
    await _contact(chat, "bk:confirm")
    booking = _code((await chat.press("bk:confirm")).text)
    await chat.send("vorrei un appuntamento")
    await chat.press("bk:svc:family_reunification")
    await chat.press("rq:asap")
    await chat.press(next(i for i in chat.ids() if i.startswith("rq:speaks:")))
    await _contact(chat, "rq:send")
    request = _code((await chat.press("rq:send")).text)
    assert request != booking
    await chat.press("act:human")
    await chat.send("Ho una domanda sul mio permesso")
    return Victim(channel, user_id, booking, request)


async def snapshot(running: Services, victim: Victim) -> dict[str, Any]:
    """Everything stored about user B, as the stores hand it out."""
    assert running.database is not None and running.desk is not None
    sessions = running.engine._sessions
    outbox = [
        message.payload
        for message in await Outbox(running.database).pending(victim.channel)
        if message.recipient == victim.user_id
    ]
    return {
        "session": await sessions.get(victim.channel, victim.user_id),
        "booking": await running.desk.store.by_code(victim.booking),
        "active": await running.desk.store.active_for(
            victim.channel, victim.user_id, running.desk.now()
        ),
        "requests": await RequestStore(running.database).of_user(victim.channel, victim.user_id),
        "conversation": await HandoverStore(running.database).current(
            victim.channel, victim.user_id
        ),
        "outbox": outbox,
    }


@contextmanager
def in_one_loop(context: AbstractAsyncContextManager[T]) -> Iterator[tuple[asyncio.Runner, T]]:
    """Enter ``context`` in an event loop of its own and keep it open while a property test
    runs its examples in that loop (``runner.run``): starting a bot per example costs more
    than the examples themselves."""
    with asyncio.Runner() as runner:
        stack = AsyncExitStack()
        value = runner.run(stack.enter_async_context(context))
        try:
            yield runner, value
        finally:
            runner.run(stack.aclose())
