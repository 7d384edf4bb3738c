"""The pacer: live replies before a backlog of notices, and no window ever over its limit."""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.notify.pacing import Pacer, Window


@dataclass
class _Timer:
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class FakeClock:
    """Time that moves only when the test says; the pacer's wake-ups run in order."""

    now: float = 1000.0
    _timers: list[tuple[float, int, _Timer, Callable[[], object]]] = field(default_factory=list)
    _numbers: itertools.count[int] = field(default_factory=itertools.count)

    def time(self) -> float:
        return self.now

    def call_at(self, when: float, callback: Callable[[], object]) -> _Timer:
        timer = _Timer()
        heapq.heappush(self._timers, (when, next(self._numbers), timer, callback))
        return timer

    async def run_until(self, when: float) -> None:
        await settle()
        while self._timers and self._timers[0][0] <= when:
            at, _, timer, callback = heapq.heappop(self._timers)
            if timer.cancelled:
                continue
            self.now = max(self.now, at)
            callback()
            await settle()
        self.now = max(self.now, when)
        await settle()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@dataclass
class Sends:
    """Sends through a pacer, each recorded at the fake time it was let go."""

    pacer: Pacer
    clock: FakeClock
    sent: list[tuple[float, str, bool]] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self, chat: str, live: bool, group: bool = False) -> asyncio.Task[None]:
        async def one() -> None:
            await self.pacer.turn(chat, live=live, group=group)
            self.sent.append((self.clock.now, chat, live))

        task = asyncio.create_task(one())
        self.tasks.append(task)
        return task

    def times(self, chat: str | None = None, live: bool | None = None) -> list[float]:
        return [
            at
            for at, to, was_live in self.sent
            if (chat is None or to == chat) and (live is None or was_live == live)
        ]


def most_in_any_window(times: list[float], seconds: float) -> int:
    """The most sends in any window of ``seconds`` (each window starting at a send)."""
    ordered = sorted(times)
    return max(
        (bisect.bisect_left(ordered, start + seconds) - i for i, start in enumerate(ordered)),
        default=0,
    )


def pacer(
    clock: FakeClock,
    overall: Window | None = None,
    chat: Window | None = None,
    group: Window | None = None,
) -> Pacer:
    return Pacer(overall=overall, chat=chat, group=group, clock=clock)


async def test_a_live_reply_goes_before_the_backlog_of_notices() -> None:
    clock = FakeClock()
    sends = Sends(pacer(clock, overall=Window(30, 1.0)), clock)
    for number in range(200):
        sends.start(f"user{number}", live=False)
    await clock.run_until(clock.now + 2.5)
    assert len(sends.sent) == 90  # three windows' worth: the backlog is draining
    sends.start("asker", live=True)
    await clock.run_until(clock.now + 10.0)
    assert len(sends.sent) == 201
    order = [chat for _, chat, _ in sends.sent]
    assert order.index("asker") == 90  # before every notice still queued
    assert sends.times("asker")[0] < 1003.01  # at the next window, not behind 110 notices


async def test_notices_leave_the_reserve_to_replies_which_go_at_once() -> None:
    clock = FakeClock()
    sends = Sends(pacer(clock, overall=Window(30, 1.0, reserve=10)), clock)
    for number in range(100):
        sends.start(f"user{number}", live=False)
    await clock.run_until(clock.now + 0.5)
    assert len(sends.sent) == 20  # notices stop at 30 - 10 in the window
    for number in range(10):
        sends.start(f"asker{number}", live=True)
    await settle()
    assert sends.times(live=True) == [clock.now] * 10  # no wait at all
    await clock.run_until(clock.now + 10.0)
    assert most_in_any_window(sends.times(live=False), 1.0) <= 20
    assert most_in_any_window(sends.times(), 1.0) <= 30


async def test_overall_never_over_its_limit_in_any_second() -> None:
    clock = FakeClock()
    sends = Sends(pacer(clock, overall=Window(30, 1.0, reserve=10)), clock)
    for number in range(300):
        sends.start(f"user{number}", live=number % 3 == 0)
        if number % 7 == 0:
            await clock.run_until(clock.now + 0.05)
    await clock.run_until(clock.now + 30.0)
    assert len(sends.sent) == 300
    assert most_in_any_window(sends.times(), 1.0) == 30  # used to the full, never beyond


