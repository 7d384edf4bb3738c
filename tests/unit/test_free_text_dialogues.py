"""Free text that reaches a dialogue, on the repository's content: "what documents do I bring"
starts the checklist, "show my reminders" the reminders; a person brought is not a document."""

from __future__ import annotations

from datetime import date

import pytest

from bot.content.catalog import Catalog
from bot.content.loader import load_catalog
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore
from bot.i18n import Interface
from tests.auxil.chat import Conversation
from tests.conftest import LOCALES, REPO_CONTENT


@pytest.fixture(scope="module")
def repo() -> Catalog:
    return load_catalog(REPO_CONTENT)


@pytest.fixture
def chat(repo: Catalog) -> Conversation:
    interface = Interface(LOCALES, {lang.code: repo.chain(lang.code) for lang in repo.languages})
    engine = Engine(lambda: repo, MemoryStateStore(), interface, today=lambda: date(2026, 11, 30))
    return Conversation(engine)


def _lists_offered(chat: Conversation) -> bool:
    return any(choice.startswith("cl:svc:") for choice in chat.ids())


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "what documents should I bring to my appointment?"),
        ("it", "che documenti devo portare in questura?"),
        ("fr", "quels documents je dois apporter ?"),
        ("uk", "що треба принести з собою?"),
        ("zh", "去办公室要带哪些材料？"),
    ],
)
async def test_asking_what_to_bring_starts_the_checklist(
    chat: Conversation, language: str, text: str
) -> None:
    await chat.start(hint=language)
    await chat.send(text)
    assert _lists_offered(chat), chat.ids()


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "what income do I need to bring my wife to Italy?"),
        ("it", "cosa devo fare per portare mia moglie in Italia?"),
    ],
)
async def test_bringing_a_person_is_not_a_list_of_documents(
    chat: Conversation, repo: Catalog, language: str, text: str
) -> None:
    await chat.start(hint=language)
    reply = await chat.send(text)
    assert reply.text != await _answer(repo, language, "lista dei documenti")  # the list's


@pytest.mark.parametrize(
    ("language", "text", "known"),
    [
        ("en", "please delete the reminder about the test", "my reminders"),
        ("it", "fammi vedere i promemoria", "i miei promemoria"),
        ("es", "borra el recordatorio por favor", "mis recordatorios"),
    ],
)
async def test_asking_about_ones_reminders_opens_them(
    chat: Conversation, repo: Catalog, language: str, text: str, known: str
) -> None:
    await chat.start(hint=language)
    reply = await chat.send(text)
    assert reply.text == await _answer(repo, language, known)


async def _answer(repo: Catalog, language: str, text: str) -> str:
    """What a fresh user writing ``text`` is answered, to compare another request with."""
    interface = Interface(LOCALES, {lang.code: repo.chain(lang.code) for lang in repo.languages})
    other = Conversation(Engine(lambda: repo, MemoryStateStore(), interface), user_id="other")
    await other.start(hint=language)
    return (await other.send(text)).text
