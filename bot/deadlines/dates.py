"""This module contains the reading of a date a user typed, in any of the bot's languages.

"12/03/2027", "12-3-27", "2027-03-12", "12 marzo 2027", "March 2027", "expires 3/2027",
"১২/০৩/২০২৭", "2027年3月12日", "二〇二七年七月一日", "1ro de febrero", "یکم جولائی", "ieri",
"بكرة", "tra 3 settimane", "5 din pehle", "下个月": the first date found in the message,
wherever it is in the sentence. Month names come from Babel's locale data (wide and
abbreviated, in the format and stand-alone contexts), so every language Babel knows is read the
same way, and from ``date_words`` for the forms people write that Babel lacks; lengths of time
from today come from ``durations``. Case, accents and letter forms are folded (``folding``),
native digits and Chinese numerals read as digits.

Numeric dates are day first, as in Italy, unless that is impossible ("3/25/2027" can only be
25 March). A month without a day ("March 2027", "next month") is the month's first day: a
reminder computed from it comes earlier, never later, and the answer says so (``precision``).
A day that does not exist ("30 febbraio 2027") is no date at all, not its month.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Literal

from babel import Locale, UnknownLocaleError
from babel.dates import get_month_names

from bot.deadlines import durations
from bot.deadlines.arithmetic import add_months
from bot.deadlines.date_words import (
    AMBIGUOUS_DAY_WORDS,
    DAY_WORDS,
    FIRST_DAY_WORDS,
    MONTH_ABBREVIATIONS,
    MONTH_NAMES,
    ORDINAL_SUFFIXES,
)
from bot.deadlines.folding import (
    AFTER,
    BEFORE,
    CJK,
    NUM_AFTER,
    NUM_BEFORE,
    alternatives,
    fold,
)
from bot.deadlines.numerals import chinese_numerals_as_digits

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


# -- month names and relative days ----------------------------------------------------------


@functools.cache
def _month_words(
    widths: tuple[Literal["wide", "abbreviated"], ...] = ("wide", "abbreviated"),
) -> dict[str, int]:
    """Every month name of every language, folded, with its number (1 to 12): Babel's, then
    the names it lacks, and with the abbreviations those it lacks."""
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
    extra = [MONTH_NAMES]
    if "abbreviated" in widths:
        extra.append(MONTH_ABBREVIATIONS)
    for variants in extra:
        for names_of_a_language in variants.values():
            for name, number in names_of_a_language.items():
                words.setdefault(fold(name), number)
    return words


@functools.cache
def _relative_words() -> dict[str, int]:
    """ "today", "yesterday", "the day before yesterday", "tomorrow" in every language, with
    their distance in days from today: Babel's relative day names and the spoken words it
    lacks, never a word that means both yesterday and tomorrow ("kal")."""
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
    for extra in DAY_WORDS.values():
        for text, distance in extra.items():
            words.setdefault(fold(text), distance)
    ambiguous = {fold(word) for word in AMBIGUOUS_DAY_WORDS}
    return {word: distance for word, distance in words.items() if word not in ambiguous}


# Not the end of a longer numeric date: "02/2027" in "31/02/2027" is no month.
_NOT_INSIDE = r"(?<!\d[-/.])"
# Words between a day, its month and its year: "12 de marzo de 2027", "12th of March, 2027",
# "12 березня 2027 р.", "5 të qershorit".
_LINK = r"(?:\s*,?\s*(?:de|del|of|di|el|te)?\s*|\s*[-/.]\s*)"


@functools.cache
def _patterns() -> tuple[tuple[str, re.Pattern[str]], ...]:
    months = alternatives(_month_words())
    relative = alternatives(word for word in _relative_words() if not CJK.search(word))
    cjk_relative = alternatives(word for word in _relative_words() if CJK.search(word))
    ordinal = rf"(?:{alternatives(fold(suffix) for suffix in ORDINAL_SUFFIXES)}|\.)?"
    first = alternatives(fold(word) for word in FIRST_DAY_WORDS)
    # "12", "12th", "1ro", "১লা"; or a word for the first: "یکم", "primo".
    day = rf"(?:{NUM_BEFORE}(?P<day>[0-3]?\d){ordinal}|{BEFORE}(?P<first>{first}){AFTER})"
    year = r"(?P<year>\d{4}|\d{2})"
    month_name = rf"(?P<name>{months})"
    wide = alternatives(_month_words(("wide",)))
    return (
        (
            "iso",
            re.compile(
                rf"{NUM_BEFORE}(?P<year>\d{{4}})[-/.](?P<month>\d{{1,2}})[-/.](?P<day>[0-3]?\d)"
                rf"{NUM_AFTER}"
            ),
        ),
        (
            "cjk",  # "2027年3月12日", "27年8月"
            re.compile(
                rf"{NUM_BEFORE}(?P<year>\d{{4}}|\d{{2}})\s*年\s*(?P<month>\d{{1,2}})\s*月"
                r"(?:\s*(?P<day>\d{1,2})\s*[日号號])?"
            ),
        ),
        (
            "cjk_day",  # "3月12日": the year left out
            re.compile(r"(?<!\d)(?P<month>\d{1,2})\s*月\s*(?P<day>\d{1,2})\s*[日号號]"),
        ),
        (
            "numeric",
            re.compile(
                rf"{NUM_BEFORE}(?P<first>\d{{1,2}})\s?(?P<sep>[-/.])\s?(?P<second>\d{{1,2}})"
                rf"\s?(?P=sep)\s?{year}{NUM_AFTER}"
            ),
        ),
        (
            "day_name",
            re.compile(rf"{day}{_LINK}{month_name}{AFTER}(?:{_LINK}{year}{NUM_AFTER})?"),
        ),
        (
            "name_day",
            re.compile(
                rf"{BEFORE}{month_name}{AFTER}\.?\s+{NUM_BEFORE}(?P<day>[0-3]?\d){ordinal}"
                rf"(?:(?:\s*,\s*|\s+){year})?{NUM_AFTER}(?![^\W\d_])"
            ),
        ),
        (
            "name_year",
            re.compile(rf"{BEFORE}{month_name}{AFTER}{_LINK}(?P<year>\d{{4}}){NUM_AFTER}"),
        ),
        (
            "month_year",
            re.compile(
                rf"{_NOT_INSIDE}{NUM_BEFORE}(?P<month>\d{{1,2}})\s*[-/.]\s*(?P<year>\d{{4}})"
                rf"{NUM_AFTER}"
            ),
        ),
        (
            "iso_month",
            re.compile(
                rf"{_NOT_INSIDE}{NUM_BEFORE}(?P<year>\d{{4}})[-/](?P<month>\d{{1,2}}){NUM_AFTER}"
            ),
        ),
        (
            "day_month",
            re.compile(
                rf"{NUM_BEFORE}(?P<first>\d{{1,2}})/(?P<second>\d{{1,2}}){NUM_AFTER}(?![/.\-]\d)"
            ),
        ),
        # Fallbacks, read only when the message holds no date above. Chinese writes no spaces:
        # "我妻子昨天到了" has "昨天" between two letters.
        ("relative", re.compile(rf"{BEFORE}(?P<relative>{relative}){AFTER}")),
        ("relative", re.compile(rf"(?P<relative>{cjk_relative})")),
        *(("length", pattern) for pattern in durations.length_patterns()),
        ("month_offset", durations.month_pattern()),
        # "scade a marzo": a whole month name alone (abbreviations are words too: "ago", "mar").
        ("month_alone", re.compile(rf"{BEFORE}(?P<name>{wide}){AFTER}")),
        # "3月到期", "3月份": a Chinese month alone, its day not given.
        (
            "cjk_month",
            re.compile(rf"{NUM_BEFORE}(?P<month>\d{{1,2}})\s*月(?!\s*\d)"),
        ),
    )


#: Readings used only when the message holds no date written out.
FALLBACKS = frozenset({"relative", "length", "month_offset", "month_alone", "cjk_month"})


# -- reading -------------------------------------------------------------------------------


def parse_date(text: str, language: str, today: date) -> ParsedDate | None:
    """The first date in ``text``, or None when there is none that exists.

    ``language`` is the user's: its month names are read like every other language's (a
    Ukrainian writes "12 marzo" from an Italian letter), so it only breaks no tie today; it
    is part of the call so that a language whose dates need it can use it.
    """
    folded = chinese_numerals_as_digits(fold(text))
    readings: list[tuple[str, re.Match[str], ParsedDate | None]] = [
        (kind, match, _read(kind, match, today))
        for kind, pattern in _patterns()
        for match in pattern.finditer(folded)
    ]
    # A date written out that does not exist ("30 febbraio 2027", "2027年2月30日") is no
    # date: not its month either, nor any other reading of its words.
    impossible = [
        match.span() for kind, match, parsed in readings if parsed is None and kind not in FALLBACKS
    ]
    found = [
        (kind in FALLBACKS, match.start(), match.start() - match.end(), parsed)
        for kind, match, parsed in readings
        if parsed is not None and not _inside(match.span(), impossible)
    ]
    if not found:
        return None
    # A date written out wins over "today" or a month alone anywhere in the message ("oggi ho
    # visto che scade il 12/03/2027"); then the first one, the longest where two begin together.
    return min(found, key=lambda item: item[:3])[3]


def _inside(span: tuple[int, int], others: list[tuple[int, int]]) -> bool:
    return any(
        start <= span[0] and span[1] <= end and span != (start, end) for start, end in others
    )


def _read(kind: str, match: re.Match[str], today: date) -> ParsedDate | None:
    groups = match.groupdict()
    if kind == "cjk_day":
        month, day = int(groups["month"]), int(groups["day"])
        return _nearest(lambda y: _checked(y, month, day, today), today)
    if kind in ("relative", "length", "month_offset"):
        return _from_today(kind, match, today)
    if kind == "cjk_month":
        month = int(groups["month"])
        return _nearest(lambda y: _month_only(y, month, today), today)
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
    day = 1 if groups.get("first") else int(groups["day"])
    if year is None:  # "12 marzo", "March 12th": the nearest
        return _nearest(lambda y: _checked(y, month, day, today), today)
    return _checked(year, month, day, today)


def _from_today(kind: str, match: re.Match[str], today: date) -> ParsedDate | None:
    """ "tomorrow", "in 3 weeks", "next month"."""
    if kind == "relative":
        return ParsedDate(today + timedelta(days=_relative_words()[match["relative"]]))
    if kind == "month_offset":
        first_day = add_months(today.replace(day=1), durations.month_offset(match))
        return ParsedDate(first_day, "month")
    moved = durations.read_length(match, today)
    return _checked(moved.year, moved.month, moved.day, today) if moved else None


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
