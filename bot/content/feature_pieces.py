"""This module keeps the understanding's training examples featurised, a piece per topic.

Reading an example's features (tokens, character n-grams, sound keys) is most of a training:
at 100 times today's content, three quarters of it. After an edit, most topics' examples are
what they were: each run of examples of one group (a topic, a taught intent, the off-topic
phrases) is kept on disk as a *piece*, named by a digest of its texts, and read back instead
of featurised again. A piece numbers its features on its own (in the order it meets them):
training joins the pieces in the examples' order, which numbers the features exactly as one
pass over every example would.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bot.content import arrayfile

log = logging.getLogger(__name__)

SEPARATOR = "\n"  # features never hold a line break (they are built from tokens)
SUFFIX = ".arrays"


@dataclass(frozen=True)
class Piece:
    """A run of examples featurised on their own: their features' names, numbered in the order
    met, and each example's feature numbers (``lengths`` of them each, one after another)."""

    names: Sequence[str]
    lengths: np.ndarray  # int32, one per example
    indices: np.ndarray  # int32, numbers into ``names``


def digests(version: str, synonyms: object, runs: Iterable[Sequence[str]]) -> list[str]:
    """Each run of texts' name: what its features depend on (the texts, the synonyms, the
    model's version), nothing else: labels, groups and languages are not features."""
    common = hashlib.sha256(version.encode())
    common.update(json.dumps(synonyms).encode())
    found = []
    for texts in runs:
        digest = common.copy()
        for text in texts:
            digest.update(text.encode())
            digest.update(b"\x00")
        found.append(digest.hexdigest()[:32])
    return found


def read(folder: Path, digest: str, examples: int) -> Piece | None:
    """The piece kept under ``digest``, if there and whole (``examples``: how many it must
    hold); a piece missing, damaged or not matching is featurised again, never trusted."""
    path = folder / f"{digest}{SUFFIX}"
    try:
        _, arrays = arrayfile.read(path)
        text = arrays["names"].tobytes().decode()
        lengths, indices = arrays["lengths"], arrays["indices"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("the featurised piece %s is unreadable: featurising it again", path)
        return None
    names = text.split(SEPARATOR) if text else []
    whole = (
        lengths.dtype == np.int32
        and indices.dtype == np.int32
        and len(lengths) == examples
        and int(lengths.sum(dtype=np.int64)) == len(indices)
        and (not len(indices) or 0 <= int(indices.min()) <= int(indices.max()) < len(names))
        and bool(np.all(lengths >= 0))
    )
    if not whole:
        log.warning("the featurised piece %s does not match its examples: featurising it", path)
        return None
    return Piece(names, lengths, indices)


def write(folder: Path, digest: str, piece: Piece) -> None:
    """Keep ``piece`` for the next training; without a writable folder, featurise next time."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        arrayfile.write(
            folder / f"{digest}{SUFFIX}",
            {
                "names": np.frombuffer(SEPARATOR.join(piece.names).encode(), np.uint8),
                "lengths": piece.lengths.astype(np.int32, copy=False),
                "indices": piece.indices.astype(np.int32, copy=False),
            },
        )
    except OSError as error:
        log.info("the featurised piece cannot be kept in %s: %s", folder, error)


def prune(folder: Path, used: Iterable[str]) -> None:
    """Remove the pieces no example needs any more (content edited or removed since)."""
    wanted = {f"{digest}{SUFFIX}" for digest in used}
    try:
        for path in folder.glob(f"*{SUFFIX}"):
            if path.name not in wanted:
                path.unlink(missing_ok=True)
    except OSError as error:
        log.info("old featurised pieces cannot be removed from %s: %s", folder, error)
