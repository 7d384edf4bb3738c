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


_ASCII_SEPARATORS = re.compile(r"[^a-z0-9]+")


def normalise(text: str) -> str:
    """Fold case, width, accents and letter variants; keep letters, marks and digits."""
    if text.isascii():  # most messages: the same result, without looking at each character
        return " ".join(_ASCII_SEPARATORS.sub(" ", text.lower()).split())
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


# The sound classes of the cross-script key (see ``sound_key``). Vowels, glides (w, y), h and
# the Arabic ain and hamza carry no class: every script writes them differently, or not at all.
# Letter groups of Latin writing, first: their class in capitals, so that the letters
# they produce are not read again as Latin letters ("x" is a class here, and a Latin "ks").
_LATIN_GROUPS = (
    ("sch", "X"),
    ("sh", "X"),
    ("ch", "X"),
    ("gh", "G"),
    ("kh", "K"),
    ("ph", "F"),
    ("th", "T"),
    ("dh", "D"),
    ("ck", "K"),
    ("qu", "K"),
)
_LATIN_SOFT = re.compile(r"sc(?=[ei])|c(?=[ei])")  # Italian: "cittadinanza", "codice", "sceglie"
_LATIN_LETTERS = str.maketrans(
    {
        "p": "b",
        "b": "b",
        "f": "f",
        "v": "f",
        "t": "t",
        "d": "d",
        "k": "k",
        "c": "k",
        "q": "k",
        "g": "g",
        "j": "g",
        "x": "k",
        "s": "s",
        "z": "s",
        "m": "m",
        "n": "n",
        "l": "l",
        "r": "r",
        # Arabic written in Latin letters and digits ("9rib", "5ouya"): qaf and kha sound k.
        "9": "k",
        "5": "k",
        **{capital: capital.lower() for capital in "XGKFTD"},
    }
)
_OTHER_LETTERS = str.maketrans(
    {
        # Arabic and Urdu (after normalise's folding)
        "ب": "b", "پ": "b", "ف": "f", "ڤ": "f", "ت": "t", "ط": "t", "ٹ": "t",
        "د": "d", "ض": "d", "ڈ": "d", "ك": "k", "ق": "k", "خ": "k", "گ": "g", "غ": "g",
        "ج": "g", "چ": "x", "ش": "x", "س": "s", "ص": "s", "ث": "s", "ز": "s", "ذ": "s",
        "ظ": "s", "ژ": "s", "م": "m", "ن": "n", "ں": "n", "ل": "l", "ر": "r", "ڑ": "r",
        # Cyrillic (Ukrainian and Russian)
        "п": "b", "б": "b", "ф": "f", "в": "f", "т": "t", "д": "d", "к": "k", "х": "k",
        "г": "g", "ґ": "g", "ж": "g", "ч": "x", "ш": "x", "щ": "x", "с": "s",
        "з": "s", "ц": "s", "м": "m", "н": "n", "л": "l", "р": "r",
        # Bengali
        "প": "b", "ব": "b", "ভ": "b", "ফ": "f", "ত": "t", "ট": "t", "থ": "t", "ঠ": "t",
        "দ": "d", "ড": "d", "ধ": "d", "ঢ": "d", "ক": "k", "খ": "k", "গ": "g", "ঘ": "g",
        "জ": "g", "ঝ": "g", "য": "g", "চ": "x", "ছ": "x", "শ": "s", "ষ": "s", "স": "s",
        "ম": "m", "ন": "n", "ণ": "n", "ং": "n", "ল": "l", "র": "r",
    }
)  # fmt: skip
_KEY_CLASSES = frozenset("bfdtkgxsmnlr")
MIN_KEY_LENGTH = 3  # shorter keys ("ns", "st") would join unrelated words


def sound_key(word: str) -> str | None:
    """The consonant skeleton of a word, the same in every script we serve.

    People write Italian terms in their own letters: "پرمیسو", "برميسو", "পারমেসো" and
    "пермессо" are all "permesso", whose key is "brms". Vowels are dropped (Arabic script
    mostly omits them), close sounds share a class (Arabic has no p, so "b" stands for both),
    and doubled letters count once. ``None`` when too little is left to tell words apart.
    """
    return token_sound_key(normalise(word))


def token_sound_key(word: str) -> str | None:
    """:func:`sound_key` of a word already normalised (a token)."""
    if not word or has_cjk(word):
        return None
    if word.isascii():
        if not any(char.isalpha() for char in word):
            return None
        word = _LATIN_SOFT.sub("X", word)
        for group, sound in _LATIN_GROUPS:
            word = word.replace(group, sound)
        classes = word.translate(_LATIN_LETTERS)
    else:
        # Letter pairs first: Arabic writes "ch" as "تش"; Ukrainian "qu" as "кв", "dj" as "дж";
        # Bengali "য়" (with its dot) is a glide, not the "j" of a plain "য".
        for pair, sound in (("تش", "x"), ("кв", "к"), ("дж", "g"), ("য\u09bc", "")):
            word = word.replace(pair, sound)
        classes = word.translate(_OTHER_LETTERS)
    key: list[str] = []
    for char in classes:
        if char in _KEY_CLASSES and (not key or key[-1] != char):
            key.append(char)
    return "".join(key) if len(key) >= MIN_KEY_LENGTH else None
