"""The classifier's compact vocabulary finds exactly the columns a dict of features would."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bot.content.vocabulary import Vocabulary

FEATURES = ["w:permesso", " pe", "per", "k:prms", "b:rinnovo permesso", "w:居留", "ری", "s:0"]


def test_columns_are_the_order_given_and_unknown_features_are_left_out() -> None:
    vocabulary = Vocabulary.of(FEATURES)

    assert len(vocabulary) == len(FEATURES)
    assert list(vocabulary) == FEATURES
    found = vocabulary.columns(["ری", "w:unknown", "w:permesso", "s:0", "w:permess"])
    assert found.tolist() == [6, 0, 7]
    assert "b:rinnovo permesso" in vocabulary
    assert "b:rinnovo" not in vocabulary
    assert 3 not in vocabulary  # not a feature at all


def test_a_stored_vocabulary_reads_back_the_same() -> None:
    stored = np.frombuffer(Vocabulary.of(FEATURES).text, np.uint8)

    again = Vocabulary(stored.tobytes())

    assert list(again) == FEATURES
    assert again.columns(FEATURES).tolist() == list(range(len(FEATURES)))


def test_an_empty_vocabulary_knows_nothing() -> None:
    empty = Vocabulary.of([])

    assert len(empty) == 0
    assert list(empty) == []
    assert empty.columns(["w:permesso"]).tolist() == []


def test_a_large_vocabulary_agrees_with_a_dict() -> None:
    shuffler = random.Random(3)
    letters = "abcdefghilmnopqrstuvzàèéìòù"
    features = list(
        dict.fromkeys(
            "".join(shuffler.choices(letters, k=shuffler.randint(1, 7))) for _ in range(20_000)
        )
    )
    vocabulary = Vocabulary.of(features)
    as_dict = {feature: column for column, feature in enumerate(features)}
    asked = [*features[::7], "zzzzzzzz", "qqq", "àààààààà"]

    expected = [as_dict[feature] for feature in asked if feature in as_dict]
    assert vocabulary.columns(asked).tolist() == expected


def test_features_sharing_a_hash_are_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    """Python's hash rarely collides; when it does, the text itself decides."""
    import bot.content.vocabulary as module

    monkeypatch.setattr(module, "hash", lambda feature: len(feature), raising=False)
    vocabulary = Vocabulary.of(["ab", "cd", "ef", "abc"])

    assert vocabulary.columns(["ef", "cd", "xy", "abc", "ab"]).tolist() == [2, 1, 3, 0]
