"""The composition root: channels built with their collaborators, nothing patched later."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.routing import Route

from bot.app import EnginePort, services
from bot.booking.notices import NoticeRouter, Wakeup
from bot.channels.base import Channel
from bot.channels.email import EmailChannel
from bot.channels.telegram import TelegramChannel
from bot.channels.whatsapp import WhatsAppChannel
from bot.config import Settings
from bot.monitoring.events import Monitor, NullMonitor
from bot.ops.metrics import MeteredHandler
from bot.reach import UNPROMPTED
from bot.web import create_web_app
from tests.conftest import LOCALES


def every_channel(tmp_path: Path, content: Path) -> Settings:
    return Settings(
        db_path=tmp_path / "bot.sqlite3",
        content_dir=content,
        locales_dir=LOCALES,
        telegram_bot_token="123456:TEST-token",
        telegram_staff_chat_id=-100,
        twilio_account_sid="AC" + "1" * 32,
        twilio_auth_token="secret",
        twilio_whatsapp_from="whatsapp:+390000000001",
        smtp_host="127.0.0.1",
        smtp_from="sportello@comune.example",
        smtp_to=("staff@comune.example",),
    )


async def test_the_app_holds_the_configured_channels_built_with_their_collaborators(
    tmp_path: Path, content_copy: Path
) -> None:
    async with services(every_channel(tmp_path, content_copy), channels=True) as bot:
        assert [channel.name for channel in bot.channels] == ["telegram", "whatsapp", "email"]
        assert [channel.name for channel in bot.listening] == ["telegram", "whatsapp"]
        channels: list[Channel] = bot.channels  # each one is a Channel, as mypy checks too
        assert all(isinstance(channel.health(), dict) for channel in channels)
        telegram = bot.channel(TelegramChannel)
        whatsapp = bot.channel(WhatsAppChannel)
        assert telegram is not None and whatsapp is not None
        email = bot.channel(EmailChannel)
        assert email is not None
        # Given, not assigned later: the desks, the monitoring, the measured engine.
        assert telegram.staff.desk is bot.desk and telegram.staff.monitoring is not None
        assert isinstance(telegram.engine, MeteredHandler) and whatsapp.engine is telegram.engine
        assert bot.desk is not None and type(bot.desk.monitor) is Monitor
        assert bot.engine.monitor is bot.desk.monitor
        # The notices' routing knows what each channel can do, by construction.
        router = bot.desk.router
        assert router.staff == [("telegram", "-100")]
        assert router.copies == [("email", "staff@comune.example")]
        assert router.channels["whatsapp"].user_id_is_phone
        assert not router.channels["telegram"].user_id_is_phone
        assert router.reaches("telegram") and router.reaches("whatsapp")
        assert not router.reaches("email") and not router.reaches("terminal")
        assert bot.engine.reaches == router.channels
        # Queued notices wake every channel's worker.
        workers = [telegram.worker, whatsapp.worker, email.worker]
        for worker in workers:
            assert worker is not None
            worker._wake.clear()
        router.wake()
        assert all(worker is not None and worker._wake.is_set() for worker in workers)
        # The web app mounts what the channels declare (Telegram polls: no webhook).
        paths = {route.path for route in create_web_app(bot).routes if isinstance(route, Route)}
        assert {"/whatsapp", "/whatsapp/status", "/calendar/{code}.ics"} <= paths
        assert "/telegram" not in paths and {"/healthz", "/metrics"} <= paths


async def test_a_bot_that_serves_nobody_counts_nothing(tmp_path: Path, content_copy: Path) -> None:
    settings = Settings(
        db_path=tmp_path / "bot.sqlite3", content_dir=content_copy, locales_dir=LOCALES
    )
    async with services(settings, reaches={"test": UNPROMPTED}) as bot:
        assert bot.channels == [] and bot.monitor is None
        assert isinstance(bot.engine.monitor, NullMonitor)
        assert bot.desk is not None and bot.desk.monitor is bot.engine.monitor
        assert bot.desk.router.reaches("test") and not bot.desk.router.reaches("telegram")


async def test_the_ports_that_break_the_cycles() -> None:
    port = EnginePort()
    with pytest.raises(RuntimeError, match="not built yet"):
        await port.converse("test", "u1")
    woken: list[str] = []
    wakeup = Wakeup()
    router = NoticeRouter(wake=wakeup)
    router.wake()  # nothing connected yet: nothing to do
    wakeup.connect(lambda: woken.append("a"))
    wakeup.connect(lambda: woken.append("b"))
    router.wake()
    assert woken == ["a", "b"]
