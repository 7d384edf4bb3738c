"""Signs of danger (``danger`` in intents.yaml): the help topic answers first, whatever else a
message asks, in a question, at a step a dialogue waits at, and in a conversation with the
counter; the matter the rest of the message is about is offered under it."""

from __future__ import annotations

import csv
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.booking.handover import HandoverDesk
from bot.booking.notices import NoticeRouter
from bot.booking.service import BookingDesk
from bot.config import PROJECT_ROOT
from bot.content.catalog import Catalog
from bot.content.loader import load_catalog, validate
from bot.content.phrase_patterns import compiled, found_in
from bot.content.schema import Intent
from bot.core.engine import Engine
from bot.core.sessions import MemoryStateStore
from bot.core.understanding import Understanding
from bot.i18n import Interface
from bot.monitoring.events import Monitor
from bot.reach import UNPROMPTED
from bot.storage.appointments import AppointmentStore
from bot.storage.db import Database
from bot.storage.handovers import HandoverStore
from bot.storage.outbox import Outbox
from tests.auxil.chat import Conversation
from tests.conftest import LOCALES, REPO_CONTENT, TODAY
from tests.unit.test_monitoring_hooks import Recorder

ROME = ZoneInfo("Europe/Rome")
HELP = "help_danger"


@pytest.fixture(scope="module")
def repo() -> Catalog:
    return load_catalog(REPO_CONTENT)


@pytest.fixture(scope="module")
def understanding(repo: Catalog) -> Understanding:
    return Understanding(repo)


def _interface(catalog: Catalog) -> Interface:
    return Interface(LOCALES, {lang.code: catalog.chain(lang.code) for lang in catalog.languages})


@pytest.fixture
def chat(repo: Catalog) -> Conversation:
    engine = Engine(lambda: repo, MemoryStateStore(), _interface(repo), today=lambda: TODAY)
    return Conversation(engine)


def _help_heading(catalog: Catalog, language: str) -> str:
    return f"**{catalog.title(HELP, language)}**"


@pytest.mark.parametrize(
    ("language", "text", "also"),
    [
        ("en", "my husband arrived last month and he hits me", "go:family_reunification"),
        ("it", "mio marito mi picchia da quando è arrivato con il ricongiungimento", "go:family"),
        ("fr", "mon mari me frappe, il est venu par regroupement familial", "go:family"),
        # A date and a deadline's words: the help, not the date's answer.
        ("it", "il mio permesso scade il 12/03/2027 e mio marito mi minaccia", None),
        ("es", "mi esposo me pega y tiene mi pasaporte", None),
        ("ar", "زوجي يضربني كل يوم", None),
        ("zh", "我老公打我，我的居留证快到期了", None),
    ],
)
async def test_a_sign_of_danger_answers_with_the_help_first(
    chat: Conversation, repo: Catalog, language: str, text: str, also: str | None
) -> None:
    await chat.start(hint=language)
    reply = await chat.send(text)
    assert reply.text.startswith(_help_heading(repo, language)), reply.text[:80]
    if also is not None:  # the other matter, under the help's own buttons
        ids = chat.ids()
        offered = [index for index, choice in enumerate(ids) if choice.startswith(also)]
        assert offered and offered[0] < ids.index("nav:back"), ids


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("it", "il mio compagno mi picchia"),
        ("en", "my boyfriend beats me"),
        ("fr", "il me menace de mort"),
        ("ar", "زوجي يهددني بالقتل"),
        ("es", "mi marido me amenaza"),
        ("sq", "burri më rreh çdo ditë"),
        ("uk", "чоловік б'є мене"),
        ("ur", "میرا شوہر مجھے مارتا ہے"),
        ("zh", "他打我"),
        ("bn", "আমার স্বামী আমাকে মারে"),
    ],
)
def test_every_language_has_signs_of_danger(
    understanding: Understanding, language: str, text: str
) -> None:
    assert understanding.detect_intent(text) == (Intent.DANGER, language)


@pytest.mark.parametrize(
    "text",
    [
        "I am afraid I missed the deadline for the renewal",
        "there was a violent storm and my flight was late",
        "ho ricevuto una lettera con la minaccia di espulsione",
        "mio marito è arrivato il mese scorso, cosa dobbiamo fare?",
        "j'ai passé des coups de fil à la préfecture",
        "ho perso il passaporto",
        "sono perseguitato nel mio paese, posso chiedere asilo?",
    ],
)
def test_near_misses_raise_no_alarm(understanding: Understanding, text: str) -> None:
    found = understanding.detect_intent(text)
    assert found is None or found[0] is not Intent.DANGER


def test_no_question_of_the_tuning_sets_about_another_matter_raises_an_alarm(
    understanding: Understanding,
) -> None:
    """The questions the content is tuned on: only those about danger may raise one."""
    files = [
        PROJECT_ROOT / "benchmarks" / "questions-extra.tsv",
        PROJECT_ROOT.parent / "shared" / "eval" / "questions-dev.tsv",
        PROJECT_ROOT / "benchmarks" / "danger-tuning.tsv",  # its near misses are "safe"
    ]
    alarms = []
    for path in files:
        if not path.exists():
            continue
        with path.open(encoding="utf-8", newline="") as file:
            for language, label, question in list(csv.reader(file, delimiter="\t"))[1:]:
                found = understanding.detect_intent(question)
                if found and found[0] is Intent.DANGER and label not in ("emergency", "danger"):
                    alarms.append((language, label, question))
    assert alarms == []


