"""This module contains the dialogue engine: one ``Incoming`` in, the ``Reply`` list out.

The engine is channel-neutral: it never imports a platform library, and a test drives it
with plain objects. Flow (see ``dialogue.mmd`` beside this file):

- a user without a language is asked for one (unless the platform's hint or the text
  itself says which);
- then the user browses menus and topics, types numbers or labels of the choices last
  offered, types navigation words ("menu", "indietro", "langue"), or asks in free text.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import unicodedata
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

from bot.booking.handover import HandoverDesk
from bot.booking.request_texts import REQUEST
from bot.booking.requests import RequestDesk
from bot.booking.service import BookingDesk
from bot.content.catalog import Catalog
from bot.content.memory import release_freed_memory
from bot.content.schema import Intent, Menu, Office, Topic
from bot.content.text import normalise
from bot.core.booking_flow import BOOK, BookingFlow
from bot.core.booking_flow import PHONE as BOOKING_PHONE
from bot.core.booking_flow import TYPED as BOOKING_TYPED
from bot.core.counting import count_question, count_topic
from bot.core.handover_flow import END as HUMAN_END
from bot.core.handover_flow import OPEN as HANDOVER_OPEN
from bot.core.handover_flow import HandoverFlow
from bot.core.messages import Choice, Incoming, Kind, Reply
from bot.core.mine_flow import MyAppointments
from bot.core.request_flow import PHONE as REQUEST_PHONE
from bot.core.request_flow import TYPED as REQUEST_TYPED
from bot.core.request_flow import RequestFlow
from bot.core.sessions import Session, State, StateStore
from bot.core.understanding import Analysis, Match, Understanding
from bot.i18n import N_, Interface, Translator, format_date
from bot.monitoring.events import Monitor, NullMonitor
from bot.reach import UNKNOWN, Reach
from bot.storage.problems import storage_problem

log = logging.getLogger(__name__)


class QuestionBox(Protocol):
    """Where questions go that users agreed to share (SQLite in production)."""

    keep_days: int  # how long a shared question is kept, as the user is told

    async def share(
        self, channel: str, user_id: str, language: str, text: str, nearest_topic: str | None
    ) -> None: ...


@dataclass(frozen=True)
class _Unanswered:
    """A question the bot found no answer to, waiting for the user's consent to share it."""

    text: str
    language: str
    nearest_topic: str | None
    asked_at: float


#: Words that leave a conversation with the counter instead of being passed on.
LEAVE_CONVERSATION = frozenset({Intent.MENU, Intent.BACK, Intent.HELP, Intent.LANGUAGE})

MAX_TEXT_LENGTH = 2000  # longer messages are read up to here: no question needs more
PERSON_TEXT_LENGTH = 4000  # a message passed on to staff: about one Telegram message

GO, LANG, NAV, ACT = "go:", "lang:", "nav:", "act:"
BACK, HOME, LANGUAGE_MENU = "nav:back", "nav:home", "nav:language"
HUMAN = "act:human"
ERASE = "act:erase"
SHARE = "act:share"  # share the question nobody answered with the counter's editors

# A question nobody answered waits this long, in memory only, for the user to agree to share it.
SHARE_WAIT_SECONDS = 3600.0
SHARE_WAITING_MAX = 10_000  # questions waiting at once (a burst cannot grow memory without end)

SERVICE_NAMES = {
    "permit_renewal": N_("Residence permit renewal"),
    "family_reunification": N_("Family reunification"),
    "a2_test": N_("A2 Italian test booking"),
    "citizenship": N_("Citizenship application"),
    "orientation": N_("General orientation"),
    "mediator": N_("Request for a cultural mediator"),
}


_NUMBER_BEFORE = " *_([#"
_NUMBER_AFTER = " *_.):]#\ufe0f\u20e3"  # "2.", "*2.*", "2)", the keycap in "2️⃣"


def as_number(text: str) -> int | None:
    """The choice number in "2", "2.", "*2.*", "(2)", "2️⃣", "٢", "２" or "②"; else None."""
    folded = unicodedata.normalize("NFKC", text).lstrip(_NUMBER_BEFORE).rstrip(_NUMBER_AFTER)
    if not folded or len(folded) > 4 or not all(unicodedata.digit(c, -1) >= 0 for c in folded):
        return None
    return int("".join(str(unicodedata.digit(c)) for c in folded))


