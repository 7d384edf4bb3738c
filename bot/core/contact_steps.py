"""This module contains the name and phone steps that a booking and a request share.

Asked, checked (bot/core/details.py) and kept in the draft the same way in both dialogues;
on a channel whose user id is the phone number (WhatsApp) the phone step is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.core.details import PHONE_AGAIN, NameProblem, clean_name, name_error, normalise_phone
from bot.core.messages import Reply

if TYPE_CHECKING:
    from bot.core.turn import Turn


class ContactSteps:
    """Asks for the name, then the phone, then hands over to ``done`` (the summary)."""

    def __init__(
        self, turn: Turn, name_state: StrEnum, phone_state: StrEnum, done: Callable[[], Reply]
    ) -> None:
        self.turn = turn
        self.name_state = name_state
        self.phone_state = phone_state
        self.done = done

    def ask_name(self, text: str | None = None) -> Reply:
        self.turn.session.state = self.name_state
        prompt = text or self.turn.t._("Please write your name and surname.")
        return self.turn.reply(prompt, [self.turn.home_choice()])

    def typed(self, text: str) -> Reply:
        """The name or phone the step waiting for one was given."""
        draft = self.turn.session.draft
        if self.turn.session.state == self.name_state:
            name = clean_name(text)
            if isinstance(name, NameProblem):
                return self.ask_name(name_error(name, self.turn.t))
            draft["name"] = name
            if self.turn.reach.user_id_is_phone:  # WhatsApp: the number they write from
                draft["phone"] = self.turn.session.user_id
                return self.done()
            return self._ask_phone(
                self.turn.t._("Please write a phone number where the counter can call you.")
            )
        phone = normalise_phone(text)
        if phone is None:
            return self._ask_phone(self.turn.t._(PHONE_AGAIN))
        draft["phone"] = phone
        return self.done()

    def _ask_phone(self, text: str) -> Reply:
        self.turn.session.state = self.phone_state
        return self.turn.reply(text, [self.turn.home_choice()])
