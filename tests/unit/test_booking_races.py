"""Many users confirming the last place, moving into it and staff closing its day, at once.

Every round runs on a real database (a SQLite file, or a PostgreSQL schema of its own), through
the engine (the booking flow, the desk and the store), with the actors started in a random order
(seeded) and each one yielding to the others a random number of times before it acts. Whatever
the order, the capacity of every slot holds, nothing stays active on the closed day, staff are
told the true number of bookings cancelled and each of their users is told. The same runs again
with two connections to the one database, as two processes (two instances) would have."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.booking.notices import NoticeRouter
from bot.booking.reminders import StaffCancellations
from bot.booking.service import BookingDesk
from bot.content.catalog import Catalog
from bot.content.schema import Office
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore
from bot.i18n import Interface
from bot.reach import UNPROMPTED
from bot.storage.appointments import AppointmentStore
from bot.storage.db import Database
from bot.storage.outbox import Outbox
from tests.auxil.chat import Conversation
from tests.auxil.databases import drop_target, new_target, rows

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 25, 8, 0, tzinfo=ROME)  # a Wednesday
CLOSED = date(2026, 11, 30)  # Monday: Luino opens 09:00-12:30 and 14:00-16:00
LAST_PLACE = "20261130T0800"  # Monday 09:00 in Rome: capacity 2, one place already taken
LAST_PLACE_AT = datetime(2026, 11, 30, 8, 0, tzinfo=ZoneInfo("UTC"))
MOVERS_FROM = [
    datetime(2026, 12, 2, 9, 0, tzinfo=ROME) + timedelta(minutes=30 * n) for n in range(7)
]
CONFIRMERS, MOVERS = 16, 8
SEEDS = range(5)
USERS_WAIT, CLOSER_WAIT = 200, 300  # the most times each yields to the others before acting
WENT_WRONG = "Scusa, qualcosa è andato storto"


@dataclass
class Counter:
    """One side of the counter: a desk and an engine on their own connection to the database."""

    desk: BookingDesk
    engine: Engine


@asynccontextmanager
async def counters(
    target: str, catalog: Catalog, interface: Interface, connections: int
) -> AsyncIterator[list[Counter]]:
    async with AsyncExitStack() as stack:
        made = []
        for _ in range(connections):
            database = await stack.enter_async_context(Database(target))
            router = NoticeRouter(staff=[("staff", "group")], channels={"test": UNPROMPTED})
            desk = BookingDesk(
                AppointmentStore(database),
                ROME,
                clock=lambda: NOW,
                queue=Outbox(database),
                router=router,
                # Users are told of the closure as in production: with the free times left.
                user_notices=StaffCancellations(lambda: catalog, interface),
            )
            engine = Engine(lambda: catalog, MemoryStateStore(), interface, desk=desk)
            made.append(Counter(desk, engine))
        yield made


async def up_to_the_summary(chat: Conversation) -> None:
    """A user who chose the last place and gave a name and phone: one tap from booking it."""
    await chat.start(hint="it")
    await chat.press("bk:svc:permit_renewal")
    await chat.press(f"bk:day:{CLOSED.isoformat()}")
    await chat.press(f"bk:time:{LAST_PLACE}")
    await chat.send("Amina Rossi")
    await chat.send("333 1234567")
    assert chat.ids()[0] == "bk:confirm"


async def up_to_the_times(chat: Conversation, desk: BookingDesk, start: datetime) -> None:
    """A user with a booking on Wednesday who is moving it: Monday's times are shown."""
    booked = await desk.store.book(**made_before(start, chat.user_id), now=NOW)
    await chat.start(hint="it")
    await chat.press(f"bk:move:{booked.code}")
    await chat.press(f"bk:day:{CLOSED.isoformat()}")
    assert f"bk:time:{LAST_PLACE}" in chat.ids()


def made_before(start: datetime, user: str) -> dict[str, Any]:
    """The store's arguments for a booking made before the round."""
    return {
        "office": "luino",
        "service": "permit_renewal",
        "starts_at": start,
        "ends_at": start + timedelta(minutes=30),
        "capacity": 2,
        "max_active": 2,
        "channel": "test",
        "user_id": user,
        "name": "Bob Verdi",
        "phone": "+393330000000",
        "language": "it",
        "code_prefix": "LU",
    }


async def jittered(rng: random.Random, act: Callable[[], Awaitable[object]], most: int) -> object:
    """``act`` after yielding to the others up to ``most`` times."""
    for _ in range(rng.randrange(most + 1)):
        await asyncio.sleep(0)
    return await act()


async def one_round(
    tmp_path: Path, catalog: Catalog, interface: Interface, seed: int, connections: int
) -> None:
    rng = random.Random(seed)
    target = new_target(tmp_path, f"bot-{seed}-{connections}.sqlite3")
    try:
        async with counters(target, catalog, interface, connections) as sides:
            await race(sides, catalog, rng, connections, seed)
    finally:
        drop_target(target)


