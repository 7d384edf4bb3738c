"""This module contains the reading of a date said from today: "in 3 weeks", "5 days ago",
"a week ago", "tra due mesi", "三周后", "next month".

A length ("3 weeks") is read with the words of one language at a time (``duration_words``):
"para" is "ago" in Albanian but "for" in Spanish, so "para 3 semanas" is no date. A date so
read is a day; "next month" is a month, and says so.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import TypeVar

from bot.deadlines.arithmetic import add_months
from bot.deadlines.duration_words import DURATION_WORDS, WORKING_DAYS, DurationWords, Unit
from bot.deadlines.folding import AFTER, BEFORE, CJK, NUM_BEFORE, alternatives, fold

_Value = TypeVar("_Value")

#: A count written in digits: "in 999 days" is already far beyond any permit.
_DIGITS = r"\d{1,3}"


@functools.cache
def numbers() -> dict[str, int]:
    """Every language's number words, folded, with their value."""
    return _merged(words.numbers for words in DURATION_WORDS.values())


@functools.cache
def units() -> dict[str, Unit]:
    """Every language's words for days, weeks and months, folded."""
    return _merged(words.units for words in DURATION_WORDS.values())


@functools.cache
def month_offsets() -> dict[str, int]:
    """ "next month", "this month", "last month" in every language, folded, with their
    distance in months from this one."""
    return _merged(words.months for words in DURATION_WORDS.values())


def _merged(tables: Iterable[Mapping[str, _Value]]) -> dict[str, _Value]:
    """One table of every language's words; a word two languages read differently would be
    read wrong in one of them, so it is refused here (and in the tests)."""
    merged: dict[str, _Value] = {}
    for table in tables:
        for word, value in table.items():
            folded = fold(word)
            if merged.setdefault(folded, value) != value:
                raise ValueError(f"{word!r} means two things in duration_words")
    return merged


@functools.cache
def length_patterns() -> tuple[re.Pattern[str], ...]:
    """For each language, the length with its words before ("in 3 weeks") and after ("3
    weeks ago"); groups: ``digits`` or ``number``, ``unit``, ``future`` or ``past``."""
    patterns: list[re.Pattern[str]] = []
    for words in DURATION_WORDS.values():
        span = _span(words)
        start, end, gap = (BEFORE, AFTER, r"\s+") if words.spaced else ("", "", r"\s*")
        before = _direction(words.future_before, words.past_before)
        after = _direction(words.future_after, words.past_after)
        if before:
            patterns.append(re.compile(rf"{start}(?:{before}){end}{gap}{span}{end}"))
        if after:
            patterns.append(re.compile(rf"{span}{end}{gap}(?:{after}){end}"))
    return tuple(patterns)


def _span(words: DurationWords) -> str:
    """A count and its unit: "3 weeks", "three weeks", "a week", "тиждень", "3周"."""
    working = alternatives(fold(word) for word in WORKING_DAYS)
    unit = (
        rf"(?P<unit>{alternatives(fold(word) for word in words.units)})"
        rf"(?!\s*(?:{working}){AFTER})"
    )
    if not words.spaced:
        return rf"{NUM_BEFORE}(?P<digits>{_DIGITS})\s*{unit}"
    number = alternatives(fold(word) for word in words.numbers)
    return (
        rf"(?:{NUM_BEFORE}(?P<digits>{_DIGITS})\s*|{BEFORE}(?P<number>{number})\s+|{BEFORE})"
        rf"{unit}"
    )


def _direction(future: tuple[str, ...], past: tuple[str, ...]) -> str:
    """The words that put a length in the future or the past, as named groups."""
    groups = []
    if future:
        groups.append(rf"(?P<future>{alternatives(fold(word) for word in future)})")
    if past:
        groups.append(rf"(?P<past>{alternatives(fold(word) for word in past)})")
    return "|".join(groups)


@functools.cache
def month_pattern() -> re.Pattern[str]:
    """ "next month" and its kind in any language; group: ``phrase``, or ``cjk`` for the
    Chinese phrases, which need no spaces around them."""
    spaced = alternatives(phrase for phrase in month_offsets() if not CJK.search(phrase))
    cjk = alternatives(phrase for phrase in month_offsets() if CJK.search(phrase))
    return re.compile(rf"{BEFORE}(?P<phrase>{spaced}){AFTER}|(?P<cjk>{cjk})")


def read_length(match: re.Match[str], today: date) -> date | None:
    """The date a length matched by :func:`length_patterns` points to, or None when the
    unit stands alone where it needs a number ("in weeks")."""
    unit = units()[match["unit"]]
    if match["digits"] is not None:
        count: int | None = int(match["digits"])
    elif match.groupdict().get("number") is not None:
        count = numbers()[match["number"]]
    else:
        count = unit.alone
    if count is None:
        return None
    signed = count * unit.size * (1 if match.groupdict().get("future") is not None else -1)
    if unit.counted_in == "months":
        return add_months(today, signed)
    return today + timedelta(days=signed)


def month_offset(match: re.Match[str]) -> int:
    """How many months from this one the phrase matched by :func:`month_pattern` names."""
    return month_offsets()[match["phrase"] or match["cjk"]]
