"""How a message's subject is decided: areas add up, rivals, taught intents, phrasings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from types import MappingProxyType

import numpy as np
import pytest

from bot.content.catalog import Catalog
from bot.content.classifier import Classifier, Query
from bot.content.schema import Intent
from bot.core import understanding as module
from bot.core.understanding import OFF_TOPIC, Understanding, training_examples


class FixedClassifier:
    """A classifier that gives the probabilities a test sets, and a resemblance."""

    def __init__(self, real: Classifier, chances: dict[str, float], resemblance: float = 0.9):
        self.real = real
        self.group_names = real.group_names
        self.chances = chances
        self.resemblance = resemblance

    def read(self, text: str) -> Query:
        return Query(np.array([0]), np.array([1.0]))

    def rank(self, query: Query) -> dict[str, float]:
        return self.chances

    def groups(self, query: Query) -> np.ndarray:
        # Every topic resembles the message, the one named first in the chances most.
        named = [label for label in self.chances if label in self.group_names]
        return np.array([1.0 if name in named[:1] else 0.5 for name in self.group_names])

    def languages(self, query: Query) -> dict[str, float]:
        return {}

    def nearest(self, query: Query, group: str) -> float:
        return self.resemblance


def fixed(catalog: Catalog, chances: dict[str, float], resemblance: float = 0.9) -> Understanding:
    understanding = Understanding(catalog)
    understanding.classifier = FixedClassifier(  # type: ignore[assignment]
        understanding.classifier, chances, resemblance
    )
    return understanding


def decided(catalog: Catalog, chances: dict[str, float], resemblance: float = 0.9) -> bool:
    return fixed(catalog, chances, resemblance).analyse("a question").confident


def test_the_likeliest_area_answers_with_its_closest_topic(catalog: Catalog) -> None:
    understanding = fixed(catalog, {"permit_lost": 0.0, "@permits": 0.9, "@counter": 0.1})
    analysis = understanding.analyse("a question")
    assert analysis.confident
    assert analysis.matches[0].topic == "permit_lost"  # the permits topic that resembles most
    assert analysis.matches[0].score == 0.9


@pytest.mark.parametrize(
    "chances",
    [
        {"@permits": 0.5, "@counter": 0.45},  # another area close behind
        {"@permits": 0.5, OFF_TOPIC: 0.45},  # as likely to be small talk
        {"@permits": 0.3, "@counter": 0.1},  # not likely enough at all
    ],
)
def test_no_answer_without_a_clear_lead(catalog: Catalog, chances: dict[str, float]) -> None:
    assert not decided(catalog, chances)


def test_no_answer_for_a_message_unlike_every_example(catalog: Catalog) -> None:
    assert decided(catalog, {"@permits": 0.95}, resemblance=module.NEAREST)
    assert not decided(catalog, {"@permits": 0.95}, resemblance=module.NEAREST - 0.01)


def test_a_taught_intent_acts_when_likely_and_like_its_examples(catalog: Catalog) -> None:
    assert fixed(catalog, {"!human": 0.9}).analyse("get me").intent is Intent.HUMAN
    assert fixed(catalog, {"!human": 0.9}, 0.1).analyse("get me").intent is None


@pytest.mark.parametrize(
    "text", ["i wanna talk to somebody real", "mi passi una persona vera per favore"]
)
def test_colloquial_requests_for_a_person(catalog: Catalog, text: str) -> None:
    assert Understanding(catalog).analyse(text).intent is Intent.HUMAN


def test_training_uses_phrasings_intents_and_off_topic(catalog: Catalog) -> None:
    examples = training_examples(catalog)

    def texts(label: str) -> Iterable[str]:
        return {text for found, text, _, _ in examples if found == label}

    assert "io volere rinnovare permesso" in texts("@permits")  # a phrasing, by its area
    assert "Rinnovo del permesso" in texts("@permits")  # a title
    assert ("@permits", "io volere rinnovare permesso", "permit_renewal", "it") in examples
    assert "pass me to a human please" in texts("!human")  # a phrasing of an intent
    assert "quanto costa una pizza" in texts(OFF_TOPIC)


def test_a_topic_that_stands_for_an_intent_teaches_the_intent(catalog: Catalog) -> None:
    topic = replace(catalog.topics["counter_hours"], intent=Intent.BOOKING)
    changed = replace(catalog, topics=MappingProxyType({**catalog.topics, topic.id: topic}))
    labels = {label for label, _, group, _ in training_examples(changed) if group == "!booking"}
    assert labels == {"!booking"}
    assert all(group != "counter_hours" for _, _, group, _ in training_examples(changed))


def test_nonsense_does_not_pass_for_a_language_the_content_teaches(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lingua's low-accuracy mode takes random letters for French: where the content teaches
    a language well and none of the words is known, its guess is not taken."""
    nonsense = "zxqv blorf wimble zanzibar plonk"
    monkeypatch.setattr(module, "WELL_TAUGHT", 10**9)  # no language well taught: lingua alone
    assert Understanding(catalog).detect_language(nonsense) is not None  # what the guard stops
    monkeypatch.setattr(module, "WELL_TAUGHT", 1)  # every language of the fixture well taught
    assert Understanding(catalog).detect_language(nonsense) is None


def test_a_short_text_is_not_left_to_the_low_accuracy_detector(catalog: Catalog) -> None:
    assert Understanding(catalog).detect_language("cancella i miei dati") in (None, "it")
