"""The WhatsApp channel: signed Twilio webhooks in, the real twilio client out to a fake API."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from twilio.request_validator import RequestValidator

from bot.app import Services, services
from bot.channels.formatting import split_message
from bot.channels.whatsapp import (
    MESSAGE_LIMIT,
    SignedFields,
    WhatsAppChannel,
    guess_language,
    to_whatsapp,
)
from bot.config import Settings
from bot.core.messages import Incoming, Reply
from bot.storage.db import Database
from bot.storage.inbound import InboundLog, InboundQueue
from bot.storage.outbox import Notice, Outbox
from bot.web import create_web_app
from tests.auxil.databases import rows
from tests.auxil.fake_telegram import free_port, serve
from tests.auxil.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, SENDER, FakeTwilio
from tests.auxil.full_disk import full_disk
from tests.auxil.trips import Trips
from tests.auxil.waiting import eventually
from tests.conftest import LOCALES

DATA = Path(__file__).parent.parent / "data" / "twilio"
PHONE = "+393330000000"
#: What a menu tap may cost, in hops to the database's thread (it was 32, then 10 with the
#: reply through the outbox; 5 with the reply in the webhook's TwiML; 50 once the storage ran
#: through SQLAlchemy's aiosqlite adapter, about five hops a statement; 14 with one hop a
#: statement, bot.storage.sqlite_driver, and lone writes in autocommit; none with quick statements
#: on the event loop's thread), and the outbox worker's look every second, which may fall in,
#: and one commit in CHECKPOINT_EVERY, on the thread.
TRIPS_PER_MESSAGE = 3
_ids = itertools.count(1)


def inbound(name: str = "inbound_text", **changes: str) -> dict[str, str]:
    """A recorded Twilio form payload, with a fresh MessageSid unless one is given."""
    form: dict[str, str] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    sid = changes.pop("MessageSid", f"SM{next(_ids):032x}")
    form.update(MessageSid=sid, SmsMessageSid=sid, SmsSid=sid)
    if "phone" in changes:
        phone = changes.pop("phone")
        form["From"] = f"whatsapp:{phone}"
        form["WaId"] = phone.lstrip("+")
    form.update(changes)
    return form


class Bot:
    def __init__(self, fake: FakeTwilio, running: Services, base: str) -> None:
        self.fake = fake
        self.services = running
        self.base = base

    async def post(
        self, form: dict[str, str], path: str = "/whatsapp", signature: str | None = "ok"
    ) -> httpx.Response:
        url = f"{self.base}{path}"
        headers = {}
        if signature == "ok":
            headers["X-Twilio-Signature"] = RequestValidator(AUTH_TOKEN).compute_signature(
                url, form
            )
        elif signature is not None:
            headers["X-Twilio-Signature"] = signature
        async with httpx.AsyncClient() as client:
            response = await client.post(url, data=form, headers=headers)
        if path == "/whatsapp":  # Twilio sends the replies in the answer
            self.fake.take_answer(
                form, response.status_code, response.headers.get("content-type", ""), response.text
            )
        return response

    async def say(
        self, text: str = "", phone: str = PHONE, expect: int = 1, **changes: str
    ) -> list[dict[str, Any]]:
        before = len(self.fake.to(phone))
        response = await self.post(inbound(Body=text, phone=phone, **changes))
        assert response.status_code == 200, response.text
        await self.fake.wait_for(lambda: len(self.fake.to(phone)) >= before + expect)
        return self.fake.to(phone)[before:]


@contextlib.asynccontextmanager
async def running_bot(
    tmp_path: Path,
    content: Path,
    fake: FakeTwilio | None = None,
    database: str | None = None,
    **overrides: Any,
) -> AsyncIterator[Bot]:
    """The bot on ``database`` (the ``database_target`` fixture), else on a SQLite file in
    ``tmp_path``, with a fake Twilio."""
    fake = fake or FakeTwilio()
    async with serve(fake.app()) as api_url:
        port = free_port()
        settings = Settings(
            db_path=database or tmp_path / "bot.sqlite3",
            content_dir=content,
            locales_dir=LOCALES,
            twilio_account_sid=ACCOUNT_SID,
            twilio_auth_token=AUTH_TOKEN,
            twilio_whatsapp_from=SENDER,
            twilio_api_url=api_url,
            public_base_url=f"http://127.0.0.1:{port}",
            **overrides,
        )
        async with (
            services(settings, channels=True) as bot,
            serve(create_web_app(bot), port) as base,
        ):
            yield Bot(fake, bot, base)


@pytest.fixture
async def bot(tmp_path: Path, content_copy: Path, database_target: str) -> AsyncIterator[Bot]:
    async with running_bot(tmp_path, content_copy, database=database_target) as running:
        yield running


async def test_greeting_numbered_menu_and_navigation(bot: Bot) -> None:
    (menu,) = await bot.say("ciao")
    assert menu["From"] == SENDER
    body = menu["Body"]
    assert "*Menu principale*" in body  # WhatsApp's own bold
    assert "*1.* Permesso di soggiorno" in body
    assert "_Rispondi con il numero" in body or body.rstrip().endswith("_")
    assert "<" not in body
    (submenu,) = await bot.say("1")
    assert "*1.* Rinnovo del permesso" in submenu["Body"]
    (topic,) = await bot.say("rinnovo del permesso")  # the label works too
    assert "almeno 60 giorni prima" in topic["Body"]


async def test_language_guessed_from_the_country_and_confirmed(bot: Bot) -> None:
    (question,) = await bot.say("12345", phone="+212600000000")
    first_choice = next(line for line in question["Body"].splitlines() if line.startswith("*1.*"))
    assert "العربية" in first_choice
    (menu,) = await bot.say("1", phone="+212600000000")
    assert "القائمة الرئيسية" in menu["Body"]


async def test_first_free_text_in_another_language_wins(bot: Bot) -> None:
    (answer,) = await bot.say("how do i renew my residence permit", phone="+212600000001")
    assert "at least 60 days" in answer["Body"]


@pytest.mark.parametrize("payload", ["inbound_image", "inbound_location"])
async def test_media_and_locations_get_an_answer(bot: Bot, payload: str) -> None:
    await bot.say("ciao")
    before = len(bot.fake.to(PHONE))
    assert (await bot.post(inbound(payload))).status_code == 200
    await bot.fake.wait_for(lambda: len(bot.fake.to(PHONE)) == before + 1)
    assert "*1.*" in bot.fake.to(PHONE)[-1]["Body"]


async def test_the_words_sent_with_an_image_are_read(bot: Bot) -> None:
    await bot.say("ciao")
    (answer,) = await bot.say(
        "come rinnovo il permesso di soggiorno?", MediaContentType0="image/jpeg", NumMedia="1"
    )
    assert answer["Body"].startswith("Non posso guardare foto o file")
    assert "almeno 60 giorni prima" in answer["Body"]


async def test_wrong_or_missing_signature_is_refused(bot: Bot) -> None:
    form = inbound(Body="ciao")
    assert (await bot.post(form, signature="bm90IGEgc2lnbmF0dXJl")).status_code == 403
    assert (await bot.post(form, signature=None)).status_code == 403
    forged = dict(form, Body="changed after signing")
    url = f"{bot.base}/whatsapp"
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)
    async with httpx.AsyncClient() as client:
        response = await client.post(url, data=forged, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 403
    await asyncio.sleep(0.3)  # give a wrongly accepted message time to be sent
    assert bot.fake.messages == []
    assert bot.services.database is not None
    assert await Outbox(bot.services.database).counts("whatsapp") == {}


async def test_the_same_message_sid_twice_gets_one_reply(bot: Bot) -> None:
    form = inbound(Body="ciao")
    assert (await bot.post(form)).status_code == 200
    assert (await bot.post(form)).status_code == 200
    await bot.fake.wait_for(lambda: len(bot.fake.to(PHONE)) == 1)
    await bot.say("menu")  # a later message, to be sure nothing else was queued
    assert len(bot.fake.to(PHONE)) == 2


async def test_long_answers_are_split_under_1600(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    topic = content_copy / "topics" / "permit_lost.yaml"
    paragraphs = "\n\n".join(f"    Paragrafo {i}: " + "parola " * 60 for i in range(10))
    topic.write_text(
        topic.read_text(encoding="utf-8").replace(
            "  it: Denuncia lo smarrimento alla polizia, poi chiedi allo sportello.",
            "  it: |\n" + paragraphs,
        ),
        encoding="utf-8",
    )
    async with running_bot(tmp_path, content_copy, database=database_target) as bot:
        await bot.say("ciao")
        parts = await bot.say("permesso perso o rubato", expect=3)
        await bot.fake.wait_for(lambda: "*1.*" in bot.fake.to(PHONE)[-1]["Body"])
        parts = bot.fake.to(PHONE)[1:]
        assert len(parts) >= 3
        assert all(len(part["Body"]) <= 1600 for part in parts)
        assert all(part["Body"].startswith(("Paragrafo", "*Fonti", "Fonti")) for part in parts[1:])
        assert [int(part["Sid"][2:], 16) for part in parts] == sorted(
            int(p["Sid"][2:], 16) for p in parts
        )


async def test_replies_go_back_in_the_webhooks_twiml_and_count_as_sent(bot: Bot) -> None:
    response = await bot.post(inbound(Body="ciao"))
    assert response.headers["content-type"].startswith("text/xml")
    assert response.text.startswith('<?xml version="1.0" encoding="UTF-8"?><Response><Message>')
    (menu,) = bot.fake.to(PHONE)  # read from the answer, as Twilio does
    assert menu["Via"] == "twiml" and "*Menu principale*" in menu["Body"]
    assert bot.fake.attempts == 0  # no REST call
    assert bot.services.database is not None
    assert await Outbox(bot.services.database).counts("whatsapp") == {}  # no outbox row
    assert await InboundQueue(bot.services.database).left("whatsapp") == []
    assert bot.services.metrics.sent["whatsapp"] == 1
    (again,) = await bot.say("1")
    assert "*1.* Rinnovo del permesso" in again["Body"]
    assert bot.services.metrics.sent["whatsapp"] == 2


async def test_a_reply_not_ready_in_time_goes_through_the_outbox(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    whatsapp = bot.services.channel(WhatsAppChannel)
    assert whatsapp is not None and bot.services.database is not None
    whatsapp.reply_deadline = 0.2
    answer = whatsapp.engine.handle
    ready = asyncio.Event()

    async def slow(incoming: Incoming) -> list[Reply]:
        await ready.wait()  # past the deadline: Twilio is answered first
        return list(await answer(incoming))

    monkeypatch.setattr(whatsapp.engine, "handle", slow)
    response = await bot.post(inbound(Body="ciao"))
    assert response.status_code == 200 and response.text == "<Response/>"
    assert bot.fake.messages == []
    ready.set()
    await bot.fake.wait_for(lambda: len(bot.fake.to(PHONE)) == 1)
    (menu,) = bot.fake.to(PHONE)
    assert "Via" not in menu and "*Menu principale*" in menu["Body"]  # through the REST API
    outbox = Outbox(bot.services.database)

    async def sent() -> bool:
        return await outbox.counts("whatsapp") == {"sent": 1}

    await eventually(sent)
    assert await InboundQueue(bot.services.database).left("whatsapp") == []


async def test_a_500_from_twilio_is_retried_and_the_notice_arrives(bot: Bot) -> None:
    whatsapp = bot.services.channel(WhatsAppChannel)
    assert whatsapp is not None
    await bot.say("ciao")  # inside the 24-hour window
    bot.fake.failures.append(500)
    await whatsapp.notify(PHONE, "**Promemoria**: domani alle 10", "reminder")
    await bot.fake.wait_for(lambda: len(bot.fake.to(PHONE)) == 2)
    assert bot.fake.to(PHONE)[-1]["Body"] == "*Promemoria*: domani alle 10"
    assert bot.fake.attempts == 2


async def test_business_message_inside_and_outside_the_24_hour_window(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    template, arabic = "HX" + "a" * 32, "HX" + "c" * 32
    templates = {"reminder": template, "reminder_ar": arabic}
    async with running_bot(
        tmp_path, content_copy, twilio_templates=templates, database=database_target
    ) as bot:
        whatsapp = bot.services.channel(WhatsAppChannel)
        assert whatsapp is not None
        await bot.say("ciao")
        await whatsapp.notify(PHONE, "**Promemoria**: domani alle 10", "reminder")
        await bot.fake.wait_for(lambda: len(bot.fake.to(PHONE)) == 2)
        assert bot.fake.to(PHONE)[-1]["Body"] == "*Promemoria*: domani alle 10"
        stranger = "+393339999999"  # never wrote: outside any window
        await whatsapp.notify(stranger, "x", "reminder", {"1": "10:00"})
        await bot.fake.wait_for(lambda: len(bot.fake.to(stranger)) == 1)
        sent = bot.fake.to(stranger)[0]
        assert sent["ContentSid"] == template
        assert json.loads(sent["ContentVariables"]) == {"1": "10:00"}
        assert "Body" not in sent
        # A template approved in the user's language wins over the general one.
        await whatsapp.notify(stranger, "x", "reminder", {"1": "10:00"}, language="ar")
        await bot.fake.wait_for(lambda: len(bot.fake.to(stranger)) == 2)
        assert bot.fake.to(stranger)[1]["ContentSid"] == arabic
        await whatsapp.notify(stranger, "a staff answer", "staff_reply")
        assert bot.services.database is not None
        outbox = Outbox(bot.services.database)
        errors = await eventually(lambda: outbox.errors("whatsapp"))
        assert errors == [
            (
                stranger,
                "refused",
                "outside the 24-hour window and no TWILIO_TEMPLATE_STAFF_REPLY configured",
            )
        ]
        assert len(bot.fake.to(stranger)) == 2


async def test_delivery_failures_are_recorded(bot: Bot, caplog: pytest.LogCaptureFixture) -> None:
    whatsapp = bot.services.channel(WhatsAppChannel)
    assert whatsapp is not None and bot.services.database is not None
    (menu,) = await bot.say("ciao")
    await whatsapp.notify(PHONE, "Promemoria", "reminder")
    await bot.fake.wait_for(lambda: len(bot.fake.to(PHONE)) == 2)
    notice = bot.fake.to(PHONE)[-1]
    outbox = Outbox(bot.services.database)

    async def recorded() -> bool:
        return await outbox.counts("whatsapp") == {"sent": 1}

    await eventually(recorded)
    report = json.loads((DATA / "status_undelivered.json").read_text(encoding="utf-8"))
    # A reply sent in TwiML has no outbox row: its report is ignored, quietly.
    report.update(MessageSid=menu["Sid"], SmsSid=menu["Sid"])
    with caplog.at_level(logging.WARNING):
        assert (await bot.post(report, path="/whatsapp/status")).status_code == 204
    assert caplog.records == []
    assert await outbox.counts("whatsapp") == {"sent": 1}
    report.update(MessageSid=notice["Sid"], SmsSid=notice["Sid"])
    assert (await bot.post(report, path="/whatsapp/status", signature="bad")).status_code == 403
    assert (await bot.post(report, path="/whatsapp/status")).status_code == 204
    errors = await outbox.errors("whatsapp")
    assert errors == [(PHONE, "failed", "undelivered: Twilio error 63016")]


async def test_flood_control(tmp_path: Path, content_copy: Path, database_target: str) -> None:
    async with running_bot(
        tmp_path, content_copy, whatsapp_rate_limit=2, database=database_target
    ) as bot:
        await bot.say("ciao")
        await bot.say("menu")
        (warning,) = await bot.say("menu")
        assert "minut" in warning["Body"]
        assert (await bot.post(inbound(Body="menu"))).status_code == 200
        await bot.say("1", phone="+393331111111")  # another user is not affected
        assert len(bot.fake.to(PHONE)) == 3


@pytest.mark.parametrize(
    ("phone", "language"),
    [
        ("+393331234567", "it"),
        ("+212612345678", "ar"),
        ("+355691234567", "sq"),
        ("+380501234567", "uk"),
        ("+923001234567", "ur"),
        ("+8613812345678", "zh"),
        ("+8801712345678", "bn"),
        ("+5491112345678", "es"),
        ("+18095551234", "es"),
        ("+14155551234", "en"),
        ("+4912345", None),
    ],
)
def test_language_guess_from_country_code(phone: str, language: str | None) -> None:
    assert guess_language(phone) == language


async def test_list_picker_templates_when_configured(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    template = "HX" + "b" * 32
    templates = {"choices_4": template, "choices_5": template}
    async with running_bot(
        tmp_path, content_copy, twilio_templates=templates, database=database_target
    ) as bot:
        # The main menu: 2 items, a person, my reminders, the language.
        (menu,) = await bot.say("ciao")
        assert menu["ContentSid"] == template
        variables = json.loads(menu["ContentVariables"])
        assert "*Menu principale*" in variables["1"]
        assert variables["3"] == "Permesso di soggiorno"
        assert variables["4"] == "go:menu_permits"
        assert variables["10"] == "rem:mine"
        assert variables["12"] == "nav:language"
        (submenu,) = await bot.say("", ListId="go:menu_permits", ListTitle="Permesso di soggiorno")
        assert submenu["ContentSid"] == template  # 2 topics, back, main menu: 4 again
        assert json.loads(submenu["ContentVariables"])["3"] == "Rinnovo del permesso"
        (topic,) = await bot.say("", ListId="go:permit_lost")
        assert "Denuncia" in topic["Body"]  # 3 choices: no template for 3, numbered text


async def test_the_same_message_arriving_twice_at_once_is_handled_once(bot: Bot) -> None:
    await bot.say("ciao")
    form = inbound(Body="1")
    first, second = await asyncio.gather(bot.post(form), bot.post(form))
    assert first.status_code == second.status_code == 200
    await bot.fake.wait_for(lambda: len(bot.fake.to(PHONE)) == 2)
    (reply,) = await bot.say("1")  # the session moved once: "1" is now the first sub-topic
    assert "almeno 60 giorni prima" in reply["Body"]


async def test_booking_on_whatsapp_uses_the_senders_number_and_links_the_calendar(
    bot: Bot,
) -> None:
    await bot.say("ciao")
    (services_list,) = await bot.say("vorrei un appuntamento")
    assert "*1.*" in services_list["Body"]
    (days,) = await bot.say("1")  # the only service; the only office is chosen by itself
    assert "*1.*" in days["Body"]
    (times,) = await bot.say("1")
    assert "*1.*" in times["Body"]
    (name_question,) = await bot.say("1")
    assert "nome" in name_question["Body"]
    (summary,) = await bot.say("Amina Rossi")
    assert "Amina Rossi, +393330000000" in summary["Body"]  # no phone question on WhatsApp
    confirmation, calendar = await bot.say("1", expect=2)
    assert "LU-" in confirmation["Body"]
    code = "LU-" + confirmation["Body"].split("LU-", 1)[1][:4]
    link = calendar["Body"].split(": ", 1)[1].strip()
    assert link.startswith(f"{bot.base}/calendar/{code}.ics?k=")
    async with httpx.AsyncClient() as client:
        fetched = await client.get(link)
        assert fetched.status_code == 200
        assert fetched.headers["content-type"].startswith("text/calendar")
        assert f"UID:{code}@sportello" in fetched.text
        forged = await client.get(link[:-4] + "0000")
        assert forged.status_code == 404
        other = await client.get(link.replace(code, "LU-AAAA"))
        assert other.status_code == 404


def _raw_files(database: Path) -> bytes:
    """The bytes of the database and its -wal and -shm, as anyone reading the disk sees them."""
    paths = [database.with_name(database.name + end) for end in ("", "-wal", "-shm")]
    return b"".join(path.read_bytes() for path in paths if path.exists())


@pytest.mark.sqlite_only  # the bytes of the SQLite file and its WAL
async def test_erasing_leaves_no_phone_name_or_text_in_the_database_files(bot: Bot) -> None:
    database = bot.services.database
    assert database is not None
    path = Path(database.path)
    secret = "zxqv blorf wimble zanzibar"  # no answer for it: the user shares it with staff
    await bot.say("ciao")
    await bot.say("vorrei un appuntamento")
    await bot.say("1")
    await bot.say("1")
    await bot.say("1")
    (summary,) = await bot.say("Amina Rossi")
    assert "Amina Rossi, +393330000000" in summary["Body"]
    await bot.say("1", expect=2)  # booked: confirmation and calendar link
    (unanswered,) = await bot.say(secret)
    # (Nonsense may also look like a language to offer: the share choice is not always first.)
    share = re.search(r"\*(\d+)\.\* Invia la mia domanda allo sportello", unanswered["Body"])
    assert share is not None, unanswered["Body"]
    await bot.say(share.group(1))  # shared: its text is kept for the editors
    personal = [PHONE[1:].encode(), b"Amina Rossi", secret.encode()]
    assert [value for value in personal if value not in _raw_files(path)] == []  # visible

    (question,) = await bot.say("cancella i miei dati")
    assert "*1.* Sì, cancella i miei dati" in question["Body"]
    (done,) = await bot.say("1")
    assert "cancellati" in done["Body"]

    async def left_on_disk() -> list[bytes]:
        raw = _raw_files(path)
        return [value for value in personal if value in raw]

    async def nothing_left() -> bool:  # the confirmation sent, then deleted, the WAL emptied
        return not await left_on_disk()

    with contextlib.suppress(AssertionError):
        await eventually(nothing_left)
    assert await left_on_disk() == []


async def test_a_message_is_stored_before_its_turn_and_forgotten_after(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twilio does not send a message again when our server dies in the middle of it: it is
    in the database from the start of its turn, and only until the turn is saved."""
    assert bot.services.database is not None
    updates = InboundQueue(bot.services.database)
    answer = bot.services.engine.handle
    stored_meanwhile: list[list[str]] = []

    async def watched_handle(incoming: Incoming) -> list[Reply]:
        stored_meanwhile.append([key for key, _ in await updates.left("whatsapp")])
        return await answer(incoming)

    monkeypatch.setattr(bot.services.engine, "handle", watched_handle)
    form = inbound(Body="ciao")
    await bot.post(form)
    assert stored_meanwhile == [[form["MessageSid"]]]
    assert await updates.left("whatsapp") == []


