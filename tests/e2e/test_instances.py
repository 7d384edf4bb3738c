"""Three ``sportello serve`` on one database, one of them killed with SIGKILL midway: a
SQLite file, or a PostgreSQL schema in the suite's PostgreSQL half (``database_target``).

Telegram runs in webhook mode against the fake Bot API; the test plays Telegram and a load
balancer: each update goes to one of the instances in turn, and to the next one if that one
does not acknowledge it (killed). 200 users book at once. The first instance starts alone,
so it holds every lease (the outbox, the reminders, ...); it is the one killed, once half the
users are done, with staff notices and users' turns in its hands. Afterwards:

- every booking a user was told of exists once, and nobody holds more bookings than the
  confirmations they sent; no slot holds more people than its capacity;
- every update acknowledged was processed (those the killed instance held, by another one),
  and the outbox is empty: every staff notice reached the staff group (a notice on its way at
  the kill may arrive twice: the Bot API cannot say what went);
- the reminders, due before the kill, went once each, though three instances run the loop
  and another instance took it over from the killed one.
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
from collections import defaultdict
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.exc import DBAPIError

from bot.storage.db import Database
from tests.auxil.databases import rows
from tests.auxil.fake_telegram import Call, FakeTelegram, free_port, serve
from tests.auxil.serve_process import serve_environment, start_serve
from tests.auxil.waiting import wait_until

SEED = int(os.environ.get("SPORTELLO_INSTANCES_SEED", "20261130"))
USERS = range(10_001, 10_201)  # 200 Telegram users
AT_ONCE = 25  # users in the middle of a booking at any moment
REMINDED = range(9_001, 9_021)  # users with an appointment tomorrow
STAFF_CHAT = -1001111111111
STAFF_USER = 900
SECRET = "the-webhook-secret-of-every-instance"
STEP_SECONDS = 20.0  # a reply this late was lost in the kill: the user starts again
ATTEMPTS = 3
CAPACITY = 2  # the fixture's Luino office: two people a slot
DATA = Path(__file__).parent.parent / "data"
CODE = re.compile(r"LU-[0-9A-Z]{4}")
_update_ids = itertools.count(1)


class NoAnswer(Exception):
    """A step got no answer in time: lost with the killed instance."""


class Instance:
    """One ``sportello serve`` process on the shared database."""

    def __init__(self, name: str, environment: dict[str, str], folder: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.environment = {
            **environment,
            "PORT": str(self.port),
            "TELEGRAM_WEBHOOK_URL": f"{self.base}/telegram",
        }
        self.log = folder / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await start_serve(self.environment, self.log)

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def health(self) -> dict[str, Any]:
        async with httpx.AsyncClient() as client:
            return dict((await client.get(f"{self.base}/healthz", timeout=5)).json())

    async def ready(self) -> None:
        for _ in range(1200):
            with contextlib.suppress(httpx.TransportError, ValueError):
                if (await self.health()).get("telegram_connected"):
                    return
            await asyncio.sleep(0.05)
        raise AssertionError(f"{self.log.name} never got ready:\n{self.tail()}")

    async def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    def pause(self, paused: bool) -> None:
        """Freeze the process where it is (SIGSTOP), or let it go on (SIGCONT)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP if paused else signal.SIGCONT)

    async def stop(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return await asyncio.wait_for(self.process.wait(), 60)

    def tail(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


def _update(name: str, user: int, **fields: Any) -> dict[str, Any]:
    """A recorded Telegram update from ``user`` with a new id, some fields changed."""
    payload: dict[str, Any] = copy.deepcopy(
        json.loads((DATA / "telegram" / f"{name}.json").read_text(encoding="utf-8"))
    )
    body = next(value for key, value in payload.items() if key != "update_id")
    body["from"]["id"] = user
    chat = body.get("chat") or body["message"]["chat"]
    chat["id"] = user
    body.update(fields)
    return {**payload, "update_id": next(_update_ids)}


class Telegram:
    """Delivers updates as Telegram does to webhooks behind a load balancer: to one
    instance, and again to another while none acknowledges it."""

    def __init__(self, fake: FakeTelegram, instances: list[Instance]) -> None:
        self.fake = fake
        self.instances = instances
        self.turn = itertools.count()
        self.acknowledged: list[int] = []
        self.to_chat: dict[int, list[Call]] = defaultdict(list)
        fake.listeners.append(self._record)
        self.client = httpx.AsyncClient()

    def _record(self, call: Call) -> None:
        if call.method == "sendMessage":
            self.to_chat[int(call.params["chat_id"])].append(call)

    async def deliver(self, update: dict[str, Any]) -> None:
        for _ in range(200):
            living = [instance for instance in self.instances if instance.alive]
            instance = living[next(self.turn) % len(living)]
            with contextlib.suppress(httpx.TransportError):
                response = await self.client.post(
                    f"{instance.base}/telegram",
                    json=update,
                    headers={"X-Telegram-Bot-Api-Secret-Token": SECRET},
                    timeout=10,
                )
                if response.status_code == 200:
                    self.acknowledged.append(int(update["update_id"]))
                    return
            await asyncio.sleep(0.1)
        raise AssertionError(f"update {update['update_id']} was never acknowledged")

    async def step(self, user: int, update: dict[str, Any]) -> list[Call]:
        before = len(self.to_chat[user])
        await self.deliver(update)
        try:
            await wait_until(lambda: len(self.to_chat[user]) > before, STEP_SECONDS, str)
        except AssertionError as error:
            raise NoAnswer from error
        await asyncio.sleep(0.2)  # a reply of several messages
        return self.to_chat[user][before:]


def _buttons(calls: list[Call], prefix: str) -> list[str]:
    for call in reversed(calls):
        rows = (call.params.get("reply_markup") or {}).get("inline_keyboard") or []
        found = [button["callback_data"] for row in rows for button in row]
        found = [data for data in found if data.startswith(prefix)]
        if found:
            return found
    return []


class People:
    """Users booking, as patient as people are: a step without an answer for a while (lost
    with the killed instance) makes them start again."""

    def __init__(self, telegram: Telegram) -> None:
        self.telegram = telegram
        self.confirms: dict[int, int] = defaultdict(int)
        self.codes: dict[int, list[str]] = {}
        self.done = 0

    async def book(self, user: int, rng: random.Random) -> None:
        step = self.telegram.step
        try:
            for _ in range(ATTEMPTS):
                try:
                    await step(user, _update("command_start", user))
                    calls = await step(
                        user, _update("callback_query", user, data="bk:svc:permit_renewal")
                    )
                    days = _buttons(calls, "bk:day:")
                    if not days:
                        return  # every slot is taken: nothing to book
                    calls = await step(user, _update("callback_query", user, data=rng.choice(days)))
                    times = _buttons(calls, "bk:time:")
                    if not times:
                        continue  # the day filled up meanwhile: from the start
                    await step(user, _update("callback_query", user, data=rng.choice(times)))
                    await step(user, _update("message_text", user, text="Amina Rossi"))
                    await step(user, _update("message_text", user, text="333 1234567"))
                    self.confirms[user] += 1
                    told = await step(user, _update("callback_query", user, data="bk:confirm"))
                except NoAnswer:
                    continue
                codes = [code for call in told for code in CODE.findall(call.params["text"])]
                if codes:
                    self.codes[user] = codes
                    return
                # "That time is no longer free": someone else took the last place first.
        finally:
            self.done += 1


async def _appointments_tomorrow(db: Database) -> list[str]:
    """An appointment tomorrow for each of ``REMINDED``, whose reminder is due at once."""
    rome = ZoneInfo("Europe/Rome")
    tomorrow = datetime.now(rome).date() + timedelta(days=1)
    starts = datetime.combine(tomorrow, time(10), rome).astimezone(ZoneInfo("UTC"))
    codes = []
    for index, user in enumerate(REMINDED):
        code = f"LU-R{index:03d}"
        codes.append(code)
        await rows(
            db,
            "INSERT INTO appointments (code, office, service, starts_at, ends_at, channel, "
            "user_id, name, phone, language, created_at, updated_at) "
            "VALUES (:code, 'luino', 'permit_renewal', :starts, :ends, 'telegram', :user, "
            "'Amina Rossi', '+393331234567', 'it', 0, 0)",
            code=code,
            starts=starts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            ends=(starts + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            user=str(user),
        )
    return codes


#: Work in an instance's hands: updates it stored and has not answered, notices on their way
#: (only the outbox's lease holder sends).
IN_HAND = (
    "SELECT (SELECT count(*) FROM inbound_updates WHERE holder = :holder) + "
    "(SELECT count(*) FROM outbox WHERE status = 'pending' AND sending_since IS NOT NULL)"
)


async def _in_hand(db: Database, holder: str, seconds: float) -> None:
    """Wait until ``holder`` has work in hand (at most ``seconds``)."""
    for _ in range(int(seconds / 0.002)):
        with contextlib.suppress(DBAPIError):  # SQLite busy: look again
            if (await rows(db, IN_HAND, holder=holder))[0][0]:
                return
        await asyncio.sleep(0.002)


async def _frozen_in_hand(db: Database, instance: Instance, holder: str) -> None:
    """Freeze ``instance`` at a moment it has work in hand, so that the kill which follows
    hits it: work seen in hand may be done a millisecond later, before a signal arrives."""
    for _ in range(100):
        await _in_hand(db, holder, 10)
        instance.pause(True)
        with contextlib.suppress(DBAPIError):  # SQLite busy: try another moment
            if (await rows(db, IN_HAND, holder=holder))[0][0]:
                return
        instance.pause(False)


async def _settled(db: Database, seconds: float) -> None:
    """Wait until nothing stored is left to process or to send."""
    async with asyncio.timeout(seconds):
        while True:
            with contextlib.suppress(DBAPIError):  # SQLite busy: look again
                waiting = (
                    await rows(
                        db,
                        "SELECT (SELECT count(*) FROM outbox WHERE status = 'pending') + "
                        "(SELECT count(*) FROM inbound_updates)",
                    )
                )[0][0]
                if waiting == 0:
                    return
            await asyncio.sleep(0.2)


async def test_three_instances_one_killed_book_once_within_capacity_and_notify_everyone(
    tmp_path: Path, database_target: str
) -> None:
    async with Database(database_target) as database:  # the test's own reads and writes
        await _three_instances_one_killed(tmp_path, database_target, database)


async def _three_instances_one_killed(tmp_path: Path, target: str, database: Database) -> None:
    rng = random.Random(SEED)
    reminder_codes = await _appointments_tomorrow(database)
    fake = FakeTelegram()
    fake.chats[STAFF_CHAT] = "administrator"
    async with serve(fake.app()) as api_url:
        environment = {
            **serve_environment(target, tmp_path, fake.token, api_url, STAFF_CHAT, STAFF_USER),
            "SPORTELLO_REMINDER_HOUR": "0",
            # A dead instance's jobs move within seconds (the test's patience), not 30.
            "SPORTELLO_LEASE_SECONDS": "3",
            "SPORTELLO_LEASE_RENEW_SECONDS": "1",
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "TELEGRAM_MAX_SENDS_PER_SECOND": "0",
        }
        first, *others = [Instance(name, environment, tmp_path) for name in ("a", "b", "c")]
        instances = [first, *others]
        telegram = Telegram(fake, instances)
        people = People(telegram)
        try:
            # The first alone: it takes every lease, then the others start beside it.
            await first.start()
            await first.ready()
            for instance in others:
                await instance.start()
            await asyncio.gather(*(instance.ready() for instance in others))
            leases = (await others[0].health())["leases"]
            killed = (await first.health())["instance"]
            assert leases["outbox:telegram"] == leases["reminders"] == killed
            await wait_until(
                lambda: all(telegram.to_chat[user] for user in REMINDED),
                30,
                lambda: "the reminders never all arrived",
            )
            room = asyncio.Semaphore(AT_ONCE)

            async def one(user: int, seed: float) -> None:
                async with room:
                    await people.book(user, random.Random(seed))

            booking = asyncio.gather(*(one(user, rng.random()) for user in USERS))
            await wait_until(lambda: people.done >= len(USERS) // 2, 120, lambda: "too slow")
            # In the middle, at a moment when it holds an update or sends a notice.
            await _frozen_in_hand(database, first, killed)
            await first.kill()
            held = await rows(
                database,
                "SELECT count(*) FROM inbound_updates WHERE holder = :holder",
                holder=killed,
            )
            sending = await rows(
                database, "SELECT count(*) FROM outbox WHERE sending_since IS NOT NULL"
            )
            async with asyncio.timeout(150):
                await booking
            await _settled(database, 60)
            for instance in others:
                assert await instance.stop() == 0, instance.tail()
        except BaseException:
            for instance in instances:
                if instance.alive:
                    await instance.kill()
            logs = "\n".join(f"--- {i.log.name}:\n{i.tail()}" for i in instances)
            raise AssertionError(f"seed {SEED}; the instances' logs:\n{logs}") from None
        finally:
            await telegram.client.aclose()

    # The kill hit work in hand: updates another instance took over, or notices on the wire.
    context = f"seed {SEED}, at the kill {held[0][0]} updates held, {sending[0][0]} sending"
    assert held[0][0] + sending[0][0] > 0, context
    # Every booking a user was told of exists once, theirs; no confirmation booked twice.
    told = {code: user for user, codes in people.codes.items() for code in codes}
    assert len(told) > 100, f"{context}: only {len(told)} bookings went through"
    for code, user in told.items():
        found = await rows(
            database, "SELECT status, user_id FROM appointments WHERE code = :code", code=code
        )
        assert found == [("active", str(user))], f"{context}: {code} {found}"
    held = await rows(
        database,
        "SELECT user_id, count(*) FROM appointments WHERE status = 'active' GROUP BY user_id",
    )
    for user, count in held:
        if int(user) not in REMINDED:
            assert count <= people.confirms[int(user)], f"{context}: {user} holds {count}"
    # No slot over its capacity, though users raced for the same ones on three instances.
    crowded = await rows(
        database,
        "SELECT starts_at, count(*) FROM appointments WHERE status = 'active' "
        "AND code NOT LIKE 'LU-R%' GROUP BY office, starts_at HAVING count(*) > :capacity",
        capacity=CAPACITY,
    )
    assert crowded == [], f"{context}: {crowded}"
    # Every update acknowledged was processed, by the instance that took it or, for those
    # the killed one held, by another one; nothing stored is left.
    seen = await rows(database, "SELECT message_id FROM inbound_seen")
    processed = {str(key) for (key,) in seen}
    unprocessed = [n for n in telegram.acknowledged if f"update:{n}" not in processed]
    assert unprocessed == [], f"{context}: {len(unprocessed)} updates never processed"
    assert await rows(database, "SELECT count(*) FROM inbound_updates") == [(0,)], context
    statuses = await rows(database, "SELECT status, count(*) FROM outbox GROUP BY 1")
    assert {status for status, _ in statuses} == {"sent"}, f"{context}: {statuses}"
    # Every staff notice reached the group: at most one repeat, the one on its way at the kill.
    staff_texts = [call.params["text"] for call in telegram.to_chat[STAFF_CHAT]]
    booked = await rows(database, "SELECT code FROM appointments WHERE code NOT LIKE 'LU-R%'")
    for (code,) in booked:
        told_staff = sum(str(code) in text for text in staff_texts)
        assert 1 <= told_staff <= 2, f"{context}: staff told of {code} x{told_staff}"
    # Each reminder went once, though every instance runs the loop and one took it over.
    for user, code in zip(REMINDED, reminder_codes, strict=True):
        texts = [call.params["text"] for call in telegram.to_chat[user]]
        assert len(texts) == 1 and code in texts[0], f"{context}: {user} got {texts}"
