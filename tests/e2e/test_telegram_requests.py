"""Appointment requests and typed days on the real python-telegram-bot, against the fake Bot
API: a user asks, staff propose from the group, the user accepts, is reminded, attends."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import format_time
from bot.storage.events import EventStore
from tests.conftest import REPO_CONTENT
from tests.e2e.test_telegram import (
    STAFF_CHAT,
    STAFF_USER,
    USER,
    Bot,
    keyboard_ids,
    press,
    running_bot,
    staff_reply,
    start,
    text,
    update,
)

ROME = ZoneInfo("Europe/Rome")
BIDI_MARKS = dict.fromkeys((0x2066, 0x2069, 0x200F))


class Clock:
    """The appointments' "now", moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def staff_press(data: str, user: int = STAFF_USER) -> dict[str, Any]:
    payload = press(data, user=user)
    payload["callback_query"]["message"]["chat"] = {
        "id": STAFF_CHAT,
        "type": "supergroup",
        "title": "Staff",
    }
    return payload


def buttons(call: Any) -> list[str]:
    markup = call.params.get("reply_markup") or {"inline_keyboard": []}
    return [button["callback_data"] for row in markup["inline_keyboard"] for button in row]


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 25, 10, 0, tzinfo=ROME))  # a Wednesday


@pytest.fixture
async def bot(
    tmp_path: Path, content_copy: Path, clock: Clock, database_target: str
) -> AsyncIterator[Bot]:
    async with running_bot(
        tmp_path, content_copy, webhook=False, clock=clock, database=database_target
    ) as running:
        yield running


async def staff_sees(bot: Bot, needle: str) -> Any:
    await bot.fake.wait_for(
        lambda: any(needle in call.params["text"] for call in bot.fake.sent(STAFF_CHAT))
    )
    return next(
        call for call in reversed(bot.fake.sent(STAFF_CHAT)) if needle in call.params["text"]
    )


