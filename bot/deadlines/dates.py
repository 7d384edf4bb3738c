"""This module contains the reading of a date a user typed, in any of the bot's languages.

"12/03/2027", "12-3-27", "2027-03-12", "12 marzo 2027", "March 2027", "expires 3/2027",
"১২/০৩/২০২৭", "2027年3月12日", "ieri": the first date found in the message, wherever it is
in the sentence. Month names come from Babel's locale data (wide and abbreviated, in the
format and stand-alone contexts), so every language Babel knows is read the same way; case,
accents and Arabic vowel marks are folded, and native digits read as digits.

Numeric dates are day first, as in Italy, unless that is impossible ("3/25/2027" can only be
25 March). A month without a day ("March 2027") is the month's first day: a reminder
computed from it comes earlier, never later, and the answer says so (``precision``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

from babel import Locale, UnknownLocaleError
from babel.dates import get_month_names

#: Languages whose month names are always read, whatever the user's language: people mix
#: Italian words from their papers ("scade marzo 2027") and English into every language.
ALWAYS_READ = ("it", "en")
#: Every language the bot speaks: a month name in any of them is read in any message.
LANGUAGES = ("it", "en", "fr", "ar", "es", "sq", "uk", "ur", "zh", "bn")
#: Regional forms of those languages that Babel knows apart: the Levantine and Iraqi months
#: ("آذار"), the Maghreb's ("ماي", "جانفي"), Bengali as written in India, and Russian, which
#: many Ukrainians write.
REGIONAL = ("ar_SY", "ar_MA", "ar_DZ", "bn_IN", "ru")
#: A year further from today is no permit's or arrival's date: a birth date, a typing mistake.
YEARS_AROUND = 15

Precision = Literal["day", "month"]


@dataclass(frozen=True)
class ParsedDate:
    """A date read in a message: the day, and whether the user gave it or only its month."""

    day: date
    precision: Precision = "day"
    #: False when the user left out the year and the nearest one was taken: a flow that knows
    #: the event is past ("arrived in March") may take the previous one.
    year_given: bool = field(default=True, compare=False)


# -- folding -------------------------------------------------------------------------------

# Combining accents of Latin letters, and the Arabic vowel marks and tatweel.
_MARKS = re.compile("[\u0300-\u036f\u064b-\u0652\u0670\u0640]")


def fold(text: str) -> str:
    """Case, width, accents and native digits folded, punctuation kept: "١٢/٠٣" is "12/03"."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    text = _MARKS.sub("", unicodedata.normalize("NFD", text))
    text = unicodedata.normalize("NFC", text)
    return "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() and not char.isascii() else char
        for char in text
    )


_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")

# -- month names and relative days from Babel ------------------------------------------------


@functools.cache
def _month_words(
    widths: tuple[Literal["wide", "abbreviated"], ...] = ("wide", "abbreviated"),
) -> dict[str, int]:
    """Every month name of every language, folded, with its number (1 to 12)."""
    words: dict[str, int] = {}
    for code in dict.fromkeys((*ALWAYS_READ, *LANGUAGES, *REGIONAL)):
        for width in widths:
            for context in ("format", "stand-alone"):
                try:
                    names = get_month_names(width, context, code)
                except UnknownLocaleError:
                    continue
                for number, name in names.items():
                    word = fold(name).rstrip(".")
                    # "3月" and "三月" are read by the Chinese pattern; a bare digit is no name.
                    if word and not any(char.isdigit() for char in word):
                        words.setdefault(word, number)
    return words


@functools.cache
def _relative_words() -> dict[str, int]:
    """ "today", "yesterday", "the day before yesterday", "tomorrow" in every language, with
    their distance in days from today (Babel's relative day names)."""
    words: dict[str, int] = {}
    for code in dict.fromkeys((*ALWAYS_READ, *LANGUAGES)):
        try:
            relative = Locale.parse(code)._data["date_fields"]["day"]["relative"]
        except (UnknownLocaleError, KeyError):
            continue
        for distance in relative:
            text = relative[distance]
            if isinstance(distance, int) and isinstance(text, str) and text.strip():
                words.setdefault(fold(text), distance)
    return words


