"""Appointment requests from WhatsApp, handled by staff in the Telegram group: the real twilio
and python-telegram-bot libraries, each against its fake server."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import services
from bot.config import Settings
from bot.web import create_web_app
from tests.auxil.fake_telegram import FakeTelegram, free_port, serve
from tests.auxil.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio
from tests.conftest import LOCALES
from tests.e2e.test_telegram import STAFF_CHAT, STAFF_USER, connected, press
from tests.e2e.test_whatsapp import Bot

ROME = ZoneInfo("Europe/Rome")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=ROME)  # a Wednesday
MOROCCO = "+212612345678"
BIDI_MARKS = dict.fromkeys((0x2066, 0x2069, 0x200F))  # how right-to-left text isolates codes


@contextlib.asynccontextmanager
async def counter(database: str, content: Path) -> AsyncIterator[tuple[Bot, FakeTelegram]]:
    """Both channels on ``database`` (the ``database_target`` fixture)."""
    twilio, telegram = FakeTwilio(), FakeTelegram()
    async with serve(twilio.app()) as twilio_url, serve(telegram.app()) as telegram_url:
        port = free_port()
        settings = Settings(
            db_path=database,
            content_dir=content,
            locales_dir=LOCALES,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_whatsapp_from=SENDER,
            twilio_api_url=twilio_url,
            public_base_url=f"http://127.0.0.1:{port}",
            telegram_bot_token=telegram.token,
            telegram_api_url=telegram_url,
            telegram_staff_chat_id=STAFF_CHAT,
            telegram_staff_user_ids=frozenset({STAFF_USER}),
            agenda_hour=None,
        )
        async with (
            services(settings, channels=True, clock=lambda: NOW) as running,
            serve(create_web_app(running), port) as base,
        ):
            await connected(running)
            yield Bot(twilio, running, base), telegram


def staff_press(data: str) -> dict[str, Any]:
    payload = press(data, user=STAFF_USER)
    payload["callback_query"]["message"]["chat"] = {
        "id": STAFF_CHAT,
        "type": "supergroup",
        "title": "Staff",
    }
    return payload


async def request_in_arabic(bot: Bot, telegram: FakeTelegram) -> str:
    (choices,) = await bot.say("أريد موعد", phone=MOROCCO)
    assert "*2.* لمّ شمل الأسرة" in choices["Body"]
    (days,) = await bot.say("2", phone=MOROCCO)  # taken on request at Luino
    assert "*1.* في أقرب وقت ممكن" in days["Body"]
    (languages,) = await bot.say("1", phone=MOROCCO)
    assert "*1.* العربية" in languages["Body"]
    await bot.say("1", phone=MOROCCO)
    (summary,) = await bot.say("أمينة العلوي", phone=MOROCCO)  # no phone asked on WhatsApp
    assert MOROCCO in summary["Body"]
    (sent,) = await bot.say("1", phone=MOROCCO)
    assert "تم إرسال طلبك" in sent["Body"]
    code = "LU-" + str(sent["Body"]).split("LU-", 1)[1][:4]
    await telegram.wait_for(
        lambda: any(code in call.params["text"] for call in telegram.sent(STAFF_CHAT))
    )
    return code


async def test_a_request_in_arabic_on_whatsapp_declined_with_a_reason(
    content_copy: Path, database_target: str
) -> None:
    async with counter(database_target, content_copy) as (bot, telegram):
        code = await request_in_arabic(bot, telegram)
        (notice,) = telegram.sent(STAFF_CHAT)
        assert "Lingua per l'incontro: arabo (chat in arabo, whatsapp)" in notice.params["text"]
        assert MOROCCO in notice.params["text"]

        # Staff decline from the group with one of the reasons.
        telegram.queue(staff_press(f"staff:rq:n:{code}"))
        await telegram.wait_for(lambda: len(telegram.sent(STAFF_CHAT)) == 2)
        reasons = telegram.sent(STAFF_CHAT)[-1].params["reply_markup"]["inline_keyboard"]
        assert reasons[0][0]["callback_data"] == f"staff:rq:r:{code}:full"
        before = len(bot.fake.to(MOROCCO))
        telegram.queue(staff_press(f"staff:rq:r:{code}:full"))
        await bot.fake.wait_for(lambda: len(bot.fake.to(MOROCCO)) > before)
        declined = bot.fake.to(MOROCCO)[-1]["Body"]
        assert f"لا يستطيع المكتب أن يعطيك موعدًا لطلبك {code}" in declined
        assert "أرسل طلبًا جديدًا لاحقًا" in declined
        assert "0332 536727" in declined  # how to reach the counter
        await telegram.wait_for(
            lambda: any("rifiutata" in call.params["text"] for call in telegram.sent(STAFF_CHAT))
        )
        # The request is closed: "my appointments" no longer shows it.
        (mine,) = await bot.say("مواعيدي", phone=MOROCCO)
        assert code not in mine["Body"]


async def test_a_proposal_on_whatsapp_is_accepted_with_its_number(
    content_copy: Path, database_target: str
) -> None:
    async with counter(database_target, content_copy) as (bot, telegram):
        code = await request_in_arabic(bot, telegram)
        before = len(bot.fake.to(MOROCCO))
        telegram.queue(staff_press(f"staff:rq:t:{code}:202612021030"))
        await bot.fake.wait_for(lambda: len(bot.fake.to(MOROCCO)) > before)
        proposal = bot.fake.to(MOROCCO)[-1]["Body"]
        assert f"يقترح عليك المكتب موعدًا لطلبك {code}" in proposal
        assert "*1.* نعم، أوافق" in proposal and "*2.* أحتاج موعدًا آخر" in proposal
        booked, calendar = await bot.say("1", phone=MOROCCO, expect=2)
        assert f"رمزك هو {code}" in booked["Body"].translate(BIDI_MARKS)
        assert f"/calendar/{code}.ics?k=" in calendar["Body"]
