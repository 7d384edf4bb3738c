"""Telegram throughput and latency: the real ``sportello serve`` against a bare PTB echo bot.

Three kinds of process, all on 127.0.0.1, so that none steals the others' event loop:

- the fake Bot API of the tests (``tests/auxil/fake_telegram.py``), one process per bot: it
  prints a line for every ``sendMessage`` (chat and time), which is how the load generator
  learns a reply went out;
- the bot under test: ``python -m bot serve`` with ``TELEGRAM_BOT_TOKEN`` and
  ``TELEGRAM_API_URL`` pointing at its fake (webhook mode: ``TELEGRAM_WEBHOOK_URL`` too), or a
  bare python-telegram-bot echo bot (``echo-bot`` below) served by uvicorn the same way;
- the load generator: this process. Webhook mode POSTs updates to the bot's webhook; polling
  mode queues them in the fake API, where the bot's ``getUpdates`` fetches them.

Both bots are started once and warmed up (the start and the first questions, which build the
search index, are not measured); then the runs alternate A, B, A, B... Each run measures, per
bot, with the other one idle:

- closed loop: ``--users`` users each walk a six-step visit, waiting for the reply before the
  next step, for ``--seconds``; throughput = replies per second;
- open loop: updates at a fixed ``--rate``, each from a new user, whether or not the earlier
  ones were answered, for ``--seconds``; latency = POST (or queueing) to the first
  ``sendMessage`` to that chat, p50 and p99;
- CPU milliseconds per update of the bot process (user + system, all threads, from /proc),
  and beside it those of its fake API and of the load generator (if those near a core's worth,
  they, not the bot, limit the figures); and how many messages the bot sent per update.

Nothing here can hang: every wait has a timeout, every process is killed on the way out, a
failed POST or an unanswered update is counted (and printed) instead of stopping the run, and a
bot that died is started again for the next run (the failed run says why). Min and median over
the runs are printed at the end. Linux only (/proc).

    .venv/bin/python -m benchmarks.telegram_throughput [--runs 5] [--users 20] [--rate 50]
        [--seconds 5] [--mode webhook|polling]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import signal
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import httpx

from benchmarks.figures import percentile
from benchmarks.processes import cpu_seconds, run_in_scratch_folder
from benchmarks.telegram_load import POST_TIMEOUT, Connections, PostFailed, telegram_update
from bot.config import PROJECT_ROOT
from tests.auxil.fake_telegram import free_port

SECRET = "benchmark-secret"
TOKEN = "123456:TEST-token"
# A typical visit: start, open a menu, a topic, back, a typed question, home.
STEPS: tuple[tuple[str, str], ...] = (
    ("text", "/start"),
    ("button", "go:menu_permits"),
    ("button", "go:permit_renewal"),
    ("button", "nav:back"),
    ("text", "come rinnovo il permesso di soggiorno"),
    ("button", "nav:home"),
)
REPLY_TIMEOUT = 10.0  # seconds: an update unanswered this long is counted lost
START_TIMEOUT = 120.0  # serve trains the understanding of the content when its cache is cold
# After a start, closed-loop traffic for this long is not measured: the first questions build
# the search index, and even the echo bot answers about half as fast in its first 5-10 s.
START_WARMUP = 10.0


class RunFailed(Exception):
    """A bot died or could not start: the run says why, and the next one goes on."""


# -- the processes --------------------------------------------------------------------------


class Replies:
    """Reads the fake API's "sent <chat> <time>" lines; resolves whoever waits for that chat."""

    def __init__(self) -> None:
        self.waiting: dict[int, asyncio.Future[float]] = {}
        self.sent = 0

    async def read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            parts = line.split()
            if len(parts) != 3 or parts[0] != b"sent":
                continue
            self.sent += 1
            future = self.waiting.pop(int(parts[1]), None)
            if future is not None and not future.done():
                future.set_result(float(parts[2]))

    def expect(self, chat: int) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[chat] = future
        return future


