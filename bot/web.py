"""This module contains the ASGI web app: health, metrics, and the routes each configured
channel declares (its webhooks, its files)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.app import TELEGRAM_POLLING, Services
from bot.body_limit import BodyLimit
from bot.channels.base import Channel
from bot.notify.leadership import INSTANCE
from bot.storage.backoff import Backoff
from bot.storage.problems import storage_problem
from bot.storage.retention import purge

log = logging.getLogger(__name__)


def create_web_app(services: Services) -> Starlette:
    """The web app; while it runs, it also watches ``content/`` and reloads valid changes."""

    logged_problem: str | None = None  # the database's trouble, logged once, not every probe

    async def healthz(request: Request) -> JSONResponse:
        """Report whether the bot can answer: content loaded, database readable and writable."""
        nonlocal logged_problem
        catalog = services.content.catalog
        problem = await _database_problem(services)
        channels: dict[str, dict[str, object]] | None = None
        if problem is None:
            try:
                channels = await services.metrics.channel_health(
                    services.database, [channel.name for channel in services.listening]
                )
            except Exception as error:
                problem = _described(error)
        if problem != logged_problem:
            if problem is not None:
                log.error("health check: the database fails: %s", problem)
            else:
                log.warning("health check: the database works again")
            logged_problem = problem
        body: dict[str, object] = {
            "status": "ok" if problem is None else "degraded",
            "content": {
                "version": catalog.version,
                "topics": len(catalog.topics),
                "last_reload_failed": services.content.last_error is not None,
            },
            "database": "ok" if problem is None else "error",
        }
        if problem is not None:
            body["database_problem"] = problem
        for channel in services.channels:
            # Each channel's own word (Telegram: connected); one that is not connected is
            # not an error of ours (it keeps trying, the others work meanwhile), but the bot
            # is degraded.
            for key, value in channel.health().items():
                body[f"{channel.name}_{key}"] = value
                if key == "connected" and value is False:
                    body["status"] = "degraded"
        if channels is not None:
            body["channels"] = channels
        if problem is None and services.leases is not None and services.leadership is not None:
            body["instance"] = services.leadership.holder
            with contextlib.suppress(Exception):  # the database's trouble is said above
                body["leases"] = {
                    held.name: held.holder
                    for held in await services.leases.held()
                    if held.expires_in > 0 and not held.name.startswith(INSTANCE)
                }
        return JSONResponse(body, status_code=200 if problem is None else 503)

    async def metrics(request: Request) -> Response:
        """Counters and gauges in Prometheus' text format (no personal data)."""
        try:
            text = await services.metrics.render(services.database)
        except Exception as error:
            # /healthz says it (and logs it, once); a scrape every few seconds must not.
            return PlainTextResponse(f"database: {_described(error)}\n", status_code=503)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    routes: list[BaseRoute] = [Route("/healthz", healthz, methods=["GET"])]
    routes.append(Route("/metrics", metrics, methods=["GET"]))
    routes += [route for channel in services.channels for route in channel.routes()]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        leadership = services.leadership
        background: list[asyncio.Task[None]] = []
        life: list[asyncio.Task[None]] = []  # let go of last, once the channels stopped

        def once(name: str, work: Callable[[], Awaitable[object]]) -> None:
            """A loop that one instance of those on the database runs at a time."""
            if leadership is None:
                background.append(asyncio.create_task(_ignore(work)))
            else:
                background.append(leadership.task(name, work))

        if leadership is not None:
            # This instance's own lease, first: what it holds (turns, updates) is its own
            # while it lives; and the Telegram polling it claimed at start stays its own.
            await leadership.claim(f"{INSTANCE}{leadership.holder}")
            life.append(asyncio.create_task(leadership.live()))
            if services.polls_telegram:
                life.append(leadership.task(TELEGRAM_POLLING, _forever))
        # Each instance holds its own copy of the content: each watches the folder.
        background.append(
            asyncio.create_task(services.content.watch(services.settings.content_poll_seconds))
        )
        once("retention", lambda: _purge_periodically(services))
        started: list[Channel] = []
        try:
            for channel in services.channels:
                await channel.start()
                started.append(channel)
            if services.reminders is not None:  # after the channels: they send the reminders
                once("reminders", services.reminders.run)
            if services.agenda is not None:
                once("agenda", services.agenda.run)
            if services.deadlines is not None:  # the deadline reminders users asked for
                once("deadlines", services.deadlines.run)
            if services.requests is not None:  # staff reminded of requests waiting too long
                once("requests", services.requests.watch)
            yield
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            try:
                await _stop(started)
            finally:
                for task in life:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(BodyLimit)])


async def _ignore(work: Callable[[], Awaitable[object]]) -> None:
    await work()


async def _forever() -> None:
    await asyncio.Event().wait()


async def _stop(channels: list[Channel]) -> None:
    """Stop channels in the reverse order of their start."""
    for channel in reversed(channels):
        await channel.stop()


async def _database_problem(services: Services) -> str | None:
    """What is wrong with the database now, in plain words; None if it reads and writes.

    A write refused since the last one that worked (a full disk) counts: reading alone
    still works then, and users would get no answer while the bot looked healthy.
    """
    database = services.database
    if database is None:
        return None
    try:
        await database.schema_version()
    except Exception as error:
        return _described(error)
    failure = database.write_failure
    if failure is None:
        return None
    since = datetime.fromtimestamp(failure.at, UTC).isoformat(timespec="seconds")
    return f"{failure.problem}: a write failed at {since} and none has worked since"


def _described(error: Exception) -> str:
    return storage_problem(error) or f"it does not answer ({type(error).__name__})"


async def _purge_periodically(services: Services, interval: float = 3600.0) -> None:
    """Apply the retention rule now and every hour while the server runs."""
    if services.database is None:
        return
    backoff = Backoff("retention", log, interval)
    while True:
        try:
            removed = await purge(
                services.database,
                services.settings.retention_days,
                services.settings.deadline_keep_days,
            )
            if any(removed.values()):
                log.info("retention: removed %s", removed)
            backoff.succeeded()
        except Exception as error:
            backoff.failed(error)
        await asyncio.sleep(backoff.pause)