async def race(
    sides: list[Counter], catalog: Catalog, rng: random.Random, connections: int, seed: int
) -> None:
    first = sides[0].desk
    await first.store.book(**made_before(LAST_PLACE_AT, "holder"), now=NOW)  # one left
    confirmers = [
        Conversation(sides[n % connections].engine, user_id=f"confirmer{n}")
        for n in range(CONFIRMERS)
    ]
    movers = [
        Conversation(sides[n % connections].engine, user_id=f"mover{n}") for n in range(MOVERS)
    ]
    for chat in confirmers:
        await up_to_the_summary(chat)
    for n, chat in enumerate(movers):
        await up_to_the_times(chat, sides[n % connections].desk, MOVERS_FROM[n // 2])

    closer = rng.choice(sides).desk
    actions: list[tuple[Callable[[], Awaitable[object]], int]] = [
        *((lambda chat=chat: chat.press("bk:confirm"), USERS_WAIT) for chat in confirmers),
        *((lambda chat=chat: chat.press(f"bk:time:{LAST_PLACE}"), USERS_WAIT) for chat in movers),
        # Staff close the day before, among or after the users' taps.
        (lambda: closing(closer, catalog), CLOSER_WAIT),
    ]
    rng.shuffle(actions)
    results = await asyncio.gather(*(jittered(rng, act, most) for act, most in actions))

    (report,) = [result for result in results if isinstance(result, int)]
    context = f"seed {seed}, {connections} connection(s): {report}"
    users = [*confirmers, *movers]
    # A busy database is waited for, on one connection or two: nobody is failed.
    assert not any(chat.last and WENT_WRONG in chat.last.text for chat in users), context
    await assert_the_rules_held(first, catalog.offices[0], report, users, context)


async def assert_the_rules_held(
    desk: BookingDesk, office: Office, report: int, users: list[Conversation], context: str
) -> None:
    """Capacity, closures, the staff's count, the users told, and every answer true."""
    assert office.booking is not None
    every = await desk.store.between(
        datetime.combine(NOW.date(), time(0), ROME), NOW + timedelta(days=60), statuses=None
    )
    on_closed_day = [a for a in every if a.starts_at.astimezone(ROME).date() == CLOSED]
    # Closures hold: nothing active on the closed day, and no free time offered on it.
    assert [a.code for a in on_closed_day if a.status != "cancelled"] == [], context
    assert all(slot.start.date() != CLOSED for slot in await desk.slots(office)), context
    # Staff are told the true count: every booking the day had, the holder's included.
    assert on_closed_day, context
    assert report == len(on_closed_day), context
    # And each of those users is told, once.
    assert isinstance(desk.queue, Outbox)
    told = [
        json.loads(payload)["notice"]["text"]
        for (payload,) in await rows(
            desk.queue._db,
            "SELECT payload FROM outbox WHERE channel = 'test' AND status = 'pending' ORDER BY id",
        )
    ]
    for appointment in on_closed_day:
        assert sum(appointment.code in text for text in told) == 1, (appointment.code, context)
    # The last place was given once at most: nobody cancelled a booking but the closure,
    # and after it nothing could be booked that day.
    at_last_place = [a.code for a in every if a.starts_at == LAST_PLACE_AT]
    assert len(at_last_place) <= office.booking.capacity, context
    # Capacity holds in every slot, and no user holds more than allowed.
    active = [a for a in every if a.status == "active"]
    for start in {a.starts_at for a in active}:
        assert sum(a.starts_at == start for a in active) <= office.booking.capacity, context
    for user in {a.user_id for a in active}:
        assert sum(a.user_id == user for a in active) <= office.booking.max_active, context
    # A mover not moved still has their Wednesday booking.
    assert sum(a.user_id.startswith("mover") for a in every) == MOVERS, context
    # Every answer is true: booked or moved there, or not (and told why).
    for chat in users:
        assert chat.last is not None
        said = chat.last.text
        if "è prenotato" in said or "è spostato" in said:
            code = "LU-" + said.split("LU-", 1)[1][:4]
            (mine,) = [a for a in every if a.code == code]
            assert mine.user_id == chat.user_id and mine.starts_at == LAST_PLACE_AT, context
        else:
            assert "quell'orario" in said, (said, context)
            there = [a for a in every if a.user_id == chat.user_id and a.starts_at == LAST_PLACE_AT]
            assert there == [], context


async def closing(desk: BookingDesk, catalog: Catalog) -> int:
    """``/chiudi`` for the day. Two connections to one SQLite file may find it busy: the store
    waits and tries again (issue #16, item 3), so staff never see an error for it; on
    PostgreSQL it waits for the writers' lock."""
    return await desk.close(catalog, CLOSED, CLOSED)


@pytest.mark.parametrize("connections", [1, 2])
async def test_confirming_moving_and_closing_at_once_keep_capacity_and_closures(
    tmp_path: Path, catalog: Catalog, interface: Interface, connections: int
) -> None:
    for seed in SEEDS:
        await one_round(tmp_path, catalog, interface, seed, connections)
