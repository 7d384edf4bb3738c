"""This module contains the Channel interface: what every messaging channel offers the app,
and what the app hands every channel.

A channel is one adapter (Telegram, WhatsApp, e-mail, the web chat): it turns its platform's
messages into ``Incoming`` for the engine and the engine's replies and the outbox's notices
into its platform's calls. The composition root (``bot.app``) builds each configured channel
with its collaborators, the web app mounts the routes each declares, and nothing else names
a channel. Channels import no storage: the stores they use are the protocols below, the
concrete ones passed in by ``bot.app``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from starlette.routing import BaseRoute

from bot.core.messages import Incoming, Reply
from bot.notice import Notice
from bot.notify.worker import OutboxQueue
from bot.reach import Reach

__all__ = ["Channel", "Handler", "InboundStore", "OutboxStore", "Reach", "SeenStore"]


class Handler(Protocol):
    """The engine, as a channel sees it."""

    async def handle(self, incoming: Incoming) -> list[Reply]: ...

    async def language_of(self, channel: str, user_id: str) -> str: ...

    async def forget(self, channel: str, user_id: str) -> None: ...


class InboundStore(Protocol):
    """Messages received, kept until their turn is saved (a crash loses none), and the ids
    of those answered (a platform's retry is not answered twice)."""

    async def keep(self, channel: str, key: str, payload: dict[str, Any]) -> bool:
        """Store a message on arrival; False if it was seen or is in hand already."""
        ...

    async def done(self, channel: str, key: str) -> None:
        """The message's turn is saved: drop the stored copy, remember its key."""
        ...

    async def take_over(self, channel: str) -> list[tuple[str, dict[str, Any]]]:
        """Messages stored and never done with by an instance that died (a crash, a kill),
        or by an earlier run: now this instance's to answer."""
        ...

    async def answered(self, channel: str, key: str) -> bool:
        """The message's replies go in the platform's answer: done with it, in one trip;
        False if it was answered already (a redelivery racing the first)."""
        ...

    async def forget_copies(self) -> None:
        """Let the old copies of deleted messages leave the disk (an erasure was answered)."""
        ...


class SeenStore(Protocol):
    """When each user last wrote, and which messages were answered (WhatsApp's window)."""

    async def seen(self, channel: str, message_id: str) -> bool: ...

    async def touch(self, channel: str, user_id: str) -> None: ...

    async def last_inbound(self, channel: str, user_id: str) -> float | None: ...


class OutboxStore(OutboxQueue, Protocol):
    """The outbox as channels use it: their worker's queue, replies queued with the message
    they answer, and what the platform says of sent messages."""

    async def add(
        self,
        channel: str,
        recipient: str,
        replies: Sequence[Notice],
        in_reply_to: str | None = None,
    ) -> list[int] | None: ...

    async def add_notices(self, notices: Sequence[Notice]) -> int: ...

    async def known_provider_ids(self, channel: str, provider_ids: list[str]) -> set[str]: ...

    async def remember_parts(self, channel: str, recipient: str, part_ids: list[str]) -> None: ...

    async def mark_delivery_failed(self, provider_id: str, error: str) -> bool: ...


class Channel(Protocol):
    """One messaging channel, as the app runs it."""

    #: "telegram", "whatsapp", "webchat", "email": the outbox's, the sessions' and the
    #: monitoring's name for it.
    name: str
    reach: Reach

    def routes(self) -> Sequence[BaseRoute]:
        """The web routes it serves (webhooks, files); may be empty."""
        ...

    async def start(self) -> None:
        """Begin receiving and sending; returns soon (a platform that cannot be reached is
        tried again in the background, the rest of the bot goes on)."""
        ...

    async def stop(self) -> None:
        """Let what is on the wire finish, then stop; what is queued waits for the next start."""
        ...

    async def send(self, recipient: str, notice: Notice) -> str | None:
        """Send one notice to one recipient; the platform's id of it, or None.

        Raises ``bot.notify.worker.SendError`` (retry, refused, ...) when it does not go.
        """
        ...

    def wake(self) -> None:
        """Notices were queued: send them now."""
        ...

    def health(self) -> Mapping[str, object]:
        """What /healthz says of it, e.g. ``{"connected": True}``; ``degraded`` True makes
        the whole bot's status degraded."""
        ...
