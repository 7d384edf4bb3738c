"""The expressions SQLite and PostgreSQL spell differently: fields of a JSON payload."""

from __future__ import annotations

import json

from sqlalchemy import insert, select

from bot.storage.db import Database
from bot.storage.expressions import json_text, json_true
from bot.storage.tables import outbox


async def test_each_field_is_read_by_its_own_path(database: Database) -> None:
    """Reading one field, then another, of the same payload: each its own (a compiled
    statement cached for the first must not answer for the second)."""
    payload = {"forget": True, "notice": {"handover": 7, "reply_action": "ask:LU-AAAA"}}
    async with database.transaction() as connection:
        await connection.execute(
            insert(outbox).values(
                channel="tg",
                recipient="staff",
                payload=json.dumps(payload),
                created_at=1.0,
                updated_at=1.0,
            )
        )
    for _ in range(2):
        handover = await database.fetch_value(
            select(json_text(outbox.c.payload, "notice", "handover"))
        )
        action = await database.fetch_value(
            select(json_text(outbox.c.payload, "notice", "reply_action"))
        )
        assert int(handover) == 7  # a number on SQLite, its text on PostgreSQL
        assert action == "ask:LU-AAAA"
    assert await database.fetch_value(select(json_true(outbox.c.payload, "forget")))
    assert not await database.fetch_value(select(json_true(outbox.c.payload, "notice", "handover")))
    assert await database.fetch_value(select(json_text(outbox.c.payload, "nowhere"))) is None
