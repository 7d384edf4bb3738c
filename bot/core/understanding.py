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
from bot.content.classifier import Classifier
from bot.content.schema import TAUGHT_INTENTS, WHOLE_MESSAGE_INTENTS, Intent
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

# How a message's subject is decided. The classifier gives each topic, taught intent and
# "off topic" a probability; topics of one area add up (a topic and its sub-topics are one
# answer: the best of them offers the others). The answer is given directly when its area is
# likely enough (AREA_SURE) and clearly ahead (MARGIN) of every other area, of an intent and of
# "off topic". Otherwise the best topics above POSSIBLE are offered as "did you mean".
# Calibrated on the tuning questions and the phrasings (benchmarks/understanding.py).
AREA_SURE = 0.45
MARGIN = 0.15
INTENT_SURE = 0.6  # a taught intent ("I want to talk to someone") acts above this
# A probability says which label is likeliest, not whether the message resembles anything the
# content teaches: the answer also needs an example this close (cosine of the features).
NEAREST = 0.3
NEAREST_OFFERED = 0.15  # ... and a topic offered as "did you mean" one at least this close
POSSIBLE = 0.1
OFFERED = 3  # topics offered when unsure
LEXICAL_SHARE = 0.3  # weight of the word search in a topic's score, beside the classifier
OFF_TOPIC = "~off_topic"
RANKED = 12  # topics the word search ranks
INTENT_LABEL = "!"  # classifier labels of taught intents: "!human", "!booking"

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
    #: The closest topic even when too far to offer: where editors should look.
    nearest: Match | None = None


class Understanding:
    """Understands messages against one catalog; build a new one when the catalog changes."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.index = SearchIndex(catalog)
        self.classifier = Classifier.train(training_examples(catalog))
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
        if not self.classifier.knows_any(text):
            return Analysis(language, None, None)  # nothing in it was ever seen: no guess
        chances = dict(self.classifier.rank(text))
        taught = max(
            ((intent, chances.get(INTENT_LABEL + intent.value, 0.0)) for intent in TAUGHT_INTENTS),
            key=lambda pair: pair[1],
        )
        classifier = self.classifier
        if taught[1] >= INTENT_SURE and (
            classifier.nearest(text, INTENT_LABEL + taught[0].value) >= NEAREST
        ):
            return Analysis(language, taught[0], language)
        matches = self._ranked_topics(text, chances)
        by_area: dict[str, float] = defaultdict(float)
        for topic_id, topic in self.catalog.topics.items():
            by_area[topic.area] += chances.get(topic_id, 0.0)
        best = matches[0] if matches else None
        rivals = [chances.get(OFF_TOPIC, 0.0), taught[1]]
        rivals += [mass for area, mass in by_area.items() if best is None or area != best.area]
        area_mass = by_area[best.area] if best else 0.0
        confident = (
            best is not None
            and area_mass >= AREA_SURE
            and area_mass - max(rivals) >= MARGIN
            and classifier.nearest(text, best.topic) >= NEAREST
        )
        possible = tuple(
            match
            for match in matches[:OFFERED]
            if match.score >= POSSIBLE and classifier.nearest(text, match.topic) >= NEAREST_OFFERED
        )
        return Analysis(language, None, None, possible, confident, best)

    def _ranked_topics(self, text: str, chances: dict[str, float]) -> list[Match]:
        """Topics by the classifier's chance and the word search's score together."""
        lexical = {match.topic: match for match in self.index.search(text, limit=RANKED)}
        scored = []
        for topic_id, topic in self.catalog.topics.items():
            found = lexical.get(topic_id)
            score = (1 - LEXICAL_SHARE) * chances.get(topic_id, 0.0) + LEXICAL_SHARE * (
                found.score if found else 0.0
            )
            strong = found.strong if found else 0
            scored.append(Match(topic_id, topic.area, round(score, 3), strong))
        scored.sort(key=lambda match: (-match.score, match.topic))
        return scored


def training_examples(catalog: Catalog) -> list[tuple[str, str]]:
    """What the classifier learns from: every way the content says what each label sounds like.

    Titles, keywords and sample questions of each topic and its phrasings; the phrases and
    phrasings of the taught intents; the off-topic phrasings.
    """
    examples: list[tuple[str, str]] = []
    phrasings = catalog.phrasings
    for topic in catalog.topics.values():
        texts = [*topic.title.values.values()]
        texts += [phrase for group in topic.keywords.values() for phrase in group]
        texts += [phrase for group in topic.questions.values() for phrase in group]
        texts += [phrase for _, phrase in phrasings.topics.get(topic.id, ())]
        examples += [(topic.id, text) for text in texts]
    for intent in TAUGHT_INTENTS:
        texts = [phrase for group in catalog.phrases(intent).values() for phrase in group]
        texts += [phrase for _, phrase in phrasings.intents.get(intent, ())]
        examples += [(INTENT_LABEL + intent.value, text) for text in texts]
    examples += [(OFF_TOPIC, phrase) for _, phrase in phrasings.off_topic]
    return examples


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
