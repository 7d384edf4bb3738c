"""The classifier's compact vocabulary finds exactly the columns a dict of features would."""

from __future__ import annotations

import random

import numpy as np
import pytest

from bot.content.vocabulary import SEPARATOR, Vocabulary

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
    """The hash rarely collides; when it does, the text itself decides."""
    import bot.content.vocabulary as module

    def by_length(text: bytes, starts: np.ndarray) -> np.ndarray:
        return (np.diff(starts) - 1).astype(np.uint64)

    monkeypatch.setattr(module, "_hashes", by_length)
    vocabulary = Vocabulary.of(["ab", "cd", "ef", "abc"])

    assert vocabulary.columns(["ef", "cd", "xy", "abc", "ab"]).tolist() == [2, 1, 3, 0]


def test_the_hash_depends_on_the_bytes_only_and_spreads_them() -> None:
    """Stable across processes (it is stored nowhere, but a model read back must agree), and
    a million short features give (almost) a million hashes."""
    from bot.content.vocabulary import _hashes, _starts_of

    text = SEPARATOR.join(f"{n:06d}".encode() for n in range(1_000_000))
    found = _hashes(text, _starts_of(text))
    assert len(np.unique(found)) >= 999_990
    again = b"\n".join([b"w:permesso", b"", "w:居留".encode(), b"a" * 300])
    expected = _hashes(again, _starts_of(again))
    one_by_one = [_hashes(line, _starts_of(line)) for line in again.split(b"\n")]
    assert expected.tolist() == [hashes[0] if len(hashes) else 0 for hashes in one_by_one]


def test_hashes_are_the_same_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.content.vocabulary as module

    text = SEPARATOR.join(f"feature {n}".encode() for n in range(5000))
    whole = module._hashes(text, module._starts_of(text))
    monkeypatch.setattr(module, "_CHUNK", 100)
    assert module._hashes(text, module._starts_of(text)).tolist() == whole.tolist()
