"""Bookings per second: one SQLite instance, and one, two and three PostgreSQL instances.

Issue #20: whether instances on PostgreSQL book faster together than one instance on SQLite,
and what each costs. Every configuration runs real ``sportello serve`` processes in Telegram
webhook mode, as ``tests/e2e/test_instances.py`` does:

- ``sqlite``: one instance on a SQLite file;
- ``postgresql-1``, ``-2``, ``-3``: that many instances on one PostgreSQL database, each
  configuration in a schema of its own (``?schema=``), created with ``CREATE SCHEMA`` before
  and dropped after.

Three kinds of process, so that none steals another's event loop (issue #21): the instances;
one fake Bot API (``tests/auxil/fake_telegram.py``) that all of them send to (replies and
staff notices), printing a line for each ``sendMessage`` (its chat, buttons and booking
code); and this process, which plays Telegram behind a load balancer: every update goes to
the next instance in turn. The content is the tests' fixture content with one office made
roomy (every day 08:00-20:00, 50 people a slot, bookings from two days on, so that no
reminder falls due), so that a run measures booking, not a full calendar.

A round: ``--users`` new users each book one appointment (start, service, a day and a time
among those offered, name, phone, confirm: seven updates, each sent once the previous one is
answered), at most ``--at-once`` of them in the middle of a booking at any moment. A user
whose booking goes astray (the time was taken meanwhile, an answer never came) starts again,
up to three times. Counted: confirmed bookings (the confirmation carries a code) per second
of the round's wall time, and the CPU seconds of the instances (user + system, all threads,
from /proc), of the fake API and of this process (near a core's worth, those would be what
limits the figures). Each configuration is started, warmed up with a round of
``--warmup-users`` (not counted: the first answers build caches), then measured over
``--rounds`` rounds; min and median are printed, then the ratios of the medians against
``sqlite`` and against ``postgresql-1``. The configurations run one after the other, each
with the machine to itself.

A configuration that cannot run says why in one line and the others go on: the PostgreSQL
server refuses the connection, asyncpg is missing, or the program does not use PostgreSQL
(on a branch without the PostgreSQL storage, ``SPORTELLO_DB=postgresql://...`` is not
understood: the instances exit, or leave the schema empty). Linux only (/proc).

    .venv/bin/python -m benchmarks.bookings [--configurations sqlite,postgresql-1,...]
        [--users 200] [--at-once 25] [--rounds 3] [--warmup-users 50]
        [--postgresql postgresql://postgres@127.0.0.1:5432/test]

The full run, once PostgreSQL's storage (branch ``pg``) is in main, on this machine's server:

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m benchmarks.bookings \\
        --configurations sqlite,postgresql-1,postgresql-2,postgresql-3 \\
        --postgresql postgresql://postgres@127.0.0.1:5432/test
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import itertools
import json
import os
import random
import re
import shutil
import signal
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from benchmarks.processes import cpu_seconds, run_in_scratch_folder
from benchmarks.telegram_load import Connections, PostFailed, telegram_update
from bot.config import PROJECT_ROOT
from tests.auxil.fake_telegram import free_port

CONFIGURATIONS = {"sqlite": 1, "postgresql-1": 1, "postgresql-2": 2, "postgresql-3": 3}
POSTGRESQL = "postgresql://postgres@127.0.0.1:5432/test"
FIXTURE_CONTENT = PROJECT_ROOT / "tests" / "fixtures" / "content"
TOKEN = "123456:TEST-token"
SECRET = "benchmark-secret"
STAFF_CHAT = -1001111111111
STAFF_USER = 900
CODE = re.compile(r"\b[A-Z]{2}-[0-9A-Z]{4}\b")
ATTEMPTS = 3  # a user whose booking went astray starts again, this many times in all
STEP_TIMEOUT = 20.0  # seconds: an answer this late is counted lost
START_TIMEOUT = 120.0  # serve trains the understanding of the content when its cache is cold


class ConfigurationFailed(Exception):
    """A configuration cannot run: its one line says why, and the next one goes on."""


def roomy_content(folder: Path) -> Path:
    """The fixture content, its office taking bookings every day all day, 50 a slot, from
    two days on (no reminder falls due): the rounds book, they do not fill the calendar."""
    content = folder / "content"
    shutil.copytree(FIXTURE_CONTENT, content)
    offices = content / "offices.yaml"
    described = yaml.safe_load(offices.read_text(encoding="utf-8"))
    booking = described["offices"][0]["booking"]
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    booking.update(
        weekly={day: ["08:00-20:00"] for day in days}, capacity=50, notice_hours=48, closed=[]
    )
    offices.write_text(yaml.safe_dump(described, allow_unicode=True), encoding="utf-8")
    return content


# -- what the fake Bot API saw -------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """A sendMessage, as much of it as the users read: its buttons and a booking code."""

    buttons: tuple[str, ...]
    code: str | None

    def offering(self, prefix: str) -> list[str]:
        return [data for data in self.buttons if data.startswith(prefix)]


class Replies:
    """Reads the fake API's lines; each chat's messages wait in its own queue, in order."""

    def __init__(self) -> None:
        self.chats: dict[int, asyncio.Queue[Message]] = {}
        self.sent = 0

    def of(self, chat: int) -> asyncio.Queue[Message]:
        return self.chats.setdefault(chat, asyncio.Queue())

    async def read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                said = json.loads(line)
                self.sent += 1
                self.of(int(said["chat"])).put_nowait(Message(tuple(said["buttons"]), said["code"]))


# -- the processes -------------------------------------------------------------------------------


@dataclass
class Process:
    """One process this benchmark started, its output in a log of its own."""

    name: str
    log: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.returncode is None

    @property
    def cpu(self) -> float:
        return cpu_seconds(self.process.pid) if self.process is not None else float("nan")

    def tail(self) -> str:
        """The last line it logged: why it failed, in one line."""
        with contextlib.suppress(OSError):
            lines = self.log.read_text(encoding="utf-8", errors="replace").strip().splitlines()
            if lines:
                return lines[-1].strip()[:300]
        return "(nothing logged)"

    async def stop(self) -> None:
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), 30)
        except TimeoutError:
            self.kill()
            await asyncio.wait_for(self.process.wait(), 10)

    def kill(self) -> None:
        """Last resort, synchronous: in ``finally`` whatever happened."""
        if self.process is not None and self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()


@dataclass
class Setup:
    """One configuration running: its fake API, its instances and their database."""

    name: str
    folder: Path
    database: str
    api: Process
    instances: list[Process]
    ports: list[int]
    api_port: int = field(default_factory=free_port)
    replies: Replies = field(default_factory=Replies)
    reader: asyncio.Task[None] | None = None

    @property
    def processes(self) -> list[Process]:
        return [self.api, *self.instances]

    def instances_cpu(self) -> float:
        return sum(instance.cpu for instance in self.instances)

    async def start(self, content: Path, cache: Path) -> None:
        with self.api.log.open("ab") as log:
            self.api.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "benchmarks.bookings", "fake-api",
                "--port", str(self.api_port),
                cwd=PROJECT_ROOT, stdout=asyncio.subprocess.PIPE, stderr=log,
            )  # fmt: skip
        assert self.api.process.stdout is not None
        self.reader = asyncio.create_task(self.replies.read(self.api.process.stdout))
        api_url = f"http://127.0.0.1:{self.api_port}"
        async with httpx.AsyncClient() as client:
            await self._until(client, self.api, f"{api_url}/bot{TOKEN}/getMe")
            for instance, port in zip(self.instances, self.ports, strict=True):
                environment = _environment(self.database, content, cache) | {
                    "PORT": str(port),
                    "TELEGRAM_API_URL": api_url,
                    "TELEGRAM_WEBHOOK_URL": f"http://127.0.0.1:{port}/telegram",
                }
                with instance.log.open("ab") as log:
                    instance.process = await asyncio.create_subprocess_exec(
                        sys.executable, "-m", "bot", "serve",
                        cwd=self.folder, env=environment, stdout=log, stderr=log,
                    )  # fmt: skip
            await asyncio.gather(
                *(
                    self._until(client, instance, f"http://127.0.0.1:{port}/healthz")
                    for instance, port in zip(self.instances, self.ports, strict=True)
                )
            )

    async def _until(self, client: httpx.AsyncClient, who: Process, url: str) -> None:
        """Wait until ``who`` answers at ``url`` (an instance: connected to Telegram)."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if not who.alive:
                raise ConfigurationFailed(f"{who.name} exited while starting: {who.tail()}")
            with contextlib.suppress(httpx.TransportError, ValueError):
                answer = await client.get(url, timeout=2)
                if answer.status_code == 200 and answer.json().get("telegram_connected", True):
                    return
            await asyncio.sleep(0.1)
        raise ConfigurationFailed(f"{who.name} not ready after {START_TIMEOUT:.0f} s")

    async def stop(self) -> None:
        for process in [*self.instances, self.api]:
            with contextlib.suppress(Exception):
                await process.stop()
            process.kill()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


