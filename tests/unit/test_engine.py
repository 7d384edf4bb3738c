"""The dialogue engine, driven with plain objects: no channel, no network, no database."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from bot.content.catalog import Catalog
from bot.content.loader import load_catalog
from bot.content.schema import Source
from bot.core.engine import Engine
from bot.core.flows.navigation import NavigationState
from bot.core.messages import Kind
from bot.core.sessions import MemoryStateStore, Session
from bot.core.understanding import Understanding
from bot.i18n import Interface
from tests.auxil.chat import Conversation
from tests.conftest import TODAY


@pytest.fixture
def chat(engine: Engine) -> Conversation:
    return Conversation(engine)


async def test_new_user_without_hint_is_asked_for_a_language(chat: Conversation) -> None:
    reply = await chat.start()
    assert chat.ids() == ["lang:it", "lang:en", "lang:fr", "lang:ar"]  # German is disabled
    assert chat.labels() == ["Italiano", "English", "Français", "العربية"]
    assert "Choose your language" in reply.text


@pytest.mark.parametrize("answer", ["2", "en", "English", "english", " ENGLISH "])
async def test_language_accepted_by_number_code_or_name(chat: Conversation, answer: str) -> None:
    await chat.start()
    reply = await chat.send(answer)
    assert reply.language == "en"
    assert "**Main menu**" in reply.text
    assert chat.labels()[:2] == ["Residence permit", "Opening hours"]


async def test_language_given_in_native_script(chat: Conversation) -> None:
    await chat.start()
    reply = await chat.send("العربية")
    assert reply.language == "ar"
    assert reply.rtl


async def test_unknown_language_answer_asks_again(chat: Conversation) -> None:
    await chat.start()
    await chat.send("klingon")
    assert chat.ids()[0] == "lang:it"


async def test_platform_hint_skips_the_question(chat: Conversation) -> None:
    reply = await chat.start(hint="en-GB")
    assert reply.language == "en"
    assert "Welcome" in reply.text


async def test_disabled_language_hint_is_ignored(chat: Conversation) -> None:
    await chat.start(hint="de")
    assert chat.ids()[0] == "lang:it"


async def test_first_free_text_sets_the_language(chat: Conversation) -> None:
    reply = await chat.send("how do i renew my residence permit")
    assert reply.language == "en"
    assert "**Permit renewal**" in reply.text


async def test_browse_by_number_and_label_back_and_home(chat: Conversation) -> None:
    await chat.start(hint="it")
    await chat.send("1")
    assert chat.labels()[:2] == ["Rinnovo del permesso", "Permesso perso o rubato"]
    reply = await chat.send("rinnovo del permesso")  # the label, typed in another case
    assert reply.text.startswith("**Rinnovo del permesso**")
    assert "almeno 60 giorni prima" in reply.text
    assert "https://www.portaleimmigrazione.it" in reply.text
    assert "https://www.poliziadistato.it" in reply.text
    assert "20 novembre 2026" in reply.text  # the reviewed date, formatted for Italian
    assert chat.ids() == [
        "go:permit_lost",
        "act:book:permit_renewal",
        "act:human",
        "nav:back",
        "nav:home",
    ]
    await chat.send("1")  # a sub-topic
    assert chat.last is not None and "Denuncia" in chat.last.text
    await chat.press("nav:back")
    assert chat.last.text.startswith("**Rinnovo del permesso**")
    await chat.press("nav:back")
    assert chat.ids()[0] == "go:permit_renewal"
    await chat.press("nav:home")
    assert chat.ids()[0] == "go:menu_permits"


@pytest.mark.parametrize(
    ("hint", "word"),
    [("it", "menu"), ("it", "inizio"), ("en", "home"), ("fr", "menu"), ("ar", "القائمة")],
)
async def test_menu_word_goes_home_in_every_language(
    chat: Conversation, hint: str, word: str
) -> None:
    await chat.start(hint=hint)
    await chat.send("1")
    await chat.send(word)
    assert chat.ids()[0] == "go:menu_permits"


@pytest.mark.parametrize("word", ["lingua", "langue", "language", "اللغة", "/language"])
async def test_language_word_opens_the_language_menu_at_any_moment(
    chat: Conversation, word: str
) -> None:
    await chat.start(hint="it")
    await chat.send("1")
    await chat.send(word[1:], kind=Kind.COMMAND) if word.startswith("/") else await chat.send(word)
    assert chat.ids()[0] == "lang:it"
    reply = await chat.send("3")
    assert reply.language == "fr"
    assert chat.ids()[0] == "go:menu_permits"


async def test_back_word_and_help_word(chat: Conversation) -> None:
    await chat.start(hint="it")
    await chat.send("1")
    await chat.send("2")
    await chat.send("indietro")
    assert chat.ids()[0] == "go:permit_renewal"
    reply = await chat.send("aiuto")
    assert "“menu”" in reply.text and "“indietro”" in reply.text and "“lingua”" in reply.text
    assert chat.ids()[0] == "go:permit_renewal"  # help keeps the choices the user had


async def test_number_out_of_range_explains_and_keeps_choices(chat: Conversation) -> None:
    await chat.start(hint="en")
    offered = chat.ids()
    reply = await chat.send("42")
    assert f"1 to {len(offered)}" in reply.text
    assert chat.ids() == offered


async def test_free_question_gets_the_best_answer(chat: Conversation) -> None:
    await chat.start(hint="it")
    reply = await chat.send("come rinnovo il permesso di soggiorno?")
    assert reply.text.startswith("**Rinnovo del permesso**")
    await chat.send("indietro")
    assert chat.ids()[0] == "go:menu_permits"  # back returns to where the question was asked


async def test_typo_and_accent_tolerant_matching(chat: Conversation) -> None:
    await chat.start(hint="it")
    reply = await chat.send("ho PERSO il permésso, rubbato")  # case, accent, typo
    assert reply.text.startswith("**Permesso perso o rubato**")


async def test_unknown_question_falls_back_kindly(chat: Conversation) -> None:
    await chat.start(hint="en")
    reply = await chat.send("best pizza recipe with pineapple")
    assert "did not find an answer" in reply.text
    assert "act:human" in chat.ids()
    assert "go:menu_permits" in chat.ids()


async def test_fallback_language_is_announced(chat: Conversation) -> None:
    await chat.start(hint="fr")
    reply = await chat.press("go:permit_lost")
    assert "Report the loss" in reply.text  # fr -> en
    assert "English" in reply.text


async def test_draft_translation_is_announced(chat: Conversation) -> None:
    await chat.start(hint="ar")
    reply = await chat.press("go:permit_renewal")
    assert "اطلب التجديد" in reply.text
    assert reply.rtl
    assert "ℹ️" in reply.text


async def test_reviewed_translation_has_no_notice(chat: Conversation) -> None:
    await chat.start(hint="en")
    reply = await chat.press("go:permit_renewal")
    assert "ℹ️" not in reply.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("vorrei un appuntamento", "To book an appointment"),
        ("I want to cancel my appointment please", "cancel an appointment"),
        ("my appointments", "cancel an appointment"),
        ("can I talk to a person?", "talk to a person"),
    ],
)
async def test_intents_lead_to_the_counter_contacts(
    chat: Conversation, text: str, expected: str
) -> None:
    await chat.start(hint="en")
    reply = await chat.send(text)
    assert expected in reply.text
    assert "0332 536727" in reply.text and "pdzluino@comune.luino.va.it" in reply.text
    assert "not yet confirmed" in reply.text  # the Cittiglio office is marked unconfirmed


async def test_book_action_names_the_service(chat: Conversation) -> None:
    await chat.start(hint="en")
    await chat.press("go:permit_renewal")
    reply = await chat.press("act:book:permit_renewal")
    assert "Say that you need: Permit renewal." in reply.text  # its name in services/


async def test_greeting_and_thanks(chat: Conversation) -> None:
    await chat.start(hint="en")
    reply = await chat.send("Hello!")
    assert "Welcome" in reply.text
    reply = await chat.send("thanks")
    assert "welcome" in reply.text.lower()


@pytest.mark.parametrize("kind", [Kind.MEDIA, Kind.CONTACT, Kind.LOCATION])
async def test_non_text_messages_get_an_answer_and_the_choices(
    chat: Conversation, kind: Kind
) -> None:
    await chat.start(hint="en")
    offered = chat.ids()
    reply = await chat.send(kind=kind)
    assert reply.text
    assert chat.ids() == offered


@pytest.mark.parametrize(
    "choice_id",
    ["go:no_such_topic", "lang:xx", "act:book:unknown", "garbage", "", "nav:", "x" * 500],
)
async def test_stale_or_garbage_buttons_show_the_menu(chat: Conversation, choice_id: str) -> None:
    await chat.start(hint="en")
    reply = await chat.press(choice_id)
    assert "no longer available" in reply.text
    assert "went wrong" not in reply.text
    assert chat.ids()[0] == "go:menu_permits"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "?!?",
        "🙂" * 50,
        "a" * 100_000,
        "\x00\x01",
        "١٢٣",
        "0",
        "-1",
        "99999999999999999999",
        "/",
        "²²",
        "⑳",
        "1.5",
    ],
)
async def test_any_text_gets_an_answer(chat: Conversation, text: str) -> None:
    await chat.start(hint="it")
    reply = await chat.send(text)
    assert reply.text
    assert reply.choices
    assert "storto" not in reply.text  # not the engine's last-resort answer


async def test_unknown_command_shows_help(chat: Conversation) -> None:
    await chat.start(hint="en")
    reply = await chat.send("frobnicate", kind=Kind.COMMAND)
    assert "How to use this chat" in reply.text


async def test_state_survives_a_new_engine(engine: Engine, store: MemoryStateStore) -> None:
    first = Conversation(engine)
    await first.start(hint="it")
    await first.send("1")
    restarted = Engine(engine._catalog, store, engine._interface)
    second = Conversation(restarted)
    reply = await second.send("2")  # "2" resolves against the choices offered before the restart
    assert reply.text.startswith("**Permesso perso o rubato**")


async def test_users_and_channels_are_separate(engine: Engine) -> None:
    alice, bob = Conversation(engine, "alice"), Conversation(engine, "bob")
    other_channel = Conversation(engine, "alice", channel="other")
    await alice.start(hint="it")
    await bob.start(hint="en")
    await other_channel.start()
    assert alice.last is not None and alice.last.language == "it"
    assert bob.last is not None and bob.last.language == "en"
    assert other_channel.ids()[0] == "lang:it"


async def test_corrupt_session_starts_afresh(engine: Engine, store: MemoryStateStore) -> None:
    await store.put("test", "u1", "{not json")
    reply = await Conversation(engine).start()
    assert reply.choices[0].id == "lang:it"


def test_session_round_trip() -> None:
    session = Session(
        "c", "u", language="ar", state=NavigationState.LANGUAGE, node="x", history=["a", "b"]
    )
    loaded = Session.load("c", "u", session.dump())
    assert loaded == session


async def test_engine_failure_becomes_a_kind_reply(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    chat = Conversation(engine)
    await chat.start(hint="en")

    async def broken(self: object, turn: object, text: str) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("bot.core.flows.questions.Questions.answer", broken)
    reply = await chat.send("anything at all")
    assert "something went wrong" in reply.text
    assert "go:menu_permits" in chat.ids()


async def test_ask_reports_language_intent_matches_and_answer(engine: Engine) -> None:
    answer = await engine.ask("how do I renew my residence permit")
    assert answer.language == "en"
    assert answer.intent == "topic"
    assert answer.matches[0].topic == "permit_renewal"
    assert answer.matches[0].area == "permits"
    assert 0 < answer.matches[0].score <= 1
    assert "at least 60 days" in answer.text


@pytest.mark.parametrize(
    ("question", "intent"),
    [
        ("vorrei un appuntamento", "booking"),
        ("cancel my appointment", "cancel"),
        ("my appointments", "my_appointments"),
        ("operatore", "human"),
        ("ciao", "greeting"),
        ("langue", "language"),
        ("what is the weather tomorrow", "fallback"),
    ],
)
async def test_ask_intents(engine: Engine, question: str, intent: str) -> None:
    answer = await engine.ask(question)
    assert answer.intent == intent
    if intent != "topic":
        assert answer.matches == ()


async def test_ask_in_a_given_language(engine: Engine) -> None:
    answer = await engine.ask("rinnovo permesso", language="en")
    assert answer.language == "en"
    assert "at least 60 days" in answer.text


class SlowStore(MemoryStateStore):
    """A store that yields to the event loop, as a real database does."""

    async def get(self, channel: str, user_id: str) -> str | None:
        state = await super().get(channel, user_id)
        await asyncio.sleep(0.01)  # another message may run meanwhile
        return state


async def test_concurrent_messages_of_one_user_do_not_lose_state(engine: Engine) -> None:
    slow = Engine(engine._catalog, SlowStore(), engine._interface)
    chat = Conversation(slow)
    await chat.start(hint="it")
    # Two messages at once: the second must see the state the first left.
    first, second = await asyncio.gather(chat.send("1"), chat.send("1"))
    texts = {first.text.split("\n")[0], second.text.split("\n")[0]}
    assert texts == {"**Permesso di soggiorno**", "**Rinnovo del permesso**"}


async def test_a_language_guess_is_confirmed_with_the_guess_first(engine: Engine) -> None:
    from bot.core.messages import Incoming

    (reply,) = await engine.handle(Incoming("test", "u1", Kind.TEXT, "12345", language_guess="ar"))
    assert [choice.id for choice in reply.choices][:2] == ["lang:ar", "lang:it"]
    assert reply.text.splitlines()[0] != "Choose your language"  # asked in Arabic first
    (reply,) = await engine.handle(Incoming("test", "u1", Kind.TEXT, "1"))
    assert reply.language == "ar"


async def test_clear_text_language_wins_over_the_guess(engine: Engine) -> None:
    from bot.core.messages import Incoming

    (reply,) = await engine.handle(
        Incoming("test", "u2", Kind.TEXT, "how do i renew my residence permit", language_guess="ar")
    )
    assert reply.language == "en"
    assert "**Permit renewal**" in reply.text


async def test_a_question_in_another_language_is_answered_with_an_offer_to_switch(
    chat: Conversation,
) -> None:
    await chat.start(hint="it")
    reply = await chat.send("how do i renew my residence permit")
    assert reply.language == "it"
    assert reply.text.startswith("**Rinnovo del permesso**")  # in the chosen language
    assert chat.ids()[0] == "lang:en"
    assert chat.labels()[0] == "🌐 English"
    reply = await chat.send("1")
    assert reply.language == "en"


async def test_no_switch_offer_in_the_same_language(chat: Conversation) -> None:
    await chat.start(hint="it")
    await chat.send("come rinnovo il permesso di soggiorno")
    assert not any(choice_id.startswith("lang:") for choice_id in chat.ids())


@pytest.mark.parametrize("typed", ["2", "2.", "*2.*", "(2)", "2️⃣", "٢", "２", "②", " 2 "])
async def test_numbers_as_people_type_them(chat: Conversation, typed: str) -> None:
    await chat.start(hint="it")
    await chat.send("1")
    reply = await chat.send(typed)
    assert reply.text.startswith("**Permesso perso o rubato**")


async def test_an_answer_shows_its_first_official_sources(
    catalog: Catalog, store: MemoryStateStore, interface: Interface
) -> None:
    """A screen of links would bury the answer: three sources, authorities' pages first."""
    topic = catalog.topics["permit_lost"]
    sources = (
        Source("https://blog.example.it/a", "Blog A (fonte secondaria)"),
        Source("https://www.poliziadistato.it/articolo/1", "Polizia di Stato - uno"),
        Source("https://blog.example.it/b", "Blog B (fonte secondaria)"),
        Source("https://www.poliziadistato.it/articolo/2", "Polizia di Stato - due"),
    )
    topics = {**catalog.topics, "permit_lost": replace(topic, sources=sources)}
    changed = replace(catalog, topics=MappingProxyType(topics))
    chat = Conversation(Engine(lambda: changed, store, interface, today=lambda: TODAY))
    await chat.start(hint="it")
    reply = await chat.send("permesso perso o rubato")
    shown = [line for line in reply.text.splitlines() if line.startswith("- ")]
    assert [line.split(": ")[0] for line in shown[-3:]] == [
        "- Polizia di Stato - uno",
        "- Polizia di Stato - due",
        "- Blog A (fonte secondaria)",
    ]
    assert "Blog B" not in reply.text


