"""After an outage: messages given up go back in the queue; the doctor notices them."""

from __future__ import annotations

import time
from pathlib import Path

from bot.config import Settings
from bot.notice import Notice
from bot.ops.checks import Status
from bot.ops.local_checks import outbox as outbox_check
from bot.storage.db import Database
from bot.storage.outbox import Outbox
from bot.storage.requeue import outbox_trouble_in, requeue_failed
from tests.conftest import FIXTURE_CONTENT


async def test_only_messages_the_platform_never_accepted_go_back(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    async with Database(path) as database:
        outbox = Outbox(database)
        ids = await outbox.add(
            "whatsapp", "+39333", [Notice.reply("whatsapp", "+39333", str(n)) for n in range(3)]
        )
        assert ids is not None
        await outbox.mark_retry(ids[0], "network: ClientConnectorError", 0, give_up=True)
        await outbox.mark_sent(ids[1], "SM1")
        await outbox.mark_delivery_failed("SM1", "undelivered: Twilio error 63016")
        refused = await outbox.add("whatsapp", "+39333", [Notice.reply("whatsapp", "+39333", "x")])
        assert refused is not None
        await outbox.mark_refused(refused[0], "no template")
        telegram = await outbox.add("telegram", "42", [Notice("telegram", "42", "hello", "staff")])
        assert telegram is not None
        await outbox.mark_retry(telegram[0], "network", 0, give_up=True)

        trouble = await outbox_trouble_in(path, since=0)
        assert trouble.failed_since == {"whatsapp": 1, "telegram": 1}
        assert trouble.pending == {"whatsapp": 1}

        assert await requeue_failed(database, since=time.time() + 60) == 0  # too old
        assert await requeue_failed(database, since=0, channel="whatsapp") == 1
        assert (await outbox.counts("whatsapp")) == {"pending": 2, "failed": 1, "refused": 1}
        due = await outbox.due("whatsapp")
        assert [message.id for message in due] == [ids[0]]  # in order, before the newer one
        assert due[0].attempts == 0
        assert await requeue_failed(database, since=0) == 1  # the telegram one
        assert (await outbox_trouble_in(path, since=0)).failed_since == {}


async def test_the_doctor_warns_of_stuck_and_given_up_messages(database_target: str) -> None:
    """The same on a SQLite file and on PostgreSQL: the doctor reads either, never writes."""
    settings = Settings(db_path=database_target, content_dir=FIXTURE_CONTENT)
    async with Database(database_target) as database:
        outbox = Outbox(database)
        empty = await outbox_check(settings)
        assert empty.status is Status.OK
        assert empty.detail == "0 message(s) waiting, none given up recently"
        ids = await outbox.add(
            "whatsapp",
            "+39333",
            [Notice.reply("whatsapp", "+39333", "a"), Notice.reply("whatsapp", "+39333", "b")],
        )
        assert ids is not None
        assert (await outbox_check(settings)).status is Status.OK  # just queued
        stuck = await outbox_check(settings, now=time.time() + 3600)
        assert stuck.status is Status.WARN
        assert stuck.detail == "2 message(s) waiting (2 whatsapp), the oldest for 60 minutes"
        await outbox.mark_retry(ids[0], "network", 0, give_up=True)
        await outbox.mark_sent(ids[1], "SM1")
        given_up = await outbox_check(settings)
        assert given_up.status is Status.WARN
        assert given_up.detail == "messages given up in the last 7 days: 1 whatsapp"
        assert "sportello outbox retry --hours 168" in given_up.fix
