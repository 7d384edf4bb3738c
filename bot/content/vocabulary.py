"""This module contains the classifier's vocabulary: each known feature's column, kept small.

A model knows about a hundred thousand features (character n-grams, words, word pairs). As a
``dict`` of strings they take about 14 MB of every server process; here they are one UTF-8 text
and three arrays, about 3 MB, looked up as fast for the hundred or so features of a message.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

SEPARATOR = b"\n"  # features never hold a line break (they are built from tokens)


class Vocabulary:
    """Features and their column numbers (their order in ``text``, one per line)."""

    def __init__(self, text: bytes, hashes: np.ndarray | None = None) -> None:
        """``hashes``: each feature's ``hash()``, when the caller has the features as texts
        (decoding them all again takes seconds with a big vocabulary)."""
        self._text = text
        if not text:
            self._starts = np.zeros(1, np.int64)
        else:
            breaks = np.flatnonzero(np.frombuffer(text, np.uint8) == SEPARATOR[0])
            self._starts = np.concatenate(([0], breaks + 1, [len(text) + 1])).astype(np.int64)
        # Python's string hash is stable within a process, which is all a lookup needs: the
        # hashes are worked out at every load and never stored.
        if hashes is None:
            hashes = np.fromiter((hash(feature) for feature in self), np.int64, len(self))
        self._order = np.argsort(hashes, kind="stable").astype(np.int32)
        self._hashes = hashes[self._order]

    @classmethod
    def of(cls, features: Iterable[str]) -> Vocabulary:
        """The vocabulary of these features, numbered in the order given."""
        listed = features if isinstance(features, list) else list(features)
        hashes = np.fromiter((hash(feature) for feature in listed), np.int64, len(listed))
        return cls(SEPARATOR.join(feature.encode() for feature in listed), hashes)

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
        hashes = np.fromiter((hash(feature) for feature in wanted), np.int64, len(wanted))
        spots = np.searchsorted(self._hashes, hashes).clip(max=len(self._hashes) - 1)
        found = []
        for feature, spot, wanted_hash in zip(wanted, spots.tolist(), hashes, strict=True):
            # Two features may share a hash: look at each column with this one.
            encoded = feature.encode()
            while spot < len(self._hashes) and self._hashes[spot] == wanted_hash:
                column = int(self._order[spot])
                if self._feature(column) == encoded:
                    found.append(column)
                    break
                spot += 1
        return np.array(found, np.int64)

    def _feature(self, column: int) -> bytes:
        return self._text[self._starts[column] : self._starts[column + 1] - 1]
