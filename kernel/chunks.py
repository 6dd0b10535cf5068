"""Long ``IN (...)`` lists in slices: shared by the station's SQLite and the hub's databases."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

# Values per ``IN (...)`` list: well below SQLite's host-parameter limit (999 in older
# builds) and PostgreSQL's.
IN_LIST_MAX = 500


def in_chunks(values: Sequence[T], size: int = IN_LIST_MAX) -> Iterator[list[T]]:
    """``values`` in slices of at most ``size``, for one ``IN (...)`` query each."""
    for i in range(0, len(values), size):
        yield list(values[i : i + size])
