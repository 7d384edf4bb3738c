"""``sportello serve`` killed with SIGKILL at random points of bookings and of the outbox.

The real command runs as a subprocess against the fake Telegram and Twilio APIs; users book on
both channels while the server is killed (no clean-up of any kind) and started again a few
times. Afterwards:

- every booking a user was told about exists, once; nobody holds more bookings than the
  confirmations they sent (a confirmation is never booked twice);
- every update the server stored was processed, and the outbox is empty: every notice and
  reply went out;
- on WhatsApp each queued message reached Twilio exactly once (after a crash the bot asks
  Twilio what it took before sending again);
- on Telegram each queued message reached the chat at least once. "Once" cannot be promised
  there: the Bot API cannot say what a bot sent, so a message whose answer was lost in a
  crash is sent again. At most one such repeat per kill, per chat.

What this cannot promise, and does not assert: a reply to the user that was on its way when
the server died may be lost (the user's turn was saved; they write again). The randomness
is seeded (``SPORTELLO_CRASH_SEED`` to try others) and printed in every failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import os
import random
import re
import signal
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.exc import DBAPIError
from twilio.request_validator import RequestValidator

from bot.storage.db import Database
from tests.auxil.databases import rows
from tests.auxil.fake_telegram import FakeTelegram, free_port, serve
from tests.auxil.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio
from tests.auxil.serve_process import serve_environment, start_serve
from tests.auxil.waiting import wait_until

SEED = int(os.environ.get("SPORTELLO_CRASH_SEED", "20261130"))
ROUNDS = 4  # kills
TELEGRAM_USERS = (701, 702, 703, 704)
WHATSAPP_USERS = ("+393330000101", "+393330000102", "+393330000103")
STAFF_CHAT = -1001111111111
STAFF_USER = 900
STEP_SECONDS = 15.0  # a reply this late was lost in a crash: the user starts again
ATTEMPTS = 3  # times a user starts the booking again
DATA = Path(__file__).parent.parent / "data"
CODE = re.compile(r"LU-[0-9A-Z]{4}")
_sids = itertools.count(1)


def _telegram(name: str, user: int, **fields: Any) -> dict[str, Any]:
    """A recorded Telegram update from ``user``, with some fields of its body changed."""
    payload: dict[str, Any] = copy.deepcopy(
        json.loads((DATA / "telegram" / f"{name}.json").read_text(encoding="utf-8"))
    )
    body = next(value for key, value in payload.items() if key != "update_id")
    body["from"]["id"] = user
    if "chat" in body:
        body["chat"]["id"] = user
    if "message" in body:
        body["message"]["chat"]["id"] = user
    body.update(fields)
    return payload


class NoAnswer(Exception):
    """A step got no answer in time: lost in a crash (the user starts again)."""


async def _answered(predicate: Callable[[], bool]) -> None:
    try:
        await wait_until(predicate, STEP_SECONDS, lambda: "no answer")
    except AssertionError as error:
        raise NoAnswer from error


class Server:
    """``sportello serve`` as a process of its own, killed and started again."""

    def __init__(self, environment: dict[str, str], log: Path) -> None:
        self.environment = environment
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.kills = 0

    async def start(self) -> None:
        self.process = await start_serve(self.environment, self.log)

    async def ready(self, base: str) -> None:
        """Wait until it serves and Telegram is connected (so a kill hits the work, not the
        start-up)."""
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                with contextlib.suppress(httpx.TransportError, ValueError):
                    answer = await client.get(f"{base}/healthz", timeout=1)
                    if answer.json().get("telegram_connected"):
                        return
                await asyncio.sleep(0.05)
        raise AssertionError(f"the server never got ready:\n{self.tail()}")

    async def kill(self) -> None:
        assert self.process is not None
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)
            self.kills += 1
        await self.process.wait()

    async def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 30)

    def tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


class Users:
    """People booking on Telegram and WhatsApp, patient as people are: a step without an
    answer for a while makes them start again."""

    def __init__(self, telegram: FakeTelegram, twilio: FakeTwilio, base: str) -> None:
        self.telegram = telegram
        self.twilio = twilio
        self.base = base
        self.confirms: dict[str, int] = {}  # user -> confirmations sent
        self.codes: dict[str, list[str]] = {}  # user -> codes they were told

    # -- Telegram ------------------------------------------------------------------------

    async def _telegram_step(self, user: int, update: dict[str, Any]) -> list[Any]:
        before = len(self.telegram.sent(user))
        self.telegram.queue(update)
        await _answered(lambda: len(self.telegram.sent(user)) > before)
        await asyncio.sleep(0.1)  # a reply of several messages
        return self.telegram.sent(user)[before:]

    @staticmethod
    def _buttons(calls: list[Any], prefix: str) -> list[str]:
        for call in reversed(calls):
            rows = (call.params.get("reply_markup") or {}).get("inline_keyboard") or []
            ids = [row[0]["callback_data"] for row in rows]
            found = [data for data in ids if data.startswith(prefix)]
            if found:
                return found
        return []

    async def book_on_telegram(self, user: int, rng: random.Random) -> None:
        name = f"telegram:{user}"
        for _ in range(ATTEMPTS):
            try:
                await self._telegram_step(user, _telegram("command_start", user))
                await self._telegram_step(
                    user, _telegram("message_text", user, text="vorrei un appuntamento")
                )
                press = "bk:svc:permit_renewal"
                days = self._buttons(
                    await self._telegram_step(user, _telegram("callback_query", user, data=press)),
                    "bk:day:",
                )
                day = days[0]
                times = self._buttons(
                    await self._telegram_step(user, _telegram("callback_query", user, data=day)),
                    "bk:time:",
                )
                await self._telegram_step(
                    user, _telegram("callback_query", user, data=rng.choice(times))
                )
                await self._telegram_step(user, _telegram("message_text", user, text="Amina Rossi"))
                await self._telegram_step(user, _telegram("message_text", user, text="333 1234567"))
                self.confirms[name] = self.confirms.get(name, 0) + 1
                told = await self._telegram_step(
                    user, _telegram("callback_query", user, data="bk:confirm")
                )
            except (NoAnswer, IndexError):
                continue  # no answer (lost in a crash), or not the expected one: again
            self.codes[name] = [c for call in told for c in CODE.findall(call.params["text"])]
            return

    # -- WhatsApp ------------------------------------------------------------------------

    async def _post(self, form: dict[str, str]) -> None:
        """Deliver a message to the webhook, again while the server is down (the same
        MessageSid: Twilio's retry, or the user's patience)."""
        url = f"{self.base}/whatsapp"
        signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
        async with asyncio.timeout(STEP_SECONDS), httpx.AsyncClient() as client:
            while True:
                try:
                    response = await client.post(
                        url, data=form, headers={"X-Twilio-Signature": signature}, timeout=5
                    )
                except httpx.TransportError:
                    await asyncio.sleep(0.2)
                    continue
                if response.status_code == 200:
                    # Twilio sends the replies in the answer (none: they went by the outbox).
                    self.twilio.take_answer(
                        form, 200, response.headers.get("content-type", ""), response.text
                    )
                    return
                await asyncio.sleep(0.2)  # 503 while starting

    async def _whatsapp_step(self, phone: str, text: str) -> list[dict[str, Any]]:
        sid = f"SM{next(_sids):032x}"
        form = {
            "MessageSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": f"whatsapp:{phone}",
            "To": SENDER,
            "Body": text,
            "NumMedia": "0",
        }
        before = len(self.twilio.to(phone))
        await self._post(form)
        await _answered(lambda: len(self.twilio.to(phone)) > before)
        await asyncio.sleep(0.1)
        return self.twilio.to(phone)[before:]

    async def book_on_whatsapp(self, phone: str, rng: random.Random) -> None:
        name = f"whatsapp:{phone}"
        for _ in range(ATTEMPTS):
            try:
                await self._whatsapp_step(phone, "menu")
                await self._whatsapp_step(phone, "vorrei un appuntamento")
                await self._whatsapp_step(phone, "1")  # the service
                await self._whatsapp_step(phone, "1")  # the first day
                await self._whatsapp_step(phone, str(rng.randint(1, 3)))  # a time
                summary = await self._whatsapp_step(phone, "Amina Rossi")
                if not any("Amina Rossi" in message.get("Body", "") for message in summary):
                    continue  # answers out of step after a crash: start again
                self.confirms[name] = self.confirms.get(name, 0) + 1
                told = await self._whatsapp_step(phone, "1")
            except NoAnswer:
                continue
            self.codes[name] = [c for m in told for c in CODE.findall(m.get("Body", ""))]
            return


@contextlib.asynccontextmanager
async def _fakes() -> AsyncIterator[tuple[FakeTelegram, FakeTwilio, str, str]]:
    telegram, twilio = FakeTelegram(answer_delay=0.15), FakeTwilio(answer_delay=0.15)
    telegram.chats[STAFF_CHAT] = "administrator"
    async with serve(telegram.app()) as telegram_url, serve(twilio.app()) as twilio_url:
        yield telegram, twilio, telegram_url, twilio_url


#: Where a kill lands: what the database shows at that moment (None: any moment).
KILL_POINTS: dict[str, str | None] = {
    "any moment": None,
    "an update stored, its turn not yet saved": "SELECT count(*) FROM inbound_updates",
    "a message on its way to the platform": (
        "SELECT count(*) FROM outbox WHERE status = 'pending' AND sending_since IS NOT NULL"
    ),
}


async def _moment(database: Database, sql: str | None, seconds: float) -> None:
    """Wait ``seconds``, or until ``sql`` counts something (at most a few seconds)."""
    if sql is None:
        await asyncio.sleep(seconds)
        return
    for _ in range(2000):
        with contextlib.suppress(DBAPIError):  # SQLite busy: look again
            if (await rows(database, sql))[0][0]:
                return
        await asyncio.sleep(0.002)


async def _settled(database: Database, seconds: float) -> None:
    """Wait until nothing stored is left to process or to send."""
    async with asyncio.timeout(seconds):
        while True:
            with contextlib.suppress(DBAPIError):  # SQLite busy: look again
                waiting = (
                    await rows(
                        database,
                        "SELECT (SELECT count(*) FROM outbox WHERE status = 'pending') + "
                        "(SELECT count(*) FROM inbound_updates)",
                    )
                )[0][0]
                if waiting == 0:
                    return
            await asyncio.sleep(0.2)


async def test_killed_at_random_points_no_booking_twice_and_every_notice_delivered(
    tmp_path: Path, database_target: str
) -> None:
    """On the suite's database: a SQLite file, or a PostgreSQL schema (``database_target``)."""
    async with Database(database_target) as database:  # the test's own reads
        await _killed_at_random_points(tmp_path, database_target, database)


