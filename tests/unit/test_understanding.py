"""How a message's subject is decided: areas add up, rivals, taught intents, phrasings."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from bot.content.catalog import Catalog
from bot.content.schema import Intent
from bot.core import understanding as module
from bot.core.understanding import OFF_TOPIC, Understanding, training_examples


class FixedClassifier:
    """A classifier that gives the probabilities a test sets, and a resemblance."""

    def __init__(self, chances: dict[str, float], resemblance: float = 0.9) -> None:
        self.chances = chances
        self.resemblance = resemblance

    def rank(self, text: str) -> list[tuple[str, float]]:
        return sorted(self.chances.items(), key=lambda item: -item[1])

    def knows_any(self, text: str) -> bool:
        return True

    def nearest(self, text: str, label: str) -> float:
        return self.resemblance


def decided(catalog: Catalog, chances: dict[str, float], resemblance: float = 0.9) -> bool:
    understanding = Understanding(catalog)
    understanding.classifier = FixedClassifier(chances, resemblance)  # type: ignore[assignment]
    return understanding.analyse("a question").confident


def test_topics_of_one_area_add_up(catalog: Catalog) -> None:
    # Neither topic alone is sure, but both are about permits: answer (the best offers the other).
    assert decided(catalog, {"permit_renewal": 0.3, "permit_lost": 0.3, "counter_hours": 0.05})


@pytest.mark.parametrize(
    "chances",
    [
        {"permit_renewal": 0.5, "counter_hours": 0.45},  # another area close behind
        {"permit_renewal": 0.5, OFF_TOPIC: 0.45},  # as likely to be small talk
        {"permit_renewal": 0.3, "counter_hours": 0.1},  # not likely enough at all
    ],
)
def test_no_answer_without_a_clear_lead(catalog: Catalog, chances: dict[str, float]) -> None:
    assert not decided(catalog, chances)


def test_no_answer_for_a_message_unlike_every_example(catalog: Catalog) -> None:
    assert decided(catalog, {"permit_renewal": 0.95}, resemblance=module.NEAREST)
    assert not decided(catalog, {"permit_renewal": 0.95}, resemblance=module.NEAREST - 0.01)


def test_a_taught_intent_acts_when_likely_and_like_its_examples(catalog: Catalog) -> None:
    understanding = Understanding(catalog)
    understanding.classifier = FixedClassifier({"!human": 0.9})  # type: ignore[assignment]
    assert understanding.analyse("get me someone").intent is Intent.HUMAN
    understanding.classifier = FixedClassifier({"!human": 0.9}, 0.1)  # type: ignore[assignment]
    assert understanding.analyse("get me someone").intent is None


@pytest.mark.parametrize(
    "text", ["i wanna talk to somebody real", "mi passi una persona vera per favore"]
)
def test_colloquial_requests_for_a_person(catalog: Catalog, text: str) -> None:
    assert Understanding(catalog).analyse(text).intent is Intent.HUMAN


def test_training_uses_phrasings_intents_and_off_topic(catalog: Catalog) -> None:
    examples = training_examples(catalog)

    def texts(label: str) -> Iterable[str]:
        return {text for found, text in examples if found == label}

    assert "io volere rinnovare permesso" in texts("permit_renewal")  # a phrasing
    assert "Rinnovo del permesso" in texts("permit_renewal")  # a title
    assert "pass me to a human please" in texts("!human")  # a phrasing of an intent
    assert "quanto costa una pizza" in texts(OFF_TOPIC)
