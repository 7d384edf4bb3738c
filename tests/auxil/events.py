"""The known event fixture (``tests/data/monitoring/events.jsonl``) the statistics are checked on.

Between 2026-01-01 and 2026-03-31 in Rome it holds 10 consultations by 7 people; the first
line (23:00 on New Year's Eve, Rome time) and the last (midnight of 1 April) fall outside.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.storage.records import Event

EVENTS = Path(__file__).parent.parent / "data" / "monitoring" / "events.jsonl"


def fixture_events() -> list[tuple[Event, str | None]]:
    """Each event with the person it is about ("channel:user id"), as a sink receives them."""
    pairs = []
    for line in EVENTS.read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        person = record.pop("person", None)
        hour = datetime.fromisoformat(record.pop("hour"))
        pairs.append((Event(hour=hour, **record), person))
    return pairs


def pseudonymous_events() -> list[Event]:
    """The events as read back, with the person standing in for their pseudonym."""
    return [Event(**{**event.__dict__, "user": person}) for event, person in fixture_events()]


async def fixture_database(target: Path | str) -> Path | str:
    """The database ``target`` (a SQLite path or a PostgreSQL address) holding the fixture
    events, recorded as the bot records them."""
    from bot.storage.db import Database
    from bot.storage.events import EventStore

    async with Database(target) as database:
        store = EventStore(database, ZoneInfo("Europe/Rome"))
        for event, person in fixture_events():
            await store.record(event, person)
    return target
