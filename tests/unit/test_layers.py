"""A patched table reads as the plain array it stands for, without copying its base."""

from __future__ import annotations

import numpy as np
import pytest

from bot.content.layers import PatchedTable


def test_rows_come_from_the_base_the_replacements_and_the_fill() -> None:
    base = np.arange(12, dtype=np.float32).reshape(4, 3)  # 4 features, 3 classes
    classes = np.array([2, 0, -1])  # the first two columns moved, a new class last
    replaced = np.array([1, 5])
    rows = np.array([[10.0, 11.0, 12.0], [20.0, 21.0, 22.0]], np.float32)
    table = PatchedTable(base, 6, replaced, rows, classes, fill=-1.0)

    expected = np.array(
        [
            [2, 0, -1],
            [10, 11, 12],
            [8, 6, -1],
            [11, 9, -1],
            [-1, -1, -1],  # a feature past the base's, not replaced
            [20, 21, 22],
        ],
        np.float32,
    )
    assert np.array_equal(table.whole(), expected)
    assert np.array_equal(table[np.array([5, 0, 3, 3])], expected[[5, 0, 3, 3]])
    assert table[np.zeros(0, np.int64)].shape == (0, 3)
    assert len(table) == 6 and table.shape == (6, 3)


def test_a_one_dimensional_table_is_filled_past_its_base() -> None:
    idf = PatchedTable(np.array([1.0, 3.0], np.float32), 4, fill=3.0)
    assert idf[np.array([3, 0, 1])].tolist() == [3.0, 1.0, 3.0]
    assert len(idf) == 4


def test_replacements_must_fit_the_columns() -> None:
    with pytest.raises(ValueError, match="do not match"):
        PatchedTable(np.zeros((2, 3)), 2, np.array([0]), np.zeros((1, 2)))
