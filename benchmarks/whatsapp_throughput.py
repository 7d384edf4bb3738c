"""WhatsApp webhook throughput: the real bot against a minimal signature-checking Twilio app.

Two servers run as their own processes on 127.0.0.1, both under uvicorn with its defaults
(uvloop and httptools where installed):

- ``minimal``: a Starlette app that checks the Twilio signature (twilio's ``RequestValidator``)
  and answers empty TwiML: the least any WhatsApp webhook costs;
- ``sportello``: the real ``sportello serve`` (engine, SQLite, outbox), WhatsApp configured
  against the fake Twilio API of the tests (``tests/auxil/fake_twilio.py``), which this process
  runs, so every reply is really sent, to 127.0.0.1.

- ``baseline`` (with ``--baseline DIR``): ``sportello serve`` from another checkout (``git
  worktree add`` or ``git archive`` of an earlier commit, its catalogs compiled), the same
  settings: a before/after comparison in the same interleaved runs.

This process posts correctly signed Twilio forms (the recorded payload of the tests), closed
loop with ``--concurrency`` posts in flight, from ``--users`` different numbers, each user going
through a typical visit of eight messages (a greeting, menu numbers, a short question): with
``--requests`` a multiple of eight times ``--users``, every run has the same mix. One user's
messages go one after the other, from the same client task. Both servers first get a
warm-up batch (not counted); then the runs alternate (minimal, sportello, sportello,
minimal, ...). A run of sportello ends when its last reply has gone: in the webhook's answer
(TwiML, as Twilio reads it) or, for what goes through the outbox, at the fake Twilio API; so
its figures include sending the replies. CPU is the server process's own (user + system, all
its threads, from ``/proc/<pid>/stat``), so the client's and the fake API's work is not counted.
Printed: requests per second and CPU milliseconds per request, min and median over the runs,
and the ratios.

    .venv/bin/python -m benchmarks.whatsapp_throughput [--requests 800] [--users 100] [--runs 5]
        [--baseline /tmp/sportello-before]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

from benchmarks.processes import cpu_seconds
from bot.config import PROJECT_ROOT
from tests.auxil.fake_telegram import free_port, serve
from tests.auxil.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio

# A typical visit: a greeting, the menu's numbers, a short question, back home.
VISIT = ("ciao", "1", "1", "menu", "come rinnovo il permesso di soggiorno?", "2", "0", "grazie")


def minimal_app() -> object:
    """The least a WhatsApp webhook does: check Twilio's signature, answer empty TwiML."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    validator = RequestValidator(AUTH_TOKEN)

    async def webhook(request: Request) -> Response:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        signature = request.headers.get("X-Twilio-Signature", "")
        if not validator.validate(str(request.url), form, signature):
            return Response(status_code=403)
        return Response("<Response/>", media_type="text/xml")

    async def healthz(request: Request) -> Response:
        return Response("ok")

    return Starlette(
        routes=[
            Route("/whatsapp", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    base: str
    rates: list[float] = field(default_factory=list)
    cpu_ms: list[float] = field(default_factory=list)
    #: Replies Twilio got in the webhooks' answers (TwiML) and through its REST API.
    in_answers: int = 0
    through_api: int = 0


@dataclass
class Users:
    """Signed forms from many users, each going through the visit in order."""

    count: int
    _next: itertools.count[int] = field(default_factory=itertools.count)
    _sids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def form(self) -> tuple[int, dict[str, str]]:
        """The next user's next message: (which user, the form)."""
        number = next(self._next)
        user, step = number % self.count, number // self.count
        phone = f"+39333{user:07d}"
        sid = f"SM{next(self._sids):032x}"
        return user, {
            "SmsMessageSid": sid,
            "NumMedia": "0",
            "ProfileName": "Utente",
            "MessageType": "text",
            "SmsSid": sid,
            "WaId": phone.lstrip("+"),
            "SmsStatus": "received",
            "Body": VISIT[step % len(VISIT)],
            "To": SENDER,
            "NumSegments": "1",
            "ReferralNumMedia": "0",
            "MessageSid": sid,
            "AccountSid": ACCOUNT_SID,
            "From": f"whatsapp:{phone}",
            "ApiVersion": "2010-04-01",
        }


async def _batch(
    server: Server, users: Users, fake: FakeTwilio, requests: int, concurrency: int
) -> tuple[float, float]:
    """Post ``requests`` messages; (seconds until the last reply went, CPU seconds used)."""
    url = f"{server.base}/whatsapp"
    validator = RequestValidator(AUTH_TOKEN)
    # One user's messages never overlap: each worker owns every concurrency-th user.
    queues: list[list[tuple[dict[str, str], str]]] = [[] for _ in range(concurrency)]
    for _ in range(requests):  # signed before the clock starts
        user, form = users.form()
        queues[user % concurrency].append((form, validator.compute_signature(url, form)))
    sent_before = len(fake.messages)
    in_answers = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        cpu_before = cpu_seconds(server.process.pid)
        began = time.perf_counter()

        async def worker(items: list[tuple[dict[str, str], str]]) -> None:
            nonlocal in_answers
            for form, signature in items:
                response = await client.post(
                    url, data=form, headers={"X-Twilio-Signature": signature}
                )
                response.raise_for_status()
                in_answers += response.text.count("<Message>")  # Twilio sends each

        await asyncio.gather(*(worker(items) for items in queues))
        answered = time.perf_counter()
        last = answered
        if server.name != "minimal":
            # Until the outbox's replies stop coming: it sends them after the answer to Twilio.
            quiet_since, seen = time.perf_counter(), len(fake.messages)
            while time.perf_counter() - quiet_since < 0.5:
                await asyncio.sleep(0.02)
                if len(fake.messages) != seen:
                    seen, quiet_since = len(fake.messages), time.perf_counter()
                    last = quiet_since
            if len(fake.messages) == sent_before and in_answers == 0:
                raise SystemExit(f"{server.name} sent no reply: is WhatsApp configured?")
        cpu = cpu_seconds(server.process.pid) - cpu_before
    server.in_answers += in_answers
    server.through_api += len(fake.messages) - sent_before
    return last - began, cpu


async def _wait_ready(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(1200):
            if process.poll() is not None:
                said = log.read_text(errors="replace")  # noqa: ASYNC240  # it has ended
                raise SystemExit(f"a server exited with {process.returncode}:\n{said}")
            try:
                if (await client.get(f"{base}/healthz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("a server did not start in 120 s")


def _start(
    name: str, api_url: str, folder: Path, profile: Path | None, root: Path = PROJECT_ROOT
) -> Server:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    if name == "minimal":
        command = [sys.executable, "-m", "benchmarks.whatsapp_throughput", "--minimal", str(port)]
        environment = dict(os.environ)
    else:
        command = [sys.executable, "-m", "bot", "serve"]
        if profile is not None:  # its main thread: the event loop, where the webhooks run
            command[1:1] = ["-m", "cProfile", "-o", str(profile.resolve())]
        environment = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "SPORTELLO_DB": str(folder / f"{name}.sqlite3"),
            "SPORTELLO_CONTENT": str(root / "content"),  # its own: the content it reads
            "SPORTELLO_AGENDA_HOUR": "off",
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_WHATSAPP_FROM": SENDER,
            "TWILIO_API_URL": api_url,
            "PUBLIC_BASE_URL": base,
            "WHATSAPP_RATE_LIMIT": "1000",  # the flood guard is not what is measured
        }
        environment.pop("TELEGRAM_BOT_TOKEN", None)
    environment["PYTHONPATH"] = str(root)
    process = subprocess.Popen(
        command,
        env=environment,
        cwd=folder,  # no .env of the project's is read
        stdout=subprocess.DEVNULL,
        stderr=(folder / f"{name}.log").open("wb"),  # open for the process's life long
    )
    return Server(name, process, base)


async def main(
    requests: int,
    runs: int,
    concurrency: int,
    user_count: int,
    profile: Path | None = None,
    baseline: Path | None = None,
) -> None:
    fake = FakeTwilio()
    with tempfile.TemporaryDirectory() as folder:
        async with serve(fake.app()) as api_url:
            servers = [
                _start(name, api_url, Path(folder), profile) for name in ("minimal", "sportello")
            ]
            if baseline is not None:
                servers.append(_start("baseline", api_url, Path(folder), None, baseline))
            try:
                for server in servers:
                    await _wait_ready(
                        server.base, server.process, Path(folder) / f"{server.name}.log"
                    )
                users = {server.name: Users(user_count) for server in servers}
                for server in servers:  # warm-up, not counted
                    await _batch(server, users[server.name], fake, requests // 2, concurrency)
                for run in range(runs):
                    for server in servers if run % 2 == 0 else reversed(servers):
                        seconds, cpu = await _batch(
                            server, users[server.name], fake, requests, concurrency
                        )
                        server.rates.append(requests / seconds)
                        server.cpu_ms.append(cpu * 1000 / requests)
                        print(
                            f"run {run + 1} {server.name:<10} {requests / seconds:8.1f} req/s"
                            f"   {cpu * 1000 / requests:6.2f} ms CPU/request",
                            flush=True,
                        )
            finally:
                for server in servers:
                    server.process.terminate()  # sportello stops cleanly on SIGTERM
                    server.process.wait(60)
    print()
    print(f"{requests} requests a run, {runs} runs, {concurrency} in flight, {user_count} users")
    for server in servers:
        print(
            f"{server.name:<10} req/s min {min(server.rates):8.1f} median "
            f"{statistics.median(server.rates):8.1f}   CPU ms/request min "
            f"{min(server.cpu_ms):6.2f} median {statistics.median(server.cpu_ms):6.2f}"
        )
    for server in servers[1:]:
        print(
            f"{server.name:<10} replies in the webhooks' answers {server.in_answers}, "
            f"through the REST API {server.through_api}"
        )
    minimal = servers[0]
    for server in servers[1:]:
        print(
            f"{server.name} / minimal: req/s (median) "
            f"{statistics.median(server.rates) / statistics.median(minimal.rates):.2f}x, "
            "CPU per request (median) "
            f"{statistics.median(minimal.cpu_ms) / statistics.median(server.cpu_ms):.2f}x"
            f" (minimal's CPU / {server.name}'s)"
        )


def _serve_minimal(port: int) -> None:
    import uvicorn

    uvicorn.run(minimal_app(), host="127.0.0.1", port=port)  # type: ignore[arg-type]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--requests", type=int, default=800, help="posts per run (users x 8: the same mix each run)"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8, help="posts in flight")
    parser.add_argument("--users", type=int, default=100, help="different WhatsApp numbers")
    parser.add_argument(
        "--profile", type=Path, help="run sportello under cProfile, its statistics to this file"
    )
    parser.add_argument(
        "--baseline", type=Path, help="also run sportello from this checkout (before/after)"
    )
    parser.add_argument("--minimal", type=int, metavar="PORT", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.minimal:
        _serve_minimal(arguments.minimal)
    else:
        asyncio.run(
            main(
                arguments.requests,
                arguments.runs,
                arguments.concurrency,
                arguments.users,
                arguments.profile,
                arguments.baseline,
            )
        )
