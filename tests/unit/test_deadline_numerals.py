"""Chinese numerals in dates (bot/deadlines/numerals.py)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.deadlines.dates import ParsedDate, parse_date
from bot.deadlines.numerals import chinese_numerals_as_digits

TODAY = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("二〇二七年", "2027年"),
        ("二零二七年", "2027年"),
        ("十二月", "12月"),
        ("二十五日", "25日"),
        ("三十一号", "31号"),
        ("十天", "10天"),
        ("两个星期", "2个星期"),
        ("一百天", "100天"),
        ("一百零五天", "105天"),
    ],
)
def test_numerals_before_a_word_of_time_become_digits(text: str, expected: str) -> None:
    assert chinese_numerals_as_digits(text) == expected


@pytest.mark.parametrize("text", ["一样", "统一", "星期一到期", "第一次"])
def test_numerals_elsewhere_are_words(text: str) -> None:
    assert chinese_numerals_as_digits(text) == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("二〇二七年三月十二日到期", ParsedDate(date(2027, 3, 12))),
        ("二〇二七年十月", ParsedDate(date(2027, 10, 1), "month")),
        ("十二月二十五号", ParsedDate(date(2026, 12, 25))),
        ("27年10月", ParsedDate(date(2027, 10, 1), "month")),  # a two-digit year
        ("三月份到期", ParsedDate(date(2027, 3, 1), "month")),  # a month alone
        ("两周后", ParsedDate(date(2026, 12, 14))),
        ("一周前", ParsedDate(date(2026, 11, 23))),
    ],
)
def test_dates_in_chinese_numerals(text: str, expected: ParsedDate) -> None:
    assert parse_date(text, "zh", TODAY) == expected


def test_an_impossible_chinese_date_is_no_month_either() -> None:
    assert parse_date("二〇二七年二月三十日", "zh", TODAY) is None
