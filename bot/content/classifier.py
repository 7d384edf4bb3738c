"""This module contains the message classifier: what a message is about, and how sure that is.

Two parts, trained on the content's own sample messages when the content loads (they ship with
the code; nothing is downloaded):

- a softmax (multinomial logistic) regression over character n-grams, words, word pairs and
  cross-script sound keys, giving each **label** a probability. The understanding's labels are
  areas, taught intents and "off topic": few labels, many examples each, so that unseen
  phrasings generalise and the model stays small however many topics the content has;
- the examples' **groups** (topics), each with a centroid (its examples' average) to rank the
  topics, and its examples to tell how close the message comes to the nearest of them.

Character n-grams carry typos, unseen forms and scripts ("permeso", "رینیو"); sound keys
carry Italian terms written in other letters ("پرمیسو" is "permesso"); the off-topic examples
form a label of their own, so small talk has somewhere to go other than the nearest topic.
"""

from __future__ import annotations

import array
import functools
import hashlib
import itertools
import json
import logging
import multiprocessing
import pickle
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, overload

import numpy as np

from bot.content import arrayfile
from bot.content.layers import PatchedTable
from bot.content.text import has_cjk, token_sound_key, tokens
from bot.content.vocabulary import LayeredVocabulary, Vocabulary

log = logging.getLogger(__name__)

# Change this when features or training change: models kept on disk are then trained again.
MODEL_VERSION = "2026-12-01.1"
KEPT_MODELS = 4  # models kept on disk: the current content, and a few before it
NGRAMS = (2, 5)  # character n-gram lengths, of each word padded with spaces
EPOCHS = 6  # passes over today's content (about 28,000 examples); fewer over more
STEPS = 200_000  # examples seen in training: EPOCHS up to 33,000 examples, a sample past STEPS
BATCH = 64
LEARNING_RATE = 1.0
SEED = 7  # training is deterministic: the same content always gives the same answers
CENTROID_FEATURES = 4000  # a group's centroid keeps its strongest features only
# A stop-gap model after an edit (``_refreshed``) learns from the changed examples and, so that
# the labels do not drift towards them, from as many times more of the others, drawn afresh at
# each pass: REFRESH_STEPS examples seen in all, about a second.
REFRESH_STEPS = 30_000
REFRESH_OTHERS = 3
# Past this share of the examples in groups an edit changed, no stop-gap: the training child
# works it out first, and reading that many examples again would hold the full model back by
# as large a share of a full training's reading.
STOPGAP_SHARE = 0.5

#: One training example: its label, its text and, optionally, its group (a topic) and the
#: language it is written in (a second, smaller model learns to tell languages apart).
Example = tuple[str, str] | tuple[str, str, str | None] | tuple[str, str, str | None, str | None]
_Full = tuple[str, str, str | None, str | None]
#: The groups' centroids by feature: where each feature's postings start and end, and the
#: postings' groups and weights (``_postings``).
Postings = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


#: Groups of phrases that mean the same (``synonyms.yaml``), normalised: each group is one
#: more feature of any message that holds one of its phrases ("pds", "居留证", "permesso di
#: soggiorno"), so that one phrase in a question finds examples written with another.
Synonyms = tuple[tuple[str, ...], ...]


def features(
    text: str,
    synonyms: Synonyms = (),
    of_word: Callable[[str], frozenset[str]] | None = None,
) -> set[str]:
    """What the classifier sees of a message (``of_word``: a word's features, remembered)."""
    words = tokens(text)
    found: set[str] = set()
    for word in words:
        found.update((of_word or _word_features)(word))
    found.update(f"b:{first} {second}" for first, second in itertools.pairwise(words))
    if synonyms:
        padded = f" {' '.join(words)} "
        for index, group in enumerate(synonyms):
            if any(f" {phrase} " in padded for phrase in group):
                found.add(f"s:{index}")
    return found


def normalised_synonyms(groups: Sequence[Sequence[str]]) -> Synonyms:
    """Synonym groups as :func:`features` compares them: tokens joined by single spaces."""
    return tuple(
        tuple(dict.fromkeys(" ".join(tokens(phrase)) for phrase in group if tokens(phrase)))
        for group in groups
    )


# Users' words, remembered: a word's features take about 2.5 kB, so a bound of 4,096 words
# (about 10 MB) keeps the common ones without growing for months; training remembers every
# word of the content in a cache of its own, dropped when the model is made.
@functools.lru_cache(maxsize=4096)
def _word_features(word: str) -> frozenset[str]:
    return _features_of_word(word)


def _features_of_word(word: str) -> frozenset[str]:
    """One word's features: its character n-grams, itself, and its sound key."""
    found = {"w:" + word}
    if has_cjk(word):
        return frozenset(found)  # tokens already gives Chinese characters and character pairs
    padded = f" {word} "
    low, high = NGRAMS
    for size in range(low, min(high, len(padded)) + 1):
        found.update(padded[start : start + size] for start in range(len(padded) - size + 1))
    key = token_sound_key(word)
    if key is not None:
        found.add("k:" + key)
    return frozenset(found)


@dataclass(frozen=True)
class Query:
    """A message as the model reads it: its known features and their weights.

    ``values`` has unit length counting the unknown features too (``rank`` renormalises):
    a message mostly made of words the content never uses is far from every example, however
    well its one known word fits.
    """

    columns: np.ndarray
    values: np.ndarray
    #: The share of its words the content uses (0 to 1): "klingon" has letters in common with
    #: many words, but is none of them.
    words_known: float = 0.0

    @property
    def known(self) -> bool:
        return len(self.columns) > 0