@dataclass(frozen=True)
class Answer:
    """What ``sportello ask`` reports: understanding plus the reply the user would get."""

    language: str
    intent: str  # topic, unsure (it offered topics), fallback, or an action such as booking
    matches: tuple[Match, ...]  # the topic answered, or the topics offered, with scores
    text: str
    nearest: Match | None = None  # the closest topic, even when too far to offer


class Engine:
    """Decides what to say. Holds no per-user state: that lives in the session store."""

    def __init__(
        self,
        catalog: Callable[[], Catalog],
        sessions: StateStore,
        interface: Interface,
        today: Callable[[], date] = date.today,
        desk: BookingDesk | None = None,
        erase: Callable[[str, str], Awaitable[object]] | None = None,
        handovers: HandoverDesk | None = None,
        questions: QuestionBox | None = None,
        model_cache: Path | None = None,
        requests: RequestDesk | None = None,
        monitor: Monitor | None = None,
        reaches: Mapping[str, Reach] | None = None,
    ) -> None:
        self._desk = desk
        self._model_cache = model_cache  # where the trained understanding is kept
        self._training: Catalog | None = None  # the content a thread is training on
        self._questions = questions
        # Not stored anywhere before the user agrees: a restart forgets them, which is fine.
        self._unanswered: OrderedDict[tuple[str, str], _Unanswered] = OrderedDict()
        self._handovers = handovers
        self._requests = requests
        self._erase = erase
        #: Counts consultations for the monitoring, anonymously (only a serving bot counts).
        self.monitor: Monitor = monitor if monitor is not None else NullMonitor()
        #: What each channel can do for its users (``bot.app`` knows the configured ones).
        self.reaches: Mapping[str, Reach] = reaches or {}
        self._catalog = catalog
        self._sessions = sessions
        self._interface = interface
        self._today = today
        self._understanding: Understanding | None = None
        # One message at a time per user: two quick taps must not overwrite each other's state.
        self._locks: weakref.WeakValueDictionary[tuple[str, str], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def understanding(self) -> Understanding:
        """The understanding of the current catalog.

        Training on new content takes seconds: meanwhile the previous understanding goes on
        answering (a thread trains the new one and swaps it in whole), so that an editor's
        change never stalls everyone's replies. Only the very first one is built on the spot
        (``serve`` and ``chat`` build it before taking messages: :meth:`prepare`).
        """
        catalog = self._catalog()
        current = self._understanding
        if current is None:
            current = self._understanding = Understanding(catalog, self._model_cache)
            release_freed_memory()
        elif current.catalog is not catalog and self._training is not catalog:
            self._training = catalog
            threading.Thread(target=self._train, args=(catalog,), daemon=True).start()
        return current

    def _train(self, catalog: Catalog) -> None:
        try:
            built = Understanding(catalog, self._model_cache, train_elsewhere=True)
        except Exception:
            log.exception("the understanding of the new content could not be trained")
            return
        finally:
            self._training = None
        self._understanding = built  # one assignment: a message sees the old or the new
        del built
        release_freed_memory()  # the old model and the training's leftovers

    async def prepare(self) -> None:
        """Build the understanding now, in a thread: before the first message, not during it."""
        await asyncio.to_thread(self.understanding)

    async def language_of(self, channel: str, user_id: str) -> str:
        """The language a user chose (the default one before they chose, or if the database
        cannot say)."""
        try:
            stored = await self._sessions.get(channel, user_id)
        except Exception as error:
            log.error("engine cannot read a session's language: %s", type(error).__name__)
            stored = None
        language = Session.load(channel, user_id, stored).language if stored else None
        catalog = self._catalog()
        return language if language and catalog.language(language) else catalog.default_language

    async def converse(self, channel: str, user_id: str) -> None:
        """The counter answered this user: what they type next goes back to the counter."""
        async with self._lock(channel, user_id):
            stored = await self._sessions.get(channel, user_id)
            if stored is None:
                return  # erased, or expired: they will start afresh
            session = Session.load(channel, user_id, stored)
            session.state = HANDOVER_OPEN
            session.offered = []  # a number typed now is an answer, not an old menu choice
            await self._sessions.put(channel, user_id, session.dump())

    async def offer(
        self, channel: str, user_id: str, language: str, choices: Sequence[tuple[str, str]]
    ) -> None:
        """The counter sent this user choices in a notice (accept a proposed time, or ask
        for another): a number or label typed next answers them, as on any menu."""
        async with self._lock(channel, user_id):
            stored = await self._sessions.get(channel, user_id)
            session = (
                Session.load(channel, user_id, stored)
                if stored is not None
                else Session(channel, user_id, language=language)
            )
            session.offered = [Choice(choice_id, label) for choice_id, label in choices]
            await self._sessions.put(channel, user_id, session.dump())

    async def forget(self, channel: str, user_id: str) -> None:
        """Drop a user's conversation state (the user starts afresh)."""
        await self._sessions.delete(channel, user_id)

    async def handle(self, incoming: Incoming) -> list[Reply]:
        """Answer one message. Never raises for anything a user can send."""
        async with self._lock(incoming.channel, incoming.user_id):
            return await self._handle(incoming)

    def _lock(self, channel: str, user_id: str) -> asyncio.Lock:
        """The user's lock: one change to their session at a time."""
        key = (channel, user_id)
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock

    def _await_consent(self, channel: str, user_id: str, question: _Unanswered) -> None:
        self._unanswered[(channel, user_id)] = question
        self._unanswered.move_to_end((channel, user_id))
        while len(self._unanswered) > SHARE_WAITING_MAX:
            self._unanswered.popitem(last=False)

    def _take_unanswered(self, channel: str, user_id: str) -> _Unanswered | None:
        """The user's last unanswered question, taken: it can be shared this turn or never."""
        question = self._unanswered.pop((channel, user_id), None)
        if question is None or time.monotonic() - question.asked_at > SHARE_WAIT_SECONDS:
            return None
        return question

    async def _handle(self, incoming: Incoming) -> list[Reply]:
        try:
            stored = await self._sessions.get(incoming.channel, incoming.user_id)
        except Exception as error:
            _log_failure("cannot read the session", incoming, error)
            hint = (incoming.language_hint or "").split("-")[0].lower()
            known = hint if self._catalog().language(hint) else None
            return [_sorry(_Turn(self, Session(incoming.channel, incoming.user_id, known)))]
        session = (
            Session(incoming.channel, incoming.user_id)
            if stored is None
            else Session.load(incoming.channel, incoming.user_id, stored)
        )
        try:
            turn = _Turn(self, session)
            replies = await turn.respond(incoming)
            if turn.erased:  # nothing of this user may be stored again, not even the session
                return replies
        except Exception as error:
            _log_failure("failed", incoming, error)
            turn = _Turn(self, session)
            replies = [_sorry(turn)]
        try:
            await self._sessions.put(session.channel, session.user_id, session.dump())
        except Exception as error:
            # A full disk, say: what the turn said may rest on a state now lost, but the user
            # must not be left in silence either.
            _log_failure("cannot save the session", incoming, error)
            return [_sorry(_Turn(self, session))]
        return replies

    async def ask(self, text: str, language: str | None = None) -> Answer:
        """Understand a question without any session: for ``sportello ask`` and editors."""
        catalog = self._catalog()
        analysis = self.understanding().analyse(text[:MAX_TEXT_LENGTH])
        code = language if catalog.language(language) else None
        code = code or analysis.language or analysis.intent_language or catalog.default_language
        turn = _Turn(self, Session("ask", "ask", language=code))
        turn.monitor = NullMonitor()  # an editor trying questions is not a consultation
        reply = await turn.respond(Incoming("ask", "ask", Kind.TEXT, text))
        intent = _public_intent(analysis)
        matches = analysis.matches if intent in ("topic", "unsure") else ()
        nearest = analysis.nearest if analysis.intent is None else None
        return Answer(code, intent, matches, reply[0].text if reply else "", nearest)


def _sorry(turn: _Turn) -> Reply:
    """The answer when a turn cannot be completed: an apology and the main menu."""
    return turn.home(turn.t._("Sorry, something went wrong. Here is the main menu."))


def _log_failure(what: str, incoming: Incoming, error: Exception) -> None:
    """One line for a known trouble of the database (a full disk), a traceback otherwise.

    The user's text stays out of the log: it may hold personal data.
    """
    problem = storage_problem(error)
    log.error(
        "engine %s on a %s message from channel %s%s",
        what,
        incoming.kind,
        incoming.channel,
        f": database: {problem}" if problem else "",
        exc_info=None if problem else error,
    )


def _public_intent(analysis: Analysis) -> str:
    """The intent name ``ask`` reports (navigation and thanks are small talk: greeting)."""
    if analysis.intent is None:
        if analysis.confident:
            return "topic"
        return "unsure" if analysis.matches else "fallback"
    if analysis.intent in (Intent.BOOKING, Intent.CANCEL, Intent.MY_APPOINTMENTS, Intent.HUMAN):
        return analysis.intent.value
    if analysis.intent is Intent.FORGET:
        return "human"  # a request about personal data: for the counter's eyes
    if analysis.intent is Intent.LANGUAGE:
        return "language"
    return "greeting"


# Sources under an answer, official pages first: a phone screen of links would bury the answer.
# The content keeps every source; `content check` and the editors see them all.
SOURCES_SHOWN = 3


class _Turn:
    """One message being answered: the catalog, the session and the user's language."""

    def __init__(self, engine: Engine, session: Session) -> None:
        self.engine = engine
        self.catalog = engine._catalog()
        self.session = session
        if session.language is not None and self.catalog.language(session.language) is None:
            session.language = None  # the language was disabled since: ask again
        self.code = session.language or self.catalog.default_language
        self.t: Translator = engine._interface.translator(self.code)
        self.erased = False
        self.whole_text = ""
        self.monitor = engine.monitor
        #: What the user's channel knows of them and can do (a phone number as their id...).
        self.reach = engine.reaches.get(session.channel, UNKNOWN)
        self.unanswered: _Unanswered | None = None  # the last question, if still shareable

    def set_language(self, code: str) -> None:
        self.session.language = code
        self.session.state = State.BROWSE
        self.code = code
        self.t = self.engine._interface.translator(code)

    # -- entry point -----------------------------------------------------------------------

    async def respond(self, incoming: Incoming) -> list[Reply]:
        # The share button is for the question just asked: it can be taken this turn or never.
        self.unanswered = self.engine._take_unanswered(self.session.channel, self.session.user_id)
        text = incoming.text.strip()[:MAX_TEXT_LENGTH]
        # A message for a person at the counter goes whole (as far as a chat message goes).
        self.whole_text = incoming.text.strip()[:PERSON_TEXT_LENGTH]
        if self.session.language is None:
            asked = self._settle_language(incoming, text)
            if asked is not None:
                return [asked]
        elif self.session.state == State.LANGUAGE and incoming.kind is Kind.TEXT and text:
            chosen = self._language_from_text(text)
            if chosen is not None:
                self.set_language(chosen)
                return [self.home(self.welcome())]
        return [await self._dispatch(incoming, text)]

    def _settle_language(self, incoming: Incoming, text: str) -> Reply | None:
        """Find the new user's language; returns the language question if it is still open."""
        if incoming.kind is Kind.CHOICE and (incoming.choice_id or "").startswith(LANG):
            return None  # handled as a choice below
        if self.session.state == State.LANGUAGE and incoming.kind is Kind.TEXT:
            chosen = self._language_from_text(text)
            if chosen is not None:
                self.set_language(chosen)
                return self.home(self.welcome())
        hint = (incoming.language_hint or "").split("-")[0].lower()
        if self.catalog.language(hint):
            self.set_language(hint)
            return None
        if incoming.kind is Kind.TEXT and text:
            understanding = self.engine.understanding()
            detected = understanding.detect_language(text)
            intent = understanding.detect_intent(text)
            if intent is not None and intent[0] is not Intent.LANGUAGE:
                detected = detected or intent[1]
            if detected is not None:
                self.set_language(detected)
                return None
        return self.language_menu(suggested=incoming.language_guess)

    def _language_from_text(self, text: str) -> str | None:
        """A language typed as its number in the list, code, native or English name."""
        key = normalise(text)
        number = as_number(text)
        if number is not None:
            choice = self._offered_by_number(number)
            if choice is not None and choice.id.startswith(LANG):
                return choice.id.removeprefix(LANG)
        for language in self.catalog.enabled_languages:
            names = {language.code, normalise(language.name), normalise(language.english)}
            if key in names:
                return language.code
        return None

    def _offered_by_number(self, number: int) -> Choice | None:
        if 1 <= number <= len(self.session.offered):
            return self.session.offered[number - 1]
        return None

    # -- dispatch --------------------------------------------------------------------------

    async def _dispatch(self, incoming: Incoming, text: str) -> Reply:
        if incoming.kind is Kind.CHOICE:
            return await self._choose(incoming.choice_id or "")
        if incoming.kind is Kind.MEDIA:
            return self.again(
                self.t._("I can only read text. Please write your question, or choose an option.")
            )
        if incoming.kind is Kind.CONTACT:
            flow = self.booking_flow()
            if flow is not None and self.session.state == BOOKING_PHONE and text:
                typed = await flow.typed(text, None)  # a shared contact card: its phone number
                if typed is not None:
                    return typed
            requesting = self.request_flow()
            if requesting is not None and self.session.state == REQUEST_PHONE and text:
                typed = await requesting.typed(text, None)
                if typed is not None:
                    return typed
            return self.again(self.t._("Thank you, but I do not need a contact here."))
        if incoming.kind is Kind.LOCATION:
            return self.again(self.t._("Thank you, but I do not need a location here."))
        if incoming.kind is Kind.COMMAND:
            return self._command(normalise(text).split(" ")[0] if text else "start")
        if not text:
            return self.help()
        person = self.handover_flow()
        number = as_number(text)
        if number is not None:
            choice = self._offered_by_number(number)
            if choice is not None:
                return await self._choose(choice.id)
            if person is not None and await person.wants(text):
                return await person.send(self.whole_text)  # "2", answering a question
            return self.again(self._number_hint())
        key = normalise(text)
        for choice in self.session.offered:
            if key and key == normalise(choice.label):
                return await self._choose(choice.id)
        flow = self.booking_flow()
        if flow is not None and self.session.state in BOOKING_TYPED:
            # The name, phone, day or time the flow asked for; unless it is a way out.
            navigation = self.engine.understanding().detect_intent(text)
            typed = await flow.typed(text, navigation[0] if navigation else None)
            if typed is not None:
                return typed
        requesting = self.request_flow()
        if requesting is not None and self.session.state in REQUEST_TYPED:
            navigation = self.engine.understanding().detect_intent(text)
            typed = await requesting.typed(text, navigation[0] if navigation else None)
            if typed is not None:
                return typed
        if person is not None and await person.wants(text):
            navigation = self.engine.understanding().detect_intent(text)
            if navigation is None or navigation[0] not in LEAVE_CONVERSATION:
                return await person.send(self.whole_text)  # "thanks" too: it is for them
        return await self._free_text(text)

    def _command(self, name: str) -> Reply:
        if name == "start":
            return self.home(self.welcome())
        if name in ("menu", "home"):
            return self.home()
        if name in ("language", "lingua", "lang"):
            return self.language_menu()
        if name == "back":
            return self.back()
        return self.help()

    async def _choose(self, choice_id: str) -> Reply:
        if choice_id.startswith(LANG) and self.catalog.language(choice_id.removeprefix(LANG)):
            self.set_language(choice_id.removeprefix(LANG))
            return self.home(self.welcome())
        if choice_id == HOME:
            return self.home()
        if choice_id == BACK:
            return self.back()
        if choice_id == LANGUAGE_MENU:
            return self.language_menu()
        if choice_id == ERASE and self.engine._erase is not None:
            await self.engine._erase(self.session.channel, self.session.user_id)
            self.erased = True
            return Reply(
                self.t._("Your data has been deleted. Write again whenever you need."),
                language=self.code,
                rtl=self.catalog.is_rtl(self.code),
                forget=True,
            )
        if choice_id == HUMAN:
            return self.talk_to_a_person()
        if choice_id == SHARE:
            return await self._share_question()
        if choice_id == HUMAN_END and (person := self.handover_flow()) is not None:
            return await person.end()
        if (
            choice_id.startswith(ACT + "book:")
            and choice_id.removeprefix(ACT + "book:") in SERVICE_NAMES
        ):
            return await self.booking(choice_id.removeprefix(ACT + "book:"))
        flow = self.booking_flow()
        if choice_id.startswith(BOOK) and flow is not None:
            return await flow.choose(choice_id)
        requesting = self.request_flow()
        if choice_id.startswith(REQUEST) and requesting is not None:
            return await requesting.choose(choice_id)
        if choice_id.startswith(GO) and self.catalog.node(choice_id.removeprefix(GO)):
            await count_topic(
                self.monitor, self.catalog, self.session, self.code, choice_id.removeprefix(GO)
            )
            return self.open(choice_id.removeprefix(GO))
        # A button from an old message, or content that changed since: not an error.
        return self.home(self.t._("That option is no longer available. Here is the main menu."))

    async def _free_text(self, text: str) -> Reply:
        analysis = self.engine.understanding().analyse(text)
        await count_question(self.monitor, self.session, self.code, analysis)
        reply = await self._understood(analysis)
        if analysis.intent is None and not analysis.confident and not analysis.matches:
            reply = self._offer_to_share(reply, text, analysis)
        switch = self.catalog.language(analysis.language)
        if switch is None or switch.code == self.code or self.session.state == State.LANGUAGE:
            return reply
        # Written clearly in another enabled language: answer as chosen, offer to switch.
        offer = Choice(LANG + switch.code, f"🌐 {switch.name}")
        return self.reply(reply.text, [offer, *reply.choices])

    async def _understood(self, analysis: Analysis) -> Reply:
        if analysis.intent is not None:
            return await self._intent(analysis.intent)
        # While new content trains, the understanding of the previous content answers: a topic
        # it names may be gone since.
        matches = [match for match in analysis.matches if match.topic in self.catalog.topics]
        if analysis.confident and matches and matches[0] == analysis.matches[0]:
            return self.open(matches[0].topic)
        if matches:
            choices = [
                Choice(GO + m.topic, self.catalog.title(m.topic, self.code)) for m in matches
            ]
            return self.reply(
                self.t._("I am not sure I understood. Did you mean one of these?"),
                [*choices, self._home_choice(), Choice(HUMAN, self.t._("Talk to a person"))],
            )
        return self.reply(
            self.t._(
                "Sorry, I did not find an answer to that. Try other words, choose from the "
                "menu, or talk to a person at the counter."
            ),
            [
                *self._menu_choices(self.catalog.menus[self.catalog.root]),
                Choice(HUMAN, self.t._("Talk to a person")),
            ],
        )

    def _offer_to_share(self, reply: Reply, text: str, analysis: Analysis) -> Reply:
        """After "I did not understand": may the counter read this question? One tap, or not."""
        if self.engine._questions is None or self.session.channel == "ask":
            return reply  # `sportello ask` is an editor trying questions: nothing to share
        nearest = analysis.nearest.topic if analysis.nearest else None
        self.engine._await_consent(
            self.session.channel,
            self.session.user_id,
            _Unanswered(self.whole_text or text, self.code, nearest, time.monotonic()),
        )
        share = Choice(SHARE, self.t._("Share my question with the counter"))
        return self.reply(reply.text, [share, *reply.choices])

    async def _share_question(self) -> Reply:
        questions, question = self.engine._questions, self.unanswered
        if questions is None or question is None:
            return self.home(self.t._("That option is no longer available. Here is the main menu."))
        await questions.share(
            self.session.channel,
            self.session.user_id,
            question.language,
            question.text,
            question.nearest_topic,
        )
        return self.home(
            self.t._(
                "Thank you. The counter's editors will read your question to improve the "
                "answers. It is kept for {days} days, and deleted at once if you ask to erase "
                "your data."
            ).format(days=questions.keep_days)
        )

    async def _intent(self, intent: Intent) -> Reply:
        if intent is Intent.MENU:
            return self.home()
        if intent is Intent.BACK:
            return self.back()
        if intent is Intent.HELP:
            return self.help()
        if intent is Intent.LANGUAGE:
            return self.language_menu()
        if intent is Intent.GREETING:
            return self.home(self.welcome())
        if intent is Intent.THANKS:
            return self.again(self.t._("You are welcome! Anything else?"))
        if intent is Intent.HUMAN:
            return self.talk_to_a_person()
        if intent is Intent.BOOKING:
            return await self.booking(None)
        if intent is Intent.FORGET and self.engine._erase is not None:
            return self.reply(
                self.t._(
                    "Do you want to delete everything this chat keeps about you (conversation, "
                    "appointments, phone number)? Your future appointments will be cancelled."
                ),
                [Choice(ERASE, self.t._("Yes, delete my data")), self._home_choice()],
            )
        flow = self.booking_flow()
        if flow is not None:
            return await flow.mine()
        return self.contacts(
            self.t._("To see, move or cancel an appointment, contact the counter:")
        )

    # -- screens ---------------------------------------------------------------------------

    def reply(self, text: str, choices: list[Choice]) -> Reply:
        self.session.offered = choices
        return Reply(
            text=text,
            choices=tuple(choices),
            language=self.code,
            rtl=self.catalog.is_rtl(self.code),
        )

    def again(self, text: str) -> Reply:
        """A short answer that offers again the choices the user had."""
        choices = self.session.offered or self._menu_choices(self.catalog.menus[self.catalog.root])
        return self.reply(text, list(choices))

    def welcome(self) -> str:
        return self.t._(
            "Welcome to the Sportello Immigrati of Luino and Cittiglio. I answer questions on "
            "residence permits, family reunification, the Italian test, citizenship and local "
            "services. Choose a number, or write your question in your own words."
        )

    def home(self, before: str | None = None) -> Reply:
        self.session.history.clear()
        self.session.draft.clear()
        self.session.node = self.catalog.root
        self.session.state = State.BROWSE
        return self._render(self.catalog.root, before)

    def open(self, node_id: str) -> Reply:
        if self.session.node and self.session.node != node_id:
            self.session.history.append(self.session.node)
            del self.session.history[:-20]
        self.session.node = node_id
        self.session.state = State.BROWSE
        return self._render(node_id)

    def back(self) -> Reply:
        self.session.state = State.BROWSE
        self.session.draft.clear()
        while self.session.history:
            previous = self.session.history.pop()
            if self.catalog.node(previous) is not None:
                self.session.node = previous
                return self._render(previous)
        return self.home()

    def _render(self, node_id: str, before: str | None = None) -> Reply:
        node = self.catalog.node(node_id)
        if isinstance(node, Topic):
            return self._topic(node)
        menu = node if isinstance(node, Menu) else self.catalog.menus[self.catalog.root]
        parts = [before] if before else []
        parts.append(f"**{self.catalog.localize(menu.title, self.code).text}**")
        if menu.text is not None:
            parts.append(self.catalog.localize(menu.text, self.code).text)
        choices = self._menu_choices(menu)
        if menu.id == self.catalog.root:
            choices += [
                Choice(HUMAN, self.t._("Talk to a person")),
                Choice(LANGUAGE_MENU, "🌐 " + self.t._("Language")),
            ]
        else:
            choices += [Choice(BACK, self.t._("Back")), self._home_choice()]
        return self.reply("\n\n".join(parts), choices)

    def _menu_choices(self, menu: Menu) -> list[Choice]:
        return [Choice(GO + item, self.catalog.title(item, self.code)) for item in menu.items]

    def _home_choice(self) -> Choice:
        return Choice(HOME, self.t._("Main menu"))

    def _topic(self, topic: Topic) -> Reply:
        title = self.catalog.localize(topic.title, self.code).text
        answer = self.catalog.localize(topic.answer, self.code)
        parts = [f"**{title}**", answer.text]
        if topic.links:
            lines = [
                f"- {self.catalog.localize(link.label, self.code).text}: {link.url}"
                for link in topic.links
            ]
            parts.append(self.t._("Useful links:") + "\n" + "\n".join(lines))
        shown = sorted(topic.sources, key=lambda source: source.secondary)[:SOURCES_SHOWN]
        sources = "\n".join(f"- {source.title}: {source.url}" for source in shown)
        reviewed = format_date(topic.reviewed, self.code)
        checked = self.t._("Checked on {date}.")
        if reviewed.endswith("."):  # "25 листопада 2026 р." already ends the sentence
            checked = checked.replace("{date}.", "{date}")
        checked = checked.format(date=reviewed)
        # Not inside an f-string: Babel's extractor would not see the message there.
        sources_title = self.t._("Official sources:")
        parts.append(f"{sources_title}\n{sources}\n{checked}")
        if answer.fallback:
            language = self.catalog.language(answer.language)
            name = language.name if language else answer.language
            parts.append(
                "ℹ️ "
                + self.t._(
                    "This answer is not yet available in your language: here it is in {language}."
                ).format(language=name)
            )
        elif topic.is_draft(answer.language):
            parts.append(
                "ℹ️ " + self.t._("This translation has not yet been checked by the counter's staff.")
            )
        choices = [
            Choice(GO + child, self.catalog.title(child, self.code)) for child in topic.children
        ]
        for action in topic.actions:
            if action.kind == "book" and action.service:
                choices.append(Choice(ACT + action.id, self.t._("Book an appointment")))
            elif action.kind == "human":
                choices.append(Choice(HUMAN, self.t._("Talk to a person")))
        choices += [Choice(BACK, self.t._("Back")), self._home_choice()]
        return self.reply("\n\n".join(parts), choices)

    def language_menu(self, suggested: str | None = None) -> Reply:
        """The language question; a likely language (from a phone's country) comes first."""
        self.session.state = State.LANGUAGE
        languages = list(self.catalog.enabled_languages)
        first = self.catalog.language(suggested)
        if first is not None:
            languages.remove(first)
            languages.insert(0, first)
        lines = [
            self.engine._interface.translator(language.code)._("Choose your language")
            for language in languages
        ]
        choices = [Choice(LANG + language.code, language.name) for language in languages]
        self.session.offered = choices
        return Reply(
            text="\n".join(dict.fromkeys(lines)),
            choices=tuple(choices),
            language=first.code if first is not None else self.code,
            rtl=False,  # a list in many scripts: each line keeps its own direction
        )

    def help(self) -> Reply:
        words = {
            intent: self._first_phrase(intent, fallback)
            for intent, fallback in (
                (Intent.MENU, "menu"),
                (Intent.BACK, "back"),
                (Intent.LANGUAGE, "language"),
            )
        }
        text = self.t._(
            "How to use this chat:\n- choose an option by its number or its name;\n- or write "
            "your question in your own words;\n- write “{menu}” for the main menu, “{back}” to go "
            "back, “{language}” to change language."
        ).format(menu=words[Intent.MENU], back=words[Intent.BACK], language=words[Intent.LANGUAGE])
        return self.again(text)

    def _first_phrase(self, intent: Intent, fallback: str) -> str:
        phrases = self.catalog.phrases(intent)
        for code in self.catalog.chain(self.code):
            if phrases.get(code):
                return phrases[code][0]
        return fallback

    def _number_hint(self) -> str:
        count = len(self.session.offered)
        if count == 0:
            return self.t._("Please write your question, or “menu” for the main menu.")
        return self.t._("Please choose a number from 1 to {count}.").format(count=count)

    def handover_flow(self) -> HandoverFlow | None:
        """The "talk to a person" dialogue, when staff can answer on this channel."""
        desk = self.engine._handovers
        if desk is None or not desk.available(self.session.channel):
            return None
        return HandoverFlow(self, desk)

    def talk_to_a_person(self) -> Reply:
        person = self.handover_flow()
        if person is not None:
            return person.start()
        return self.contacts(self.t._("You can talk to a person at the counter:"))

    def booking_flow(self) -> BookingFlow | None:
        """The booking dialogue, when some office takes appointments online (by slots, or on
        request)."""
        desk = self.engine._desk
        if desk is None:
            return None
        flow = BookingFlow(self, desk, self.engine._requests)
        return flow if flow.services() else None

    def request_flow(self) -> RequestFlow | None:
        """The request dialogue and the answers to a proposal, when requests are taken."""
        desk, requests = self.engine._desk, self.engine._requests
        if desk is None or requests is None:
            return None
        return RequestFlow(self, requests, MyAppointments(self, desk, requests))

    async def booking(self, service: str | None) -> Reply:
        flow = self.booking_flow()
        if flow is not None and (service is None or service in flow.services()):
            return await flow.start(service)
        intro = self.t._("To book an appointment, phone or write to the counter:")
        if service in SERVICE_NAMES:
            intro += "\n" + self.t._("Say that you need: {service}.").format(
                service=self.t._(SERVICE_NAMES[service])
            )
        return self.contacts(intro)

    def contacts(self, intro: str) -> Reply:
        blocks = [intro]
        blocks.extend(self._office(office) for office in self.catalog.offices)
        choices = [Choice(BACK, self.t._("Back")), self._home_choice()]
        if self.session.node in (None, self.catalog.root):
            choices = [self._home_choice()]
        return self.reply("\n\n".join(blocks), choices)

    def _office(self, office: Office) -> str:
        lines = [f"**{self.catalog.localize(office.name, self.code).text}**", office.address]
        if office.phone:
            lines.append(self.t._("Phone: {phone}").format(phone=office.phone))
        if office.email:
            lines.append(self.t._("E-mail: {email}").format(email=office.email))
        if office.hours is not None:
            lines.append(self.catalog.localize(office.hours, self.code).text)
        if not office.confirmed:
            lines.append("ℹ️ " + self.t._("These details are not yet confirmed."))
        return "\n".join(lines)
