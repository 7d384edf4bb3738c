"""Monitoring events: what is recorded, pseudonyms and their yearly salt, append-only, erasure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import DBAPIError

from bot.monitoring.events import Monitor
from bot.storage.db import Database
from bot.storage.events import EventStore
from bot.storage.records import Appointment, Event
from bot.storage.retention import erase_user, purge
from tests.auxil.databases import rows

NOW = datetime(2026, 11, 25, 10, 47, 31, tzinfo=UTC)


async def test_a_topic_read_is_recorded_by_the_hour_with_a_pseudonym(database: Database) -> None:
    store = EventStore(database)
    monitor = Monitor(store, clock=lambda: NOW)
    await monitor.topic("telegram", "12345", "ar", "permit_renewal", "permits")
    (event,) = await store.between(NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert event.hour == datetime(2026, 11, 25, 10, tzinfo=UTC)  # minutes are never kept
    assert (event.kind, event.action, event.channel, event.language) == (
        "topic",
        "opened",
        "telegram",
        "ar",
    )
    assert (event.area, event.topic) == ("permits", "permit_renewal")
    assert event.user is not None and len(event.user) == 16
    assert "12345" not in event.user
    (stored,) = await rows(database, "SELECT * FROM events")
    assert "12345" not in repr(stored)  # the user id is nowhere in the row


async def test_the_same_person_has_one_pseudonym_a_year(database: Database) -> None:
    store = EventStore(database)
    first = await store.pseudonym("telegram:1", 2026)
    assert await store.pseudonym("telegram:1", 2026) == first
    assert await store.pseudonym("telegram:2", 2026) != first
    assert await store.pseudonym("whatsapp:1", 2026) != first


async def test_a_new_year_brings_a_new_salt_and_deletes_the_old_one(database: Database) -> None:
    store = EventStore(database)
    old = await store.pseudonym("telegram:1", 2026)
    new = await store.pseudonym("telegram:1", 2027)
    assert new != old
    assert await rows(database, "SELECT year FROM event_salts") == [(2027,)]
    # A fresh process (no cached salt) cannot recompute last year's pseudonym either.
    assert await EventStore(database).pseudonym("telegram:1", 2026) == new
    # A clock that goes back uses the newest salt, never a resurrected one.
    assert await rows(database, "SELECT year FROM event_salts") == [(2027,)]


async def test_events_are_append_only(database: Database) -> None:
    await Monitor(EventStore(database), clock=lambda: NOW).desk("permits", "ar", "desk")
    with pytest.raises(DBAPIError, match="append-only"):
        await rows(database, "DELETE FROM events")
    with pytest.raises(DBAPIError, match="append-only"):
        await rows(database, "UPDATE events SET language = 'it'")


async def test_events_survive_erasure_and_retention_and_hold_nothing_personal(
    database: Database,
) -> None:
    store = EventStore(database)
    monitor = Monitor(store, clock=lambda: NOW)
    appointment = Appointment(
        code="LU-4K7P",
        office="luino",
        service="permit_renewal",
        starts_at=NOW + timedelta(days=2),
        ends_at=NOW + timedelta(days=2, minutes=30),
        channel="telegram",
        user_id="12345",
        name="Amina Haddad",
        phone="+393331234567",
        language="ar",
        status="active",
    )
    await monitor.booking("made", appointment)
    await monitor.question("telegram", "12345", "ar", "unanswered", None, None)
    await monitor.topic("telegram", "777", "it", "permit_renewal", "permits")  # someone else
    before = await store.between(NOW - timedelta(days=1), NOW + timedelta(days=1))
    pseudonym = await store.pseudonym("telegram:12345", NOW.year)
    assert [e.user == pseudonym for e in before] == [True, True, False]
    await erase_user(database, "telegram", "12345")
    await purge(database, retention_days=0)
    events = await store.between(NOW - timedelta(days=1), NOW + timedelta(days=1))
    assert [(e.kind, e.action) for e in events] == [
        ("booking", "made"),
        ("question", "unanswered"),
        ("topic", "opened"),
    ]
    # Still one person behind the first two events, but no longer one that the key and the
    # user id lead to; the other person's events are untouched.
    assert events[0].user == events[1].user != pseudonym
    assert events[0].user is not None and len(events[0].user) == 16
    assert events[2].user == before[2].user
    stored = repr(await rows(database, "SELECT * FROM events"))
    for personal in ("Amina", "3331234567", "12345", "LU-4K7P"):
        assert personal not in stored


@pytest.mark.parametrize("user_id", ["erased", "expired"])  # at their request, or by retention
async def test_a_booking_of_an_erased_user_has_no_pseudonym(
    database: Database, user_id: str
) -> None:
    store = EventStore(database)
    erased = Appointment(
        "LU-4K7P",
        "luino",
        "permit_renewal",
        NOW,
        NOW,
        "telegram",
        user_id,
        None,
        None,
        "ar",
        "attended",
    )
    await Monitor(store, clock=lambda: NOW).booking("attended", erased)
    (event,) = await store.between(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert event.user is None
    assert (event.service, event.office) == ("permit_renewal", "luino")


async def test_handover_events_carry_the_response_time(database: Database) -> None:
    store = EventStore(database)
    monitor = Monitor(store, clock=lambda: NOW)
    await monitor.handover_requested("whatsapp", "+39333", "fr")
    await monitor.handover_answered("whatsapp", "+39333", "fr", seconds=421.6)
    requested, answered = await store.between(NOW - timedelta(hours=1), NOW + timedelta(hours=1))
    assert (requested.action, requested.seconds) == ("requested", None)
    assert (answered.action, answered.seconds) == ("answered", 422)
    assert requested.user == answered.user


async def test_a_failing_sink_never_breaks_the_caller(caplog: pytest.LogCaptureFixture) -> None:
    class Broken:
        async def record(self, event: Event, person: str | None) -> None:
            raise OSError("disk full")

    await Monitor(Broken(), clock=lambda: NOW).desk("permits", "ar", "phone")
    assert "could not be recorded" in caplog.text
