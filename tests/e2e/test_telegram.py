"""The real python-telegram-bot against a fake Bot API server on 127.0.0.1, both modes."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import itertools
import json
import logging
import time
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import Services, services
from bot.channels.telegram import TelegramChannel
from bot.config import Settings
from bot.core.messages import Incoming, Reply
from bot.storage.db import Database
from bot.storage.inbound import InboundQueue
from bot.storage.outbox import Notice, Outbox
from bot.web import create_web_app
from tests.auxil.databases import rows
from tests.auxil.fake_telegram import BOT_ID, FakeTelegram, free_port, serve
from tests.auxil.full_disk import full_disk
from tests.auxil.waiting import eventually, wait_until
from tests.conftest import LOCALES

DATA = Path(__file__).parent.parent / "data" / "telegram"
USER = 501
STAFF_CHAT = -1001111111111
STAFF_USER = 900


def update(name: str, **changes: Any) -> dict[str, Any]:
    """A recorded update from tests/data/telegram, with some fields changed."""
    payload: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    payload = copy.deepcopy(payload)
    body = next(value for key, value in payload.items() if key != "update_id")
    for key, value in changes.items():
        if key == "language_code":
            body["from"]["language_code"] = value
        elif key == "user":
            body["from"]["id"] = value
            if "chat" in body and body["chat"]["type"] == "private":
                body["chat"]["id"] = value
            if "message" in body:
                body["message"]["chat"]["id"] = value
        elif key == "chat":
            body["chat"]["id"] = value
        elif key == "text":
            body["text"] = value
            # Telegram marks a command at the start of a text, and only there.
            body.pop("entities", None)
            if value.startswith("/") and value[1:2].strip():
                length = len(value.split(maxsplit=1)[0].encode("utf-16-le")) // 2
                body["entities"] = [{"offset": 0, "length": length, "type": "bot_command"}]
        else:
            body[key] = value
    return payload


def start(**changes: Any) -> dict[str, Any]:
    return update("command_start", **changes)


def text(value: str, **changes: Any) -> dict[str, Any]:
    return update("message_text", text=value, **changes)


def press(data: str, **changes: Any) -> dict[str, Any]:
    return update("callback_query", data=data, **changes)


def keyboard_ids(call: Any) -> list[str]:
    markup = call.params.get("reply_markup")
    if not markup:
        return []
    return [row[0]["callback_data"] for row in markup["inline_keyboard"]]


class Bot:
    """The bot under test with its fake Telegram: send updates, read what came back."""

    def __init__(self, fake: FakeTelegram, services: Services, webhook_base: str | None) -> None:
        self.fake = fake
        self.services = services
        self.webhook_base = webhook_base
        self._update_ids = itertools.count(1000)

    async def send(
        self, payload: dict[str, Any], replies: int = 1, chat_id: int = USER
    ) -> list[Any]:
        before = len(self.fake.sent(chat_id))
        if self.webhook_base is None:
            self.fake.queue(payload)
        else:
            # Telegram numbers every update afresh; a number seen before is a redelivery.
            payload = {**payload, "update_id": payload.get("update_id") or next(self._update_ids)}
            await self.post(payload)
        await self.fake.wait_for(lambda: len(self.fake.sent(chat_id)) >= before + replies)
        return self.fake.sent(chat_id)[before:]

    async def post(self, payload: Any, secret: str | None = "default") -> httpx.Response:
        assert self.webhook_base is not None
        telegram = self.services.channel(TelegramChannel)
        assert telegram is not None
        headers = {}
        if secret == "default":
            headers["X-Telegram-Bot-Api-Secret-Token"] = telegram.webhook_secret
        elif secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        async with httpx.AsyncClient() as client:
            return await client.post(f"{self.webhook_base}/telegram", json=payload, headers=headers)


@contextlib.asynccontextmanager
async def running_bot(
    tmp_path: Path,
    content: Path,
    webhook: bool,
    clock: Callable[[], datetime] | None = None,
    database: str | None = None,
    **overrides: Any,
) -> AsyncIterator[Bot]:
    """The bot on ``database`` (the ``database_target`` fixture), else on a SQLite file in
    ``tmp_path``, with a fake Bot API."""
    fake = FakeTelegram()
    async with serve(fake.app()) as api_url:
        port = free_port()
        settings = Settings(
            db_path=database or tmp_path / "bot.sqlite3",
            content_dir=content,
            locales_dir=LOCALES,
            telegram_bot_token=fake.token,
            telegram_api_url=api_url,
            telegram_webhook_url=f"http://127.0.0.1:{port}/telegram" if webhook else None,
            telegram_staff_chat_id=STAFF_CHAT,
            telegram_staff_user_ids=frozenset({STAFF_USER}),
            agenda_hour=None,  # no morning post arriving in the middle of a test
            # Tests answer faster than people type: Telegram's pacing (one message a second
            # to a chat) would only slow them down. The tests of pacing set it.
            **{"telegram_max_sends_per_second": 0, **overrides},
        )
        async with (
            services(settings, channels=True, clock=clock) as bot,
            serve(create_web_app(bot), port) as base,
        ):
            await connected(bot)
            yield Bot(fake, bot, base if webhook else None)


async def connected(running: Services) -> None:
    """Telegram starts in the background (the server must not wait for it): wait for it."""
    telegram = running.channel(TelegramChannel)
    assert telegram is not None
    await wait_until(lambda: telegram.connected, 10, lambda: "telegram never connected")


@pytest.fixture(params=["polling", "webhook"])
async def bot(
    request: pytest.FixtureRequest, tmp_path: Path, content_copy: Path, database_target: str
) -> AsyncIterator[Bot]:
    webhook = request.param == "webhook"
    async with running_bot(tmp_path, content_copy, webhook, database=database_target) as running:
        yield running


async def test_startup_registers_commands_per_language_and_the_receiving_mode(bot: Bot) -> None:
    commands = bot.fake.calls_to("setMyCommands")
    languages = [call.params.get("language_code") for call in commands]
    assert languages == [None, "it", "en", "fr", "ar"]
    italian = next(call for call in commands if call.params.get("language_code") == "it")
    assert [c["command"] for c in italian.params["commands"]] == [
        "start",
        "menu",
        "language",
        "help",
    ]
    assert italian.params["commands"][1]["description"] == "Menu principale"
    descriptions = {
        call.params.get("language_code"): call.params["description"]
        for call in bot.fake.calls_to("setMyDescription")
    }
    assert list(descriptions) == [None, "it", "en", "fr", "ar"]
    # The counter's own words (desk.yaml), in each language.
    assert descriptions["fr"] == (
        "Le guichet d'essai répond sur les titres de séjour et les rendez-vous."
    )
    assert descriptions["ar"] == "شباك التجربة يجيب عن تصاريح الإقامة والمواعيد."
    if bot.webhook_base is None:
        assert bot.fake.calls_to("deleteWebhook")
    else:
        (webhook,) = bot.fake.calls_to("setWebhook")
        assert webhook.params["url"].endswith("/telegram")
        telegram = bot.services.channel(TelegramChannel)
        assert telegram is not None and webhook.params["secret_token"] == telegram.webhook_secret


async def test_a_full_disk_still_answers_with_an_apology(bot: Bot) -> None:
    await bot.send(start(language_code="it"))
    assert bot.services.database is not None
    with full_disk(bot.services.database):
        (sorry,) = await bot.send(press("go:menu_permits"))
    assert "Scusa, qualcosa è andato storto" in sorry.params["text"]
    assert "go:menu_permits" in keyboard_ids(sorry)  # the main menu: try again later


async def test_start_in_an_enabled_language(bot: Bot) -> None:
    (reply,) = await bot.send(start(language_code="it"))
    assert reply.params["parse_mode"] == "HTML"
    assert "<b>Menu principale</b>" in reply.params["text"]
    assert keyboard_ids(reply)[:2] == ["go:menu_permits", "go:counter_hours"]
    assert reply.params["link_preview_options"] == {"is_disabled": True}


async def test_start_in_an_unknown_language_asks(bot: Bot) -> None:
    (reply,) = await bot.send(start(language_code="de"))
    assert keyboard_ids(reply) == ["lang:it", "lang:en", "lang:fr", "lang:ar"]


async def test_menu_topic_back_home_with_buttons(bot: Bot) -> None:
    await bot.send(start(language_code="it"))
    (reply,) = await bot.send(press("go:menu_permits"))
    assert "<b>Permesso di soggiorno</b>" in reply.params["text"]
    (reply,) = await bot.send(press("go:permit_renewal"))
    assert "almeno 60 giorni prima" in reply.params["text"]
    assert "nav:back" in keyboard_ids(reply)
    (reply,) = await bot.send(press("nav:back"))
    assert keyboard_ids(reply)[0] == "go:permit_renewal"
    (reply,) = await bot.send(press("nav:home"))
    assert keyboard_ids(reply)[0] == "go:menu_permits"
    assert len(bot.fake.calls_to("answerCallbackQuery")) == 4  # every press acknowledged


async def test_language_switch(bot: Bot) -> None:
    await bot.send(start(language_code="it"))
    (reply,) = await bot.send(text("langue"))
    assert keyboard_ids(reply)[0] == "lang:it"
    (reply,) = await bot.send(press("lang:ar"))
    assert "القائمة الرئيسية" in reply.params["text"]


async def test_free_text_and_edited_message(bot: Bot) -> None:
    await bot.send(start(language_code="it"))
    (reply,) = await bot.send(text("come rinnovo il permesso di soggiorno?"))
    assert "almeno 60 giorni prima" in reply.params["text"]
    (reply,) = await bot.send(update("edited_message"))
    assert "Denuncia" in reply.params["text"]


@pytest.mark.parametrize("kind", ["sticker", "photo", "voice", "document", "location", "contact"])
async def test_every_non_text_kind_gets_an_answer(bot: Bot, kind: str) -> None:
    await bot.send(start(language_code="it"))
    (reply,) = await bot.send(update(kind))
    assert reply.params["text"]
    assert keyboard_ids(reply)  # and the choices to go on


async def test_the_words_sent_with_a_photo_are_read(bot: Bot) -> None:
    """A photo's caption is answered as a message would be, after saying that the photo was not
    looked at; a photo without words gets the usual "I can only read text"."""
    await bot.send(start(language_code="it"))
    (reply,) = await bot.send(update("photo", caption="come rinnovo il permesso di soggiorno?"))
    assert reply.params["text"].startswith("Non posso guardare foto o file")
    assert "almeno 60 giorni prima" in reply.params["text"]
    (reply,) = await bot.send(update("photo", caption=None))
    assert reply.params["text"].startswith("Posso leggere solo messaggi scritti")


@pytest.mark.parametrize("data", ["go:topic_removed_since", "lang:xx", "💥", "nav:" + "x" * 55])
async def test_stale_and_forged_callback_data(bot: Bot, data: str) -> None:
    await bot.send(start(language_code="it"))
    (reply,) = await bot.send(press(data))
    assert "go:menu_permits" in keyboard_ids(reply)


async def test_html_looking_text_is_safe(bot: Bot) -> None:
    await bot.send(start(language_code="it"))
    (reply,) = await bot.send(text("<b>ciao</b> <script>alert(1)</script> & co"))
    assert "<script>" not in reply.params["text"]


async def test_groups_other_than_staff_are_ignored_and_left(bot: Bot) -> None:
    await bot.send(start(language_code="it"))  # something to wait on
    bot.fake.queue(
        update("group_message", chat=-1002222)
    ) if bot.webhook_base is None else await bot.post(
        {**update("group_message", chat=-1002222), "update_id": 77}
    )
    payload = update("my_chat_member_added")
    if bot.webhook_base is None:
        bot.fake.queue(payload)
    else:
        await bot.post({**payload, "update_id": 78})
    await bot.fake.wait_for(lambda: bool(bot.fake.calls_to("leaveChat")))
    assert bot.fake.calls_to("leaveChat")[0].params["chat_id"] == -1009876543210
    assert bot.fake.sent(-1002222) == []


async def test_staff_commands_only_for_staff(bot: Bot) -> None:
    (refusal,) = await bot.send(update("group_message", user=666), chat_id=STAFF_CHAT)
    assert (
        "solo il personale" in refusal.params["text"].lower()
        or "staff" in refusal.params["text"].lower()
    )
    (status,) = await bot.send(update("group_message"), chat_id=STAFF_CHAT)
    assert "it, en, fr, ar" in status.params["text"]


async def test_staff_adding_the_bot_to_a_group_learns_its_id(bot: Bot) -> None:
    payload = update("my_chat_member_added")
    payload["my_chat_member"]["from"]["id"] = STAFF_USER
    replies = await bot.send(payload, chat_id=-1009876543210)
    assert "-1009876543210" in replies[0].params["text"]
    assert not bot.fake.calls_to("leaveChat")


async def test_a_429_is_retried_and_the_message_still_arrives(bot: Bot) -> None:
    bot.fake.fail_next["sendMessage"] = 1
    (reply,) = await bot.send(start(language_code="en"))
    assert "Main menu" in reply.params["text"]
    assert [call.method for call in bot.fake.calls if call.method.startswith("sendMessage")][
        :2
    ] == [
        "sendMessage:429",
        "sendMessage",
    ]


async def test_long_answers_are_split_at_paragraphs(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    topic = content_copy / "topics" / "permit_lost.yaml"
    paragraphs = "\n\n".join(f"    Paragrafo {i}: " + "parola " * 90 + "< & >" for i in range(12))
    topic.write_text(
        topic.read_text(encoding="utf-8").replace(
            "  it: Denuncia lo smarrimento alla polizia, poi chiedi allo sportello.",
            "  it: |\n" + paragraphs,
        ),
        encoding="utf-8",
    )
    async with running_bot(tmp_path, content_copy, webhook=False, database=database_target) as bot:
        await bot.send(start(language_code="it"))
        before = len(bot.fake.sent(USER))
        bot.fake.queue(press("go:permit_lost"))
        fake = bot.fake
        # The keyboard comes with the last part: wait for it.
        await fake.wait_for(
            lambda: len(fake.sent(USER)) > before and keyboard_ids(fake.sent(USER)[-1])
        )
        parts = fake.sent(USER)[before:]
        assert len(parts) >= 2
        assert all(len(part.params["text"]) <= 4096 + 200 for part in parts)  # HTML tags aside
        # Cut between paragraphs: every later part starts a paragraph.
        assert all(p.params["text"].startswith(("Paragrafo", "Fonti")) for p in parts[1:])
        assert "&lt; &amp; &gt;" in parts[0].params["text"]
        assert all(not keyboard_ids(part) for part in parts[:-1])
        assert keyboard_ids(parts[-1])


async def test_flood_control(tmp_path: Path, content_copy: Path, database_target: str) -> None:
    async with running_bot(
        tmp_path, content_copy, webhook=False, telegram_rate_limit=3, database=database_target
    ) as bot:
        for _ in range(3):
            await bot.send(text("ciao", language_code="it"))
        (warning,) = await bot.send(text("ciao"))
        assert "un minuto" in warning.params["text"] or "minute" in warning.params["text"]
        bot.fake.queue(text("ciao"))
        bot.fake.queue(press("nav:home"))
        await bot.send(update("group_message"), chat_id=STAFF_CHAT)  # a marker after both
        assert len(bot.fake.sent(USER)) == 4  # the flood got one polite answer, no more


async def test_webhook_refuses_wrong_or_missing_secret(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    async with running_bot(tmp_path, content_copy, webhook=True, database=database_target) as bot:
        payload = {**start(language_code="it"), "update_id": 5}
        assert (await bot.post(payload, secret="wrong")).status_code == 403
        assert (await bot.post(payload, secret=None)).status_code == 403
        assert (await bot.post({"not": "an update"})).status_code == 400
        telegram = bot.services.channel(TelegramChannel)
        assert telegram is not None
        async with httpx.AsyncClient() as client:
            garbage = await client.post(
                f"{bot.webhook_base}/telegram",
                content=b"{not json",
                headers={"X-Telegram-Bot-Api-Secret-Token": telegram.webhook_secret},
            )
        assert garbage.status_code == 400
        assert bot.fake.sent() == []
        assert (await bot.post(payload)).status_code == 200
        await bot.fake.wait_for(lambda: len(bot.fake.sent(USER)) == 1)


async def test_sportello_serve_runs_the_bot_and_stops_gracefully_on_sigterm(
    tmp_path: Path, database_target: str
) -> None:
    """The real command: `sportello serve` with a token long-polls; SIGTERM ends it cleanly."""
    import asyncio
    import os
    import signal
    import sys

    from tests.conftest import FIXTURE_CONTENT

    fake = FakeTelegram()
    async with serve(fake.app()) as api_url:
        environment = {
            "PATH": os.environ.get("PATH", ""),
            "SPORTELLO_DB": database_target,
            "SPORTELLO_CONTENT": str(FIXTURE_CONTENT),
            "PORT": str(free_port()),
            "TELEGRAM_BOT_TOKEN": fake.token,
            "TELEGRAM_API_URL": api_url,
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "serve",
            cwd=tmp_path,
            env=environment,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            await fake.wait_for(lambda: bool(fake.calls_to("deleteWebhook")), seconds=30)
            fake.queue(start(language_code="it"))
            await fake.wait_for(lambda: len(fake.sent(USER)) == 1, seconds=30)
            assert "Menu principale" in fake.sent(USER)[0].params["text"]
        finally:
            process.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.wait_for(process.communicate(), 30)
        assert process.returncode == 0, stderr.decode()
        assert b"Traceback" not in stderr


async def test_an_old_message_edited_much_later_is_not_answered_as_new(bot: Bot) -> None:
    await bot.send(start(language_code="it"))
    late = update("edited_message")
    late["edited_message"]["edit_date"] = late["edited_message"]["date"] + 3600
    (reply,) = await bot.send(late)
    assert "solo i messaggi nuovi" in reply.params["text"]


async def test_booking_with_buttons_sends_the_code_and_a_calendar_file(bot: Bot) -> None:
    await bot.send(start(language_code="it"))
    (services,) = await bot.send(text("vorrei un appuntamento"))
    assert keyboard_ids(services)[0] == "bk:svc:permit_renewal"
    (days,) = await bot.send(press("bk:svc:permit_renewal"))
    (times,) = await bot.send(press(keyboard_ids(days)[0]))
    await bot.send(press(keyboard_ids(times)[0]))
    await bot.send(text("Amina Rossi"))
    (summary,) = await bot.send(text("333 1234567"))
    assert keyboard_ids(summary)[0] == "bk:confirm"
    (booked,) = await bot.send(press("bk:confirm"))
    assert "LU-" in booked.params["text"]
    await bot.fake.wait_for(lambda: bool(bot.fake.calls_to("sendDocument")))
    document = bot.fake.calls_to("sendDocument")[0].params["document"]
    assert document["filename"].startswith("LU-") and "BEGIN:VCALENDAR" in document["data"]


async def test_staff_see_the_agenda(bot: Bot) -> None:
    (agenda,) = await bot.send(update("group_message", text="/oggi"), chat_id=STAFF_CHAT)
    assert agenda.params["text"].startswith("Agenda di ")
    (refusal,) = await bot.send(
        update("group_message", text="/domani", user=666), chat_id=STAFF_CHAT
    )
    assert "Agenda" not in refusal.params["text"]


async def test_staff_buttons_on_a_booking_and_the_user_told_of_a_cancellation(bot: Bot) -> None:
    await bot.send(start(language_code="it"))
    await bot.send(text("vorrei un appuntamento"))
    (days,) = await bot.send(press("bk:svc:permit_renewal"))
    (times,) = await bot.send(press(keyboard_ids(days)[0]))
    await bot.send(press(keyboard_ids(times)[0]))
    await bot.send(text("Amina Rossi"))
    await bot.send(text("333 1234567"))
    before = len(bot.fake.sent(STAFF_CHAT))
    (booked,) = await bot.send(press("bk:confirm"))
    code = "LU-" + booked.params["text"].split("LU-", 1)[1][:4]
    await bot.fake.wait_for(lambda: len(bot.fake.sent(STAFF_CHAT)) > before)
    notice = bot.fake.sent(STAFF_CHAT)[-1]
    assert code in notice.params["text"] and "Amina Rossi" in notice.params["text"]
    assert keyboard_ids(notice) == [f"staff:attended:{code}"]  # first button of the row
    row = notice.params["reply_markup"]["inline_keyboard"][0]
    assert [button["callback_data"] for button in row] == [
        f"staff:attended:{code}",
        f"staff:no_show:{code}",
        f"staff:cancel:{code}",
    ]

    def staff_press(data: str, user: int) -> dict[str, Any]:
        payload = press(data, user=user)
        payload["callback_query"]["message"]["chat"] = {
            "id": STAFF_CHAT,
            "type": "supergroup",
            "title": "Staff",
        }
        return payload

    stranger_press = staff_press(f"staff:cancel:{code}", 666)
    sent_to_user = len(bot.fake.sent(USER))
    if bot.webhook_base is None:
        bot.fake.queue(stranger_press)
    else:
        await bot.post({**stranger_press, "update_id": 91})
    await asyncio.sleep(0.5)
    assert len(bot.fake.sent(USER)) == sent_to_user  # not staff: nothing happens
    (told,) = await bot.send(staff_press(f"staff:cancel:{code}", STAFF_USER), chat_id=USER)
    assert f"annullare il tuo appuntamento {code}" in told.params["text"]
    await bot.fake.wait_for(
        lambda: f"{code}: annullato." in bot.fake.sent(STAFF_CHAT)[-1].params["text"]
    )
    assert sum(f"{code}: annullato." in c.params["text"] for c in bot.fake.sent(STAFF_CHAT)) == 1


async def test_staff_find_and_week(bot: Bot) -> None:
    (found,) = await bot.send(
        update("group_message", text="/cerca@sportello_test_bot 99999"), chat_id=STAFF_CHAT
    )
    assert found.params["text"] == "Nessun appuntamento attivo per 99999."
    (week,) = await bot.send(update("group_message", text="/settimana"), chat_id=STAFF_CHAT)
    assert "e dei 6 giorni seguenti" in week.params["text"]


async def test_staff_get_their_commands_for_an_unknown_one_and_talk_freely(bot: Bot) -> None:
    (listed,) = await bot.send(update("group_message", text="/aiuto"), chat_id=STAFF_CHAT)
    assert listed.params["text"].startswith("Comandi del personale: /status")
    assert "/registra (/log)" in listed.params["text"] and "/richieste" in listed.params["text"]
    before = len(bot.fake.sent(STAFF_CHAT))
    chat = update("group_message", text="Chi apre domani? /oggi lo dice")
    if bot.webhook_base is None:
        bot.fake.queue(chat)
    else:
        await bot.post({**chat, "update_id": 310})
    await asyncio.sleep(0.5)
    assert len(bot.fake.sent(STAFF_CHAT)) == before  # staff talk among themselves


async def test_staff_export_a_month_as_csv(bot: Bot) -> None:
    before = len(bot.fake.calls_to("sendDocument"))
    bot.fake.queue(
        update("group_message", text="/esporta 2026-11-01 2026-11-30")
    ) if bot.webhook_base is None else await bot.post(
        {**update("group_message", text="/esporta 2026-11-01 2026-11-30"), "update_id": 300}
    )
    await bot.fake.wait_for(lambda: len(bot.fake.calls_to("sendDocument")) > before)
    document = bot.fake.calls_to("sendDocument")[-1].params["document"]
    assert document["filename"] == "appuntamenti-2026-11-01-2026-11-30.csv"
    assert document["data"].lstrip("\ufeff").startswith("code,office,service,date,time,status")
    (usage,) = await bot.send(update("group_message", text="/esporta novembre"), chat_id=STAFF_CHAT)
    assert usage.params["text"].startswith("Uso: /esporta")


async def test_staff_close_usage(bot: Bot) -> None:
    (usage,) = await bot.send(update("group_message", text="/chiudi domani"), chat_id=STAFF_CHAT)
    assert usage.params["text"].startswith("Uso: /chiudi")
    (too_far,) = await bot.send(
        update("group_message", text="/chiudi 2030-01-07"), chat_id=STAFF_CHAT
    )
    assert too_far.params["text"].startswith("Al massimo 92 giorni")  # a typo in the year?
    (too_long,) = await bot.send(
        update("group_message", text="/chiudi 2026-12-01 2027-06-30"), chat_id=STAFF_CHAT
    )
    assert too_long.params["text"].startswith("Al massimo 92 giorni")
    day = date.today() + timedelta(days=40)
    (closed,) = await bot.send(
        update("group_message", text=f"/chiudi {day.isoformat()}"), chat_id=STAFF_CHAT
    )
    assert closed.params["text"].startswith("Chiuso: ")
    assert closed.params["text"].endswith("Appuntamenti annullati e utenti avvisati: 0.")


def staff_reply(to: Any, text_: str, user: int = STAFF_USER) -> dict[str, Any]:
    """A staff member's message in the staff group, replying to the bot's message ``to``."""
    payload = update("group_message", text=text_, user=user)
    payload["message"]["reply_to_message"] = {
        "message_id": to.result["message_id"],
        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Sportello"},
        "chat": {"id": STAFF_CHAT, "type": "supergroup", "title": "Staff"},
        "date": 1764060000,
        "text": to.params["text"],
    }
    return payload


async def test_talk_to_a_person_round_trip(bot: Bot) -> None:
    await bot.send(start(language_code="it"))
    (prompt,) = await bot.send(press("act:human"))
    assert "persona" in prompt.params["text"].lower()
    staff_before = len(bot.fake.sent(STAFF_CHAT))
    (sent,) = await bot.send(text("Ho perso il permesso di soggiorno, cosa faccio?"))
    assert "inviato" in sent.params["text"]
    assert keyboard_ids(sent)[0] == "act:human:end"
    await bot.fake.wait_for(lambda: len(bot.fake.sent(STAFF_CHAT)) > staff_before)
    request = bot.fake.sent(STAFF_CHAT)[-1]
    assert "Ho perso il permesso di soggiorno" in request.params["text"]
    assert "lingua it" in request.params["text"]
    (close_button,) = keyboard_ids(request)
    assert close_button.startswith("staff:hclose:")

    # A staff member replies to the notice: the user gets it in their chat.
    (answer,) = await bot.send(staff_reply(request, "Venga lunedì con il passaporto."))
    assert "Venga lunedì con il passaporto." in answer.params["text"]
    assert "Lo sportello risponde" in answer.params["text"]
    await bot.fake.wait_for(lambda: "Inviato" in bot.fake.sent(STAFF_CHAT)[-1].params["text"])

    # The user writes again: it goes to the staff group, in the same conversation.
    staff_before = len(bot.fake.sent(STAFF_CHAT))
    (ack,) = await bot.send(text("Grazie, a che ora?"))
    assert "Inviato allo sportello" in ack.params["text"]
    await bot.fake.wait_for(lambda: len(bot.fake.sent(STAFF_CHAT)) > staff_before)
    follow_up = bot.fake.sent(STAFF_CHAT)[-1]
    assert "Grazie, a che ora?" in follow_up.params["text"]
    assert keyboard_ids(follow_up) == [close_button]

    # Someone in the group who is not staff cannot answer.
    (refusal,) = await bot.send(staff_reply(follow_up, "ciao", user=666), chat_id=STAFF_CHAT)
    assert "staff" in refusal.params["text"].lower() or "personale" in refusal.params["text"]

    # Staff close it with "/fine" as a reply: the user is told, and can ask questions again.
    (closed,) = await bot.send(staff_reply(follow_up, "/fine"))
    assert "chiuso questa conversazione" in closed.params["text"]
    (late,) = await bot.send(staff_reply(request, "un'altra cosa"), chat_id=STAFF_CHAT)
    assert "chiusa" in late.params["text"]
    staff_before = len(bot.fake.sent(STAFF_CHAT))
    (answered,) = await bot.send(text("rinnovo permesso di soggiorno"))
    assert "Inviato" not in answered.params["text"]
    await asyncio.sleep(0.3)
    assert len(bot.fake.sent(STAFF_CHAT)) == staff_before


async def test_the_user_ends_the_conversation_and_staff_close_with_the_button(bot: Bot) -> None:
    await bot.send(start(language_code="en"))
    await bot.send(text("I want to talk to a person"))
    await bot.send(text("Where do I renew my permit?"))
    await bot.fake.wait_for(lambda: len(bot.fake.sent(STAFF_CHAT)) >= 1)
    (home,) = await bot.send(press("act:human:end"))
    assert "ended the conversation" in home.params["text"]
    await bot.fake.wait_for(
        lambda: "ha chiuso la conversazione" in bot.fake.sent(STAFF_CHAT)[-1].params["text"]
    )
    # A new conversation, closed by staff with the button.
    await bot.send(press("act:human"))
    await bot.send(text("One more question"))
    await bot.fake.wait_for(
        lambda: "One more question" in bot.fake.sent(STAFF_CHAT)[-1].params["text"]
    )
    (button,) = keyboard_ids(bot.fake.sent(STAFF_CHAT)[-1])
    staff_press = press(button, user=STAFF_USER)
    staff_press["callback_query"]["message"]["chat"] = {
        "id": STAFF_CHAT,
        "type": "supergroup",
        "title": "Staff",
    }
    (told,) = await bot.send(staff_press)
    assert "closed this conversation" in told.params["text"]


async def _open_conversation(bot: Bot) -> Any:
    await bot.send(start(language_code="it"))
    await bot.send(press("act:human"))
    await bot.send(text("Ho perso il permesso di soggiorno"))
    await bot.fake.wait_for(lambda: len(bot.fake.sent(STAFF_CHAT)) >= 1)
    return bot.fake.sent(STAFF_CHAT)[-1]


async def test_editing_a_staff_reply_does_not_send_it_twice(bot: Bot) -> None:
    request = await _open_conversation(bot)
    reply = staff_reply(request, "Venga lunedì.")
    (answer,) = await bot.send(reply)
    assert "Venga lunedì." in answer.params["text"]
    # Staff's acknowledgement and the reply to the user go their own ways: the reply may
    # arrive first, and the acknowledgement after what the edit answers.
    await bot.fake.wait_for(
        lambda: any("Inviato (#" in c.params["text"] for c in bot.fake.sent(STAFF_CHAT))
    )
    changed: dict[str, Any] = {**reply["message"], "edit_date": 1764060100}
    changed["text"] = "Venga lunedì alle 9."
    edited = {"update_id": 99, "edited_message": changed}
    if bot.webhook_base is None:
        bot.fake.queue(edited)
    else:
        await bot.post(edited)
    await bot.fake.wait_for(
        lambda: "Le modifiche non arrivano" in bot.fake.sent(STAFF_CHAT)[-1].params["text"]
    )
    await asyncio.sleep(0.3)
    to_user = [c for c in bot.fake.sent(USER) if "Lo sportello risponde" in c.params["text"]]
    assert len(to_user) == 1, [c.params["text"] for c in to_user]


@pytest.mark.parametrize("data", ["staff:hclose:²", "staff:hclose:" + "9" * 30])
async def test_garbage_close_buttons_are_answered_not_crashing(
    bot: Bot,
    data: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await _open_conversation(bot)
    staff_press = press(data, user=STAFF_USER)
    staff_press["callback_query"]["message"]["chat"] = {
        "id": STAFF_CHAT,
        "type": "supergroup",
        "title": "Staff",
    }
    with caplog.at_level(logging.ERROR):
        if bot.webhook_base is None:
            bot.fake.queue(staff_press)
        else:
            await bot.post(staff_press)
        await asyncio.sleep(1.0)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], [
        r.exc_info[1] for r in caplog.records if r.exc_info
    ]


async def test_telegram_unreachable_at_start_does_not_stop_the_server(
    content_copy: Path, database_target: str
) -> None:
    fake = FakeTelegram(unavailable=True)
    async with serve(fake.app()) as api_url:
        settings = Settings(
            db_path=database_target,
            content_dir=content_copy,
            locales_dir=LOCALES,
            telegram_bot_token=fake.token,
            telegram_api_url=api_url,
            agenda_hour=None,
        )
        async with services(settings, channels=True) as running:
            telegram = running.channel(TelegramChannel)
            assert telegram is not None
            telegram.retry_delay = 0.2
            async with serve(create_web_app(running)) as base, httpx.AsyncClient() as client:
                health = (await client.get(f"{base}/healthz")).json()
                assert health["status"] == "degraded" and health["telegram_connected"] is False
                fake.unavailable = False  # Telegram is back
                await connected(running)
                health = (await client.get(f"{base}/healthz")).json()
                assert health["telegram_connected"] is True
                bot = Bot(fake, running, None)
                (welcome,) = await bot.send(start(language_code="it"))
                assert "Sportello" in welcome.params["text"]


async def test_staff_notices_waiting_in_a_burst_reach_the_group_as_one_digest(bot: Bot) -> None:
    telegram, desk = bot.services.channel(TelegramChannel), bot.services.desk
    assert telegram is not None and telegram.worker is not None and desk is not None
    await telegram.worker.stop()  # as when Telegram holds the group's messages back
    codes = [f"LU-AC{n}{n}" for n in range(3, 8)]
    for code in codes:
        await desk.tell_staff(f"📅 Nuovo appuntamento {code}", code)
    before = len(bot.fake.sent(STAFF_CHAT))
    telegram.worker.start()
    await bot.fake.wait_for(lambda: len(bot.fake.sent(STAFF_CHAT)) > before)
    await asyncio.sleep(0.3)  # nothing else follows it
    (digest,) = bot.fake.sent(STAFF_CHAT)[before:]
    assert digest.params["text"].startswith("📬 5 avvisi")
    assert all(code in digest.params["text"] for code in codes)
    rows = digest.params["reply_markup"]["inline_keyboard"]
    assert [row[0]["callback_data"] for row in rows] == [f"staff:attended:{c}" for c in codes]
    assert rows[0][0]["text"] == f"✅ {codes[0]}"


async def test_a_live_reply_goes_before_a_backlog_of_notices(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    """Notices (reminders, say) drain at what Telegram allows; a user who writes meanwhile is
    answered at once, not after the notices queued before their message."""
    # Five messages a second: a backlog that lasts seconds, not minutes.
    async with running_bot(
        tmp_path,
        content_copy,
        webhook=False,
        telegram_max_sends_per_second=5,
        database=database_target,
    ) as bot:
        telegram = bot.services.channel(TelegramChannel)
        assert telegram is not None and telegram.worker is not None
        assert bot.services.database is not None
        await telegram.worker.stop()
        backlog = 20
        await Outbox(bot.services.database).add_notices(
            Notice("telegram", str(20_000 + n), f"Promemoria {n}", "reminder")
            for n in range(backlog)
        )
        telegram.worker.start()

        def notices_sent() -> int:
            return sum("Promemoria" in call.params["text"] for call in bot.fake.sent())

        await bot.fake.wait_for(lambda: notices_sent() >= 3)
        (reply,) = await bot.send(start(language_code="it"))
        before_reply = notices_sent()
        assert "Menu principale" in reply.params["text"]
        assert before_reply <= 8  # the rest of the backlog waits for its turn after it
        await bot.fake.wait_for(lambda: notices_sent() == backlog, seconds=30)


async def test_an_update_is_stored_before_it_is_acknowledged(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Telegram forgets an update once we acknowledge it (the webhook's 200, the next
    getUpdates offset): it is in our database by then, until its turn is saved."""
    engine = bot.services.engine
    assert bot.services.database is not None
    updates = InboundQueue(bot.services.database)
    answer = engine.handle
    seen_while_handling: list[list[str]] = []
    fake = bot.fake

    async def slow_handle(incoming: Incoming) -> list[Reply]:
        if bot.webhook_base is None:  # polling went on past it: Telegram has forgotten it
            await wait_until(
                lambda: fake.updates[-1]["update_id"] < fake.confirmed_below,
                10,
                lambda: "the update was never confirmed",
            )
        seen_while_handling.append([key for key, _ in await updates.left("telegram")])
        return await answer(incoming)

    monkeypatch.setattr(engine, "handle", slow_handle)
    await bot.send(start(language_code="it"))
    assert len(seen_while_handling) == 1 and len(seen_while_handling[0]) == 1
    await eventually(lambda: _nothing_left(updates))