async def test_a_sign_of_danger_leaves_the_step_a_dialogue_waits_at(
    chat: Conversation, repo: Catalog
) -> None:
    await chat.start(hint="it")
    await chat.press("dl:k:permit_renewal")  # "when does your permit expire?"
    reply = await chat.send("non lo so, mio marito mi picchia e tiene il mio permesso")
    assert reply.text.startswith(_help_heading(repo, "it"))


def _with_help_topic(folder: Path) -> Catalog:
    """The fixture content with a help topic that stands for danger, and its signs."""
    (folder / "topics" / f"{HELP}.yaml").write_text(
        f"""id: {HELP}
area: emergency
intent: danger
reviewed: 2026-11-20
title: {{it: Aiuto se sei in pericolo, en: Help if you are in danger}}
answer: {{it: "Chiama il 112 o il 1522.", en: "Call 112 or 1522."}}
status: {{it: reviewed, en: reviewed}}
keywords: {{it: [pericolo], en: [danger]}}
sources:
  - url: https://www.1522.eu/
    title: "1522"
    read: 2026-11-20
""",
        encoding="utf-8",
    )
    intents = folder / "intents.yaml"
    intents.write_text(
        intents.read_text(encoding="utf-8") + "  danger: {it: [picchi*], en: [hits me]}\n",
        encoding="utf-8",
    )
    menu = folder / "menu.yaml"
    menu.write_text(
        menu.read_text(encoding="utf-8").replace(
            "items: [menu_permits, counter_hours]", f"items: [menu_permits, counter_hours, {HELP}]"
        ),
        encoding="utf-8",
    )
    return load_catalog(folder, today=TODAY)


@pytest.fixture
def helped(content_copy: Path) -> Catalog:
    return _with_help_topic(content_copy)


@pytest.fixture
async def database(database_target: str) -> AsyncIterator[Database]:
    async with Database(database_target) as opened:
        yield opened


async def test_a_sign_of_danger_is_not_taken_for_a_name(
    helped: Catalog, database: Database
) -> None:
    now = datetime(2026, 11, 25, 8, 0, tzinfo=ROME)
    router = NoticeRouter(staff=[("staff", "group")], channels={"test": UNPROMPTED})
    desk = BookingDesk(
        AppointmentStore(database), ROME, clock=lambda: now, queue=Outbox(database), router=router
    )
    chat = Conversation(Engine(lambda: helped, MemoryStateStore(), _interface(helped), desk=desk))
    await chat.start(hint="it")
    for step in ("vorrei un appuntamento", "1", "1", "1"):  # the service, the day, the time
        await chat.send(step)
    reply = await chat.send("mio marito mi picchia")  # where the name is asked
    assert reply.text.startswith("**Aiuto se sei in pericolo**")
    assert await desk.store.active_for("test", "u1", now=now) == []


async def test_in_a_conversation_with_the_counter_the_message_goes_and_the_help_comes(
    helped: Catalog, database: Database
) -> None:
    interface = _interface(helped)
    router = NoticeRouter(staff=[("staff", "group")], channels={"test": UNPROMPTED})
    desk = HandoverDesk(HandoverStore(database), router, interface)
    chat = Conversation(Engine(lambda: helped, MemoryStateStore(), interface, handovers=desk))
    await chat.start(hint="en")
    await chat.send("talk to a person")
    reply = await chat.send("he hits me, what can I do")
    assert "Call 112 or 1522." in reply.text  # now, whenever the counter answers
    (queued,) = await Outbox(database).pending("staff")
    assert "he hits me, what can I do" in queued.payload["notice"]["text"]


def test_signs_without_a_topic_that_stands_for_them_are_reported(content_copy: Path) -> None:
    intents = content_copy / "intents.yaml"
    intents.write_text(
        intents.read_text(encoding="utf-8") + "  danger: {en: [hits me]}\n", encoding="utf-8"
    )
    validation = validate(content_copy, TODAY)
    assert validation.catalog is not None
    assert any("no topic has it" in str(warning) for warning in validation.warnings)
    understanding = Understanding(validation.catalog)
    assert understanding.detect_intent("he hits me") is None


def test_a_topic_for_danger_without_signs_is_reported(content_copy: Path) -> None:
    catalog = _with_help_topic(content_copy)
    assert catalog.phrases(Intent.DANGER)
    intents = content_copy / "intents.yaml"
    kept = [line for line in intents.read_text("utf-8").splitlines() if "danger" not in line]
    intents.write_text("\n".join(kept) + "\n", encoding="utf-8")
    validation = validate(content_copy, TODAY)
    assert any("'danger' has no phrases" in str(warning) for warning in validation.warnings)


async def test_the_help_given_counts_as_a_consultation_of_the_help_topic(
    helped: Catalog,
) -> None:
    recorder = Recorder()
    engine = Engine(lambda: helped, MemoryStateStore(), _interface(helped), today=lambda: TODAY)
    engine.monitor = Monitor(recorder, clock=lambda: datetime(2026, 11, 25, 8, 0, tzinfo=ROME))
    chat = Conversation(engine)
    await chat.start(hint="it")
    await chat.send("mio marito mi picchia")
    assert recorder.seen() == [("topic", "opened", "it", "emergency", HELP)]
    assert all("picchia" not in repr(event) for event, _ in recorder.events)


def test_every_sign_is_found_in_a_message_that_says_it(repo: Catalog) -> None:
    """The index that spares a message most comparisons never loses a phrase: each sign,
    written out as a message, is found, in its own language."""
    signs = repo.phrases(Intent.DANGER)
    table = compiled(dict(signs))
    for language, phrases in signs.items():
        for phrase in phrases:
            said = phrase.replace("*", "").replace(" + ", " ")
            assert language in found_in(f"ok {said} ok", table), phrase
