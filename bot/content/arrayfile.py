"""This module contains a file of named arrays that a reader maps instead of reading.

A stored understanding model at 100 times today's content is a few GB of arrays: read from an
``.npz`` (a zip), every byte is copied and checksummed at each start, seconds before the first
answer. Here the arrays lie uncompressed, each at an aligned offset after a small JSON header:
reading maps the file and views each array in place, so a start costs what the header costs,
and the pages a server never touches are never read. Several processes reading the same file
share its pages.

Layout: ``MAGIC``, the header's length (8 bytes, little-endian), the header (JSON: the
caller's metadata, and each array's dtype, shape and offset from the data's start), then the
data, starting at the next multiple of ``ALIGN``.
"""

from __future__ import annotations

import json
import mmap
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

MAGIC = b"sportello-arrays1"
ALIGN = 64  # each array starts on a cache line: views of any dtype are aligned


def _aligned(offset: int) -> int:
    return -(-offset // ALIGN) * ALIGN


def write(path: Path, arrays: Mapping[str, np.ndarray], metadata: Any = None) -> None:
    """Write ``arrays`` (numeric, any shape) and ``metadata`` (anything JSON holds) to ``path``,
    atomically: a reader never sees half a file."""
    table: dict[str, dict[str, Any]] = {}
    offset = end = 0
    contiguous = {}
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        if array.dtype.hasobject or array.dtype.byteorder == ">":
            raise ValueError(f"array {name!r}: only plain little-endian numbers are stored")
        contiguous[name] = array
        table[name] = {"dtype": array.dtype.str, "shape": list(array.shape), "offset": offset}
        end = offset + array.nbytes
        offset = _aligned(end)
    header = json.dumps({"metadata": metadata, "arrays": table}).encode()
    start = _aligned(len(MAGIC) + 8 + len(header))
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        with partial.open("wb") as handle:
            handle.write(MAGIC + len(header).to_bytes(8, "little") + header)
            for name, array in contiguous.items():
                handle.seek(start + table[name]["offset"])
                handle.write(array.data)
            handle.truncate(start + end)  # no padding after the last: a cut is always seen
        partial.replace(path)
    finally:
        partial.unlink(missing_ok=True)


def read(path: Path) -> tuple[Any, dict[str, np.ndarray]]:
    """The metadata and arrays of a file ``write`` made, the arrays read-only views of the
    mapped file (it may be removed or replaced meanwhile: the mapping keeps what it had).
    Raises ``ValueError`` if the file is not one, or is cut short."""
    with path.open("rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size < len(MAGIC) + 8:
            raise ValueError(f"{path} is not a file of arrays")
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    if mapped[: len(MAGIC)] != MAGIC:
        raise ValueError(f"{path} is not a file of arrays")
    length = int.from_bytes(mapped[len(MAGIC) : len(MAGIC) + 8], "little")
    begin = len(MAGIC) + 8
    if begin + length > size:
        raise ValueError(f"{path} is cut short")
    header = json.loads(mapped[begin : begin + length])
    start = _aligned(begin + length)
    arrays = {}
    for name, entry in header["arrays"].items():
        dtype = np.dtype(entry["dtype"])
        if dtype.hasobject:
            raise ValueError(f"{path}: array {name!r} is not made of numbers")
        shape = tuple(int(side) for side in entry["shape"])
        count = int(np.prod(shape, dtype=np.int64))
        offset = start + int(entry["offset"])
        if offset + count * dtype.itemsize > size:
            raise ValueError(f"{path} is cut short")
        arrays[name] = np.frombuffer(mapped, dtype, count, offset).reshape(shape)
    return header["metadata"], arrays
