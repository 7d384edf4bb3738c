"""The ASGI app: health check and content watching during its lifespan."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import httpx

from bot.app import services
from bot.config import Settings
from bot.web import create_web_app
from tests.conftest import LOCALES


async def test_healthz_reports_content_and_database(tmp_path: Path, content_copy: Path) -> None:
    settings = Settings(
        db_path=tmp_path / "bot.sqlite3", content_dir=content_copy, locales_dir=LOCALES
    )
    async with services(settings) as bot:
        app = create_web_app(bot)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://sportello.test"
        ) as client:
            response = await client.get("/healthz")
            assert response.status_code == 200
            body = response.json()
            assert body["status"] == "ok"
            assert body["database"] == "ok"
            assert body["content"]["topics"] == 3
            assert body["content"]["version"] == bot.content.catalog.version
            assert body["content"]["last_reload_failed"] is False
            assert (await client.post("/healthz")).status_code == 405
            assert (await client.get("/nope")).status_code == 404


async def test_lifespan_watches_content(tmp_path: Path, content_copy: Path) -> None:
    settings = Settings(
        db_path=tmp_path / "bot.sqlite3",
        content_dir=content_copy,
        locales_dir=LOCALES,
        content_poll_seconds=0.01,
    )
    async with services(settings) as bot:
        app = create_web_app(bot)
        async with app.router.lifespan_context(app):
            topic = content_copy / "topics" / "permit_lost.yaml"
            topic.write_text(
                topic.read_text(encoding="utf-8").replace("area: permits", "area: bad"),
                encoding="utf-8",
            )
            os.utime(topic, ns=(0, topic.stat().st_mtime_ns + 10**9))
            for _ in range(300):
                await asyncio.sleep(0.01)
                if bot.content.last_error is not None:
                    break
            assert bot.content.last_error is not None
            assert bot.content.catalog.topics["permit_lost"].area == "permits"
