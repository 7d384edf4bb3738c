"""This module contains the rate limiter python-telegram-bot calls before each Bot API request.

It replaces PTB's ``AIORateLimiter`` (one limiter, not two that fight): every request to a chat
waits for its turn in our ``Pacer`` (Telegram's limits: about 30 messages a second in all, about
one a second to one chat, 20 a minute to a group), live replies before the outbox's notices,
which say so with ``rate_limit_args=NOTICE``. A 429 answer still comes now and then (Telegram's
limits are not exact): the chat is held for the time Telegram asks, and the request retried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.notify.pacing import Pacer, Window

log = logging.getLogger(__name__)

#: ``rate_limit_args`` of a notice from the outbox: it uses what live replies leave.
NOTICE = "notice"
MAX_RETRIES = 3
#: Telegram's limits. A chat: about one message a second, a short burst allowed (a reply in
#: several parts); a group: 20 a minute. A quarter of a group's minute and a third of the
#: overall second are kept for live replies (a staff command, a user's question).
CHAT = Window(count=3, seconds=3.0, reserve=1)
GROUP = Window(count=20, seconds=60.0, reserve=5)


def telegram_pacer(max_sends_per_second: int) -> Pacer:
    """The pacer of Telegram's limits; none of them when the overall cap is lifted (a Bot API
    server of one's own, a test server): only Telegram's requests to wait are kept."""
    if max_sends_per_second <= 0:
        return Pacer(overall=None, chat=None, group=None)
    # Notices spread over the second: a burst of 20 at once held up the replies arriving
    # meanwhile by up to a second (benchmarks/backlog.py).
    overall = Window(max_sends_per_second, 1.0, reserve=max_sends_per_second // 3, even=True)
    return Pacer(overall=overall, chat=CHAT, group=GROUP)


def _seconds(error: RetryAfter) -> float:
    wait = error.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


class PacedRateLimiter(BaseRateLimiter[str]):
    """Paces the requests that name a chat; retries those Telegram answers with 429."""

    def __init__(self, pacer: Pacer, max_retries: int = MAX_RETRIES) -> None:
        self.pacer = pacer
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: str | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        chat = str(chat_id) if chat_id is not None else None
        # Groups and channels: a negative id, or a channel's @name.
        group = chat is not None and chat.startswith(("-", "@"))
        live = rate_limit_args != NOTICE
        attempt = 0
        while True:
            if chat is not None:
                await self.pacer.turn(chat, live=live, group=group)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                seconds = _seconds(error)
                if chat is not None:
                    self.pacer.hold(chat, seconds)  # its next turn comes after the wait
                attempt += 1
                if attempt > self.max_retries:
                    raise
                log.info("telegram: %s held back by Telegram for %.0f s", endpoint, seconds)
                if chat is None:
                    await asyncio.sleep(seconds)
