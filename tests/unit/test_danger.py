"""Signs of danger (``danger`` in intents.yaml): the help topic answers first, whatever else a
message asks, in a question, at a step a dialogue waits at, and in a conversation with the
counter; the matter the rest of the message is about is offered under it."""

from __future__ import annotations

import csv
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
from bot.content.text import normalise
from bot.core.engine import Engine
from bot.core.messages import Kind
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
        ("ar", "وزوجي فيضربني"),  # "and", "so" joined to the words
        ("es", "mi marido me amenaza"),
        ("sq", "burri më rreh çdo ditë"),
        ("uk", "чоловік б'є мене"),
        ("ur", "میرا شوہر مجھے مارتا ہے"),
        ("zh", "老公打我"),
        ("bn", "আমার স্বামী আমাকে মারে"),
    ],
)
def test_every_language_has_signs_of_danger(
    understanding: Understanding, language: str, text: str
) -> None:
    assert understanding.detect_intent(text) == (Intent.DANGER, language)


# Ordinary questions with words near the signs: a postponed appointment, the embassy that
# keeps a passport for a visa, "in danger of losing my permit", a phone call in Chinese.
@pytest.mark.parametrize(
    "text",
    [
        "posso farmi rimandare l'appuntamento in questura?",
        "se parlo poco italiano mi fa ripetere il test A2?",
        "voglio sposare la mia compagna ma non voglio perdere il permesso",
        "l'ambasciata tiene il mio passaporto per il visto",
        "la questura mi ha preso il passaporto per il rinnovo",
        "ho paura di rientrare in Italia con il permesso scaduto",
        "con la ricevuta non mi fanno uscire dall'Italia?",
        "ci sono rumori molesti dal vicino",
        "abbiamo picchi di lavoro a dicembre",
        "ho sfruttato il decreto flussi per venire",
        "sono stato minacciato di espulsione dalla questura",
        "l'assistente sociale che mi segue sempre è in ferie",
        "mi chiamo Mario Botte",
        "ho un debito col fisco, posso fare un viaggio?",
        "I am in danger of losing my permit",
        "the embassy is holding my passport for the visa",
        "the consulate has taken my passport",
        "my back hurts me when I stand in the queue",
        "the social worker who follows me is on holiday",
        "am I not allowed to go out of Italy with the receipt?",
        "will they not let me leave Italy while I wait?",
        "the landlord threatened to evict us",
        "the landlord locked me out of the flat",
        "this bureaucracy will kill me",
        "I want to marry my girlfriend but I don't want to lose my permit",
        "le propriétaire refuse de me rendre la caution",
        "l'ambassade garde mon passeport pour le visa",
        "j'ai peur de rentrer en Italie avec un permis expiré",
        "l'assistante sociale qui me suit depuis un an",
        "j'ai une dette d'impôts, je peux partir en vacances?",
        "¿estoy en peligro de perder mi permiso?",
        "¿no me dejan salir de Italia con el recibo?",
        "¿debo llevar los billetes del viaje a la questura?",
        "A më detyrojnë të bëj testin A2?",
        "A jam në rrezik të humbas lejen?",
        "Kuestura ma mori lejen e vjetër",
        "начальник не отпускает меня с работы на прием в квестуру",
        "в посольстві забрали паспорт на візу",
        "я в опасности потерять вид на жительство?",
        "میں کاغذات بھیج دوں گا",
        "main documents bhej dunga",
        "有消息就打我电话吗",
        "律师他打我电话了",
        "他天天打我电话催房租",
        "孩子被打了疫苗以后发烧",
        "门被反锁了，房东不接电话怎么办",
        "আমি খুব বিপদে আছি, পারমেসো শেষ",
        "ami kagoj jete dey na",
        "السفارة اخذوا جوازي للفيزا",
        "my wife arrived yesterday, what do we do now?",
        "I lost my passport on the train",
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


@pytest.mark.parametrize(
    ("deadline", "text"),
    [
        ("permit_renewal", "non lo so, mio marito mi picchia e tiene il mio permesso"),
        ("permit_renewal", "scade il 12/03/2027, mio marito mi minaccia"),  # a date too
        ("family_arrival", "my husband arrived on 3 November and he hits me"),
    ],
)
async def test_a_sign_of_danger_leaves_the_step_a_dialogue_waits_at(
    chat: Conversation, repo: Catalog, deadline: str, text: str
) -> None:
    language = "en" if "husband" in text else "it"
    await chat.start(hint=language)
    await chat.press(f"dl:k:{deadline}")  # "when does your permit expire?"
    reply = await chat.send(text)
    assert reply.text.startswith(_help_heading(repo, language)), reply.text[:80]


async def test_the_other_matter_is_offered_when_the_help_is_also_the_best_topic(
    chat: Conversation,
) -> None:
    await chat.start(hint="it")
    await chat.send("mio marito mi picchia, come rinnovo il permesso di soggiorno?")
    assert any(choice.startswith("go:permit_") for choice in chat.ids()), chat.ids()


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
def booking_chat(helped: Catalog, database: Database) -> Conversation:
    """A chat that books on the content with a help topic, on Wednesday 25 November, 08:00."""
    now = datetime(2026, 11, 25, 8, 0, tzinfo=ROME)
    router = NoticeRouter(staff=[("staff", "group")], channels={"test": UNPROMPTED})
    desk = BookingDesk(
        AppointmentStore(database), ROME, clock=lambda: now, queue=Outbox(database), router=router
    )
    return Conversation(Engine(lambda: helped, MemoryStateStore(), _interface(helped), desk=desk))


async def test_a_sign_of_danger_is_not_taken_for_a_name(booking_chat: Conversation) -> None:
    chat = booking_chat
    await chat.start(hint="it")
    for step in ("vorrei un appuntamento", "1", "1", "1"):  # the service, the day, the time
        await chat.send(step)
    reply = await chat.send("mio marito mi picchia")  # where the name is asked
    assert reply.text.startswith("**Aiuto se sei in pericolo**")
    reply = await chat.send("Amina Rossi")  # the booking was left: no phone is asked
    assert "telefono" not in reply.text


async def test_a_sign_of_danger_with_a_day_leaves_the_choice_of_a_day(
    booking_chat: Conversation,
) -> None:
    chat = booking_chat
    await chat.start(hint="it")
    await chat.send("vorrei un appuntamento")
    await chat.send("1")  # the service: the days are offered
    assert chat.ids()[0].startswith("bk:day:")
    reply = await chat.send("domani mattina, mio marito mi picchia")
    assert reply.text.startswith("**Aiuto se sei in pericolo**")


async def test_in_a_conversation_with_the_counter_the_message_goes_and_the_help_comes(
    helped: Catalog, database: Database
) -> None:
    interface = _interface(helped)
    router = NoticeRouter(staff=[("staff", "group")], channels={"test": UNPROMPTED})
    desk = HandoverDesk(HandoverStore(database), router, interface)
    chat = Conversation(Engine(lambda: helped, MemoryStateStore(), interface, handovers=desk))
    await chat.start(hint="en")
    await chat.send("talk to a person")
    reply = await chat.send("my permit expires soon")
    assert "Call 112" not in reply.text
    reply = await chat.send("he hits me, what can I do")
    assert "Call 112 or 1522." in reply.text  # now, whenever the counter answers
    first, second = [m.payload["notice"]["text"] for m in await Outbox(database).pending("staff")]
    assert "🚨" not in first
    # Staff (who read Italian) see it first.
    assert second.startswith("🚨 Segnali di pericolo in questo messaggio")
    assert "he hits me, what can I do" in second


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
            for message in (f"ok {said} ok", f"我{said}了", f"({said})"):
                assert language in found_in(message, table), (phrase, message)


def test_the_index_finds_what_looking_at_every_phrase_finds(repo: Catalog) -> None:
    """Deadlines' phrases and the signs, on the tuning questions and on phrases written next
    to Chinese characters (which separate words, as spaces do)."""
    lists = {f"danger/{code}": list(p) for code, p in repo.phrases(Intent.DANGER).items()}
    for rule in repo.deadlines.values():
        lists[f"{rule.id}/phrases"] = [p for group in rule.phrases.values() for p in group]
        lists[f"{rule.id}/situations"] = [p for group in rule.situations.values() for p in group]
    table = compiled(lists)
    every = compiled({"all": [p for phrases in lists.values() for p in phrases]})
    everything = [*table.unspaced, *(p for filed in table.by_start.values() for p in filed)]
    said = [p.replace("*", "").replace(" + ", " ") for phrases in lists.values() for p in phrases]
    texts = [f"我{text}了" for text in said] + [f"وب{text}" for text in said]
    with (PROJECT_ROOT / "benchmarks" / "questions-extra.tsv").open(encoding="utf-8") as file:
        texts += [row[-1] for row in csv.reader(file, delimiter="\t")][1:]
    assert len(everything) == sum(len(set(p)) for p in lists.values()) > 1000
    for text in texts:
        key = normalise(text)
        slow: dict[str, int] = {}
        for phrase in everything:
            if all(part.search(key) for part in phrase.parts):
                slow[phrase.key] = max(slow.get(phrase.key, 0), phrase.length)
        assert found_in(text, table) == slow, text
    assert found_in("我老公hits me", every) == {"all": len("hits me")}


def test_two_topics_for_danger_are_reported(content_copy: Path) -> None:
    _with_help_topic(content_copy)
    topics = content_copy / "topics"
    twin = (topics / f"{HELP}.yaml").read_text("utf-8").replace(f"id: {HELP}", "id: help_twin")
    (topics / "help_twin.yaml").write_text(twin, encoding="utf-8")
    menu = content_copy / "menu.yaml"
    menu.write_text(menu.read_text("utf-8").replace(f"{HELP}]", f"{HELP}, help_twin]"), "utf-8")
    validation = validate(content_copy, TODAY)
    assert validation.catalog is not None
    assert any("all have 'intent: danger'" in str(warning) for warning in validation.warnings)
    assert Understanding(validation.catalog).danger_topic == HELP  # the files' order


async def test_an_erasure_asked_for_with_a_sign_of_danger_is_asked_after_the_help(
    helped: Catalog,
) -> None:
    erased: list[tuple[str, str]] = []

    async def erase(channel: str, user_id: str) -> None:
        erased.append((channel, user_id))

    engine = Engine(lambda: helped, MemoryStateStore(), _interface(helped), erase=erase)
    chat = Conversation(engine)
    await chat.start(hint="it")
    reply = await chat.send("cancella i miei dati, mio marito mi picchia e legge il telefono")
    assert reply.text.startswith("**Aiuto se sei in pericolo**")
    assert "Chiama il 112" in reply.text and "cancellare" in reply.text  # the help, the question
    assert chat.ids()[0] == "act:erase" and erased == []  # one more tap, as always
    await chat.press("act:erase")
    assert erased == [("test", "u1")]


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("it", "vorrei un appuntamento, mio marito mi picchia"),
        ("en", "I want to book an appointment, my husband hits me"),
    ],
)
async def test_an_appointment_asked_for_with_a_sign_of_danger_is_offered_under_the_help(
    chat: Conversation, repo: Catalog, language: str, text: str
) -> None:
    """The help first; the appointment is not lost: one tap gives what asking for it gives
    (the counter's contacts, on content that books no slots)."""
    await chat.start(hint=language)
    reply = await chat.send(text)
    assert reply.text.startswith(_help_heading(repo, language)), reply.text[:80]
    ids = chat.ids()
    assert ids.index("act:human") < ids.index("act:book:") < ids.index("nav:back"), ids
    booked = await chat.send(str(ids.index("act:book:") + 1))  # its number, as on WhatsApp
    await chat.start(hint=language)
    asked = await chat.send("vorrei un appuntamento" if language == "it" else "book an appointment")
    assert booked.text == asked.text


