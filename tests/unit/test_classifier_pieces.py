"""Training reads back the examples it featurised before, run by run: after an edit, only the
edited topic is featurised again, and the model is the one a training from nothing makes."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest

import bot.content.classifier as module
from bot.content import feature_pieces
from bot.content.classifier import (
    PIECES,
    Classifier,
    _Featuriser,
    features,
    normalised_synonyms,
)

SYNONYMS = [["permesso di soggiorno", "pds"]]
EXAMPLES = [
    *(("renewal", text, "kit", "it") for text in ("rinnovo del pds", "kit rinnovo permesso")),
    *(("renewal", text, "kit", "en") for text in ("renew my permesso", "renew the permit")),
    *(("lost", text, "lost", "it") for text in ("ho perso il permesso", "permesso rubato")),
    *(("lost", text, "lost", "en") for text in ("lost my card", "stolen permit card")),
    *(("hours", text, "hours", "it") for text in ("orari di apertura", "siete aperti oggi")),
    *(("hours", text, "hours", "en") for text in ("when are you open", "opening hours today")),
    *(("~off", text, None, "en") for text in ("pizza recipe", "football match tonight")),
    *(("~off", text, None, "it") for text in ("ricetta della pizza", "partita di calcio")),
]
EDITED = [
    (label, f"{text} scaduto" if group == "lost" else text, group, language)
    for label, text, group, language in EXAMPLES
]
ASKED = ("permesso di soggiorno perso", "renew my card", "quando aprite", "pizza", "pds scaduto")


@pytest.fixture(autouse=True)
def no_models_in_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(module, "_CACHE", OrderedDict())


@pytest.fixture
def featurised(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The runs of texts featurised from nothing, as training asks for them."""
    runs: list[list[str]] = []
    piece = _Featuriser.piece

    def counted(self: _Featuriser, texts: list[str]) -> feature_pieces.Piece:
        runs.append(list(texts))
        return piece(self, texts)

    monkeypatch.setattr(_Featuriser, "piece", counted)
    return runs


def answers(model: Classifier) -> list[object]:
    found: list[object] = []
    for text in ASKED:
        query = model.read(text)
        found += [
            model.rank(query),
            model.languages(query),
            model.groups(query).tolist(),
            [model.nearest(query, group) for group in ("kit", "lost", "hours")],
        ]
    return found


def fresh(examples: list[tuple[str, str, str | None, str | None]]) -> Classifier:
    """The model trained from nothing, no folder at all."""
    module._CACHE.clear()
    return Classifier.train(examples, synonyms=SYNONYMS)


def test_an_edit_featurises_only_the_topic_edited(
    tmp_path: Path, featurised: list[list[str]]
) -> None:
    Classifier.train(EXAMPLES, cache=tmp_path, synonyms=SYNONYMS)
    assert len(featurised) == 4  # three topics and the off-topic phrases
    featurised.clear()

    edited = Classifier.train(EDITED, cache=tmp_path, synonyms=SYNONYMS)

    assert featurised == [[text for _, text, group, _ in EDITED if group == "lost"]]
    expected = fresh(EDITED)
    assert list(edited._vocabulary) == list(expected._vocabulary)  # numbered as in one pass
    assert answers(edited) == answers(expected)


def test_a_damaged_piece_is_featurised_again(tmp_path: Path, featurised: list[list[str]]) -> None:
    Classifier.train(EXAMPLES, cache=tmp_path, synonyms=SYNONYMS)
    pieces = sorted((tmp_path / PIECES).iterdir())
    assert len(pieces) == 4
    pieces[0].write_bytes(pieces[0].read_bytes()[:-3])  # cut short
    pieces[1].write_bytes(b"not a piece")
    for model in tmp_path.glob("understanding-*"):
        model.unlink()
    module._CACHE.clear()
    featurised.clear()

    again = Classifier.train(EXAMPLES, cache=tmp_path, synonyms=SYNONYMS)

    assert len(featurised) == 2
    assert answers(again) == answers(fresh(EXAMPLES))
    assert sorted((tmp_path / PIECES).iterdir()) == pieces  # written again, whole
    assert all(feature_pieces.read(path.parent, path.stem, 4) for path in pieces)


def test_a_piece_that_does_not_fit_its_examples_is_not_used(tmp_path: Path) -> None:
    piece = _Featuriser(()).piece(["rinnovo permesso", "permesso scaduto"])
    feature_pieces.write(tmp_path, "abc", piece)

    assert feature_pieces.read(tmp_path, "abc", 2) is not None
    assert feature_pieces.read(tmp_path, "abc", 3) is None  # another number of examples
    assert feature_pieces.read(tmp_path, "missing", 2) is None
    wrong = feature_pieces.Piece(piece.names[:2], piece.lengths, piece.indices)
    feature_pieces.write(tmp_path, "wrong", wrong)  # numbers past its names
    assert feature_pieces.read(tmp_path, "wrong", 2) is None


def test_pieces_no_example_needs_are_removed(tmp_path: Path) -> None:
    Classifier.train(EXAMPLES, cache=tmp_path, synonyms=SYNONYMS)
    before = {path.name for path in (tmp_path / PIECES).iterdir()}

    Classifier.train(EDITED, cache=tmp_path, synonyms=SYNONYMS)

    after = {path.name for path in (tmp_path / PIECES).iterdir()}
    assert len(after) == 4 and len(before - after) == 1 and len(after - before) == 1


def test_a_piece_holds_each_texts_features_numbered_in_the_order_met() -> None:
    synonyms = normalised_synonyms(SYNONYMS)
    texts = ["rinnovo permesso", "", "pds scaduto", "permesso di soggiorno scaduto"]

    piece = _Featuriser(synonyms).piece(texts)

    bounds = np.concatenate(([0], np.cumsum(piece.lengths)))
    for text, start, end in zip(texts, bounds[:-1], bounds[1:], strict=True):
        assert {piece.names[number] for number in piece.indices[start:end]} == features(
            text, synonyms
        )
    first = len(features(texts[0], synonyms))
    assert sorted(piece.indices[: bounds[1]].tolist()) == list(range(first))
    assert len(piece.names) == len(set(piece.names))