@dataclass(frozen=True)
class Rows:
    """Examples as a sparse matrix (CSR: row bounds, columns, values), each row of unit length,
    with each row's label and group (-1: none)."""

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    targets: np.ndarray
    groups: np.ndarray
    languages: np.ndarray  # each row's language (-1: not known)

    @classmethod
    def stored(cls, arrays: Mapping[str, np.ndarray]) -> Rows:
        """The rows a model's file holds (``Classifier.save``, ``_StopGap.save``)."""
        return cls(
            arrays["indptr"],
            arrays["indices"],
            arrays["values"],
            arrays["targets"],
            arrays["groups"],
            arrays["languages"],
        )

    def of(self, selected: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The selected rows as (columns, values, where each row starts)."""
        starts, ends = self.indptr[selected], self.indptr[selected + 1]
        counts = ends - starts
        offsets = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        spots = np.arange(counts.sum()) - np.repeat(offsets - starts, counts)
        return self.indices[spots], self.values[spots], offsets


class Classifier:
    """A trained model: ``rank`` gives each label's probability, ``groups`` ranks the groups,
    ``nearest`` tells how close a message comes to a group's closest example."""

    def __init__(
        self,
        labels: tuple[str, ...],
        group_names: tuple[str, ...],
        vocabulary: Vocabulary,
        idf: np.ndarray,
        weights: np.ndarray,
        bias: np.ndarray,
        rows: Rows,
        language_names: tuple[str, ...] = (),
        language_weights: np.ndarray | None = None,
        language_bias: np.ndarray | None = None,
        synonyms: Synonyms = (),
        postings: Postings | None = None,
        squares: np.ndarray | None = None,
        group_digests: Mapping[str | None, str] | None = None,
        exact: bool = True,
    ) -> None:
        """``postings``: the groups' centroids as ``_centroid_postings`` makes them from
        ``rows`` (a stored model keeps them: working them out again takes most of a start).
        ``squares``, ``group_digests``: what a stop-gap model after an edit starts from (see
        ``_refreshed``); ``exact``: False for such a stop-gap, never kept as the content's model.
        """
        self.labels = labels
        #: Whether this is the content's own model, as a full training makes it (the same in
        #: every process), or a stop-gap worked out from the model before an edit.
        self.exact = exact
        #: Each group's examples' digest (None: the examples of no group), as trained on.
        self.group_digests: Mapping[str | None, str] = group_digests or {}
        #: The kept file that holds this model (None: none, or a temporary one): the training
        #: child maps it to work a stop-gap out from it after an edit (``_fit_in_child``).
        self.file: Path | None = None
        # Each feature's squared gradients summed in training (one column per head): a
        # stop-gap's training goes on from them, taking small steps where the model had learnt.
        self._squares = squares
        self.synonyms = synonyms
        self.group_names = group_names
        self.language_names = language_names
        # Weights and examples are kept in half precision: a third of the model's memory in
        # every server process, and the same answers on the tuning and held-out questions
        # (a probability moves in its fourth decimal; the thresholds have two).
        # A stop-gap's are layered (``_StopGap``): a kept model's with an edit's on top.
        self._language_weights: np.ndarray | PatchedTable | None = _half(language_weights)
        self._language_bias = language_bias
        self._vocabulary: Vocabulary | LayeredVocabulary = vocabulary
        self._idf: np.ndarray | PatchedTable = idf
        self._weights: np.ndarray | PatchedTable = _half(weights)
        self._bias = bias
        # Examples ordered by group, so that a group's examples are one slice of the arrays
        # (no copies gathered as the groups are asked about: memory stays flat over months).
        rows = _by_group(rows)
        self._rows = replace(rows, values=_half(rows.values))
        self._unseen_weight = float(idf.max()) if len(idf) else 1.0
        self._read: dict[str, Query] = {}
        self._dense = np.zeros(len(vocabulary), np.float32)
        self._group_index = {name: index for index, name in enumerate(group_names)}
        self._group_starts = np.searchsorted(rows.groups, np.arange(len(group_names) + 1))
        self._postings = postings or _centroid_postings(rows, self._group_starts, len(vocabulary))

    @classmethod
    def train(
        cls,
        examples: Sequence[Example],
        cache: Path | None = None,
        synonyms: Sequence[Sequence[str]] = (),
        elsewhere: bool = False,
        previous: Classifier | None = None,
        stopgap: Callable[[Classifier], None] | None = None,
    ) -> Classifier:
        """Learn from ``(label, text[, group])`` examples; the same examples give the same model.

        With ``cache``, a model trained before on the same examples is read from that folder
        instead of trained again (a restart, the terminal chat, ``sportello ask``). With
        ``elsewhere``, a new model is trained in a child process: a server goes on answering
        at full speed meanwhile (a training thread would take the interpreter from it).

        With ``elsewhere`` and ``stopgap``, when a model has to be trained, the child first works
        a stop-gap out from a kept model (the file of ``previous``, the model of the content
        before an edit, or else the newest one in ``cache``): only the groups whose examples
        changed are read again. It is handed to ``stopgap`` as soon as it is ready, then the
        child goes on with the full training, whose model is returned: the stop-gap answers
        the edited questions meanwhile, and is never kept or reused (``exact`` is False). No
        stop-gap is ever worked out in this process (see ``_fit_in_child``).
        """
        full = _full(examples)
        return _cached(full, normalised_synonyms(synonyms), cache, elsewhere, previous, stopgap)

    def read(self, text: str) -> Query:
        """The message as the model reads it (the last few are remembered: the language and
        the subject of one message are worked out from the same reading)."""
        remembered = self._read.get(text)
        if remembered is not None:
            return remembered
        query = self._reading(text)
        self._read[text] = query
        if len(self._read) > 64:
            del self._read[next(iter(self._read))]
        return query

    def _reading(self, text: str) -> Query:
        found = features(text, self.synonyms)
        columns = self._vocabulary.columns(found)
        values = self._idf[columns] if len(columns) else np.zeros(0, np.float32)
        unknown = len(found) - len(columns)
        length = np.sqrt(float(values @ values) + unknown * self._unseen_weight**2)
        words = [f for f in found if f.startswith("w:")]
        known = len(self._vocabulary.columns(words)) / len(words) if words else 0.0
        return Query(columns, values / length if length else values, words_known=known)

    def rank(self, query: Query) -> dict[str, float]:
        """Every label's probability for the message."""
        return _softmax(query, self._weights, self._bias, self.labels)

    def languages(self, query: Query) -> dict[str, float]:
        """Every known language's probability for the message (empty: none was taught)."""
        if self._language_weights is None or self._language_bias is None:
            return {}
        return _softmax(query, self._language_weights, self._language_bias, self.language_names)

    def examples_per_language(self) -> dict[str, int]:
        """How many examples the model learnt in each language."""
        known = self._rows.languages[self._rows.languages >= 0]
        counts = np.bincount(known, minlength=len(self.language_names))
        return dict(zip(self.language_names, counts.tolist(), strict=True))

    def groups(self, query: Query) -> np.ndarray:
        """Each group's resemblance to the message (cosine with its centroid), in the order of
        ``group_names``."""
        starts, ends, groups, weights = self._postings
        if not query.known:
            return np.zeros(len(self.group_names))
        begin = starts[query.columns]
        counts = ends[query.columns] - begin
        spots = _spread(begin, counts)
        return np.bincount(
            groups[spots],
            weights=weights[spots] * np.repeat(query.values, counts),
            minlength=len(self.group_names),
        )

    def nearest(self, query: Query, group: str) -> float:
        """Cosine similarity (0 to 1) of the message to the group's closest example."""
        if not query.known or group not in self._group_index:
            return 0.0
        indices, values, offsets = self._member_rows(self._group_index[group])
        if not len(offsets):
            return 0.0
        # The message as a full-width vector, in a buffer kept zero between calls (messages are
        # understood one at a time, on the event loop).
        dense = self._dense
        dense[query.columns] = query.values
        try:
            return float(np.add.reduceat(dense[indices] * values, offsets).max())
        finally:
            dense[query.columns] = 0.0

    def _member_rows(self, group: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A group's examples as (columns, values, where each example starts): views into the
        model's arrays, since they are ordered by group."""
        first, last = self._group_starts[group], self._group_starts[group + 1]
        begin, end = self._rows.indptr[first], self._rows.indptr[last]
        rows = self._rows
        return rows.indices[begin:end], rows.values[begin:end], rows.indptr[first:last] - begin

    @staticmethod
    def kept_in(folder: Path | None) -> bool:
        """Whether a model is kept in ``folder``, whatever its content: a server started on
        edited content has its training child work a stop-gap out from the newest (see
        ``train``)."""
        return bool(_kept_files(folder))

    def save(self, path: Path) -> None:
        """Write the model to ``path`` (atomically: a reader never sees half a file)."""
        rows = self._rows
        vocabulary = _flat_vocabulary(self._vocabulary)
        starts, order, hashes = vocabulary.lookup
        arrays = {
            # One UTF-8 text, a feature a line, and the arrays that look features up in it:
            # a restart maps them instead of hashing and sorting every feature again.
            "vocabulary": np.frombuffer(vocabulary.text, np.uint8),
            "vocabulary_starts": starts,
            "vocabulary_order": order,
            "vocabulary_hashes": hashes,
            "idf": _flat(self._idf),
            "weights": _flat(self._weights),
            "bias": self._bias,
            "indptr": rows.indptr,
            "indices": rows.indices,
            "values": rows.values,
            "targets": rows.targets,
            "groups": rows.groups,
            "languages": rows.languages,
            "language_weights": _or_empty(_flat(self._language_weights)),
            "language_bias": _or_empty(self._language_bias),
            "posting_starts": self._postings[0],
            "posting_ends": self._postings[1],
            "posting_groups": self._postings[2],
            "posting_weights": self._postings[3],
            "squares": _or_empty(self._squares),
        }
        names = {
            "labels": self.labels,
            "group_names": self.group_names,
            "language_names": self.language_names,
            "synonyms": self.synonyms,
            "exact": self.exact,
            "group_digests": list(self.group_digests.items()),
            "version": MODEL_VERSION,
        }
        arrayfile.write(path, arrays, names)

    @classmethod
    def load(cls, path: Path) -> Classifier:
        """The model ``save`` wrote, its arrays mapped from the file (see ``arrayfile``).
        Raises ``ValueError`` for a model of other features or training (``MODEL_VERSION``)."""
        names, data = arrayfile.read(path)
        if names.get("version") != MODEL_VERSION:
            raise ValueError(f"{path}: a model of version {names.get('version')}")
        if names.get("base") is not None:  # a stop-gap's layer (see ``_StopGap``)
            return _StopGap.of_layer(path, names, data)
        rows = Rows.stored(data)
        lookup = (data["vocabulary_starts"], data["vocabulary_order"], data["vocabulary_hashes"])
        model = cls(
            tuple(names["labels"]),
            tuple(names["group_names"]),
            Vocabulary(data["vocabulary"].data, lookup),
            data["idf"],
            data["weights"],
            data["bias"],
            rows,
            tuple(names["language_names"]),
            data["language_weights"] if data["language_weights"].size else None,
            data["language_bias"] if data["language_bias"].size else None,
            tuple(tuple(group) for group in names["synonyms"]),
            (
                data["posting_starts"],
                data["posting_ends"],
                data["posting_groups"],
                data["posting_weights"],
            ),
            data["squares"] if data["squares"].size else None,
            {group: digest for group, digest in names["group_digests"]},
            bool(names["exact"]),
        )
        model.file = path
        return model


def _full(examples: Sequence[Example]) -> tuple[_Full, ...]:
    """Examples with their group and language (None where not given)."""
    return tuple(
        e  # the understanding's examples are full already
        if len(e) == 4
        else (e[0], e[1], e[2] if len(e) > 2 else None, e[3] if len(e) > 3 else None)
        for e in examples
    )


@overload
def _half(array: np.ndarray) -> np.ndarray: ...


@overload
def _half(array: None) -> None: ...


def _half(array: np.ndarray | None) -> np.ndarray | None:
    return None if array is None else array.astype(np.float16, copy=False)


def _or_empty(array: np.ndarray | None) -> np.ndarray:
    return np.zeros(0, np.float32) if array is None else array


def _softmax(
    query: Query, weights: np.ndarray | PatchedTable, bias: np.ndarray, labels: tuple[str, ...]
) -> dict[str, float]:
    logits = bias.astype(np.float64)
    if query.known:
        values = query.values / np.linalg.norm(query.values)
        logits = logits + values @ weights[query.columns]
    logits -= logits.max()
    chances = np.exp(logits)
    chances /= chances.sum()
    return dict(zip(labels, chances.tolist(), strict=True))


def _by_group(rows: Rows) -> Rows:
    """The same examples ordered by group (those of no group, -1, first)."""
    if not len(rows.groups) or bool(np.all(rows.groups[1:] >= rows.groups[:-1])):
        return rows
    order = np.argsort(rows.groups, kind="stable")
    indices, values, starts = rows.of(order)
    return Rows(
        np.append(starts, len(indices)).astype(np.int64),
        indices,
        values,
        rows.targets[order],
        rows.groups[order],
        rows.languages[order],
    )


def _centroid_postings(rows: Rows, group_starts: np.ndarray, width: int) -> Postings:
    """Each group's centroid as postings by feature: (starts, ends) per feature, then the
    postings' groups and weights. A message's resemblance to every group is then one pass over
    its own features, however many groups there are.

    ``rows`` are ordered by group (``group_starts``: where each group's rows begin): a group's
    centroid is worked out from its own slice and its own features, so that the time grows
    with the examples, not with the groups times the vocabulary."""
    columns, groups, weights = _centroids(rows, group_starts)
    order = np.argsort(columns, kind="stable")
    return _postings(columns[order], groups[order], weights[order], width)


def _centroids(rows: Rows, group_starts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each group's centroid (its strongest features, of unit length), as (columns, groups,
    weights) group after group."""
    found_columns, found_groups, found_weights = [], [], []
    for group in range(len(group_starts) - 1):
        begin, end = rows.indptr[group_starts[group]], rows.indptr[group_starts[group + 1]]
        if begin == end:
            continue
        present, where = np.unique(rows.indices[begin:end], return_inverse=True)
        centroid = np.bincount(where, weights=rows.values[begin:end])
        if len(centroid) <= CENTROID_FEATURES:
            strongest = np.flatnonzero(centroid > 0)  # all kept: their order is made below
        else:
            # Ties go to the lower column, as they would over the whole vocabulary.
            strongest = np.argsort(-centroid, kind="stable")[:CENTROID_FEATURES]
            strongest = strongest[centroid[strongest] > 0]
        kept = centroid[strongest]
        found_columns.append(present[strongest])
        found_groups.append(np.full(len(strongest), group))
        found_weights.append(kept / np.linalg.norm(kept))
    if not found_columns:
        return np.zeros(0, np.int64), np.zeros(0, np.int32), np.zeros(0, np.float32)
    return (
        np.concatenate(found_columns),
        np.concatenate(found_groups).astype(np.int32),
        np.concatenate(found_weights).astype(np.float32),
    )


def _postings(columns: np.ndarray, groups: np.ndarray, weights: np.ndarray, width: int) -> Postings:
    """Postings of centroids' features ordered by column: where each column's start and end,
    and the postings' groups and weights."""
    # 32-bit positions and groups: half the memory, and far more than any content needs.
    ends = np.cumsum(np.bincount(columns, minlength=width)).astype(np.int32)
    starts = np.concatenate(([0], ends[:-1])).astype(np.int32)
    return starts, ends, groups.astype(np.int32), weights.astype(np.float32)


def _spread(begin: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The positions of the spans starting at ``begin``, ``counts`` long, one after another
    (the postings of a message's features, gathered in one step)."""
    spots: np.ndarray = np.arange(counts.sum()) - np.repeat(
        np.cumsum(counts) - counts - begin, counts
    )
    return spots


def _posting_columns(postings: Postings) -> np.ndarray:
    """Each posting's column (postings only keep where each column's postings lie)."""
    starts, ends, _, _ = postings
    return np.repeat(np.arange(len(starts), dtype=np.int64), ends - starts)


_CACHE: OrderedDict[str, Classifier] = OrderedDict()
_CACHE_SIZE = 4  # a reload, the previous content, a test's fixtures: a few models at a time
_LOCK = threading.Lock()


def _cached(
    examples: tuple[_Full, ...],
    synonyms: Synonyms,
    folder: Path | None,
    elsewhere: bool = False,
    previous: Classifier | None = None,
    stopgap: Callable[[Classifier], None] | None = None,
) -> Classifier:
    """Training takes seconds: the same examples (a restarted engine, a test) reuse the model.

    Only full trainings' models are kept, in memory and on disk, under the examples' digest: a
    stop-gap is handed to ``stopgap`` and never kept, so no restart or other process can take
    it for the content's model."""
    key, digests = _digests(examples, synonyms)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    stored = folder / f"understanding-{key[:24]}.arrays" if folder is not None else None
    model = _read(stored) if stored is not None else None
    if model is None:
        if elsewhere:
            work = None
            if stopgap is not None:
                work = _stopgap_work(previous, folder, examples, synonyms, digests)
            model = _fit_in_child(examples, synonyms, work, stopgap)
        else:
            model = _fit(examples, synonyms)
        model.group_digests = digests
        if stored is not None and _write(model, stored):
            model.file = stored  # the same model: a stop-gap after the next edit maps it
    with _LOCK:
        _CACHE[key] = model
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return model


def _read(path: Path) -> Classifier | None:
    try:
        model = Classifier.load(path)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("the stored understanding model %s is unreadable: training again", path)
        return None
    if not model.exact:  # never written by this code: a stop-gap stands in for no content
        log.warning("the stored understanding model %s is a stop-gap: training again", path)
        return None
    return model


def _digests(examples: Sequence[_Full], synonyms: Synonyms) -> tuple[str, dict[str | None, str]]:
    """The examples' digest, which names their model, and each group's digest of its examples
    (label, text, language, in order; None: the examples of no group): the groups an edit
    changed are those whose digests differ. The examples' digest is that of the groups' digests
    and of the runs of examples of each group in turn: of the examples, in their order."""
    groups: dict[str | None, hashlib._Hash] = {}
    whole = hashlib.sha256(MODEL_VERSION.encode())
    whole.update(json.dumps(synonyms).encode())
    # A group's examples mostly come together: one look-up and one update per run of them.
    for group, run in itertools.groupby(examples, key=lambda example: example[2]):
        lines = [f"{label}\x00{text}\x00{language}\x01" for label, text, _, language in run]
        found = groups.get(group)
        if found is None:
            found = groups[group] = hashlib.sha256()
        found.update("".join(lines).encode())
        whole.update(f"{group!r}\x00{len(lines)}\x01".encode())
    digests = {group: found.hexdigest() for group, found in groups.items()}
    for group, digest in digests.items():
        whole.update(f"{group!r}\x00{digest}\x01".encode())
    return whole.hexdigest(), digests


def _write(model: Classifier, path: Path) -> bool:
    """Keep the model for the next start; without a writable folder, just train next time.
    True if it is kept."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
        # Models kept before as .npz files go too, the oldest first.
        kept = sorted(path.parent.glob("understanding-*"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-KEPT_MODELS]:
            old.unlink(missing_ok=True)
    except OSError as error:
        log.info("the understanding model cannot be kept in %s: %s", path.parent, error)
        return False
    return True


@dataclass(frozen=True)
class _StopGapWork:
    """What the training child needs to work a stop-gap out: the kept model's file, the
    examples of the groups changed since it, and each group's digest now (a group of the kept
    model without one was removed)."""

    base: Path
    examples: tuple[_Full, ...]
    digests: dict[str | None, str]


def _stopgap_work(
    previous: Classifier | None,
    folder: Path | None,
    examples: Sequence[_Full],
    synonyms: Synonyms,
    digests: Mapping[str | None, str],
) -> _StopGapWork | None:
    """The stop-gap the training child is to work out first, from the file of ``previous`` or
    else from the newest model kept in ``folder``; None if there is none to work out from, or
    if the edit changed more than STOPGAP_SHARE of the examples. Cheap, as it runs in the
    server: the kept model's header is read (its file mapped), none of its arrays."""
    candidates = [previous.file] if previous is not None and previous.file is not None else []
    candidates += _kept_files(folder)
    for path in candidates:
        before = _kept_digests(path, synonyms)
        if before is None:
            continue
        changed = _changed_groups(before, digests)
        picked = tuple(example for example in examples if example[2] in changed)
        if len(picked) > STOPGAP_SHARE * len(examples):
            log.info("an edit of %d examples in %d: no stop-gap", len(picked), len(examples))
            return None
        return _StopGapWork(path, picked, dict(digests))
    return None


def _changed_groups(
    before: Mapping[str | None, str], now: Mapping[str | None, str]
) -> set[str | None]:
    """The groups whose examples are not those a model was trained on (``before``: its groups'
    digests), new groups included."""
    return {group for group, digest in now.items() if before.get(group) != digest}


def _kept_files(folder: Path | None) -> list[Path]:
    """The models kept in ``folder``, the newest first."""
    if folder is None:
        return []
    try:
        found = [(path.stat().st_mtime, path) for path in folder.glob("understanding-*.arrays")]
    except OSError:  # a file removed meanwhile, a folder not readable: no stop-gap this time
        return []
    return [path for _, path in sorted(found, reverse=True)]


def _kept_digests(path: Path, synonyms: Synonyms) -> Mapping[str | None, str] | None:
    """The groups' digests of the full model kept in ``path``, if a stop-gap of content with
    ``synonyms`` can be worked out from it (new synonyms change every example's features)."""
    try:
        names, arrays = arrayfile.read(path)
    except (OSError, ValueError):
        return None
    if (
        not isinstance(names, dict)
        or names.get("version") != MODEL_VERSION
        or not names.get("exact")
        or not names.get("group_digests")
        or not arrays.get("squares", np.zeros(0)).size
        or tuple(tuple(group) for group in names.get("synonyms", ())) != synonyms
    ):
        return None
    return {group: digest for group, digest in names["group_digests"]}


def _fit_in_child(
    examples: Sequence[_Full],
    synonyms: Synonyms,
    work: _StopGapWork | None = None,
    stopgap: Callable[[Classifier], None] | None = None,
) -> Classifier:
    """``_fit`` in a fresh child process, the model handed back through a file. Training is
    mostly Python code: in a thread, it would hold the interpreter lock most of the time, and
    a server's replies (and its database thread) would wait seconds for their turns.

    With ``work`` and ``stopgap``, the same child first works the stop-gap out (mapping the
    kept model's file) and hands it back through a file of its own, which this process maps
    and gives ``stopgap`` while the child goes on with the full training: here, a stop-gap
    costs what reading a kept model costs, never the work of making it.

    The examples go to the child once the stop-gap is handed over, through a file written a
    slice at a time (``_send``). Handed to the pool with the stop-gap's work, they were pickled
    meanwhile (2.8 s of CPU at 100x, beside the child's work on a 2-core machine: the stop-gap
    came 1.3 s later) into one bytes object of 150 MB, kept until the child took it."""
    context = multiprocessing.get_context("spawn")  # no copy of a running server's threads
    with tempfile.TemporaryDirectory(prefix="sportello-training-") as folder:
        path, early = Path(folder) / "model.arrays", Path(folder) / "stopgap.arrays"
        sent = Path(folder) / "examples.pickles"
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            # One worker: it runs the stop-gap's work, then the full training.
            if work is not None and stopgap is not None:
                _hand_over(pool.submit(_stopgap_and_save, work, synonyms, early), early, stopgap)
            _send(examples, sent)
            # A child that died raises here: the caller keeps its model.
            pool.submit(_fit_and_save, sent, synonyms, path).result()
        return _temporary(path)


# Examples pickled at a time (about 6 ms): the server never holds more than a slice's bytes.
SENT_AT_A_TIME = 5_000


def _send(examples: Sequence[_Full], path: Path) -> None:
    """Write ``examples`` to ``path`` for the training child (``_received``), a slice at a
    time."""
    with path.open("wb") as handle:
        for start in range(0, len(examples), SENT_AT_A_TIME):
            pickle.dump(examples[start : start + SENT_AT_A_TIME], handle, pickle.HIGHEST_PROTOCOL)


def _received(path: Path) -> list[_Full]:
    """The examples ``_send`` wrote, in the training child."""
    examples: list[_Full] = []
    with path.open("rb") as handle:
        while True:
            try:
                examples.extend(pickle.load(handle))
            except EOFError:
                return examples


def _hand_over(made: Future[bool], path: Path, stopgap: Callable[[Classifier], None]) -> None:
    """Give ``stopgap`` the stop-gap the child saved in ``path``, once it is there. A stop-gap
    is a convenience: its failure is logged and costs nothing else (the full training goes on,
    and tells itself if the child died)."""
    try:
        if not made.result():
            return
        model = _temporary(path)
    except Exception:
        log.exception("no stop-gap understanding for the edited content: a full training only")
        return
    try:
        stopgap(model)
    except Exception:
        log.exception("the stop-gap understanding could not be put in place")


def _temporary(path: Path) -> Classifier:
    """The model in a file about to be removed (its mapping stays): no file to work from."""
    model = Classifier.load(path)
    model.file = None
    return model


def _stopgap_and_save(work: _StopGapWork, synonyms: Synonyms, path: Path) -> bool:
    """In the training child: the stop-gap worked out from the kept model (mapped from its
    file, and named in the stop-gap's: nothing of it is copied), saved in ``path``. False if
    none can be (see ``_refreshed``)."""
    model = _refreshed(Classifier.load(work.base), work.examples, synonyms, work.digests)
    if model is None:
        return False
    model.save(path)
    return True


def _fit_and_save(sent: Path, synonyms: Synonyms, path: Path) -> None:
    _fit(_received(sent), synonyms).save(path)


def work_out_stopgap(
    previous: Classifier, examples: Sequence[Example], synonyms: Sequence[Sequence[str]] = ()
) -> Classifier | None:
    """The stop-gap of ``examples`` worked out from ``previous`` in this process: what the
    training child hands a server after an edit, for benchmarks and tests of its answers. A
    server never calls this: its replies would wait for the interpreter meanwhile."""
    full, normalised = _full(examples), normalised_synonyms(synonyms)
    _, digests = _digests(full, normalised)
    return _refreshed(previous, full, normalised, digests)


class _Featuriser:
    """Examples to rows of feature numbers, in one pass: each distinct word's features are
    worked out and numbered once (words repeat across examples), and the features come out
    as numbers, not strings, so that no example's features are kept as texts."""

    def __init__(self, synonyms: Synonyms) -> None:
        self.numbers: dict[str, int] = {}
        self.synonym_numbers: set[int] = set()
        # A word's feature numbers as a 32-bit array: a list of Python ints takes nine times
        # the memory, and the content's words are many (two million at 100x in the benchmark).
        self._words: dict[str, array.array[int]] = {}
        # Synonym phrases by their first word: a message is compared with the few phrases that
        # start with one of its words, not with every phrase (the same matches as features()).
        self._phrases: dict[str, list[tuple[tuple[str, ...], int]]] = {}
        for index, group in enumerate(synonyms):
            for phrase in group:
                words = tuple(phrase.split(" "))
                if words[0]:
                    self._phrases.setdefault(words[0], []).append((words[1:], index))

    def number(self, feature: str) -> int:
        return self.numbers.setdefault(feature, len(self.numbers))

    def row(self, text: str) -> set[int]:
        """The numbers of :func:`features` of ``text``."""
        words = tokens(text)
        found: set[int] = set()
        known = self._words
        for word in words:
            numbers = known.get(word)
            if numbers is None:
                # Sorted: the numbering, and so the model, is the same in every process.
                numbers = known[word] = array.array(
                    "i", [self.number(f) for f in sorted(_features_of_word(word))]
                )
            found.update(numbers)
        for first, second in itertools.pairwise(words):
            found.add(self.number(f"b:{first} {second}"))
        if self._phrases:
            for start, word in enumerate(words):
                for rest, index in self._phrases.get(word, ()):
                    if tuple(words[start + 1 : start + 1 + len(rest)]) == rest:
                        number = self.number(f"s:{index}")
                        self.synonym_numbers.add(number)
                        found.add(number)
        return found


def _ints(numbers: array.array[int]) -> np.ndarray:
    """The array's numbers as a numpy view (no copy)."""
    return np.frombuffer(numbers, np.int32) if len(numbers) else np.zeros(0, np.int32)


def _fit(examples: Sequence[_Full], synonyms: Synonyms = ()) -> Classifier:
    featuriser = _Featuriser(synonyms)
    columns = array.array("i")
    lengths = array.array("i")
    for _, text, _, _ in examples:
        found = featuriser.row(text)
        columns.extend(found)
        lengths.append(len(found))
    names = list(featuriser.numbers)
    every = _ints(columns)
    # A feature of one example only teaches that example: leaving it out halves the model.
    keep = np.bincount(every, minlength=len(names)) > 1
    keep[sorted(featuriser.synonym_numbers)] = True  # an editor's synonyms
    del featuriser
    renumbered = (np.cumsum(keep) - 1).astype(np.int32)
    vocabulary = Vocabulary.of([names[i] for i in np.flatnonzero(keep).tolist()])
    del names
    kept = keep[every]
    # Each example's kept features, summed over its own span (empty spans left out: a sum
    # over a span runs to the next span given).
    sizes = _ints(lengths)
    counts = np.zeros(len(sizes), np.int64)
    if len(every):
        filled = np.flatnonzero(sizes)
        counts[filled] = np.add.reduceat(kept, (np.cumsum(sizes) - sizes)[filled], dtype=np.int64)
    indices = renumbered[every[kept]]
    del columns, every, kept
    # Examples left with no known feature teach nothing: they are left out, as are their
    # labels, groups and languages if no other example has them.
    labels: dict[str, int] = {}
    group_names: dict[str, int] = {}
    language_names: dict[str, int] = {}
    targets: list[int] = []
    groups: list[int] = []
    languages: list[int] = []
    for position in np.flatnonzero(counts).tolist():
        label, _, group, language = examples[position]
        targets.append(labels.setdefault(label, len(labels)))
        groups.append(-1 if group is None else group_names.setdefault(group, len(group_names)))
        languages.append(
            -1 if language is None else language_names.setdefault(language, len(language_names))
        )
    indptr = np.concatenate(([0], np.cumsum(counts[counts > 0]))).astype(np.int64)
    # Rare features tell most: inverse document frequency, as in a search engine.
    count = np.bincount(indices, minlength=len(vocabulary))
    idf = (np.log((len(targets) + 1) / (count + 1)) + 1).astype(np.float32)
    values = idf[indices]
    if len(targets):
        lengths_kept = np.diff(indptr)
        values /= np.repeat(np.sqrt(np.add.reduceat(values * values, indptr[:-1])), lengths_kept)
    rows = Rows(
        indptr,
        indices,
        values,
        np.array(targets, np.int64),
        np.array(groups, np.int64),
        np.array(languages, np.int64),
    )
    heads = [(rows.targets, len(labels))]
    if len(language_names) > 1:
        heads.append((rows.languages, len(language_names)))
    trained = _softmax_regression(rows, heads, len(vocabulary))
    weights, bias, _ = trained[0]
    language_weights, language_bias, _ = trained[1] if len(trained) > 1 else (None, None, None)
    squares = np.stack([head_squares for _, _, head_squares in trained], axis=1)
    # Ordered by group and halved here, where the rows in training order can be let go at
    # once: the model would make the same copies while they were still held (at 100x, two GB
    # more at the peak).
    del heads
    rows = _by_group(rows)
    rows = replace(rows, values=_half(rows.values))
    return Classifier(
        tuple(labels),
        tuple(group_names),
        vocabulary,
        idf,
        weights,
        bias,
        rows,
        tuple(language_names),
        language_weights,
        language_bias,
        synonyms,
        squares=squares,
    )


def _epochs(examples: int) -> int:
    """Passes over the examples: EPOCHS for today's content, fewer for more examples, and one
    over a sample of STEPS past that (``_softmax_regression``)."""
    return max(1, min(EPOCHS, -(-STEPS // max(examples, 1))))


def _pass_order(taught: np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """The examples of one pass, shuffled. Past STEPS examples, a sample of STEPS of them: a
    label (an area, an intent) has thousands of examples, and what the model learns comes from
    its steps; the time of training the labels then stays flat however big the content grows
    (every example still counts for its topic's centroid and for ``nearest``)."""
    return taught[generator.permutation(len(taught))[:STEPS]]


@dataclass
class _Descent:
    """Softmax regressions' state as gradient descent moves it: each feature's weights and
    squared gradients (one column per head's class, the heads side by side), the biases."""

    weights: np.ndarray
    bias: np.ndarray
    squares: np.ndarray


#: One head's result: weights (features x classes), biases, and each feature's squared
#: gradients averaged over the head's classes (what a stop-gap's training starts from).
Head = tuple[np.ndarray, np.ndarray, np.ndarray]


def _softmax_regression(
    rows: Rows, heads: Sequence[tuple[np.ndarray, int]], width: int
) -> list[Head]:
    """Softmax regressions, one per head ``(targets, classes)``, trained side by side on the
    same rows (a target of -1: that row does not teach that head), from zero weights."""
    spans = np.cumsum([0, *(classes for _, classes in heads)])
    weights = np.zeros((width, spans[-1]), np.float32)
    descent = _Descent(weights, np.zeros(spans[-1], np.float32), np.full_like(weights, 1e-6))
    generator = np.random.default_rng(SEED)
    taught = np.flatnonzero(np.any([targets >= 0 for targets, _ in heads], axis=0))
    passes = (_pass_order(taught, generator) for _ in range(_epochs(len(taught))))
    _descend(rows, heads, descent, passes)
    return [
        (
            np.ascontiguousarray(descent.weights[:, low:high]),
            descent.bias[low:high].copy(),
            descent.squares[:, low:high].mean(axis=1),
        )
        for low, high in itertools.pairwise(spans)
    ]


def _descend(
    rows: Rows,
    heads: Sequence[tuple[np.ndarray, int]],
    descent: _Descent,
    passes: Iterable[np.ndarray],
) -> None:
    """Mini-batch gradient descent with Adagrad, where frequent features take smaller steps,
    over the rows of each pass in turn. One pass over the rows serves every head, which halves
    the training time of two separate models.

    A batch touches a few thousand of the features: it is worked on as a small dense matrix
    (features x examples) over those only, so that both the scores and the gradient are one
    matrix product each, in BLAS, instead of sums gathered feature by feature."""
    spans = np.cumsum([0, *(classes for _, classes in heads)])
    weights, bias, squares = descent.weights, descent.bias, descent.squares
    lengths = np.diff(rows.indptr)
    for order in passes:
        for start in range(0, len(order), BATCH):
            batch = order[start : start + BATCH]
            cols, vals, _ = rows.of(batch)
            touched, where = np.unique(cols, return_inverse=True)
            matrix = np.zeros((len(touched), len(batch)), np.float32)
            matrix[where, np.repeat(np.arange(len(batch)), lengths[batch])] = vals
            local = weights[touched]
            logits = matrix.T @ local + bias
            error = np.zeros_like(logits)
            for (targets, _), (low, high) in zip(heads, itertools.pairwise(spans), strict=True):
                wanted = targets[batch]
                part = logits[:, low:high] - logits[:, low:high].max(axis=1, keepdims=True)
                chances = np.exp(part)
                chances /= chances.sum(axis=1, keepdims=True)
                known = wanted >= 0
                chances[np.flatnonzero(known), wanted[known]] -= 1.0
                chances[~known] = 0.0
                error[:, low:high] = chances / len(batch)
            gradient = matrix @ error  # each touched feature's: its rows' errors, weighted
            seen = squares[touched]
            seen += gradient * gradient
            squares[touched] = seen
            local -= LEARNING_RATE * gradient / np.sqrt(seen)
            weights[touched] = local
            bias -= 0.05 * error.sum(axis=0)


# A stop-gap after an edit. A full training at a hundred times today's content takes minutes
# (featurising every example, in Python); an edit changes a few topics. The stop-gap keeps the
# model before it and reads again only the examples of the groups whose examples changed:
# the vocabulary grows by their new features, weighted as the rarest feature known (as a full
# training weighs a feature of two examples, or fewer); the other features keep their weights
# (IDF), and those groups' rows and centroids are replaced. The labels' weights go on from the
# model's (Adagrad's squared gradients too) over the changed examples and a sample of others.
# It is not what a full training of the same examples gives (the vocabulary, the weights and
# the order of things differ), so it stands in for the full model until that is trained, and
# is never kept: a restart, or another server process, never takes it for the content's model.
# It is worked out by the training child, before the full training, from the kept model's file
# (``_fit_in_child``): in a server's thread it held the interpreter lock, and replies at 1x
# waited up to 0.2 s for it.
#
# It is layered (``_StopGap``): the model before the edit, mapped from its file, with only what
# the edit changed on top (the new features, the fresh rows and centroids, the weights the
# short training moved). At 100x, copying the kept model's rows, weights and postings into a
# model of its own and writing them again took most of the stop-gap's 12 seconds; its answers
# are those of that merged model (``flattened`` makes it, for tests to compare).


def _refreshed(
    previous: Classifier,
    examples: Sequence[_Full],
    synonyms: Synonyms,
    digests: Mapping[str | None, str],
) -> _StopGap | None:
    """A stop-gap model of ``examples`` worked out from ``previous`` (None: it cannot be)."""
    if previous.synonyms != synonyms or previous._squares is None or not previous.group_digests:
        # New synonyms change every example's features: only a full training. A stop-gap keeps
        # no squared gradients: none is worked out from one.
        return None
    changed = _changed_groups(previous.group_digests, digests)
    old = previous._rows
    group_kept = np.array([g in digests and g not in changed for g in previous.group_names], bool)
    ungrouped_kept = None in digests and None not in changed
    rows_kept = np.append(group_kept, ungrouped_kept)[old.groups]
    fresh = _Fresh.of(previous, [example for example in examples if example[2] in changed])
    labels = _Names.of(
        previous.labels, _present(previous.labels, old.targets[rows_kept]), fresh.labels
    )
    languages = _Names.of(
        previous.language_names,
        _present(previous.language_names, old.languages[rows_kept]),
        [language for language in fresh.languages if language is not None],
    )
    fresh_groups = [group for group in dict.fromkeys(fresh.groups) if group is not None]
    kept_groups = [
        name for name, kept in zip(previous.group_names, group_kept, strict=True) if kept
    ]
    groups = _Names.of(previous.group_names, kept_groups + fresh_groups, fresh_groups)
    fresh_rows = fresh.numbered(labels, groups, languages)
    # A changed group's previous rows and centroid go: its rows are new.
    group_map = np.where(group_kept, groups.before, -1)
    runs = _Runs.of(previous._group_starts, group_map, ungrouped_kept, fresh_rows, groups)
    layer = _Layer(previous, fresh_rows, runs, labels, groups, languages)
    width = len(fresh.vocabulary)
    weights, bias, language_weights, language_bias = _warm_start(layer, width)
    counts = np.bincount(
        languages.renumbered(old.languages[rows_kept]) + 1, minlength=len(languages.names) + 1
    ) + np.bincount(fresh_rows.languages + 1, minlength=len(languages.names) + 1)
    return _StopGap(
        previous,
        labels.names,
        groups.names,
        languages.names,
        fresh.vocabulary,
        fresh.idf,
        weights,
        bias,
        language_weights,
        language_bias,
        fresh_rows,
        runs,
        group_map,
        _fresh_postings(fresh_rows),
        dict(zip(languages.names, counts[1:].tolist(), strict=True)),
        dict(digests),
    )


def _present(names: Sequence[str], numbers: np.ndarray) -> list[str]:
    """The names of the numbers found (-1: none), counted rather than sorted (millions)."""
    counts = np.bincount(numbers[numbers >= 0], minlength=len(names))
    return [names[number] for number in np.flatnonzero(counts).tolist()]


@dataclass(frozen=True)
class _Fresh:
    """The changed groups' examples read against the previous model's vocabulary (grown by
    their new features): rows of unit length, in the examples' order, and each row's label,
    group and language."""

    vocabulary: LayeredVocabulary
    idf: PatchedTable
    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    labels: list[str]
    groups: list[str | None]
    languages: list[str | None]

    @classmethod
    def of(cls, previous: Classifier, examples: Sequence[_Full]) -> _Fresh:
        featuriser = _Featuriser(previous.synonyms)
        found = [featuriser.row(text) for _, text, _, _ in examples]
        names = list(featuriser.numbers)
        columns = previous._vocabulary.positions(names)
        unknown = np.flatnonzero(columns < 0)
        width = len(previous._vocabulary)
        columns[unknown] = width + np.arange(len(unknown))
        vocabulary = LayeredVocabulary(
            _flat_vocabulary(previous._vocabulary),
            Vocabulary.of([names[i] for i in unknown.tolist()]),
        )
        # New features weigh as the rarest known: the weight a message's unknown features get.
        idf = PatchedTable(_flat(previous._idf), len(vocabulary), fill=previous._unseen_weight)
        filled = [(example, row) for example, row in zip(examples, found, strict=True) if row]
        lengths = np.array([len(row) for _, row in filled], np.int64)
        indices = columns[
            np.fromiter(itertools.chain.from_iterable(r for _, r in filled), np.int64)
        ]
        values = idf[indices]
        indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        if len(filled):
            values /= np.repeat(np.sqrt(np.add.reduceat(values * values, indptr[:-1])), lengths)
        return cls(
            vocabulary,
            idf,
            indptr,
            indices.astype(np.int32),
            values,
            [example[0] for example, _ in filled],
            [example[2] for example, _ in filled],
            [example[3] for example, _ in filled],
        )

    def numbered(self, labels: _Names, groups: _Names, languages: _Names) -> Rows:
        """The rows with the stop-gap's numbers, ordered by group as a model keeps them."""
        return _by_group(
            Rows(
                self.indptr,
                self.indices,
                _half(self.values),
                np.array([labels.number(label) for label in self.labels], np.int64),
                np.array([groups.number(group) for group in self.groups], np.int64),
                np.array([languages.number(language) for language in self.languages], np.int64),
            )
        )


@dataclass(frozen=True)
class _Names:
    """Labels, groups or languages of a stop-gap: the previous model's still in use, in their
    order, then the new ones; ``before`` maps each previous number to its new one (-1: gone)."""

    names: tuple[str, ...]
    index: Mapping[str, int]
    before: np.ndarray

    @classmethod
    def of(cls, previous: Sequence[str], kept: Iterable[str], added: Sequence[str]) -> _Names:
        still, known = set(kept) | set(added), set(previous)
        names = [name for name in previous if name in still]
        names += [name for name in dict.fromkeys(added) if name not in known]
        index = {name: number for number, name in enumerate(names)}
        before = np.array([index.get(name, -1) for name in previous], np.int64)
        return cls(tuple(names), index, before)

    def number(self, name: str | None) -> int:
        return -1 if name is None else self.index[name]

    def renumbered(self, numbers: np.ndarray) -> np.ndarray:
        """Previous numbers as new ones (-1 stays -1)."""
        found: np.ndarray = np.append(self.before, -1)[numbers]
        return found


@dataclass(frozen=True)
class _Runs:
    """Where a stop-gap's rows lie, in the order a merged model would hold them (by group, the
    rows of no group first): one run per group, -1 first, each either fresh rows (``fresh``)
    or the kept model's, from ``first`` to ``last`` (excluded) in those rows."""

    fresh: np.ndarray
    first: np.ndarray
    last: np.ndarray

    @classmethod
    def of(
        cls,
        base_starts: np.ndarray,
        group_map: np.ndarray,
        ungrouped_kept: bool,
        fresh_rows: Rows,
        groups: _Names,
    ) -> _Runs:
        """``base_starts``: where each of the kept model's groups starts (its rows of no group
        before the first); ``group_map``: each of its groups' new number (-1: not kept)."""
        count = len(groups.names)
        base_of = np.full(count, -1, np.int64)
        kept = np.flatnonzero(group_map >= 0)
        base_of[group_map[kept]] = kept
        fresh_starts = np.searchsorted(fresh_rows.groups, np.arange(-1, count + 1))
        from_base = np.append(ungrouped_kept, base_of >= 0)
        # Each run's bounds in the kept rows (a kept group's; the rows before group 0: none)
        # and in the fresh ones, then the one of the two it comes from.
        bounds = np.append(base_starts, base_starts[-1])  # a base of no group has one bound
        base_first = np.append(0, bounds[base_of.clip(min=0)])
        base_last = np.append(bounds[0], bounds[base_of.clip(min=0) + 1])
        first = np.where(from_base, base_first, fresh_starts[:-1])
        last = np.where(from_base, base_last, fresh_starts[1:])
        return cls(~from_base, first.astype(np.int64), last.astype(np.int64))

    @functools.cached_property
    def starts(self) -> np.ndarray:
        """Each run's first position among all the rows, and their count at the end."""
        return np.concatenate(([0], np.cumsum(self.last - self.first))).astype(np.int64)

    def fresh_positions(self) -> np.ndarray:
        """The positions of the fresh rows among all the rows."""
        starts, runs = self.starts, np.flatnonzero(self.fresh)
        spans = [np.arange(starts[run], starts[run + 1]) for run in runs.tolist()]
        return np.concatenate([np.zeros(0, np.int64), *spans])


@dataclass(frozen=True)
class _Layer:
    """The rows of a stop-gap being worked out: the kept model's (renumbered) and the fresh
    ones, looked up by their position among all the rows without being merged."""

    base: Classifier
    fresh: Rows
    runs: _Runs
    labels: _Names
    groups: _Names
    languages: _Names

    @property
    def count(self) -> int:
        return int(self.runs.starts[-1])

    def gathered(self, positions: np.ndarray) -> Rows:
        """The rows at ``positions`` (sorted), with the stop-gap's numbers, as one Rows."""
        starts = self.runs.starts
        run = np.searchsorted(starts, positions, side="right") - 1
        row = self.runs.first[run] + positions - starts[run]
        is_fresh = self.runs.fresh[run]
        old, new = self.base._rows, self.fresh
        names = (self.labels, self.groups, self.languages)
        parts = []
        for source, chosen, renumber in ((old, ~is_fresh, True), (new, is_fresh, False)):
            picked = row[chosen]
            columns, values, _ = source.of(picked)
            numbers = [source.targets[picked], source.groups[picked], source.languages[picked]]
            if renumber:
                numbers = [kind.renumbered(n) for kind, n in zip(names, numbers, strict=True)]
            lengths = source.indptr[picked + 1] - source.indptr[picked]
            parts.append((columns, values, lengths, numbers))
        # Both sources' rows, then put back in the order of ``positions``.
        lengths = np.concatenate([part[2] for part in parts])
        both = Rows(
            _bounds(lengths),
            np.concatenate([part[0] for part in parts]).astype(np.int32, copy=False),
            np.concatenate([part[1] for part in parts]).astype(np.float16, copy=False),
            *(np.concatenate([part[3][n] for part in parts]).astype(np.int64) for n in range(3)),
        )
        order = np.argsort(
            np.concatenate((np.flatnonzero(~is_fresh), np.flatnonzero(is_fresh))), kind="stable"
        )
        columns, values, _ = both.of(order)
        return Rows(
            _bounds(lengths[order]),
            columns,
            values,
            both.targets[order],
            both.groups[order],
            both.languages[order],
        )


def _bounds(lengths: np.ndarray) -> np.ndarray:
    """Where rows of these lengths start, and the end (a CSR's ``indptr``)."""
    return np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)


@overload
def _flat(found: np.ndarray | PatchedTable) -> np.ndarray: ...


@overload
def _flat(found: np.ndarray | PatchedTable | None) -> np.ndarray | None: ...


def _flat(found: np.ndarray | PatchedTable | None) -> np.ndarray | None:
    """A full model's array (no stop-gap is worked out from a stop-gap, nor saved whole)."""
    if isinstance(found, PatchedTable):
        raise TypeError("a stop-gap's arrays are layered: see _StopGap")
    return found


def _flat_vocabulary(found: Vocabulary | LayeredVocabulary) -> Vocabulary:
    if isinstance(found, LayeredVocabulary):
        raise TypeError("a stop-gap's vocabulary is layered: see _StopGap")
    return found


def _classes(names: _Names) -> np.ndarray:
    """For each of a stop-gap's classes (labels, languages), the previous model's column it
    takes (-1: a new class): the previous classes still in use come first, in their order."""
    moved = np.flatnonzero(names.before >= 0)
    return np.concatenate((moved, np.full(len(names.names) - len(moved), -1))).astype(np.int64)


def _warm_start(
    layer: _Layer, width: int
) -> tuple[PatchedTable, np.ndarray, PatchedTable | None, np.ndarray | None]:
    """The stop-gap's weights: the previous model's, moved by a short training over the fresh
    rows and a sample of the others. Returns the labels' weights and biases and the
    languages' (None: one language or none)."""
    previous = layer.base
    assert previous._squares is not None  # _refreshed makes sure
    old_squares = previous._squares
    # Each head: its targets' names, the previous weights and biases, its squares' column.
    heads: list[tuple[_Names, np.ndarray | None, np.ndarray | None, int]] = [
        (layer.labels, _flat(previous._weights), previous._bias, 0)
    ]
    if len(layer.languages.names) > 1:
        heads.append(
            (
                layer.languages,
                _flat(previous._language_weights),
                previous._language_bias,
                1 if old_squares.shape[1] > 1 else -1,
            )
        )
    tables: list[PatchedTable] = []
    biases: list[np.ndarray] = []
    for names, old_weights, old_bias, _ in heads:
        classes = _classes(names)
        bias = np.zeros(len(names.names), np.float32)
        if old_weights is not None and old_bias is not None:
            moved = classes[classes >= 0]  # the previous classes still in use come first
            bias[: len(moved)] = old_bias[moved]
            tables.append(PatchedTable(old_weights, width, classes=classes))
        else:
            empty = np.zeros((0, len(names.names)), np.float16)
            tables.append(PatchedTable(empty, width))
        biases.append(bias)
    squares = PatchedTable(
        old_squares, width, classes=np.array([column for *_, column in heads]), fill=1e-6
    )
    fresh = layer.runs.fresh_positions()
    if len(fresh):
        tables = _train_locally(layer, fresh, tables, biases, squares)
    language_weights, language_bias = (tables[1], biases[1]) if len(heads) > 1 else (None, None)
    return tables[0], biases[0], language_weights, language_bias


def _refresh_passes(count: int, fresh: np.ndarray) -> list[np.ndarray]:
    """The stop-gap's passes over ``count`` rows: each the fresh rows and REFRESH_OTHERS times
    as many of the others, drawn afresh, shuffled, REFRESH_STEPS examples in all."""
    is_fresh = np.zeros(count, bool)
    is_fresh[fresh] = True
    others = np.flatnonzero(~is_fresh)
    generator = np.random.default_rng(SEED)
    drawn = min(len(others), REFRESH_OTHERS * len(fresh))
    size = min(len(fresh) + drawn, REFRESH_STEPS)
    passes = []
    for _ in range(max(1, min(EPOCHS, REFRESH_STEPS // size))):
        # A few thousand of millions: drawn without shuffling them all.
        sample = generator.choice(len(others), drawn, replace=False)
        chosen = np.concatenate((fresh, others[sample]))
        passes.append(chosen[generator.permutation(len(chosen))[:size]])
    return passes


def _train_locally(
    layer: _Layer,
    fresh: np.ndarray,
    tables: list[PatchedTable],
    biases: list[np.ndarray],
    squares: PatchedTable,
) -> list[PatchedTable]:
    """Gradient descent over the passes' rows only, on the features they hold (a small part of
    a big vocabulary): their weights taken from ``tables``, trained, and returned as the rows
    those tables replace (``biases`` are trained in place)."""
    passes = _refresh_passes(layer.count, fresh)
    selected = np.unique(np.concatenate(passes))
    rows = layer.gathered(selected)
    features, local_columns = np.unique(rows.indices, return_inverse=True)
    local = replace(rows, indices=local_columns.astype(np.int32))
    heads = [(rows.targets, len(layer.labels.names))]
    if len(tables) > 1:
        heads.append((rows.languages, len(layer.languages.names)))
    spans = np.cumsum([0, *(classes for _, classes in heads)])
    descent = _Descent(
        np.concatenate([table[features].astype(np.float32) for table in tables], axis=1),
        np.concatenate(biases),
        np.repeat(squares[features], [classes for _, classes in heads], axis=1),
    )
    _descend(local, heads, descent, (np.searchsorted(selected, p) for p in passes))
    trained = []
    for table, bias, (low, high) in zip(tables, biases, itertools.pairwise(spans), strict=True):
        moved = descent.weights[:, low:high].astype(table.dtype)
        trained.append(PatchedTable(table.base, table.width, features, moved, table.classes))
        bias[:] = descent.bias[low:high]
    return trained


def _fresh_postings(fresh: Rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The fresh groups' centroids as postings ordered by column: (columns, groups, weights)."""
    fresh_groups = np.unique(fresh.groups[fresh.groups >= 0])
    starts = np.append(np.searchsorted(fresh.groups, fresh_groups), len(fresh.groups))
    columns, local_groups, weights = _centroids(fresh, starts)
    order = np.argsort(columns, kind="stable")
    return columns[order], fresh_groups[local_groups[order]].astype(np.int32), weights[order]


class _StopGap(Classifier):
    """A stop-gap model, layered: the kept model it was worked out from (``base``, mapped from
    its file) and what the edit changed on top. It answers as the merged model would
    (``flattened``), and its file holds the layer only, naming the base's file."""

    def __init__(
        self,
        base: Classifier,
        labels: tuple[str, ...],
        group_names: tuple[str, ...],
        language_names: tuple[str, ...],
        vocabulary: LayeredVocabulary,
        idf: PatchedTable,
        weights: PatchedTable,
        bias: np.ndarray,
        language_weights: PatchedTable | None,
        language_bias: np.ndarray | None,
        fresh: Rows,
        runs: _Runs,
        group_map: np.ndarray,
        fresh_postings: tuple[np.ndarray, np.ndarray, np.ndarray],
        language_counts: Mapping[str, int],
        group_digests: Mapping[str | None, str],
    ) -> None:
        """``fresh``: the changed groups' rows (the stop-gap's numbers); ``runs``: where each
        group's rows lie; ``group_map``: each of the base's groups' number here (-1: its rows
        and centroid are not the stop-gap's); ``fresh_postings``: the fresh groups' centroids
        by column (columns, groups, weights)."""
        # Not Classifier.__init__: nothing of the base is copied or worked out again.
        self.base = base
        self.labels = labels
        self.exact = False
        self.group_digests = group_digests
        self.file = None
        self._squares = None  # never the start of another stop-gap
        self.synonyms = base.synonyms
        self.group_names = group_names
        self.language_names = language_names
        self._language_weights = language_weights
        self._language_bias = language_bias
        self._vocabulary = self._layered_vocabulary = vocabulary
        self._idf = self._patched_idf = idf
        self._weights = self._patched_weights = weights
        self._patched_language_weights = language_weights
        self._bias = bias
        self._unseen_weight = base._unseen_weight  # the new features' IDF is the base's largest
        self._read = {}
        self._dense = np.zeros(len(vocabulary), np.float32)
        self._group_index = {name: index for index, name in enumerate(group_names)}
        self._fresh = fresh
        self._runs = runs
        self._group_map = group_map
        self._fresh_postings = fresh_postings
        self._language_counts = dict(language_counts)

    def examples_per_language(self) -> dict[str, int]:
        return dict(self._language_counts)

    def groups(self, query: Query) -> np.ndarray:
        """As ``Classifier.groups``: the base's centroids of the groups kept, then the fresh
        groups' (a group is either, so each group's sum is made in the same order)."""
        found = np.zeros(len(self.group_names))
        if not query.known:
            return found
        width = len(self.base._vocabulary)
        inside = query.columns < width
        columns, values = query.columns[inside], query.values[inside]
        starts, ends, groups, weights = self.base._postings
        begin = starts[columns]
        counts = ends[columns] - begin
        spots = _spread(begin, counts)
        mapped = self._group_map[groups[spots]]
        kept = mapped >= 0
        found += np.bincount(
            mapped[kept],
            weights=(weights[spots] * np.repeat(values, counts))[kept],
            minlength=len(self.group_names),
        )
        posted, posted_groups, posted_weights = self._fresh_postings
        begin = np.searchsorted(posted, query.columns, side="left")
        counts = np.searchsorted(posted, query.columns, side="right") - begin
        spots = _spread(begin, counts)
        found += np.bincount(
            posted_groups[spots],
            weights=posted_weights[spots] * np.repeat(query.values, counts),
            minlength=len(self.group_names),
        )
        return found

    def _member_rows(self, group: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        run = group + 1  # the first run is the rows of no group
        rows = self._fresh if self._runs.fresh[run] else self.base._rows
        first, last = int(self._runs.first[run]), int(self._runs.last[run])
        begin, end = rows.indptr[first], rows.indptr[last]
        return rows.indices[begin:end], rows.values[begin:end], rows.indptr[first:last] - begin

    def flattened(self) -> Classifier:
        """The same model merged into one, as a full model holds its arrays: for tests to
        compare with (a server never makes it: at 100x, it is gigabytes of copies)."""
        count = int(self._runs.starts[-1])
        layer = _Layer(self.base, self._fresh, self._runs, *self._renumbering())
        rows = layer.gathered(np.arange(count))
        width = len(self._vocabulary)
        base_columns = _posting_columns(self.base._postings)
        _, _, base_groups, base_weights = self.base._postings
        mapped = self._group_map[base_groups]
        kept = mapped >= 0
        posted, posted_groups, posted_weights = self._fresh_postings
        spots = np.searchsorted(base_columns[kept], posted, side="right")
        postings = _postings(
            np.insert(base_columns[kept], spots, posted),
            np.insert(mapped[kept], spots, posted_groups),
            np.insert(base_weights[kept], spots, posted_weights),
            width,
        )
        vocabulary, language = self._layered_vocabulary, self._patched_language_weights
        return Classifier(
            self.labels,
            self.group_names,
            vocabulary.base.extended(list(vocabulary.added)),
            self._patched_idf.whole(),
            self._patched_weights.whole(),
            self._bias,
            rows,
            self.language_names,
            None if language is None else language.whole(),
            self._language_bias,
            self.synonyms,
            postings,
            group_digests=self.group_digests,
            exact=False,
        )

    def _renumbering(self) -> tuple[_Names, _Names, _Names]:
        """The base's labels, groups and languages renumbered as here (``_Names``)."""
        base = self.base
        return (
            _Names.of(base.labels, self.labels, ()),
            _Names.of(base.group_names, self.group_names, ()),
            _Names.of(base.language_names, self.language_names, ()),
        )

    def save(self, path: Path) -> None:
        """Write the layer to ``path``, naming the base's file (which must be kept)."""
        if self.base.file is None:
            raise ValueError("a stop-gap of a model kept in no file cannot be saved")
        added = self._layered_vocabulary.added
        starts, order, hashes = added.lookup
        language = self._patched_language_weights
        arrays = {
            "added_vocabulary": np.frombuffer(added.text, np.uint8),
            "added_vocabulary_starts": starts,
            "added_vocabulary_order": order,
            "added_vocabulary_hashes": hashes,
            "replaced_features": self._patched_weights.replaced,
            "replaced_weights": self._patched_weights.rows,
            "weight_classes": _or_empty(self._patched_weights.classes),
            "bias": self._bias,
            "replaced_language_weights": _or_empty(None if language is None else language.rows),
            "language_weight_classes": _or_empty(None if language is None else language.classes),
            "language_bias": _or_empty(self._language_bias),
            "indptr": self._fresh.indptr,
            "indices": self._fresh.indices,
            "values": self._fresh.values,
            "targets": self._fresh.targets,
            "groups": self._fresh.groups,
            "languages": self._fresh.languages,
            "run_fresh": self._runs.fresh,
            "run_first": self._runs.first,
            "run_last": self._runs.last,
            "group_map": self._group_map,
            "posting_columns": self._fresh_postings[0],
            "posting_groups": self._fresh_postings[1],
            "posting_weights": self._fresh_postings[2],
        }
        names = {
            "base": str(self.base.file.absolute()),  # the training child's folder may differ
            "base_width": len(self.base._vocabulary),
            "base_labels": self.base.labels,
            "base_group_names": self.base.group_names,
            "labels": self.labels,
            "group_names": self.group_names,
            "language_names": self.language_names,
            "language_head": language is not None,
            "language_counts": list(self._language_counts.items()),
            "width": len(self._vocabulary),
            "exact": False,
            "group_digests": list(self.group_digests.items()),
            "version": MODEL_VERSION,
        }
        arrayfile.write(path, arrays, names)

    @classmethod
    def of_layer(cls, path: Path, names: dict[str, Any], data: dict[str, np.ndarray]) -> _StopGap:
        """The stop-gap whose layer ``save`` wrote (``names``, ``data``: its file's), on its
        base, mapped from its own file. Raises ``ValueError`` if that file holds another
        model (``FileNotFoundError`` if it is gone)."""
        base = Classifier.load(Path(names["base"]))
        if (
            not base.exact  # a stop-gap's layer: never the base of another
            or len(base._vocabulary) != names["base_width"]
            or list(base.labels) != names["base_labels"]
            or list(base.group_names) != names["base_group_names"]
        ):
            raise ValueError(f"{path}: the model it was worked out from is not in {base.file}")
        width = int(names["width"])
        base_weights, added = _flat(base._weights), data["added_vocabulary"]
        lookup = (
            data["added_vocabulary_starts"],
            data["added_vocabulary_order"],
            data["added_vocabulary_hashes"],
        )
        replaced = data["replaced_features"]
        classes = data["weight_classes"] if data["weight_classes"].size else None
        language_weights = None
        if names["language_head"]:
            language_classes = data["language_weight_classes"]
            base_language = _flat(base._language_weights)
            if base_language is None:  # the base knew one language: the weights start at 0
                base_language = np.zeros((0, len(names["language_names"])), np.float16)
            language_weights = PatchedTable(
                base_language,
                width,
                replaced,
                data["replaced_language_weights"],
                language_classes if language_classes.size else None,
            )
        return cls(
            base,
            tuple(names["labels"]),
            tuple(names["group_names"]),
            tuple(names["language_names"]),
            LayeredVocabulary(_flat_vocabulary(base._vocabulary), Vocabulary(added.data, lookup)),
            PatchedTable(_flat(base._idf), width, fill=base._unseen_weight),
            PatchedTable(base_weights, width, replaced, data["replaced_weights"], classes),
            data["bias"],
            language_weights,
            data["language_bias"] if names["language_head"] else None,
            Rows.stored(data),
            _Runs(data["run_fresh"], data["run_first"], data["run_last"]),
            data["group_map"],
            (data["posting_columns"], data["posting_groups"], data["posting_weights"]),
            dict(names["language_counts"]),
            {group: digest for group, digest in names["group_digests"]},
        )
