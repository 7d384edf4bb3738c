"""The appointment requests table: states, the shared code, limits, retention and erasure."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.storage.appointments import AppointmentStore
from bot.storage.db import Database
from bot.storage.records import Notice, TooManyBookings
from bot.storage.requests import RequestStore
from bot.storage.retention import erase_user, purge
from tests.auxil.databases import rows

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
ROME = ZoneInfo("Europe/Rome")
LATER = NOW + timedelta(days=7)


def told(text: str) -> list[Notice]:
    return [Notice("telegram", "-100", text, "staff")]


async def make(store: RequestStore, user: str = "u1", service: str = "citizenship") -> str:
    request = await store.create(
        office="luino",
        service=service,
        channel="test",
        user_id=user,
        language="fr",
        speaks="fr",
        days=("mon", "wed"),
        part="morning",
        name="Amina Rossi",
        phone="+393331234567",
        code_prefix="LU",
        max_active=2,
        now=NOW,
        notices=lambda made: told(f"📝 Nuova richiesta {made.code}"),
    )
    return request.code


async def staff_texts(database: Database) -> list[str]:
    """The texts queued for staff and not sent yet, oldest first."""
    found = await rows(
        database,
        "SELECT payload FROM outbox WHERE channel = 'telegram' AND status = 'pending' ORDER BY id",
    )
    return [json.loads(payload)["notice"]["text"] for (payload,) in found]


async def test_a_request_waits_with_its_code_and_staff_are_told(database: Database) -> None:
    store = RequestStore(database)
    code = await make(store)
    request = await store.get(code)
    assert request is not None and code.startswith("LU-") and len(code) == 7
    assert (request.status, request.days, request.part, request.speaks) == (
        "open",
        ("mon", "wed"),
        "morning",
        "fr",
    )
    assert request.waiting_since == NOW and not request.rescheduling
    assert await staff_texts(database) == [f"📝 Nuova richiesta {code}"]
    assert [r.code for r in await store.of_user("test", "u1")] == [code]
    assert [r.code for r in await store.waiting()] == [code]


async def test_the_same_request_twice_is_one_and_the_limit_counts_appointments_too(
    database: Database,
) -> None:
    store = RequestStore(database)
    first = await make(store)
    assert await make(store) == first  # a double tap
    await AppointmentStore(database).book(
        office="luino",
        service="permit_renewal",
        starts_at=LATER,
        ends_at=LATER + timedelta(minutes=30),
        capacity=1,
        max_active=2,
        channel="test",
        user_id="u1",
        name=None,
        phone=None,
        language="fr",
        code_prefix="LU",
        now=NOW,
    )
    assert await store.held("test", "u1", NOW) == 2
    with pytest.raises(TooManyBookings):
        await make(store, service="a2_test")


async def test_a_code_held_by_an_appointment_is_never_given_to_a_request(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await AppointmentStore(database).book(
        office="luino",
        service="permit_renewal",
        starts_at=LATER,
        ends_at=LATER,
        capacity=1,
        max_active=2,
        channel="test",
        user_id="x",
        name=None,
        phone=None,
        language="it",
        code_prefix="LU",
        now=NOW,
    )
    (taken,) = await AppointmentStore(database).active_for("test", "x", NOW)
    letters = iter([*taken.code[3:], "C", "C", "C", "C"])
    monkeypatch.setattr("bot.storage.codes.secrets.choice", lambda alphabet: next(letters))
    assert await make(RequestStore(database)) == "LU-CCCC"


async def test_proposed_then_accepted_it_is_an_appointment_with_the_same_code(
    database: Database,
) -> None:
    store = RequestStore(database)
    code = await make(store)
    proposed = await store.propose(
        code, LATER, LATER + timedelta(minutes=45), NOW, lambda r: told(f"proposta {r.code}")
    )
    assert proposed is not None and proposed.status == "proposed"
    assert proposed.proposed_start == LATER
    assert (
        await store.accept(code, "test", "someone else", NOW, lambda a, moved: [], timezone=ROME)
        is None
    )
    accepted = await store.accept(
        code,
        "test",
        "u1",
        NOW,
        lambda a, moved: told(f"📅 Nuovo appuntamento {a.code}"),
        timezone=ROME,
    )
    assert accepted is not None
    appointment, moved = accepted
    assert (appointment.code, appointment.starts_at, moved) == (code, LATER, False)
    assert (appointment.name, appointment.phone) == ("Amina Rossi", "+393331234567")
    assert await AppointmentStore(database).by_code(code) == appointment
    request = await store.get(code)
    assert request is not None and (request.status, request.name, request.phone) == (
        "booked",
        None,
        None,
    )  # the appointment holds them now
    assert await store.of_user("test", "u1") == []
    assert (await staff_texts(database))[-1] == f"📅 Nuovo appuntamento {code}"


async def test_a_proposal_whose_time_has_passed_cannot_be_accepted(database: Database) -> None:
    store = RequestStore(database)
    code = await make(store)
    await store.propose(
        code, NOW + timedelta(hours=1), NOW + timedelta(hours=2), NOW, lambda r: told("proposta")
    )
    later = NOW + timedelta(hours=3)
    assert await store.accept(code, "test", "u1", later, lambda a, moved: [], timezone=ROME) is None
    assert [r.code for r in await store.proposed_before(later)] == [code]
    assert await store.reopen(code, later, told("scaduta"))
    request = await store.get(code)
    assert request is not None and (request.status, request.waiting_since) == ("open", later)


async def test_another_time_sends_the_request_back_to_staff(database: Database) -> None:
    store = RequestStore(database)
    code = await make(store)
    await store.propose(code, LATER, LATER, NOW, lambda r: told("proposta"))
    await store.mark_reminded(code, NOW, [])  # no longer open: nothing to remind
    assert not await store.reopen(code, NOW, [], owner=("test", "someone else"))
    later = NOW + timedelta(hours=1)
    assert await store.reopen(code, later, told("altro orario"), owner=("test", "u1"))
    request = await store.get(code)
    assert request is not None
    assert (request.status, request.proposed_start, request.waiting_since) == ("open", None, later)
    assert await store.mark_reminded(code, later, told("promemoria"))
    request = await store.get(code)
    assert request is not None and request.reminded_at == later


async def test_moving_an_appointment_made_from_a_request(database: Database) -> None:
    store = RequestStore(database)
    code = await make(store)
    await store.propose(code, LATER, LATER + timedelta(minutes=45), NOW, lambda r: told("proposta"))
    await store.accept(code, "test", "u1", NOW, lambda a, moved: [], timezone=ROME)
    assert await store.reschedule(code, "test", "u1", NOW, told("spostare"))
    request = await store.get(code)
    assert request is not None and request.status == "open" and request.rescheduling
    assert await store.held("test", "u1", NOW) == 1  # the appointment, counted once
    # Declined: the appointment stays as it was.
    await store.decline(code, NOW, lambda r: [])
    request = await store.get(code)
    assert request is not None and request.status == "booked"
    # Asked again, proposed and accepted: the same appointment, moved.
    await store.reschedule(code, "test", "u1", NOW, [])
    new_time = LATER + timedelta(days=1)
    await store.propose(
        code, new_time, new_time + timedelta(minutes=45), NOW, lambda r: told("proposta")
    )
    accepted = await store.accept(code, "test", "u1", NOW, lambda a, moved: [], timezone=ROME)
    assert accepted is not None and accepted[1] is True
    (appointment,) = await AppointmentStore(database).active_for("test", "u1", NOW)
    assert (appointment.code, appointment.starts_at) == (code, new_time)
    assert appointment.name == "Amina Rossi"


async def test_cancelling_the_appointment_ends_a_request_to_move_it(database: Database) -> None:
    store = RequestStore(database)
    code = await make(store)
    await store.propose(code, LATER, LATER, NOW, lambda r: told("proposta"))
    await store.accept(code, "test", "u1", NOW, lambda a, moved: [], timezone=ROME)
    await store.reschedule(code, "test", "u1", NOW, [])
    assert await AppointmentStore(database).cancel(code, "test", "u1")
    request = await store.get(code)
    assert request is not None and request.status == "booked"
    assert await store.waiting() == []  # staff are not asked to move a cancelled appointment


async def test_withdrawn_and_declined_requests_keep_no_name_or_phone(database: Database) -> None:
    store = RequestStore(database)
    first = await make(store)
    second = await make(store, service="a2_test")
    withdrawn = await store.withdraw(first, "test", "u1", NOW, lambda r: told(f"ritirata {r.code}"))
    assert withdrawn is not None and withdrawn.name == "Amina Rossi"  # for the staff notice
    await store.decline(second, NOW, lambda r: [])
    for code, status in ((first, "withdrawn"), (second, "declined")):
        request = await store.get(code)
        assert request is not None
        assert (request.status, request.name, request.phone) == (status, None, None)
    assert await store.withdraw(first, "test", "u1", NOW, lambda r: []) is None


async def test_retention_closes_old_requests_and_forgets_who_made_them(
    database: Database,
) -> None:
    store = RequestStore(database)
    old_open = await make(store)
    old_closed = await make(store, service="a2_test")
    await store.decline(old_closed, NOW, lambda r: [])
    long_ago = time.time() - 100 * 86_400
    await rows(
        database,
        "UPDATE appointment_requests SET waiting_since = :long_ago, updated_at = :long_ago",
        long_ago=long_ago,
    )
    fresh = await make(store, user="u2")
    removed = await purge(database, retention_days=90)
    assert (removed["requests_expired"], removed["request_contacts"]) == (1, 1)
    expired = await store.get(old_open)
    closed = await store.get(old_closed)
    kept = await store.get(fresh)
    assert expired is not None and closed is not None and kept is not None
    assert (expired.status, expired.name, expired.user_id) == ("expired", None, "expired")
    assert (closed.status, closed.user_id) == ("declined", "expired")
    assert (kept.status, kept.name) == ("open", "Amina Rossi")


async def test_erasure_withdraws_requests_and_removes_what_staff_were_sent(
    database: Database,
) -> None:
    store = RequestStore(database)
    code = await make(store)
    other = await make(store, user="u2")
    cancelled = await erase_user(database, "test", "u1")
    assert cancelled == [code]
    request = await store.get(code)
    assert request is not None
    assert (request.status, request.name, request.phone, request.user_id) == (
        "withdrawn",
        None,
        None,
        "erased",
    )
    assert await staff_texts(database) == [f"📝 Nuova richiesta {other}"]


async def test_a_staff_reply_to_any_part_of_a_prompt_finds_what_it_is_for(
    database: Database,
) -> None:
    """The prompt went out in three parts, the outbox keeping the last one's id ("12")."""
    prompt = json.dumps({"notice": {"text": "…", "reply_action": "ask:LU-AAAA"}})
    await rows(
        database,
        "INSERT INTO outbox (channel, recipient, payload, status, provider_id, created_at, "
        "updated_at) VALUES ('telegram', '-100', :prompt, 'sent', '12', 0, 0), "
        "('telegram', '-100', :plain, 'sent', '20', 0, 0)",
        prompt=prompt,
        plain=json.dumps({"notice": {"text": "no action"}}),
    )
    for part in ("10", "11"):
        await rows(
            database,
            "INSERT INTO notice_parts (channel, recipient, message_id, last_id, created_at) "
            "VALUES ('telegram', '-100', :part, '12', 0)",
            part=part,
        )
    store = RequestStore(database)
    for part in ("10", "11", "12"):
        assert await store.reply_action("telegram", "-100", part) == "ask:LU-AAAA"
    assert await store.reply_action("telegram", "-100", "20") is None  # a notice without one
    assert await store.reply_action("telegram", "-100", "9") is None
    assert await store.reply_action("telegram", "-999", "10") is None  # another chat
