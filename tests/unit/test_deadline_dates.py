"""Reading a date a user typed (bot/deadlines/dates.py)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.deadlines.dates import ParsedDate, in_the_past, parse_date
from bot.i18n import elided

TODAY = date(2026, 11, 30)
MARCH_12 = ParsedDate(date(2027, 3, 12))
MARCH = ParsedDate(date(2027, 3, 1), "month")


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("12/03/2027", "it", MARCH_12),
        ("12-3-27", "it", MARCH_12),
        ("12.03.2027", "it", MARCH_12),
        ("2027-03-12", "en", MARCH_12),
        ("il mio permesso scade il 12/03/2027", "it", MARCH_12),
        ("12 marzo 2027", "it", MARCH_12),
        ("12 MARZO 2027", "uk", MARCH_12),  # an Italian date from a letter, in any language
        ("March 12, 2027", "en", MARCH_12),
        ("12th of March 2027", "en", MARCH_12),
        ("12 mars 2027", "fr", MARCH_12),
        ("12 de marzo de 2027", "es", MARCH_12),
        ("12 mars 2027", "sq", MARCH_12),
        ("12 березня 2027", "uk", MARCH_12),  # the genitive, Babel's format context
        ("12 مارس 2027", "ar", MARCH_12),
        ("١٢/٠٣/٢٠٢٧", "ar", MARCH_12),  # Arabic-Indic digits
        ("۱۲/۰۳/۲۰۲۷", "ur", MARCH_12),  # Extended Arabic-Indic digits
        ("12 مارچ 2027", "ur", MARCH_12),
        ("১২/০৩/২০২৭", "bn", MARCH_12),  # Bengali digits
        ("12 মার্চ ২০২৭", "bn", MARCH_12),
        ("2027年3月12日", "zh", MARCH_12),
        ("１２/０３/２０２７", "zh", MARCH_12),  # full-width digits
        ("12 mar 2027", "it", MARCH_12),  # abbreviated
        ("12 janv. 2027", "fr", ParsedDate(date(2027, 1, 12))),
    ],
)
def test_a_day_in_any_common_form_and_language(
    text: str, language: str, expected: ParsedDate
) -> None:
    assert parse_date(text, language, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("March 2027", "en"),
        ("expires 3/2027", "en"),
        ("scade a marzo 2027", "it"),
        ("березень 2027", "uk"),  # the stand-alone form
        ("মার্চ ২০২৭", "bn"),
        ("2027年3月", "zh"),
        ("2027/3", "it"),
    ],
)
def test_a_month_alone_is_its_first_day_and_says_so(text: str, language: str) -> None:
    assert parse_date(text, language, TODAY) == MARCH


def test_numeric_dates_are_day_first_unless_impossible() -> None:
    assert parse_date("03/04/2027", "en", TODAY) == ParsedDate(date(2027, 4, 3))
    assert parse_date("3/25/2027", "en", TODAY) == ParsedDate(date(2027, 3, 25))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mia moglie è arrivata ieri", date(2026, 11, 29)),
        ("l'altro ieri", date(2026, 11, 28)),
        ("my wife arrived today", TODAY),
        ("我妻子昨天到了", date(2026, 11, 29)),  # no spaces around the word
        ("моя дружина приїхала учора", date(2026, 11, 29)),
    ],
)
def test_yesterday_and_today_in_the_users_words(text: str, expected: date) -> None:
    assert parse_date(text, "it", TODAY) == ParsedDate(expected)


def test_a_date_without_its_year_is_the_nearest_one() -> None:
    assert parse_date("scade il 12 marzo", "it", TODAY) == MARCH_12
    assert parse_date("arrivata il 20 novembre", "it", TODAY) == ParsedDate(date(2026, 11, 20))
    assert parse_date("permesso scade 15/1", "it", TODAY) == ParsedDate(date(2027, 1, 15))


def test_leap_days_exist_only_in_leap_years() -> None:
    assert parse_date("29/02/2028", "it", TODAY) == ParsedDate(date(2028, 2, 29))
    assert parse_date("29/02/2027", "it", TODAY) is None


@pytest.mark.parametrize(
    "text",
    [
        "31/02/2027",  # no such day, and not a month either
        "2027-13-01",
        "telefono 0332 536727",
        "mar",  # an abbreviation alone is a word ("mar", "ago"), not a month
        "tra qualche giorno",  # a length with no number is no date
        "sometime next year",  # a year is no day, nor a month
        "martedì alle 10",  # "mar" inside a word is no month
        "12/03/2300",  # too far to be a permit's date
        "",
    ],
)
def test_no_date_is_made_up(text: str) -> None:
    assert parse_date(text, "it", TODAY) is None


def test_a_whole_month_name_alone_is_the_nearest_such_month() -> None:
    assert parse_date("scade a marzo", "it", TODAY) == MARCH
    assert parse_date("وصلت في آذار", "ar", TODAY) == MARCH  # the Levantine name


def test_a_date_written_out_wins_over_today_and_a_month_alone() -> None:
    assert parse_date("oggi ho visto che scade il 12/03/2027", "it", TODAY) == MARCH_12
    assert parse_date("a marzo, il 12/03/2027", "it", TODAY) == MARCH_12


def test_an_event_that_happened_takes_last_year_when_no_year_was_given() -> None:
    arrived = parse_date("arrivata il 20 dicembre", "it", TODAY)
    assert arrived is not None and arrived.day == date(2026, 12, 20) and not arrived.year_given
    assert in_the_past(arrived, TODAY).day == date(2025, 12, 20)
    given = parse_date("20/12/2026", "it", TODAY)
    assert given is not None and in_the_past(given, TODAY) == given


def test_regional_month_names_and_spaced_numbers() -> None:
    assert parse_date("12 марта 2027", "uk", TODAY) == MARCH_12  # Russian, as many write
    assert parse_date("12 ماي 2027", "ar", TODAY) == ParsedDate(date(2027, 5, 12))  # Maghreb
    assert parse_date("12 / 03 / 2027", "it", TODAY) == MARCH_12
    assert parse_date("3月12日到期", "zh", TODAY) == MARCH_12
    assert parse_date("nato il 01/01/1990, scade il 12/03/2027", "it", TODAY) == MARCH_12


def test_letters_may_touch_the_numbers_and_a_month_may_come_before_its_day() -> None:
    assert parse_date("12/03/2027م", "ar", TODAY) == MARCH_12  # the Arabic era letter
    assert parse_date("12 березня 2027р.", "uk", TODAY) == MARCH_12
    assert parse_date("في12/03/2027", "ar", TODAY) == MARCH_12
    assert parse_date("March 12th", "en", TODAY) == MARCH_12
    assert parse_date("tel 0332536727", "it", TODAY) is None


def test_past_dates_are_accepted() -> None:
    assert parse_date("scaduto il 01/09/2026", "it", TODAY) == ParsedDate(date(2026, 9, 1))


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("scade il 30 febbraio 2027", "it"),
        ("February 30, 2027", "en"),
        ("le 31 juin 2027", "fr"),
        ("el 31 de septiembre", "es"),  # without the year too
        ("më 31 prill 2027", "sq"),
        ("31 квітня 2027", "uk"),
        ("٣١ نيسان ٢٠٢٧", "ar"),
        ("۳۰ فروری ۲۰۲۷", "ur"),
        ("2027年6月31日", "zh"),
        ("৩১ জুন ২০২৭", "bn"),
    ],
)
def test_a_day_the_month_lacks_is_no_date_not_its_month(text: str, language: str) -> None:
    assert parse_date(text, language, TODAY) is None


def test_an_impossible_date_hides_only_its_own_words() -> None:
    assert parse_date("nato il 12 marzo 1980, scade a giugno", "it", TODAY) == ParsedDate(
        date(2026, 6, 1), "month"
    )


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("scade il 12 sett 2027", "it", date(2027, 9, 12)),
        ("scade il 3 febb 2027", "it", date(2027, 2, 3)),
        ("expires 12 sept 2027", "en", date(2027, 9, 12)),
        ("expire le 3 fev 2027", "fr", date(2027, 2, 3)),
        ("12 de setiembre de 2027", "es", date(2027, 9, 12)),
        ("më 12 të shtatorit 2027", "sq", date(2027, 9, 12)),
        ("3 فبراير 2027", "ar", date(2027, 2, 3)),
        ("12 ابريل 2027", "ar", date(2027, 4, 12)),  # no hamza
        ("12 يوليه 2027", "ar", date(2027, 7, 12)),  # Egyptian
        ("٣ جانفي ٢٠٢٧", "ar", date(2027, 1, 3)),
        ("৩ জানুয়ারী ২০২৭", "bn", date(2027, 1, 3)),
    ],
)
def test_abbreviations_and_spellings_babel_lacks(text: str, language: str, expected: date) -> None:
    assert parse_date(text, language, TODAY) == ParsedDate(expected)


@pytest.mark.parametrize(
    ("text", "language", "month"),
    [
        ("в липні 2027", "uk", 7),  # the locative after "в"
        ("в июле 2027", "uk", 7),  # and in Russian
        ("у вересні", "uk", 9),  # alone, as "a settembre"
        ("setiembre 2027", "es", 9),
        ("në korrikut 2027", "sq", 7),
    ],
)
def test_month_names_in_the_forms_people_write(text: str, language: str, month: int) -> None:
    parsed = parse_date(text, language, TODAY)
    assert parsed is not None and parsed.precision == "month"
    assert (parsed.day.month, parsed.day.day) == (month, 1)


def test_abbreviations_babel_lacks_are_no_month_alone() -> None:
    assert parse_date("sett", "it", TODAY) is None
    assert parse_date("set the date", "en", TODAY) is None


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("1ro de julio de 2027", "es"),
        ("1ero de julio 2027", "es"),
        ("el primero de julio de 2027", "es"),
        ("il primo luglio 2027", "it"),
        ("1° luglio 2027", "it"),
        ("le premier juillet 2027", "fr"),
        ("1st of July 2027", "en"),
        ("1-го липня 2027", "uk"),
        ("یکم جولائی ۲۰۲۷", "ur"),
        ("١ يوليو ٢٠٢٧", "ar"),
        ("১লা জুলাই ২০২৭", "bn"),
    ],
)
def test_the_first_of_a_month_in_words_and_ordinals(text: str, language: str) -> None:
    assert parse_date(text, language, TODAY) == ParsedDate(date(2027, 7, 1))


def test_other_ordinals() -> None:
    assert parse_date("el 2do de marzo de 2027", "es", TODAY) == ParsedDate(date(2027, 3, 2))
    assert parse_date("৫ই মার্চ ২০২৭", "bn", TODAY) == ParsedDate(date(2027, 3, 5))
    assert parse_date("২২শে মার্চ ২০২৭", "bn", TODAY) == ParsedDate(date(2027, 3, 22))


@pytest.mark.parametrize(
    ("text", "language", "distance"),
    [
        ("dopo domani", "it", 2),
        ("tmrw", "en", 1),
        ("apres demain", "fr", 2),
        ("antier", "es", -2),
        ("pasnesër", "sq", 2),
        ("вчора", "uk", -1),
        ("вчера", "uk", -1),
        ("بكره", "ar", 1),
        ("امبارح", "ar", -1),
        ("بعد بكرا", "ar", 2),
        ("گزشتہ کل", "ur", -1),
        ("明日", "zh", 1),
        ("agamikal", "bn", 1),
        ("gotokal", "bn", -1),
    ],
)
def test_spoken_words_for_days(text: str, language: str, distance: int) -> None:
    parsed = parse_date(text, language, TODAY)
    assert parsed is not None and (parsed.day - TODAY).days == distance


@pytest.mark.parametrize("text", ["کل", "kal aaunga", "kal aaya tha", "কাল", "parso"])
def test_kal_is_yesterday_and_tomorrow_so_it_is_left_unread(text: str) -> None:
    assert parse_date(text, "ur", TODAY) is None


def test_folded_letters_make_no_month_of_another_word() -> None:
    assert parse_date("وصل أب زوجتي", "ar", TODAY) is None  # a father, not August (آب)
    assert parse_date("آب 2027", "ar", TODAY) == ParsedDate(date(2027, 8, 1), "month")
    assert parse_date("він мае дозвіл", "uk", TODAY) is None  # "має" typed without "є"
    assert parse_date("в мае 2027", "uk", TODAY) == ParsedDate(date(2027, 5, 1), "month")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("entro il 11 gennaio 2027", "entro l'11 gennaio 2027"),
        ("Il 8 marzo", "L'8 marzo"),
        ("dal 8 marzo al 11 aprile", "dall'8 marzo all'11 aprile"),
        ("entro il 12 marzo", "entro il 12 marzo"),
        ("il 18 marzo, il 81", "il 18 marzo, il 81"),
    ],
)
def test_italian_drops_the_article_vowel_before_8_and_11(text: str, expected: str) -> None:
    assert elided(text) == expected
