"""Appointments, on SQLite and PostgreSQL: capacity under concurrency, double taps, limits,
move and cancel."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.storage.appointments import AppointmentStore
from bot.storage.db import Database
from bot.storage.records import (
    CODE_ALPHABET,
    Appointment,
    Notice,
    SlotFull,
    SlotGone,
    TooManyBookings,
)
from tests.auxil.databases import rows

ROME = ZoneInfo("Europe/Rome")
START = datetime.now(ROME).replace(microsecond=0, second=0) + timedelta(days=3)
END = START + timedelta(minutes=30)


@pytest.fixture
def store(database: Database) -> AppointmentStore:
    return AppointmentStore(database)


async def pending(database: Database, channel: str) -> list[dict[str, Any]]:
    """The notices queued for ``channel`` and not sent yet, oldest first."""
    found = await rows(
        database,
        "SELECT payload FROM outbox WHERE channel = :channel AND status = 'pending' ORDER BY id",
        channel=channel,
    )
    return [json.loads(payload)["notice"] for (payload,) in found]


def booking(user: str, **changes: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "office": "luino",
        "service": "permit_renewal",
        "starts_at": START,
        "ends_at": END,
        "capacity": 2,
        "max_active": 2,
        "channel": "test",
        "user_id": user,
        "name": "Amina",
        "phone": "+390000000",
        "language": "it",
        "code_prefix": "LU",
    }
    arguments.update(changes)
    return arguments


async def test_fifty_people_at_once_never_overfill_a_slot(store: AppointmentStore) -> None:
    results = await asyncio.gather(
        *(store.book(**booking(f"user{i}")) for i in range(50)), return_exceptions=True
    )
    booked = [result for result in results if not isinstance(result, BaseException)]
    assert len(booked) == 2
    assert all(
        isinstance(result, SlotFull) for result in results if isinstance(result, BaseException)
    )
    assert (await store.taken("luino", START - timedelta(days=1))) == {
        START.astimezone(ZoneInfo("UTC")): 2
    }


async def test_a_double_tap_books_once(store: AppointmentStore) -> None:
    first, second = await asyncio.gather(
        store.book(**booking("amina")), store.book(**booking("amina"))
    )
    assert first.code == second.code
    assert len(await store.active_for("test", "amina")) == 1


async def test_codes_are_short_and_unambiguous(store: AppointmentStore) -> None:
    appointment = await store.book(**booking("amina"))
    prefix, code = appointment.code.split("-")
    assert prefix == "LU" and len(code) == 4 and set(code) <= set(CODE_ALPHABET)
    assert (await store.by_code(appointment.code.lower())) == appointment


async def test_per_user_limit(store: AppointmentStore) -> None:
    await store.book(**booking("amina"))
    await store.book(
        **booking("amina", starts_at=START + timedelta(hours=1), ends_at=END + timedelta(hours=1))
    )
    with pytest.raises(TooManyBookings):
        await store.book(
            **booking(
                "amina", starts_at=START + timedelta(hours=2), ends_at=END + timedelta(hours=2)
            )
        )


async def test_move_keeps_the_code_and_respects_capacity(store: AppointmentStore) -> None:
    mine = await store.book(**booking("amina"))
    later = START + timedelta(hours=1)
    await store.book(
        **booking("bob", starts_at=later, ends_at=later + timedelta(minutes=30), capacity=1)
    )
    with pytest.raises(SlotFull):
        await store.move(
            mine.code,
            "test",
            "amina",
            later,
            later + timedelta(minutes=30),
            capacity=1,
            max_active=2,
        )
    other = START + timedelta(hours=2)
    assert await store.move(
        mine.code, "test", "amina", other, other + timedelta(minutes=30), capacity=1, max_active=2
    )
    moved = await store.by_code(mine.code)
    assert moved is not None and moved.starts_at == other.astimezone(ZoneInfo("UTC"))
    assert not await store.move(
        mine.code, "test", "someone else", START, END, capacity=1, max_active=2
    )


async def no_notices(appointment: Appointment) -> list[Notice]:
    return []


async def test_a_closed_day_refuses_bookings_and_moves_in_the_same_transaction(
    store: AppointmentStore,
) -> None:
    mine = await store.book(**booking("amina"))
    tomorrow = START + timedelta(days=1)
    closed = await store.close_days([tomorrow.date()], ROME, no_notices)
    assert closed == []
    with pytest.raises(SlotGone):
        await store.book(**booking("bob", starts_at=tomorrow, ends_at=tomorrow))
    with pytest.raises(SlotGone):
        await store.move(mine.code, "test", "amina", tomorrow, tomorrow, capacity=2, max_active=2)
    assert await store.active_for("test", "bob") == []
    (kept,) = await store.active_for("test", "amina")
    assert kept.starts_at == START  # not moved into the closed day


async def test_closing_a_day_cancels_its_bookings_with_their_notices(
    store: AppointmentStore,
) -> None:
    first = await store.book(**booking("amina"))
    second = await store.book(**booking("bob"))
    elsewhere = await store.book(
        **booking("carla", starts_at=START + timedelta(days=1), ends_at=END + timedelta(days=1))
    )

    async def tell(appointment: Appointment) -> list[Notice]:
        assert appointment.status == "cancelled"
        return [Notice("test", appointment.user_id, f"Chiuso {appointment.code}", "closed")]

    cancelled = await store.close_days([START.date()], ROME, tell)
    assert sorted(a.code for a in cancelled) == sorted([first.code, second.code])
    assert await store.closures() == frozenset({START.date()})
    assert [a.code for a in await store.active_for("test", "carla")] == [elsewhere.code]
    assert await store.active_for("test", "amina") == []
    told = {notice["text"] for notice in await pending(store._db, "test")}
    assert told == {f"Chiuso {first.code}", f"Chiuso {second.code}"}
    assert await store.close_days([START.date()], ROME, tell) == []  # closed once


async def test_a_move_respects_the_limit_and_moves_only_what_is_to_come(
    store: AppointmentStore,
) -> None:
    earlier = START - timedelta(hours=3)
    times = [START + timedelta(hours=hours) for hours in (0, 1, 2)]
    codes = [
        (
            await store.book(**booking("amina", starts_at=t, ends_at=t, max_active=3), now=earlier)
        ).code
        for t in times
    ]
    target = START + timedelta(days=1)
    with pytest.raises(TooManyBookings):  # the limit is 2 now: two others are to come
        await store.move(
            codes[0], "test", "amina", target, target, capacity=2, max_active=2, now=earlier
        )
    # At 10:30 the first has begun: moving it to tomorrow would add one to come.
    begun = START + timedelta(minutes=30)
    assert not await store.move(
        codes[0], "test", "amina", target, target, capacity=2, max_active=3, now=begun
    )
    assert await store.move(
        codes[1], "test", "amina", target, target, capacity=2, max_active=3, now=begun
    )


async def test_cancel_frees_the_place(store: AppointmentStore) -> None:
    mine = await store.book(**booking("amina", capacity=1))
    with pytest.raises(SlotFull):
        await store.book(**booking("bob", capacity=1))
    assert not await store.cancel(mine.code, "test", "bob")  # only the owner
    assert await store.cancel(mine.code, "test", "amina")
    assert (await store.book(**booking("bob", capacity=1))).user_id == "bob"


async def test_a_booking_and_its_notices_are_stored_together_or_not_at_all(
    store: AppointmentStore,
) -> None:
    def staff(booked: Appointment) -> list[Notice]:
        return [Notice("telegram", "-100", f"Nuovo {booked.code}", "staff", code=booked.code)]

    booked = await store.book(**booking("u1"), notices=staff)
    (queued,) = await pending(store._db, "telegram")
    assert queued["code"] == booked.code

    def broken(booked: Appointment) -> list[Notice]:
        raise RuntimeError("a notice could not be written")

    with pytest.raises(RuntimeError):
        await store.book(**booking("u2"), notices=broken)
    assert await store.active_for("test", "u2") == []  # no booking without its notice
    assert len(await pending(store._db, "telegram")) == 1

    # A double tap: the booking exists already, and its notice is not queued twice.
    await store.book(**booking("u1"), notices=staff)
    assert len(await pending(store._db, "telegram")) == 1

    cancelled = [Notice("telegram", "-100", f"Annullato {booked.code}", "staff")]
    assert await store.cancel(booked.code, "test", "u1", cancelled)
    assert not await store.cancel(booked.code, "test", "u1", cancelled)  # once
    assert len(await pending(store._db, "telegram")) == 2


async def test_a_read_stays_whole_while_another_coroutine_writes(store: AppointmentStore) -> None:
    """Writes from other coroutines while a query's rows are read (here, cancellations of the
    slots it counts) must not garble them."""
    starts = [START + timedelta(minutes=30 * n) for n in range(20)]
    codes = [
        (await store.book(**booking(f"user{n}", starts_at=start, ends_at=start))).code
        for n, start in enumerate(starts)
    ]

    async def cancel(code: str) -> None:
        await rows(
            store._db, "UPDATE appointments SET status = 'cancelled' WHERE code = :code", code=code
        )

    taken, *_ = await asyncio.gather(
        store.taken("luino", START - timedelta(days=1)), *(cancel(code) for code in codes)
    )
    assert taken == {start.astimezone(ZoneInfo("UTC")): 1 for start in starts}


async def test_the_notices_of_a_closure_see_the_day_closed_and_its_places_free(
    store: AppointmentStore,
) -> None:
    """What ``close_days`` asks its notices for (the free times left) is read inside its
    transaction: the day is closed there, and its bookings no longer take places."""
    await store.book(**booking("amina"))
    other = AppointmentStore(store._db)  # the desk's store, say: the same database
    seen: list[tuple[frozenset[Any], dict[datetime, int]]] = []

    async def tell(appointment: Appointment) -> list[Notice]:
        seen.append((await other.closures(), await other.taken("luino", START - timedelta(days=1))))
        return []

    await store.close_days([START.date()], ROME, tell)
    assert seen == [(frozenset({START.date()}), {})]