async def test_the_appointment_offered_under_the_help_starts_the_booking(
    booking_chat: Conversation,
) -> None:
    chat = booking_chat
    await chat.start(hint="it")
    reply = await chat.send("mio marito mi picchia, vorrei un appuntamento")
    assert reply.text.startswith("**Aiuto se sei in pericolo**")
    assert "act:book:" in chat.ids()
    await chat.press("act:book:")
    await chat.send("1")  # the service: the days are offered, as after "vorrei un appuntamento"
    assert chat.ids()[0].startswith("bk:day:")


async def test_a_sign_of_danger_with_a_photo_gets_the_help(
    chat: Conversation, repo: Catalog
) -> None:
    """A photo's words are read: "he hits me" under a photo gets the help, after saying that
    the photo was not looked at."""
    await chat.start(hint="en")
    reply = await chat.send("my husband hits me", kind=Kind.MEDIA)
    note, rest = reply.text.split("\n\n", 1)
    assert note.startswith("I cannot look at photos or files")
    assert rest.startswith(_help_heading(repo, "en")), rest[:80]


async def test_words_sent_with_a_photo_are_not_taken_for_a_name(booking_chat: Conversation) -> None:
    """While the booking waits for a name, "here is my permit" under a photo is not the name;
    "he hits me" under a photo still leaves the step for the help."""
    chat = booking_chat
    await chat.start(hint="it")
    for step in ("vorrei un appuntamento", "1", "1", "1"):  # the service, the day, the time
        await chat.send(step)
    reply = await chat.send("ecco il mio permesso", kind=Kind.MEDIA)
    assert reply.text.startswith("Posso leggere solo messaggi scritti"), reply.text
    reply = await chat.send("Amina Rossi")
    assert "telefono" in reply.text  # the name was taken now: the phone is asked
    reply = await chat.send("mio marito mi picchia", kind=Kind.MEDIA)
    assert reply.text.split("\n\n", 1)[1].startswith("**Aiuto se sei in pericolo**")
