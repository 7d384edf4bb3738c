"""Several instances on one database file: leases, the outbox sent once, a user's turn held
across instances, the updates of an instance that died taken over."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import pytest

from bot.config import Settings
from bot.content.catalog import Catalog
from bot.core.engine import Engine
from bot.core.sessions import Session
from bot.i18n import Interface
from bot.notice import Notice
from bot.notify.leadership import INSTANCE, Leadership
from bot.notify.worker import OutboxWorker
from bot.ops import local_checks
from bot.ops.checks import Status
from bot.storage.db import Database
from bot.storage.inbound import InboundQueue
from bot.storage.instance import new_holder
from bot.storage.leases import Leases, living_leases
from bot.storage.outbox import Outbox
from bot.storage.retention import purge
from bot.storage.sessions import SqliteSessionStore, TurnBusy, TurnLost
from tests.auxil.chat import Conversation
from tests.auxil.databases import rows
from tests.auxil.holders import dead_holder
from tests.auxil.waiting import wait_until


@pytest.fixture
async def instances(database_target: str) -> AsyncIterator[tuple[Database, Database]]:
    """Two instances' connections to one database (a file, or a PostgreSQL schema)."""
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(Database(database_target))
        second = await stack.enter_async_context(Database(database_target))
        assert first.holder != second.holder
        yield first, second


async def test_a_lease_is_held_by_one_renewed_by_it_and_taken_once_expired(
    instances: tuple[Database, Database],
) -> None:
    first, second = (Leases(database) for database in instances)
    assert await first.take("reminders", "a", 0.3)
    assert not await second.take("reminders", "b", 30)  # a holds it
    assert await first.take("reminders", "a", 0.3)  # renewed by its holder
    assert await second.holder_of("reminders") == "a"
    await asyncio.sleep(0.35)
    assert await second.holder_of("reminders") is None  # expired: nobody holds it
    assert await second.take("reminders", "b", 30)
    assert not await first.take("reminders", "a", 0.3)  # too late: b has it now
    await second.release("reminders", "a")  # not a's to let go of
    assert await first.holder_of("reminders") == "b"
    await second.release("reminders", "b")
    assert await first.take("reminders", "a", 30)  # let go of: taken at once


async def test_the_leases_of_a_killed_instance_of_this_machine_end_at_once(
    database: Database,
) -> None:
    leases = Leases(database)
    dead, living = dead_holder(), new_holder()
    await leases.take("outbox:telegram", dead, 3600)
    await leases.take(f"{INSTANCE}{dead}", dead, 3600)
    await leases.take("reminders", living, 3600)
    await leases.take("agenda", "another-machine:1:2:3", 3600)
    assert await leases.expire_gone() == [dead]
    assert await leases.holder_of("outbox:telegram") is None
    assert await leases.holder_of(f"{INSTANCE}{dead}") is None
    assert await leases.holder_of("reminders") == living  # this process lives
    assert await leases.holder_of("agenda") == "another-machine:1:2:3"  # cannot be told


async def test_a_loop_runs_on_one_instance_at_a_time_and_moves_when_it_stops(
    instances: tuple[Database, Database],
) -> None:
    running: list[str] = []
    overlaps: list[list[str]] = []

    def loop(name: str) -> Callable[[], Awaitable[None]]:
        async def work() -> None:
            running.append(name)
            try:
                while True:
                    if len(running) > 1:
                        overlaps.append(list(running))
                    await asyncio.sleep(0.01)
            finally:
                running.remove(name)

        return work

    first, second = (
        Leadership(Leases(database), database.holder, seconds=0.6, renew_every=0.1)
        for database in instances
    )
    one = first.task("reminders", loop("first"))
    await wait_until(lambda: running == ["first"], 5, lambda: str(running))
    two = second.task("reminders", loop("second"))
    await asyncio.sleep(0.5)
    assert running == ["first"] and first.holds("reminders") and not second.holds("reminders")
    one.cancel()  # a graceful stop lets go of the lease: the other takes over
    await asyncio.gather(one, return_exceptions=True)
    await wait_until(lambda: running == ["second"], 5, lambda: str(running))
    two.cancel()
    await asyncio.gather(two, return_exceptions=True)
    assert overlaps == [] and running == []


async def test_a_loop_whose_lease_is_taken_over_is_stopped(
    instances: tuple[Database, Database],
) -> None:
    """An instance that could not renew in time (frozen, say) finds its lease taken: its loop
    is cancelled at the next renewal, and waits for the lease again."""
    first_db, second_db = instances
    leadership = Leadership(Leases(first_db), first_db.holder, seconds=5, renew_every=0.1)
    runs: list[str] = []

    async def work() -> None:
        runs.append("started")
        try:
            await asyncio.Event().wait()
        finally:
            runs.append("stopped")

    task = leadership.task("agenda", work)
    await wait_until(lambda: runs == ["started"], 5, lambda: str(runs))
    await rows(
        second_db,
        "UPDATE leases SET holder = :holder, expires_at = :until WHERE name = 'agenda'",
        holder=second_db.holder,
        until=time.time() + 60,
    )
    await wait_until(lambda: runs == ["started", "stopped"], 5, lambda: str(runs))
    assert not leadership.holds("agenda")
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert await Leases(second_db).holder_of("agenda") == second_db.holder  # not released


