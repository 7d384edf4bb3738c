"""Normalisation, tokenisation, search and language/intent detection."""

from __future__ import annotations

import pytest

from bot.content.catalog import Catalog
from bot.content.schema import Intent
from bot.content.search import SearchIndex
from bot.content.text import normalise, tokens
from bot.core.understanding import Understanding


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Permésso  di SOGGIORNO!", "permesso di soggiorno"),
        ("ＡＢＣ１２３", "abc123"),  # full-width forms
        ("الإِقَامَة", "الاقامه"),  # Arabic diacritics and letter variants
        ("ПРИВІТ", "привіт"),
        ("l'ufficio", "l ufficio"),
        ("অ্যাপয়েন্টমেন্ট", "অ্যাপয়েন্টমেন্ট"),  # Bengali vowel signs are kept
        ("", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_chinese_is_split_into_characters_and_pairs() -> None:
    assert tokens("居留证") == ["居", "留", "证", "居留", "留证"]


def test_arabic_article_is_dropped() -> None:
    assert tokens("الإقامة") == ["اقامه"]


def test_search_ranks_and_scores(catalog: Catalog) -> None:
    index = SearchIndex(catalog)
    results = index.search("rinnovare il permesso")
    assert results[0].topic == "permit_renewal"
    assert 0 < results[0].score <= 1
    assert index.search("") == []
    assert index.search("zzzz qqqq") == []


def test_search_across_languages(catalog: Catalog) -> None:
    # An Italian keyword inside an English sentence still counts.
    assert SearchIndex(catalog).search("kit postale please")[0].topic == "permit_renewal"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("come rinnovo il permesso di soggiorno", "it"),
        ("how do i renew my permit", "en"),
        ("كيف أجدد الإقامة", "ar"),
        ("ok", None),
        ("12345", None),
    ],
)
def test_language_detection(catalog: Catalog, text: str, language: str | None) -> None:
    assert Understanding(catalog).detect_language(text) == language


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("menu", Intent.MENU),
        ("MENU!", Intent.MENU),
        ("the menu of the restaurant", None),  # whole-message words act only alone
        ("lingua", Intent.LANGUAGE),
        ("vorrei un appuntamento domani", Intent.BOOKING),
        ("cancel my appointment", Intent.CANCEL),  # more specific than booking
        ("ciao grazie", Intent.GREETING),
        ("ciao come rinnovo il permesso", None),
    ],
)
def test_intent_detection(catalog: Catalog, text: str, intent: Intent | None) -> None:
    found = Understanding(catalog).detect_intent(text)
    assert (found[0] if found else None) == intent
