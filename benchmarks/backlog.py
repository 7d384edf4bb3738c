"""A user's reply latency while a backlog of notices drains to Telegram.

The real bot (python-telegram-bot in webhook mode, engine, SQLite, outbox worker) runs against
the fake Bot API server of the tests, both on 127.0.0.1 in this process, with Telegram's real
cap (``TELEGRAM_MAX_SENDS_PER_SECOND``, default 30). Users write at a fixed rate (open loop:
one does not wait for the previous reply), each from a chat of their own, a ``/start`` or a
menu button; the latency is from the webhook POST to the fake server receiving the reply.

Measured at rest, then while a backlog of notices (10,000 reminders to as many users, queued at
once) drains. At 30 messages a second such a backlog takes more than five minutes to drain: the
latency is measured over a fixed window of it (``--seconds``), and the notices sent in that
window are counted. The CPU time of this process (bot, fake API and users together: all of
them run here) is printed per second of each phase: on a busy machine it says more than the
latencies, which then measure the machine as much as the bot.

    .venv/bin/python -m benchmarks.backlog [--rate 5] [--seconds 20] [--notices 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.figures import latency_line
from benchmarks.telegram_load import telegram_update
from bot.app import services
from bot.channels.telegram import TelegramChannel
from bot.config import PROJECT_ROOT, Settings
from bot.storage.outbox import Notice, Outbox
from bot.web import create_web_app
from tests.auxil.fake_telegram import Call, FakeTelegram, free_port, serve

SECRET = "benchmark-secret"
USERS = 1_000_000  # the chats of users who write: one each
REMINDED = 2_000_000  # the chats the notices go to


def _update(user: int, number: int) -> dict[str, Any]:
    """Every other update a button tap into the permits menu, the others /start."""
    if number % 2:
        return telegram_update(user, number, "button", "go:menu_permits")
    return telegram_update(user, number, "text", "/start")


class Users:
    """Users writing at a fixed rate; each reply's (sent at, latency)."""

    def __init__(self, fake: FakeTelegram, webhook: str, rate: float) -> None:
        self.webhook = webhook
        self.rate = rate
        self.replies: list[tuple[float, float]] = []
        self.notices: list[float] = []  # when each notice reached the fake server
        self._waiting: dict[int, float] = {}
        self._pending: set[asyncio.Task[None]] = set()
        fake.listeners.append(self._seen)

    def _seen(self, call: Call) -> None:
        if call.method != "sendMessage":
            return
        chat = int(call.params["chat_id"])
        now = time.perf_counter()
        if chat >= REMINDED:
            self.notices.append(now)
            return
        sent = self._waiting.pop(chat, None)
        if sent is not None:
            self.replies.append((sent, now - sent))

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            began = time.perf_counter()
            number = 0
            while True:
                await asyncio.sleep(max(0.0, began + number / self.rate - time.perf_counter()))
                task = asyncio.create_task(self._one(client, number + 1))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)
                number += 1

    async def _one(self, client: httpx.AsyncClient, number: int) -> None:
        user = USERS + number
        self._waiting[user] = time.perf_counter()
        response = await client.post(
            self.webhook,
            json=_update(user, number),
            headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
        )
        response.raise_for_status()

    def between(self, first: float, last: float) -> list[float]:
        return [latency for sent, latency in self.replies if first <= sent < last]


async def measure(rate: float, seconds: float, notices: int, folder: Path) -> None:
    fake = FakeTelegram()
    async with serve(fake.app()) as api_url:
        port = free_port()
        settings = Settings(
            db_path=folder / "backlog.sqlite3",
            content_dir=PROJECT_ROOT / "content",
            telegram_bot_token=fake.token,
            telegram_api_url=api_url,
            telegram_webhook_url=f"http://127.0.0.1:{port}/telegram",
            telegram_webhook_secret=SECRET,
            telegram_rate_limit=1000,
            agenda_hour=None,
            log_level="WARNING",
        )
        async with (
            services(settings, channels=True) as bot,
            serve(create_web_app(bot), port) as base,
        ):
            telegram, database = bot.channel(TelegramChannel), bot.database
            assert telegram is not None and database is not None
            users = Users(fake, f"{base}/telegram", rate)
            sending = asyncio.create_task(users.run())
            await asyncio.sleep(2.0)  # warm up: the first question, the connections
            rest, rest_cpu = time.perf_counter(), time.process_time()
            await asyncio.sleep(seconds)
            queued, queued_cpu = time.perf_counter(), time.process_time()
            await Outbox(database).add_notices(
                Notice("telegram", str(REMINDED + n), f"Promemoria {n}", "reminder")
                for n in range(notices)
            )
            telegram.wake()
            draining, draining_cpu = time.perf_counter(), time.process_time()
            await asyncio.sleep(seconds)
            done, done_cpu = time.perf_counter(), time.process_time()
            sending.cancel()
            left = (await Outbox(database).counts("telegram")).get("pending", 0)
    went = sum(draining <= at < done for at in users.notices)
    print(
        f"{rate:.0f} replies a second, cap {settings.telegram_max_sends_per_second}/s; "
        f"{notices} notices queued in {draining - queued:.1f} s, "
        f"{went} sent in the {seconds:.0f} s measured ({went / seconds:.1f}/s), {left} left"
    )
    latency_line("at rest", users.between(rest, queued), 28)
    latency_line("while the notices drain", users.between(draining, done), 28)
    at_rest = (queued_cpu - rest_cpu) / (queued - rest)
    while_draining = (done_cpu - draining_cpu) / (done - draining)
    print(
        f"CPU of this process: at rest {at_rest * 1000:.0f} ms/s, while the notices drain "
        f"{while_draining * 1000:.0f} ms/s; per notice sent "
        f"{(while_draining - at_rest) * (done - draining) / max(went, 1) * 1000:.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description="Reply latency while notices drain.")
    parser.add_argument("--rate", type=float, default=5.0, help="user messages a second")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds of each phase")
    parser.add_argument("--notices", type=int, default=10_000, help="notices in the backlog")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(args.rate, args.seconds, args.notices, Path(folder)))


if __name__ == "__main__":
    main()
