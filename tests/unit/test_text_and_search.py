"""Normalisation, tokenisation, search and language/intent detection."""

from __future__ import annotations

import pytest

from bot.content.catalog import Catalog
from bot.content.schema import Intent
from bot.content.text import normalise, sound_key, tokens
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


@pytest.mark.parametrize(
    ("spellings", "key"),
    [
        (["permesso", "permeso", "پرمیسو", "برميسو", "পারমেসো", "пермессо"], "brms"),
        (["questura", "کوئستورا", "квестура", "কোয়েস্তুরা"], "kstr"),
        (["soggiorno", "سوجورنو"], "sgrn"),
        (["cittadinanza", "تشيتادينانزا"], "xtdns"),  # Italian "ci" and Arabic "تش": one sound
        (["codice", "کودیچے", "কোদিচে"], "kdx"),
        (["prefettura", "پریفیتورا"], "brftr"),
        (["bghit", "بغيت"], "bgt"),  # Darija in Latin letters and in Arabic script
        (["9rib", "قريب"], "krb"),  # Arabizi digits: 9 is qaf
    ],
)
def test_sound_keys_join_one_word_across_scripts(spellings: list[str], key: str) -> None:
    assert {sound_key(spelling) for spelling in spellings} == {key}


@pytest.mark.parametrize("word", ["ok", "ciao", "osta", "居留", "123"])
def test_short_or_unkeyable_words_have_no_sound_key(word: str) -> None:
    assert sound_key(word) is None


def test_chinese_is_split_into_characters_and_pairs() -> None:
    assert tokens("居留证") == ["居", "留", "证", "居留", "留证"]


def test_arabic_article_is_dropped() -> None:
    assert tokens("الإقامة") == ["اقامه"]


def closest(catalog: Catalog, text: str) -> str | None:
    nearest = Understanding(catalog).analyse(text).nearest
    return nearest.topic if nearest else None


def test_topics_are_ranked_and_scored(catalog: Catalog) -> None:
    analysis = Understanding(catalog).analyse("rinnovare il permesso")
    assert analysis.matches[0].topic == "permit_renewal"
    assert 0 < analysis.matches[0].score <= 1
    assert not Understanding(catalog).analyse("").matches
    assert not Understanding(catalog).analyse("zzzz qqqq").matches  # nothing ever seen


def test_a_word_of_another_language_still_counts(catalog: Catalog) -> None:
    assert closest(catalog, "kit postale please") == "permit_renewal"


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


def test_other_forms_of_a_word_share_its_letters(catalog: Catalog) -> None:
    # "rinnovi" and "rinnovo", "renewing" and "renew": character n-grams in common.
    assert closest(catalog, "rinnovi") == "permit_renewal"
    assert closest(catalog, "renewing") == "permit_renewal"


def test_typos_are_tolerated(catalog: Catalog) -> None:
    assert closest(catalog, "smarito") == "permit_lost"  # one letter missing
    assert closest(catalog, "rubatto") == "permit_lost"  # one letter too many


def test_synonyms_declared_in_content(content_copy) -> None:
    from bot.content.loader import load_catalog
    from tests.conftest import TODAY

    (content_copy / "synonyms.yaml").write_text(
        "synonyms:\n  - [smarrito, perduto, 遗失]\n", encoding="utf-8"
    )
    catalog = load_catalog(content_copy, today=TODAY)
    assert closest(catalog, "permesso perduto") == "permit_lost"
    assert closest(catalog, "遗失") == "permit_lost"  # only the synonym group links them


def test_invalid_synonyms_are_reported(content_copy) -> None:
    from bot.content.loader import validate
    from tests.conftest import TODAY

    (content_copy / "synonyms.yaml").write_text("synonyms:\n  - [alone]\n", encoding="utf-8")
    errors = [str(error) for error in validate(content_copy, today=TODAY).errors]
    assert errors == [
        "synonyms.yaml:2: each synonym group is a list of at least two non-empty phrases"
    ]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("comment renouveler mon titre de séjour", "fr"),
        ("mi scade il permesso tra un mese", "it"),
        ("menu", None),  # a single short word says nothing
    ],
)
def test_latin_languages_told_apart_by_lingua(
    catalog: Catalog, text: str, language: str | None
) -> None:
    assert Understanding(catalog).detect_language(text) == language


def test_off_topic_examples_teach_what_to_leave_unanswered(catalog: Catalog) -> None:
    understanding = Understanding(catalog)
    # One word of ours ("scadenza") in small talk like the off-topic phrasings: no answer.
    chat = understanding.analyse("scadenza cambio euro dollaro oggi")
    assert not chat.confident
    assert chat.nearest is not None and chat.nearest.topic == "permit_renewal"
    assert not understanding.analyse("best pizza recipe with pineapple").matches
    assert understanding.analyse("scadenza").confident  # a one-word message may be enough


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("vorrei un appuntamento", Intent.BOOKING),
        ("vorrei fissare domani un appuntamento", Intent.BOOKING),
        ("i want to cancel tomorrow my appointment", Intent.CANCEL),  # one word in between
        ("cancel the trip and my appointment", Intent.BOOKING),  # too far apart to be "cancel"
    ],
)
def test_intent_phrases_allow_a_few_words_in_between(
    catalog: Catalog, text: str, intent: Intent
) -> None:
    found = Understanding(catalog).detect_intent(text)
    assert found is not None and found[0] is intent
