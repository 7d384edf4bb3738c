"""This module contains the classifier's vocabulary: each known feature's column, kept small.

A model knows about a hundred thousand features (character n-grams, words, word pairs). As a
``dict`` of strings they take about 14 MB of every server process; here they are one UTF-8 text
and three arrays, about 3 MB, looked up as fast for the hundred or so features of a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

SEPARATOR = b"\n"  # features never hold a line break (they are built from tokens)


#: Each byte's weight by its place in a feature (repeating past 64 places), for ``_hashes``.
_PLACES = 64
_WEIGHTS = np.random.default_rng(21).integers(1, 2**63, _PLACES, dtype=np.uint64) | np.uint64(1)
_LENGTH_WEIGHT = np.uint64(0x9E3779B97F4A7C15)
_CHUNK = 1 << 22  # bytes hashed at a time: the temporary arrays stay a few tens of MB


def _starts_of(text: bytes) -> np.ndarray:
    """Where each line of ``text`` starts, and one past the end (plus one)."""
    if not text:
        return np.zeros(1, np.int64)
    breaks = np.flatnonzero(np.frombuffer(text, np.uint8) == SEPARATOR[0])
    return np.concatenate(([0], breaks + 1, [len(text) + 1])).astype(np.int64)


def _hashes(text: bytes, starts: np.ndarray) -> np.ndarray:
    """A 64-bit hash of each line of ``text``, worked out by numpy over all of them at once: a
    million features take a fraction of a second, where ``hash()`` one by one (each decoded
    first) took seconds. It depends only on the bytes, so it is the same in every process.
    Two features may still share a hash: ``columns`` then compares their texts."""
    count = len(starts) - 1
    result = np.zeros(count, np.uint64)
    data = np.frombuffer(text, np.uint8)
    first = 0
    while first < count:
        # Whole lines, about _CHUNK bytes of them.
        last = int(np.searchsorted(starts, starts[first] + _CHUNK, side="right")) - 1
        last = min(max(last, first + 1), count)
        begin, end = int(starts[first]), int(starts[last]) - 1  # the last line's separator out
        lengths = starts[first + 1 : last + 1] - starts[first:last] - 1
        places = (
            np.arange(end - begin)
            - np.repeat(starts[first:last] - begin, lengths + 1)[: end - begin]
        )
        values = (data[begin:end].astype(np.uint64) + np.uint64(1)) * _WEIGHTS[places % _PLACES]
        values[data[begin:end] == SEPARATOR[0]] = 0
        # An empty last line starts past the bytes: it starts on its separator instead (a
        # zero), and is set to nothing below.
        offsets = np.minimum(starts[first:last] - begin, max(len(values) - 1, 0))
        sums = (
            np.add.reduceat(values, offsets) if len(values) else np.zeros(last - first, np.uint64)
        )
        empty = lengths == 0  # reduceat gives an empty line the next byte: it is nothing
        sums[empty] = 0
        result[first:last] = sums + lengths.astype(np.uint64) * _LENGTH_WEIGHT
        first = last
    return result


class Vocabulary:
    """Features and their column numbers (their order in ``text``, one per line)."""

    def __init__(self, text: bytes) -> None:
        self._text = text
        self._starts = _starts_of(text)
        hashes = _hashes(text, self._starts)
        self._order = np.argsort(hashes, kind="stable").astype(np.int32)
        self._hashes = hashes[self._order]

    @classmethod
    def of(cls, features: Iterable[str]) -> Vocabulary:
        """The vocabulary of these features, numbered in the order given."""
        return cls(SEPARATOR.join(feature.encode() for feature in features))

    @property
    def text(self) -> bytes:
        """Every feature, a line each, in column order: what a stored model keeps."""
        return self._text

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __iter__(self) -> Iterator[str]:
        for column in range(len(self)):
            yield self._feature(column).decode()

    def __contains__(self, feature: object) -> bool:
        return isinstance(feature, str) and len(self.columns([feature])) == 1

    def columns(self, features: Iterable[str]) -> np.ndarray:
        """The columns of those of ``features`` the vocabulary knows, in the order given."""
        wanted = list(features)
        if not wanted or not len(self):
            return np.zeros(0, np.int64)
        encoded_all = [feature.encode() for feature in wanted]
        joined = SEPARATOR.join(encoded_all)
        hashes = _hashes(joined, _starts_of(joined)) if joined else np.zeros(1, np.uint64)
        spots = np.searchsorted(self._hashes, hashes).clip(max=len(self._hashes) - 1)
        found = []
        for encoded, spot, wanted_hash in zip(encoded_all, spots.tolist(), hashes, strict=True):
            # Two features may share a hash: look at each column with this one.
            while spot < len(self._hashes) and self._hashes[spot] == wanted_hash:
                column = int(self._order[spot])
                if self._feature(column) == encoded:
                    found.append(column)
                    break
                spot += 1
        return np.array(found, np.int64)

    def _feature(self, column: int) -> bytes:
        return self._text[self._starts[column] : self._starts[column + 1] - 1]
