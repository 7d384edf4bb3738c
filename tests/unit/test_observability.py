"""Metrics in Prometheus' format, channel health in /healthz, and JSON logs."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import httpx
import pytest

from bot.app import services
from bot.channels.email import EmailChannel
from bot.channels.telegram import TelegramChannel
from bot.channels.whatsapp import WhatsAppChannel
from bot.config import Settings
from bot.core.messages import Incoming, Kind
from bot.notice import Notice
from bot.notify.worker import OutboxWorker
from bot.ops.logs import AccessLogRedactor, JsonFormatter, redact_access_log, redact_path
from bot.ops.metrics import MeteredHandler, Metrics
from bot.storage.appointments import AppointmentStore
from bot.storage.db import Database
from bot.storage.outbox import Outbox
from bot.web import create_web_app
from tests.conftest import LOCALES
from tests.unit.test_appointments import booking

# name{labels} value, as Prometheus' text format has it
SAMPLE = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+$')


def _value(text: str, sample: str) -> float:
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{sample} not in:\n{text}")


async def test_metrics_and_health_count_without_personal_data(
    tmp_path: Path, content_copy: Path
) -> None:
    settings = Settings(
        db_path=tmp_path / "bot.sqlite3", content_dir=content_copy, locales_dir=LOCALES
    )
    async with services(settings) as bot:
        assert bot.database is not None
        metered = MeteredHandler(bot.engine, bot.metrics)
        for text in ("start", "menu"):
            await metered.handle(Incoming("telegram", "4242", Kind.COMMAND, text))
        assert await metered.language_of("telegram", "4242")
        outbox = Outbox(bot.database)
        ids = await outbox.add(
            "whatsapp",
            "+393331234567",
            [Notice.reply("whatsapp", "+393331234567", "Ciao Amina")] * 3,
        )
        assert ids is not None
        await outbox.mark_sent(ids[0], "SM1")
        await outbox.mark_retry(ids[1], "Twilio 400", 0, give_up=True)
        bot.metrics.message_sent("telegram")
        store = AppointmentStore(bot.database)
        appointment = await store.book(**booking("u1"))
        await store.book(**booking("u2"))
        await store.set_status(appointment.code, "attended")

        async def refused(recipient: str, notice: Notice) -> str | None:
            raise RuntimeError("Twilio is down")

        # The pending one fails: counted, and still pending (retried later).
        assert await OutboxWorker(outbox, "whatsapp", refused, meter=bot.metrics).drain() == 1

        app = create_web_app(bot)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sportello.test"
        ) as client:
            response = await client.get("/metrics")
            health = (await client.get("/healthz")).json()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = response.text
    for line in text.splitlines():
        assert line.startswith("# ") or SAMPLE.match(line), line
    assert _value(text, 'sportello_messages_received_total{channel="telegram"}') == 2
    assert _value(text, 'sportello_replies_total{channel="telegram"}') >= 2
    assert _value(text, 'sportello_reply_seconds_count{channel="telegram"}') == 2
    assert _value(text, 'sportello_reply_seconds_bucket{channel="telegram",le="+Inf"}') == 2
    assert _value(text, 'sportello_messages_sent_total{channel="telegram"}') == 1
    assert _value(text, 'sportello_send_errors_total{channel="whatsapp"}') == 1
    assert _value(text, 'sportello_outbox_messages{channel="whatsapp",status="pending"}') == 1
    assert _value(text, 'sportello_outbox_messages{channel="whatsapp",status="failed"}') == 1
    assert _value(text, 'sportello_outbox_messages{channel="whatsapp",status="sent"}') == 1
    assert _value(text, 'sportello_bookings{status="active"}') == 1
    assert _value(text, 'sportello_bookings{status="attended"}') == 1
    assert "3331234567" not in text and "Amina" not in text and "4242" not in text

    whatsapp = health["channels"]["whatsapp"]
    assert whatsapp["backlog"] == 1 and whatsapp["failed"] == 1
    assert whatsapp["last_sent"] is not None and whatsapp["oldest_pending_seconds"] >= 0
    telegram = health["channels"]["telegram"]  # no outbox: its last send is counted in memory
    assert telegram["last_sent"] is not None and telegram["backlog"] == 0
    assert "3331234567" not in json.dumps(health)


def test_histogram_buckets_are_cumulative() -> None:
    metrics = Metrics()
    for seconds in (0.005, 0.2, 0.2, 30.0):
        metrics.latency["whatsapp"].observe(seconds)
    histogram = metrics.latency["whatsapp"]
    assert histogram.count == 4 and sum(histogram.buckets) == 3  # 30 s is only in +Inf


def test_json_log_lines(caplog: object) -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord(
        "bot.web", logging.WARNING, __file__, 1, "outbox %s: %d", ("wa", 3), None
    )
    entry = json.loads(formatter.format(record))
    assert entry["level"] == "WARNING" and entry["logger"] == "bot.web"
    assert entry["message"] == "outbox wa: 3"
    assert entry["time"].endswith("+00:00")
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        failing = logging.LogRecord("bot", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "ValueError: boom" in json.loads(formatter.format(failing))["error"]


def test_log_format_setting() -> None:
    from bot.config import ConfigError

    assert Settings.from_env({"SPORTELLO_LOG_FORMAT": "JSON"}, env_file=None).log_format == "json"
    assert Settings.from_env({}, env_file=None).log_format == "text"
    with pytest.raises(ConfigError, match="SPORTELLO_LOG_FORMAT must be text or json"):
        Settings.from_env({"SPORTELLO_LOG_FORMAT": "xml"}, env_file=None)


async def test_assembled_channels_are_measured(tmp_path: Path, content_copy: Path) -> None:
    settings = Settings(
        db_path=tmp_path / "bot.sqlite3",
        content_dir=content_copy,
        locales_dir=LOCALES,
        telegram_bot_token="123456:TEST-token",
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="secret",
        twilio_whatsapp_from="whatsapp:+390000000001",
    )
    async with services(settings, channels=True) as bot:
        telegram, whatsapp = bot.channel(TelegramChannel), bot.channel(WhatsAppChannel)
        assert telegram is not None and telegram.worker is not None and whatsapp is not None
        # Built measured: the engine they are given counts, their workers count what goes.
        assert isinstance(telegram.engine, MeteredHandler)
        assert whatsapp.engine is telegram.engine
        assert whatsapp.worker.meter is bot.metrics and telegram.worker.meter is bot.metrics
        assert bot.channel(EmailChannel) is None  # not configured

        async def twilio_accepts(recipient: str, notice: Notice) -> str | None:
            return "SM1"

        outbox = Outbox(bot.database) if bot.database is not None else None
        assert outbox is not None
        await outbox.add(
            "whatsapp", "+390000000002", [Notice.reply("whatsapp", "+390000000002", "x")]
        )
        assert await OutboxWorker(outbox, "whatsapp", twilio_accepts, meter=bot.metrics).drain()
        assert bot.metrics.sent["whatsapp"] == 1
        assert "whatsapp" in bot.metrics.last_sent_at


def test_access_lines_lose_their_query_string_and_calendar_code() -> None:
    assert redact_path("/calendar/LU-4K7P.ics?k=abc") == "/calendar/<code>.ics"
    assert redact_path("/calendar/LU-4K7P.ics") == "/calendar/<code>.ics"
    assert redact_path("/healthz?k=abc&x=1") == "/healthz"
    assert redact_path("/whatsapp") == "/whatsapp"
    # As uvicorn logs a request: client, method, path with query, HTTP version, status.
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5555", "GET", "/calendar/LU-4K7P.ics?k=abc", "1.1", 200),
        None,
    )
    assert AccessLogRedactor().filter(record) is True
    assert record.getMessage() == '127.0.0.1:5555 - "GET /calendar/<code>.ics HTTP/1.1" 200'
    other = logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, "plain", None, None)
    assert AccessLogRedactor().filter(other) and other.getMessage() == "plain"


def test_the_redactor_is_installed_once() -> None:
    access = logging.getLogger("uvicorn.access")
    redact_access_log()
    redact_access_log()
    assert sum(isinstance(f, AccessLogRedactor) for f in access.filters) == 1


async def test_configured_channels_have_zero_series_before_their_first_message(
    tmp_path: Path, content_copy: Path
) -> None:
    settings = Settings(
        db_path=tmp_path / "bot.sqlite3",
        content_dir=content_copy,
        locales_dir=LOCALES,
        telegram_bot_token="123456:TEST-token",
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="secret",
        twilio_whatsapp_from="whatsapp:+390000000001",
    )
    async with services(settings, channels=True) as bot:
        text = await bot.metrics.render(bot.database)
    for channel in ("telegram", "whatsapp"):
        for status in ("pending", "sent", "failed", "refused"):
            sample = f'sportello_outbox_messages{{channel="{channel}",status="{status}"}}'
            assert _value(text, sample) == 0
        assert _value(text, f'sportello_outbox_oldest_pending_seconds{{channel="{channel}"}}') == 0
        for counter in ("messages_received", "replies", "messages_sent", "send_errors"):
            assert _value(text, f'sportello_{counter}_total{{channel="{channel}"}}') == 0
    assert 'channel="email"' not in text and 'channel="terminal"' not in text


async def test_an_expected_channel_joins_what_the_outbox_holds(tmp_path: Path) -> None:
    metrics = Metrics()
    metrics.expect("email")
    async with Database(tmp_path / "bot.sqlite3") as database:
        await Outbox(database).add(
            "whatsapp", "+390000000002", [Notice.reply("whatsapp", "+390000000002", "x")]
        )
        text = await metrics.render(database)
    assert _value(text, 'sportello_outbox_messages{channel="email",status="pending"}') == 0
    assert _value(text, 'sportello_outbox_messages{channel="whatsapp",status="pending"}') == 1
    assert _value(text, 'sportello_messages_sent_total{channel="email"}') == 0
    assert 'sportello_messages_received_total{channel="email"}' not in text  # no one writes to it
