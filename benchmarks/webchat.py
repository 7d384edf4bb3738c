"""The web chat's costs: a reply's round trip, and what idle chats holding a long poll cost.

``sportello serve`` runs as a process of its own on 127.0.0.1 with only the web chat on (the
repository's content, a fresh database); this process plays the browsers, over real HTTP:

- round trip: one browser sends a typical visit's messages (greeting, menu numbers, a
  question) one after the other; each is timed from the post to the poll that brings the
  reply (p50, p99, max);
- idle chats: ``--chats`` browsers start a conversation, then each holds a long poll with
  nothing to receive, as an open tab does; the server's CPU (user + system, all its threads,
  from ``/proc/<pid>/stat``) is measured over ``--idle`` seconds with them waiting, and its
  resident memory before and after they opened their polls.

    .venv/bin/python -m benchmarks.webchat [--chats 150] [--idle 20] [--messages 40]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.figures import latency_line
from benchmarks.processes import cpu_seconds
from tests.auxil.fake_telegram import free_port

VISIT = ("ciao", "1", "1", "menu", "come rinnovo il permesso di soggiorno?", "2", "menu", "grazie")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Browser:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.token = ""
        self.after = 0

    async def start(self) -> None:
        response = await self.client.post("/webchat/api/session", json={"language": "it"})
        response.raise_for_status()
        self.token = response.json()["token"]

    async def poll(self) -> list[dict[str, Any]]:
        response = await self.client.get(
            "/webchat/api/messages",
            params={"after": self.after},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        response.raise_for_status()
        messages: list[dict[str, Any]] = response.json()["messages"]
        if messages:
            self.after = messages[-1]["id"]
        return messages

    async def say(self, text: str) -> None:
        response = await self.client.post(
            "/webchat/api/send",
            json={"text": text},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        response.raise_for_status()


async def round_trips(base: str, messages: int) -> list[float]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        browser = Browser(client)
        await browser.start()
        await browser.poll()
        await browser.say("lingua italiano")
        await browser.poll()
        latencies = []
        for number in range(messages):
            started = time.perf_counter()
            await browser.say(VISIT[number % len(VISIT)])
            while not await browser.poll():
                pass
            latencies.append(time.perf_counter() - started)
        return latencies


async def idle_chats(base: str, pid: int, chats: int, idle: float) -> None:
    limits = httpx.Limits(max_connections=chats + 10, max_keepalive_connections=chats + 10)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        browsers = [Browser(client) for _ in range(chats)]
        for browser in browsers:  # one after the other: the start is an engine turn each
            await browser.start()
        await asyncio.gather(*(browser.poll() for browser in browsers))
        await asyncio.sleep(1)
        before_rss, before_cpu = rss_kib(pid), cpu_seconds(pid)
        quiet_started = time.monotonic()
        await asyncio.sleep(idle)  # no poll open: the server's own idle cost
        quiet_cpu = cpu_seconds(pid) - before_cpu
        quiet_seconds = time.monotonic() - quiet_started
        polls = [asyncio.create_task(browser.poll()) for browser in browsers]
        await asyncio.sleep(2)  # all open and waiting
        open_rss, open_cpu = rss_kib(pid), cpu_seconds(pid)
        started = time.monotonic()
        await asyncio.sleep(idle)
        waiting_cpu = cpu_seconds(pid) - open_cpu
        waited = time.monotonic() - started
        answered = sum(1 for poll in polls if poll.done())
        await asyncio.gather(*polls)
    print(f"idle, no poll open     {quiet_cpu / quiet_seconds * 1000:7.1f} ms CPU a second")
    print(
        f"idle, {chats} polls open {waiting_cpu / waited * 1000:7.1f} ms CPU a second "
        f"({answered} polls answered early)"
    )
    print(
        f"memory                 {before_rss / 1024:7.1f} MiB before, {open_rss / 1024:.1f} MiB "
        f"with the polls open: {(open_rss - before_rss) / chats:.1f} KiB a waiting poll"
    )


async def main(arguments: argparse.Namespace) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        environment = {
            **os.environ,
            "SPORTELLO_DB": str(Path(folder) / "bot.sqlite3"),
            "HOST": "127.0.0.1",
            "PORT": str(port),
            "WEBCHAT_ENABLED": "true",
            "WEBCHAT_START_LIMIT": "10000",
            "WEBCHAT_ADDRESS_LIMIT": "100000",
            "WEBCHAT_RATE_LIMIT": "1000",
            "SPORTELLO_LOG_LEVEL": "WARNING",
            "OPENBLAS_NUM_THREADS": "1",
        }
        for name in ("TELEGRAM_BOT_TOKEN", "TWILIO_ACCOUNT_SID", "SMTP_HOST"):
            environment.pop(name, None)
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "serve", env=environment, cwd=folder
        )
        try:
            async with httpx.AsyncClient(base_url=base) as client:
                for _ in range(1200):
                    try:
                        if (await client.get("/healthz")).status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)
                else:
                    raise SystemExit("the server did not start")
            await round_trips(base, 8)  # warm-up, not counted
            latency_line("round trip", await round_trips(base, arguments.messages), 22)
            await idle_chats(base, server.pid, arguments.chats, arguments.idle)
        finally:
            server.terminate()
            await asyncio.wait_for(server.wait(), 60)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=150)
    parser.add_argument("--idle", type=float, default=20.0)
    parser.add_argument("--messages", type=int, default=40)
    asyncio.run(main(parser.parse_args()))