class _FullDiskStore(MemoryStateStore):
    """Sessions on a disk that became full (or a database that cannot be read any more)."""

    def __init__(self) -> None:
        super().__init__()
        self.full = False
        self.unreadable = False

    async def get(self, channel: str, user_id: str) -> str | None:
        if self.unreadable:
            raise sqlite3.DatabaseError("database disk image is malformed")
        return await super().get(channel, user_id)

    async def put(self, channel: str, user_id: str, state: str) -> None:
        if self.full:
            raise sqlite3.OperationalError("database or disk is full")
        await super().put(channel, user_id, state)


async def test_a_full_disk_still_gets_the_user_an_apology_in_their_language(
    catalog: Catalog, interface: Interface, caplog: pytest.LogCaptureFixture
) -> None:
    store = _FullDiskStore()
    chat = Conversation(Engine(lambda: catalog, store, interface, today=lambda: TODAY))
    await chat.start(hint="fr")
    store.full = True
    reply = await chat.send("1")
    assert reply.language == "fr"
    assert "Désolé, une erreur s'est produite" in reply.text
    assert chat.ids()  # the main menu, to go on once there is room again
    assert "database: the disk is full" in caplog.text
    assert "Traceback" not in caplog.text  # a known trouble: one line, not a traceback a message
    store.full = False
    assert "Désolé" not in (await chat.send("1")).text