@dataclass
class Bot:
    """One bot under test and its own fake Bot API, each a process of its own."""

    name: str
    command: list[str]
    environment: dict[str, str]
    folder: Path
    mode: str
    api_port: int = field(default_factory=free_port)
    port: int = field(default_factory=free_port)
    api: asyncio.subprocess.Process | None = None
    process: asyncio.subprocess.Process | None = None
    replies: Replies = field(default_factory=Replies)
    _reader: asyncio.Task[None] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def alive(self) -> bool:
        return all(p is not None and p.returncode is None for p in (self.api, self.process))

    @property
    def exited(self) -> bool:
        """A process of it that was started has ended."""
        return any(p is not None and p.returncode is not None for p in (self.api, self.process))

    async def start(self, client: httpx.AsyncClient) -> None:
        await self.stop()
        self.api = self.process = None  # what ended before is no reason to give up now
        self.api_port, self.port, self.replies = free_port(), free_port(), Replies()
        with self._log("api") as log:
            self.api = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks.telegram_throughput", "fake-api",
                "--port", str(self.api_port),
                cwd=PROJECT_ROOT, stdout=asyncio.subprocess.PIPE, stderr=log,
            )  # fmt: skip
        assert self.api.stdout is not None
        self._reader = asyncio.create_task(self.replies.read(self.api.stdout))
        await _until(lambda: _answers(client, f"{self.api_url}/bot{TOKEN}/getMe"), 30, self)
        environment = {
            **self.environment,
            "PORT": str(self.port),
            "TELEGRAM_API_URL": self.api_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
        }
        if self.mode == "webhook":
            environment["TELEGRAM_WEBHOOK_URL"] = f"{self.base}/telegram"
            environment["TELEGRAM_WEBHOOK_SECRET"] = SECRET
        with self._log("bot") as log:
            self.process = await asyncio.create_subprocess_exec(
                *self.command, cwd=self.folder, env=environment,
                stdout=log, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        await _until(lambda: _ready(client, f"{self.base}/healthz"), START_TIMEOUT, self)

    def _log_path(self, part: str) -> Path:
        return self.folder / f"{self.name.split()[0]}-{part}.log"

    def _log(self, part: str) -> IO[bytes]:
        return self._log_path(part).open("ab")

    async def stop(self) -> None:
        for process in (self.process, self.api):
            if process is None or process.returncode is not None:
                continue
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await asyncio.wait_for(process.wait(), 10)
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def kill(self) -> None:
        """Last resort, synchronous: in ``finally`` whatever happened."""
        for process in (self.process, self.api):
            if process is not None and process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()

    def meter(self) -> tuple[float, float, float, float]:
        """CPU seconds so far of the bot, its fake API and the load generator (this one);
        messages sent so far."""
        assert self.process is not None and self.api is not None
        return (
            cpu_seconds(self.process.pid),
            cpu_seconds(self.api.pid),
            time.process_time(),
            self.replies.sent,
        )

    def tail(self) -> str:
        """The end of its logs (and of its fake API's), to say why it failed."""
        said = []
        for part in ("api", "bot"):
            with contextlib.suppress(OSError):
                text = self._log_path(part).read_text(encoding="utf-8", errors="replace")
                said.append(f"[{part}] {text[-800:].strip()}")
        return "\n".join(said)

    def connections(self) -> Connections:
        """Where updates go: the webhook, or the fake API's queue for getUpdates."""
        return Connections(self.port if self.mode == "webhook" else self.api_port)

    async def post(self, connections: Connections, update: dict[str, Any]) -> None:
        """Deliver one update (raises PostFailed)."""
        body = json.dumps(update).encode()
        if self.mode == "webhook":
            secret = f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n"
            await connections.post("/telegram", body, secret)
        else:
            await connections.post("/queue", body)


async def _answers(client: httpx.AsyncClient, url: str) -> bool:
    return (await client.get(url, timeout=2)).status_code == 200


async def _ready(client: httpx.AsyncClient, url: str) -> bool:
    answer = await client.get(url, timeout=2)
    return answer.status_code == 200 and answer.json().get("telegram_connected", True)


async def _until(check: Callable[[], Awaitable[bool]], seconds: float, bot: Bot) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if bot.exited:
            raise RunFailed(f"{bot.name} exited while starting:\n{bot.tail()}")
        with contextlib.suppress(httpx.TransportError, ValueError):
            if await check():
                return
        await asyncio.sleep(0.1)
    raise RunFailed(f"{bot.name} not ready after {seconds:.0f} s:\n{bot.tail()}")


# -- the load ---------------------------------------------------------------------------------


@dataclass
class Phase:
    """What one measured phase saw."""

    answered: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    lost: int = 0  # posted, no reply within REPLY_TIMEOUT
    errors: Counter[str] = field(default_factory=Counter)  # failed posts, by kind
    cpu_ms: float = float("nan")  # bot CPU per answered update
    api_cpu_ms: float = float("nan")
    load_cpu_ms: float = float("nan")  # this process's
    messages: float = float("nan")  # sendMessage per answered update

    @property
    def per_second(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def problems(self) -> str:
        said = [f"{self.lost} unanswered"] if self.lost else []
        said += [f"{count} x {kind}" for kind, count in sorted(self.errors.items())]
        return ", ".join(said)


class Load:
    """Sends updates to one bot and times its replies; never raises for a failed one."""

    def __init__(self, bot: Bot, numbers: Iterator[int]) -> None:
        self.bot = bot
        self.connections = bot.connections()
        self.numbers = numbers

    async def one(self, user: int, step: int, phase: Phase | None) -> float | None:
        """One update and its reply; its latency, or None (counted in ``phase``)."""
        kind, value = STEPS[step % len(STEPS)]
        reply = self.bot.replies.expect(user)
        began = time.monotonic()
        try:
            await self.bot.post(
                self.connections, telegram_update(user, next(self.numbers), kind, value)
            )
        except PostFailed as error:
            self._failed(user, phase, str(error))
            return None
        try:
            answered = await asyncio.wait_for(reply, REPLY_TIMEOUT)
        except TimeoutError:
            self.bot.replies.waiting.pop(user, None)
            if phase is not None:
                phase.lost += 1
            return None
        return answered - began

    def _failed(self, user: int, phase: Phase | None, kind: str) -> None:
        self.bot.replies.waiting.pop(user, None)
        if phase is not None:
            phase.errors[kind] += 1

    async def closed(self, users: int, warmup: float, seconds: float, first: int) -> Phase:
        """``users`` each wait for a reply before the next step; replies counted after
        ``warmup`` for ``seconds``."""
        phase = Phase(seconds=seconds)
        began = time.monotonic()
        measured, end = began + warmup, began + warmup + seconds
        cpu_before: Meter | None = None

        async def user(number: int) -> None:
            for step in itertools.count(number):  # users start at different steps
                if time.monotonic() >= end:
                    return
                sent = time.monotonic()
                latency = await self.one(first + number, step, phase if sent >= measured else None)
                if latency is None:
                    await asyncio.sleep(0.05)  # a failed post: not a busy loop
                elif measured <= sent + latency < end:
                    phase.answered += 1
                    phase.latencies.append(latency)

        async def meter() -> None:
            nonlocal cpu_before
            await asyncio.sleep(warmup)
            cpu_before = self.bot.meter()

        async with asyncio.timeout(warmup + seconds + REPLY_TIMEOUT + POST_TIMEOUT + 10):
            async with asyncio.TaskGroup() as group:
                group.create_task(meter())
                for number in range(users):
                    group.create_task(user(number))
                await asyncio.sleep(max(0.0, end - time.monotonic()))
                _charge(phase, cpu_before, self.bot.meter())
        return phase

    async def open(self, rate: float, seconds: float, first: int) -> Phase:
        """One update every 1/``rate`` s, each from a new user, answered or not."""
        phase = Phase(seconds=seconds)
        cpu_before = self.bot.meter()
        began = time.monotonic()
        tasks: set[asyncio.Task[None]] = set()

        async def one(number: int) -> None:
            latency = await self.one(first + number, number, phase)
            if latency is not None:
                phase.answered += 1
                phase.latencies.append(latency)

        try:
            async with asyncio.timeout(seconds + REPLY_TIMEOUT + POST_TIMEOUT + 10):
                for number in range(int(rate * seconds)):
                    await asyncio.sleep(max(0.0, began + number / rate - time.monotonic()))
                    tasks.add(asyncio.create_task(one(number)))
                await asyncio.gather(*tasks)
        finally:
            for task in tasks:
                task.cancel()
        _charge(phase, cpu_before, self.bot.meter())
        phase.seconds = seconds
        return phase


Meter = tuple[float, float, float, float]


def _charge(phase: Phase, before: Meter | None, after: Meter) -> None:
    """Per answered update: CPU ms of the bot, its API and the generator; messages sent."""
    if before is not None and phase.answered:
        bot, api, load, sent = (
            later - earlier for earlier, later in zip(before, after, strict=True)
        )
        phase.cpu_ms, phase.api_cpu_ms, phase.load_cpu_ms = (
            seconds * 1000 / phase.answered for seconds in (bot, api, load)
        )
        phase.messages = sent / phase.answered


# -- the runs ---------------------------------------------------------------------------------


@dataclass
class Figures:
    throughput: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    failed: int = 0


def _phase_line(label: str, phase: Phase) -> str:
    if not phase.latencies:
        return f"    {label:<7} nothing answered  {phase.problems()}"
    return (
        f"    {label:<7} {phase.answered:>5} answered {phase.per_second:7.1f}/s  "
        f"p50 {statistics.median(phase.latencies) * 1000:6.1f} ms  "
        f"p99 {percentile(phase.latencies, 0.99) * 1000:7.1f} ms  "
        f"cpu {phase.cpu_ms:5.2f} ms/update "
        f"(api {phase.api_cpu_ms:4.2f}, load {phase.load_cpu_ms:4.2f})  "
        f"{phase.messages:3.1f} msg/update  "
        f"{phase.problems()}"
    )


def _environment(folder: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(folder),
        "OPENBLAS_NUM_THREADS": "1",
        "PYTHONPATH": str(PROJECT_ROOT),
        "HOST": "127.0.0.1",
        "SPORTELLO_DB": str(folder / "bench.sqlite3"),
        "SPORTELLO_CONTENT": str(PROJECT_ROOT / "content"),
        "SPORTELLO_CACHE_DIR": str(folder / "cache"),
        "SPORTELLO_AGENDA_HOUR": "off",
        "SPORTELLO_LOG_LEVEL": "WARNING",
        "TELEGRAM_RATE_LIMIT": "1000",
        # Telegram's real cap of ~30 sends/s would be all this measured: lift it, as the
        # echo bot has none. The fake server answers as fast as it can.
        "TELEGRAM_MAX_SENDS_PER_SECOND": "0",
    }


@dataclass
class Counters:
    """Update ids, unique over the whole benchmark; each phase's first user, so that every
    phase has users of its own."""

    updates: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    users: Iterator[int] = field(default_factory=lambda: itertools.count(1_000_000, 100_000))


async def _run(
    bot: Bot, run: int, args: argparse.Namespace, client: httpx.AsyncClient, ids: Counters
) -> tuple[Phase, Phase] | None:
    """One run of one bot (None for run 0, the warm-up); raises RunFailed."""
    restarted = not bot.alive
    if restarted:
        if run:
            print(f"  {bot.name}: not running, started again", flush=True)
        await bot.start(client)
    load = Load(bot, ids.updates)
    try:
        if restarted:  # neither the start nor the first questions are measured
            await load.closed(args.users, 0, START_WARMUP, next(ids.users))
        if not run:
            return None
        phases = (
            await load.closed(args.users, args.warmup, args.seconds, next(ids.users)),
            await load.open(args.rate, args.seconds, next(ids.users)),
        )
    finally:
        load.connections.close()
    if not bot.alive:
        lines = "\n".join(_phase_line(label, p) for label, p in zip(LABELS, phases, strict=True))
        raise RunFailed(f"it died during the run:\n{lines}\n{bot.tail()}")
    return phases


LABELS = ("closed", "open")


async def measure(args: argparse.Namespace, folder: Path) -> None:
    environment = _environment(folder)
    module = [sys.executable, "-m"]
    echo = ["benchmarks.telegram_throughput", "echo-bot", "--mode", args.mode]
    bots = [
        Bot("sportello serve", [*module, "bot", "serve"], environment, folder, args.mode),
        Bot("bare PTB echo", [*module, *echo], environment, folder, args.mode),
    ]
    figures = {bot.name: (Figures(), Figures()) for bot in bots}
    ids = Counters()
    print(
        f"{args.mode} mode, fake Bot API on 127.0.0.1; {args.runs} runs interleaved; "
        f"closed loop {args.users} users, open loop {args.rate:g} updates/s; "
        f"{args.seconds:g} s each after {args.warmup:g} s of warm-up",
        flush=True,
    )
    async with httpx.AsyncClient() as client:  # only to see that the processes are ready
        try:
            for run in range(args.runs + 1):  # run 0: start and warm up, not counted
                print(f"run {run}" if run else "start and warm-up (not counted)", flush=True)
                for bot in bots:
                    closed, opened = figures[bot.name]
                    try:
                        phases = await _run(bot, run, args, client, ids)
                    except Exception as error:  # a failed run says why, and the next goes on
                        closed.failed += 1
                        print(f"  {bot.name}: run failed: {type(error).__name__}: {error}")
                        bot.kill()
                        continue
                    if phases is None:
                        continue
                    print(f"  {bot.name}", flush=True)
                    for label, phase in zip(LABELS, phases, strict=True):
                        print(_phase_line(label, phase), flush=True)
                    phase, spread = phases
                    closed.throughput.append(phase.per_second)
                    closed.cpu_ms.append(phase.cpu_ms)
                    if spread.latencies:
                        opened.p50.append(statistics.median(spread.latencies) * 1000)
                        opened.p99.append(percentile(spread.latencies, 0.99) * 1000)
                        opened.cpu_ms.append(spread.cpu_ms)
        finally:
            for bot in bots:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(bot.stop(), 30)
                bot.kill()
    _summary(figures)


def _summary(figures: dict[str, tuple[Figures, Figures]]) -> None:
    def both(values: list[float], form: str) -> str:
        if not values:
            return "-"
        return f"{form.format(min(values))} / {form.format(statistics.median(values))}"

    print("\nmin / median over the runs")
    for name, (closed, opened) in figures.items():
        failed = f"   {closed.failed} runs failed" if closed.failed else ""
        print(
            f"  {name:<16} closed loop {both(closed.throughput, '{:.1f}')} updates/s, "
            f"cpu {both(closed.cpu_ms, '{:.2f}')} ms/update{failed}"
        )
        print(
            f"  {'':<16} open loop   p50 {both(opened.p50, '{:.1f}')} ms, "
            f"p99 {both(opened.p99, '{:.1f}')} ms, cpu {both(opened.cpu_ms, '{:.2f}')} ms/update"
        )
    ours, echo = (figures[name][0].throughput for name in figures)
    if ours and echo:
        ratio = statistics.median(ours) / statistics.median(echo)
        print(f"  throughput ratio sportello / bare echo (medians): {ratio:.2f}")


# -- the other two processes --------------------------------------------------------------------


def fake_api(port: int) -> None:
    """The tests' fake Bot API, printing "sent <chat> <time>" for every sendMessage."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from tests.auxil.fake_telegram import Call, FakeTelegram

    fake = FakeTelegram(token=TOKEN)
    out = sys.stdout

    def sent(call: Call) -> None:
        if call.method == "sendMessage":
            out.write(f"sent {int(call.params['chat_id'])} {time.monotonic()}\n")
            out.flush()
        fake.calls.clear()  # nobody reads them: memory and time stay flat

    async def queue(request: Request) -> Response:
        """Polling mode: an update for getUpdates, with its own id."""
        update = await request.json()
        update.pop("update_id", None)
        # Confirmed updates are forgotten, so getUpdates does not scan them all again.
        fake.updates = [u for u in fake.updates if u["update_id"] >= fake.confirmed_below]
        fake.queue(update)
        return Response()

    fake.listeners.append(sent)
    app = Starlette(routes=[Route("/queue", queue, methods=["POST"]), *fake.app().routes])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def echo_bot(mode: str) -> None:
    """A bare python-telegram-bot echo bot: what any Telegram bot costs, for comparison."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route
    from telegram import Update
    from telegram.ext import (
        Application,
        CallbackQueryHandler,
        ContextTypes,
        MessageHandler,
        filters,
    )

    builder = Application.builder().token(os.environ["TELEGRAM_BOT_TOKEN"])
    builder = builder.base_url(f"{os.environ['TELEGRAM_API_URL']}/bot").concurrent_updates(64)
    application = (builder.updater(None) if mode == "webhook" else builder).build()

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            await update.callback_query.answer()
            chat_id = update.callback_query.from_user.id
            await context.bot.send_message(chat_id, update.callback_query.data or "")
        elif update.message is not None:
            await context.bot.send_message(update.message.chat_id, update.message.text or "")

    application.add_handler(MessageHandler(filters.ALL, echo))
    application.add_handler(CallbackQueryHandler(echo))

    async def webhook(request: Request) -> Response:
        await application.update_queue.put(Update.de_json(await request.json(), application.bot))
        return Response()

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> Any:
        async with application:
            await application.start()
            if application.updater is not None:
                await application.updater.start_polling(poll_interval=0, timeout=10)
            yield
            if application.updater is not None:
                await application.updater.stop()
            await application.stop()

    routes = [Route("/healthz", health), Route("/telegram", webhook, methods=["POST"])]
    web = Starlette(routes=routes, lifespan=lifespan)
    uvicorn.run(web, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")


def _cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    roles = parser.add_subparsers(dest="role")
    api = roles.add_parser("fake-api", help="(started by the benchmark)")
    api.add_argument("--port", type=int, required=True)
    echo = roles.add_parser("echo-bot", help="(started by the benchmark)")
    echo.add_argument("--mode", choices=("webhook", "polling"), default="webhook")
    parser.add_argument("--mode", choices=("webhook", "polling"), default="webhook")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--users", type=int, default=20, help="closed loop: concurrent users")
    parser.add_argument("--rate", type=float, default=50, help="open loop: updates per second")
    parser.add_argument("--seconds", type=float, default=5, help="each measured phase")
    parser.add_argument("--warmup", type=float, default=1, help="before each closed loop")
    args = parser.parse_args()
    if args.role == "fake-api":
        fake_api(args.port)
    elif args.role == "echo-bot":
        echo_bot(args.mode)
    else:
        run_in_scratch_folder(lambda folder: measure(args, folder), "tgbench-")


if __name__ == "__main__":
    _cli()