async def test_two_instances_running_outbox_workers_send_each_notice_once_in_order(
    instances: tuple[Database, Database],
) -> None:
    sent: list[tuple[str, str, int]] = []

    def sender(name: str) -> Callable[[str, Notice], Awaitable[str]]:
        async def send(recipient: str, notice: Notice) -> str:
            sent.append((name, recipient, int(notice.text)))
            await asyncio.sleep(0.002)  # the platform's answer
            return f"id-{len(sent)}"

        return send

    workers = []
    for name, database in zip(("first", "second"), instances, strict=True):
        leadership = Leadership(Leases(database), database.holder, seconds=0.6, renew_every=0.1)
        workers.append(
            OutboxWorker(
                Outbox(database),
                "wa",
                sender(name),
                idle_seconds=0.05,
                leadership=leadership,
            )
        )
    workers[0].start()
    holding = workers[0].leadership
    assert holding is not None
    await wait_until(lambda: holding.holds("outbox:wa"), 5, lambda: "never took the lease")
    workers[1].start()
    recipients = [f"user{n}" for n in range(5)]
    for n in range(20):  # queued through both instances, while both workers run
        for index, recipient in enumerate(recipients):
            await Outbox(instances[index % 2]).add(
                "wa", recipient, [Notice.reply("wa", recipient, str(n))]
            )
        await asyncio.sleep(0.02)  # users write over time
        if n == 10:
            await workers[0].stop()  # the holder stops half-way: the other one goes on
    await wait_until(lambda: len(sent) >= 100, 20, lambda: f"{len(sent)} sent")
    await asyncio.sleep(0.3)  # anything sent twice would show now
    for worker in workers:
        await worker.stop()
    assert len(sent) == 100
    for recipient in recipients:
        assert [n for _, to, n in sent if to == recipient] == list(range(20))
    assert {name for name, _, _ in sent} == {"first", "second"}  # it moved when one stopped
    assert await Outbox(instances[0]).counts("wa") == {"sent": 100}


async def test_a_users_turn_waits_for_the_same_users_turn_at_another_instance(
    instances: tuple[Database, Database],
) -> None:
    first, second = (SqliteSessionStore(database) for database in instances)
    await Leases(instances[0]).take(f"{INSTANCE}{instances[0].holder}", instances[0].holder, 60)
    assert await first.begin("telegram", "7") is None
    waiting = asyncio.create_task(second.begin("telegram", "7"))
    await asyncio.sleep(0.3)
    assert not waiting.done()  # the first instance's turn is in hand
    await first.end("telegram", "7", '{"draft": "first"}')
    assert await asyncio.wait_for(waiting, 5) == '{"draft": "first"}'  # builds on it
    await second.end("telegram", "7", '{"draft": "second"}')
    assert await first.get("telegram", "7") == '{"draft": "second"}'
    assert await rows(instances[0], "SELECT * FROM turn_locks") == []  # nothing of the user


async def test_a_turn_held_by_an_instance_that_died_is_taken_over_and_its_save_refused(
    instances: tuple[Database, Database],
) -> None:
    frozen, living = instances
    await Leases(frozen).take(f"{INSTANCE}{frozen.holder}", frozen.holder, 0.4)
    stale = SqliteSessionStore(frozen)
    assert await stale.begin("whatsapp", "+39333") is None
    # Its lease expires (a frozen or dead process renews nothing): the other one goes on.
    taken = await asyncio.wait_for(SqliteSessionStore(living).begin("whatsapp", "+39333"), 5)
    assert taken is None
    await SqliteSessionStore(living).end("whatsapp", "+39333", '{"by": "living"}')
    with pytest.raises(TurnLost):  # it wakes up: what it would save is refused, not mixed in
        await stale.end("whatsapp", "+39333", '{"by": "frozen"}')
    assert await stale.get("whatsapp", "+39333") == '{"by": "living"}'


async def test_a_turn_held_too_long_elsewhere_gives_up_cleanly(
    instances: tuple[Database, Database],
) -> None:
    first, second = instances
    await Leases(first).take(f"{INSTANCE}{first.holder}", first.holder, 60)
    await SqliteSessionStore(first).begin("telegram", "8")
    with pytest.raises(TurnBusy):
        await SqliteSessionStore(second, wait_seconds=0.2).begin("telegram", "8")


async def test_updates_of_an_instance_that_died_are_taken_over_once(
    instances: tuple[Database, Database],
) -> None:
    first, second = instances
    await Leases(first).take(f"{INSTANCE}{first.holder}", first.holder, 0.4)
    await Leases(second).take(f"{INSTANCE}{second.holder}", second.holder, 60)
    assert await InboundQueue(first).keep("telegram", "update:1", {"update_id": 1})
    assert not await InboundQueue(second).keep("telegram", "update:1", {"update_id": 1})
    assert await InboundQueue(second).take_over("telegram") == []  # in the first one's hands
    await asyncio.sleep(0.45)  # the first one died: its lease expired
    taken = await InboundQueue(second).take_over("telegram")
    assert taken == [("update:1", {"update_id": 1})]
    assert await InboundQueue(second).take_over("telegram") == []  # now the second's own
    assert await InboundQueue(first).left("telegram") == taken  # still to be processed