async def test_a_message_left_by_a_crash_is_answered_once_at_the_next_start(
    tmp_path: Path, content_copy: Path, database_target: str
) -> None:
    form = inbound(Body="ciao")
    async with Database(database_target) as database:
        assert await InboundQueue(database).keep("whatsapp", form["MessageSid"], form)
    async with running_bot(tmp_path, content_copy, database=database_target) as bot:
        await bot.fake.wait_for(lambda: len(bot.fake.to(PHONE)) == 1)
        assert "*Menu principale*" in bot.fake.to(PHONE)[0]["Body"]
        assert bot.services.database is not None
        assert await InboundQueue(bot.services.database).left("whatsapp") == []
        assert (await bot.post(form)).status_code == 200  # a late retry of it
        await bot.say("menu")  # a marker behind it
        assert len(bot.fake.to(PHONE)) == 2


async def _left_in_doubt(target: str, notice_text: str) -> None:
    """What a run killed while Twilio was taking a reminder leaves: the reminder, its attempt
    begun a moment ago and its outcome never recorded (the user wrote within 24 hours)."""
    async with Database(target) as database:
        await InboundLog(database).touch("whatsapp", PHONE)
        await Outbox(database).add_notices([Notice("whatsapp", PHONE, notice_text, "reminder")])
        await rows(database, "UPDATE outbox SET sending_since = :then", then=time.time() - 1)


