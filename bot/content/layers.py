"""This module contains a table of rows by feature made of a kept model's and an edit's.

A stop-gap model after an edit (see ``classifier``) keeps the model before it, mapped from its
file, and holds only what the edit changed: at a hundred times today's content, copying the
model's weights (hundreds of MB) and writing them again took seconds of the stop-gap's time.
"""

from __future__ import annotations

import numpy as np


class PatchedTable:
    """Rows by feature (a feature's IDF weight, or its weights for each class), read from a
    ``base`` array with:

    - ``classes`` (2-D tables): for each of the table's columns, the base column it takes
      (-1: a class the base did not have, whose weights start at ``fill``);
    - ``replaced`` (sorted feature numbers) and their rows in ``rows``: the features an edit's
      training moved;
    - features past the base's (up to ``width``): rows of ``fill`` unless replaced.
    """

    def __init__(
        self,
        base: np.ndarray,
        width: int,
        replaced: np.ndarray | None = None,
        rows: np.ndarray | None = None,
        classes: np.ndarray | None = None,
        fill: float = 0.0,
    ) -> None:
        self.base = base
        self.width = width
        self.classes = classes
        self.fill = fill
        columns = base.shape[1:] if classes is None else (len(classes),)
        self.replaced = np.zeros(0, np.int64) if replaced is None else replaced
        self.rows = np.zeros((0, *columns), base.dtype) if rows is None else rows
        self.shape = (width, *columns)
        self.dtype = base.dtype
        if len(self.replaced) != len(self.rows) or tuple(self.rows.shape[1:]) != columns:
            raise ValueError("a patched table's replaced rows do not match its columns")

    def __len__(self) -> int:
        return self.width

    def __getitem__(self, features: np.ndarray) -> np.ndarray:
        """The rows of ``features`` (an array of feature numbers), as a plain array."""
        features = np.asarray(features, np.int64)
        found = np.full((len(features), *self.shape[1:]), self.fill, self.dtype)
        inside = np.flatnonzero(features < len(self.base))
        if len(inside):
            taken = self.base[features[inside]]
            if self.classes is None:
                found[inside] = taken
            else:
                kept = np.flatnonzero(self.classes >= 0)
                found[np.ix_(inside, kept)] = taken[:, self.classes[kept]]
        if len(self.replaced):
            spots = np.searchsorted(self.replaced, features).clip(max=len(self.replaced) - 1)
            hit = np.flatnonzero(self.replaced[spots] == features)
            found[hit] = self.rows[spots[hit]]
        return found

    def whole(self) -> np.ndarray:
        """Every row, as one plain array (tests compare it with a flat model's)."""
        return self[np.arange(self.width)]