async def test_a_database_that_cannot_be_read_still_gets_an_apology(
    catalog: Catalog, interface: Interface
) -> None:
    store = _FullDiskStore()
    engine = Engine(lambda: catalog, store, interface, today=lambda: TODAY)
    chat = Conversation(engine)
    store.unreadable = True
    reply = await chat.send("ciao", hint="en-GB")
    assert reply.language == "en" and "Sorry, something went wrong" in reply.text
    assert await engine.language_of("test", "u1") == catalog.default_language


def understandings_until_exact(engine: Engine) -> list[Understanding]:
    """Each understanding the engine answers with, in turn, until the full model of its
    current content is in place."""
    seen: list[Understanding] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        current = engine.understanding()
        if not seen or current is not seen[-1]:
            seen.append(current)
        if current.catalog is engine._catalog() and current.exact:
            break
        time.sleep(0.005)
    return seen


def edit_counter_hours(content: Path, questions: list[str]) -> Catalog:
    topic = content / "topics" / "counter_hours.yaml"
    listed = "".join(f"    - {question}\n" for question in questions)
    topic.write_text(
        topic.read_text(encoding="utf-8") + f"questions:\n  en:\n{listed}", encoding="utf-8"
    )
    return load_catalog(content, today=TODAY)


WHEELCHAIR_QUESTION = "is there a lift for wheelchairs"


