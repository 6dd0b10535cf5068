"""The values the hub's bulk writer sends to the driver: rows in a table's column order,
and the text of the JSON columns (``hub.effects.insert_rows`` / ``insert_values``).

Both are on the push's path once per written row (issue 15): a push of 1,000 ops writes
~3,000 rows (ledger, domain rows, change rows), so a microsecond here is ~3% of the
hub's CPU per op.
"""

from __future__ import annotations

import functools
import json
import json.encoder
import operator
from collections.abc import Callable, Mapping, Sequence
from typing import cast

from sqlalchemy import JSON, Table

# The JSON columns' separators (item, key): compact (issue 15, phase 7).
JSON_SEPARATORS = (",", ":")


def _json_encoder() -> Callable[[object], str]:
    """The text of the JSON columns the hub writes in bulk (change rows' ``data``, the
    ledger's ``result``, review items'): ``json.dumps(obj, separators=(",", ":"))``, with
    one C encoder made once; no cycle check (the values are rows and results the hub built).

    Compact separators (issue 15, phase 7): ~25% less time to encode a change row than
    ``json.dumps``'s default ``", "``/``": "``, and ~40 characters fewer per row to store
    and read back. Still ASCII (``ensure_ascii``): the pull's byte budget counts the
    stored text's characters, and an escaped character is never shorter than its UTF-8
    bytes, so a page's data stays within its budget on the wire. Readers parse the text
    (SQLAlchemy's JSON type, PostgreSQL's ``json``): rows written before (with spaces)
    and after read the same.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return functools.partial(json.dumps, separators=JSON_SEPARATORS)
    item_sep, key_sep = JSON_SEPARATORS
    enc = make(
        None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii, None,
        key_sep, item_sep, False, False, True,
    )

    def dumps(obj: object) -> str:
        return "".join(enc(obj, 0))

    return dumps


json_text = _json_encoder()

# Per table: its column names and the positions of its JSON columns; its row picker.
_SHAPES: dict[str, tuple[list[str], list[int]]] = {}
_PICKERS: dict[str, Callable[[Mapping[str, object]], tuple[object, ...]]] = {}


def shape(table: Table) -> tuple[list[str], list[int]]:
    """``table``'s column names, and where its JSON columns are among them."""
    got = _SHAPES.get(table.name)
    if got is None:
        cols = [c.name for c in table.columns]
        got = _SHAPES[table.name] = (cols, [i for i, c in enumerate(table.columns) if isinstance(c.type, JSON)])
    return got


def _picker(table: Table) -> Callable[[Mapping[str, object]], tuple[object, ...]]:
    got = _PICKERS.get(table.name)
    if got is None:
        cols = shape(table)[0]
        pick = operator.itemgetter(*cols)
        got = _PICKERS[table.name] = pick if len(cols) > 1 else (lambda r: (pick(r),))
    return got


def row_values(table: Table, rows: Sequence[Mapping[str, object]]) -> list[list[object]]:
    """Each row's values in ``table``'s column order; a column a row lacks is None.

    ``operator.itemgetter`` of all columns at C speed (issue 15, phase 7: ~0.8 µs a row
    against ~1.5–2 µs for ``list(map(row.get, cols))``); tuples where the table has no
    JSON column (nothing replaces a value in them), lists where ``insert_values`` puts a
    JSON column's text in its place. A row without every column takes the slow way.
    """
    cols, json_at = shape(table)
    try:
        got = list(map(_picker(table), rows))
    except KeyError:
        return [list(map(r.get, cols)) for r in rows]
    if json_at:
        return list(map(list, got))
    # Never mutated (no JSON column): the driver and COPY take any sequence of values.
    return cast(list[list[object]], got)
