"""This module contains the personal details people type: a name, a phone number.

Both are checked the same way wherever they are asked (a booking, a request). A name that
cannot be taken gets a reason the user can act on; a phone number is accepted however people
write it (spaces, dots, brackets, "+39" or "0039", Arabic-Indic or Persian digits) and kept in
one form, "+393331234567", that staff can dial and search.
"""

from __future__ import annotations

import unicodedata
from enum import StrEnum

from bot.content.markup import strip_invisible
from bot.i18n import N_, Translator

NAME_MIN, NAME_MAX = 2, 80
ITALY = "39"  # a number written without a country code is Italian: the counter is in Italy
# E.164 allows at most 15 digits; shorter than 8 is no reachable number in any country we serve.
PHONE_MIN_DIGITS, PHONE_MAX_DIGITS = 8, 15
_PHONE_SEPARATORS = frozenset(" .-/()[]\u00a0\u2007\u202f")


class NameProblem(StrEnum):
    """Why a typed name cannot be taken."""

    SHORT = "short"
    LONG = "long"
    NO_LETTERS = "no_letters"
    DIGITS = "digits"


_NAME_ERRORS = {
    NameProblem.SHORT: N_("That is too short: please write your name and surname."),
    NameProblem.LONG: N_(
        "That is too long: please write only your name and surname (at most 80 characters)."
    ),
    NameProblem.NO_LETTERS: N_("Please write your name and surname with letters."),
    NameProblem.DIGITS: N_("Please write your name and surname without numbers."),
}


#: What a user is told when a typed phone number cannot be read.
PHONE_AGAIN = N_(
    "That does not look like a phone number. Please write it again, for example 333 1234567."
)


def clean_name(text: str) -> str | NameProblem:
    """The name with its spaces tidied and invisible characters (bidirectional controls,
    zero-width spaces) dropped, or what is wrong with it."""
    name = " ".join(strip_invisible(text).split())
    if any(unicodedata.category(char) == "Nd" for char in name):
        return NameProblem.DIGITS
    if not any(char.isalpha() for char in name):
        return NameProblem.NO_LETTERS
    if len(name) < NAME_MIN:
        return NameProblem.SHORT
    if len(name) > NAME_MAX:
        return NameProblem.LONG
    return name


def name_error(problem: NameProblem, t: Translator) -> str:
    return t._(_NAME_ERRORS[problem])


def normalise_phone(text: str) -> str | None:
    """A typed phone number as "+<country><number>", or None if it is not one.

    Digits of any script count ("٣٣٣", "۳۳۳", "３３３"); spaces, dots, dashes, slashes and
    brackets are dropped; "+" or "00" starts an international number, anything else is an
    Italian one (landlines keep their leading 0: +39 0332 ...).
    """
    digits: list[str] = []
    plus = False
    for char in unicodedata.normalize("NFKC", text.strip()):
        if char in _PHONE_SEPARATORS or char.isspace():
            continue
        value = unicodedata.decimal(char, None)
        if value is not None:
            digits.append(str(value))
        elif char == "+" and not digits and not plus:
            plus = True
        else:
            return None  # letters, or a "+" in the middle: not a number we can call
    number = "".join(digits)
    if plus:
        international = number
    elif number.startswith("00"):
        international = number[2:]
    elif number.startswith(ITALY) and len(number) > 11:
        # "393331234567": an Italian number with its country code but no "+" (Italian
        # numbers themselves have at most 11 digits).
        international = number
    else:
        international = ITALY + number
    if not PHONE_MIN_DIGITS <= len(international) <= PHONE_MAX_DIGITS:
        return None
    if international.startswith("0"):
        return None  # no country code starts with 0
    return "+" + international
