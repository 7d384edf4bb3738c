"""This module contains the ASGI web app: health now; the channels' webhooks join it later."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.app import Services
from bot.body_limit import BodyLimit
from bot.booking.ical import link_matches
from bot.channels.twiml import twiml
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
                    services.database, _channel_names(services)
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
        if telegram is not None:
            # Not an error of ours: the bot keeps trying, and WhatsApp works meanwhile.
            body["telegram_connected"] = telegram.connected
            if not telegram.connected:
                body["status"] = "degraded"
        if channels is not None:
            body["channels"] = channels
        return JSONResponse(body, status_code=200 if problem is None else 503)

    async def metrics(request: Request) -> Response:
        """Counters and gauges in Prometheus' text format (no personal data)."""
        try:
            text = await services.metrics.render(services.database)
        except Exception as error:
            # /healthz says it (and logs it, once); a scrape every few seconds must not.
            return PlainTextResponse(f"database: {_described(error)}\n", status_code=503)
        return PlainTextResponse(text, media_type="text/plain; version=0.0.4")

    telegram = services.telegram

    async def telegram_webhook(request: Request) -> Response:
        """Receive one Telegram update; only Telegram knows the secret token."""
        assert telegram is not None
        if not telegram.secret_matches(request.headers.get("X-Telegram-Bot-Api-Secret-Token")):
            return Response(status_code=403)
        try:
            payload = await request.json()
        except (ValueError, RecursionError) as error:  # not JSON, or nested past the parser
            log.warning("telegram: a webhook body is not an update (%s)", type(error).__name__)
            return Response(status_code=400)
        if not await telegram.push(payload):
            return Response(status_code=400)
        return Response(status_code=200)

    whatsapp = services.whatsapp

    async def _signed_form(request: Request, path: str) -> dict[str, str] | None:
        assert whatsapp is not None
        form = await form_fields(request)
        url = whatsapp.public_url(path, str(request.url))
        if not whatsapp.signature_ok(url, form, request.headers.get("X-Twilio-Signature")):
            return None
        return form

    async def whatsapp_webhook(request: Request) -> Response:
        """Receive one WhatsApp message from Twilio; unsigned requests get 403."""
        assert whatsapp is not None
        form = await _signed_form(request, whatsapp.path)
        if form is None:
            return Response(status_code=403)
        replies = await whatsapp.receive(form)
        if replies is None:
            return Response(status_code=400)
        # The live replies: Twilio sends them as the answer to the message (those that
        # cannot go so went to the outbox, which counts its own).
        services.metrics.message_sent("whatsapp", len(replies))
        return Response(twiml(replies), media_type="text/xml")

    async def whatsapp_status(request: Request) -> Response:
        """Receive a delivery report from Twilio (signed too)."""
        assert whatsapp is not None
        form = await _signed_form(request, whatsapp.status_path)
        if form is None:
            return Response(status_code=403)
        await whatsapp.delivery_status(form)
        return Response(status_code=204)

    async def calendar_file(request: Request) -> Response:
        """An appointment's calendar file, for the holder of its signed link (WhatsApp)."""
        desk, secret = services.desk, services.settings.twilio_auth_token
        code = str(request.path_params["code"]).upper()
        token = request.query_params.get("k", "")
        if desk is None or not secret or not link_matches(secret, code, token):
            return Response(status_code=404)
        appointment = await desk.store.by_code(code)
        if appointment is None or appointment.status != "active":
            return Response(status_code=404)
        return Response(
            desk.invitation(services.content.catalog, appointment),
            media_type="text/calendar",
            headers={
                "Content-Disposition": f'attachment; filename="{code}.ics"',
                "Cache-Control": "private, no-store",  # someone's appointment: no shared cache
            },
        )

    routes = [Route("/healthz", healthz, methods=["GET"])]
    routes.append(Route("/metrics", metrics, methods=["GET"]))
    if telegram is not None and telegram.webhook_url:
        routes.append(Route(telegram.webhook_path, telegram_webhook, methods=["POST"]))
    if whatsapp is not None:
        routes.append(Route(whatsapp.path, whatsapp_webhook, methods=["POST"]))
        routes.append(Route(whatsapp.status_path, whatsapp_status, methods=["POST"]))
        routes.append(Route("/calendar/{code}.ics", calendar_file, methods=["GET"]))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        watcher = asyncio.create_task(
            services.content.watch(services.settings.content_poll_seconds)
        )
        cleaner = asyncio.create_task(_purge_periodically(services))
        background = [watcher, cleaner]
        if telegram is not None:
            catalog = services.content.catalog
            languages = [language.code for language in catalog.enabled_languages]
            background.append(
                asyncio.create_task(
                    telegram.start_when_reachable(languages, catalog.default_language)
                )
            )
        if whatsapp is not None:
            await whatsapp.start()
        if services.email is not None:
            await services.email.start()
        if services.reminders is not None:  # after the channels: they send the reminders
            background.append(asyncio.create_task(services.reminders.run()))
        if services.agenda is not None:
            background.append(asyncio.create_task(services.agenda.run()))
        if services.requests is not None:  # staff reminded of requests waiting too long
            background.append(asyncio.create_task(services.requests.watch()))
        try:
            yield
        finally:
            for task in background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if services.email is not None:
                await services.email.stop()
            if whatsapp is not None:
                await whatsapp.stop()
            if telegram is not None:
                await telegram.stop()

    return Starlette(routes=routes, lifespan=lifespan, middleware=[Middleware(BodyLimit)])


URLENCODED = "application/x-www-form-urlencoded"


async def form_fields(request: Request) -> dict[str, str]:
    """A posted form's text fields (the last of a repeated name, as Starlette's form gives).

    Twilio posts URL-encoded forms: the standard library's parser reads one in a fraction of
    what Starlette's streaming parser (python-multipart) costs, the same fields and values;
    any other body goes through Starlette's.
    """
    content_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if content_type == URLENCODED:
        body = (await request.body()).decode("latin-1")
        return dict(parse_qsl(body, keep_blank_values=True))
    return {key: value for key, value in (await request.form()).items() if isinstance(value, str)}


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


def _channel_names(services: Services) -> list[str]:
    names = ["telegram"] if services.telegram is not None else []
    return [*names, "whatsapp"] if services.whatsapp is not None else names


async def _purge_periodically(services: Services, interval: float = 3600.0) -> None:
    """Apply the retention rule now and every hour while the server runs."""
    if services.database is None:
        return
    backoff = Backoff("retention", log, interval)
    while True:
        try:
            removed = await purge(services.database, services.settings.retention_days)
            if any(removed.values()):
                log.info("retention: removed %s", removed)
            backoff.succeeded()
        except Exception as error:
            backoff.failed(error)
        await asyncio.sleep(backoff.pause)
