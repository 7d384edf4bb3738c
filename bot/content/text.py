"""This module contains text normalisation and tokenisation that work in every script we serve."""

from __future__ import annotations

import re
import unicodedata

# Arabic-script letters that are written several ways: folded to one form so that
# "الاقامة" finds "الإقامة" and Urdu keyboards match Arabic ones.
_ARABIC_FOLDS = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ی": "ي",
        "ې": "ي",
        "ک": "ك",
        "ہ": "ه",
        "ۀ": "ه",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        "ـ": None,  # tatweel, a stretching stroke with no meaning
    }
)
_ARABIC_MARKS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _strip_latin_accents(text: str) -> str:
    """Drop accents from Latin, Greek and Cyrillic letters only.

    Marks in other scripts (Bengali vowel signs, for example) are part of the word.
    """
    decomposed = unicodedata.normalize("NFD", text)
    kept: list[str] = []
    for char in decomposed:
        if unicodedata.category(char) == "Mn" and kept and ord(kept[-1]) < 0x0530:
            continue
        kept.append(char)
    return unicodedata.normalize("NFC", "".join(kept))


def normalise(text: str) -> str:
    """Fold case, width, accents and letter variants; keep letters, marks and digits."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _ARABIC_MARKS.sub("", text).translate(_ARABIC_FOLDS)
    text = _strip_latin_accents(text)
    cleaned = "".join(
        char if unicodedata.category(char)[0] in "LMN" else " " for char in text.replace("'", " ")
    )
    return " ".join(cleaned.split())


def tokens(text: str) -> list[str]:
    """Words of ``text`` after :func:`normalise`; Chinese runs become characters and pairs."""
    result: list[str] = []
    for word in normalise(text).split():
        if not _CJK.search(word):
            # The Arabic article is glued to the word: "الاقامه" is "اقامه".
            if word.startswith("ال") and len(word) >= 5:
                word = word[2:]
            result.append(word)
            continue
        for run in re.split(r"([\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)", word):
            if not run:
                continue
            if _CJK.match(run):
                result.extend(run)
                result.extend(run[i : i + 2] for i in range(len(run) - 1))
            else:
                result.append(run)
    return result


def has_cjk(text: str) -> bool:
    return _CJK.search(text) is not None
