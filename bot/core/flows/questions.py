"""This module contains the questions people write in their own words: understood, answered
with a topic, "did you mean" topics, or an honest "not found" — and then, if the user agrees
with one tap, the question shared with the counter's editors.

Part of navigation (``navigation.py`` holds it): a text no flow waited for is a question.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Protocol

from bot.content.schema import Intent
from bot.core.counting import count_question, count_topic
from bot.core.messages import Choice, Reply
from bot.core.understanding import Analysis

if TYPE_CHECKING:
    from bot.core.turn import Turn

SHARE = "act:share"  # share the question nobody answered with the counter's editors

# A question nobody answered waits this long, in memory only, for the user to agree to share it.
SHARE_WAIT_SECONDS = 3600.0
SHARE_WAITING_MAX = 10_000  # questions waiting at once (a burst cannot grow memory without end)


class QuestionBox(Protocol):
    """Where questions go that users agreed to share (SQLite in production)."""

    keep_days: int  # how long a shared question is kept, as the user is told

    async def share(
        self, channel: str, user_id: str, language: str, text: str, nearest_topic: str | None
    ) -> None: ...


@dataclass(frozen=True)
class Unanswered:
    """A question the bot found no answer to, waiting for the user's consent to share it."""

    text: str
    language: str
    nearest_topic: str | None
    asked_at: float


