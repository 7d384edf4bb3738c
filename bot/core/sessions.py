"""This module contains the conversation state kept for each (channel, user)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.core.messages import Choice

#: The state of a new session: at the menus (``NavigationState.BROWSE`` in ``flows/``).
BROWSE = "browse"


@dataclass
class Session:
    """One user's conversation. Stored as JSON so new fields never need a migration."""

    channel: str
    user_id: str
    language: str | None = None
    #: Where the user is: the value of a flow's state (``flows/table.py`` routes it to the
    #: flow that owns it). Stored as that string, so stored sessions outlive a refactoring.
    state: str = BROWSE
    node: str | None = None
    history: list[str] = field(default_factory=list)
    offered: list[Choice] = field(default_factory=list)
    #: A booking being made: service, office, day, start, name, phone (all text).
    draft: dict[str, str] = field(default_factory=dict)

    def dump(self) -> str:
        return json.dumps(
            {
                "language": self.language,
                "state": self.state,
                "node": self.node,
                "history": self.history,
                "offered": [[choice.id, choice.label] for choice in self.offered],
                "draft": self.draft,
            },
            ensure_ascii=False,
        )

    @classmethod
    def load(cls, channel: str, user_id: str, data: str) -> Session:
        """Rebuild a session; anything unreadable starts the user afresh rather than failing."""
        try:
            raw: Any = json.loads(data)
            return cls(
                channel=channel,
                user_id=user_id,
                language=raw.get("language"),
                state=str(raw.get("state", BROWSE)),
                node=raw.get("node"),
                history=[str(node) for node in raw.get("history", [])],
                offered=[Choice(str(i), str(label)) for i, label in raw.get("offered", [])],
                draft={str(k): str(v) for k, v in dict(raw.get("draft", {})).items()},
            )
        except (ValueError, TypeError, AttributeError):
            return cls(channel=channel, user_id=user_id)


class StateStore(Protocol):
    """Where sessions live between messages, as JSON text (SQLite in production)."""

    async def get(self, channel: str, user_id: str) -> str | None: ...

    async def put(self, channel: str, user_id: str, state: str) -> None: ...

    async def delete(self, channel: str, user_id: str) -> None: ...

    async def begin(self, channel: str, user_id: str) -> str | None:
        """Hold the user's turn against every other process answering them (waiting for it
        while one holds it), and read their state."""
        ...

    async def end(
        self, channel: str, user_id: str, state: str | None, processed: str | None = None
    ) -> None:
        """Save the state (None: nothing to save) and let go of the turn; with the state,
        mark the message stored as ``processed`` (``Incoming.stored_as``) processed."""
        ...


class MemoryStateStore:
    """Sessions in a dict: for tests and one-off runs such as ``sportello ask``."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], str] = {}

    async def get(self, channel: str, user_id: str) -> str | None:
        return self.data.get((channel, user_id))

    async def put(self, channel: str, user_id: str, state: str) -> None:
        self.data[(channel, user_id)] = state

    async def delete(self, channel: str, user_id: str) -> None:
        self.data.pop((channel, user_id), None)

    async def begin(self, channel: str, user_id: str) -> str | None:
        # One process: the engine's own lock keeps one user's turns in order.
        return await self.get(channel, user_id)

    async def end(
        self, channel: str, user_id: str, state: str | None, processed: str | None = None
    ) -> None:
        if state is not None:
            await self.put(channel, user_id, state)