def _environment(database: str, content: Path, cache: Path) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(cache.parent),
        "OPENBLAS_NUM_THREADS": "1",  # two cores, several processes: no thread pools
        "PYTHONPATH": str(PROJECT_ROOT),
        "HOST": "127.0.0.1",
        "SPORTELLO_DB": database,
        "SPORTELLO_CONTENT": str(content),
        "SPORTELLO_CACHE_DIR": str(cache),  # shared: only the first start trains
        "SPORTELLO_AGENDA_HOUR": "off",
        "SPORTELLO_LOG_LEVEL": "WARNING",
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "TELEGRAM_STAFF_CHAT_ID": str(STAFF_CHAT),
        "TELEGRAM_STAFF_USER_IDS": str(STAFF_USER),
        "TELEGRAM_RATE_LIMIT": "1000",
        # Telegram's real cap of ~30 sends/s would be all this measured.
        "TELEGRAM_MAX_SENDS_PER_SECOND": "0",
    }


# -- the users -----------------------------------------------------------------------------------


class Lost(Exception):
    """A step whose answer did not come, or was not what a booking goes on with."""


@dataclass
class Round:
    """What one round saw."""

    users: int
    booked: int = 0
    seconds: float = 0.0
    cpu: float = float("nan")  # the instances' CPU seconds, together
    api_cpu: float = float("nan")
    load_cpu: float = float("nan")  # this process's: near a core's worth, it limits the figures
    restarts: int = 0  # bookings that went astray and were started again
    problems: Counter[str] = field(default_factory=Counter)

    @property
    def per_second(self) -> float:
        return self.booked / self.seconds if self.seconds else 0.0

    def line(self, label: str) -> str:
        said = f"{self.restarts} started again" if self.restarts else ""
        said += "".join(f", {count} x {kind}" for kind, count in sorted(self.problems.items()))
        ms = self.cpu * 1000 / self.booked if self.booked else float("nan")
        return (
            f"  {label:<8} {self.booked:>4}/{self.users} booked in {self.seconds:5.1f} s "
            f"{self.per_second:6.1f}/s  cpu {self.cpu:5.1f} s ({ms:5.1f} ms/booking), "
            f"api {self.api_cpu:4.1f} s, load {self.load_cpu:4.1f} s  {said.strip(', ')}"
        ).rstrip()


