"""This module contains the bot's metrics, in Prometheus' text format, and channel health.

Counters live in memory and start again at zero with the process, as Prometheus expects;
what the database knows (outbox, bookings) is read when scraped. Labels are channels and
statuses only: never a user, a phone number or a text.
"""

from __future__ import annotations

import bisect
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from bot.channels.base import Handler
from bot.core.messages import Incoming, Reply
from bot.storage.db import Database
from bot.storage.health import OutboxState, bookings_by_status, outbox_states

#: Upper bounds, in seconds, of the reply latency histogram's buckets.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Histogram:
    def __init__(self) -> None:
        self.buckets = [0] * len(LATENCY_BUCKETS)
        self.count = 0
        self.total = 0.0

    def observe(self, seconds: float) -> None:
        index = bisect.bisect_left(LATENCY_BUCKETS, seconds)
        if index < len(self.buckets):
            self.buckets[index] += 1
        self.count += 1
        self.total += seconds


class Metrics:
    """What the running bot counts, per channel."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.received: defaultdict[str, int] = defaultdict(int)
        self.replies: defaultdict[str, int] = defaultdict(int)
        self.sent: defaultdict[str, int] = defaultdict(int)
        self.send_errors: defaultdict[str, int] = defaultdict(int)
        self.last_sent_at: dict[str, float] = {}
        self.latency: defaultdict[str, _Histogram] = defaultdict(_Histogram)
        #: Channels that send through the outbox: their series exist from the start, at zero.
        self.outbox_channels: set[str] = set()

    def expect(self, *channels: str) -> None:
        """Give these outbox channels zero-valued series now, before their first message:
        a graph or an alert then sees 0 rather than no data (and a counter's first rise)."""
        for channel in channels:
            self.outbox_channels.add(channel)
            self.sent.setdefault(channel, 0)
            self.send_errors.setdefault(channel, 0)

    def message_sent(self, channel: str, count: int = 1) -> None:
        if count > 0:
            self.sent[channel] += count
            self.last_sent_at[channel] = self.clock()

    def send_failed(self, channel: str) -> None:
        self.send_errors[channel] += 1

    def listen(self, *channels: str) -> None:
        """Channels users write to: what they receive and answer counts from zero too."""
        for channel in channels:
            self.received.setdefault(channel, 0)
            self.replies.setdefault(channel, 0)

    async def render(self, database: Database | None) -> str:
        """The Prometheus text exposition of everything known now."""
        lines: list[str] = []
        _counter(lines, "messages_received", "Messages received from users.", self.received)
        _counter(lines, "replies", "Replies the bot composed for users.", self.replies)
        _counter(lines, "messages_sent", "Messages a platform accepted.", self.sent)
        _counter(lines, "send_errors", "Attempts to send that failed.", self.send_errors)
        name = "sportello_reply_seconds"
        lines += [
            f"# HELP {name} Time to compose the replies to one message.",
            f"# TYPE {name} histogram",
        ]
        for channel, histogram in sorted(self.latency.items()):
            cumulative = 0
            for bound, count in zip(LATENCY_BUCKETS, histogram.buckets, strict=True):
                cumulative += count
                lines.append(f'{name}_bucket{{channel="{channel}",le="{bound}"}} {cumulative}')
            lines.append(f'{name}_bucket{{channel="{channel}",le="+Inf"}} {histogram.count}')
            lines.append(f'{name}_sum{{channel="{channel}"}} {histogram.total:.6f}')
            lines.append(f'{name}_count{{channel="{channel}"}} {histogram.count}')
        if database is not None:
            states = await outbox_states(database)
            for channel in self.outbox_channels:
                states.setdefault(channel, OutboxState(channel))
            _outbox(lines, states.values())
            bookings = await bookings_by_status(database)
            name = "sportello_bookings"
            lines += [f"# HELP {name} Appointments by status.", f"# TYPE {name} gauge"]
            for status in ("active", "cancelled", "attended", "no_show"):
                lines.append(f'{name}{{status="{status}"}} {bookings.get(status, 0)}')
        return "\n".join(lines) + "\n"

    async def channel_health(
        self, database: Database | None, channels: Iterable[str]
    ) -> dict[str, dict[str, Any]]:
        """Per channel: the outbox backlog and failures, and the last successful send."""
        states = await outbox_states(database) if database is not None else {}
        now = self.clock()
        health: dict[str, dict[str, Any]] = {}
        for channel in sorted({*channels, *states, *self.last_sent_at}):
            state = states.get(channel, OutboxState(channel))
            sent_times = [t for t in (state.last_sent_at, self.last_sent_at.get(channel)) if t]
            health[channel] = {
                "last_sent": _iso(max(sent_times)) if sent_times else None,
                "backlog": state.backlog,
                "oldest_pending_seconds": round(now - state.oldest_pending_at, 1)
                if state.oldest_pending_at is not None
                else None,
                "failed": state.counts.get("failed", 0),
                "refused": state.counts.get("refused", 0),
            }
        return health


class MeteredHandler:
    """The engine as the channels see it (``bot.channels.base.Handler``), counting messages
    and timing the replies."""

    def __init__(self, engine: Handler, metrics: Metrics) -> None:
        self.engine = engine
        self.metrics = metrics

    async def handle(self, incoming: Incoming) -> list[Reply]:
        self.metrics.received[incoming.channel] += 1
        started = time.perf_counter()
        replies = await self.engine.handle(incoming)
        self.metrics.latency[incoming.channel].observe(time.perf_counter() - started)
        self.metrics.replies[incoming.channel] += len(replies)
        return replies

    async def language_of(self, channel: str, user_id: str) -> str:
        return await self.engine.language_of(channel, user_id)

    async def forget(self, channel: str, user_id: str) -> None:
        await self.engine.forget(channel, user_id)


def _counter(lines: list[str], name: str, text: str, values: dict[str, int]) -> None:
    name = f"sportello_{name}_total"
    lines += [f"# HELP {name} {text}", f"# TYPE {name} counter"]
    lines += [f'{name}{{channel="{channel}"}} {value}' for channel, value in sorted(values.items())]


def _outbox(lines: list[str], states: Iterable[OutboxState]) -> None:
    states = sorted(states, key=lambda state: state.channel)
    name = "sportello_outbox_messages"
    lines += [f"# HELP {name} Messages in the outbox by status.", f"# TYPE {name} gauge"]
    for state in states:
        for status in ("pending", "sent", "failed", "refused"):
            value = state.counts.get(status, 0)
            lines.append(f'{name}{{channel="{state.channel}",status="{status}"}} {value}')
    name = "sportello_outbox_last_sent_timestamp_seconds"
    lines += [f"# HELP {name} When the outbox last sent a message.", f"# TYPE {name} gauge"]
    for state in states:
        if state.last_sent_at is not None:
            lines.append(f'{name}{{channel="{state.channel}"}} {state.last_sent_at:.3f}')
    name = "sportello_outbox_oldest_pending_seconds"
    lines += [f"# HELP {name} Age of the oldest message waiting.", f"# TYPE {name} gauge"]
    now = time.time()
    for state in states:
        age = now - state.oldest_pending_at if state.oldest_pending_at is not None else 0.0
        lines.append(f'{name}{{channel="{state.channel}"}} {age:.1f}')


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
