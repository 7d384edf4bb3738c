"""The file of named arrays a stored model is: mapped back as written, damage refused."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.content import arrayfile

ARRAYS: dict[str, np.ndarray] = {
    "weights": np.arange(12, dtype=np.float16).reshape(4, 3),
    "indices": np.array([3, 1, 4, 1, 5], np.int32),
    "empty": np.zeros(0, np.float32),
    "text": np.frombuffer("permesso\nرینیو".encode(), np.uint8),
    "last": np.array([2**40], np.int64),
}
METADATA = {"labels": ["@permits", "!human"], "synonyms": [["pds", "居留证"]]}


def test_arrays_and_metadata_read_back_as_written(tmp_path: Path) -> None:
    arrayfile.write(tmp_path / "model.arrays", ARRAYS, METADATA)

    metadata, arrays = arrayfile.read(tmp_path / "model.arrays")

    assert metadata == METADATA
    assert arrays.keys() == ARRAYS.keys()
    for name, array in ARRAYS.items():
        assert arrays[name].dtype == array.dtype and arrays[name].shape == array.shape
        assert arrays[name].tolist() == array.tolist()
        assert arrays[name].ctypes.data % arrayfile.ALIGN == 0 or not array.nbytes
        assert not arrays[name].flags.writeable  # views of the file, never written through
    assert not list(tmp_path.glob(".*partial"))


def test_a_mapped_file_replaced_or_removed_keeps_what_it_had(tmp_path: Path) -> None:
    path = tmp_path / "model.arrays"
    arrayfile.write(path, ARRAYS)
    _, arrays = arrayfile.read(path)

    arrayfile.write(path, {"indices": np.zeros(5, np.int32)})
    assert arrays["indices"].tolist() == [3, 1, 4, 1, 5]
    path.unlink()
    assert arrays["weights"].tolist() == ARRAYS["weights"].tolist()


@pytest.mark.parametrize("cut", [0, 10, 30, -1])
def test_a_file_cut_short_is_refused(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "model.arrays"
    arrayfile.write(path, ARRAYS, METADATA)
    whole = path.read_bytes()
    path.write_bytes(whole[:cut])

    with pytest.raises(ValueError):
        arrayfile.read(path)


def test_another_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "model.npz"
    np.savez(path, weights=ARRAYS["weights"])

    with pytest.raises(ValueError):
        arrayfile.read(path)


def test_arrays_of_objects_are_not_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        arrayfile.write(tmp_path / "model.arrays", {"names": np.array(["a", None])})
    assert not list(tmp_path.iterdir())
