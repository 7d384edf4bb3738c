"""The markup of replies and notices: our bold, and typed text that stays as typed."""

from __future__ import annotations

import gettext
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.booking.service import BookingDesk
from bot.channels.console import render as console_render
from bot.channels.email import compose
from bot.channels.formatting import to_html, to_plain
from bot.channels.whatsapp import render as whatsapp_render
from bot.channels.whatsapp import to_whatsapp
from bot.config import Settings
from bot.content.catalog import Catalog
from bot.content.markup import literal, plain, spans, strip_invisible, typed_name, typed_text
from bot.core.details import clean_name
from bot.core.messages import Reply
from bot.i18n import Translator
from bot.storage.appointments import AppointmentStore
from bot.storage.db import Database
from bot.storage.records import Appointment

ROME = ZoneInfo("Europe/Rome")
HOSTILE = "**Appuntamento annullato** \\*x\\* <b>y</b> *z* _w_ \\"


@pytest.mark.parametrize(
    ("markup", "runs"),
    [
        ("a **b** c", [("a ", False), ("b", True), (" c", False)]),
        ("**a**b**c**", [("a", True), ("b", False), ("c", True)]),
        ("a ** b", [("a ** b", False)]),
        ("****", [("****", False)]),
        ("**" + literal("a*b") + "**", [("a*b", True)]),
        (literal(HOSTILE), [(HOSTILE, False)]),
    ],
)
def test_spans(markup: str, runs: list[tuple[str, bool]]) -> None:
    assert spans(markup) == runs


def _spans_char_by_char(text: str, escaped: Callable[[str], str]) -> list[tuple[str, bool]]:
    """How ``spans`` read the markup before it used a regex: a Python step per character."""
    pieces: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(text):
        if text[index] == "\\" and text[index + 1 : index + 2] in ("\\", "*"):
            current.append(escaped(text[index + 1]))
            index += 2
        elif text.startswith("**", index):
            pieces.append("".join(current))
            current, index = [], index + 2
        else:
            current.append(text[index])
            index += 1
    pieces.append("".join(current))
    runs = [(pieces[0], False)]
    position = 1
    while position < len(pieces):
        if position + 1 < len(pieces) and pieces[position]:
            runs += [(pieces[position], True), (pieces[position + 1], False)]
            position += 2
        else:
            runs.append(("**" + pieces[position], False))
            position += 1
    merged: list[tuple[str, bool]] = []
    for run, bold in runs:
        if run and merged and merged[-1][1] == bold:
            merged[-1] = (merged[-1][0] + run, bold)
        elif run:
            merged.append((run, bold))
    return merged


@given(st.text(alphabet="ab *\\\n", max_size=40))
def test_spans_read_the_markup_as_a_reader_going_character_by_character(text: str) -> None:
    """The one-scan reading pairs stars and resolves escapes exactly as the step-by-step one."""
    marked = "<{}>".format
    assert spans(text, marked) == _spans_char_by_char(text, marked)
    assert spans(text) == _spans_char_by_char(text, str)


def test_typed_text_is_shown_as_typed_on_every_channel() -> None:
    markup = f"**Nuovo messaggio**\n\n{typed_text(HOSTILE)}"
    html = to_html(markup)
    assert html.count("<b>") == 1 and html.startswith("<b>Nuovo messaggio</b>")
    assert "**Appuntamento annullato** \\*x\\* &lt;b&gt;y&lt;/b&gt; *z* _w_ \\" in html
    assert to_plain(markup) == plain(markup) == f"Nuovo messaggio\n\n{HOSTILE}"
    whatsapp = to_whatsapp(markup)
    assert whatsapp.startswith("*Nuovo messaggio*\n\n")
    # WhatsApp has no escape: typed stars become look-alikes, so nothing typed turns bold.
    assert whatsapp.count("*") == 2 and "∗∗Appuntamento annullato∗∗" in whatsapp
    (message,) = whatsapp_render(Reply(markup), "hint")
    assert message == whatsapp
    assert console_render(Reply(markup)) == f"Nuovo messaggio\n\n{HOSTILE}"
    email = compose(Settings(), "staff@example.org", markup)
    assert email.get_content() == f"Nuovo messaggio\n\n{HOSTILE}\n"


def test_bidi_controls_and_invisible_characters_leave_names() -> None:
    spoofed = "\u202eAmina\u2066 Ro\u200bssi\u00ad\u200e\u200f\u061c\ufeff\x00"
    assert strip_invisible(spoofed) == "Amina Rossi"
    assert clean_name(spoofed) == "Amina Rossi"
    # Joiners are how Persian, Urdu and Bengali names are written: they stay.
    assert clean_name("مه\u200cدی") == "مه\u200cدی"
    assert typed_name(None) == typed_name("\u202e") == "-"
    assert typed_name("**Staff**\u202e") == literal("**Staff**")


def test_messages_lose_only_the_controls_that_reorder_what_follows() -> None:
    assert typed_text("abc\u202edef\u2067ghi\u200f") == "abcdefghi\u200f"


async def test_a_name_stored_before_it_was_cleaned_reaches_staff_as_typed(
    catalog: Catalog, tmp_path: Path
) -> None:
    start = datetime(2026, 11, 25, 9, tzinfo=ROME)
    appointment = Appointment(
        "LU-AAAA",
        "luino",
        "permit_renewal",
        start,
        start,
        "telegram",
        "1",
        "**Annullato**\u202e Amina",
        "+393331234567",
        "it",
        "active",
    )
    async with Database(tmp_path / "bot.sqlite3") as database:
        desk = BookingDesk(AppointmentStore(database), ROME)
        italian = Translator("it", gettext.NullTranslations())
        html = to_html(desk.staff_text(catalog, "📅 Nuovo appuntamento", appointment, italian))
    assert "**Annullato** Amina, +393331234567" in html and "<b>" not in html
