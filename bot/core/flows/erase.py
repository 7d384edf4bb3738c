"""This module contains "erase my data": asked for in words, confirmed with one tap.

The erasure itself (sessions, appointments, requests, conversations, shared questions,
deadline reminders) is the composition root's ``erase``; here the user is asked, and told.
After it, nothing of the user may be stored again, not even the session: the turn says so
with ``erased``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.core.messages import Choice, Reply

if TYPE_CHECKING:
    from bot.core.turn import Turn, Typed


class EraseState(StrEnum):
    """None: the question is a button, and the answer is the next tap."""


ERASE = "act:erase"


class EraseFlow:
    """The question, and the erasure once the user confirms it."""

    states = EraseState
    choices = (ERASE,)

    def __init__(self, erase: Callable[[str, str], Awaitable[object]] | None) -> None:
        self._erase = erase

    def available(self) -> bool:
        return self._erase is not None

    async def start(self, turn: Turn) -> Reply:
        return turn.reply(
            turn.t._(
                "Do you want to delete everything this chat keeps about you (conversation, "
                "appointments, reminders, phone number)? Your future appointments will be "
                "cancelled."
            ),
            [Choice(ERASE, turn.t._("Yes, delete my data")), turn.home_choice()],
        )

    async def choose(self, turn: Turn, choice_id: str) -> Reply | None:
        if choice_id != ERASE or self._erase is None:
            return None
        await self._erase(turn.session.channel, turn.session.user_id)
        turn.erased = True
        return Reply(
            turn.t._("Your data has been deleted. Write again whenever you need."),
            language=turn.code,
            rtl=turn.catalog.is_rtl(turn.code),
            forget=True,
        )

    async def step(self, turn: Turn, state: EraseState, typed: Typed) -> Reply | None:
        return None  # no state of its own: never asked
