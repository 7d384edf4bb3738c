"""This module contains the dialogue engine: one ``Incoming`` in, the ``Reply`` list out.

The engine is channel-neutral: it never imports a platform library, and a test drives it
with plain objects. It holds no dialogue of its own: it loads the user's session, settles
their language, and routes the message through the table of flows (``flows/table.py``,
drawn in ``dialogue.mmd`` beside this file):

- a pressed (or typed) choice goes to the flow that declared its beginning ("bk:", "go:");
- a typed answer goes to the flow that owns the session's state (a name to the booking, a
  message to the person at the counter), unless that flow lets it through;
- what no flow took is a question, which navigation understands.

Then it stores the session: one message at a time per user.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from bot.booking.handover import HandoverDesk
from bot.booking.requests import RequestDesk
from bot.booking.service import BookingDesk
from bot.content.catalog import Catalog
from bot.content.classifier import Classifier
from bot.content.memory import release_freed_memory
from bot.content.schema import LEAVE_ANY_STEP, Intent
from bot.content.text import normalise
from bot.core.flows.booking import BookingFlow
from bot.core.flows.checklist import ChecklistFlow
from bot.core.flows.deadlines import DeadlineFlow, ReminderBook
from bot.core.flows.erase import EraseFlow
from bot.core.flows.handover import HandoverFlow, HandoverState
from bot.core.flows.mine import MineFlow
from bot.core.flows.navigation import Navigation, as_number, offered_by_number
from bot.core.flows.questions import QuestionBox
from bot.core.flows.reminders import RemindersFlow
from bot.core.flows.requests import RequestFlow
from bot.core.flows.table import Flows
from bot.core.messages import Choice, Incoming, Kind, Reply
from bot.core.sessions import Session, StateStore
from bot.core.turn import Turn, Typed
from bot.core.understanding import Analysis, Match, Understanding
from bot.deadlines import kinds as deadline_kinds
from bot.deadlines.reminders import DeadlineReminders
from bot.i18n import Interface
from bot.monitoring.events import Monitor, NullMonitor
from bot.reach import UNKNOWN, Reach
from bot.storage.problems import storage_problem

log = logging.getLogger(__name__)

# A training that failed (a child killed for want of memory, say) is tried again for the same
# content after a pause that doubles each time: otherwise every message would start a new
# training child, each failing the same way.
RETRY_FIRST = 1.0
RETRY_LONGEST = 600.0
MAX_TEXT_LENGTH = 2000  # longer messages are read up to here: no question needs more
PERSON_TEXT_LENGTH = 4000  # a message passed on to staff: about one Telegram message


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
        reminders: DeadlineReminders | None = None,
        deadline_reminders: ReminderBook | None = None,
    ) -> None:
        self._model_cache = model_cache  # where the trained understanding is kept
        self._training: Catalog | None = None  # the content a thread is training on
        # The content whose training failed last, when it may be tried again, the pause.
        self._retry: tuple[Catalog, float, float] | None = None
        # Trainings in the order they began, and the one whose understanding is in place: a
        # training's understanding (a stop-gap, or the full one) never replaces that of a
        # training begun later (a second edit's stop-gap, while the first edit trains).
        self._trainings = itertools.count(1)
        self._in_place = 0
        self._flows = Flows(
            navigation=Navigation(questions),
            booking=BookingFlow(desk, requests),
            requests=RequestFlow(desk, requests),
            handover=HandoverFlow(handovers),
            mine=MineFlow(desk, requests),
            erase=EraseFlow(erase),
            checklist=ChecklistFlow(),
            reminders=RemindersFlow(reminders),
            # The deadline dialogue keeps the reminders a user agrees to in the same service
            # (``deadline_reminders``: another book, in a test of the dialogue alone).
            deadlines=DeadlineFlow(deadline_reminders or reminders, today),
        )
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

        Training on new content takes seconds (minutes for a very big content): meanwhile the
        previous understanding goes on answering (a thread trains the new one and swaps it in
        whole), so that an editor's change never stalls everyone's replies. Within seconds of
        an edit, a stop-gap that the training child works out from the previous model's file
        (only the changed topics read again) answers the new content until the full
        training's model, from the same child, replaces it. Only
        the very first one is built on the spot (``serve`` and ``chat`` build it before taking
        messages: :meth:`prepare`): from the model kept for this content, or else as a stop-gap
        from the newest model kept (content edited while the server was down), or else by a
        full training.
        """
        catalog = self._catalog()
        current = self._understanding
        if current is None:
            current = self._first(catalog)
            release_freed_memory()
        elif (
            (current.catalog is not catalog or not current.exact)
            and self._training is not catalog
            and self._may_train(catalog)
        ):
            # New content, or a stop-gap whose full training failed (none runs): train.
            self._training = catalog
            previous = current.classifier
            threading.Thread(target=self._train, args=(catalog, previous), daemon=True).start()
        return current

    def _may_train(self, catalog: Catalog) -> bool:
        """Whether a training of ``catalog`` may begin: not during the pause after it failed."""
        retry = self._retry
        return retry is None or retry[0] is not catalog or time.monotonic() >= retry[1]

    def _failed(self, catalog: Catalog) -> float:
        """Remember that the training of ``catalog`` failed; the pause before the next one."""
        retry = self._retry
        pause = RETRY_FIRST
        if retry is not None and retry[0] is catalog:
            pause = min(retry[2] * 2, RETRY_LONGEST)
        self._retry = (catalog, time.monotonic() + pause, pause)
        return pause

    def _first(self, catalog: Catalog) -> Understanding:
        """The first understanding: as soon as one of ``catalog`` is in place (see above)."""
        if not Classifier.kept_in(self._model_cache):
            self._understanding = Understanding(catalog, self._model_cache)
            return self._understanding
        ready = threading.Event()
        self._training = catalog
        # No model before: the training child works the stop-gap out from the newest kept.
        threading.Thread(target=self._train, args=(catalog, None, ready), daemon=True).start()
        ready.wait()
        if self._understanding is None:  # the training failed: again here, its error raised
            self._understanding = Understanding(catalog, self._model_cache)
        return self._understanding

    def _train(
        self, catalog: Catalog, previous: Classifier | None, ready: threading.Event | None = None
    ) -> None:
        """Train the understanding of ``catalog`` and put it in place, a stop-gap worked out
        from the kept file of ``previous`` (or the newest kept) first if the full training is
        needed, by the training child; ``ready`` is set as soon as either is in place (or the
        training failed)."""
        number = next(self._trainings)

        def put_in_place(understanding: Understanding) -> None:
            if number >= self._in_place:
                self._in_place = number
                self._understanding = understanding  # one assignment: the old or the new
                release_freed_memory()  # the old model and the training's leftovers
            if ready is not None:
                ready.set()

        try:
            built = Understanding(
                catalog,
                self._model_cache,
                train_elsewhere=True,
                previous=previous,
                stopgap=put_in_place,
            )
            del previous
            self._retry = None
            put_in_place(built)
            del built
        except Exception:
            pause = self._failed(catalog)
            log.exception(
                "the understanding of the new content could not be trained: again in %.3g s",
                pause,
            )
        finally:
            # Only now: a look meanwhile would see a stop-gap with no training and start one.
            if self._training is catalog:
                self._training = None
            if ready is not None:
                ready.set()

    async def prepare(self) -> None:
        """Build the understanding and compile the deadline rules' phrases now, in a thread:
        before the first message, not during it (compiling the phrases takes a second)."""
        await asyncio.to_thread(self._prepare_now)

    def _prepare_now(self) -> None:
        self.understanding()
        deadline_kinds.prepare(self._catalog().deadlines)

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
            stored = await self._sessions.begin(channel, user_id)
            if stored is None:
                await self._sessions.end(channel, user_id, None)
                return  # erased, or expired: they will start afresh
            session = Session.load(channel, user_id, stored)
            session.state = HandoverState.OPEN
            session.offered = []  # a number typed now is an answer, not an old menu choice
            await self._sessions.end(channel, user_id, session.dump())

    async def offer(
        self, channel: str, user_id: str, language: str, choices: Sequence[tuple[str, str]]
    ) -> None:
        """The counter sent this user choices in a notice (accept a proposed time, or ask
        for another): a number or label typed next answers them, as on any menu."""
        async with self._lock(channel, user_id):
            stored = await self._sessions.begin(channel, user_id)
            session = (
                Session.load(channel, user_id, stored)
                if stored is not None
                else Session(channel, user_id, language=language)
            )
            session.offered = [Choice(choice_id, label) for choice_id, label in choices]
            await self._sessions.end(channel, user_id, session.dump())

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

    async def _handle(self, incoming: Incoming) -> list[Reply]:
        try:
            # The user's turn is held from here until its session is saved: by this process
            # (the lock above) and by every other instance on the database (the store's hold).
            stored = await self._sessions.begin(incoming.channel, incoming.user_id)
        except Exception as error:
            _log_failure("cannot read the session", incoming, error)
            hint = (incoming.language_hint or "").split("-")[0].lower()
            known = hint if self._catalog().language(hint) else None
            session = Session(incoming.channel, incoming.user_id, known)
            return [_sorry(self._turn(session))]
        session = (
            Session(incoming.channel, incoming.user_id)
            if stored is None
            else Session.load(incoming.channel, incoming.user_id, stored)
        )
        saved = False
        try:
            try:
                turn = self._turn(session, self.monitor)
                replies = await self._respond(turn, incoming)
                if turn.erased:  # nothing of this user may be stored again, not the session
                    return replies
            except Exception as error:
                _log_failure("failed", incoming, error)
                replies = [_sorry(self._turn(session))]
            try:
                await self._sessions.end(
                    session.channel, session.user_id, session.dump(), incoming.stored_as
                )
                saved = True
            except Exception as error:
                # A full disk, say: what the turn said may rest on a state now lost, but the
                # user must not be left in silence either.
                _log_failure("cannot save the session", incoming, error)
                return [_sorry(self._turn(session))]
            return replies
        finally:
            if not saved:
                await self._let_go(session.channel, session.user_id)

    async def _let_go(self, channel: str, user_id: str) -> None:
        """Let go of a turn whose session is not saved (erased, or the save failed)."""
        try:
            await self._sessions.end(channel, user_id, None)
        except Exception as error:  # the hold dies with this instance's lease
            log.error("engine cannot let go of a turn: %s", type(error).__name__)

    # -- routing ---------------------------------------------------------------------------

    def _turn(self, session: Session, monitor: Monitor | None = None) -> Turn:
        """A turn for this session; counted by ``monitor`` (by nothing without one)."""
        return Turn(
            session,
            self._catalog(),
            self._interface,
            self._flows,
            self.understanding,
            monitor if monitor is not None else NullMonitor(),
            self.reaches.get(session.channel, UNKNOWN),
        )

    async def _respond(self, turn: Turn, incoming: Incoming) -> list[Reply]:
        """One message: the language first, then the flow it is for."""
        navigation, session = self._flows.navigation, turn.session
        # The share button is for the question just asked: it can be taken this turn or never.
        turn.unanswered = navigation.questions.take(session.channel, session.user_id)
        text = incoming.text.strip()[:MAX_TEXT_LENGTH]
        captioned = incoming.kind is Kind.MEDIA and self._reads_caption(turn, text)
        if captioned:
            # A photo or a file with words ("he hits me", "when does this one expire?"): the
            # words are read as a message, and the reply says that the rest was not seen.
            incoming = replace(incoming, kind=Kind.TEXT)
        # A message for a person at the counter goes whole (as far as a chat message goes).
        turn.whole_text = incoming.text.strip()[:PERSON_TEXT_LENGTH]
        reply = navigation.settle_language(turn, incoming, text)
        if reply is None:
            reply = await self._route(turn, incoming, text)
        if captioned:
            unseen = turn.t._(
                "I cannot look at photos or files: I have read only the words of your message."
            )
            reply = replace(reply, text=f"{unseen}\n\n{reply.text}")
        return [reply]

    def _reads_caption(self, turn: Turn, caption: str) -> bool:
        """Whether the words sent with a photo or a file are read as a message: at the menus;
        while a dialogue waits for a name, a day or a message for the counter, only when they
        leave any step ("he hits me", "menu"). "Here is my permit" is not a name, and the
        counter would get the words without the photo they are about. ``caption``: stripped."""
        if not caption:
            return False
        if self._flows.owner(turn.session.state)[0] is self._flows.navigation:
            return True
        return self._intent_of(caption) in LEAVE_ANY_STEP

    async def _route(self, turn: Turn, incoming: Incoming, text: str) -> Reply:
        navigation = self._flows.navigation
        if incoming.kind is Kind.CHOICE:
            return await self._choose(turn, incoming.choice_id or "")
        if incoming.kind is Kind.MEDIA:
            return turn.again(
                turn.t._("I can only read text. Please write your question, or choose an option.")
            )
        if incoming.kind is Kind.CONTACT:
            # A shared contact card: its phone number, if a flow waits for one.
            taken = await self._step(turn, Typed(text, Kind.CONTACT)) if text else None
            if taken is not None:
                return taken
            return turn.again(turn.t._("Thank you, but I do not need a contact here."))
        if incoming.kind is Kind.LOCATION:
            return turn.again(turn.t._("Thank you, but I do not need a location here."))
        if incoming.kind is Kind.COMMAND:
            return navigation.command(turn, normalise(text).split(" ")[0] if text else "start")
        if not text:
            return navigation.help(turn)
        number = as_number(text)
        if number is not None:
            choice = offered_by_number(turn, number)
            if choice is not None:
                return await self._choose(turn, choice.id)
            taken = await self._step(turn, Typed(text, number=number))  # "2", for the counter
            return taken if taken is not None else turn.again(navigation.number_hint(turn))
        key = normalise(text)
        for choice in turn.session.offered:
            if key and key == normalise(choice.label):
                return await self._choose(turn, choice.id)
        # The name, phone, day or time a flow asked for; unless it is a way out.
        taken = await self._step(turn, Typed(text, detect=self._intent_of))
        return taken if taken is not None else await navigation.questions.answer(turn, text)

    async def _step(self, turn: Turn, typed: Typed) -> Reply | None:
        """A typed answer, for the flow that owns the session's state."""
        flow, state = self._flows.owner(turn.session.state)
        return await flow.step(turn, state, typed)

    async def _choose(self, turn: Turn, choice_id: str) -> Reply:
        flow = self._flows.for_choice(choice_id)
        reply = await flow.choose(turn, choice_id) if flow is not None else None
        if reply is not None:
            return reply
        # A button from an old message, or content that changed since: not an error.
        return turn.home(turn.t._("That option is no longer available. Here is the main menu."))

    def _intent_of(self, text: str) -> Intent | None:
        found = self.understanding().detect_intent(text)
        return found[0] if found else None

    async def ask(self, text: str, language: str | None = None) -> Answer:
        """Understand a question without any session: for ``sportello ask`` and editors."""
        catalog = self._catalog()
        analysis = self.understanding().analyse(text[:MAX_TEXT_LENGTH])
        code = language if catalog.language(language) else None
        code = code or analysis.language or analysis.intent_language or catalog.default_language
        # Without the monitor: an editor trying questions is not a consultation.
        turn = self._turn(Session("ask", "ask", language=code))
        reply = await self._respond(turn, Incoming("ask", "ask", Kind.TEXT, text))
        intent = _public_intent(analysis)
        if turn.session.draft.get("deadline"):  # "scade il 12/03/2027": answered with dates
            intent = "deadlines"
        matches = analysis.matches if intent in ("topic", "unsure", "danger") else ()
        nearest = analysis.nearest if analysis.intent is None else None
        return Answer(code, intent, matches, reply[0].text if reply else "", nearest)


def _sorry(turn: Turn) -> Reply:
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
    if analysis.intent in (
        Intent.BOOKING,
        Intent.CANCEL,
        Intent.MY_APPOINTMENTS,
        Intent.MY_REMINDERS,
        Intent.CHECKLIST,
        Intent.HUMAN,
    ):
        return analysis.intent.value
    if analysis.intent is Intent.FORGET:
        return "human"  # a request about personal data: for the counter's eyes
    if analysis.intent is Intent.LANGUAGE:
        return "language"
    if analysis.intent is Intent.DEADLINES:
        return "deadlines"
    if analysis.intent is Intent.DANGER:
        return "danger"
    return "greeting"
