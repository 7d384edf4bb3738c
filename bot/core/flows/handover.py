"""This module contains the "talk to a person" dialogue: ask for the message, pass it on.

The conversation itself (staff replies, closing) is the counter's business,
``bot.booking.handover``; here the user writes, and learns that a person will answer.
Where staff cannot answer on the user's channel, the user gets the counter's contacts.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from bot.booking.handover import HandoverDesk
from bot.content.schema import Intent
from bot.core.counting import count_topic
from bot.core.messages import Choice, Kind, Reply

if TYPE_CHECKING:
    from bot.core.turn import Turn, Typed


class HandoverState(StrEnum):
    """Where a user is in a conversation with the counter."""

    ASK = "human:ask"  # asked for their message: the next text opens a conversation
    OPEN = "human:open"  # what the user types goes to the counter, until it is closed


HUMAN = "act:human"
END = "act:human:end"

#: Words that leave a conversation with the counter instead of being passed on.
LEAVE_CONVERSATION = frozenset({Intent.MENU, Intent.BACK, Intent.HELP, Intent.LANGUAGE})


class HandoverFlow:
    """Talk to a person: the message asked for, passed on, the conversation ended."""

    states = HandoverState
    choices = (HUMAN,)  # and END, which begins the same way

    def __init__(self, desk: HandoverDesk | None) -> None:
        self.desk = desk

    def available(self, turn: Turn) -> bool:
        """Whether staff can answer on this channel."""
        return self.desk is not None and self.desk.available(turn.session.channel)

    def choice(self, turn: Turn) -> Choice:
        """The "talk to a person" button, on menus and answers."""
        return Choice(HUMAN, turn.t._("Talk to a person"))

    async def start(self, turn: Turn) -> Reply:
        """Ask for the message to pass on (or give the counter's contacts)."""
        if not self.available(turn):
            return turn.contacts(turn.t._("You can talk to a person at the counter:"))
        reply = turn.reply(
            turn.t._(
                "Write your message for the counter's staff. A person will answer you here in "
                "this chat, during the counter's opening hours. Do not send documents or "
                "photos of documents."
            ),
            [turn.home_choice()],
        )
        turn.session.state = HandoverState.ASK
        return reply

    async def choose(self, turn: Turn, choice_id: str) -> Reply | None:
        if choice_id == HUMAN:
            return await self.start(turn)
        if choice_id == END and self.available(turn):
            return await self._end(turn)
        return None

    async def step(self, turn: Turn, state: HandoverState, typed: Typed) -> Reply | None:
        """What the user types goes to the counter: asked for, or in a conversation staff
        have not closed. Leaving for the menus ends that (until the counter answers again);
        a shared contact card is not a message."""
        if self.desk is None or not self.available(turn) or typed.kind is Kind.CONTACT:
            return None
        session = turn.session
        if state is HandoverState.OPEN and (
            await self.desk.current(session.channel, session.user_id) is None
        ):
            turn.browse()  # closed by staff meanwhile
            return None
        if typed.number is None and typed.intent in LEAVE_CONVERSATION:
            return None  # "thanks" and other words go through: they are for the counter
        danger = typed.number is None and typed.intent is Intent.DANGER
        sent = await self._send(turn, self.desk, turn.whole_text, danger)  # "2" answers too
        return await self._with_help(turn, sent) if danger else sent

    async def _with_help(self, turn: Turn, sent: Reply) -> Reply:
        """``sent``, followed by the help topic's answer (112, 1522...), counted as a
        consultation of that topic: the counter may answer only tomorrow."""
        topic = turn.catalog.topics.get(turn.understanding().danger_topic or "")
        if topic is None:
            return sent
        await count_topic(turn.monitor, turn.catalog, turn.session, turn.code, topic.id)
        help_text = turn.catalog.localize(topic.answer, turn.code).text
        return turn.reply(f"{sent.text}\n\n{help_text}", list(sent.choices))

    async def _send(self, turn: Turn, desk: HandoverDesk, text: str, danger: bool = False) -> Reply:
        session = turn.session
        new = await desk.ask(session.channel, session.user_id, turn.code, text, danger)
        if new:
            said = turn.t._(
                "Your message has been sent to the counter. A person will answer you here. "
                "You can keep writing: your messages go to the counter until the "
                "conversation is closed."
            )
        else:
            said = turn.t._("Sent to the counter.")
        reply = turn.reply(
            said, [Choice(END, turn.t._("End the conversation")), turn.home_choice()]
        )
        session.state = HandoverState.OPEN
        return reply

    async def _end(self, turn: Turn) -> Reply:
        assert self.desk is not None
        session = turn.session
        handover = await self.desk.current(session.channel, session.user_id)
        if handover is not None:
            await self.desk.close(handover.id, by_staff=False)
        return turn.home(turn.t._("You have ended the conversation with the counter."))
