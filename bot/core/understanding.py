"""This module contains free-text understanding: language, intent and topic of a message.

Deliberately simple (word lists and the content's own vocabulary); it answers the same
questions a richer model would, so the engine does not change when this gets smarter.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from bot.content.catalog import Catalog
from bot.content.schema import WHOLE_MESSAGE_INTENTS, Intent
from bot.content.search import Match, SearchIndex
from bot.content.text import has_cjk, normalise, tokens

#: Intents that act when their phrase appears anywhere, most specific first.
CONTAINED_INTENTS = (Intent.CANCEL, Intent.MY_APPOINTMENTS, Intent.BOOKING, Intent.HUMAN)

# Scores from SearchIndex: at or above CONFIDENT the best topic is answered directly
# (if it leads the next by MARGIN); at or above POSSIBLE the best few are offered.
CONFIDENT = 0.45
MARGIN = 0.08
POSSIBLE = 0.2

# Function words that tell Latin-script languages apart when the content's words do not.
_FUNCTION_WORDS = {
    "it": "il lo la gli le di da in con su per tra fra che non come cosa dove quando sono mio mia "
    "voglio vorrei devo posso ho ha un una del della dei nel alla",
    "en": "the a an of to in on for with and is are my i how what where when can do does need "
    "want have please",
    "fr": "le la les de des du un une et est je mon ma mes comment quoi ou quand pour avec veux "
    "voudrais dois avoir",
    "es": "el la los las de del un una y es mi mis como que donde cuando para con quiero necesito "
    "puedo tengo",
    "sq": "dhe te të një e i në per për si ku kur me jam kam dua duhet une unë im ime",
}
_FUNCTION_SETS = {code: set(words.split()) for code, words in _FUNCTION_WORDS.items()}

_URDU_LETTERS = re.compile("[ٹڈڑںےۓہھکگیپچژ]")


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
        self._vocabulary: dict[str, set[str]] = defaultdict(set)
        for topic in catalog.topics.values():
            for text_map in (topic.title.values, topic.answer.values):
                for code, text in text_map.items():
                    self._add_vocabulary(code, text)
            for phrase_map in (topic.keywords, topic.questions):
                for code, phrases in phrase_map.items():
                    for phrase in phrases:
                        self._add_vocabulary(code, phrase)
        for code, words in _FUNCTION_SETS.items():
            for word in words:
                self._add_vocabulary(code, word)
        self._whole: dict[str, tuple[Intent, str]] = {}
        self._contained: list[tuple[Intent, str, str]] = []
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
                        self._contained.append((intent, code, key))
                    self._add_vocabulary(code, phrase)
        self._contained.sort(key=lambda entry: CONTAINED_INTENTS.index(entry[0]))

    def _add_vocabulary(self, code: str, text: str) -> None:
        for token in tokens(text):
            self._vocabulary[token].add(code)

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
        scores: dict[str, float] = defaultdict(float)
        for token in tokens(text):
            languages = self._vocabulary.get(token, set()) & enabled
            for code in languages:
                scores[code] += 1.0 / len(languages)
        if not scores:
            return None
        ranked = sorted(scores.items(), key=lambda item: -item[1])
        best, best_score = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        return best if best_score >= 1.0 and best_score > runner_up * 1.5 else None

    def detect_intent(self, text: str) -> tuple[Intent, str] | None:
        """The intent of ``text`` and the language of the phrase that showed it."""
        key = normalise(text.lstrip("/"))
        if not key:
            return None
        if key in self._whole:
            return self._whole[key]
        padded = f" {key} "
        for intent, code, phrase in self._contained:
            if phrase in key if has_cjk(phrase) else f" {phrase} " in padded:
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
        matches = tuple(self.index.search(text))
        # Close runners-up in the same area are the topic's own sub-topics: the best one,
        # which offers them as choices, is still the right answer.
        confident = (
            bool(matches)
            and matches[0].score >= CONFIDENT
            and (
                len(matches) == 1
                or matches[0].score - matches[1].score >= MARGIN
                or matches[0].area == matches[1].area
            )
        )
        possible = tuple(match for match in matches if match.score >= POSSIBLE)
        return Analysis(language, None, None, possible, confident)
