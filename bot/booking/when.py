"""This module contains days and times as people type them, in every enabled language.

"mercoledì", "domani", "2 dicembre", "12/12", "9:30", "pomeriggio", "le 2 décembre à 10h",
"الأربعاء", "12月2日 下午": the names come from Babel's locale data (day and month names,
"tomorrow", the parts of the day), never from lists written here, so a language added to the
bot is understood as far as its locale data goes. Digits of any script count.

The reader only says what the text names; whether that day or time is free is for the flow.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from typing import Literal, TypeVar

from babel import Locale, UnknownLocaleError, dates

from bot.content.text import has_cjk, normalise
from bot.i18n import N_, Translator

MORNING, AFTERNOON = "morning", "afternoon"
#: Where the afternoon begins: a counter's morning often runs to 12:30.
AFTERNOON_FROM = time(13, 0)
_PERIODS = {"am": MORNING, "pm": AFTERNOON, "morning": MORNING, "afternoon": AFTERNOON}
RELATIVE_DAYS = (0, 1, 2)  # today, tomorrow, the day after tomorrow (where the locale names it)

_TIME = re.compile(r"(?<![\d/.-])(\d{1,2})\s*(?::|h|\.)\s*(\d{2})(?![\d/.])", re.IGNORECASE)
_HOUR_H = re.compile(r"(?<![\d/.:])(\d{1,2})\s*h(?![a-z\d])", re.IGNORECASE)
_AM_PM = re.compile(
    r"(?<![\d:])(\d{1,2})(?:\s*[:.]\s*(\d{2}))?\s*([ap])\.?\s*m\b\.?", re.IGNORECASE
)
_NUMERIC_DATE = re.compile(
    r"(?<![\d:])(\d{1,2})\s*[/.-]\s*(\d{1,2})(?:\s*[/.-]\s*(\d{2}|\d{4}))?(?![\d:])"
)
_NUMBER = re.compile(r"(?<!\d)(\d{1,2})(?!\d)")


#: Labels of the parts of the day (buttons), also understood when typed: they fill the gaps in
#: the locale data (Spanish and Ukrainian have no names there for the morning).
PART_LABELS = {MORNING: N_("Morning"), AFTERNOON: N_("Afternoon")}


def part_of(moment: time) -> str:
    """Whether a time of day is in the morning or the afternoon."""
    return MORNING if moment < AFTERNOON_FROM else AFTERNOON


@dataclass(frozen=True)
class Said:
    """What a typed text names: a day, a time, a part of the day, weekdays."""

    day: date | None = None
    #: Hour and minute; the minute is None when only the hour was said ("alle 10", "10h").
    clock: tuple[int, int | None] | None = None
    part: str | None = None
    weekdays: frozenset[int] = field(default_factory=frozenset)  # 0 Monday ... 6 Sunday

    @property
    def anything(self) -> bool:
        return bool(self.day or self.clock or self.part or self.weekdays)


def fold_digits(text: str) -> str:
    """Digits of any script ("١٢", "۱۲", "１２", "১২") as ASCII digits."""
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        str(unicodedata.decimal(char)) if unicodedata.decimal(char, None) is not None else char
        for char in text
    )


def _words(text: str) -> list[str]:
    """Normalised words; the Arabic article is dropped, as the search does."""
    return [
        word[2:] if word.startswith("ال") and len(word) >= 5 else word
        for word in normalise(text).split()
    ]


def _find(phrase: Sequence[str], words: Sequence[str]) -> int | None:
    """Where ``phrase`` (words) starts in ``words``, or None."""
    size = len(phrase)
    for start in range(len(words) - size + 1):
        if list(words[start : start + size]) == list(phrase):
            return start
    return None


T = TypeVar("T")
Phrases = tuple[tuple[tuple[str, ...], T], ...]


@dataclass(frozen=True)
class _Names:
    """One language's names, normalised: weekdays, months, relative days, parts of the day."""

    weekdays: Phrases[int]
    months: Phrases[int]
    relative: Phrases[int]
    parts: Phrases[str]
    day_first: bool


def _locale(code: str) -> Locale:
    """The language as written in Italy where Babel knows it (en_IT: 12/11 is 12 November)."""
    for name in (f"{code}_IT", code):
        try:
            return Locale.parse(name)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse("it")


def _phrases(values: Iterable[tuple[str, T]]) -> Phrases[T]:
    """Normalised phrases, longest first (so "dopodomani" wins over "domani"), no repeats."""
    seen: dict[tuple[str, ...], T] = {}
    for text, value in values:
        words = tuple(_words(text))
        if words and words not in seen:
            seen[words] = value
    return tuple(sorted(seen.items(), key=lambda item: -sum(map(len, item[0]))))


