"""This module contains the pacer: sends kept under a platform's rate limits, live replies first.

A platform caps what a bot sends (Telegram: about 30 messages a second in all, about one a
second to one chat, 20 a minute to a group) and answers more with errors and a wait. Waiting
for those errors lets a burst through and then stops everything; and a backlog of notices
(reminders, staff notices) would take the whole budget, each live reply queued behind it.

Each limit here is a sliding window: at most ``count`` sends in any ``seconds``. Live replies
are served before notices, and a notice may fill a window only up to ``count - reserve``: the
rest is kept for the replies to come, so a user is answered at once while a backlog drains.
A window may also spread the notices evenly (``even``): one every ``seconds / share``, not
a burst each time the window has room again; a burst of sends (each a request, a database
write, some CPU) would hold up the replies that arrive during it.
Channel-neutral, plain asyncio; the clock is the event loop unless a test gives its own.
"""

from __future__ import annotations

import asyncio
import collections
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

#: Added to the moment a send leaves a window, so that a wake-up at that moment finds it gone
#: whatever the rounding of floats.
EPSILON = 1e-6
#: Chats remembered before those with nothing left in their windows are forgotten.
CHATS_KEPT = 1024


@dataclass(frozen=True)
class Window:
    """At most ``count`` sends in any ``seconds``; notices leave ``reserve`` of them to replies."""

    count: int
    seconds: float
    reserve: int = 0
    even: bool = False

    def share(self, live: bool) -> int:
        return self.count if live else max(1, self.count - self.reserve)


class Timer(Protocol):
    def cancel(self) -> None: ...


class Clock(Protocol):
    """What the pacer needs of time: the event loop has both (``time``, ``call_at``)."""

    def time(self) -> float: ...

    def call_at(self, when: float, callback: Callable[[], object]) -> Timer: ...


class _Log:
    """The times of the sends still inside one window."""

    __slots__ = ("last_notice", "times", "window")

    def __init__(self, window: Window) -> None:
        self.window = window
        self.times: collections.deque[float] = collections.deque()
        self.last_notice = -math.inf

    def free_at(self, now: float, live: bool) -> float:
        """When one more send fits: ``now``, or when enough of the earlier ones leave."""
        times = self.times
        horizon = now - self.window.seconds
        while times and times[0] <= horizon:
            times.popleft()
        allowed = self.window.share(live)
        at = now
        if len(times) >= allowed:
            at = times[len(times) - allowed] + self.window.seconds + EPSILON
        if not live and self.window.even:
            at = max(at, self.last_notice + self.window.seconds / allowed)
        return at

    def empty(self, now: float) -> bool:
        return not self.times or self.times[-1] <= now - self.window.seconds


class _Chat:
    __slots__ = ("group", "held_until", "logs")

    def __init__(self, logs: tuple[_Log, ...]) -> None:
        self.logs = logs
        self.group = False
        self.held_until = 0.0


@dataclass
class _Waiter:
    chat: str
    group: bool
    live: bool
    granted: asyncio.Future[None]


class Pacer:
    """Lets each send go when every window it falls in has room: overall, its chat's, and
    a group's (a chat of many people); live replies before notices, in order of arrival.
    A window that is None is no limit."""

    def __init__(
        self,
        overall: Window | None,
        chat: Window | None,
        group: Window | None,
        clock: Clock | None = None,
    ) -> None:
        self._overall = _Log(overall) if overall is not None else None
        self._chat_window = chat
        self._group_window = group
        self._clock = clock
        self._chats: dict[str, _Chat] = {}
        self._sweep_at = CHATS_KEPT
        self._live: collections.deque[_Waiter] = collections.deque()
        self._notices: collections.deque[_Waiter] = collections.deque()
        self._timer: Timer | None = None
        self._timer_at = math.inf

    @property
    def clock(self) -> Clock:
        return self._clock if self._clock is not None else asyncio.get_running_loop()

    @property
    def waiting(self) -> int:
        """Sends waiting for their turn (live replies and notices)."""
        return len(self._live) + len(self._notices)

    async def turn(self, chat: str, *, live: bool, group: bool = False) -> None:
        """Wait until a message to ``chat`` may go; it is counted as sent from then on."""
        waiter = _Waiter(chat, group, live, asyncio.get_running_loop().create_future())
        (self._live if live else self._notices).append(waiter)
        self._dispatch()
        try:
            await waiter.granted
        except asyncio.CancelledError:
            queue = self._live if live else self._notices
            if waiter in queue:  # cancelled while waiting: its place goes to the next
                queue.remove(waiter)
                self._dispatch()
            raise

    def hold(self, chat: str, seconds: float) -> None:
        """Nothing more to ``chat`` for ``seconds`` (the platform asked us to wait)."""
        state = self._state(chat, group=False)
        state.held_until = max(state.held_until, self.clock.time() + seconds)
        self._dispatch()

    def _state(self, chat: str, group: bool) -> _Chat:
        state = self._chats.get(chat)
        if state is None:
            windows = (self._chat_window,) if self._chat_window is not None else ()
            state = self._chats[chat] = _Chat(tuple(_Log(window) for window in windows))
        if group and not state.group:  # first known as a group now (held before, say)
            state.group = True
            if self._group_window is not None:
                state.logs = (*state.logs, _Log(self._group_window))
        return state

    def _free_at(self, waiter: _Waiter, now: float) -> float:
        state = self._state(waiter.chat, waiter.group)
        at = max(now, state.held_until)
        for log in state.logs:
            at = max(at, log.free_at(now, waiter.live))
        if self._overall is not None:
            at = max(at, self._overall.free_at(now, waiter.live))
        return at

    def _count(self, waiter: _Waiter, now: float) -> None:
        logs = self._chats[waiter.chat].logs
        for log in (*logs, self._overall) if self._overall is not None else logs:
            log.times.append(now)
            if not waiter.live:
                log.last_notice = now
        if len(self._chats) >= self._sweep_at:
            self._sweep(now)

    def _sweep(self, now: float) -> None:
        """Forget the chats with nothing left in their windows (amortised: rarely)."""
        waiting = {waiter.chat for waiter in (*self._live, *self._notices)}
        self._chats = {
            chat: state
            for chat, state in self._chats.items()
            if chat in waiting
            or state.held_until > now
            or not all(log.empty(now) for log in state.logs)
        }
        self._sweep_at = max(CHATS_KEPT, 2 * len(self._chats))

    def _dispatch(self) -> None:
        """Let go every waiter that fits now, live ones first; wake up when the next fits."""
        now = self.clock.time()
        wake = math.inf
        for queue in (self._live, self._notices):
            for waiter in list(queue):
                if waiter.granted.done():  # cancelled, not yet taken out
                    queue.remove(waiter)
                    continue
                at = self._free_at(waiter, now)
                if at <= now:
                    queue.remove(waiter)
                    self._count(waiter, now)
                    waiter.granted.set_result(None)
                else:
                    wake = min(wake, at)
        self._schedule(wake)

    def _schedule(self, wake: float) -> None:
        if wake == self._timer_at:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = wake
        if wake != math.inf:
            self._timer = self.clock.call_at(wake, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = math.inf
        self._dispatch()