def _alternatives(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, longest first so that "marzo" wins over "mar"."""
    return "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))


# Not after or before a letter or digit: "mar" is no month inside "martedì", nor "2" a day
# inside "12".
_BEFORE = r"(?<![^\W_])"
_AFTER = r"(?![^\W_])"
# Numbers end where digits end: a letter may follow ("2027р.", "2027م") or come before.
_NUM_BEFORE = r"(?<!\d)"
_NUM_AFTER = r"(?!\d)"
# Not the end of a longer numeric date: "02/2027" in "31/02/2027" is no month.
_NOT_INSIDE = r"(?<!\d[-/.])"
_ORDINAL = r"(?:st|nd|rd|th|er|re|eme|º|°|\.)?"
# Words between a day, its month and its year: "12 de marzo de 2027", "12th of March, 2027",
# "12 березня 2027 р.".
_LINK = r"(?:\s*,?\s*(?:de|del|of|di|el)?\s*|\s*[-/.]\s*)"


@functools.cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    months = _alternatives(_month_words())
    relative = _alternatives(word for word in _relative_words() if not _CJK.search(word))
    cjk_relative = _alternatives(word for word in _relative_words() if _CJK.search(word))
    day = r"(?P<day>[0-3]?\d)"
    year = r"(?P<year>\d{4}|\d{2})"
    month_name = rf"(?P<name>{months})"
    wide = _alternatives(_month_words(("wide",)))
    return (
        (
            "iso",
            re.compile(
                rf"{_NUM_BEFORE}(?P<year>\d{{4}})[-/.](?P<month>\d{{1,2}})[-/.]{day}{_NUM_AFTER}"
            ),
        ),
        (
            "cjk",
            re.compile(
                r"(?P<year>\d{4})\s*年\s*(?P<month>\d{1,2})\s*月(?:\s*(?P<day>\d{1,2})\s*[日号])?"
            ),
        ),
        (
            "cjk_day",  # "3月12日": the year left out
            re.compile(r"(?<!\d)(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号]"),
        ),
        (
            "numeric",
            re.compile(
                rf"{_NUM_BEFORE}(?P<first>\d{{1,2}})\s?(?P<sep>[-/.])\s?(?P<second>\d{{1,2}})"
                rf"\s?(?P=sep)\s?{year}{_NUM_AFTER}"
            ),
        ),
        (
            "day_name",
            re.compile(
                rf"{_NUM_BEFORE}{day}{_ORDINAL}{_LINK}{month_name}{_AFTER}"
                rf"(?:{_LINK}{year}{_NUM_AFTER})?"
            ),
        ),
        (
            "name_day",
            re.compile(
                rf"{_BEFORE}{month_name}{_AFTER}\.?\s+{day}{_ORDINAL}(?:(?:\s*,\s*|\s+){year})?"
                rf"{_NUM_AFTER}(?![^\W\d_])"
            ),
        ),
        (
            "name_year",
            re.compile(rf"{_BEFORE}{month_name}{_AFTER}{_LINK}(?P<year>\d{{4}}){_NUM_AFTER}"),
        ),
        (
            "month_year",
            re.compile(
                rf"{_NOT_INSIDE}{_NUM_BEFORE}(?P<month>\d{{1,2}})\s*[-/.]\s*(?P<year>\d{{4}}){_NUM_AFTER}"
            ),
        ),
        (
            "iso_month",
            re.compile(
                rf"{_NOT_INSIDE}{_NUM_BEFORE}(?P<year>\d{{4}})[-/](?P<month>\d{{1,2}}){_NUM_AFTER}"
            ),
        ),
        (
            "day_month",
            re.compile(
                rf"{_NUM_BEFORE}(?P<first>\d{{1,2}})/(?P<second>\d{{1,2}}){_NUM_AFTER}(?![/.\-]\d)"
            ),
        ),
        # Fallbacks, read only when the message holds no date above. Chinese writes no spaces:
        # "我妻子昨天到了" has "昨天" between two letters.
        ("relative", re.compile(rf"{_BEFORE}(?P<relative>{relative}){_AFTER}")),
        ("relative", re.compile(rf"(?P<relative>{cjk_relative})")),
        # "scade a marzo": a whole month name alone (abbreviations are words too: "ago", "mar").
        ("month_alone", re.compile(rf"{_BEFORE}(?P<name>{wide}){_AFTER}")),
    )


#: Readings used only when the message holds no date written out.
FALLBACKS = frozenset({"relative", "month_alone"})


# -- reading -------------------------------------------------------------------------------


def parse_date(text: str, language: str, today: date) -> ParsedDate | None:
    """The first date in ``text``, or None when there is none that exists.

    ``language`` is the user's: its month names are read like every other language's (a
    Ukrainian writes "12 marzo" from an Italian letter), so it only breaks no tie today; it
    is part of the call so that a language whose dates need it can use it.
    """
    folded = fold(text)
    found: list[tuple[bool, int, int, ParsedDate]] = []
    for kind, pattern in _patterns():
        for match in pattern.finditer(folded):
            parsed = _read(kind, match, today)
            if parsed is not None:
                fallback = kind in FALLBACKS
                found.append((fallback, match.start(), match.start() - match.end(), parsed))
                break  # this pattern's first valid date; another pattern may find an earlier one
    if not found:
        return None
    # A date written out wins over "today" or a month alone anywhere in the message ("oggi ho
    # visto che scade il 12/03/2027"); then the first one, the longest where two begin together.
    return min(found, key=lambda item: item[:3])[3]


def _read(kind: str, match: re.Match[str], today: date) -> ParsedDate | None:
    groups = match.groupdict()
    if kind == "cjk_day":
        month, day = int(groups["month"]), int(groups["day"])
        return _nearest(lambda y: _checked(y, month, day, today), today)
    if kind == "relative":
        return ParsedDate(today + timedelta(days=_relative_words()[groups["relative"]]))
    year = _year(groups.get("year"), today)
    if kind in ("iso", "cjk", "month_year", "iso_month"):
        month = int(groups["month"])
        if groups.get("day") is None:
            return _month_only(year, month, today)
        return _checked(year, month, int(groups["day"]), today)
    if kind == "numeric":
        return _day_first(int(groups["first"]), int(groups["second"]), year, today)
    if kind == "day_month":
        return _nearest(
            lambda y: _day_first(int(groups["first"]), int(groups["second"]), y, today), today
        )
    month = _month_words()[groups["name"]]
    if kind == "month_alone":
        return _nearest(lambda y: _month_only(y, month, today), today)
    if kind == "name_year":
        return _month_only(year, month, today)
    day = int(groups["day"])
    if year is None:  # "12 marzo", "March 12th": the nearest
        return _nearest(lambda y: _checked(y, month, day, today), today)
    return _checked(year, month, day, today)


def _year(text: str | None, today: date) -> int | None:
    if text is None:
        return None
    value = int(text)
    if len(text) == 2:
        # "27" is 2027; "98" (a birth year, an old permit) is 1998.
        value += 2000 if value <= (today.year % 100) + YEARS_AROUND else 1900
    return value


def _checked(year: int | None, month: int, day: int, today: date) -> ParsedDate | None:
    if year is None or abs(year - today.year) > YEARS_AROUND:
        return None
    try:
        return ParsedDate(date(year, month, day))
    except ValueError:  # 31/02, 00/13
        return None


def _month_only(year: int | None, month: int, today: date) -> ParsedDate | None:
    parsed = _checked(year, month, 1, today)
    return ParsedDate(parsed.day, "month") if parsed is not None else None


def _day_first(first: int, second: int, year: int | None, today: date) -> ParsedDate | None:
    """Day first (12/03 is 12 March), unless only the other reading exists (3/25)."""
    return _checked(year, second, first, today) or _checked(year, first, second, today)


def _nearest(build: Callable[[int], ParsedDate | None], today: date) -> ParsedDate | None:
    """A date given without its year: the one of last, this or next year nearest to today."""
    candidates = [parsed for parsed in _years_around(build, today) if parsed is not None]
    if not candidates:
        return None
    nearest = min(candidates, key=lambda parsed: abs((parsed.day - today).days))
    return replace(nearest, year_given=False)


def in_the_past(parsed: ParsedDate, today: date) -> ParsedDate:
    """The date moved back a year when the user gave no year and it would be to come: for
    events that have happened ("arrivata il 20 dicembre", said on 30 November)."""
    if parsed.year_given or parsed.day <= today:
        return parsed
    try:
        return replace(parsed, day=parsed.day.replace(year=parsed.day.year - 1))
    except ValueError:  # 29 February
        return replace(parsed, day=parsed.day.replace(year=parsed.day.year - 1, day=28))


def _years_around(
    build: Callable[[int], ParsedDate | None], today: date
) -> Iterator[ParsedDate | None]:
    for year in (today.year - 1, today.year, today.year + 1):
        yield build(year)