def _short_form(name: str) -> str:
    """A name without its leading small words: "mattina" in "di mattina", "mërkurë" in
    "e mërkurë", "صباح" in "في الصباح". Kept whole when its last word is small too ("صبح
    میں": the small word there is a postposition, and alone it means "in")."""
    words = _words(name)
    while len(words) > 1 and len(words[0]) <= 3 and len(words[-1]) > 3:
        words = words[1:]
    return " ".join(words)


@functools.cache
def _names(code: str) -> _Names:
    locale = _locale(code)
    weekdays: list[tuple[str, int]] = []
    months: list[tuple[str, int]] = []
    month_abbreviations: set[str] = set()
    contexts: tuple[Literal["format", "stand-alone"], ...] = ("format", "stand-alone")
    for context in contexts:
        for number, name in dates.get_month_names("wide", context, locale).items():
            months.append((name, int(number)))
        for number, name in dates.get_month_names("abbreviated", context, locale).items():
            months.append((name, int(number)))
            month_abbreviations.add(normalise(name))
    for context in contexts:
        for number, name in dates.get_day_names("wide", context, locale).items():
            weekdays += [(name, int(number)), (_short_form(name), int(number))]
        for number, name in dates.get_day_names("abbreviated", context, locale).items():
            # "mar" is both martedì and marzo in Italian: an abbreviation that is also a
            # month's names no day.
            if normalise(name) not in month_abbreviations:
                weekdays.append((name, int(number)))
    relative = []
    for offset in RELATIVE_DAYS:
        name = dates.get_relative_name("day", offset, locale=locale)
        if name:
            relative.append((name, offset))
    parts: list[tuple[str, str]] = []
    for context in ("stand-alone", "format"):
        periods = locale.day_periods.get(context, {}).get("wide", {})
        for key, name in periods.items():
            part = _PERIODS.get(key) or _PERIODS.get(key.rstrip("0123456789"))
            if part is None or (key in ("am", "pm") and len(normalise(name)) <= 4):
                continue  # "AM", "a. m.": abbreviations that ordinary words contain
            parts += [(name, part), (_short_form(name), part)]
    pattern = locale.date_formats["short"].pattern
    return _Names(
        weekdays=_phrases(weekdays),
        months=_phrases(months),
        relative=_phrases(relative),
        parts=_phrases(parts),
        day_first=pattern.find("d") < pattern.find("M"),
    )


def _take(phrases: Phrases[T], words: list[str], text: str) -> tuple[list[T], list[str], str]:
    """Every phrase found, and the words and text left once they are taken out.

    Chinese is written without spaces: its names are found inside ``text`` itself.
    """
    found: list[T] = []
    for phrase, value in phrases:
        joined = "".join(phrase)
        if has_cjk(joined):
            if joined in text:
                found.append(value)
                text = text.replace(joined, " ")
            continue
        while (start := _find(phrase, words)) is not None:
            found.append(value)
            words = words[:start] + words[start + len(phrase) :]
    return found, words, text


