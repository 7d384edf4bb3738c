"""This module contains the message classifier: which topic, intent or none a message is about.

A softmax (multinomial logistic) regression over character n-grams, words, word pairs and
cross-script sound keys, trained on the content's own sample phrasings when the content
loads: it ships with the code and downloads nothing. Character n-grams carry unseen forms,
typos and scripts the words miss ("permeso", "رینیو", "sogiorno"); sound keys carry Italian
terms written in other letters ("پرمیسو" is "permesso"); the off-topic examples form a class of
their own, so small talk has somewhere to go other than the nearest topic.
"""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from bot.content.text import has_cjk, token_sound_key, tokens

NGRAMS = (2, 5)  # character n-gram lengths, of each word padded with spaces
EPOCHS = 12
BATCH = 64
LEARNING_RATE = 0.6
SEED = 7  # training is deterministic: the same content always gives the same answers


def features(text: str) -> set[str]:
    """What the classifier sees of a message."""
    words = tokens(text)
    found: set[str] = set()
    low, high = NGRAMS
    for word in words:
        found.add("w:" + word)
        if has_cjk(word):
            continue  # tokens already gives Chinese characters and character pairs
        padded = f" {word} "
        for size in range(low, min(high, len(padded)) + 1):
            found.update(padded[start : start + size] for start in range(len(padded) - size + 1))
        key = token_sound_key(word)
        if key is not None:
            found.add("k:" + key)
    found.update(f"b:{first} {second}" for first, second in itertools.pairwise(words))
    return found