async def test_the_retention_rule_deletes_turns_left_held_by_instances_that_died(
    instances: tuple[Database, Database],
) -> None:
    """A held turn names its user: one an instance left behind when it died goes."""
    dead, living = instances
    await Leases(living).take(f"{INSTANCE}{living.holder}", living.holder, 60)
    await SqliteSessionStore(dead).begin("whatsapp", "+39111")
    await SqliteSessionStore(living).begin("whatsapp", "+39222")
    removed = await purge(living, retention_days=90)
    assert removed["turn_locks"] == 1
    held = await rows(living, "SELECT user_id FROM turn_locks")
    assert [user for (user,) in held] == ["+39222"]


async def test_the_doctor_says_which_instances_run_and_who_holds_each_job(
    database_target: str,
) -> None:
    async with Database(database_target) as database:
        settings = Settings(db_path=database_target)
        assert (await local_checks.instances(settings)).detail == (
            "no `sportello serve` runs on this database now"
        )
        leases = Leases(database)
        await leases.take(f"{INSTANCE}vm:1:41:a", "vm:1:41:a", 60)
        await leases.take(f"{INSTANCE}vm:1:42:b", "vm:1:42:b", 60)
        await leases.take("outbox:telegram", "vm:1:42:b", 60)
        await leases.take("reminders", "vm:1:41:a", 60)
        await leases.take("agenda", "vm:1:40:c", 0.01)  # expired: nobody holds it
        await asyncio.sleep(0.02)
        check = await local_checks.instances(settings)
    assert check.status is Status.OK
    assert check.detail == (
        "2 running (vm pid 41, vm pid 42); outbox:telegram by vm pid 42, reminders by vm pid 41"
    )


async def test_two_taps_at_two_instances_are_both_applied_in_turn(
    instances: tuple[Database, Database], catalog: Catalog, interface: Interface
) -> None:
    """Two quick taps of one user reach two instances at once: the second is answered on
    the state the first left, not on the same old one (which would lose the first)."""
    for database in instances:
        await Leases(database).take(f"{INSTANCE}{database.holder}", database.holder, 60)
    first, second = (
        Conversation(Engine(lambda: catalog, SqliteSessionStore(database), interface), "7")
        for database in instances
    )
    await first.start(hint="it")
    await asyncio.gather(first.send("1"), second.send("1"))  # the first area, then its topic
    stored = await SqliteSessionStore(instances[0]).get("test", "7")
    assert stored is not None
    assert len(Session.load("test", "7", stored).history) == 2, stored


async def test_a_turns_save_marks_its_stored_update_processed_in_the_same_write(
    database: Database,
) -> None:
    """Killed between saving the turn and marking its update, an instance would leave the
    update to be answered again (by another instance, or at the next start) on the next step."""
    updates, sessions = InboundQueue(database), SqliteSessionStore(database)
    await updates.keep("telegram", "update:5", {"update_id": 5})
    await updates.keep("telegram", "update:6", {"update_id": 6})
    await sessions.begin("telegram", "7")
    await sessions.end("telegram", "7", "{}", processed="update:5")
    await sessions.begin("telegram", "7")
    await sessions.end("telegram", "7", None, processed="update:6")  # nothing saved: not done
    assert [key for key, _ in await updates.left("telegram")] == ["update:6"]
    assert not await updates.keep("telegram", "update:5", {"update_id": 5})  # a redelivery


async def test_the_living_leases_are_read_without_writing_on_either_backend(
    database: Database,
) -> None:
    """What the doctor shows, read from SPORTELLO_DB's database whichever it is."""
    leases = Leases(database)
    await leases.take("reminders", "vm:1:41:a", 60)
    await leases.take(f"{INSTANCE}vm:1:41:a", "vm:1:41:a", 60)
    await leases.take("agenda", "vm:1:40:c", 0.01)  # expired
    await asyncio.sleep(0.02)
    now = time.time()
    living = await living_leases(database.path, now)
    assert [(lease.name, lease.holder) for lease in living] == [
        (f"{INSTANCE}vm:1:41:a", "vm:1:41:a"),
        ("reminders", "vm:1:41:a"),
    ]
    assert all(50 < lease.expires_in <= 60 for lease in living)
    assert [lease.name for lease in await leases.held()] == [
        "agenda",
        f"{INSTANCE}vm:1:41:a",
        "reminders",
    ]


@pytest.mark.sqlite_only  # a file from before leases
async def test_a_database_from_before_leases_has_none(tmp_path: Path) -> None:
    """An empty file (no tables yet): the doctor's look finds no leases, and writes nothing."""
    path = tmp_path / "old.sqlite3"
    sqlite3.connect(path).close()
    assert await living_leases(path, time.time()) == []
    assert path.stat().st_size == 0  # read, never written
