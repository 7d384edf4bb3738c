"""A user writing in Bengali sets a reminder of their permit's renewal through the deadline
dialogue (the deadline chosen, a date typed in Bengali digits, the reminders accepted), time
moves forward, the reminder arrives (Telegram: a message; WhatsApp after 24 hours: the approved
template), and the user deletes their reminders: the real python-telegram-bot and twilio
against their fakes, on the repository's content."""

from __future__ import annotations

import json
import re
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.app import Services, services
from bot.config import Settings
from bot.storage.events import EventStore
from bot.web import create_web_app
from tests.auxil.databases import rows
from tests.auxil.fake_telegram import free_port, serve
from tests.auxil.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio
from tests.conftest import LOCALES, REPO_CONTENT
from tests.e2e.test_checklist_across_channels import WHAT_DO_I_NEED
from tests.e2e.test_telegram import USER, keyboard_ids, press, running_bot, start, text
from tests.e2e.test_whatsapp import Bot as WhatsAppBot

ROME = ZoneInfo("Europe/Rome")
EXPIRY = date(2027, 3, 12)
BEFORE_90, BEFORE_60 = date(2026, 12, 12), date(2027, 1, 11)
PHONE = "+8801712345678"  # a Bangladeshi number: the bot guesses Bengali
TEMPLATE = "HX" + "d" * 32
#: The repository's content: the renewal rule's Bengali title, and dates in Bengali.
RENEWAL = "পারমেসো নবায়ন"
EXPIRY_BN, APPLY_BY_BN = "12 মার্চ, 2027", "11 জানুয়ারি, 2027"
#: The expiry date as a Bengali user types it, in Bengali digits.
TYPED_EXPIRY = "১২/০৩/২০২৭"


class Clock:
    """The counter's "now" (the appointments' and the reminders'), moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def remind_on(running: Services, channel: str, user_id: str) -> list[date]:
    """The days the user's renewal reminders are kept for (event and language checked)."""
    deadlines = running.deadlines
    assert deadlines is not None
    mine = await deadlines.mine(channel, user_id)
    assert {(r.kind, r.event_date, r.language) for r in mine} == {("permit_renewal", EXPIRY, "bn")}
    return [reminder.remind_on for reminder in mine]


async def counted(running: Services) -> list[tuple[str, str | None, str, str | None]]:
    """The deadline events the monitoring recorded: action, kind, channel, person."""
    assert running.database is not None
    now = datetime.now(ROME)
    events = await EventStore(running.database, ROME).between(
        now - timedelta(days=1), now + timedelta(days=1)
    )
    return [(e.action, e.topic, e.channel, e.user) for e in events if e.kind == "deadline"]


async def test_on_telegram(tmp_path: Path, database_target: str) -> None:
    clock = Clock(datetime(2026, 12, 1, 9, 0, tzinfo=ROME))
    async with running_bot(
        tmp_path, REPO_CONTENT, webhook=False, clock=clock, database=database_target
    ) as bot:
        (menu,) = await bot.send(start(language_code="bn"))
        assert "go:my_deadlines" in keyboard_ids(menu)  # "My dates and reminders"
        (kinds,) = await bot.send(press("go:my_deadlines"))
        assert {"dl:k:permit_renewal", "rem:mine"} <= set(keyboard_ids(kinds))
        (question,) = await bot.send(press("dl:k:permit_renewal"))
        assert question.params["text"].startswith("আপনার পারমেসো দি সোজর্নো কবে শেষ হবে?")
        (dates,) = await bot.send(text(TYPED_EXPIRY))
        assert EXPIRY_BN in dates.params["text"] and APPLY_BY_BN in dates.params["text"]
        await bot.send(press("dl:r:permit_renewal"))  # what is kept, then "do you agree?"
        (done,) = await bot.send(press("dl:y:permit_renewal"))
        assert done.params["text"].startswith("হয়ে গেছে: আমি আপনাকে")
        assert "rem:mine" in keyboard_ids(done)
        assert await remind_on(bot.services, "telegram", str(USER)) == [BEFORE_90, BEFORE_60]
        (listing,) = await bot.send(text("আমার রিমাইন্ডার"))  # "my reminders", written
        lines = listing.params["text"].splitlines()
        assert lines[0] == "<b>আপনার রিমাইন্ডার:</b>"
        assert lines[1] == f"- {RENEWAL} ({EXPIRY_BN}): 12 ডিসেম্বর, 2026 তারিখে রিমাইন্ডার"

        # Time moves on to the first reminder's day, past the hour: it arrives once.
        deadlines = bot.services.deadlines
        assert deadlines is not None
        clock.now = datetime(2026, 12, 12, 10, 5, tzinfo=ROME)
        before = len(bot.fake.sent(USER))
        assert await deadlines.run_once() == 1
        await bot.fake.wait_for(lambda: len(bot.fake.sent(USER)) > before)
        reminder = bot.fake.sent(USER)[-1].params["text"].splitlines()
        # The rule's own words, as of the reminder's day: the dates still ahead.
        assert reminder[0] == f"⏰ রিমাইন্ডার: {RENEWAL}"
        assert any(APPLY_BY_BN in line for line in reminder[1:])
        assert any(EXPIRY_BN in line for line in reminder[1:])
        assert await deadlines.run_once() == 0

        # Reminded, the user asks what to bring for the renewal: their own list, in Bengali
        # with the Italian names beside.
        (topic,) = await bot.send(text(WHAT_DO_I_NEED))
        assert "cl:svc:permit_renewal" in keyboard_ids(topic)
        await bot.send(press("cl:svc:permit_renewal"))
        await bot.send(press("cl:a:permit:work"))
        (checklist,) = await bot.send(press("cl:a:kit:yes"))
        listed = checklist.params["text"]
        assert "(passaporto)" in listed and "(Modulo 2 del kit)" in listed
        assert "(documenti per il tuo tipo di permesso)" not in listed  # a worker's permit

        # The user deletes them all, after a confirmation.
        (listing,) = await bot.send(press("rem:mine"))
        assert "12 ডিসেম্বর, 2026 তারিখে মনে করানো হয়েছে" in listing.params["text"]
        (question,) = await bot.send(press("rem:all"))
        assert question.params["text"] == "আপনার সব রিমাইন্ডার মুছবেন?"
        (done,) = await bot.send(press("rem:allyes"))
        assert done.params["text"].startswith("আপনার রিমাইন্ডারগুলো মুছে ফেলা হয়েছে।")
        assert await deadlines.mine("telegram", str(USER)) == []
        assert await counted(bot.services) == [
            ("set", "permit_renewal", "telegram", None),
            ("set", "permit_renewal", "telegram", None),
            ("sent", "permit_renewal", "telegram", None),
        ]


