"""The retention rule and the erasure on request, on either backend (rows written directly:
the stores that write them move to SQLAlchemy in their own changes)."""

from __future__ import annotations

import json
import time

from sqlalchemy import insert

from bot.storage.db import Database
from bot.storage.retention import erase_user, purge
from bot.storage.tables import appointments, handovers, outbox, sessions, turn_locks
from tests.auxil.databases import rows

OLD, SOON = "2020-01-01T09:00:00Z", "2099-01-01T09:00:00Z"


def _appointment(code: str, starts_at: str, user: str = "u1") -> dict[str, object]:
    return {
        "code": code,
        "office": "o",
        "service": "s",
        "starts_at": starts_at,
        "ends_at": starts_at,
        "channel": "telegram",
        "user_id": user,
        "name": "Ana",
        "phone": "+39 1",
        "language": "it",
        "created_at": 1.0,
        "updated_at": 1.0,
    }


def _message(payload: dict[str, object], recipient: str = "staff") -> dict[str, object]:
    now = time.time()
    return {
        "channel": "telegram",
        "recipient": recipient,
        "payload": json.dumps(payload),
        "created_at": now,
        "updated_at": now,
    }


async def test_purge_forgets_what_is_old_only(database: Database) -> None:
    await database.write(
        insert(sessions).values(channel="t", user_id="old", state="{}", updated_at=OLD)
    )
    await database.write(
        insert(sessions).values(channel="t", user_id="new", state="{}", updated_at=SOON)
    )
    await database.write(insert(appointments).values(_appointment("OLD1", OLD)))
    await database.write(insert(appointments).values(_appointment("NEW1", SOON)))
    await database.write(
        insert(turn_locks).values(channel="t", user_id="x", holder="gone", since=1.0)
    )
    removed = await purge(database, 90)
    assert removed["sessions"] == 1 and removed["appointment_contacts"] == 1
    assert removed["turn_locks"] == 1
    assert await rows(database, "SELECT user_id FROM sessions") == [("new",)]
    assert await rows(database, "SELECT code, user_id, name FROM appointments ORDER BY code") == [
        ("NEW1", "u1", "Ana"),
        ("OLD1", "expired", None),
    ]
    assert await database.checkpoint()


async def test_erasure_takes_everything_personal_in_one_go(database: Database) -> None:
    await database.write(insert(appointments).values(_appointment("ABC123", SOON)))
    await database.write(insert(appointments).values(_appointment("KEEP99", SOON, user="u2")))
    async with database.transaction() as connection:
        handover = (
            await connection.execute(
                insert(handovers)
                .values(channel="telegram", user_id="u1", language="it", opened_at=1.0)
                .returning(handovers.c.id)
            )
        ).scalar_one()
    await database.write(insert(outbox).values(_message({"text": "booked ABC123"})))
    await database.write(insert(outbox).values(_message({"text": "booked abc123 KEEP99"})))
    await database.write(insert(outbox).values(_message({"notice": {"handover": handover}})))
    await database.write(insert(outbox).values(_message({"notice": {"handover": "x"}})))
    await database.write(insert(outbox).values(_message({"text": "hi"}, recipient="u1")))
    assert await erase_user(database, "telegram", "u1") == ["ABC123"]
    assert await rows(database, "SELECT payload FROM outbox ORDER BY id") == [
        (json.dumps({"text": "booked abc123 KEEP99"}),),
        (json.dumps({"notice": {"handover": "x"}}),),
    ]
    assert await rows(
        database, "SELECT code, status, user_id, name FROM appointments ORDER BY code"
    ) == [("ABC123", "cancelled", "erased", None), ("KEEP99", "active", "u2", "Ana")]
    assert await rows(database, "SELECT DISTINCT user_id, closed_by FROM handovers") == [
        ("erased", "erased")
    ]
