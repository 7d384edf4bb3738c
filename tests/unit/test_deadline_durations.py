"""Dates said from today: "in 3 weeks", "5 days ago", "next month" (bot/deadlines/durations.py,
read through bot/deadlines/dates.py)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.deadlines import durations
from bot.deadlines.dates import ParsedDate, parse_date
from bot.deadlines.duration_words import DURATION_WORDS
from bot.deadlines.folding import fold

TODAY = date(2026, 11, 30)
IN_TWO_WEEKS = ParsedDate(date(2026, 12, 14))
FOUR_DAYS_AGO = ParsedDate(date(2026, 11, 26))
A_MONTH_AGO = ParsedDate(date(2026, 10, 30))
NEXT_MONTH = ParsedDate(date(2026, 12, 1), "month")


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("scade tra 2 settimane", "it"),
        ("fra due settimane", "it"),
        ("in two weeks", "en"),
        ("2 weeks from now", "en"),
        ("dans deux semaines", "fr"),
        ("dentro de dos semanas", "es"),
        ("en 2 semanas", "es"),
        ("pas dy javësh", "sq"),
        ("через два тижні", "uk"),
        ("через 2 недели", "uk"),  # Russian, as many Ukrainians write
        ("بعد أسبوعين", "ar"),  # the dual: "two weeks" in one word
        ("خلال ٢ اسابيع", "ar"),
        ("۲ ہفتے بعد", "ur"),
        ("do hafte baad", "ur"),
        ("两周后", "zh"),
        ("2个星期以后", "zh"),
        ("দুই সপ্তাহ পরে", "bn"),
        ("2 saptaho pore", "bn"),
    ],
)
def test_a_length_ahead_in_every_language(text: str, language: str) -> None:
    assert parse_date(text, language, TODAY) == IN_TWO_WEEKS


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("è arrivato quattro giorni fa", "it"),
        ("came 4 days ago", "en"),
        ("il y a quatre jours", "fr"),
        ("hace cuatro días", "es"),
        ("4 días atrás", "es"),
        ("para katër ditësh", "sq"),
        ("4 ditë më parë", "sq"),
        ("чотири дні тому", "uk"),
        ("4 дня назад", "uk"),
        ("قبل ٤ أيام", "ar"),
        ("قبل اربعة ايام", "ar"),  # no hamza, as many type
        ("چار دن پہلے", "ur"),
        ("char din pehle aaya", "ur"),
        ("四天前到的", "zh"),
        ("৪ দিন আগে", "bn"),
        ("char din age", "bn"),
    ],
)
def test_a_length_ago_in_every_language(text: str, language: str) -> None:
    assert parse_date(text, language, TODAY) == FOUR_DAYS_AGO


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("un mese fa", "it"),
        ("a month ago", "en"),
        ("il y a un mois", "fr"),
        ("hace un mes", "es"),
        ("para një muaji", "sq"),
        ("місяць тому", "uk"),  # the bare noun is one
        ("قبل شهر", "ar"),
        ("ایک مہینہ پہلے", "ur"),
        ("一个月前", "zh"),
        ("এক মাস আগে", "bn"),
    ],
)
def test_a_month_ago_is_the_same_day_last_month(text: str, language: str) -> None:
    assert parse_date(text, language, TODAY) == A_MONTH_AGO


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("il mese prossimo", "it"),
        ("next month", "en"),
        ("le mois prochain", "fr"),
        ("el mes que viene", "es"),
        ("muajin e ardhshëm", "sq"),
        ("наступного місяця", "uk"),
        ("الشهر القادم", "ar"),
        ("agle mahine", "ur"),
        ("اگلے مہینے", "ur"),
        ("下个月到期", "zh"),
        ("আগামী মাসে", "bn"),
    ],
)
def test_next_month_is_a_month_not_a_day(text: str, language: str) -> None:
    assert parse_date(text, language, TODAY) == NEXT_MONTH


def test_last_and_this_month() -> None:
    assert parse_date("scaduto il mese scorso", "it", TODAY) == ParsedDate(
        date(2026, 10, 1), "month"
    )
    assert parse_date("上个月", "zh", TODAY) == ParsedDate(date(2026, 10, 1), "month")
    assert parse_date("this month", "en", TODAY) == ParsedDate(date(2026, 11, 1), "month")


def test_months_end_where_the_month_ends() -> None:
    assert parse_date("in 3 months", "en", TODAY) == ParsedDate(date(2027, 2, 28))
    assert parse_date("三个月后", "zh", TODAY) == ParsedDate(date(2027, 2, 28))


def test_more_lengths_and_their_words() -> None:
    assert parse_date("dans quinze jours", "fr", TODAY) == ParsedDate(date(2026, 12, 15))
    assert parse_date("a fortnight ago", "en", TODAY) == ParsedDate(date(2026, 11, 16))
    assert parse_date("بعد يومين", "ar", TODAY) == ParsedDate(date(2026, 12, 2))
    assert parse_date("тиждень тому", "uk", TODAY) == ParsedDate(date(2026, 11, 23))
    assert parse_date("пʼять днів тому", "uk", TODAY) == ParsedDate(date(2026, 11, 25))
    assert parse_date("十天前", "zh", TODAY) == ParsedDate(date(2026, 11, 20))
    assert parse_date("过两天", "zh", TODAY) == ParsedDate(date(2026, 12, 2))
    assert parse_date("۱۵ دن بعد", "ur", TODAY) == ParsedDate(date(2026, 12, 15))


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("tra qualche settimana", "it"),  # no number
        ("in weeks", "en"),
        ("en semana santa", "es"),  # "semana" alone needs "una" in Spanish
        ("para 3 semanas", "es"),  # "para" is "ago" in Albanian only
        ("ogni 2 settimane", "it"),  # neither ahead nor ago
        ("كل يوم", "ar"),
        ("i dont know exactly, sometime next year", "en"),  # a year is no day nor month
        ("el año que viene", "es"),
        ("in 999 months", "en"),  # too far to be a permit's date
        ("tra 3 giorni lavorativi", "it"),  # working days depend on the holidays
        ("dans 3 jours ouvrables", "fr"),
        ("dentro de 5 días hábiles", "es"),
        ("in 3 working days", "en"),
    ],
)
def test_no_length_is_made_up(text: str, language: str) -> None:
    assert parse_date(text, language, TODAY) is None


def test_a_date_written_out_wins_over_a_length() -> None:
    text = "sono arrivato 3 giorni fa, il permesso scade il 12/03/2027"
    assert parse_date(text, "it", TODAY) == ParsedDate(date(2027, 3, 12))


def test_no_word_means_two_things_in_two_languages() -> None:
    """The words of all languages are read together: a word must mean one thing in all."""
    assert durations.numbers()["tre"] == 3
    for language, words in DURATION_WORDS.items():
        for word, value in words.numbers.items():
            assert durations.numbers()[fold(word)] == value, (language, word)
        for word, unit in words.units.items():
            assert durations.units()[fold(word)] == unit, (language, word)
        for phrase, offset in words.months.items():
            assert durations.month_offsets()[fold(phrase)] == offset, (language, phrase)