@pytest.mark.parametrize("went", [0, 1, 2])
async def test_a_message_in_doubt_after_a_crash_is_sent_only_if_it_did_not_go(
    tmp_path: Path, content_copy: Path, database_target: str, went: int
) -> None:
    """Twilio can say what it took: of a two-part reminder cut short by a crash after
    ``went`` parts went, only the rest is sent at the next start."""
    text = "Promemoria. " + "a" * 1200 + "\n\n" + "b" * 1200
    parts = split_message(to_whatsapp(text), MESSAGE_LIMIT)
    assert len(parts) == 2
    await _left_in_doubt(database_target, text)
    fake = FakeTwilio()
    sids = [
        fake.add_sent({"To": f"whatsapp:{PHONE}", "From": SENDER, "Body": part})
        for part in parts[:went]
    ]
    async with running_bot(tmp_path, content_copy, fake=fake, database=database_target) as bot:
        assert bot.services.database is not None
        outbox = Outbox(bot.services.database)

        async def delivered() -> bool:
            return await outbox.counts("whatsapp") == {"sent": 1}

        await eventually(delivered)
        assert [message["Body"] for message in fake.to(PHONE)] == parts  # each part once
        assert fake.lookups == 1
        if went == 2:
            found = await rows(bot.services.database, "SELECT provider_id FROM outbox")
            assert found == [(sids[-1],)]


