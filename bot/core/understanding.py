"""This module contains free-text understanding: language, intent and topic of a message.

Scripts tell most languages apart; the lingua detector (its models ship in the package)
tells the Latin-script ones apart. Intents come from the phrases in ``intents.yaml`` and from
the classifier; topics from the classifier trained on the content (bot/content/classifier.py).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
from lingua import IsoCode639_1, Language, LanguageDetector, LanguageDetectorBuilder

from bot.content.catalog import Catalog
from bot.content.classifier import Classifier, Query
from bot.content.phrase_patterns import Phrases, compiled, found_in
from bot.content.schema import TAUGHT_INTENTS, WHOLE_MESSAGE_INTENTS, Intent
from bot.content.text import has_cjk, normalise, tokens

#: Intents that act when their phrase appears anywhere, most specific first.
CONTAINED_INTENTS = (
    Intent.FORGET,
    Intent.MY_REMINDERS,
    Intent.DEADLINES,  # "le mie scadenze": no topic's question, it always acts
    Intent.CHECKLIST,  # "what documents do I bring": before "my appointment" in the same message
    Intent.CANCEL,
    Intent.MY_APPOINTMENTS,
    Intent.BOOKING,
    Intent.HUMAN,
)
#: Contained intents that act whatever the classifier makes of the message.
# The checklist's phrases ask what to *bring* ("which documents do I need for citizenship?" is
# the citizenship topic's question), so no topic's answer is lost to them.
_ALWAYS_ACT = frozenset({Intent.FORGET, Intent.MY_REMINDERS, Intent.DEADLINES, Intent.CHECKLIST})

# How a message's subject is decided. The classifier gives each area, taught intent and
# "off topic" a probability; the area's topics are ranked by their resemblance to the message
# (the best of them is answered, and offers its sub-topics). The answer is given directly when
# its area is likely enough (AREA_SURE), clearly ahead (MARGIN) of every other area, intent and
# "off topic", and the message resembles one of the topic's examples (NEAREST): a probability
# says which label is likeliest, not whether the message is like anything the content teaches.
# Otherwise the best topics are offered as "did you mean". Calibrated on the tuning questions
# (benchmarks/understanding.py), never on the held-out ones.
AREA_SURE = 0.45
MARGIN = 0.15
INTENT_SURE = 0.5  # a taught intent ("I want to talk to someone") acts above this
NEAREST = 0.15
NEAREST_OFFERED = 0.1  # a topic offered as "did you mean" needs an example at least this close
# An intent phrase found inside a message ("appointment", "talk to someone") acts, unless the
# message is clearly about a topic and the classifier finds that intent this unlikely:
# "my fingerprint appointment at the Questura", "my husband won't let me talk to anyone".
PHRASE_DOUBTED = 0.15
POSSIBLE = 0.1  # ... and its area at least this likely
OFFERED = 3  # topics offered when unsure
OFF_TOPIC = "~off_topic"
RANKED = 12  # topics ranked for a message: the offered ones and the nearest come from these
AREA_LABEL = "@"  # classifier labels of areas: "@permits"
INTENT_LABEL = "!"  # classifier labels of taught intents: "!human", "!booking"

_URDU_LETTERS = re.compile("[ٹڈڑںےۓہھکگیپچژ]")

#: Enabled languages written in Latin letters, told apart by the lingua detector.
LATIN_LANGUAGES = frozenset({"it", "en", "fr", "es", "sq", "de", "pt", "ro", "pl", "tr"})
LANGUAGE_CONFIDENCE = 0.7
# The lingua detector runs in its low-accuracy mode (see _detector), which is sure of itself
# on short texts and wrong ("klingon" and "qwertyuiop" look Italian, "cancella i miei dati"
# French): shorter texts are left to the content's own language model, or unsure, so the
# user's language stays as it was instead of switching on a guess.
LINGUA_MIN_LETTERS = 24
# ... and sure of itself on random letters too ("zxqv blorf wimble zanzibar" is French, and so
# are four in five random strings at 0.7): its answer stands only when some of the words are
# words the content uses, where the content teaches that language well (every tuning question
# has a fifth of such words; 1.5% of random strings do). A language the content has few or no
# sample messages in is taken on lingua's word alone.
LINGUA_WORDS_KNOWN = 0.2
WELL_TAUGHT = 100  # sample messages in a language for the content to know its common words
TAUGHT_LANGUAGE_SURE = 0.8  # the content's own language model decides above this ...
WORDS_KNOWN = 0.5  # ... for a message of which the content uses at least this share of words


@lru_cache(maxsize=8)
def _detector(codes: tuple[str, ...]) -> LanguageDetector:
    """A lingua detector for these languages (its models ship inside the package)."""
    languages = [
        Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in codes
    ]
    if len(languages) == 1:
        languages.append(Language.ENGLISH if languages[0] != Language.ENGLISH else Language.ITALIAN)
    # Low-accuracy mode reads trigrams only: about 20 MB, where the full mode takes 55 MB at
    # start and 150 MB once messages in five languages have loaded its other n-gram models. It
    # decides only where the content's own language model is unsure, and only on texts of
    # LINGUA_MIN_LETTERS or more: on the tuning questions 312 of 315 right, 2 wrong (full mode:
    # 313 and the same 2); on 29 short phrases and nonsense, 26 right, 3 unsure, none wrong
    # (full mode: 28 right).
    return LanguageDetectorBuilder.from_languages(*languages).with_low_accuracy_mode().build()


@dataclass(frozen=True)
class Match:
    """A topic found for a message: ``score`` (0 to 1) is its area's probability, shared among
    the area's topics by their resemblance to the message."""

    topic: str
    area: str
    score: float


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

    def __init__(
        self,
        catalog: Catalog,
        cache: Path | None = None,
        train_elsewhere: bool = False,
        previous: Classifier | None = None,
        stopgap: Callable[[Understanding], None] | None = None,
    ) -> None:
        """``train_elsewhere``: a model not trained before is trained in a child process (a
        server's reload), not in this one. With it, ``previous`` (the model before an edit)
        and ``stopgap``, the child first works a model out quickly from the previous one's
        kept file, handed to ``stopgap`` as an understanding of ``catalog`` to answer while the
        child's full training runs (see ``Classifier.train``)."""

        def handed(model: Classifier) -> None:
            if stopgap is not None:
                stopgap(Understanding.of(catalog, model))

        classifier = Classifier.train(
            training_examples(catalog),
            cache,
            catalog.synonyms,
            elsewhere=train_elsewhere,
            previous=previous,
            stopgap=handed if stopgap is not None else None,
        )
        self._prepare(catalog, classifier)

    @classmethod
    def of(cls, catalog: Catalog, classifier: Classifier) -> Understanding:
        """The understanding of ``catalog`` with a model at hand (a stop-gap)."""
        understanding = cls.__new__(cls)
        understanding._prepare(catalog, classifier)
        return understanding

    @property
    def exact(self) -> bool:
        """False for a stop-gap after an edit, which the full training's model will replace."""
        return self.classifier.exact

    def _prepare(self, catalog: Catalog, classifier: Classifier) -> None:
        self.catalog = catalog
        self.classifier = classifier
        # Topics as arrays (their classifier group, their area), to rank them all at once.
        groups = {name: index for index, name in enumerate(self.classifier.group_names)}
        self._topic_ids = list(catalog.topics)
        self._well_taught = frozenset(
            code
            for code, count in self.classifier.examples_per_language().items()
            if count >= WELL_TAUGHT
        )
        self._area_names = sorted({topic.area for topic in catalog.topics.values()})
        self._topic_group = np.array([groups.get(topic, -1) for topic in self._topic_ids], int)
        self._topic_area = np.array(
            [self._area_names.index(catalog.topics[topic].area) for topic in self._topic_ids], int
        )
        latin = sorted(
            language.code
            for language in catalog.enabled_languages
            if language.code in LATIN_LANGUAGES
        )
        if latin:  # lingua loads its models on first use: here, not during someone's question
            _detector(tuple(latin)).compute_language_confidence_values("warm up")
        enabled = {language.code for language in catalog.enabled_languages}
        # The signs of danger ("mi picchia", "he hits me") are looked for in every message,
        # before anything else, when a topic stands for them (help_danger): see detect_intent.
        self.danger_topic = next(
            (topic.id for topic in catalog.topics.values() if topic.intent is Intent.DANGER), None
        )
        self._danger: Phrases = compiled({})
        if self.danger_topic is not None:
            signs = catalog.phrases(Intent.DANGER).items()
            self._danger = compiled({code: phrases for code, phrases in signs if code in enabled})
        self._whole: dict[str, tuple[Intent, str]] = {}
        self._contained: list[tuple[Intent, str, str, list[str]]] = []
        for intent in Intent:
            if intent is Intent.DANGER:
                continue  # signs, not phrases: above
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
        # Greetings and thanks, longest first ("buona sera" before "sera").
        self._pleasantries = sorted(
            (
                (phrase, found)
                for phrase, found in self._whole.items()
                if found[0] in (Intent.GREETING, Intent.THANKS)
            ),
            key=lambda item: -len(item[0]),
        )
        # Phrases looked at only when the message holds their first word (or, for Chinese,
        # always: its words are not separated): a few instead of hundreds per message.
        self._by_first_word: dict[str, list[int]] = defaultdict(list)
        self._unspaced: list[int] = []
        for position, (_, _, phrase, phrase_words) in enumerate(self._contained):
            if has_cjk(phrase) or not phrase_words:
                self._unspaced.append(position)
            else:
                self._by_first_word[phrase_words[0]].append(position)

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
        """Tell apart languages written in Latin letters: Italian, English, French... and
        Urdu, Bengali or Arabic typed in Latin letters ("mujhe permesso chahiye"), which the
        content's own phrasings teach; the lingua detector decides when they are unsure."""
        words = tokens(text)
        if not words or (len(words) == 1 and len(words[0]) < 6):
            return None  # "ok", "si", "menu": too short to tell
        query = self.classifier.read(text)
        taught = self.classifier.languages(query) if query.words_known >= WORDS_KNOWN else {}
        if taught:
            code, chance = max(taught.items(), key=lambda item: item[1])
            if chance >= TAUGHT_LANGUAGE_SURE and code in enabled:
                return code
        candidates = sorted(code for code in enabled if code in LATIN_LANGUAGES)
        if not candidates or sum(char.isalpha() for char in text) < LINGUA_MIN_LETTERS:
            return None
        detector = _detector(tuple(candidates))
        values = detector.compute_language_confidence_values(text)
        if not values or values[0].value < LANGUAGE_CONFIDENCE:
            return None
        code = values[0].language.iso_code_639_1.name.lower()
        if code in self._well_taught and query.words_known < LINGUA_WORDS_KNOWN:
            return None  # a language the content teaches well, yet hardly a word is known
        return code if code in enabled else None

    def detect_intent(self, text: str, signs: bool = True) -> tuple[Intent, str] | None:
        """The intent of ``text`` and the language of the phrase that showed it (without
        ``signs``: what else it asks, beside a sign of danger)."""
        key = normalise(text.lstrip("/"))
        if not key:
            return None
        danger = found_in(key, self._danger) if self._danger and signs else None
        if danger:  # whatever else the message asks: help first
            return Intent.DANGER, max(danger, key=lambda code: danger[code])
        if key in self._whole:
            return self._whole[key]
        words = tokens(text)
        candidates = set(self._unspaced)
        for word in words:
            candidates.update(self._by_first_word.get(word, ()))
        for position in sorted(candidates):  # the list's order: the most specific intent first
            intent, code, phrase, phrase_words = self._contained[position]
            if phrase in key if has_cjk(phrase) else _contains_in_order(words, phrase_words):
                return intent, code
        return self._only_pleasantries(key)

    def _only_pleasantries(self, key: str) -> tuple[Intent, str] | None:
        """A message made only of greetings and thanks ("ciao grazie!") is a greeting."""
        found: tuple[Intent, str] | None = None
        rest = f" {key} "
        for phrase, (intent, code) in self._pleasantries:
            if f" {phrase} " in rest:
                rest = rest.replace(f" {phrase} ", " ")
                if found is None or intent is Intent.GREETING:
                    found = (intent, code)
        return found if found is not None and not rest.strip() else None

    def analyse(self, text: str) -> Analysis:
        language = self.detect_language(text)
        detected = self.detect_intent(text)
        phrase = Analysis(language, detected[0], detected[1]) if detected else None
        if phrase is not None and phrase.intent is Intent.DANGER:
            # Help first; what else the message is about is offered after it.
            query = self.classifier.read(text)
            if not query.known:
                return phrase
            subject = self._subject(language, query, self.classifier.rank(query))
            return replace(phrase, matches=subject.matches, nearest=subject.nearest)
        if phrase is not None and (
            phrase.intent not in CONTAINED_INTENTS or phrase.intent in _ALWAYS_ACT
        ):
            # A whole-message word ("menu", "ciao"), or a request about one's own data, dates
            # or documents (no label is taught for "my reminders", "my deadlines" or "the
            # documents to bring": the classifier would never find them likely, and so never
            # let them act).
            return phrase
        classifier = self.classifier
        query = classifier.read(text)
        if not query.known:
            return phrase or Analysis(language, None, None)  # nothing seen: no guess
        chances = classifier.rank(query)
        subject = self._subject(language, query, chances)
        if phrase is None:
            return subject
        assert phrase.intent is not None
        doubted = chances.get(INTENT_LABEL + phrase.intent.value, 0.0)
        return subject if subject.confident and doubted < PHRASE_DOUBTED else phrase

    def _subject(self, language: str | None, query: Query, chances: dict[str, float]) -> Analysis:
        """What the classifier makes of the message: a taught intent, a topic, or doubt."""
        classifier = self.classifier
        taught = max(TAUGHT_INTENTS, key=lambda i: chances.get(INTENT_LABEL + i.value, 0.0))
        taught_chance = chances.get(INTENT_LABEL + taught.value, 0.0)
        if taught_chance >= INTENT_SURE and (
            classifier.nearest(query, INTENT_LABEL + taught.value) >= NEAREST
        ):
            return Analysis(language, taught, language)
        areas = {
            label.removeprefix(AREA_LABEL): chance
            for label, chance in chances.items()
            if label.startswith(AREA_LABEL)
        }
        matches = self._ranked_topics(classifier.groups(query), areas)
        best = matches[0] if matches else None
        if best is None:
            return Analysis(language, None, None)
        rivals = [chances.get(OFF_TOPIC, 0.0), taught_chance]
        rivals += [chance for area, chance in areas.items() if area != best.area]
        likely = areas.get(best.area, 0.0)
        confident = (
            likely >= AREA_SURE
            and likely - max(rivals) >= MARGIN
            and classifier.nearest(query, best.topic) >= NEAREST
        )
        if confident:  # the answer; the runners-up only say what it was chosen from
            return Analysis(language, None, None, tuple(matches[:OFFERED]), True, best)
        offered = tuple(
            match
            for match in matches[:OFFERED]
            if match.score >= POSSIBLE and classifier.nearest(query, match.topic) >= NEAREST_OFFERED
        )
        return Analysis(language, None, None, offered, False, best)

    def _ranked_topics(self, resemblance: np.ndarray, areas: dict[str, float]) -> list[Match]:
        """The best topics, by their area's probability and then by their own resemblance to
        the message: an area's best topic scores the area's probability, the others a share."""
        scores = np.where(self._topic_group >= 0, resemblance[self._topic_group], 0.0)
        best = np.zeros(len(self._area_names))
        np.maximum.at(best, self._topic_area, scores)
        of_best = best[self._topic_area]
        share = np.divide(scores, of_best, out=np.zeros_like(scores), where=of_best > 0)
        likely = np.array([areas.get(area, 0.0) for area in self._area_names])
        final = likely[self._topic_area] * share
        top = np.argsort(-final, kind="stable")[:RANKED]
        return [
            Match(self._topic_ids[i], self._area_names[self._topic_area[i]], round(final[i], 3))
            for i in top
            if final[i] > 0
        ]


