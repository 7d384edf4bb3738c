"""Rendering replies for Telegram: HTML, keyboards within the callback-data limit, splitting."""

from __future__ import annotations

from bot.channels.telegram import CALLBACK_DATA_LIMIT, render
from bot.content.loader import load_catalog
from bot.core.messages import Choice, Reply
from tests.conftest import REPO_CONTENT


def test_keyboard_under_the_last_part_only() -> None:
    text = "\n\n".join("paragraph " + "x" * 1000 for _ in range(6))
    parts = render(Reply(text, (Choice("go:a", "A"), Choice("nav:home", "Home"))))
    assert len(parts) == 2
    assert parts[0][1] is None
    keyboard = parts[-1][1]
    assert keyboard is not None
    assert [row[0].callback_data for row in keyboard.inline_keyboard] == ["go:a", "nav:home"]


def test_html_is_escaped_and_bold_converted() -> None:
    ((html, keyboard),) = render(Reply("**Costi** < 100 & > 10"))
    assert html == "<b>Costi</b> &lt; 100 &amp; &gt; 10"
    assert keyboard is None


def test_every_content_id_fits_in_callback_data() -> None:
    catalog = load_catalog(REPO_CONTENT)
    for node_id in (*catalog.topics, *catalog.menus):
        assert len(f"go:{node_id}".encode()) <= CALLBACK_DATA_LIMIT, node_id


def test_right_to_left_replies_keep_their_html_intact() -> None:
    ((html, _),) = render(Reply("**Sportello Immigrati** مكتب 0332 536727", rtl=True))
    assert html.startswith("\u200f<b>")
    assert "</b>" in html and "\u20660332 536727\u2069" in html
