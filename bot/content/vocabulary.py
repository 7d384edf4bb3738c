"""This module contains the classifier's vocabulary: each known feature's column, kept small.

A model knows about a hundred thousand features (character n-grams, words, word pairs). As a
``dict`` of strings they take about 14 MB of every server process; here they are one UTF-8 text
and three arrays, about 3 MB, looked up as fast for the hundred or so features of a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

SEPARATOR = b"\n"  # features never hold a line break (they are built from tokens)


def _starts_of(text: bytes) -> np.ndarray:
    """Where each line of ``text`` starts, and one past the end (plus one)."""
    if not text:
        return np.zeros(1, np.int64)
    breaks = np.flatnonzero(np.frombuffer(text, np.uint8) == SEPARATOR[0])
    return np.concatenate(([0], breaks + 1, [len(text) + 1])).astype(np.int64)


def _hashes(features: Iterable[bytes], count: int) -> np.ndarray:
    """Each feature's ``hash()``, of its UTF-8 bytes: Python's hash is the same within a
    process, which is all a lookup needs (worked out at every load, never stored). Taken of the
    bytes, a vocabulary's features need no decoding: a million take a fraction of a second."""
    return np.fromiter(map(hash, features), np.int64, count)


class Vocabulary:
    """Features and their column numbers (their order in ``text``, one per line)."""

    def __init__(self, text: bytes) -> None:
        self._text = text
        self._starts = _starts_of(text)
        hashes = _hashes(text.split(SEPARATOR) if text else [], len(self._starts) - 1)
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
        hashes = _hashes(encoded_all, len(encoded_all))
        spots = np.searchsorted(self._hashes, hashes).clip(max=len(self._hashes) - 1)
        # Most of a message's features are unknown: only those whose hash is there are looked
        # at one by one.
        candidates = np.flatnonzero(self._hashes[spots] == hashes).tolist()
        found = []
        text, starts, order, known = self._text, self._starts, self._order, self._hashes
        for index in candidates:
            spot, wanted_hash, encoded = int(spots[index]), hashes[index], encoded_all[index]
            # Two features may share a hash: look at each column with this one.
            while spot < len(known) and known[spot] == wanted_hash:
                column = int(order[spot])
                if text[starts[column] : starts[column + 1] - 1] == encoded:
                    found.append(column)
                    break
                spot += 1
        return np.array(found, np.int64)

    def _feature(self, column: int) -> bytes:
        return self._text[self._starts[column] : self._starts[column + 1] - 1]