@dataclass(frozen=True)
class Examples:
    """The training examples as unit vectors (a sparse CSR matrix), with each row's label."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    targets: np.ndarray


class Classifier:
    """A trained model: ``rank`` gives each label's probability for a message, ``nearest``
    how close the message comes to that label's closest example."""

    def __init__(
        self,
        labels: tuple[str, ...],
        vocabulary: dict[str, int],
        idf: np.ndarray,
        weights: np.ndarray,
        bias: np.ndarray,
        examples: Examples,
    ) -> None:
        self.labels = labels
        self._vocabulary = vocabulary
        self._idf = idf
        self._weights = weights
        self._bias = bias
        # Each label's rows, for the nearest example: a probability says which label is the
        # likeliest, never whether the message is like anything the label was taught.
        self._by_label = [_rows_of(examples, index) for index in range(len(labels))]

    @classmethod
    def train(cls, examples: Sequence[tuple[str, str]]) -> Classifier:
        """Learn from ``(label, text)`` examples; the same examples give the same model."""
        return _cached(tuple(examples))

    def _vector(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """The message's known features (columns) and their weights, of unit length overall.

        Unknown features count in the length: a message mostly made of words the content
        never uses is far from every example, however well its one known word fits.
        """
        found = features(text)
        columns = np.array([self._vocabulary[f] for f in found if f in self._vocabulary], int)
        unknown = len(found) - len(columns)
        values = self._idf[columns] if len(columns) else np.zeros(0, np.float32)
        unseen_weight = float(self._idf.max()) if len(self._idf) else 1.0
        length = np.sqrt(float(values @ values) + unknown * unseen_weight**2)
        return columns, values / length if length else values

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Every label with its probability for ``text``, most likely first."""
        columns, values = self._vector(text)
        if len(columns):
            values = values / np.linalg.norm(values)
            logits = values @ self._weights[columns] + self._bias
        else:
            logits = self._bias.copy()
        logits -= logits.max()
        chances = np.exp(logits)
        chances /= chances.sum()
        order = np.argsort(-chances, kind="stable")
        return [(self.labels[i], float(chances[i])) for i in order]

    def knows_any(self, text: str) -> bool:
        """Whether any feature of ``text`` was seen in training (else rank is only the prior)."""
        return any(f in self._vocabulary for f in features(text))

    def nearest(self, text: str, label: str) -> float:
        """Cosine similarity (0 to 1) of ``text`` to the closest training example of ``label``."""
        if label not in self.labels:
            return 0.0
        columns, values = self._vector(text)
        if not len(columns):
            return 0.0
        query = np.zeros(len(self._vocabulary), np.float32)
        query[columns] = values
        indices, values, offsets = self._by_label[self.labels.index(label)]
        if not len(offsets):
            return 0.0
        return float(np.add.reduceat(query[indices] * values, offsets).max())


def _rows_of(examples: Examples, label: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One label's examples as (columns, values, where each example starts)."""
    rows = np.flatnonzero(examples.targets == label)
    starts, ends = examples.indptr[rows], examples.indptr[rows + 1]
    counts = ends - starts
    offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    spots = np.arange(counts.sum()) - np.repeat(offsets - starts, counts)
    return examples.indices[spots], examples.values[spots], offsets


_CACHE: OrderedDict[str, Classifier] = OrderedDict()
_CACHE_SIZE = 4  # a reload, the previous content, a test's fixtures: a few models at a time
_LOCK = threading.Lock()


def _cached(examples: tuple[tuple[str, str], ...]) -> Classifier:
    """Training takes a moment: the same examples (a restarted engine, a test) reuse the model."""
    digest = hashlib.sha256()
    for label, text in examples:
        digest.update(f"{label}\x00{text}\x01".encode())
    key = digest.hexdigest()
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    model = _fit(examples)
    with _LOCK:
        _CACHE[key] = model
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return model


def _fit(examples: Iterable[tuple[str, str]]) -> Classifier:
    labels: dict[str, int] = {}
    vocabulary: dict[str, int] = {}
    columns: list[int] = []
    bounds = [0]
    targets: list[int] = []
    for label, text in examples:
        found = [vocabulary.setdefault(f, len(vocabulary)) for f in features(text)]
        if not found:
            continue
        columns.extend(found)
        bounds.append(len(columns))
        targets.append(labels.setdefault(label, len(labels)))
    names = tuple(labels)
    if not targets:
        empty = np.zeros((0, len(names)), np.float32)
        none = Examples(np.zeros(1, np.int64), *(np.zeros(0, np.int64),) * 3)
        return Classifier(names, {}, np.ones(0, np.float32), empty, np.zeros(len(names)), none)
    # The examples as a sparse matrix (CSR: row bounds, columns, values), each row of unit length.
    indices = np.array(columns, np.int64)
    indptr = np.array(bounds, np.int64)
    lengths = np.diff(indptr)
    # Rare features tell most: inverse document frequency, as in a search engine.
    idf = (np.log((len(targets) + 1) / (np.bincount(indices) + 1)) + 1).astype(np.float32)
    values = idf[indices]
    norms = np.sqrt(np.add.reduceat(values * values, indptr[:-1]))
    values /= np.repeat(norms, lengths)
    weights = np.zeros((len(vocabulary), len(names)), np.float32)
    bias = np.zeros(len(names), np.float32)
    squares = np.full_like(weights, 1e-6)  # Adagrad: frequent features take smaller steps
    target = np.array(targets)
    generator = np.random.default_rng(SEED)
    for _ in range(EPOCHS):
        order = generator.permutation(len(targets))
        for start in range(0, len(targets), BATCH):
            batch = order[start : start + BATCH]
            counts = lengths[batch]
            offsets = np.concatenate(([0], np.cumsum(counts)[:-1]))
            spots = np.arange(counts.sum()) - np.repeat(offsets - indptr[batch], counts)
            cols, vals = indices[spots], values[spots]
            logits = np.add.reduceat(weights[cols] * vals[:, None], offsets) + bias
            logits -= logits.max(axis=1, keepdims=True)
            error = np.exp(logits)
            error /= error.sum(axis=1, keepdims=True)
            error[np.arange(len(batch)), target[batch]] -= 1.0
            error /= len(batch)
            # Gradient of each feature column: sum of its rows' errors, gathered by column.
            unique, inverse = np.unique(cols, return_inverse=True)
            by_column = np.argsort(inverse, kind="stable")
            starts = np.searchsorted(inverse[by_column], np.arange(len(unique)))
            contributions = error[np.repeat(np.arange(len(batch)), counts)] * vals[:, None]
            gradient = np.add.reduceat(contributions[by_column], starts)
            squares[unique] += gradient * gradient
            weights[unique] -= LEARNING_RATE * gradient / np.sqrt(squares[unique])
            bias -= 0.05 * error.sum(axis=0)
    taught = Examples(indptr, indices, values, target)
    return Classifier(names, vocabulary, idf, weights, bias, taught)