class Telegram:
    """Delivers updates to the instances in turn, as a load balancer in front of them would;
    to the next one when one does not acknowledge."""

    def __init__(self, setup: Setup, numbers: Iterator[int]) -> None:
        self.setup = setup
        self.numbers = numbers
        self.connections = [Connections(port) for port in setup.ports]
        self.turn = itertools.count()

    async def step(self, user: int, kind: str, value: str, problems: Counter[str]) -> Message:
        """Send one update from ``user``; the next message to them."""
        body = json.dumps(telegram_update(user, next(self.numbers), kind, value)).encode()
        secret = f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n"
        for _ in self.connections:
            connections = self.connections[next(self.turn) % len(self.connections)]
            try:
                await connections.post("/telegram", body, secret)
                break
            except PostFailed as error:
                problems[f"post {error}"] += 1
        else:
            raise Lost("no instance took it")
        try:
            return await asyncio.wait_for(self.setup.replies.of(user).get(), STEP_TIMEOUT)
        except TimeoutError:
            problems["unanswered"] += 1
            raise Lost("unanswered") from None

    async def book(self, user: int, rng: random.Random, measured: Round) -> None:
        """One user's booking, started again (up to ATTEMPTS) when it goes astray."""
        problems = measured.problems
        for attempt in range(ATTEMPTS):
            if attempt:
                measured.restarts += 1
                await self._drain(user)
            try:
                await self.step(user, "text", "/start", problems)
                days = await self.step(user, "button", "bk:svc:permit_renewal", problems)
                days_offered = days.offering("bk:day:")
                if not days_offered:
                    raise Lost("no days offered")
                times = await self.step(user, "button", rng.choice(days_offered), problems)
                times_offered = times.offering("bk:time:")
                if not times_offered:
                    raise Lost("no times offered")
                await self.step(user, "button", rng.choice(times_offered), problems)
                await self.step(user, "text", "Amina Rossi", problems)
                summary = await self.step(user, "text", "333 1234567", problems)
                if not summary.offering("bk:confirm"):
                    raise Lost("no confirmation asked")
                told = await self.step(user, "button", "bk:confirm", problems)
            except Lost:
                continue
            if told.code is not None:
                measured.booked += 1
                return
            problems["taken meanwhile"] += 1  # someone took the last place first
        problems["gave up"] += 1

    async def _drain(self, user: int) -> None:
        """Before starting again: what was still on its way to the user arrives, unread."""
        await asyncio.sleep(0.5)
        queue = self.setup.replies.of(user)
        while not queue.empty():
            queue.get_nowait()

    def close(self) -> None:
        for connections in self.connections:
            connections.close()


