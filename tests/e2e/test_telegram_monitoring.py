"""The monitoring's staff commands on the real python-telegram-bot, against the fake Bot API."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_telegram import (
    STAFF_CHAT,
    STAFF_USER,
    Bot,
    keyboard_ids,
    press,
    running_bot,
    start,
    update,
)


@pytest.fixture
async def bot(tmp_path: Path, content_copy: Path, database_target: str) -> AsyncIterator[Bot]:
    async with running_bot(
        tmp_path, content_copy, webhook=False, database=database_target
    ) as running:
        yield running


def staff_press(data: str, user: int = STAFF_USER) -> dict[str, Any]:
    payload = press(data, user=user)
    payload["callback_query"]["message"]["chat"] = {
        "id": STAFF_CHAT,
        "type": "supergroup",
        "title": "Staff",
    }
    return payload


def all_buttons(call: Any) -> list[str]:
    rows = call.params["reply_markup"]["inline_keyboard"]
    return [button["callback_data"] for row in rows for button in row]


async def test_staff_log_desk_and_phone_consultations_then_see_the_month(bot: Bot) -> None:
    (logged,) = await bot.send(
        update("group_message", text="/registra permesso ar sportello"), chat_id=STAFF_CHAT
    )
    assert logged.params["text"] == (
        "Registrata: consultazione allo sportello, Permesso di soggiorno, arabo."
    )
    (areas,) = await bot.send(update("group_message", text="/log"), chat_id=STAFF_CHAT)
    assert "staff:reg:citizenship" in all_buttons(areas)
    (languages,) = await bot.send(staff_press("staff:reg:citizenship"), chat_id=STAFF_CHAT)
    assert "staff:reg:citizenship:ar" in all_buttons(languages)
    (channels,) = await bot.send(staff_press("staff:reg:citizenship:ar"), chat_id=STAFF_CHAT)
    assert all_buttons(channels) == [
        "staff:reg:citizenship:ar:desk",
        "staff:reg:citizenship:ar:phone",
    ]
    (done,) = await bot.send(staff_press("staff:reg:citizenship:ar:phone"), chat_id=STAFF_CHAT)
    assert done.params["text"] == "Registrata: consultazione al telefono, Cittadinanza, arabo."

    (home,) = await bot.send(start(language_code="it"))
    (menu,) = await bot.send(press(keyboard_ids(home)[0]))
    await bot.send(press(keyboard_ids(menu)[0]))  # a topic: one consultation on Telegram

    (month,) = await bot.send(update("group_message", text="/mese"), chat_id=STAFF_CHAT)
    lines = month.params["text"].splitlines()
    assert lines[1] == ("consultazioni 3 (allo sportello 1, al telefono 1, Telegram 1), utenti 1")
    (refusal,) = await bot.send(update("group_message", text="/mese", user=666), chat_id=STAFF_CHAT)
    assert "consultazioni" not in refusal.params["text"]
