"""This module contains the reading of Chinese numerals in dates as digits.

Chinese writes a year digit by digit ("二〇二七年" is 2027) and a month, a day or a count with
tens ("十二月" is December, "二十五日" the 25th, "三周" three weeks). Only numerals before a
word of time (年 月 日 号 周 天 个 星期 礼拜) are turned into digits: elsewhere "一" is a word
of its own ("一样", "统一"), and a date needs no more.
"""

from __future__ import annotations

import re

_DIGITS = {
    "〇": 0,
    "零": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "兩": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUMERAL = re.compile(
    "(?P<numeral>[" + "".join(_DIGITS) + "十百]+)(?=\\s*[年月日号號周週天个個星礼禮])"
)


def chinese_numerals_as_digits(text: str) -> str:
    """``text`` with the Chinese numerals of its dates and counts written in digits."""
    return _NUMERAL.sub(lambda match: str(_value(match["numeral"])), text)


def _value(numeral: str) -> int:
    """ "二〇二七" is 2027 (digit by digit); "十二" 12, "二十五" 25, "一百" 100 (with tens)."""
    if "十" not in numeral and "百" not in numeral:
        return int("".join(str(_DIGITS[char]) for char in numeral))
    total, digit = 0, 0
    for char in numeral:
        if char == "百":
            total += (digit or 1) * 100
            digit = 0
        elif char == "十":
            total += (digit or 1) * 10
            digit = 0
        else:
            digit = _DIGITS[char]
    return total + digit