async def test_one_chat_never_over_its_rate() -> None:
    clock = FakeClock()
    sends = Sends(pacer(clock, overall=Window(30, 1.0), chat=Window(3, 3.0, reserve=1)), clock)
    for number in range(20):
        sends.start("user", live=number % 2 == 0)
    await clock.run_until(clock.now + 30.0)
    assert len(sends.sent) == 20
    assert most_in_any_window(sends.times("user"), 3.0) == 3
    assert most_in_any_window(sends.times("user"), 1.0) <= 3
    assert sends.times("user")[-1] - sends.times("user")[0] >= 17.0  # about one a second


async def test_the_group_never_over_twenty_in_any_minute() -> None:
    clock = FakeClock()
    group = Window(20, 60.0, reserve=5)
    sends = Sends(pacer(clock, Window(30, 1.0), Window(3, 3.0), group), clock)
    for number in range(60):
        sends.start("-100", live=number % 4 == 0, group=True)
        sends.start(f"user{number}", live=False)  # private chats are not held back by it
    await clock.run_until(clock.now + 200.0)
    assert len(sends.times("-100")) == 60
    assert most_in_any_window(sends.times("-100"), 60.0) <= 20
    assert most_in_any_window(sends.times("-100", live=False), 60.0) <= 15
    assert max(at for at, chat, _ in sends.sent if chat != "-100") < 1004.0


async def test_a_group_held_before_its_first_send_keeps_its_limit() -> None:
    clock = FakeClock()
    sends = Sends(pacer(clock, group=Window(20, 60.0)), clock)
    sends.pacer.hold("-100", 1.0)  # a 429 before the pacer knew it for a group
    for _ in range(25):
        sends.start("-100", live=True, group=True)
    await clock.run_until(clock.now + 120.0)
    assert len(sends.sent) == 25
    assert most_in_any_window(sends.times(), 60.0) == 20


async def test_a_chat_told_to_wait_waits_and_others_do_not() -> None:
    clock = FakeClock()
    sends = Sends(pacer(clock, overall=Window(30, 1.0)), clock)
    subject = pacer(clock)  # no limits: only the hold
    sends.pacer = subject
    subject.hold("user", 5.0)
    sends.start("user", live=True)
    sends.start("other", live=True)
    await clock.run_until(clock.now + 10.0)
    assert sends.times("other") == [1000.0]
    assert sends.times("user") == [1005.0]


async def test_a_cancelled_send_gives_its_turn_to_the_next() -> None:
    clock = FakeClock()
    sends = Sends(pacer(clock, overall=Window(1, 1.0)), clock)
    sends.start("first", live=False)
    cancelled = sends.start("second", live=False)
    sends.start("third", live=False)
    await settle()
    cancelled.cancel()
    await clock.run_until(clock.now + 5.0)
    assert [chat for _, chat, _ in sends.sent] == ["first", "third"]
    assert sends.times("third") == [sends.times("first")[0] + 1.0 + 1e-6]
    assert sends.pacer.waiting == 0


async def test_an_even_window_spreads_the_notices_and_replies_still_go_at_once() -> None:
    """Not 20 notices at once each time the window has room (a burst, which held up the
    replies arriving during it), but one every 1/20 s; replies never wait for them."""
    clock = FakeClock()
    sends = Sends(pacer(clock, overall=Window(30, 1.0, reserve=10, even=True)), clock)
    for number in range(100):
        sends.start(f"user{number}", live=False)
    await clock.run_until(clock.now + 0.52)
    assert len(sends.sent) == 11  # at 0, 0.05, ... 0.5
    for number in range(5):
        sends.start(f"asker{number}", live=True)
    await settle()
    assert sends.times(live=True) == [clock.now] * 5  # no wait at all
    await clock.run_until(clock.now + 10.0)
    notices = sends.times(live=False)
    assert len(notices) == 100
    gaps = [later - earlier for earlier, later in itertools.pairwise(notices)]
    assert min(gaps) >= 0.05 - 1e-9
    assert most_in_any_window(notices, 1.0) <= 20
    assert most_in_any_window(sends.times(), 1.0) <= 30


async def test_an_uneven_window_lets_notices_go_as_soon_as_it_has_room() -> None:
    clock = FakeClock()
    sends = Sends(pacer(clock, overall=Window(30, 1.0, reserve=10)), clock)
    for number in range(40):
        sends.start(f"user{number}", live=False)
    await settle()
    assert sends.times() == [clock.now] * 20
