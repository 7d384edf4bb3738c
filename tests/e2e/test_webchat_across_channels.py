"""The web chat with the rest of the bot, over real HTTP (uvicorn on 127.0.0.1): a web chat
user talks with staff in their Telegram group (the real python-telegram-bot against its fake
server), then erases their data."""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from bot.app import services
from bot.config import Settings
from bot.web import create_web_app
from tests.auxil.databases import rows
from tests.auxil.fake_telegram import FakeTelegram, free_port, serve
from tests.conftest import LOCALES
from tests.e2e.test_telegram import STAFF_CHAT, STAFF_USER, connected, staff_reply


class Browser:
    """The widget's calls, made by hand."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.token = ""
        self.after = 0

    async def start(self, language: str) -> None:
        response = await self.client.post("/webchat/api/session", json={"language": language})
        assert response.status_code == 200
        self.token = response.json()["token"]

    async def say(self, **body: Any) -> None:
        response = await self.client.post(
            "/webchat/api/send", json=body, headers={"Authorization": f"Bearer {self.token}"}
        )
        assert response.status_code == 202, response.text

    async def receive(self) -> dict[str, Any]:
        """The next message (a poll waits for it)."""
        response = await self.client.get(
            "/webchat/api/messages",
            params={"after": self.after},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert response.status_code == 200
        messages: list[dict[str, Any]] = response.json()["messages"]
        assert messages, "nothing came within a poll"
        first = messages[0]
        self.after = first["id"]
        return first


def text(message: dict[str, Any]) -> str:
    return "".join(run for run, _ in message["text"])


async def test_a_web_chat_user_talks_with_staff_on_telegram_then_erases_their_data(
    content_copy: Path, database_target: str
) -> None:
    telegram = FakeTelegram()
    async with serve(telegram.app()) as telegram_url:
        port = free_port()
        settings = Settings(
            db_path=database_target,
            content_dir=content_copy,
            locales_dir=LOCALES,
            telegram_bot_token=telegram.token,
            telegram_api_url=telegram_url,
            telegram_staff_chat_id=STAFF_CHAT,
            telegram_staff_user_ids=frozenset({STAFF_USER}),
            agenda_hour=None,
            webchat_enabled=True,
        )
        async with (
            services(settings, channels=True) as running,
            serve(create_web_app(running), port) as base,
            httpx.AsyncClient(base_url=base, timeout=60) as client,
        ):
            await connected(running)
            browser = Browser(client)
            await browser.start("it-IT")
            await browser.receive()  # the language question
            await browser.say(choice="lang:it")
            assert "Menu principale" in text(await browser.receive())
            await browser.say(text="vorrei un operatore")
            assert "operatori dello sportello" in text(await browser.receive())
            await browser.say(text="Il mio permesso scade, cosa devo fare?")
            assert "inviato allo sportello" in text(await browser.receive())
            await telegram.wait_for(lambda: telegram.sent(STAFF_CHAT))
            (request,) = telegram.sent(STAFF_CHAT)
            assert "Il mio permesso scade" in request.params["text"]
            assert "webchat" in request.params["text"]
            assert browser.token not in request.params["text"]

            # The answer in the group reaches the browser through the outbox and the mailbox.
            telegram.queue(staff_reply(request, "Venga con il *passaporto*."))
            answer = await browser.receive()
            assert text(answer) == "💬 Lo sportello risponde:\n\nVenga con il *passaporto*."
            assert answer["language"] == "it"

            # What the user writes now goes to staff; closing it is told to the user.
            await browser.say(text="Grazie, a domani")
            assert "inviato allo sportello" in text(await browser.receive()).lower()
            await telegram.wait_for(
                lambda: any("a domani" in c.params["text"] for c in telegram.sent(STAFF_CHAT))
            )
            telegram.queue(staff_reply(request, "/fine"))
            closed = await browser.receive()
            assert "chiuso" in text(closed).lower()

            # Erasing: the confirmation is marked for the browser to forget its copy, and,
            # once handed over, the server keeps nothing of this user, not even it.
            await browser.say(text="cancella i miei dati")
            question = await browser.receive()
            (erase,) = [choice for choice in question["choices"] if choice[0] == "act:erase"]
            await browser.say(choice=erase[0])
            done = await browser.receive()
            assert done.get("forget") is True
            database = running.database
            assert database is not None
            user = hashlib.sha256(browser.token.encode()).hexdigest()
            for table in ("webchat_messages", "sessions"):
                left = await rows(
                    database, f"SELECT count(*) FROM {table} WHERE user_id = :user", user=user
                )
                assert left == [(0,)], table


async def test_a_booking_in_the_web_chat_brings_its_calendar_file(
    content_copy: Path, database_target: str
) -> None:
    now = datetime(2026, 11, 25, 8, 0, tzinfo=ZoneInfo("Europe/Rome"))  # a Wednesday
    settings = Settings(
        db_path=database_target,
        content_dir=content_copy,
        locales_dir=LOCALES,
        agenda_hour=None,
        webchat_enabled=True,
    )
    async with (
        services(settings, channels=True, clock=lambda: now) as running,
        serve(create_web_app(running)) as base,
        httpx.AsyncClient(base_url=base, timeout=60) as client,
    ):
        browser = Browser(client)
        await browser.start("it")
        await browser.receive()
        await browser.say(choice="lang:it")
        await browser.receive()
        await browser.say(text="vorrei un appuntamento")
        offered = await browser.receive()
        assert offered["choices"][0][0] == "bk:svc:permit_renewal"
        for _ in range(3):  # the service, the day, the time: each the first offered
            await browser.say(choice=offered["choices"][0][0])
            offered = await browser.receive()
        await browser.say(text="Amina Rossi")
        await browser.receive()
        await browser.say(text="333 1234567")
        summary = await browser.receive()
        assert summary["choices"][0][0] == "bk:confirm"
        await browser.say(choice="bk:confirm")
        booked = await browser.receive()
        (calendar,) = booked["files"]
        assert calendar["name"].startswith("LU-") and calendar["type"] == "text/calendar"
        assert base64.b64decode(calendar["data"]).startswith(b"BEGIN:VCALENDAR")
        assert calendar["name"].removesuffix(".ics") in text(booked)