def training_examples(catalog: Catalog) -> list[tuple[str, str, str | None, str | None]]:
    """What the classifier learns from: every way the content says what each label sounds like.

    Each example is (label, text, group, language). Titles, keywords and sample questions of
    each topic and its phrasings, labelled with the topic's area and grouped by topic; the
    phrases and phrasings of the taught intents; the off-topic phrasings.
    """
    examples: list[tuple[str, str, str | None, str | None]] = []
    phrasings = catalog.phrasings
    for topic in catalog.topics.values():
        # A topic that stands for a taught intent teaches that intent, not its area.
        taught = topic.intent if topic.intent in TAUGHT_INTENTS else None
        area = INTENT_LABEL + taught.value if taught else AREA_LABEL + topic.area
        group = INTENT_LABEL + taught.value if taught else topic.id
        texts = [(code, text) for code, text in topic.title.values.items()]
        for table in (topic.keywords, topic.questions, phrasings.topics.get(topic.id, {})):
            texts += _by_language(table)
        examples += [(area, text, group, code) for code, text in texts]
    for intent in TAUGHT_INTENTS:
        label = INTENT_LABEL + intent.value
        texts = _by_language(catalog.phrases(intent)) + _by_language(
            phrasings.intents.get(intent, {})
        )
        examples += [(label, text, label, code) for code, text in texts]
    examples += [(OFF_TOPIC, text, None, code) for code, text in _by_language(phrasings.off_topic)]
    return examples


def _by_language(groups: Mapping[str, tuple[str, ...]]) -> list[tuple[str, str]]:
    """(language, text) for every text of every language."""
    return [(code, text) for code, group in groups.items() for text in group]


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
