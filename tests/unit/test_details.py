"""Names and phone numbers as people type them."""

from __future__ import annotations

import pytest

from bot.core.details import NameProblem, clean_name, normalise_phone


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("333 1234567", "+393331234567"),
        ("333.123.45.67", "+393331234567"),
        ("333-1234567", "+393331234567"),
        ("(333) 123 4567", "+393331234567"),
        ("+39 333 1234567", "+393331234567"),
        ("0039 333 1234567", "+393331234567"),
        ("393331234567", "+393331234567"),
        ("0332 536727", "+390332536727"),
        ("٣٣٣ ١٢٣٤٥٦٧", "+393331234567"),  # Arabic-Indic digits
        ("۳۳۳ ۱۲۳ ۴۵۶۷", "+393331234567"),  # Persian (Eastern Arabic) digits, as in Urdu
        ("+٣٩ ٣٣٣ ١٢٣٤٥٦٧", "+393331234567"),
        ("３３３ １２３４５６７", "+393331234567"),  # full-width, from a Chinese keyboard
        ("৩৩৩ ১২৩৪৫৬৭", "+393331234567"),  # Bengali digits
        ("+212 6 12 34 56 78", "+212612345678"),
        ("00212612345678", "+212612345678"),
    ],
)
def test_phone_numbers_are_accepted_however_written_and_kept_in_one_form(
    typed: str, expected: str
) -> None:
    assert normalise_phone(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["chiamami", "123", "333 12 ab 567", "333+1234567", "+39 333 1234567 ext 2", "", "+", "00"],
)
def test_what_is_not_a_phone_number(typed: str) -> None:
    assert normalise_phone(typed) is None


def test_a_number_longer_than_any_country_allows_is_refused() -> None:
    assert normalise_phone("+39 333 1234567 1234") is None


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("  Amina   Rossi ", "Amina Rossi"),
        ("أمينة روسي", "أمينة روسي"),
        ("王芳", "王芳"),
        ("R2D2", NameProblem.DIGITS),
        ("Amina ٣", NameProblem.DIGITS),
        ("...", NameProblem.NO_LETTERS),
        ("A", NameProblem.SHORT),
        ("Amina " * 20, NameProblem.LONG),
    ],
)
def test_names_are_tidied_or_refused_with_a_reason(typed: str, expected: str) -> None:
    assert clean_name(typed) == expected
