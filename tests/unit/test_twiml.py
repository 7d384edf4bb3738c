"""The webhook's TwiML answer: what twilio's own builder makes, for any text, in less time."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree

from hypothesis import example, given
from hypothesis import strategies as st
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.twiml import EMPTY, twiml

XML_CHARACTERS = st.characters(
    blacklist_categories=["Cs"], blacklist_characters=["\ufffe", "\uffff"]
).filter(lambda c: c in "\t\n\r" or c >= " ")


def _bodies(xml: str) -> list[str]:
    root = ElementTree.fromstring(xml)
    assert root.tag == "Response"
    return [message.findtext("Body", default="") or message.text or "" for message in root]


@given(st.lists(st.text(XML_CHARACTERS), min_size=1, max_size=4))
@example(["a < b && c > d", "]]> <![CDATA[ x", "*1.* Menu\n\n_Rispondi_"])
@example(["\u2067مرحبا\u2069 & \U0001f600", "'\"quoted\"'"])
def test_twiml_says_what_twilios_builder_says(bodies: list[str]) -> None:
    built = MessagingResponse()
    for body in bodies:
        built.message(body)
    assert _bodies(twiml(bodies)) == bodies
    # twilio's builder leaves a carriage return raw: XML reads it as a line feed.
    assert _bodies(built.to_xml()) == [b.replace("\r\n", "\n").replace("\r", "\n") for b in bodies]


@given(st.lists(st.text(), min_size=1, max_size=3))
@example(["Amina\x00\x07 Rossi\x1b", "\ud800 alone \uffff"])
def test_what_xml_cannot_hold_is_left_out_not_fatal(bodies: list[str]) -> None:
    """A control character typed in a name: the answer stays well-formed XML, and UTF-8."""
    xml = twiml(bodies)
    xml.encode("utf-8")
    kept = _bodies(xml)
    assert len(kept) == len(bodies)
    for body, text in zip(bodies, kept, strict=True):
        assert text == "".join(c for c in body if c in text)  # only characters taken out
    assert _bodies(twiml(["Amina\x00\x07 Rossi\x1b"])) == ["Amina Rossi"]


def test_no_replies_is_an_empty_answer() -> None:
    assert twiml([]) == EMPTY
    assert list(ElementTree.fromstring(EMPTY)) == []
