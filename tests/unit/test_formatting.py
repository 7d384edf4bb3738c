"""Splitting long messages and converting the content markup, shared by every channel."""

from __future__ import annotations

import pytest

from bot.channels.formatting import split_message, to_html, to_plain


def test_short_text_is_one_part() -> None:
    assert split_message("hello\n\nworld", 100) == ["hello\n\nworld"]


def test_split_at_paragraphs() -> None:
    paragraphs = [f"paragraph {i} " + "x" * 30 for i in range(10)]
    parts = split_message("\n\n".join(paragraphs), 100)
    assert all(len(part) <= 100 for part in parts)
    assert "\n\n".join(parts) == "\n\n".join(
        paragraphs
    )  # nothing lost, cut only between paragraphs


def test_long_paragraph_splits_at_lines_then_words() -> None:
    lines = "\n".join(f"- line {i} with some words" for i in range(50))
    parts = split_message(lines, 120)
    assert all(len(part) <= 120 for part in parts)
    assert [line for part in parts for line in part.split("\n")] == lines.split("\n")
    words = " ".join(f"word{i}" for i in range(200))
    parts = split_message(words, 50)
    assert all(len(part) <= 50 for part in parts)
    assert " ".join(part.strip() for part in parts).split() == words.split()


@pytest.mark.parametrize("text", ["a" * 10_000, "🙂" * 5000, "x" * 99 + "\n\n" + "y" * 250])
def test_unbreakable_text_is_cut_without_losing_anything(text: str) -> None:
    parts = split_message(text, 100)
    assert all(len(part) <= 100 for part in parts)
    assert "".join(part.replace("\n", "") for part in parts) == text.replace("\n", "")


def test_custom_measure() -> None:
    def utf16(text: str) -> int:
        return len(text.encode("utf-16-le")) // 2

    parts = split_message("🙂" * 100, 50, utf16)
    assert all(utf16(part) <= 50 for part in parts)


def test_html_escapes_and_bolds() -> None:
    assert to_html("**Title** <b>x</b> & co") == "<b>Title</b> &lt;b&gt;x&lt;/b&gt; &amp; co"
    assert to_plain("**a** b") == "a b"