async def test_an_update_left_by_a_crash_is_answered_once_at_the_next_start(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    """A run killed after acknowledging an update left it stored: the next start answers it,
    and Telegram delivering it again does not make a second answer."""
    left = {**start(language_code="it"), "update_id": 4242}
    async with Database(database_target) as database:
        assert await InboundQueue(database).keep("telegram", "update:4242", left)
    async with running_bot(tmp_path, content_copy, webhook=True, database=database_target) as bot:
        await bot.fake.wait_for(lambda: len(bot.fake.sent(USER)) == 1)
        assert "Menu principale" in bot.fake.sent(USER)[0].params["text"]
        assert bot.services.database is not None
        updates = InboundQueue(bot.services.database)
        await eventually(lambda: _nothing_left(updates))
        assert (await bot.post(left)).status_code == 200  # Telegram's redelivery
        await bot.send(text("ciao"))  # a marker behind it
        assert len(bot.fake.sent(USER)) == 2


async def _nothing_left(updates: InboundQueue) -> bool:
    return not await updates.left("telegram")


async def test_a_notice_in_doubt_after_a_crash_is_sent_again(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    """Telegram cannot say what a bot sent: a staff notice whose attempt a crash cut short
    goes again (at least once: staff may see it twice, never not at all)."""
    async with Database(database_target) as database:
        await Outbox(database).add_notices(
            [Notice("telegram", str(STAFF_CHAT), "Nuova prenotazione LU-TEST", "booking")]
        )
        await rows(database, "UPDATE outbox SET sending_since = :then", then=time.time() - 1)
    async with running_bot(tmp_path, content_copy, webhook=False, database=database_target) as bot:
        await bot.fake.wait_for(lambda: len(bot.fake.sent(STAFF_CHAT)) == 1)
        assert "LU-TEST" in bot.fake.sent(STAFF_CHAT)[0].params["text"]
        assert bot.services.database is not None
        outbox = Outbox(bot.services.database)

        async def delivered() -> bool:
            return await outbox.counts("telegram") == {"sent": 1}

        await eventually(delivered)
