"""This package contains the channel adapters: platform messages to ``Incoming`` and back.

``ADAPTERS`` names every channel there is and where its adapter lives; a module is imported
only when its channel is configured (twilio and aiohttp alone take 13 MB of a process), so
the names can be listed (``sportello outbox retry --channel``) without loading any.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from bot.channels.base import Channel

#: Channel name -> (module, class) of its adapter; the class's ``name`` is the same.
ADAPTERS: dict[str, tuple[str, str]] = {
    "telegram": ("bot.channels.telegram", "TelegramChannel"),
    "whatsapp": ("bot.channels.whatsapp", "WhatsAppChannel"),
    "webchat": ("bot.channels.webchat", "WebchatChannel"),
    "email": ("bot.channels.email", "EmailChannel"),
}


def adapter(name: str) -> type[Channel]:
    """The adapter class of a channel, its module imported now."""
    module, attribute = ADAPTERS[name]
    return cast("type[Channel]", getattr(importlib.import_module(module), attribute))
