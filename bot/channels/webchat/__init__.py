"""This module contains the web chat channel: a chat box for any web page, and a chat page.

The browser keeps a random token (no login, no cookie); the server knows only its hash, which
is the user's id. Messages go in as JSON posts and come back by long polling (see
:mod:`bot.channels.webchat.channel`).
"""

from bot.channels.webchat.channel import WebchatChannel
from bot.channels.webchat.requests import CHANNEL

__all__ = ["CHANNEL", "WebchatChannel"]