async def run_round(
    setup: Setup, users: list[int], at_once: int, numbers: Iterator[int], rng: random.Random
) -> Round:
    measured = Round(users=len(users))
    telegram = Telegram(setup, numbers)
    room = asyncio.Semaphore(at_once)

    async def one(user: int, seed: float) -> None:
        async with room:
            await telegram.book(user, random.Random(seed), measured)

    cpu, api_cpu, load_cpu = setup.instances_cpu(), setup.api.cpu, time.process_time()
    began = time.monotonic()
    try:
        async with asyncio.timeout(len(users) * ATTEMPTS * 7 * STEP_TIMEOUT / at_once + 60):
            await asyncio.gather(*(one(user, rng.random()) for user in users))
    finally:
        telegram.close()
    measured.seconds = time.monotonic() - began
    measured.cpu = setup.instances_cpu() - cpu
    measured.api_cpu = setup.api.cpu - api_cpu
    measured.load_cpu = time.process_time() - load_cpu
    if not all(process.alive for process in setup.processes):
        dead = next(process for process in setup.processes if not process.alive)
        raise ConfigurationFailed(f"{dead.name} died during the round: {dead.tail()}")
    return measured


# -- the database of each configuration --------------------------------------------------------


def _asyncpg() -> Any:
    """asyncpg, which comes with PostgreSQL's storage; a clear refusal where it is missing."""
    try:
        return importlib.import_module("asyncpg")
    except ImportError:
        raise ConfigurationFailed("asyncpg is not installed (it comes with branch pg)") from None


@contextlib.asynccontextmanager
async def schema(server: str) -> Any:
    """A fresh schema on ``server``, dropped afterwards; yields its name."""
    asyncpg = _asyncpg()
    name = f"bench_{uuid.uuid4().hex[:12]}"
    try:
        connection = await asyncio.wait_for(asyncpg.connect(server), 10)
    except Exception as error:
        raise ConfigurationFailed(
            f"PostgreSQL at {server} refused: {type(error).__name__}: {error}".splitlines()[0]
        ) from None
    try:
        await connection.execute(f'CREATE SCHEMA "{name}"')
        yield name
    finally:
        with contextlib.suppress(Exception):
            await connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        await connection.close()


async def _tables_in(server: str, name: str) -> int:
    connection = await _asyncpg().connect(server)
    try:
        return int(
            await connection.fetchval(
                "SELECT count(*) FROM information_schema.tables WHERE table_schema = $1", name
            )
        )
    finally:
        await connection.close()


def _with_schema(server: str, name: str) -> str:
    return f"{server}{'&' if '?' in server else '?'}schema={name}"


# -- the configurations ------------------------------------------------------------------------


@dataclass
class Figures:
    per_second: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # the instances', per round
    cpu_ms: list[float] = field(default_factory=list)  # the instances', per booking
    failed: str = ""


@dataclass
class Counters:
    """Update ids and users, never the same twice in the whole benchmark."""

    updates: Iterator[int] = field(default_factory=lambda: itertools.count(1))
    users: Iterator[int] = field(default_factory=lambda: itertools.count(1_000_000))

    def new_users(self, count: int) -> list[int]:
        return [next(self.users) for _ in range(count)]


async def measure_configuration(
    name: str, args: argparse.Namespace, folder: Path, content: Path, ids: Counters
) -> Figures:
    figures = Figures()
    count = CONFIGURATIONS[name]
    here = folder / name
    here.mkdir()
    async with contextlib.AsyncExitStack() as stack:
        if name == "sqlite":
            database = str(here / "bench.sqlite3")
            schema_name = ""
        else:
            schema_name = await stack.enter_async_context(schema(args.postgresql))
            database = _with_schema(args.postgresql, schema_name)
        setup = Setup(
            name,
            here,
            database,
            Process("fake API", here / "api.log"),
            [Process(f"instance {n + 1}", here / f"instance-{n + 1}.log") for n in range(count)],
            [free_port() for _ in range(count)],
        )
        try:
            await setup.start(content, folder / "cache")
            if schema_name and not await _tables_in(args.postgresql, schema_name):
                raise ConfigurationFailed(
                    "the program does not use PostgreSQL: it left the schema empty "
                    "(is branch pg merged?)"
                )
            rng = random.Random(args.seed)
            warmup = await run_round(
                setup, ids.new_users(args.warmup_users), args.at_once, ids.updates, rng
            )
            print(warmup.line("warm-up"), flush=True)
            for number in range(1, args.rounds + 1):
                measured = await run_round(
                    setup, ids.new_users(args.users), args.at_once, ids.updates, rng
                )
                print(measured.line(f"round {number}"), flush=True)
                figures.per_second.append(measured.per_second)
                figures.cpu.append(measured.cpu)
                if measured.booked:
                    figures.cpu_ms.append(measured.cpu * 1000 / measured.booked)
        finally:
            await setup.stop()
    return figures