class WhenReader:
    """Reads days and times in one language; ``extra_parts`` adds words for the parts of the
    day the locale data lacks (the interface's own "Morning", "Afternoon" labels)."""

    def __init__(self, code: str, extra_parts: Mapping[str, Iterable[str]] | None = None) -> None:
        self.code = code
        names = _names(code)
        self._names = names
        extra = [(text, part) for part, texts in (extra_parts or {}).items() for text in texts]
        self._parts = _phrases([*((" ".join(p), v) for p, v in names.parts), *extra])

    def read(self, text: str, today: date, prefer: str = "day") -> Said:
        """What ``text`` names. ``prefer`` ("day" or "time") settles "12.12" and a bare
        number: a date and a day of the month, or a time and an hour."""
        folded = fold_digits(text)
        clock, folded = self._clock(folded, prefer)
        words = _words(folded)
        # Chinese has no spaces: names are looked for in the text, numbers in what is left.
        rest = normalise(folded).replace(" ", "") if has_cjk(folded) else ""
        if rest:
            words = []
        names = self._names
        parts, words, rest = _take(self._parts, words, rest)  # "por la mañana" before "mañana"
        offsets, words, rest = _take(names.relative, words, rest)
        months, words, rest = _take(names.months, words, rest)
        weekdays, words, rest = _take(names.weekdays, words, rest)
        numbers = [int(n) for n in _NUMBER.findall(rest or " ".join(words))]
        day: date | None = today + timedelta(days=offsets[0]) if offsets else None
        if day is None and months:
            day, numbers = self._month_day(months[0], numbers, today)
        if day is None:
            day, numbers = self._numeric_date(folded, today, prefer, numbers)
        named = frozenset(weekdays)
        if day is None and named:
            day = self._weekday(min(named, key=lambda w: (w - today.weekday()) % 7), today)
            if len(named) == 1 and numbers and prefer == "day":
                # "mercoledì 2": the Wednesday that falls on the 2nd, if there is one soon.
                dated = self._day_of_month(numbers[0], today)
                if dated is not None and dated.weekday() in named:
                    day, numbers = dated, numbers[1:]
        if day is None and numbers and prefer == "day" and clock is None:
            day = self._day_of_month(numbers[0], today)
            numbers = numbers[1:]
        hour = numbers[0] if numbers else None
        if clock is None and hour is not None and hour <= 23 and (prefer == "time" or day):
            clock = (hour, None)
        part = parts[0] if parts else None
        if clock is not None and part == AFTERNOON and clock[0] < 12:
            clock = (clock[0] + 12, clock[1])  # "3 del pomeriggio", "下午3点": 15:00
        return Said(day, clock, part, named)

    # -- pieces ----------------------------------------------------------------------------

    def _clock(self, text: str, prefer: str) -> tuple[tuple[int, int | None] | None, str]:
        """A time of day in the text, and the text without it."""
        match = _AM_PM.search(text)
        if match is not None:
            hour = int(match.group(1)) % 12 + (12 if match.group(3).lower() == "p" else 0)
            minute = int(match.group(2)) if match.group(2) else None
            if hour <= 23 and (minute is None or minute <= 59):
                return (hour, minute), text[: match.start()] + " " + text[match.end() :]
        for match in _TIME.finditer(text):
            hour, minute = int(match.group(1)), int(match.group(2))
            separator = text[match.end(1) : match.start(2)].strip()
            if separator == "." and prefer == "day" and 1 <= minute <= 12 and 1 <= hour <= 31:
                continue  # "12.12" while a day is asked: a date
            if hour <= 23 and minute <= 59:
                return (hour, minute), text[: match.start()] + " " + text[match.end() :]
        match = _HOUR_H.search(text)
        if match is not None and int(match.group(1)) <= 23:
            return (int(match.group(1)), None), text[: match.start()] + " " + text[match.end() :]
        return None, text

    def _numeric_date(
        self, text: str, today: date, prefer: str, numbers: list[int]
    ) -> tuple[date | None, list[int]]:
        match = _NUMERIC_DATE.search(text)
        if match is None:
            return None, numbers
        first, second = int(match.group(1)), int(match.group(2))
        if prefer == "time" and match.group(0).count(".") == 1 and second <= 59:
            return None, numbers  # "9.30" while a time is asked
        year = int(match.group(3)) if match.group(3) else None
        if year is not None and year < 100:
            year += 2000
        orders = [(first, second), (second, first)]
        if not self._names.day_first:
            orders.reverse()
        for day_number, month in orders:
            found = self._dated(day_number, month, year, today)
            if found is not None:
                used = {first, second, *([year % 100] if year else [])}
                return found, [n for n in numbers if n not in used]
        return None, numbers

    @staticmethod
    def _dated(day: int, month: int, year: int | None, today: date) -> date | None:
        """That day and month, in ``year`` or the next time it comes from today."""
        for candidate in (year,) if year else (today.year, today.year + 1):
            try:
                found = date(candidate or today.year, month, day)
            except ValueError:
                continue
            if year or found >= today:
                return found
        return None

    def _month_day(
        self, month: int, numbers: list[int], today: date
    ) -> tuple[date | None, list[int]]:
        """The first number that is a day of ``month``, and the numbers after it."""
        for index, number in enumerate(numbers):
            found = self._dated(number, month, None, today)
            if found is not None:
                return found, numbers[index + 1 :]
        return None, numbers

    def _day_of_month(self, number: int, today: date) -> date | None:
        """The next date that is the ``number``-th of a month: "il 2" is 2 December."""
        for months_ahead in range(3):
            month = (today.month - 1 + months_ahead) % 12 + 1
            year = today.year + (today.month - 1 + months_ahead) // 12
            try:
                found = date(year, month, number)
            except ValueError:
                continue
            if found >= today:
                return found
        return None

    @staticmethod
    def _weekday(weekday: int, today: date) -> date:
        """The next such weekday from today on (today itself included)."""
        return today + timedelta(days=(weekday - today.weekday()) % 7)


def reader(code: str, t: Translator) -> WhenReader:
    """The reader of one language, with the interface's own words for the parts of the day."""
    return WhenReader(code, {part: [t._(label)] for part, label in PART_LABELS.items()})
