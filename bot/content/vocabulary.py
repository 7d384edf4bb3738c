"""This module contains the classifier's vocabulary: each known feature's column, kept small.

A model knows about a hundred thousand features (character n-grams, words, word pairs). As a
``dict`` of strings they take about 14 MB of every server process; here they are one UTF-8 text
and three arrays, about 3 MB, looked up as fast for the hundred or so features of a message.
The arrays depend on the text only (a CRC-32 of each feature, the same in every process): a
stored model keeps them, and a restart maps them from the file instead of working them out.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Iterator, Sequence

import numpy as np

SEPARATOR = b"\n"  # features never hold a line break (they are built from tokens)
_hash = zlib.crc32


def _starts_of(text: bytes) -> np.ndarray:
    """Where each line of ``text`` starts, and one past the end (plus one)."""
    if not text:
        return np.zeros(1, np.int64)
    breaks = np.flatnonzero(np.frombuffer(text, np.uint8) == SEPARATOR[0])
    return np.concatenate(([0], breaks + 1, [len(text) + 1])).astype(np.int64)


def _hashes(features: Iterable[bytes], count: int) -> np.ndarray:
    """Each feature's CRC-32, of its UTF-8 bytes: the same in every process, so that a stored
    model keeps its lookup arrays (Python's ``hash()`` changes with each process). Taken of the
    bytes, a vocabulary's features need no decoding: a million take a fraction of a second.
    Thirty-two bits collide now and then over millions of features: ``columns`` compares the
    texts of features sharing a hash."""
    return np.fromiter(map(_hash, features), np.uint32, count)


#: A vocabulary's lookup arrays, as :attr:`Vocabulary.lookup` gives them and a stored model
#: keeps them: where each feature starts in the text, the columns ordered by hash, their hashes.
Lookup = tuple[np.ndarray, np.ndarray, np.ndarray]


class _Lookups:
    """What any vocabulary answers from its ``positions``."""

    def positions(self, wanted: Sequence[str]) -> np.ndarray:
        raise NotImplementedError

    def __contains__(self, feature: object) -> bool:
        return isinstance(feature, str) and len(self.columns([feature])) == 1

    def columns(self, features: Iterable[str]) -> np.ndarray:
        """The columns of those of ``features`` the vocabulary knows, in the order given."""
        found = self.positions(list(features))
        return found[found >= 0]


class Vocabulary(_Lookups):
    """Features and their column numbers (their order in ``text``, one per line)."""

    def __init__(self, text: bytes | memoryview, lookup: Lookup | None = None) -> None:
        """``lookup``: the arrays :attr:`lookup` gave for this very text (a stored model's,
        mapped from its file): not worked out again."""
        self._text = text
        if lookup is not None:
            self._starts, self._order, self._hashes = lookup
            end = len(text) + 1 if len(text) else 0
            count = len(self._starts) - 1
            if int(self._starts[-1]) != end or not len(self._order) == len(self._hashes) == count:
                raise ValueError("a vocabulary's lookup arrays do not match its features")
            return
        self._starts = _starts_of(bytes(text))
        features = bytes(text).split(SEPARATOR) if text else []
        hashes = _hashes(features, len(self._starts) - 1)
        self._order = np.argsort(hashes, kind="stable").astype(np.int32)
        self._hashes = hashes[self._order]

    @classmethod
    def of(cls, features: Iterable[str]) -> Vocabulary:
        """The vocabulary of these features, numbered in the order given."""
        return cls(SEPARATOR.join(feature.encode() for feature in features))

    def extended(self, features: Sequence[str]) -> Vocabulary:
        """This vocabulary with ``features`` (none of them known) numbered after its own: the
        lookup arrays are merged, not worked out again for every feature."""
        if not len(self):
            return Vocabulary.of(features)
        if not features:
            return self
        encoded = [feature.encode() for feature in features]
        added = SEPARATOR.join(encoded)
        starts = np.concatenate((self._starts[:-1], _starts_of(added) + len(self._text) + 1))
        hashes = _hashes(encoded, len(encoded))
        order = np.argsort(hashes, kind="stable")
        spots = np.searchsorted(self._hashes, hashes[order], side="right")
        columns = (len(self) + order).astype(np.int32)
        lookup = (
            starts,
            np.insert(self._order, spots, columns),
            np.insert(self._hashes, spots, hashes[order]),
        )
        return Vocabulary(bytes(self._text) + SEPARATOR + added, lookup)

    @property
    def text(self) -> bytes | memoryview:
        """Every feature, a line each, in column order: what a stored model keeps."""
        return self._text

    @property
    def lookup(self) -> Lookup:
        """The arrays that find a feature's column, for a stored model to keep with ``text``."""
        return self._starts, self._order, self._hashes

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __iter__(self) -> Iterator[str]:
        for column in range(len(self)):
            yield self._feature(column).decode()

    def positions(self, wanted: Sequence[str]) -> np.ndarray:
        """Each feature's column, -1 for those the vocabulary does not know."""
        found = np.full(len(wanted), -1, np.int64)
        if not wanted or not len(self):
            return found
        encoded_all = [feature.encode() for feature in wanted]
        hashes = _hashes(encoded_all, len(encoded_all))
        spots = np.searchsorted(self._hashes, hashes).clip(max=len(self._hashes) - 1)
        # Most of a message's features are unknown: only those whose hash is there are looked
        # at one by one.
        candidates = np.flatnonzero(self._hashes[spots] == hashes).tolist()
        text, starts, order, known = self._text, self._starts, self._order, self._hashes
        for index in candidates:
            spot, wanted_hash, encoded = int(spots[index]), hashes[index], encoded_all[index]
            # Two features may share a hash: look at each column with this one.
            while spot < len(known) and known[spot] == wanted_hash:
                column = int(order[spot])
                if text[starts[column] : starts[column + 1] - 1] == encoded:
                    found[index] = column
                    break
                spot += 1
        return found

    def _feature(self, column: int) -> bytes:
        return bytes(self._text[self._starts[column] : self._starts[column + 1] - 1])


class LayeredVocabulary(_Lookups):
    """A vocabulary with features added after its own, without copying it: a stop-gap model's
    after an edit (``base``: the kept model's, mapped from its file; ``added``: the edited
    examples' new features, numbered from ``len(base)``). At a hundred times today's content
    the base holds millions of features: a merged copy took a second to make and to write."""

    def __init__(self, base: Vocabulary, added: Vocabulary) -> None:
        self.base = base
        self.added = added

    def __len__(self) -> int:
        return len(self.base) + len(self.added)

    def __iter__(self) -> Iterator[str]:
        yield from self.base
        yield from self.added

    def positions(self, wanted: Sequence[str]) -> np.ndarray:
        """Each feature's column, -1 for those neither layer knows."""
        found = self.base.positions(wanted)
        unknown = np.flatnonzero(found < 0)
        if len(unknown) and len(self.added):
            more = self.added.positions([wanted[index] for index in unknown.tolist()])
            found[unknown] = np.where(more >= 0, more + len(self.base), -1)
        return found
