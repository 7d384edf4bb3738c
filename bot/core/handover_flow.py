"""This module contains the "talk to a person" dialogue: ask for the message, pass it on.

The conversation itself (staff replies, closing) is the counter's business,
``bot.booking.handover``; here the user writes, and learns that a person will answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.booking.handover import HandoverDesk
from bot.core.messages import Choice, Reply
from bot.core.sessions import State

if TYPE_CHECKING:
    from bot.core.engine import _Turn

ASK = "human:ask"  # the session state: the next text opens a conversation with the counter
OPEN = "human:open"  # the session state: what the user types goes to the counter
END = "act:human:end"


class HandoverFlow:
    def __init__(self, turn: _Turn, desk: HandoverDesk) -> None:
        self.turn = turn
        self.desk = desk
        self.t = turn.t

    def start(self) -> Reply:
        """Ask for the message to pass on."""
        reply = self.turn.reply(
            self.t._(
                "Write your message for the counter's staff. A person will answer you here in "
                "this chat, during the counter's opening hours. Do not send documents or "
                "photos of documents."
            ),
            [self.turn._home_choice()],
        )
        self.turn.session.state = ASK
        return reply

    async def wants(self, text: str) -> bool:
        """Whether this text is for the counter: the user was asked for it, or is in a
        conversation that staff have not closed. Leaving for the menus ends that (until the
        counter answers again)."""
        session = self.turn.session
        if session.state == ASK:
            return True
        if session.state != OPEN:
            return False
        if await self.desk.current(session.channel, session.user_id) is None:
            session.state = State.BROWSE  # closed by staff meanwhile
            return False
        return True

    async def send(self, text: str) -> Reply:
        session = self.turn.session
        new = await self.desk.ask(session.channel, session.user_id, self.turn.code, text)
        if new:
            said = self.t._(
                "Your message has been sent to the counter. A person will answer you here. "
                "You can keep writing: your messages go to the counter until the "
                "conversation is closed."
            )
        else:
            said = self.t._("Sent to the counter.")
        reply = self.turn.reply(
            said,
            [Choice(END, self.t._("End the conversation")), self.turn._home_choice()],
        )
        session.state = OPEN
        return reply

    async def end(self) -> Reply:
        session = self.turn.session
        handover = await self.desk.current(session.channel, session.user_id)
        if handover is not None:
            await self.desk.close(handover.id, by_staff=False)
        return self.turn.home(self.t._("You have ended the conversation with the counter."))
