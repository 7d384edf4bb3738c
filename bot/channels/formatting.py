"""This module contains what every channel does to text: splitting long messages, markup."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

from bot.content.markup import plain, spans


def split_message(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` (as ``measure`` counts).

    Cuts at paragraph boundaries when it can, then at line ends, then at spaces, and only
    as a last resort inside a word.
    """
    if measure(text) <= limit:
        return [text]
    parts: list[str] = []
    current = ""
    for piece in _pieces(text, limit, measure):
        candidate = f"{current}{piece}" if current else piece.lstrip("\n")
        if measure(candidate.rstrip("\n")) <= limit:
            current = candidate
            continue
        if current.strip():
            parts.append(current.rstrip("\n"))
        current = piece.lstrip("\n")
    if current.strip():
        parts.append(current.rstrip("\n"))
    return parts


def _pieces(text: str, limit: int, measure: Callable[[str], int]) -> list[str]:
    """Paragraphs (with their separators), each broken further if it alone is too long."""
    pieces: list[str] = []
    for paragraph in re.split(r"(?<=\n\n)", text):
        if measure(paragraph.rstrip("\n")) <= limit:
            pieces.append(paragraph)
            continue
        for line in re.split(r"(?<=\n)", paragraph):
            if measure(line.rstrip("\n")) <= limit:
                pieces.append(line)
                continue
            pieces.extend(_hard_split(line, limit, measure))
    return pieces


def _hard_split(line: str, limit: int, measure: Callable[[str], int]) -> list[str]:
    chunks: list[str] = []
    current = ""
    for word in re.split(r"(?<= )", line):
        while measure(word) > limit:  # one "word" longer than a whole message: cut it
            if current:
                chunks.append(current)
                current = ""
            cut = min(len(word), limit)
            while cut > 1 and measure(word[:cut]) > limit:
                cut -= 1
            chunks.append(word[:cut])
            word = word[cut:]
        if current and measure(current + word) > limit:
            chunks.append(current)
            current = word
        else:
            current += word
    if current:
        chunks.append(current)
    # The next piece starts a new message, so each chunk must end a line.
    return [chunk if chunk.endswith("\n") else chunk + "\n" for chunk in chunks]


def to_html(text: str) -> str:
    """Content markup to Telegram HTML: everything escaped, ``**bold**`` to ``<b>``; typed
    text (``literal``) stays as typed, whatever it holds."""
    return "".join(
        f"<b>{html.escape(run, quote=False)}</b>" if bold else html.escape(run, quote=False)
        for run, bold in spans(text)
    )


def to_plain(text: str) -> str:
    return plain(text)
