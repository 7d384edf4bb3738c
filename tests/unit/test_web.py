"""The ASGI app: health check and content watching during its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from bot.app import services
from bot.channels.forms import form_fields
from bot.config import Settings
from bot.core.messages import Incoming, Kind
from bot.ops import metrics as metrics_module
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


@pytest.mark.sqlite_only  # the file harmed underneath the bot
async def test_a_database_damaged_while_running_answers_503_and_logs_once(
    tmp_path: Path, content_copy: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "bot.sqlite3"
    settings = Settings(db_path=path, content_dir=content_copy, locales_dir=LOCALES)
    async with services(settings) as bot:
        transport = httpx.ASGITransport(app=create_web_app(bot))
        async with httpx.AsyncClient(transport=transport, base_url="http://s.test") as client:
            assert (await client.get("/healthz")).status_code == 200
            # Another program writes (so the bot's cache of pages is stale), then the file
            # is harmed: a disk fault, a stray copy over it...
            with contextlib.closing(sqlite3.connect(path)) as other, other:
                other.execute("INSERT INTO contacts VALUES ('x', 'y', 0)")
            with contextlib.closing(sqlite3.connect(path)) as other:
                other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            with path.open("r+b") as file:
                file.write(b"\x5a" * path.stat().st_size)
            (sorry,) = await bot.engine.handle(Incoming("test", "u1", Kind.TEXT, "ciao"))
            assert "went wrong" in sorry.text or "andato storto" in sorry.text
            for _ in range(3):  # a monitor asks every few seconds
                response = await client.get("/healthz")
                assert response.status_code == 503
                body = response.json()
                assert body["status"] == "degraded" and body["database"] == "error"
                assert body["database_problem"] == "it is not a SQLite database"
    said = [record for record in caplog.records if record.name == "bot.web"]
    assert len(said) == 1 and "the database fails" in said[0].getMessage()


async def test_tables_that_cannot_be_read_make_health_and_metrics_503_not_500(
    tmp_path: Path, content_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def damaged(database: object) -> object:
        # The header reads well (cached), the outbox's pages do not.
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(metrics_module, "outbox_states", damaged)
    settings = Settings(
        db_path=tmp_path / "bot.sqlite3", content_dir=content_copy, locales_dir=LOCALES
    )
    async with services(settings) as bot:
        transport = httpx.ASGITransport(app=create_web_app(bot), raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://s.test") as client:
            health = await client.get("/healthz")
            assert health.status_code == 503
            assert health.json()["database_problem"] == "the file is damaged"
            scraped = await client.get("/metrics")
            assert scraped.status_code == 503 and "the file is damaged" in scraped.text


def _posted(body: bytes, content_type: str) -> Request:
    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": body, "more_body": False}

    headers = [(b"content-type", content_type.encode())]
    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


@pytest.mark.parametrize(
    "body",
    [
        b"Body=ciao&From=whatsapp%3A%2B393330000000&NumMedia=0",
        b"Body=come+rinnovo%3F+%C3%A8+%E2%80%AE+%F0%9F%98%80&Empty=&Body=last",
        b"Body=50%25+a+%2B+b+%26+c%3Dd&Latitude=45.9&ProfileName=%D8%A3%D9%85%D9%8A%D9%86%D8%A9",
        b"Bad=%E0%A4&Raw=caf\xe9&NoValue",
        b"",
    ],
)
async def test_form_fields_read_as_starlette_reads_them(body: bytes) -> None:
    """Twilio's URL-encoded forms, read by the standard library: the fields Starlette gives."""
    urlencoded = "application/x-www-form-urlencoded; charset=utf-8"
    starlette_form = await _posted(body, urlencoded).form()
    expected = {key: value for key, value in starlette_form.items() if isinstance(value, str)}
    assert await form_fields(_posted(body, urlencoded)) == expected


async def test_form_fields_of_a_multipart_post_go_through_starlette() -> None:
    body = b'--b\r\nContent-Disposition: form-data; name="Body"\r\n\r\nciao\r\n--b--\r\n'
    assert await form_fields(_posted(body, "multipart/form-data; boundary=b")) == {"Body": "ciao"}
