"""The outbox and its worker: order per recipient, retries with backoff, giving up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import pytest

from bot.channels.flood import SWEEP_EVERY, FloodControl, Verdict
from bot.notice import REPLY, Notice
from bot.notify.worker import GIVE_UP_AFTER, MAX_DELAY, OutboxWorker, SendError
from bot.storage.db import Database
from bot.storage.handovers import HandoverStore
from bot.storage.inbound import InboundLog, InboundQueue
from bot.storage.outbox import CLAIM_SECONDS, Outbox, _claimable
from bot.storage.requests import RequestStore
from bot.storage.retention import purge
from tests.auxil.databases import on_postgresql, rows
from tests.auxil.trips import Trips


def body(n: int, recipient: str = "alice") -> Notice:
    """A reply as a channel renders it (WhatsApp's), numbered."""
    return Notice.reply("wa", recipient, str(n))


def staff(n: int, handover: int | None = None, recipient: str = "group") -> Notice:
    """A staff notice; one of a conversation with ``handover``."""
    return Notice("tg", recipient, str(n), "staff", handover=handover)


def number(notice: Notice) -> int:
    return int(notice.text)


async def test_each_recipient_gets_its_messages_in_order(database: Database) -> None:
    outbox = Outbox(database)
    await outbox.add("wa", "alice", [body(1), body(2)])
    await outbox.add("wa", "bob", [body(1, "bob")])
    sent: list[tuple[str, int]] = []

    async def send(recipient: str, notice: Notice) -> str:
        sent.append((recipient, number(notice)))
        return f"id-{len(sent)}"

    worker = OutboxWorker(outbox, "wa", send)
    assert await worker.drain() == 2  # alice's first and bob's, together
    assert await worker.drain() == 1  # then alice's second
    assert await worker.drain() == 0
    assert sent == [("alice", 1), ("bob", 1), ("alice", 2)]
    assert await outbox.counts("wa") == {"sent": 3}


async def test_retryable_errors_wait_then_retry_and_block_later_messages(
    database: Database,
) -> None:
    outbox = Outbox(database)
    await outbox.add("wa", "alice", [body(1), body(2)])
    calls: list[int] = []

    async def flaky(recipient: str, notice: Notice) -> str:
        calls.append(number(notice))
        if len(calls) == 1:
            raise SendError("Twilio 500", retry=True)
        return "ok"

    worker = OutboxWorker(outbox, "wa", flaky)
    await worker.drain()
    assert await worker.drain() == 0  # the first waits for its retry; the second waits behind it
    await rows(database, "UPDATE outbox SET next_attempt_at = 0")
    await worker.drain()
    await worker.drain()
    assert calls == [1, 1, 2]


async def test_permanent_errors_give_up_and_the_rest_goes_on(database: Database) -> None:
    outbox = Outbox(database)
    await outbox.add("wa", "alice", [body(1), body(2)])

    async def refuse_first(recipient: str, notice: Notice) -> str:
        if number(notice) == 1:
            raise SendError("Twilio 400 21211", retry=False)
        return "ok"

    worker = OutboxWorker(outbox, "wa", refuse_first)
    await worker.drain()
    await worker.drain()
    assert await outbox.counts("wa") == {"failed": 1, "sent": 1}
    assert await outbox.errors("wa") == [("alice", "failed", "Twilio 400 21211")]


async def test_an_outage_of_hours_loses_nothing_a_day_gives_up(database: Database) -> None:
    import time

    outbox = Outbox(database)
    await outbox.add("wa", "alice", [body(1)])
    delays: list[float] = []

    async def down(recipient: str, notice: Notice) -> str:
        raise SendError("network", retry=True)

    worker = OutboxWorker(outbox, "wa", down)
    for _ in range(30):  # far more attempts than a short outage takes
        await rows(database, "UPDATE outbox SET next_attempt_at = 0")
        await worker.drain()
        ((next_attempt_at,),) = await rows(database, "SELECT next_attempt_at FROM outbox")
        delays.append(next_attempt_at - time.time())
    assert await outbox.counts("wa") == {"pending": 1}
    assert delays[0] < 2 and 250 < delays[-1] <= MAX_DELAY  # growing pauses, capped
    # Created more than a day ago: the next failure gives it up.
    await rows(
        database,
        "UPDATE outbox SET next_attempt_at = 0, created_at = :created",
        created=time.time() - GIVE_UP_AFTER,
    )
    await worker.drain()
    assert await outbox.counts("wa") == {"failed": 1}


async def test_inbound_ids_are_processed_once(database: Database) -> None:
    outbox = Outbox(database)
    inbound = InboundLog(database)
    assert not await inbound.seen("wa", "SM1")
    assert await outbox.add("wa", "alice", [body(1)], in_reply_to="SM1") is not None
    assert await inbound.seen("wa", "SM1")
    assert await outbox.add("wa", "alice", [body(1)], in_reply_to="SM1") is None
    assert await outbox.counts("wa") == {"pending": 1}
    await inbound.touch("wa", "alice")
    assert await inbound.last_inbound("wa", "alice") is not None
    assert await inbound.last_inbound("wa", "bob") is None


def test_flood_control_allows_warns_once_then_drops() -> None:
    now = [0.0]
    flood = FloodControl(limit=2, window=60, clock=lambda: now[0])
    assert [flood.check("u") for _ in range(4)] == [
        Verdict.ALLOW,
        Verdict.ALLOW,
        Verdict.WARN,
        Verdict.DROP,
    ]
    assert flood.check("other") is Verdict.ALLOW
    now[0] = 61.0
    assert flood.check("u") is Verdict.ALLOW


def test_flood_control_forgets_users_quiet_for_a_window() -> None:
    """Anyone can start a web chat: a new token or address each time must not fill memory."""
    now = [0.0]
    flood = FloodControl(limit=2, window=60, clock=lambda: now[0])
    for number in range(SWEEP_EVERY - 1):
        flood.check(f"user {number}")
    assert len(flood) == SWEEP_EVERY - 1
    now[0] = 30.0
    assert flood.check("recent") is Verdict.ALLOW  # a sweep: nobody is quiet for 60 s yet
    assert len(flood) == SWEEP_EVERY
    now[0] = 61.0
    for _ in range(SWEEP_EVERY):
        flood.check("recent")
    assert len(flood) == 1  # only "recent" is left
    assert flood.check("recent") is Verdict.DROP  # and still limited


async def test_an_unexpected_error_is_backed_off_not_looped(database: Database) -> None:
    outbox = Outbox(database)
    await outbox.add("wa", "alice", [body(1)])
    calls = 0

    async def broken(recipient: str, notice: Notice) -> str:
        nonlocal calls
        calls += 1
        raise KeyError("a bug")

    worker = OutboxWorker(outbox, "wa", broken)
    await worker.drain()
    assert await worker.drain() == 0  # waiting for its backoff, not retried at once
    assert calls == 1
    assert await rows(database, "SELECT attempts, status FROM outbox") == [(1, "pending")]


async def test_stop_lets_a_send_in_flight_finish_and_be_recorded(database: Database) -> None:
    import asyncio

    outbox = Outbox(database)
    await outbox.add("wa", "alice", [body(1)])
    started = asyncio.Event()

    async def slow(recipient: str, notice: Notice) -> str:
        started.set()
        await asyncio.sleep(0.2)
        return "SM1"

    worker = OutboxWorker(outbox, "wa", slow)
    worker.start()
    await started.wait()
    await worker.stop()
    assert await outbox.counts("wa") == {"sent": 1}


async def test_the_wait_a_platform_asks_for_is_honoured(database: Database) -> None:
    import time

    outbox = Outbox(database)
    await outbox.add("tg", "staff", [Notice.reply("tg", "staff", "1")])

    async def flooded(recipient: str, notice: Notice) -> str:
        raise SendError("Telegram flood control", retry=True, retry_after=42.0)

    await OutboxWorker(outbox, "tg", flooded).drain()
    ((status, next_attempt_at),) = await rows(
        database, "SELECT status, next_attempt_at FROM outbox"
    )
    assert status == "pending"
    assert 40 < next_attempt_at - time.time() <= 42  # not our own 1-second backoff


async def test_a_refused_message_is_kept_as_refused_and_not_retried(database: Database) -> None:
    outbox = Outbox(database)
    await outbox.add("wa", "alice", [body(1), body(2)])
    calls: list[int] = []

    async def window_closed(recipient: str, notice: Notice) -> str:
        calls.append(number(notice))
        if number(notice) == 1:
            raise SendError("outside the 24-hour window", retry=True, refused=True)
        return "ok"

    worker = OutboxWorker(outbox, "wa", window_closed)
    await worker.drain()
    await worker.drain()
    assert calls == [1, 2]
    assert await outbox.counts("wa") == {"refused": 1, "sent": 1}
    assert await outbox.errors("wa") == [("alice", "refused", "outside the 24-hour window")]


async def test_notices_wait_across_a_restart_and_go_out_once(database_target: str) -> None:
    path = database_target
    async with Database(path) as first:
        await Outbox(first).add_notices(
            [Notice("tg", "-100", "📅 Nuovo appuntamento", "staff", code="LU-4K7P")]
        )
    sent: list[Notice] = []

    async def send(recipient: str, notice: Notice) -> str:
        sent.append(notice)
        return "1"

    async with Database(path) as second:  # the bot started again
        worker = OutboxWorker(Outbox(second), "tg", send)
        assert await worker.drain() == 1
        assert await worker.drain() == 0
    async with Database(path) as third:
        assert await OutboxWorker(Outbox(third), "tg", send).drain() == 0
    assert sent == [Notice("tg", "-100", "📅 Nuovo appuntamento", "staff", code="LU-4K7P")]


class _JoinStaff:
    """A digest that joins messages marked "staff", at most ``room`` at a time."""

    def __init__(self, room: int = 10) -> None:
        self.room = room

    def joins(self, notice: Notice) -> bool:
        return notice.purpose == "staff" and notice.handover is None

    def combine(self, notices: Sequence[Notice]) -> tuple[int, Notice]:
        taken = notices[: self.room]
        text = " ".join(notice.text for notice in taken)
        return len(taken), Notice(taken[0].channel, taken[0].recipient, text, "digest")


def seen(notice: Notice) -> tuple[str, str]:
    return notice.purpose, notice.text


async def test_notices_waiting_in_a_burst_go_as_one_digest(database: Database) -> None:
    outbox = Outbox(database)
    await outbox.add("tg", "group", [staff(n) for n in range(1, 6)])
    await outbox.add("tg", "alice", [staff(9, recipient="alice")])  # another recipient: alone
    sent: list[tuple[str, tuple[str, str]]] = []

    async def send(recipient: str, notice: Notice) -> str:
        sent.append((recipient, seen(notice)))
        return f"id-{len(sent)}"

    worker = OutboxWorker(outbox, "tg", send, digest=_JoinStaff())
    await worker.drain()
    assert sorted(sent, key=lambda item: item[0]) == [
        ("alice", ("staff", "9")),
        ("group", ("digest", "1 2 3 4 5")),
    ]
    assert await outbox.counts("tg") == {"sent": 6}
    assert await worker.drain() == 0


async def test_a_digest_stops_at_a_message_that_goes_alone_and_at_its_room(
    database: Database,
) -> None:
    outbox = Outbox(database)
    payloads = [
        staff(1),
        staff(2),
        staff(3, handover=7),  # answered by replying to it: never joined
        staff(4),
        staff(5),
        staff(6),
    ]
    await outbox.add("tg", "group", payloads)
    sent: list[Notice] = []

    async def send(recipient: str, notice: Notice) -> str:
        sent.append(notice)
        return "ok"

    worker = OutboxWorker(outbox, "tg", send, digest=_JoinStaff(room=2))
    while await worker.drain():
        pass
    assert [seen(notice) for notice in sent] == [
        ("digest", "1 2"),
        ("staff", "3"),
        ("digest", "4 5"),
        ("staff", "6"),  # the last one, alone: no digest of one
    ]
    assert sent[1].handover == 7 and sent[1].alone


async def test_a_failed_digest_is_tried_again_whole(database: Database) -> None:
    outbox = Outbox(database)
    await outbox.add("tg", "group", [staff(n) for n in range(1, 4)])
    calls: list[Notice] = []

    async def flaky(recipient: str, notice: Notice) -> str:
        calls.append(notice)
        if len(calls) == 1:
            raise SendError("Telegram flood control", retry=True, retry_after=0)
        return "ok"

    worker = OutboxWorker(outbox, "tg", flaky, digest=_JoinStaff())
    await worker.drain()
    assert await outbox.counts("tg") == {"pending": 3}
    await worker.drain()
    assert seen(calls[1]) == ("digest", "1 2 3")
    assert await outbox.counts("tg") == {"sent": 3}


async def test_a_message_to_forget_is_deleted_once_it_has_gone_or_cannot_go(
    database: Database,
) -> None:
    """The confirmation of an erasure leaves no recipient or text behind it."""
    outbox = Outbox(database)
    await outbox.add(
        "wa",
        "+39sent",
        [
            Notice.reply("wa", "+39sent", "deleted", forget=True),
            Notice.reply("wa", "+39sent", "kept"),
        ],
    )
    await outbox.add("wa", "+39retried", [Notice.reply("wa", "+39retried", "deleted", forget=True)])
    await outbox.add("wa", "+39refused", [Notice.reply("wa", "+39refused", "deleted", forget=True)])
    await outbox.add("wa", "+39failed", [Notice.reply("wa", "+39failed", "deleted", forget=True)])
    attempts: dict[str, int] = {}

    async def send(recipient: str, notice: Notice) -> str:
        attempts[recipient] = attempts.get(recipient, 0) + 1
        if recipient == "+39retried" and attempts[recipient] == 1:
            raise SendError("Twilio 500", retry=True)
        if recipient == "+39refused":
            raise SendError("outside the window", retry=False, refused=True)
        if recipient == "+39failed":
            raise SendError("Twilio 400", retry=False)
        return "SM1"

    worker = OutboxWorker(outbox, "wa", send)
    await worker.drain()
    pending = await outbox.pending("wa")
    assert [(m.recipient, m.payload["body"]) for m in pending] == [
        ("+39sent", "kept"),  # an ordinary message, behind the one that went
        ("+39retried", "deleted"),  # still to send: kept until it goes
    ]
    await rows(database, "UPDATE outbox SET next_attempt_at = 0")
    await worker.drain()
    assert await outbox.pending("wa") == []
    assert await rows(database, "SELECT recipient, payload FROM outbox") == [
        ("+39sent", '{"body": "kept"}')
    ]


async def test_a_reply_to_any_part_of_a_long_notice_finds_it(database: Database) -> None:
    outbox = Outbox(database)
    prompt = Notice("telegram", "-100", "…", "staff", reply_action="ask:LU-AAAA", handover=7)
    await outbox.add_notices([prompt])
    (message,) = await outbox.pending("telegram")
    await outbox.remember_parts("telegram", "-100", ["10", "11", "12"])
    await outbox.mark_sent(message.id, "12")  # the outbox keeps the last part's id
    requests, handovers = RequestStore(database), HandoverStore(database)
    for part in ("10", "11", "12"):
        assert await requests.reply_action("telegram", "-100", part) == "ask:LU-AAAA"
        assert await handovers.by_staff_message("telegram", "-100", part) == 7
    assert await requests.reply_action("telegram", "-100", "9") is None
    assert await handovers.by_staff_message("telegram", "-999", "10") is None  # another chat

    await rows(database, "UPDATE notice_parts SET created_at = 0")
    assert (await purge(database, retention_days=90))["notice_parts"] == 2
    assert await handovers.by_staff_message("telegram", "-100", "10") is None


async def test_an_attempt_is_recorded_before_the_platform_is_called(database: Database) -> None:
    """A crash between the platform's answer and our record of it leaves the message "in
    doubt": the next attempt is told when the earlier one began."""
    outbox = Outbox(database)
    await outbox.add("wa", "alice", [body(1)])
    during: list[float | None] = []
    payloads: list[Notice] = []

    async def crash(recipient: str, notice: Notice) -> str:
        (message,) = await outbox.pending("wa")
        during.append(message.sending_since)
        payloads.append(notice)
        raise asyncio.CancelledError  # the process dies with the platform's answer on the way

    worker = OutboxWorker(outbox, "wa", crash)
    with pytest.raises(asyncio.CancelledError):
        await worker.drain()
    assert during[0] is not None and payloads[0].in_doubt_since is None

    async def send(recipient: str, notice: Notice) -> str:
        payloads.append(notice)
        return "SM1"

    assert await OutboxWorker(outbox, "wa", send).drain() == 0  # still claimed by the dead
    await rows(database, "UPDATE outbox SET next_attempt_at = 0")  # until its claim runs out
    await OutboxWorker(outbox, "wa", send).drain()  # the next start
    assert payloads[-1] == Notice("wa", "alice", "1", REPLY, in_doubt_since=during[0])
    assert await outbox.counts("wa") == {"sent": 1}
    assert await outbox.pending("wa") == []
    assert await rows(database, "SELECT sending_since FROM outbox") == [(None,)]


async def test_a_refusal_leaves_no_doubt_a_timeout_does(database: Database) -> None:
    outbox = Outbox(database)
    await outbox.add("wa", "alice", [body(1)])
    await outbox.add("wa", "bob", [body(2, "bob")])
    payloads: list[Notice] = []

    async def fail(recipient: str, notice: Notice) -> str:
        payloads.append(notice)
        if recipient == "alice":
            raise SendError("Twilio 500", retry=True)  # the platform said no: nothing went
        raise SendError("network: TimeoutError", retry=True, maybe_sent=True)

    worker = OutboxWorker(outbox, "wa", fail)
    await worker.drain()
    await rows(database, "UPDATE outbox SET next_attempt_at = 0")
    await worker.drain()
    by_recipient = {
        recipient: [notice for notice in payloads if number(notice) == n]
        for recipient, n in (("alice", 1), ("bob", 2))
    }
    assert by_recipient["alice"][1].in_doubt_since is None
    assert by_recipient["bob"][1].in_doubt_since is not None


@pytest.mark.sqlite_only  # counts the steps of SQLite's machine
async def test_the_next_batch_does_not_read_the_whole_backlog(database: Database) -> None:
    """10,000 notices waiting: the worker's next 50 are found without reading them all (it
    took 310,000 steps of SQLite's machine, 8 ms on the thread a user's reply waits for)."""
    outbox = Outbox(database)
    await outbox.add_notices(Notice("tg", str(n), "x", "reminder") for n in range(10_000))
    await outbox.add("tg", "7", [Notice.reply("tg", "7", "behind the notice to 7")])
    thousands = 0

    def counted() -> int:
        nonlocal thousands
        thousands += 1
        return 0  # go on

    async with database.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None  # aiosqlite's connection
        await driver.set_progress_handler(counted, 1000)
        found = (await connection.execute(_claimable("tg", time.time(), 50))).fetchall()
        await driver.set_progress_handler(None, 1000)  # None removes it
    assert [row.recipient for row in found] == [str(n) for n in range(50)]
    assert thousands < 10, thousands
    due = await outbox.due("tg")  # the claim itself finds the same
    assert [message.recipient for message in due] == [str(n) for n in range(50)]
    assert all("notice" in message.payload for message in due)  # 7's is not due


async def test_a_message_sent_to_forget_is_deleted_as_it_is_marked(database: Database) -> None:
    """The transaction that marks it sent also deletes it if it is to forget."""
    outbox = Outbox(database)
    kept, forgotten = (
        await outbox.add("wa", "alice", [body(1), Notice.reply("wa", "alice", "2", forget=True)])
        or []
    )
    await outbox.mark_sent(kept, "SM1")
    await outbox.mark_sent(forgotten, "SM2")  # and the WAL emptied
    assert await outbox.counts("wa") == {"sent": 1}
    assert await rows(database, "SELECT id, provider_id FROM outbox") == [(kept, "SM1")]


@pytest.mark.sqlite_only  # counts aiosqlite's hops to its thread
async def test_an_update_is_marked_processed_in_few_trips(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every Telegram reply waits for it before it is sent: BEGIN, a delete, an insert and the
    commit, quick, on the event loop's thread, unless it is the commit in CHECKPOINT_EVERY that
    goes to the database's (bot.storage.sqlite_driver; four trips with one a statement, eleven
    with aiosqlite's cursors)."""
    updates = InboundQueue(database)
    assert await updates.keep("telegram", "update:1", {"update_id": 1})
    trips = Trips(monkeypatch)
    await updates.done("telegram", "update:1")
    assert trips.count <= 1, trips.count
    monkeypatch.undo()
    assert await updates.left("telegram") == []
    assert not await updates.keep("telegram", "update:1", {"update_id": 1})  # seen: not again


async def test_a_batch_is_recorded_as_begun_in_one_write(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not 20 writes at once (one per message, each a trip a user's reply waits behind): the
    claim's own write, and no other before the messages go."""
    outbox = Outbox(database)
    for n in range(20):
        await outbox.add("wa", f"user{n}", [body(n, f"user{n}")])
    writes: list[list[int]] = []
    record = outbox.mark_sending

    async def recorded(message_ids: list[int], since: float) -> None:
        writes.append(list(message_ids))
        await record(message_ids, since)

    monkeypatch.setattr(outbox, "mark_sending", recorded)
    begun: list[int] = []

    async def send(recipient: str, notice: Notice) -> str:
        # Every message of the batch is recorded as begun before any is sent (sends run side
        # by side: some of the others may be recorded as sent already).
        ((count,),) = await rows(
            database,
            "SELECT count(*) FROM outbox WHERE sending_since IS NOT NULL OR status = 'sent'",
        )
        begun.append(count)
        return "id"

    assert await OutboxWorker(outbox, "wa", send).drain() == 20
    assert writes == []  # the claim (due) recorded them all
    assert begun == [20] * 20
    assert await outbox.counts("wa") == {"sent": 20}


async def test_two_instances_claiming_at_once_never_take_the_same_message(
    database: Database, database_target: str
) -> None:
    """Only the holder of the channel's lease sends its outbox; should two ever claim side by
    side, each message is claimed once, and each recipient's messages stay in order."""
    first = Outbox(database)
    for n in range(150):
        await first.add("wa", f"user{n}", [body(1, f"user{n}"), body(2, f"user{n}")])
    async with Database(database_target) as other:
        second = Outbox(other)

        async def claims(outbox: Outbox) -> list[int]:
            taken: list[int] = []
            while batch := await outbox.due("wa", limit=7):
                taken += [message.id for message in batch]
                await asyncio.sleep(0)
            return taken

        mine, theirs = await asyncio.gather(claims(first), claims(second))
    assert not set(mine) & set(theirs)
    heads = await rows(database, "SELECT min(id) FROM outbox GROUP BY recipient")
    assert sorted(mine + theirs) == sorted(head for (head,) in heads)  # nobody's second yet
    assert await first.due("wa") == []  # claimed: not due for anyone until sent or run out
    await rows(database, "UPDATE outbox SET next_attempt_at = 0")  # the claims ran out
    again = await first.due("wa", limit=500)
    assert len(again) == 150 and all(message.sending_since for message in again)  # in doubt


@pytest.mark.skipif(not on_postgresql(), reason="row locks: SQLite has one writer at a time")
async def test_a_claim_skips_the_rows_another_claim_holds_locked(
    database: Database, database_target: str
) -> None:
    """FOR UPDATE SKIP LOCKED: while one claim's transaction is open, another takes other
    recipients' messages at once, not the locked ones, and not waiting for them."""
    outbox = Outbox(database)
    for n in range(10):
        await outbox.add("wa", f"user{n}", [body(1, f"user{n}"), body(2, f"user{n}")])
    async with Database(database_target) as other:
        async with database.transaction(concurrent=True) as connection:
            held = [row.id for row in await connection.execute(_claimable("wa", time.time(), 4))]
            taken = await asyncio.wait_for(Outbox(other).due("wa"), CLAIM_SECONDS / 4)
        assert len(held) == 4 and len(taken) == 6
        assert not set(held) & {message.id for message in taken}
        # The locked heads' recipients are not skipped to their second message.
        assert {message.payload["body"] for message in taken} == {"1"}


async def test_claims_left_by_an_earlier_holder_are_due_when_the_outbox_changes_hands(
    database: Database,
) -> None:
    """A claim keeps a message from other claimers for CLAIM_SECONDS; the instance that takes
    the channel's lease from one that died need not wait that long: the message is due at
    once, in doubt (asked about on WhatsApp, sent again elsewhere)."""
    outbox = Outbox(database)
    await outbox.add("wa", "alice", [Notice.reply("wa", "alice", "hello")])
    (claimed,) = await outbox.due("wa")  # the holder that dies before recording anything
    assert await outbox.due("wa") == []  # claimed: nobody else's for CLAIM_SECONDS
    assert await outbox.release_claims("tg") == 0  # another channel's outbox: untouched
    assert await outbox.release_claims("wa") == 1
    (again,) = await outbox.due("wa")
    assert again.id == claimed.id
    assert again.sending_since is not None  # in doubt
