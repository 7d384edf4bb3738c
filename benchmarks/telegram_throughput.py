"""Telegram throughput: N users, each a six-step conversation, through the webhook.

Runs the real bot (python-telegram-bot, engine, SQLite) against the fake Bot API server of the
tests, all on 127.0.0.1, then a bare python-telegram-bot echo bot on the same fake server,
and prints updates per second and the handling latency (webhook POST to sendMessage) of both.

    .venv/bin/python -m benchmarks.telegram_throughput --users 500
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Update
from telegram.ext import Application, CallbackQueryHandler, ContextTypes, MessageHandler, filters

from bot.app import services
from bot.config import PROJECT_ROOT, Settings
from bot.web import create_web_app
from tests.auxil.fake_telegram import FakeTelegram, free_port, serve

SECRET = "benchmark-secret"
# A typical visit: start, open a menu, a topic, back, a typed question, home.
STEPS: tuple[tuple[str, str], ...] = (
    ("text", "/start"),
    ("button", "go:menu_permits"),
    ("button", "go:permit_renewal"),
    ("button", "nav:back"),
    ("text", "come rinnovo il permesso di soggiorno"),
    ("button", "nav:home"),
)


@dataclass
class Result:
    name: str
    updates: int
    seconds: float
    latencies: list[float]

    def line(self) -> str:
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
        return (
            f"{self.name:<14} {self.updates:>6} updates in {self.seconds:6.2f} s = "
            f"{self.updates / self.seconds:8.1f} updates/s   p50 {p50:7.1f} ms   p99 {p99:7.1f} ms"
        )


def _update(user: int, number: int, kind: str, value: str) -> dict[str, Any]:
    sender = {"id": user, "is_bot": False, "first_name": "U", "language_code": "it"}
    chat = {"id": user, "type": "private", "first_name": "U"}
    if kind == "button":
        return {
            "update_id": number,
            "callback_query": {
                "id": f"{user}-{number}",
                "from": sender,
                "chat_instance": str(user),
                "data": value,
                "message": {"message_id": 1, "date": 0, "chat": chat, "text": "menu"},
            },
        }
    return {
        "update_id": number,
        "message": {"message_id": number, "date": 0, "chat": chat, "from": sender, "text": value},
    }


async def _drive(name: str, fake: FakeTelegram, webhook: str, users: int) -> Result:
    """Every user walks the steps concurrently; each waits for its reply before the next."""
    counter = iter(range(1, 10**9))
    arrivals: dict[int, asyncio.Event] = {}
    latencies: list[float] = []

    def record(call: Any) -> None:
        if call.method == "sendMessage":
            event = arrivals.get(int(call.params["chat_id"]))
            if event is not None:
                event.set()

    fake.listeners.append(record)
    limits = httpx.Limits(max_connections=200)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:

        async def user(user_id: int) -> None:
            for kind, value in STEPS:
                event = arrivals[user_id] = asyncio.Event()
                began = time.perf_counter()
                response = await client.post(
                    webhook,
                    json=_update(user_id, next(counter), kind, value),
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                )
                response.raise_for_status()
                await asyncio.wait_for(event.wait(), 60)
                latencies.append(time.perf_counter() - began)

        began = time.perf_counter()
        await asyncio.gather(*(user(1000 + i) for i in range(users)))
        seconds = time.perf_counter() - began
    return Result(name, users * len(STEPS), seconds, latencies)


async def run_sportello(users: int) -> Result:
    fake = FakeTelegram()
    async with serve(fake.app()) as api_url:
        port = free_port()
        with tempfile.TemporaryDirectory() as folder:
            settings = Settings(
                db_path=Path(folder) / "bench.sqlite3",
                content_dir=PROJECT_ROOT / "content",
                telegram_bot_token=fake.token,
                telegram_api_url=api_url,
                telegram_webhook_url=f"http://127.0.0.1:{port}/telegram",
                telegram_webhook_secret=SECRET,
                telegram_rate_limit=1000,
                # Telegram's real cap of ~30 sends/s would be all this measured: lift it, as
                # the echo bot has none. The fake server answers as fast as it can.
                telegram_max_sends_per_second=0,
                log_level="WARNING",
            )
            async with (
                services(settings, channels=True) as bot,
                serve(create_web_app(bot), port) as base,
            ):
                return await _drive("sportello", fake, f"{base}/telegram", users)


async def run_echo(users: int) -> Result:
    """The same traffic to a bare python-telegram-bot echo bot, for comparison."""
    fake = FakeTelegram()
    async with serve(fake.app()) as api_url:
        application = (
            Application.builder()
            .token(fake.token)
            .base_url(f"{api_url}/bot")
            .updater(None)
            .concurrent_updates(64)
            .build()
        )

        async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            if update.callback_query is not None:
                await update.callback_query.answer()
                chat_id = update.callback_query.from_user.id
                await context.bot.send_message(chat_id, update.callback_query.data or "")
            elif update.message is not None:
                await context.bot.send_message(update.message.chat_id, update.message.text or "")

        application.add_handler(MessageHandler(filters.ALL, echo))
        application.add_handler(CallbackQueryHandler(echo))

        async def webhook(request: Request) -> Response:
            await application.update_queue.put(
                Update.de_json(await request.json(), application.bot)
            )
            return Response()

        web = Starlette(routes=[Route("/telegram", webhook, methods=["POST"])])
        async with application, serve(web) as base:
            await application.start()
            try:
                return await _drive("bare PTB echo", fake, f"{base}/telegram", users)
            finally:
                await application.stop()


async def main(users: int) -> None:
    ours = await run_sportello(users)
    echo = await run_echo(users)
    print(f"{users} users x {len(STEPS)} steps, webhook mode, fake Bot API on 127.0.0.1")
    print(ours.line())
    print(echo.line())
    ratio = (ours.updates / ours.seconds) / (echo.updates / echo.seconds)
    print(f"throughput ratio sportello / bare echo: {ratio:.2f} (target: at least 0.5)")


def _cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.users))


if __name__ == "__main__":
    _cli()
