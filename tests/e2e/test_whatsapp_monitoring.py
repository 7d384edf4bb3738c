"""What a WhatsApp conversation leaves in the monitoring: anonymous events, no phone number."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.storage.events import EventStore
from tests.auxil.databases import rows
from tests.e2e.test_whatsapp import PHONE, Bot, running_bot


@pytest.fixture
async def bot(tmp_path: Path, content_copy: Path, database_target: str) -> AsyncIterator[Bot]:
    async with running_bot(tmp_path, content_copy, database=database_target) as running:
        yield running


async def test_a_whatsapp_conversation_is_counted_without_the_number(bot: Bot) -> None:
    await bot.say("ciao")
    await bot.say("1")
    await bot.say("rinnovo del permesso")  # a topic, chosen by its label
    await bot.say("best pizza recipe with pineapple", phone="+212600000009")
    database = bot.services.database
    assert database is not None
    now = datetime.now(UTC)
    events = await EventStore(database).between(now - timedelta(hours=2), now + timedelta(hours=2))
    assert [(e.kind, e.action, e.channel, e.topic) for e in events] == [
        ("topic", "opened", "whatsapp", "permit_renewal"),
        ("question", "unanswered", "whatsapp", None),
    ]
    assert events[0].user != events[1].user  # two people
    stored = repr(await rows(database, "SELECT * FROM events"))
    for personal in (PHONE, PHONE.lstrip("+"), "212600000009", "pizza"):
        assert personal not in stored