async def test_a_request_in_french_proposed_accepted_reminded_attended(
    bot: Bot, clock: Clock
) -> None:
    await bot.send(start(language_code="fr"))
    (services,) = await bot.send(text("je voudrais un rendez-vous"))
    assert keyboard_ids(services)[:2] == ["bk:svc:permit_renewal", "bk:svc:family_reunification"]
    (days,) = await bot.send(press("bk:svc:family_reunification"))
    assert "Quand pouvez-vous venir au guichet" in days.params["text"]
    await bot.send(press("rq:day:mon"))
    (chosen,) = await bot.send(text("mercredi"))  # typed, in French: like its button
    labels = [row[0]["text"] for row in chosen.params["reply_markup"]["inline_keyboard"]]
    assert labels[1:4] == ["✓ lundi", "mardi", "✓ mercredi"]
    (languages,) = await bot.send(text("le matin"))  # the part of the day, typed
    assert keyboard_ids(languages)[0] == "rq:speaks:fr"
    await bot.send(press("rq:speaks:fr"))
    await bot.send(text("Amina Diallo"))
    (summary,) = await bot.send(text("+33 6 12 34 56 78"))
    assert "Quand vous pouvez venir : lundi, mercredi; matin" in summary.params["text"]
    assert keyboard_ids(summary)[0] == "rq:send"
    (sent,) = await bot.send(press("rq:send"))
    code = "LU-" + sent.params["text"].split("LU-", 1)[1][:4]
    assert "ici, dans cette conversation" in sent.params["text"]

    # The staff group gets the request with its buttons, in Italian; then a reminder.
    request = await staff_sees(bot, f"📝 Nuova richiesta {code}")
    assert "Lingua per l'incontro: francese" in request.params["text"]
    assert "Amina Diallo, +33612345678" in request.params["text"]
    assert buttons(request) == [f"staff:rq:p:{code}", f"staff:rq:q:{code}", f"staff:rq:n:{code}"]
    clock.now = datetime(2026, 11, 26, 10, 30, tzinfo=ROME)  # 8 working hours later
    requests = bot.services.requests
    assert requests is not None
    assert await requests.remind() == 1
    reminder = await staff_sees(bot, "⏰ In attesa da 8 ore lavorative")
    assert code in reminder.params["text"] and buttons(reminder)[0] == f"staff:rq:p:{code}"

    # Staff propose a time with the buttons: a day, then the hour.
    (days,) = await bot.send(staff_press(f"staff:rq:p:{code}"), chat_id=STAFF_CHAT)
    assert f"staff:rq:d:{code}:20261202" in buttons(days)
    (hours,) = await bot.send(staff_press(f"staff:rq:d:{code}:20261202"), chat_id=STAFF_CHAT)
    assert f"staff:rq:t:{code}:202612021030" in buttons(hours)
    (proposal,) = await bot.send(staff_press(f"staff:rq:t:{code}:202612021030"))
    assert "Le guichet vous propose un horaire pour votre demande" in proposal.params["text"]
    assert "mercredi 2 décembre, 10:30" in proposal.params["text"]
    assert buttons(proposal) == [f"rq:accept:{code}", f"rq:other:{code}"]
    await staff_sees(bot, f"📨 {code}: proposta inviata")

    # The user accepts: an ordinary appointment, with its calendar file.
    documents = len(bot.fake.calls_to("sendDocument"))
    (booked,) = await bot.send(press(f"rq:accept:{code}"))
    assert f"Votre code est {code}" in booked.params["text"]
    await bot.fake.wait_for(lambda: len(bot.fake.calls_to("sendDocument")) > documents)
    calendar = bot.fake.calls_to("sendDocument")[-1].params["document"]
    assert calendar["filename"] == f"{code}.ics" and "DTSTART:20261202T093000Z" in calendar["data"]
    notice = await staff_sees(bot, f"📅 Nuovo appuntamento (orario accettato) {code}")
    assert buttons(notice) == [
        f"staff:attended:{code}",
        f"staff:no_show:{code}",
        f"staff:cancel:{code}",
    ]

    # The evening before, the reminder in French; on the day, staff mark it attended.
    clock.now = datetime(2026, 12, 1, 19, 0, tzinfo=ROME)
    reminders = bot.services.reminders
    assert reminders is not None
    before = len(bot.fake.sent(USER))
    assert await reminders.run_once() == 1
    await bot.fake.wait_for(lambda: len(bot.fake.sent(USER)) > before)
    assert f"Rappel : votre rendez-vous {code} est demain" in bot.fake.sent(USER)[-1].params["text"]
    clock.now = datetime(2026, 12, 2, 10, 45, tzinfo=ROME)
    (marked,) = await bot.send(staff_press(f"staff:attended:{code}"), chat_id=STAFF_CHAT)
    assert marked.params["text"] == f"{code}: presente."

    # The monitoring counts it as any booking: made, then attended.
    assert bot.services.database is not None
    now = datetime.now(ROME)
    events = await EventStore(bot.services.database, ROME).between(
        now - timedelta(days=1), now + timedelta(days=1)
    )
    counted = [(e.action, e.service, e.office) for e in events if e.kind == "booking"]
    assert counted == [
        ("made", "family_reunification", "luino"),
        ("attended", "family_reunification", "luino"),
    ]


@pytest.mark.parametrize(
    ("language", "day", "time", "name_prompt"),
    [
        ("it", "lunedì 30 novembre", "alle 14", "nome"),
        ("en", "Monday", "2pm", "name"),
        ("fr", "lundi 30 novembre", "14h", "nom"),
        ("ar", "الاثنين", "١٤:٠٠", "اسم"),
    ],
)
async def test_days_and_times_typed_in_four_languages(
    bot: Bot, language: str, day: str, time: str, name_prompt: str
) -> None:
    await bot.send(start(language_code=language))
    await bot.send(press("act:book:permit_renewal"))
    (times,) = await bot.send(text(day))
    # Monday 30 November: 09:00 (08:00 UTC) to 15:30, its times offered.
    assert buttons(times)[0] == "bk:time:20261130T0800"
    (asked,) = await bot.send(text(time))
    assert name_prompt in asked.params["text"].lower()
    await bot.send(text("Amina Rossi"))
    (summary,) = await bot.send(text("333 1234567"))
    two_pm = format_time(datetime(2026, 11, 30, 14, 0, tzinfo=ROME), language)
    shown = summary.params["text"].translate(BIDI_MARKS)  # Arabic isolates the times
    assert two_pm in shown and buttons(summary)[0] == "bk:confirm"


