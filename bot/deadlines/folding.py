"""This module contains the folding of a message before its dates are read, and the pieces of
regular expression that keep a word from being read inside another.

A message and the words it is compared with are folded the same way: case, width, Latin
accents, Arabic vowel marks and hamza, the Arabic and Urdu forms of one letter (ي ى ی, ك ک,
ه ہ ة), native digits as ASCII digits.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

# Combining accents of Latin letters; the Arabic vowel marks and hamza (أ إ are ا to many
# who type them), the superscript alef and the tatweel. The madda stays: "آب" is August, "أب"
# a father.
_MARKS = re.compile("[\u0300-\u036f\u064b-\u0652\u0654\u0655\u0670\u0640]")
# One letter, written in Arabic or in Urdu, with or without its dots: "بكرة" and "بكره",
# "یکم" typed on an Arabic keyboard.
_LETTER_FORMS = str.maketrans(
    {
        "\u0649": "\u064a",  # ى alef maksura
        "\u06cc": "\u064a",  # ی Farsi yeh
        "\u06a9": "\u0643",  # ک keheh
        "\u06c1": "\u0647",  # ہ heh goal
        "\u0629": "\u0647",  # ة teh marbuta
        "\u06c3": "\u0647",  # ۃ teh marbuta goal
        "\u0671": "\u0627",  # ٱ alef wasla
        "\u02bc": "'",  # ʼ the Ukrainian apostrophe ("пʼять")
        "\u2019": "'",
    }
)

# Not after or before a letter or digit: "mar" is no month inside "martedì", nor "2" a day
# inside "12".
BEFORE = r"(?<![^\W_])"
AFTER = r"(?![^\W_])"
# Numbers end where digits end: a letter may follow ("2027р.", "2027م") or come before.
NUM_BEFORE = r"(?<!\d)"
NUM_AFTER = r"(?!\d)"
#: Chinese characters: Chinese writes no spaces between words.
CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff]")


def fold(text: str) -> str:
    """Case, width, accents, letter forms and native digits folded, punctuation kept:
    "١٢/٠٣" is "12/03"."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_LETTER_FORMS)
    text = _MARKS.sub("", unicodedata.normalize("NFD", text))
    text = unicodedata.normalize("NFC", text)
    return "".join(
        str(unicodedata.decimal(char)) if char.isdecimal() and not char.isascii() else char
        for char in text
    )


def alternatives(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, longest first so that "marzo" wins over "mar"; a
    space between two words may be any run of spaces."""
    return "|".join(
        re.escape(word).replace(r"\ ", r"\s+") for word in sorted(words, key=len, reverse=True)
    )
