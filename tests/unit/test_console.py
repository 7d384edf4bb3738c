"""The terminal chat's rendering and loop, on in-memory streams."""

from __future__ import annotations

import io

from bot.channels.console import ConsoleChannel, render
from bot.core.engine import Engine
from bot.core.messages import Choice, Reply
from bot.i18n import LRI, RLM


def test_render_numbers_choices_and_strips_bold() -> None:
    reply = Reply("**Title**\n\nBody", (Choice("a", "First"), Choice("b", "Second")))
    assert render(reply) == "Title\n\nBody\n\n1. First\n2. Second"
    assert "\033[1mTitle\033[0m" in render(reply, color=True)


def test_render_aligns_two_digit_numbers() -> None:
    reply = Reply("x", tuple(Choice(str(i), f"c{i}") for i in range(10)))
    assert render(reply).splitlines()[-1] == "10. c9"
    assert render(reply).splitlines()[2] == " 1. c0"


def test_render_right_to_left() -> None:
    shown = render(Reply("اتصل 0332 536727", (Choice("a", "رجوع"),), language="ar", rtl=True))
    assert shown.startswith(RLM)
    assert f"{LRI}0332 536727" in shown


async def test_scripted_conversation_until_end_of_input(engine: Engine) -> None:
    out = io.StringIO()
    await ConsoleChannel(engine, io.StringIO("1\n1\n"), out, language="it").run()
    text = out.getvalue()
    assert "Menu principale" in text
    assert "> 1\nPermesso di soggiorno" in text
    assert "Rinnovo del permesso\n\nChiedi il rinnovo" in text


async def test_without_language_it_asks_then_quits_on_command(engine: Engine) -> None:
    out = io.StringIO()
    await ConsoleChannel(engine, io.StringIO("fr\n/quit\nnever read\n"), out).run()
    text = out.getvalue()
    assert "1. Italiano" in text and "3. Français" in text
    assert "never read" not in text


async def test_each_run_starts_afresh(engine: Engine) -> None:
    await ConsoleChannel(engine, io.StringIO("2\n"), io.StringIO(), language="en").run()
    out = io.StringIO()
    await ConsoleChannel(engine, io.StringIO(""), out).run()
    assert "1. Italiano" in out.getvalue()  # the language question again
