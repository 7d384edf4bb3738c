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
from bot.storage.requeue import outbox_trouble, requeue_failed
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

        trouble = outbox_trouble(path, since=0)
        assert trouble.failed_since == {"whatsapp": 1, "telegram": 1}
        assert trouble.pending == {"whatsapp": 1}

        assert await requeue_failed(database, since=time.time() + 60) == 0  # too old
        assert await requeue_failed(database, since=0, channel="whatsapp") == 1
        assert (await outbox.counts("whatsapp")) == {"pending": 2, "failed": 1, "refused": 1}
        due = await outbox.due("whatsapp")
        assert [message.id for message in due] == [ids[0]]  # in order, before the newer one
        assert due[0].attempts == 0
        assert await requeue_failed(database, since=0) == 1  # the telegram one
        assert outbox_trouble(path, since=0).failed_since == {}


async def test_the_doctor_warns_of_stuck_and_given_up_messages(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    settings = Settings(db_path=path, content_dir=FIXTURE_CONTENT)
    async with Database(path) as database:
        outbox = Outbox(database)
        assert outbox_check(settings).status is Status.OK
        ids = await outbox.add(
            "whatsapp",
            "+39333",
            [Notice.reply("whatsapp", "+39333", "a"), Notice.reply("whatsapp", "+39333", "b")],
        )
        assert ids is not None
        assert outbox_check(settings).status is Status.OK  # just queued
        stuck = outbox_check(settings, now=time.time() + 3600)
        assert stuck.status is Status.WARN and "2 message(s) waiting" in stuck.detail
        await outbox.mark_retry(ids[0], "network", 0, give_up=True)
        await outbox.mark_sent(ids[1], "SM1")
        given_up = outbox_check(settings)
        assert given_up.status is Status.WARN and "1 whatsapp" in given_up.detail
        assert "sportello outbox retry --hours 168" in given_up.fix
