"""This module contains what a flow is: its states, the choices it answers, three steps.

Modelled on aiogram's ``StatesGroup``: each flow lists its states in one enum, whose values
are the strings sessions store (so a stored session resumes after an upgrade as long as the
values stay). The engine knows flows only through this protocol and ``table.Flows``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Protocol, TypeVar

from bot.core.messages import Reply

if TYPE_CHECKING:
    from bot.core.turn import Turn, Typed

S = TypeVar("S", bound=StrEnum, contravariant=True)


class Flow(Protocol[S]):
    """One dialogue: where it starts, the buttons it answers, the typed answers it waits for."""

    #: Where a user can be in this flow between two messages (may be empty: a flow whose
    #: every step is a button keeps no state).
    @property
    def states(self) -> type[StrEnum]: ...

    #: The beginnings of the choice ids this flow answers ("bk:", "act:human").
    @property
    def choices(self) -> tuple[str, ...]: ...

    async def start(self, turn: Turn) -> Reply:
        """The flow's first screen (or the counter's contacts, when it is not offered)."""
        ...

    async def choose(self, turn: Turn, choice_id: str) -> Reply | None:
        """A pressed (or typed) choice of this flow's; None when it is stale or unknown."""
        ...

    async def step(self, turn: Turn, state: S, typed: Typed) -> Reply | None:
        """A typed answer while the session is in one of this flow's states; None when the
        text is not for this flow (a way out such as "menu", or another request)."""
        ...
