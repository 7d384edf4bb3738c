"""Property tests of the Telegram channel's reading of updates, with the real
python-telegram-bot against the fake Bot API: any update PTB accepts (fields missing, retyped
or added; any text; any button data, forged or random) is handled without an error, and a
user's updates never change another user's data.

One bot serves all examples of a test; each example writes as a user of its own, so examples
do not meet in one session.
"""

from __future__ import annotations

import contextlib
import copy
import itertools
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from telegram import Update

from bot.app import Services
from bot.channels.telegram import TelegramChannel, well_formed
from bot.web import create_web_app
from tests.auxil.fake_telegram import FakeTelegram, free_port, serve
from tests.auxil.hostile import forged_choices, json_values, mutated, texts
from tests.auxil.victim import (
    Failures,
    Victim,
    failures_logged,
    fresh_bot,
    in_one_loop,
    snapshot,
    victim_with_everything,
)
from tests.auxil.waiting import wait_until
from tests.conftest import LOCALES

DATA = Path(__file__).parent.parent / "data" / "telegram"
STAFF_CHAT = -1001111111111
STAFF_USER = 900
VICTIM = 777
RECORDED_USER = 501  # the sender in the recorded private updates
GROUP_SENDS_PER_MINUTE = 20


def _recorded(name: str) -> dict[str, Any]:
    payload: dict[str, Any] = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return payload


PRIVATE = [
    _recorded(name)
    for name in (
        "message_text",
        "command_start",
        "callback_query",
        "contact",
        "location",
        "photo",
        "sticker",
        "voice",
        "document",
        "edited_message",
    )
]
STAFF = [_recorded("group_message"), _recorded("my_chat_member_added")]

values = st.one_of(json_values, texts, forged_choices())


def _body(update: dict[str, Any]) -> dict[str, Any]:
    return next(value for key, value in update.items() if key != "update_id")


def _with(update: dict[str, Any], field: str, value: Any) -> dict[str, Any]:
    changed: dict[str, Any] = copy.deepcopy(update)
    _body(changed)[field] = value
    return changed


def _without(update: dict[str, Any], field: str) -> dict[str, Any]:
    changed: dict[str, Any] = copy.deepcopy(update)
    del _body(changed)[field]
    return changed


#: The realistic part (recorded updates with any text or button data), then any shape.
private_updates = st.one_of(
    st.builds(_with, st.sampled_from(PRIVATE[:2]), st.just("text"), texts),
    st.builds(_with, st.just(PRIVATE[2]), st.just("data"), forged_choices()),
    st.sampled_from(PRIVATE).flatmap(lambda update: mutated(update, values)),
)
staff_updates = st.sampled_from(STAFF).flatmap(lambda update: mutated(update, values)) | st.builds(
    _with, st.just(STAFF[0]), st.just("text"), st.sampled_from(("/", "/x", "/chiudi")) | texts
)


def _as_user(update: Any, user: int) -> Any:
    """The update as sent by ``user`` in their private chat (where the fields are still there)."""
    text = json.dumps(update)
    return json.loads(text.replace(f'"id": {RECORDED_USER}', f'"id": {user}'))


class TelegramBot:
    """A running bot with its fake Bot API, fed updates by ``process_update``."""

    def __init__(self, running: Services, fake: FakeTelegram) -> None:
        self.running = running
        self.fake = fake
        telegram = running.channel(TelegramChannel)
        assert telegram is not None
        self.application = telegram.application
        self.users = itertools.count(10_000)

    async def handle(self, payload: Any) -> None:
        """Handle one update as PTB does after the webhook accepted it."""
        try:
            update = Update.de_json(payload, self.application.bot)
        except Exception:
            return  # not an update: the webhook answers 400 (tests/unit/test_webhooks.py)
        if update is None or not well_formed(update):
            return  # refused by the webhook too (PTB itself fails on an id that is a list)
        await self.application.process_update(update)


@contextlib.asynccontextmanager
async def telegram_bot(content: Path) -> AsyncIterator[TelegramBot]:
    fake = FakeTelegram()
    fake.chats[STAFF_CHAT] = "administrator"
    async with serve(fake.app()) as api_url:
        port = free_port()
        async with (
            fresh_bot(
                content,
                LOCALES,
                {"telegram"},
                telegram_bot_token=fake.token,
                telegram_api_url=api_url,
                telegram_webhook_url=f"http://127.0.0.1:{port}/telegram",
                telegram_staff_chat_id=STAFF_CHAT,
                telegram_staff_user_ids=frozenset({STAFF_USER}),
                # Examples come faster than people type: Telegram's pacing would only wait.
                telegram_max_sends_per_second=0,
                agenda_hour=None,
            ) as running,
            serve(create_web_app(running), port),
        ):
            telegram = running.channel(TelegramChannel)
            assert telegram is not None
            await wait_until(lambda: telegram.connected, 10, lambda: "telegram never connected")
            yield TelegramBot(running, fake)


async def _private_example(
    bot: TelegramBot, failures: Failures, victim: Victim, updates: list[Any]
) -> None:
    before = await snapshot(bot.running, victim)
    user = next(bot.users)
    for update in updates:
        await bot.handle(_as_user(update, user))
    assert failures.messages() == []
    assert await snapshot(bot.running, victim) == before


def test_any_private_update_is_handled_and_touches_no_one_else(content_copy: Path) -> None:
    with in_one_loop(telegram_bot(content_copy)) as (runner, bot):
        victim = runner.run(victim_with_everything(bot.running, "telegram", str(VICTIM)))

        @given(st.lists(private_updates, min_size=1, max_size=4))
        @example([_without(PRIVATE[0], "chat")])  # found by this test: AttributeError
        @example([_with(PRIVATE[0], "text", 5)])
        @example([_with(PRIVATE[2], "data", ["go:menu_permits"])])
        @example([_with(PRIVATE[9], "edit_date", None)])
        def private_updates_are_handled(updates: list[Any]) -> None:
            with failures_logged() as failures:
                runner.run(_private_example(bot, failures, victim, updates))

        private_updates_are_handled()


def test_any_staff_group_update_is_handled(content_copy: Path) -> None:
    with in_one_loop(telegram_bot(content_copy)) as (runner, bot):
        # Telegram lets a bot send 20 messages a minute to a group, and PTB's rate limiter
        # waits for it: one update per example, at most 20 examples, or the test waits minutes.
        @settings(max_examples=min(settings().max_examples, GROUP_SENDS_PER_MINUTE))
        @given(staff_updates)
        @example(_without(STAFF[1], "new_chat_member"))  # found by this test: AttributeError
        @example(_with(STAFF[0], "chat", None))
        def staff_updates_are_handled(update: Any) -> None:
            with failures_logged() as failures:
                runner.run(bot.handle(update))
                assert failures.messages() == []

        staff_updates_are_handled()


def test_a_caption_that_is_not_text_is_refused_with_its_update() -> None:
    payload = json.loads((DATA / "photo.json").read_text(encoding="utf-8"))
    assert well_formed(Update.de_json(payload, None))
    payload["message"]["caption"] = 12345
    assert not well_formed(Update.de_json(payload, None))