def numbered(body: str, label: str) -> str:
    """The number WhatsApp's numbered list gives a choice ("*5.* label")."""
    match = re.search(rf"\*(\d+)\.\* {re.escape(label)}", body)
    assert match is not None, body
    return match.group(1)


async def test_on_whatsapp_through_the_template_after_24_hours(database_target: str) -> None:
    clock = Clock(datetime(2026, 12, 1, 9, 0, tzinfo=ROME))
    twilio = FakeTwilio()
    async with serve(twilio.app()) as api_url:
        port = free_port()
        settings = Settings(
            db_path=database_target,
            content_dir=REPO_CONTENT,
            locales_dir=LOCALES,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_whatsapp_from=SENDER,
            twilio_api_url=api_url,
            twilio_templates={"deadline": TEMPLATE},
            public_base_url=f"http://127.0.0.1:{port}",
            agenda_hour=None,
        )
        async with (
            services(settings, channels=True, clock=clock) as running,
            serve(create_web_app(running), port) as base,
        ):
            bot = WhatsAppBot(twilio, running, base)
            await bot.say("হ্যালো", phone=PHONE)
            # The deadline and its date in one message: answered at once.
            (dates,) = await bot.say(f"আমার পারমেসোর মেয়াদ শেষ হবে {TYPED_EXPIRY}", phone=PHONE)
            assert EXPIRY_BN in dates["Body"] and APPLY_BY_BN in dates["Body"]
            remind = numbered(dates["Body"], "🔔 আমাকে মনে করিয়ে দিন")
            (consent,) = await bot.say(remind.translate(BENGALI_DIGITS), phone=PHONE)
            agree = numbered(consent["Body"], "হ্যাঁ, মনে করিয়ে দিন")
            (done,) = await bot.say(agree.translate(BENGALI_DIGITS), phone=PHONE)
            assert done["Body"].startswith("হয়ে গেছে: আমি আপনাকে")
            assert await remind_on(running, "whatsapp", PHONE) == [BEFORE_90, BEFORE_60]

            # A day later the user has not written again: only the template may go.
            assert running.database is not None
            await rows(
                running.database,
                "UPDATE contacts SET last_inbound_at = :then",
                then=time.time() - 2 * 86_400,
            )
            deadlines = running.deadlines
            assert deadlines is not None
            clock.now = datetime(2026, 12, 12, 10, 5, tzinfo=ROME)
            assert await deadlines.run_once() == 1
            await twilio.wait_for(lambda: len(twilio.to(PHONE)) == 5)
            sent: dict[str, Any] = twilio.to(PHONE)[-1]
            assert sent["ContentSid"] == TEMPLATE and "Body" not in sent
            # The deadline, and the date that matters now: the last day to ask for renewal.
            assert json.loads(sent["ContentVariables"]) == {"1": RENEWAL, "2": APPLY_BY_BN}

            # The user asks what to bring for the renewal: their list, the Italian names beside.
            (topic,) = await bot.say(WHAT_DO_I_NEED, phone=PHONE)
            renewal = numbered(topic["Body"], "রেসিডেন্স পারমিট নবায়ন")
            await bot.say(renewal.translate(BENGALI_DIGITS), phone=PHONE)
            await bot.say("১", phone=PHONE)  # a work permit
            (checklist,) = await bot.say("হ্যাঁ", phone=PHONE)  # "yes", they have the kit
            assert "(passaporto)" in checklist["Body"]
            assert "(Modulo 2 del kit)" in checklist["Body"]

            # The user answers with "my reminders" and deletes them, numbers in Bengali digits.
            (listing,) = await bot.say("আমার রিমাইন্ডার", phone=PHONE)
            assert "মনে করানো হয়েছে" in listing["Body"]  # the one sent
            everything = numbered(listing["Body"], "সব রিমাইন্ডার মুছুন")
            (question,) = await bot.say(everything.translate(BENGALI_DIGITS), phone=PHONE)
            assert question["Body"].startswith("আপনার সব রিমাইন্ডার মুছবেন?")
            yes = numbered(question["Body"], "হ্যাঁ, সব মুছুন")
            (done,) = await bot.say(yes.translate(BENGALI_DIGITS), phone=PHONE)
            assert done["Body"].startswith("আপনার রিমাইন্ডারগুলো মুছে ফেলা হয়েছে।")
            assert await deadlines.mine("whatsapp", PHONE) == []
            assert await counted(running) == [
                ("set", "permit_renewal", "whatsapp", None),
                ("set", "permit_renewal", "whatsapp", None),
                ("sent", "permit_renewal", "whatsapp", None),
            ]


BENGALI_DIGITS = str.maketrans("0123456789", "০১২৩৪৫৬৭৮৯")
