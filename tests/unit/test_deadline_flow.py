"""The "My dates and reminders" dialogue (bot/core/flows/deadlines.py), on the repository's
content, with a reminders service that records what it is asked to keep."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pytest

from bot.content.catalog import Catalog
from bot.content.loader import load_catalog
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore
from bot.deadlines.texts import reminder_text
from bot.i18n import Interface
from bot.reach import UNPROMPTED
from tests.auxil.chat import Conversation
from tests.conftest import LOCALES, REPO_CONTENT

TODAY = date(2026, 11, 30)


class RecordedReminders:
    """Keeps the calls, as the real service keeps the rows."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str, str, date, tuple[date, ...]]] = []

    async def set(
        self,
        channel: str,
        user_id: str,
        language: str,
        kind: str,
        event_date: date,
        remind_on: Sequence[date],
    ) -> int:
        self.calls.append((channel, user_id, language, kind, event_date, tuple(remind_on)))
        return len(remind_on)


@pytest.fixture(scope="module")
def repo() -> Catalog:
    return load_catalog(REPO_CONTENT)


@pytest.fixture
def repo_interface(repo: Catalog) -> Interface:
    return Interface(LOCALES, {lang.code: repo.chain(lang.code) for lang in repo.languages})


@pytest.fixture
def reminders() -> RecordedReminders:
    return RecordedReminders()


@pytest.fixture
def chat(repo: Catalog, repo_interface: Interface, reminders: RecordedReminders) -> Conversation:
    engine = Engine(
        lambda: repo,
        MemoryStateStore(),
        repo_interface,
        today=lambda: TODAY,
        deadline_reminders=reminders,
        reaches={"test": UNPROMPTED},  # a channel that can write first, as Telegram can
    )
    return Conversation(engine)


async def test_from_the_menu_to_a_reminder_the_user_agreed_to(
    chat: Conversation, reminders: RecordedReminders
) -> None:
    await chat.start(hint="it")
    assert "go:my_deadlines" in chat.ids()  # on the main menu
    reply = await chat.press("go:my_deadlines")
    assert "dl:k:permit_renewal" in chat.ids() and "dl:k:family_arrival" in chat.ids()
    reply = await chat.press("dl:k:permit_renewal")
    assert reply.text.startswith("Quando scade il tuo permesso")
    reply = await chat.send("boh, non ricordo")
    assert "01/11/2026" in reply.text  # an example of a date it can read, in numbers
    reply = await chat.send("12/03/2027")
    assert "**entro l'11 gennaio 2027**" in reply.text or "11 gennaio 2027" in reply.text
    assert "12 marzo 2027" in reply.text
    assert "Questura" in reply.text  # where to verify from when one may ask
    assert "https://questure.poliziadistato.it" in reply.text
    assert "dl:r:permit_renewal" in chat.ids()
    assert "dl:k:anagrafe_update" in chat.ids()  # after the renewal, the anagrafe's 60 days
    reply = await chat.press("dl:r:permit_renewal")
    assert "solo la data" in reply.text and "cancellare" in reply.text
    assert reminders.calls == []  # nothing kept before the user agrees
    reply = await chat.press("dl:y:permit_renewal")
    assert reminders.calls == [
        (
            "test",
            "u1",
            "it",
            "permit_renewal",
            date(2027, 3, 12),
            (date(2026, 12, 12), date(2027, 1, 11)),
        )
    ]
    assert "12 dicembre 2026" in reply.text


async def test_a_date_in_the_message_is_answered_at_once(chat: Conversation) -> None:
    await chat.start(hint="it")
    reply = await chat.send("mia moglie è arrivata ieri")
    assert reply.text.startswith("**Arrivo del familiare (8 giorni)**")
    assert "7 dicembre 2026" in reply.text  # 29 November + 8 calendar days


async def test_a_past_expiry_says_what_the_content_says_about_being_late(
    chat: Conversation,
) -> None:
    await chat.start(hint="en")
    reply = await chat.send("my permit expired on 1/9/2026")
    assert "**expired on September 1, 2026**" in reply.text
    assert "more than 60 days" in reply.text  # permit_renewal_expired's answer
    assert "dl:r:permit_renewal" not in chat.ids()  # no reminder left to offer


async def test_a_month_alone_is_counted_from_its_first_day_and_said(chat: Conversation) -> None:
    await chat.start(hint="bn")
    await chat.press("dl:k:permit_renewal")
    reply = await chat.send("মার্চ ২০২৭")
    assert reply.language == "bn"
    assert "১ মার্চ, ২০২৭" in reply.text or "1 মার্চ, 2027" in reply.text or "মার্চ" in reply.text
    assert reply.text.count("ℹ️") == 2  # the month-only notice and the rule's note