def engine_before_an_edit(
    content: Path, store: MemoryStateStore, interface: Interface, models: Path
) -> tuple[Engine, list[Catalog], Understanding]:
    """An engine answering the content (no model cached in memory: the tests' monkeypatch
    clears it), its understanding, then ``counter_hours`` edited to hold WHEELCHAIR_QUESTION:
    the engine, the catalog it is shown (a one-item list) and the understanding before."""
    shown = [load_catalog(content, today=TODAY)]
    engine = Engine(lambda: shown[0], store, interface, today=lambda: TODAY, model_cache=models)
    before = engine.understanding()
    shown[0] = edit_counter_hours(content, [WHEELCHAIR_QUESTION, "wheelchair lift"])
    return engine, shown, before


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """As in a new process: no model in memory, and a folder of its own for those kept."""
    import bot.content.classifier as module

    monkeypatch.setattr(module, "_CACHE", OrderedDict())
    return tmp_path / "models"


def test_an_edit_is_understood_at_once_then_by_the_full_model(
    content_copy: Path,
    store: MemoryStateStore,
    interface: Interface,
    models: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After an edit, a stop-gap understanding of the new content, worked out by the training
    child (never in the server's process), answers within the training's first moments; the
    full training's model then replaces it; a restart reads the full model, never a stop-gap."""
    import bot.content.classifier as module

    def never_here(*args: object) -> None:
        raise AssertionError("a stop-gap worked out in the server's process")

    monkeypatch.setattr(module, "_refreshed", never_here)
    shown = [load_catalog(content_copy, today=TODAY)]
    engine = Engine(lambda: shown[0], store, interface, today=lambda: TODAY, model_cache=models)
    before = engine.understanding()
    question = "where can I leave my bicycle near the office"
    assert before.analyse(question).matches[0].topic != "counter_hours"  # not known yet
    shown[0] = edited = edit_counter_hours(
        content_copy, [question, "bicycle parking near the office", "leave a bicycle at the office"]
    )
    assert engine.understanding() is before  # the old one answers while the new one trains

    seen = understandings_until_exact(engine)

    assert len(seen) == 3
    stopgap, full = seen[1], seen[2]
    assert stopgap.catalog is edited and not stopgap.exact  # in place first
    assert full.catalog is edited and full.exact
    for understanding in (stopgap, full):
        answer = understanding.analyse(question)
        assert answer.confident and answer.matches[0].topic == "counter_hours"
    module._CACHE.clear()  # a restart: the models kept on disk only
    restarted = Engine(lambda: edited, store, interface, today=lambda: TODAY, model_cache=models)
    again = restarted.understanding()
    assert again.exact and again.classifier.rank(again.classifier.read(question)) == (
        full.classifier.rank(full.classifier.read(question))
    )


def test_a_start_on_edited_content_answers_with_a_stopgap_first(
    content_copy: Path,
    store: MemoryStateStore,
    interface: Interface,
    models: Path,
) -> None:
    """Content edited while the server was down: its first understanding is a stop-gap worked
    out from the newest model kept, until the full one replaces it."""

    catalog = load_catalog(content_copy, today=TODAY)
    assert Engine(lambda: catalog, store, interface, model_cache=models).understanding().exact
    edited = edit_counter_hours(content_copy, [WHEELCHAIR_QUESTION, "wheelchair lift"])

    engine = Engine(lambda: edited, store, interface, today=lambda: TODAY, model_cache=models)
    first = engine.understanding()
    seen = understandings_until_exact(engine)

    assert first is seen[0] and not first.exact and first.catalog is edited
    assert seen[-1].exact and len(seen) == 2
    for understanding in seen:
        assert understanding.analyse("a wheelchair lift?").matches[0].topic == "counter_hours"


def test_a_training_child_killed_leaves_the_old_understanding_answering(
    content_copy: Path,
    store: MemoryStateStore,
    interface: Interface,
    models: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The training child killed before it hands anything over (its stop-gap included): the
    understanding before the edit goes on answering; a later look trains the edit again."""
    import multiprocessing
    import os
    import signal

    engine, shown, before = engine_before_an_edit(content_copy, store, interface, models)
    question = WHEELCHAIR_QUESTION
    children = set(multiprocessing.active_children())

    assert engine.understanding() is before  # the training begins
    deadline = time.monotonic() + 60
    while not (new := set(multiprocessing.active_children()) - children):
        assert time.monotonic() < deadline, "no training child"
        time.sleep(0.001)
    for child in new:
        assert child.pid is not None
        os.kill(child.pid, signal.SIGKILL)
    while engine._training is not None:
        assert time.monotonic() < deadline, "the training thread did not end"
        time.sleep(0.01)

    assert engine._understanding is before  # neither a stop-gap nor a full model came
    assert "could not be trained" in caplog.text
    assert before.analyse("when are you open").matches  # it still answers
    seen = understandings_until_exact(engine)  # the next look trains the edit again
    assert seen[0] is before and seen[-1].exact and seen[-1].catalog is shown[0]
    assert seen[-1].analyse(question).matches[0].topic == "counter_hours"


def test_a_training_child_killed_after_its_stopgap_is_trained_again(
    content_copy: Path,
    store: MemoryStateStore,
    interface: Interface,
    models: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The training child killed once its stop-gap is in place: the stop-gap answers the new
    content until a later look, seeing no training under way, trains the full model again."""
    import multiprocessing
    import os
    import signal

    import bot.content.classifier as module

    hand_over = module._hand_over

    def then_killed(made: Any, *args: Any) -> None:
        made.result()  # the stop-gap is saved; the child goes on with the full training
        for child in multiprocessing.active_children():
            if child.pid is not None:
                os.kill(child.pid, signal.SIGKILL)
        hand_over(made, *args)

    engine, shown, before = engine_before_an_edit(content_copy, store, interface, models)
    question = WHEELCHAIR_QUESTION
    monkeypatch.setattr(module, "_hand_over", then_killed)
    assert engine.understanding() is before  # the training begins
    deadline = time.monotonic() + 60
    while engine._training is not None:
        assert time.monotonic() < deadline, "the training thread did not end"
        time.sleep(0.01)

    stopgap = engine._understanding
    assert stopgap is not None and stopgap is not before and not stopgap.exact
    assert stopgap.analyse(question).matches[0].topic == "counter_hours"
    monkeypatch.setattr(module, "_hand_over", hand_over)
    seen = understandings_until_exact(engine)
    assert seen[0] is stopgap and seen[-1].exact and seen[-1].catalog is shown[0]


def test_a_training_that_keeps_failing_is_tried_again_after_longer_pauses(
    content_copy: Path,
    store: MemoryStateStore,
    interface: Interface,
    models: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A training that fails (a child killed for want of memory, at every try) is not begun
    again at every message: the old understanding answers, and the same content is tried again
    after a pause that doubles; a success ends the pauses."""
    import bot.core.engine as module

    engine, shown, before = engine_before_an_edit(content_copy, store, interface, models)
    tries: list[Catalog] = []
    real = Understanding

    def failing(catalog: Catalog, *args: Any, **kwargs: Any) -> Understanding:
        tries.append(catalog)
        raise MemoryError("the training child was killed")

    def training_ended() -> None:
        deadline = time.monotonic() + 60
        while engine._training is not None:
            assert time.monotonic() < deadline, "the training thread did not end"
            time.sleep(0.005)

    monkeypatch.setattr(module, "RETRY_FIRST", 0.5)
    monkeypatch.setattr(module, "Understanding", failing)
    assert engine.understanding() is before  # the first try
    training_ended()
    for _ in range(50):  # messages during the pause
        assert engine.understanding() is before
    training_ended()
    assert len(tries) == 1

    time.sleep(0.6)
    assert engine.understanding() is before  # the second try, after the pause
    training_ended()
    assert len(tries) == 2 and engine._retry is not None and engine._retry[2] == 1.0
    time.sleep(0.6)
    engine.understanding()
    training_ended()
    assert len(tries) == 2  # the pause doubled

    monkeypatch.setattr(module, "Understanding", real)
    time.sleep(0.5)
    seen = understandings_until_exact(engine)
    assert seen[-1].exact and seen[-1].catalog is shown[0] and engine._retry is None
