"""This module contains the TwiML answer to a Twilio webhook: the replies Twilio sends for us.

A live reply to the message in hand goes back in the webhook's answer, one ``<Message>`` per
WhatsApp message, in order: Twilio sends them as the reply, with no REST call of ours and no
outbox row. twilio's own builder (``twilio.twiml.messaging_response``) makes the same XML
through ElementTree at several times the CPU; this is a string template, escaped.

No ``<Media>``: the only file a reply links is an appointment's calendar (``text/calendar``),
which WhatsApp does not take as media; its link goes in the text, as through the REST API.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

EMPTY = "<Response/>"
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>'

#: What XML 1.0 cannot hold at all, escaped or not (most control characters, lone surrogates,
#: U+FFFE and U+FFFF): a name typed with one would make Twilio refuse the whole answer.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    # One scan each, in C; str.translate looks every character up in a dict, ten times the
    # time (#21). "&" first: the others' escapes hold one. A raw carriage return would reach
    # the message as a line feed (XML's end-of-line rule).
    value = _NOT_XML.sub("", value)
    return (
        value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def twiml(bodies: Iterable[str]) -> str:
    """The webhook's answer: Twilio sends each text as a message, in order; none, nothing."""
    messages = "".join(f"<Message><Body>{_text(body)}</Body></Message>" for body in bodies)
    return f"{_DECLARATION}<Response>{messages}</Response>" if messages else EMPTY