class Questions:
    """Free text understood and answered; unanswered questions offered to the editors."""

    def __init__(self, box: QuestionBox | None) -> None:
        self.box = box
        # Not stored anywhere before the user agrees: a restart forgets them, which is fine.
        self._waiting: OrderedDict[tuple[str, str], Unanswered] = OrderedDict()

    def take(self, channel: str, user_id: str) -> Unanswered | None:
        """The user's last unanswered question, taken: it can be shared this turn or never."""
        question = self._waiting.pop((channel, user_id), None)
        if question is None or time.monotonic() - question.asked_at > SHARE_WAIT_SECONDS:
            return None
        return question

    def _await_consent(self, channel: str, user_id: str, question: Unanswered) -> None:
        self._waiting[(channel, user_id)] = question
        self._waiting.move_to_end((channel, user_id))
        while len(self._waiting) > SHARE_WAITING_MAX:
            self._waiting.popitem(last=False)

    async def answer(self, turn: Turn, text: str) -> Reply:
        """The answer to a question in free text (or to a navigation word in it)."""
        deadlines = turn.flows.deadlines
        analysis = turn.understanding().analyse(text)
        if analysis.intent is Intent.DANGER:
            helped = await self._in_danger(turn, analysis, text)
            if helped is not None:
                return self._in_their_language(turn, analysis, helped)
            analysis = replace(analysis, intent=None)
        # "My permit expires on 12/03/2027": the deadline and its date, answered at once.
        dated = await deadlines.answer_text(turn, text)
        if dated is not None:
            return dated
        await count_question(turn.monitor, turn.session, turn.code, analysis)
        lived = None
        # "My husband arrived and hits me" is the topic's, whatever deadline words it holds:
        # without a date, the dialogue would only ask a question where help is needed.
        if analysis.intent in (None, Intent.DEADLINES) and not deadlines.elsewhere(turn, analysis):
            lived = deadlines.situation(turn, text)
        reply = lived or await self._understood(turn, analysis, text)
        if (
            lived is None
            and analysis.intent is None
            and not analysis.confident
            and not analysis.matches
        ):
            reply = self._offer_to_share(turn, reply, text, analysis)
        return self._in_their_language(turn, analysis, reply)

    def _in_their_language(self, turn: Turn, analysis: Analysis, reply: Reply) -> Reply:
        """``reply``, with a button to switch to the language the message is clearly in."""
        navigation = turn.flows.navigation
        switch = turn.catalog.language(analysis.language)
        if switch is None or switch.code == turn.code or navigation.choosing_language(turn):
            return reply
        # Written clearly in another enabled language: answer as chosen, offer to switch.
        offer = navigation.language_choice(switch, "🌐 ")
        return turn.reply(reply.text, [offer, *reply.choices])

    async def _in_danger(self, turn: Turn, analysis: Analysis, text: str) -> Reply | None:
        """A message with a sign of danger ("my husband arrived last month and hits me"): the
        help topic, whatever else it asks; the topic that other matter is about is offered
        after the help's own buttons. None: the content has no such topic (any more)."""
        understanding = turn.understanding()
        topic = understanding.danger_topic
        if topic is None or topic not in turn.catalog.topics:
            return None
        await count_topic(turn.monitor, turn.catalog, turn.session, turn.code, topic)
        others = [match.topic for match in analysis.matches if match.topic != topic]
        helped = turn.flows.navigation.open(turn, topic, tuple(others[:1]))
        asked = understanding.detect_intent(text, signs=False)
        if asked is not None and asked[0] is Intent.BOOKING:
            # "I want an appointment, he hits me": the help, and the appointment a tap away.
            # As a reply of the turn: a number typed next (on WhatsApp) picks among them.
            choices = turn.flows.navigation.before_back(
                helped.choices, turn.flows.booking.choice(turn)
            )
            return turn.reply(helped.text, choices)
        if asked is None or asked[0] is not Intent.FORGET or not turn.flows.erase.available():
            return helped
        # "Delete my data, he reads my phone": the help, then the erasure's own question.
        question = await turn.flows.erase.start(turn)
        return turn.reply(
            f"{helped.text}\n\n{question.text}", [*question.choices[:1], *helped.choices]
        )

    async def _understood(self, turn: Turn, analysis: Analysis, text: str) -> Reply:
        if analysis.intent is not None:
            return await self._intent(turn, analysis.intent, text)
        navigation, t = turn.flows.navigation, turn.t
        # While new content trains, the understanding of the previous content answers: a topic
        # it names may be gone since.
        matches = [match for match in analysis.matches if match.topic in turn.catalog.topics]
        if analysis.confident and matches and matches[0] == analysis.matches[0]:
            intent = turn.catalog.topics[matches[0].topic].intent
            if intent is Intent.DEADLINES:
                return await turn.flows.deadlines.start(turn, text)  # "quando devo rinnovare?"
            if intent is Intent.CHECKLIST:
                return await turn.flows.checklist.start(turn)  # "documents to bring": the list
            return navigation.open(turn, matches[0].topic)
        person = turn.flows.handover.choice(turn)
        if matches:
            choices = [navigation.node_choice(turn, m.topic) for m in matches]
            return turn.reply(
                t._("I am not sure I understood. Did you mean one of these?"),
                [*choices, turn.home_choice(), person],
            )
        return turn.reply(
            t._(
                "Sorry, I did not find an answer to that. Try other words, choose from the "
                "menu, or talk to a person at the counter."
            ),
            [*navigation.root_choices(turn), person],
        )

    def _offer_to_share(self, turn: Turn, reply: Reply, text: str, analysis: Analysis) -> Reply:
        """After "I did not understand": may the counter read this question? One tap, or not."""
        if self.box is None or turn.session.channel == "ask":
            return reply  # `sportello ask` is an editor trying questions: nothing to share
        nearest = analysis.nearest.topic if analysis.nearest else None
        self._await_consent(
            turn.session.channel,
            turn.session.user_id,
            Unanswered(turn.whole_text or text, turn.code, nearest, time.monotonic()),
        )
        share = Choice(SHARE, turn.t._("Share my question with the counter"))
        return turn.reply(reply.text, [share, *reply.choices])

    async def share(self, turn: Turn) -> Reply:
        """The user agreed: their last unanswered question goes to the editors."""
        question = turn.unanswered
        if self.box is None or question is None:
            return turn.home(turn.t._("That option is no longer available. Here is the main menu."))
        await self.box.share(
            turn.session.channel,
            turn.session.user_id,
            question.language,
            question.text,
            question.nearest_topic,
        )
        return turn.home(
            turn.t._(
                "Thank you. The counter's editors will read your question to improve the "
                "answers. It is kept for {days} days, and deleted at once if you ask to erase "
                "your data."
            ).format(days=self.box.keep_days)
        )

    async def _intent(self, turn: Turn, intent: Intent, text: str) -> Reply:
        """A navigation or request word: the screen or the flow it asks for."""
        navigation, flows = turn.flows.navigation, turn.flows
        if intent is Intent.MENU:
            return navigation.home(turn)
        if intent is Intent.BACK:
            return navigation.back(turn)
        if intent is Intent.HELP:
            return navigation.help(turn)
        if intent is Intent.LANGUAGE:
            return navigation.language_menu(turn)
        if intent is Intent.GREETING:
            return navigation.home(turn, navigation.welcome(turn))
        if intent is Intent.THANKS:
            return turn.again(turn.t._("You are welcome! Anything else?"))
        if intent is Intent.HUMAN:
            return await flows.handover.start(turn)
        if intent is Intent.BOOKING:
            return await flows.booking.start(turn)
        if intent is Intent.DEADLINES:
            return await flows.deadlines.start(turn, text)
        if intent is Intent.FORGET and flows.erase.available():
            return await flows.erase.start(turn)
        if intent is Intent.MY_REMINDERS:
            return await flows.reminders.start(turn)
        if intent is Intent.CHECKLIST:
            return await flows.checklist.start(turn)
        return await flows.mine.start(turn)  # cancel, my appointments (or erase, not offered)
