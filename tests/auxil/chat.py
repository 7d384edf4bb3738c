"""A scripted conversation with the engine, as a test would have it."""

from __future__ import annotations

from bot.core.engine import Engine
from bot.core.messages import Incoming, Kind, Reply


class Conversation:
    """Talks to an engine as one user; remembers the last reply."""

    def __init__(self, engine: Engine, user_id: str = "u1", channel: str = "test") -> None:
        self.engine = engine
        self.user_id = user_id
        self.channel = channel
        self.last: Reply | None = None

    async def send(
        self,
        text: str = "",
        kind: Kind = Kind.TEXT,
        choice_id: str | None = None,
        hint: str | None = None,
    ) -> Reply:
        incoming = Incoming(self.channel, self.user_id, kind, text, choice_id, hint)
        replies = await self.engine.handle(incoming)
        assert replies, "the engine must always answer"
        self.last = replies[-1]
        return self.last

    async def start(self, hint: str | None = None) -> Reply:
        return await self.send("start", Kind.COMMAND, hint=hint)

    async def press(self, choice_id: str) -> Reply:
        return await self.send(kind=Kind.CHOICE, choice_id=choice_id)

    def labels(self) -> list[str]:
        assert self.last is not None
        return [choice.label for choice in self.last.choices]

    def ids(self) -> list[str]:
        assert self.last is not None
        return [choice.id for choice in self.last.choices]