async def measure(args: argparse.Namespace, folder: Path) -> None:
    content = roomy_content(folder)
    ids = Counters()
    print(
        f"Telegram webhooks, fake Bot API on 127.0.0.1; {args.users} users a round "
        f"({args.at_once} at once), {args.rounds} rounds after a warm-up of "
        f"{args.warmup_users} users, per configuration",
        flush=True,
    )
    results: dict[str, Figures] = {}
    for name in args.configurations:
        print(f"{name}: {CONFIGURATIONS[name]} instance(s)", flush=True)
        try:
            results[name] = await measure_configuration(name, args, folder, content, ids)
        except (ConfigurationFailed, TimeoutError) as error:
            said = str(error) or type(error).__name__
            results[name] = Figures(failed=said)
            print(f"  {name} cannot run: {said}", flush=True)
    _summary(results)


def _summary(results: dict[str, Figures]) -> None:
    def both(values: list[float], form: str) -> str:
        if not values:
            return "-"
        return f"{form.format(min(values))} / {form.format(statistics.median(values))}"

    print("\nmin / median over the rounds")
    for name, figures in results.items():
        if figures.failed:
            print(f"  {name:<13} did not run: {figures.failed}")
            continue
        print(
            f"  {name:<13} {both(figures.per_second, '{:.1f}')} bookings/s, "
            f"instances' cpu {both(figures.cpu, '{:.1f}')} s a round, "
            f"{both(figures.cpu_ms, '{:.1f}')} ms/booking"
        )
    for base in ("sqlite", "postgresql-1"):
        against = results.get(base)
        if against is None or not against.per_second:
            continue
        reference = statistics.median(against.per_second)
        ratios = [
            f"{name} {statistics.median(figures.per_second) / reference:.2f}"
            for name, figures in results.items()
            if name != base and figures.per_second
        ]
        if ratios:
            print(f"  bookings/s against {base} (medians): {', '.join(ratios)}")


# -- the fake Bot API's process ------------------------------------------------------------------


def fake_api(port: int) -> None:
    """The tests' fake Bot API, printing one JSON line for every sendMessage: its chat, its
    buttons' data and the booking code it gives, if any."""
    import uvicorn

    from tests.auxil.fake_telegram import Call, FakeTelegram

    fake = FakeTelegram(token=TOKEN, chats={STAFF_CHAT: "administrator"})
    out = sys.stdout

    def sent(call: Call) -> None:
        if call.method == "sendMessage":
            rows = (call.params.get("reply_markup") or {}).get("inline_keyboard") or []
            buttons = [button.get("callback_data", "") for row in rows for button in row]
            code = CODE.search(str(call.params.get("text", "")))
            said = {
                "chat": int(call.params["chat_id"]),
                "buttons": buttons,
                "code": code.group() if code else None,
            }
            out.write(json.dumps(said) + "\n")
            out.flush()
        fake.calls.clear()  # nobody reads them: memory and time stay flat

    fake.listeners.append(sent)
    uvicorn.run(fake.app(), host="127.0.0.1", port=port, log_level="warning")


def _configurations(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in CONFIGURATIONS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"not a configuration: {', '.join(unknown) or text!r} "
            f"(choose among {', '.join(CONFIGURATIONS)})"
        )
    return names


def _cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    roles = parser.add_subparsers(dest="role")
    api = roles.add_parser("fake-api", help="(started by the benchmark)")
    api.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--configurations",
        type=_configurations,
        default=list(CONFIGURATIONS),
        help=f"comma-separated, among {', '.join(CONFIGURATIONS)} (default: all)",
    )
    parser.add_argument("--users", type=int, default=200, help="bookings a round")
    parser.add_argument("--at-once", type=int, default=25, help="users booking at any moment")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup-users", type=int, default=50)
    parser.add_argument("--postgresql", default=POSTGRESQL, help="server and database")
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args()
    if args.role == "fake-api":
        fake_api(args.port)
        return
    run_in_scratch_folder(lambda folder: measure(args, folder), "bookingbench-")


if __name__ == "__main__":
    _cli()
