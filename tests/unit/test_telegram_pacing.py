"""PTB's rate limiter of ours: requests to chats wait in the pacer, notices after replies."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.channels.telegram_pacing import NOTICE, PacedRateLimiter
from bot.notify.pacing import Pacer, Window


@pytest.fixture(autouse=True)
def _timedelta_durations(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # as the Telegram channel sets it


async def test_a_reply_goes_before_the_notices_already_waiting() -> None:
    limiter = PacedRateLimiter(Pacer(overall=Window(1, 0.1), chat=None, group=None))
    order: list[str] = []

    async def request(name: str, chat: int, kind: str | None) -> None:
        async def call() -> bool:
            order.append(name)
            return True

        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": chat}, kind)

    tasks = [asyncio.create_task(request(f"notice{n}", 100 + n, NOTICE)) for n in range(3)]
    await asyncio.sleep(0.01)  # the first notice went; two wait
    tasks.append(asyncio.create_task(request("reply", 5, None)))
    await asyncio.gather(*tasks)
    assert order == ["notice0", "reply", "notice1", "notice2"]


async def test_a_429_holds_the_chat_then_the_request_is_retried() -> None:
    pacer = Pacer(overall=None, chat=None, group=None)
    limiter = PacedRateLimiter(pacer)
    loop = asyncio.get_running_loop()
    attempts: list[float] = []

    async def call() -> dict[str, Any]:
        attempts.append(loop.time())
        if len(attempts) == 1:
            raise RetryAfter(timedelta(seconds=0.2))
        return {"message_id": 1}

    result = await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 7}, None)
    assert result == {"message_id": 1}
    assert attempts[1] - attempts[0] >= 0.2
    began = loop.time()  # other chats were not held
    await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 8}, None)
    assert loop.time() - began < 0.2


async def test_a_429_after_the_last_retry_reaches_the_caller() -> None:
    limiter = PacedRateLimiter(Pacer(overall=None, chat=None, group=None), max_retries=1)
    attempts = 0

    async def call() -> bool:
        nonlocal attempts
        attempts += 1
        raise RetryAfter(timedelta(seconds=0.01))

    with pytest.raises(RetryAfter):
        await limiter.process_request(call, (), {}, "sendMessage", {"chat_id": 7}, NOTICE)
    assert attempts == 2
