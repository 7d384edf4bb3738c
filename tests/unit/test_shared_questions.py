"""Questions nobody answered: shared with the counter only when the user taps to agree."""

from __future__ import annotations

import time

import pytest

from bot.content.catalog import Catalog
from bot.core.engine import Engine
from bot.core.flows.questions import SHARE
from bot.core.sessions import MemoryStateStore
from bot.i18n import Interface
from bot.storage.db import Database
from bot.storage.questions import SharedQuestions
from bot.storage.retention import erase_user, purge
from tests.auxil.chat import Conversation
from tests.conftest import TODAY

UNANSWERABLE = "zxqv blorf wimble"


class Box:
    """A question box that keeps what it is given."""

    keep_days = 90

    def __init__(self) -> None:
        self.shared: list[tuple[str, str, str, str, str | None]] = []

    async def share(
        self, channel: str, user_id: str, language: str, text: str, nearest_topic: str | None
    ) -> None:
        self.shared.append((channel, user_id, language, text, nearest_topic))


@pytest.fixture
def box() -> Box:
    return Box()


@pytest.fixture
def chat(catalog: Catalog, interface: Interface, box: Box) -> Conversation:
    engine = Engine(
        lambda: catalog, MemoryStateStore(), interface, today=lambda: TODAY, questions=box
    )
    return Conversation(engine)


async def test_sharing_is_offered_after_no_answer_and_needs_a_tap(
    chat: Conversation, box: Box
) -> None:
    await chat.start(hint="en")
    reply = await chat.send(UNANSWERABLE)
    assert "did not find an answer" in reply.text
    assert chat.ids()[0] == SHARE
    assert chat.labels()[0] == "Share my question with the counter"
    assert box.shared == []  # nothing kept before the user agrees
    thanks = await chat.press(SHARE)
    assert box.shared == [("test", "u1", "en", UNANSWERABLE, box.shared[0][4])]
    assert "kept for 90 days" in thanks.text


async def test_the_button_shares_only_the_question_just_asked(chat: Conversation, box: Box) -> None:
    await chat.start(hint="en")
    await chat.send(UNANSWERABLE)
    await chat.send("menu")  # the user went on: the old button no longer shares anything
    reply = await chat.press(SHARE)
    assert "no longer available" in reply.text
    assert box.shared == []


async def test_a_question_waits_only_so_long(
    chat: Conversation, box: Box, monkeypatch: pytest.MonkeyPatch
) -> None:
    await chat.start(hint="en")
    await chat.send(UNANSWERABLE)
    later = time.monotonic() + 2 * 3600
    monkeypatch.setattr("bot.core.flows.questions.time.monotonic", lambda: later)
    await chat.press(SHARE)
    assert box.shared == []


async def test_answered_questions_and_editors_trying_are_never_offered(
    chat: Conversation, engine: Engine
) -> None:
    await chat.start(hint="en")
    await chat.send("how do i renew my residence permit")
    assert SHARE not in chat.ids()
    plain = Conversation(engine)  # an engine without a question box (sportello ask, tests)
    await plain.start(hint="en")
    await plain.send(UNANSWERABLE)
    assert SHARE not in plain.ids()


async def test_shared_questions_are_listed_then_deleted(database: Database) -> None:
    questions = SharedQuestions(database, keep_days=30)
    await questions.share("whatsapp", "+39333", "ur", "mera sawal", "permit_lost")
    await questions.share("telegram", "42", "fr", "ma question", None)
    listed = await questions.since(time.time() - 60)
    assert [(q.language, q.text, q.nearest_topic) for q in listed] == [
        ("fr", "ma question", None),
        ("ur", "mera sawal", "permit_lost"),
    ]
    await erase_user(database, "whatsapp", "+39333")  # "erase my data"
    assert [q.text for q in await questions.since(0)] == ["ma question"]
    removed = await purge(database, retention_days=0)
    assert removed["shared_questions"] == 1
    assert await questions.since(0) == []
