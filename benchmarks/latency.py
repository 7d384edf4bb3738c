"""A user's reply latency while the content reloads: what users feel when an editor publishes.

Messages arrive at a fixed rate (open loop: one does not wait for the previous reply), each from
its own user, a mix of menu taps and free-text questions, and the engine answers them as it
does in ``serve``. Measured four times: at rest, while the content folder watch picks up an
edit (the catalog loads, a stop-gap understanding of the new content is worked out from the
model before), while the full model trains (in a child process) and replaces the stop-gap, and
at rest again. The understanding's model is trained for real (not read from a cache).

    .venv/bin/python -m benchmarks.latency [--rate 40] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.figures import latency_line
from bot.app import services
from bot.cli import SERVER_SWITCH_INTERVAL
from bot.config import PROJECT_ROOT, Settings
from bot.core.engine import Engine
from bot.core.messages import Incoming

QUESTIONS = (
    "come rinnovo il permesso di soggiorno?",
    "how can I bring my wife to Italy",
    "je veux la citoyenneté italienne",
    "ما هي وثائق تجديد الإقامة",
    "necesito un médico",
    "menu",
    "ہیلو، مجھے اپوائنٹمنٹ چاہیے",
    "test di italiano A2 dove si fa",
)


class Traffic:
    """Messages at a fixed rate, each from a new user; every reply's (sent at, latency)."""

    def __init__(self, engine: Engine, rate: float) -> None:
        self.engine = engine
        self.rate = rate
        self.replies: list[tuple[float, float]] = []
        self._pending: set[asyncio.Task[None]] = set()

    async def run(self) -> None:
        began = time.perf_counter()
        number = 0
        while True:
            await asyncio.sleep(max(0.0, began + number / self.rate - time.perf_counter()))
            task = asyncio.create_task(self._one(number))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)
            number += 1

    async def _one(self, number: int) -> None:
        text = QUESTIONS[number % len(QUESTIONS)]
        sent = time.perf_counter()
        await self.engine.handle(Incoming(channel="console", user_id=f"u{number}", text=text))
        self.replies.append((sent, time.perf_counter() - sent))

    def between(self, first: float, last: float) -> list[float]:
        return [latency for sent, latency in self.replies if first <= sent < last]


async def measure(rate: float, seconds: float, folder: Path) -> None:
    content = folder / "content"
    shutil.copytree(PROJECT_ROOT / "content", content)
    os.environ["SPORTELLO_CONTENT"] = str(content)
    os.environ["SPORTELLO_CACHE_DIR"] = str(folder / "cache")
    os.environ["SPORTELLO_DB"] = str(folder / "latency.sqlite3")
    settings = Settings.from_env()
    async with services(settings, channels=False) as bot:
        engine = bot.engine
        traffic = Traffic(engine, rate)
        sending = asyncio.create_task(traffic.run())
        watch = asyncio.create_task(bot.content.watch(0.5))  # as serve watches, more often
        await asyncio.sleep(1.0)  # warm up
        rest = time.perf_counter()
        await asyncio.sleep(seconds)
        # An editor's change: the watch loads it, the understanding of the new content trains.
        edited = time.perf_counter()
        before = bot.content()
        # A new sample message: the understanding has to learn it (no model on disk knows it).
        phrasings = content / "phrasings" / "it.yaml"
        text = phrasings.read_text(encoding="utf-8").replace(
            "\n  permit_renewal:\n",
            f'\n  permit_renewal:\n    - "rinnovo, prova {time.time()}"\n',
            1,
        )
        phrasings.write_text(text, encoding="utf-8")

        def answering_new_content() -> bool:
            current = bot.content()
            return current is not before and engine.understanding().catalog is current

        while bot.content() is before:  # noqa: ASYNC110 - the engine signals nothing
            await asyncio.sleep(0.01)
        loaded = time.perf_counter()
        while not answering_new_content():  # noqa: ASYNC110 - the engine signals nothing
            await asyncio.sleep(0.05)
        ready = time.perf_counter()
        while not engine.understanding().exact:  # noqa: ASYNC110 - the engine signals nothing
            await asyncio.sleep(0.05)
        full = time.perf_counter()
        await asyncio.sleep(seconds)
        done = time.perf_counter()
        sending.cancel()
        watch.cancel()
        await asyncio.sleep(0.5)
    print(
        f"{rate:.0f} messages a second; the new content loaded {loaded - edited:.1f} s after "
        f"the edit, answered {ready - edited:.1f} s after, by its full model {full - edited:.1f} s"
    )
    latency_line("at rest", traffic.between(rest, edited), 44)
    latency_line("while the new content loads (to a stop-gap)", traffic.between(edited, ready), 44)
    latency_line("of those, once it loaded (the stop-gap's)", traffic.between(loaded, ready), 44)
    latency_line("while the full model trains elsewhere", traffic.between(ready, full), 44)
    latency_line("from the edit to the full model", traffic.between(edited, full), 44)
    latency_line("after", traffic.between(full, done), 44)
    slowest = sorted(traffic.replies, key=lambda reply: reply[1])[-3:]
    shown = ", ".join(f"{late * 1000:.0f} ms at {sent - edited:+.2f} s" for sent, late in slowest)
    print(f"slowest replies (sent from the edit): {shown}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Reply latency while the content reloads.")
    parser.add_argument("--rate", type=float, default=40.0, help="messages a second")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds of each phase")
    args = parser.parse_args()
    sys.setswitchinterval(SERVER_SWITCH_INTERVAL)  # as serve runs
    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(measure(args.rate, args.seconds, Path(folder)))


if __name__ == "__main__":
    main()
