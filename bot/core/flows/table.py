"""This module contains the table of flows: which flow owns a session's state, and which
answers a choice.

Built once by the engine. A state no flow owns (a flow renamed one since the session was
stored, or a session written by hand) is browsing: the user is at the menus, nothing breaks.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from bot.core.flows.base import Flow
from bot.core.flows.booking import BookingFlow
from bot.core.flows.checklist import ChecklistFlow
from bot.core.flows.deadlines import DeadlineFlow
from bot.core.flows.erase import EraseFlow
from bot.core.flows.handover import HandoverFlow
from bot.core.flows.mine import MineFlow
from bot.core.flows.navigation import Navigation, NavigationState
from bot.core.flows.reminders import RemindersFlow
from bot.core.flows.requests import RequestFlow


class Flows:
    """Every flow of the dialogue, by name, and the routes to them."""

    def __init__(
        self,
        navigation: Navigation,
        booking: BookingFlow,
        requests: RequestFlow,
        handover: HandoverFlow,
        mine: MineFlow,
        erase: EraseFlow,
        checklist: ChecklistFlow | None = None,
        reminders: RemindersFlow | None = None,
        deadlines: DeadlineFlow | None = None,
    ) -> None:
        self.navigation = navigation
        self.booking = booking
        self.requests = requests
        self.handover = handover
        self.mine = mine
        self.erase = erase
        # It keeps nothing of its own: the one every table would build, unless given.
        self.checklist = checklist if checklist is not None else ChecklistFlow()
        #: Without the reminders' service (a test, ``sportello ask``) it says it cannot send any.
        self.reminders = reminders if reminders is not None else RemindersFlow(None)
        #: Without reminders (a test, ``sportello ask``), the dates are still computed.
        self.deadlines = deadlines if deadlines is not None else DeadlineFlow(None)
        self._states: dict[str, tuple[Flow[Any], StrEnum]] = {}
        self._choices: dict[str, Flow[Any]] = {}
        for flow in self.all():
            for state in flow.states:
                if state.value in self._states:
                    raise ValueError(f"two flows own the state {state.value!r}")
                self._states[state.value] = (flow, state)
            for prefix in flow.choices:
                if prefix in self._choices:
                    raise ValueError(f"two flows answer the choices {prefix!r}")
                self._choices[prefix] = flow
        # The longest beginning first: "bk:mine" is the list's, "bk:" the booking's.
        self._prefixes = sorted(self._choices, key=len, reverse=True)

    def all(self) -> tuple[Flow[Any], ...]:
        return (
            self.navigation,
            self.booking,
            self.requests,
            self.handover,
            self.mine,
            self.erase,
            self.checklist,
            self.reminders,
            self.deadlines,
        )

    def owner(self, state: str) -> tuple[Flow[Any], StrEnum]:
        """The flow that owns a stored state, and the state as that flow's enum."""
        return self._states.get(state) or (self.navigation, NavigationState.BROWSE)

    def for_choice(self, choice_id: str) -> Flow[Any] | None:
        """The flow that answers a choice id, by the longest beginning it declares."""
        for prefix in self._prefixes:
            if choice_id.startswith(prefix):
                return self._choices[prefix]
        return None
