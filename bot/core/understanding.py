"""This module contains free-text understanding: language, intent and topic of a message.

Scripts tell most languages apart; the lingua detector (its models ship in the package)
tells the Latin-script ones apart. Intents come from the phrases in ``intents.yaml``; topics
from the search index over the content.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from bot.content.catalog import Catalog
from bot.content.schema import WHOLE_MESSAGE_INTENTS, Intent
from bot.content.search import Match, SearchIndex
from bot.content.text import has_cjk, normalise, tokens

#: Intents that act when their phrase appears anywhere, most specific first.
CONTAINED_INTENTS = (
    Intent.FORGET,
    Intent.CANCEL,
    Intent.MY_APPOINTMENTS,
    Intent.BOOKING,
    Intent.HUMAN,
)

# Scores from SearchIndex: at or above CONFIDENT the best topic is answered directly
# (if it leads the next by MARGIN); at or above POSSIBLE the best few are offered.
CONFIDENT = 0.3
MARGIN = 0.02
POSSIBLE = 0.2
RANKED = 12  # topics looked at to find the best rival from another area
SHORT_MESSAGE_WORDS = 2  # up to this many words, one telling word may be enough

_URDU_LETTERS = re.compile("[ٹڈڑںےۓہھکگیپچژ]")

#: Enabled languages written in Latin letters, told apart by the lingua detector.
LATIN_LANGUAGES = frozenset({"it", "en", "fr", "es", "sq", "de", "pt", "ro", "pl", "tr"})
LANGUAGE_CONFIDENCE = 0.7


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...]) -> LanguageDetector:
    """A lingua detector for these languages (its models ship inside the package)."""
    languages = [
        Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in codes
    ]
    if len(languages) == 1:
        languages.append(Language.ENGLISH if languages[0] != Language.ENGLISH else Language.ITALIAN)
    return LanguageDetectorBuilder.from_languages(*languages).build()


@dataclass(frozen=True)
class Analysis:
    """What a message means: its language (if clear), intent and best topics."""

    language: str | None
    intent: Intent | None
    intent_language: str | None
    matches: tuple[Match, ...] = field(default=())
    confident: bool = False


class Understanding:
    """Understands messages against one catalog; build a new one when the catalog changes."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.index = SearchIndex(catalog)
        enabled = {language.code for language in catalog.enabled_languages}
        self._whole: dict[str, tuple[Intent, str]] = {}
        self._contained: list[tuple[Intent, str, str, list[str]]] = []
        for intent in Intent:
            for code, phrases in catalog.phrases(intent).items():
                if code not in enabled:
                    continue
                for phrase in phrases:
                    key = normalise(phrase)
                    if not key:
                        continue
                    if intent in WHOLE_MESSAGE_INTENTS:
                        self._whole.setdefault(key, (intent, code))
                    else:
                        self._contained.append((intent, code, key, tokens(phrase)))
        self._contained.sort(key=lambda entry: CONTAINED_INTENTS.index(entry[0]))

    def detect_language(self, text: str) -> str | None:
        """The enabled language ``text`` is clearly written in, or ``None`` when unsure."""
        enabled = {language.code for language in self.catalog.enabled_languages}
        counts: dict[str, int] = defaultdict(int)
        for char in text:
            code = ord(char)
            if 0x0600 <= code <= 0x06FF:
                counts["arabic"] += 1
            elif 0x0400 <= code <= 0x04FF:
                counts["uk"] += 1
            elif 0x0980 <= code <= 0x09FF:
                counts["bn"] += 1
            elif has_cjk(char):
                counts["zh"] += 1
            elif char.isalpha() and code < 0x0250:
                counts["latin"] += 1
        if not counts:
            return None
        script = max(counts, key=lambda key: counts[key])
        if script == "arabic":
            guess: str | None = "ur" if _URDU_LETTERS.search(text) else "ar"
        elif script == "latin":
            guess = self._latin_language(text, enabled)
        else:
            guess = script
        return guess if guess in enabled else None

    def _latin_language(self, text: str, enabled: set[str]) -> str | None:
        """Tell apart languages written in Latin letters (Italian, English, French, ...)."""
        words = tokens(text)
        if not words or (len(words) == 1 and len(words[0]) < 6):
            return None  # "ok", "si", "menu": too short to tell
        candidates = sorted(code for code in enabled if code in LATIN_LANGUAGES)
        if not candidates:
            return None
        detector = _detector(tuple(candidates))
        values = detector.compute_language_confidence_values(text)
        if not values or values[0].value < LANGUAGE_CONFIDENCE:
            return None
        code = values[0].language.iso_code_639_1.name.lower()
        return code if code in enabled else None

    def detect_intent(self, text: str) -> tuple[Intent, str] | None:
        """The intent of ``text`` and the language of the phrase that showed it."""
        key = normalise(text.lstrip("/"))
        if not key:
            return None
        if key in self._whole:
            return self._whole[key]
        words = tokens(text)
        for intent, code, phrase, phrase_words in self._contained:
            if phrase in key if has_cjk(phrase) else _contains_in_order(words, phrase_words):
                return intent, code
        return self._only_pleasantries(key)

    def _only_pleasantries(self, key: str) -> tuple[Intent, str] | None:
        """A message made only of greetings and thanks ("ciao grazie!") is a greeting."""
        found: tuple[Intent, str] | None = None
        rest = f" {key} "
        for phrase, (intent, code) in sorted(self._whole.items(), key=lambda item: -len(item[0])):
            if intent not in (Intent.GREETING, Intent.THANKS):
                continue
            if f" {phrase} " in rest:
                rest = rest.replace(f" {phrase} ", " ")
                if found is None or intent is Intent.GREETING:
                    found = (intent, code)
        return found if found is not None and not rest.strip() else None

    def analyse(self, text: str) -> Analysis:
        language = self.detect_language(text)
        detected = self.detect_intent(text)
        if detected is not None:
            return Analysis(language, detected[0], detected[1])
        ranked = self.index.search(text, limit=RANKED)
        # Close runners-up in the same area are the topic's own sub-topics: the best one,
        # which offers them as choices, is still the right answer. Sure means: high enough,
        # and clearly ahead of the best topic of any other area.
        best = ranked[0] if ranked else None
        rival = next((match for match in ranked if best and match.area != best.area), None)
        # One telling word is not enough in a longer message ("cambio euro dirham oggi" is
        # not about a change of address). Chinese has no spaces: its words cannot be counted.
        words = tokens(text)
        needed = 1 if len(words) <= SHORT_MESSAGE_WORDS or has_cjk(text) else 2
        confident = (
            best is not None
            and best.score >= CONFIDENT
            and best.strong >= needed
            and (rival is None or best.score - rival.score >= MARGIN)
        )
        possible = tuple(match for match in ranked[:3] if match.score >= POSSIBLE)
        return Analysis(language, None, None, possible, confident)


MAX_GAP = 2  # words allowed between those of an intent phrase ("passare giovedì in ufficio")


def _contains_in_order(words: list[str], phrase: list[str]) -> bool:
    """Whether the phrase's words appear in ``words`` in order, each at most MAX_GAP apart."""
    if not phrase:
        return False
    for start, word in enumerate(words):
        if word != phrase[0]:
            continue
        position = start
        for wanted in phrase[1:]:
            window = words[position + 1 : position + 2 + MAX_GAP]
            if wanted not in window:
                break
            position += 1 + window.index(wanted)
        else:
            return True
    return False
