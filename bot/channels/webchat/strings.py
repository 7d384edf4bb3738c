"""This module contains the chat box's own words (title, buttons, labels), from the catalogs."""

from __future__ import annotations

from bot.i18n import Translator


def widget_strings(t: Translator) -> dict[str, str]:
    """The interface strings of the chat box in the translator's language."""
    return {
        "title": t._("Chat with the help desk"),
        "open": t._("Open the chat"),
        "close": t._("Close the chat"),
        "input": t._("Type your message"),
        "send": t._("Send"),
        "new": t._("New message"),
        "log": t._("Conversation"),
        "offline": t._("Connection lost. Trying again…"),
    }
