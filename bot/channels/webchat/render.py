"""This module contains the web chat's messages as the browser receives them (JSON).

The text goes as runs of (text, bold) from the content markup, never as HTML: the browser
builds the message with text nodes, so nothing a user or an editor wrote can become markup.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from bot.content.markup import spans
from bot.core.messages import Reply


def reply_message(reply: Reply) -> dict[str, Any]:
    """A reply of the engine, for the browser."""
    message = _message(reply.text, [(c.id, c.label) for c in reply.choices], reply.language)
    message["rtl"] = reply.rtl
    if reply.attachments:
        message["files"] = [
            {
                "name": attachment.filename,
                "type": attachment.media_type,
                "data": base64.b64encode(attachment.data).decode("ascii"),
            }
            for attachment in reply.attachments
        ]
    if reply.forget:
        # The browser forgets its token and transcript once it has shown this one.
        message["forget"] = True
    return message


def notice_message(
    text: str, buttons: Sequence[Sequence[tuple[str, str]]], language: str, rtl: bool
) -> dict[str, Any]:
    """A notice (a reminder, a staff answer, a proposed time) for the browser: its buttons
    are choices like a menu's, answered as any other choice."""
    message = _message(text, [button for row in buttons for button in row], language)
    message["rtl"] = rtl
    return message


def _message(text: str, choices: Sequence[tuple[str, str]], language: str) -> dict[str, Any]:
    return {
        "text": [[run, bold] for run, bold in spans(text)],
        "choices": [[choice_id, label] for choice_id, label in choices],
        "language": language,
    }