async def test_a_way_out_while_the_date_is_asked(chat: Conversation) -> None:
    await chat.start(hint="it")
    await chat.press("dl:k:a2_retry")
    reply = await chat.send("menu")
    assert reply.text.startswith("**Menu principale**")


async def test_no_reminder_is_offered_where_the_bot_cannot_write_first(
    repo: Catalog, repo_interface: Interface, reminders: RecordedReminders
) -> None:
    engine = Engine(
        lambda: repo,
        MemoryStateStore(),
        repo_interface,
        today=lambda: TODAY,
        deadline_reminders=reminders,
    )
    chat = Conversation(engine, channel="console")  # the terminal chat: nobody to remind
    await chat.start(hint="it")
    await chat.press("dl:k:permit_renewal")
    reply = await chat.send("12/03/2027")
    assert "11 gennaio 2027" in reply.text
    assert "dl:r:permit_renewal" not in chat.ids()
    reply = await chat.press("dl:y:permit_renewal")  # an old button: nothing is kept
    assert reminders.calls == []


def test_the_reminder_text_and_its_template_variables(
    repo: Catalog, repo_interface: Interface
) -> None:
    rule = repo.deadlines["permit_renewal"]
    text, variables = reminder_text(
        rule, date(2027, 3, 12), date(2026, 12, 12), "it", repo_interface.translator("it"), repo
    )
    assert "Rinnovo del permesso" in text and "11 gennaio 2027" in text
    assert variables == {"1": "Rinnovo del permesso", "2": "11 gennaio 2027"}


async def test_ask_reports_a_message_answered_with_dates(
    repo: Catalog, repo_interface: Interface
) -> None:
    engine = Engine(lambda: repo, MemoryStateStore(), repo_interface, today=lambda: TODAY)
    answer = await engine.ask("il mio permesso scade il 12/03/2027")
    assert answer.intent == "deadlines" and answer.matches == ()
    assert answer.text.startswith("**Rinnovo del permesso**")


@pytest.mark.parametrize(
    ("language", "text", "kind"),
    [
        ("it", "mia moglie è arrivata in Italia, cosa devo fare adesso?", "family_arrival"),
        ("en", "I failed the A2 test, can I try again?", "a2_retry"),
        ("fr", "j'ai reçu mon titre renouvelé, et maintenant ?", "anagrafe_update"),
        ("es", "pedí el nulla osta y todavía nada", "nulla_osta_wait"),
        ("it", "il permesso mi scade presto, entro quando lo rinnovo?", "permit_renewal"),
    ],
)
async def test_an_event_told_without_its_date_asks_that_deadlines_date(
    chat: Conversation, repo: Catalog, language: str, text: str, kind: str
) -> None:
    await chat.start(hint=language)
    reply = await chat.send(text)
    assert reply.text == repo.localize(repo.deadlines[kind].question, language).text
    reply = await chat.send("1/10/2026")
    assert repo.localize(repo.deadlines[kind].title, language).text in reply.text


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("it", "come funziona il ricongiungimento familiare?"),
        ("en", "how can I bring my wife to Italy?"),
        ("it", "come far arrivare mia moglie in Italia"),
    ],
)
async def test_a_general_question_still_gets_its_topic(
    chat: Conversation, repo: Catalog, language: str, text: str
) -> None:
    await chat.start(hint=language)
    reply = await chat.send(text)
    questions = {repo.localize(rule.question, language).text for rule in repo.deadlines.values()}
    assert reply.text not in questions


async def test_a_topic_that_answers_a_deadline_offers_to_work_out_the_dates(
    chat: Conversation, repo: Catalog
) -> None:
    await chat.start(hint="en")
    await chat.press("go:family_reunification_arrival")  # the rule's own topic
    assert "dl:k:family_arrival" in chat.ids()
    await chat.press("go:a2_test")  # "- dates: a2_retry"
    assert "dl:k:a2_retry" in chat.ids()
    reply = await chat.press("dl:k:a2_retry")
    assert reply.text == repo.localize(repo.deadlines["a2_retry"].question, "en").text


async def test_a_message_about_danger_keeps_its_topic_whatever_deadline_it_names(
    chat: Conversation,
) -> None:
    await chat.start(hint="it")
    reply = await chat.send("mio marito è arrivato e mi picchia")
    assert reply.text.startswith("**Aiuto se sei in pericolo**")