async def _killed_at_random_points(tmp_path: Path, target: str, database: Database) -> None:
    rng = random.Random(SEED)
    port = free_port()
    async with _fakes() as (telegram, twilio, telegram_url, twilio_url):
        environment = {
            **serve_environment(
                target, tmp_path, telegram.token, telegram_url, STAFF_CHAT, STAFF_USER
            ),
            "PORT": str(port),
            "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
            "WHATSAPP_RATE_LIMIT": "1000",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_WHATSAPP_FROM": SENDER,
            "TWILIO_API_URL": twilio_url,
        }
        server = Server(environment, tmp_path / "serve.log")
        users = Users(telegram, twilio, f"http://127.0.0.1:{port}")
        context = f"seed {SEED}"
        await server.start()
        bookings = [
            *(users.book_on_telegram(user, random.Random(rng.random())) for user in TELEGRAM_USERS),
            *(
                users.book_on_whatsapp(phone, random.Random(rng.random()))
                for phone in WHATSAPP_USERS
            ),
        ]
        booking = asyncio.gather(*bookings)
        try:
            # Every kind of moment at least once, in a random order.
            points = list(KILL_POINTS) + rng.choices(list(KILL_POINTS), k=ROUNDS - len(KILL_POINTS))
            rng.shuffle(points)
            for point in points:
                await server.ready(users.base)
                # Somewhere in the middle of the bookings and of the outbox draining: at a
                # random moment, or as soon as an update is in hand, or a message on its way.
                await _moment(database, KILL_POINTS[point], rng.uniform(0.1, 2.0))
                await server.kill()
                await server.start()
            async with asyncio.timeout(120):
                await booking
            await _settled(database, 30)
            await server.ready(users.base)
        except Exception:
            booking.cancel()
            await server.kill()
            raise AssertionError(f"{context}; the server's log:\n{server.tail()}") from None
        assert await server.stop() == 0, server.tail()
        context += f", {server.kills} kills"

    # Every booking a user was told about exists once, and no confirmation booked twice.
    told = [code for codes in users.codes.values() for code in codes]
    assert told, f"{context}: no booking went through at all"
    for code in told:
        found = await rows(
            database, "SELECT status FROM appointments WHERE code = :code", code=code
        )
        assert found == [("active",)], f"{context}: {code} {found}"
    held = await rows(
        database,
        "SELECT channel || ':' || user_id, count(*) FROM appointments "
        "WHERE status = 'active' GROUP BY 1",
    )
    for user, count in held:
        assert count <= users.confirms.get(user, 0), f"{context}: {user} holds {count}"
    # Every update Telegram forgot (confirmed by the next getUpdates) was processed.
    processed = {str(key) for (key,) in await rows(database, "SELECT message_id FROM inbound_seen")}
    forgotten = [
        u["update_id"] for u in telegram.updates if u["update_id"] < telegram.confirmed_below
    ]
    assert forgotten and all(f"update:{n}" in processed for n in forgotten), context
    # Nothing stored was left unprocessed or unsent.
    assert await rows(database, "SELECT count(*) FROM inbound_updates") == [(0,)], context
    statuses = await rows(database, "SELECT channel, status, count(*) FROM outbox GROUP BY 1, 2")
    assert {status for _, status, _ in statuses} == {"sent"}, f"{context}: {statuses}"
    # WhatsApp: each queued message (one part each here) reached Twilio's REST API once, with
    # the id the outbox recorded (live replies went in the webhooks' answers, unqueued).
    recorded = await rows(database, "SELECT provider_id FROM outbox WHERE channel = 'whatsapp'")
    through_rest = [m["Sid"] for m in twilio.messages if "Via" not in m]
    assert sorted(str(sid) for (sid,) in recorded) == sorted(through_rest), context
    # Telegram: each queued message reached its chat at least once, repeats only from kills.
    delivered = {
        (int(call.params["chat_id"]), str(call.result["message_id"])) for call in telegram.sent()
    }
    for recipient, provider_id in await rows(
        database, "SELECT recipient, provider_id FROM outbox WHERE channel = 'telegram'"
    ):
        assert (int(recipient), str(provider_id)) in delivered, context
    staff_texts = [call.params["text"] for call in telegram.sent(STAFF_CHAT)]
    for code in [str(code) for (code,) in await rows(database, "SELECT code FROM appointments")]:
        told_staff = sum(code in text for text in staff_texts)
        assert 1 <= told_staff <= 1 + server.kills, f"{context}: staff told of {code} x{told_staff}"
