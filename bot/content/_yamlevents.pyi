"""Types of the C reader (_yamlevents.c), for mypy."""

from collections.abc import Callable
from typing import Any

def read(
    data: bytes,
    *,
    mapping: type[dict[Any, Any]],
    sequence: type[list[Any]],
    plain: Callable[[str], Any],
    first: bytes,
    words: frozenset[str],
) -> Any: ...