async def test_a_day_not_understood_keeps_the_user_in_the_booking(bot: Bot) -> None:
    await bot.send(start(language_code="it"))
    (days,) = await bot.send(press("act:book:permit_renewal"))
    (again,) = await bot.send(text("non so"))
    assert "non ho capito il giorno" in again.params["text"]
    assert buttons(again) == buttons(days)


async def test_the_repository_content_takes_a_request(
    tmp_path: Path, clock: Clock, database_target: str
) -> None:
    async with running_bot(
        tmp_path, REPO_CONTENT, webhook=False, clock=clock, database=database_target
    ) as bot:
        await bot.send(start(language_code="en"))
        (services,) = await bot.send(text("I want an appointment"))
        assert keyboard_ids(services)[0] == "bk:svc:permit_renewal"
        (question,) = await bot.send(press("bk:svc:permit_renewal"))
        assert keyboard_ids(question)[0] == "cl:a:permit:work"  # the documents' questions
        await bot.send(press("cl:skip:permit"))
        (days,) = await bot.send(press("cl:skip:kit"))
        assert keyboard_ids(days)[0] == "rq:asap"  # no opening hours: a request
        await bot.send(press("rq:asap"))
        await bot.send(press("rq:speaks:en"))
        await bot.send(text("Amina Rossi"))
        await bot.send(text("333 1234567"))
        (sent,) = await bot.send(press("rq:send"))
        assert "Your request is sent. Your code is LU-" in sent.params["text"]
        code = "LU-" + sent.params["text"].split("LU-", 1)[1][:4]
        request = await staff_sees(bot, f"📝 Nuova richiesta {code}")
        assert "Rinnovo del permesso di soggiorno" in request.params["text"]
        assert "il prima possibile" in request.params["text"]
        (listing,) = await bot.send(update("group_message", text="/richieste"), chat_id=STAFF_CHAT)
        assert code in listing.params["text"]


async def test_staff_ask_by_replying_to_the_prompt_then_propose_by_typing(bot: Bot) -> None:
    await bot.send(start(language_code="it"))
    await bot.send(press("act:book:family_reunification"))
    await bot.send(press("rq:asap"))
    await bot.send(press("rq:speaks:it"))
    await bot.send(text("Amina Rossi"))
    await bot.send(text("333 1234567"))
    (sent,) = await bot.send(press("rq:send"))
    code = "LU-" + sent.params["text"].split("LU-", 1)[1][:4]
    await staff_sees(bot, f"📝 Nuova richiesta {code}")

    # "❓": a prompt in the group, which staff answer by replying to it.
    bot.fake.queue(staff_press(f"staff:rq:q:{code}"))
    prompt = await staff_sees(bot, f"❓ {code}: rispondete a questo messaggio")
    (question,) = await bot.send(staff_reply(prompt, "Hai già il nulla osta?"))
    assert f"Lo sportello ha una domanda sulla tua richiesta {code}:" in question.params["text"]
    assert "Hai già il nulla osta?" in question.params["text"]
    await staff_sees(bot, "✉️ Domanda inviata")
    # The user's answer goes to the group, as in a conversation with a person.
    await bot.send(text("Sì, l'ho ricevuto ieri"))
    await staff_sees(bot, "Sì, l'ho ricevuto ieri")

    # A time typed in the group.
    (proposal,) = await bot.send(
        update("group_message", text=f"/fissa {code} 2/12 10:30", user=STAFF_USER)
    )
    assert "mercoledì 2 dicembre, 10:30" in proposal.params["text"]
    await staff_sees(bot, f"📨 {code}: proposta inviata all'utente per mercoledì 2 dicembre")
    (usage,) = await bot.send(update("group_message", text="/fissa domani"), chat_id=STAFF_CHAT)
    assert usage.params["text"].startswith("Uso: /fissa")
