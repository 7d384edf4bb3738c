"""Talk to a person from WhatsApp, answered from the Telegram staff group: the real twilio
and python-telegram-bot libraries, each against its fake server."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from bot.app import services
from bot.config import Settings
from bot.storage.outbox import Outbox
from bot.web import create_web_app
from tests.auxil.databases import rows
from tests.auxil.fake_telegram import FakeTelegram, free_port, serve
from tests.auxil.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio
from tests.auxil.waiting import eventually
from tests.conftest import LOCALES
from tests.e2e.test_telegram import STAFF_CHAT, STAFF_USER, connected, staff_reply
from tests.e2e.test_whatsapp import PHONE, Bot

TEMPLATE = "HX" + "b" * 32


async def test_a_whatsapp_user_talks_with_staff_on_telegram(
    content_copy: Path, database_target: str
) -> None:
    twilio, telegram = FakeTwilio(), FakeTelegram()
    async with serve(twilio.app()) as twilio_url, serve(telegram.app()) as telegram_url:
        port = free_port()
        settings = Settings(
            db_path=database_target,
            content_dir=content_copy,
            locales_dir=LOCALES,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_whatsapp_from=SENDER,
            twilio_api_url=twilio_url,
            twilio_templates={"handover": TEMPLATE},
            public_base_url=f"http://127.0.0.1:{port}",
            telegram_bot_token=telegram.token,
            telegram_api_url=telegram_url,
            telegram_staff_chat_id=STAFF_CHAT,
            telegram_staff_user_ids=frozenset({STAFF_USER}),
            agenda_hour=None,
        )
        async with (
            services(settings, channels=True) as running,
            serve(create_web_app(running), port) as base,
        ):
            await connected(running)
            bot = Bot(twilio, running, base)
            await bot.say("ciao")
            (prompt,) = await bot.say("vorrei un operatore")
            assert "operatori dello sportello" in prompt["Body"]
            (ack,) = await bot.say("Il mio permesso scade, cosa devo fare?")
            assert "inviato allo sportello" in ack["Body"]
            await telegram.wait_for(lambda: telegram.sent(STAFF_CHAT))
            (request,) = telegram.sent(STAFF_CHAT)
            assert "Il mio permesso scade" in request.params["text"]
            assert "whatsapp" in request.params["text"] and PHONE not in request.params["text"]

            # Inside the 24-hour window the reply goes as text, as typed: WhatsApp has no
            # escape, so typed stars become look-alikes that make nothing bold.
            telegram.queue(staff_reply(request, "Venga con il *passaporto*."))
            await twilio.wait_for(lambda: len(twilio.to(PHONE)) == 4)
            assert twilio.to(PHONE)[-1]["Body"] == (
                "💬 Lo sportello risponde:\n\nVenga con il ∗passaporto∗."
            )

            # A day later, only the approved template may go.
            assert running.database is not None
            await rows(
                running.database,
                "UPDATE contacts SET last_inbound_at = :then",
                then=time.time() - 2 * 86_400,
            )
            telegram.queue(staff_reply(request, "Ci sono *novità*?\n\nMi scriva."))
            await twilio.wait_for(lambda: len(twilio.to(PHONE)) == 5)
            late = twilio.to(PHONE)[-1]
            assert late["ContentSid"] == TEMPLATE and "Body" not in late
            # One line: WhatsApp refuses new lines in a template's variables;
            # and its stars become look-alikes (WhatsApp would make them bold).
            assert json.loads(late["ContentVariables"]) == {"1": "Ci sono ∗novità∗? Mi scriva."}

            # Each reply's acknowledgement goes straight to the group, the reply through the
            # outbox: either may arrive first, and the acknowledgement is not what is counted.
            await telegram.wait_for(
                lambda: (
                    [c.params["text"] for c in telegram.sent(STAFF_CHAT)].count("✉️ Inviato (#1).")
                    == 2
                )
            )

            # Closing it: no template for that courtesy, so it is not sent, and nobody is
            # alarmed (an unsent answer or reminder would raise an alert in the group).
            staff_before = len(telegram.sent(STAFF_CHAT))
            telegram.queue(staff_reply(request, "/fine"))
            await telegram.wait_for(lambda: len(telegram.sent(STAFF_CHAT)) > staff_before)
            outbox = Outbox(running.database)
            assert await eventually(lambda: outbox.errors("whatsapp"))
            await asyncio.sleep(0.3)
            texts = [call.params["text"] for call in telegram.sent(STAFF_CHAT)[staff_before:]]
            assert texts == ["🔚 Conversazione #1 chiusa."]
            assert len(twilio.to(PHONE)) == 5


async def test_staff_are_told_when_a_reply_cannot_go_outside_the_24_hours(
    content_copy: Path, database_target: str
) -> None:
    twilio, telegram = FakeTwilio(), FakeTelegram()
    async with serve(twilio.app()) as twilio_url, serve(telegram.app()) as telegram_url:
        port = free_port()
        settings = Settings(
            db_path=database_target,
            content_dir=content_copy,
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
            services(settings, channels=True) as running,
            serve(create_web_app(running), port) as base,
        ):
            await connected(running)
            bot = Bot(twilio, running, base)
            await bot.say("ciao")
            await bot.say("vorrei un operatore")
            await bot.say("Il mio permesso scade")
            await telegram.wait_for(lambda: telegram.sent(STAFF_CHAT))
            (request,) = telegram.sent(STAFF_CHAT)
            assert running.database is not None
            await rows(
                running.database,
                "UPDATE contacts SET last_inbound_at = :then",
                then=time.time() - 2 * 86_400,
            )
            sent_before = len(twilio.to(PHONE))
            telegram.queue(staff_reply(request, "Venga lunedì."))
            await telegram.wait_for(
                lambda: any(
                    "non è stato inviato" in call.params["text"]
                    for call in telegram.sent(STAFF_CHAT)
                )
            )
            (alert,) = [
                call.params["text"]
                for call in telegram.sent(STAFF_CHAT)
                if "non è stato inviato" in call.params["text"]
            ]
            assert "conversazione #1" in alert and "Contattate la persona" in alert
            assert len(twilio.to(PHONE)) == sent_before
