"""The classifier's compact vocabulary finds exactly the columns a dict of features would."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import numpy as np
import pytest

from bot.content.vocabulary import LayeredVocabulary, Vocabulary

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
    vocabulary = Vocabulary.of(FEATURES)
    stored = np.frombuffer(vocabulary.text, np.uint8)

    again = Vocabulary(stored.tobytes())
    mapped = Vocabulary(memoryview(stored.data), vocabulary.lookup)  # a stored model's, not rebuilt

    for read_back in (again, mapped):
        assert list(read_back) == FEATURES
        assert read_back.columns(FEATURES).tolist() == list(range(len(FEATURES)))
        assert read_back.columns(["w:unknown", "k:prms"]).tolist() == [3]


def test_the_lookup_is_the_same_in_every_process() -> None:
    """A stored model keeps its lookup arrays: they must not depend on Python's string hash."""
    script = (
        "from bot.content.vocabulary import Vocabulary;"
        f"print(Vocabulary.of({FEATURES!r}).lookup[2].tolist())"
    )
    runs = {
        subprocess.run(
            [sys.executable, "-c", script],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert runs == {str(Vocabulary.of(FEATURES).lookup[2].tolist()) + "\n"}


def test_lookup_arrays_of_another_vocabulary_are_refused() -> None:
    with pytest.raises(ValueError):
        Vocabulary(Vocabulary.of(FEATURES).text, Vocabulary.of(FEATURES[:3]).lookup)


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
    """Thirty-two bits collide now and then over millions of features: the text decides."""
    import bot.content.vocabulary as module

    monkeypatch.setattr(module, "_hash", lambda feature: len(feature))
    vocabulary = Vocabulary.of(["ab", "cd", "ef", "abc"])

    assert vocabulary.columns(["ef", "cd", "xy", "abc", "ab"]).tolist() == [2, 1, 3, 0]
    again = Vocabulary(vocabulary.text, vocabulary.lookup)  # as a stored model gives them back
    assert again.columns(["ef", "cd", "xy", "abc", "ab"]).tolist() == [2, 1, 3, 0]


def test_an_extended_vocabulary_numbers_new_features_after_its_own() -> None:
    vocabulary = Vocabulary.of(FEATURES[:5])
    stored = np.frombuffer(vocabulary.text, np.uint8)
    mapped = Vocabulary(memoryview(stored.data), vocabulary.lookup)

    grown = mapped.extended(FEATURES[5:])

    assert list(grown) == FEATURES
    assert grown.columns(FEATURES).tolist() == list(range(len(FEATURES)))
    assert grown.positions(["s:0", "w:unknown", " pe"]).tolist() == [7, -1, 1]
    assert [a.tolist() for a in grown.lookup] == [
        a.tolist() for a in Vocabulary.of(FEATURES).lookup
    ]
    assert list(Vocabulary.of([]).extended(FEATURES)) == FEATURES


def test_a_layered_vocabulary_numbers_as_the_extended_one() -> None:
    """A stop-gap's vocabulary: the kept one, mapped, and the edit's features after it, with
    the same columns as the extended copy, and nothing of the kept one copied."""
    kept = Vocabulary.of(FEATURES[:5])
    layered = LayeredVocabulary(kept, Vocabulary.of(FEATURES[5:]))
    extended = kept.extended(FEATURES[5:])
    asked = [*FEATURES, "w:unknown", FEATURES[6], ""]

    assert layered.positions(asked).tolist() == extended.positions(asked).tolist()
    assert layered.columns(reversed(asked)).tolist() == extended.columns(reversed(asked)).tolist()
    assert list(layered) == FEATURES and len(layered) == len(FEATURES)
    assert FEATURES[6] in layered and "w:unknown" not in layered
    assert layered.base is kept
    assert LayeredVocabulary(kept, Vocabulary.of([])).positions(asked).tolist() == [
        *range(5),
        *[-1] * (len(asked) - 5),
    ]