async def test_a_full_disk_still_answers_and_healthz_says_so(bot: Bot) -> None:
    await bot.say("ciao")
    database = bot.services.database
    assert database is not None
    async with httpx.AsyncClient() as client:
        with full_disk(database):
            # Nothing can be saved: not the contact, not the session, not the outbox.
            (sorry,) = await bot.say("1")
            assert "Scusa, qualcosa è andato storto" in sorry["Body"]
            health = await client.get(f"{bot.base}/healthz")
            assert health.status_code == 503
            assert health.json()["database"] == "error"
            assert "the disk is full" in health.json()["database_problem"]
        (submenu,) = await bot.say("1")  # room again: the conversation goes on
        assert "*1.* Rinnovo del permesso" in submenu["Body"]
        health = await client.get(f"{bot.base}/healthz")
        assert health.status_code == 200 and health.json()["database"] == "ok"


@pytest.mark.sqlite_only  # counts aiosqlite's hops to its thread
async def test_a_message_costs_few_trips_to_the_database(
    tmp_path: Path, content_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each statement or fetch is a hop to the database's thread and back (about 35 µs of CPU
    on each side): a menu tap is stored, answered, its turn saved and it marked answered
    (its reply in the webhook's answer) in few of them."""
    # Leases renewed in the measured second would count their own trips (six at once).
    async with running_bot(
        tmp_path, content_copy, lease_seconds=3600.0, lease_renew_seconds=1800.0
    ) as bot:
        trips = Trips(monkeypatch)
        await bot.say("ciao")
        await trips.settled()  # the start's clean-up and leases, the greeting's record
        (submenu,) = await bot.say("1")
        assert "*1.* Rinnovo del permesso" in submenu["Body"]
        await asyncio.sleep(0.3)  # its sending is recorded
        assert trips.count <= TRIPS_PER_MESSAGE, trips.count


def test_signed_fields_give_the_validator_what_a_plain_form_gives() -> None:
    form = inbound(Body="ciao & più", ProfileName="")
    validator = RequestValidator(AUTH_TOKEN)
    url = "https://bot.example.org/whatsapp"
    assert validator.compute_signature(url, SignedFields(form)) == validator.compute_signature(
        url, dict(form)
    )
    signature = validator.compute_signature(url, form)
    assert validator.validate(url, SignedFields(form), signature)
    assert not validator.validate(url, SignedFields({**form, "Body": "altro"}), signature)


async def test_what_a_user_typed_comes_back_intact_through_twiml(bot: Bot) -> None:
    """A name with XML's own characters: escaped in the answer, as typed on the phone."""
    await bot.say("ciao")
    await bot.say("vorrei un appuntamento")
    await bot.say("1")
    await bot.say("1")
    await bot.say("1")
    (summary,) = await bot.say("Amina <Rossi> & Co")
    assert summary["Via"] == "twiml"
    assert "Amina <Rossi> & Co, +393330000000" in summary["Body"]
