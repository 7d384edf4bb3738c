"""This module contains the markup replies and notices are written in, and how text that
people typed (a name, a message, a staff reply) goes into it so that it shows as typed.

The markup is the content's: ``**bold**``, and a backslash before ``*`` or ``\\`` makes that
character plain. Channels read it with ``spans`` and render each run their own way (Telegram
HTML, WhatsApp's ``*bold*``, plain e-mail). Typed text goes in through ``literal`` (or
``typed_name`` / ``typed_text``), so that a name written as ``**Staff**`` never becomes one of
our bold headings.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

BOLD = "**"
_ESCAPE = "\\"
_ESCAPABLE = frozenset("\\*")
#: What the markup reads: a backslash before ``\`` or ``*``, or a ``**``.
_TOKENS = re.compile(r"\\[\\*]|\*\*")
#: Joiners are part of how Persian, Urdu and Bengali names (and emoji) are written: kept.
_JOINERS = frozenset("\u200c\u200d")
#: Controls that reorder the text after them (embeddings, overrides, isolates): in a message
#: they could make our own words around it read backwards. Marks (LRM, RLM, ALM) are kept in
#: messages: they only steer the text they sit in.
_BIDI_REORDERING = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def literal(text: str) -> str:
    """Typed text as markup that shows exactly that text: its stars make nothing bold."""
    return "".join(_ESCAPE + char if char in _ESCAPABLE else char for char in text)


def strip_invisible(text: str) -> str:
    """The text without invisible format characters (bidirectional controls such as U+202E,
    zero-width spaces, soft hyphens...) and control characters, joiners kept. For names: what
    staff read is what the person wrote, in its natural direction."""
    return "".join(
        char
        for char in text
        if char in _JOINERS or char.isspace() or unicodedata.category(char) not in ("Cf", "Cc")
    )


def typed_name(name: str | None, missing: str = "-") -> str:
    """A name a person typed, as markup (names stored before they were cleaned included)."""
    cleaned = strip_invisible(name or "").strip()
    return literal(cleaned) if cleaned else missing


def typed_text(text: str) -> str:
    """A message a person typed, as markup: shown literally, without controls that reorder
    what follows it."""
    return literal("".join(char for char in text if char not in _BIDI_REORDERING))


def spans(text: str, escaped: Callable[[str], str] = str) -> list[tuple[str, bool]]:
    """The markup as runs of (text, bold), escapes resolved. ``**`` pairs up in order; one
    left without a partner, or a pair around nothing, is shown as it is. ``escaped`` gives
    what an escaped character becomes (a channel whose own markup uses ``*`` may change it)."""
    pieces: list[str] = []  # text between the ``**``: even places plain, odd ones inside
    current: list[str] = []
    position = 0
    # Left to right, as a reader pairs them: an escape first, then a ``**`` (one regex scan,
    # not a Python step per character: every reply's text goes through here).
    for token in _TOKENS.finditer(text):
        current.append(text[position : token.start()])
        if token.group() == BOLD:
            pieces.append("".join(current))
            current = []
        else:
            current.append(escaped(token.group()[1]))
        position = token.end()
    current.append(text[position:])
    pieces.append("".join(current))
    runs: list[tuple[str, bool]] = [(pieces[0], False)]
    position = 1
    while position < len(pieces):
        inside = pieces[position]
        if position + 1 < len(pieces) and inside:
            runs += [(inside, True), (pieces[position + 1], False)]
            position += 2
        else:  # a ``**`` with no partner, or a pair around nothing: shown as it is
            runs.append((BOLD + inside, False))
            position += 1
    return _merged(runs)


def _merged(runs: list[tuple[str, bool]]) -> list[tuple[str, bool]]:
    merged: list[tuple[str, bool]] = []
    for text, bold in runs:
        if not text:
            continue
        if merged and merged[-1][1] == bold:
            merged[-1] = (merged[-1][0] + text, bold)
        else:
            merged.append((text, bold))
    return merged


def plain(text: str) -> str:
    """The markup as plain text: bold marks dropped, escapes resolved (e-mail, lengths)."""
    return "".join(run for run, _ in spans(text))
