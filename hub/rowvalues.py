"""The values the hub's bulk writer sends to the driver: rows in a table's column order,
and the text of the JSON columns (``hub.effects.insert_rows`` / ``insert_values``).

Both are on the push's path once per written row (issue 15): a push of 1,000 ops writes
~3,000 rows (ledger, domain rows, change rows), so a microsecond here is 2–3% of the
hub's CPU per op.
"""

from __future__ import annotations

import itertools
import json
import json.encoder
import operator
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import cast

from sqlalchemy import JSON, Connection, Table
from sqlalchemy.exc import DBAPIError


def _json_encoder() -> Callable[[object], str]:
    """``json.dumps(obj)`` as SQLAlchemy's JSON type writes it, with one C encoder made
    once (issue 15); no cycle check: the values are rows and results the hub built.

    Measured and left as it is (issue 15, phase 7): compact separators store ~7% fewer
    characters per change row but encode no faster (4.4–5.6 against 4.6–5.8 µs a row
    over the peer's 22,232 change rows, best of 9, alternated), and ``ensure_ascii=False``
    would change what the pull's byte budget counts.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return json.dumps
    enc = make(None, json.JSONEncoder().default, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True)

    def dumps(obj: object) -> str:
        return "".join(enc(obj, 0))

    return dumps


json_text = _json_encoder()

# The ledger's result of an applied op, as json_text writes it (with no_echo, without).
_RESULT_KEYS = ["server_seq", "reason", "detail"]
_NO_ECHO_KEYS = ["entity_changed", "no_echo"]
_APPLIED_NO_ECHO = '{"server_seq": %d, "reason": null, "detail": {"entity_changed": true, "no_echo": true}}'
_APPLIED = '{"server_seq": %d, "reason": null, "detail": {"entity_changed": true}}'


def result_text(result: Mapping[str, object]) -> str:
    """``json_text(result)`` of a ledger result. The two the bulk executor writes for
    almost every op (applied, numbered, ``entity_changed`` with or without ``no_echo``)
    from a template (issue 15, phase 8: ~0.3 against ~1.4 µs an op); the same text
    either way (the tests compare them)."""
    seq = result.get("server_seq")
    detail = result.get("detail")
    if (
        type(seq) is int
        and type(detail) is dict
        and detail.get("entity_changed") is True
        and result.get("reason", 0) is None
        and list(result) == _RESULT_KEYS
    ):
        if len(detail) == 1:
            return _APPLIED % seq
        if detail.get("no_echo") is True and list(detail) == _NO_ECHO_KEYS:
            return _APPLIED_NO_ECHO % seq
    return json_text(result)

# Per table: its column names and the positions of its JSON columns; its row picker;
# the positions of the columns an INSERT may leave out (:func:`sqlite_rows`).
_SHAPES: dict[str, tuple[list[str], list[int]]] = {}
_OMITTABLE: dict[str, list[int]] = {}
_NONES = itertools.repeat(None)
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

    For a table without a JSON column, ``operator.itemgetter`` of all its columns, at C
    speed, as tuples (issue 15, phase 7: ~0.6 µs a person row and ~2 µs a dose row
    against ~2 and ~4 µs for ``list(map(row.get, cols))``); nothing replaces a value
    in them, and the driver and ``COPY`` take any sequence. A table with one (the
    ledger) keeps lists, where ``insert_values`` puts each JSON column's text: a tuple
    copied into a list cost more than it saved. A row without every column takes the
    slow way.
    """
    cols, json_at = shape(table)
    if not json_at:
        try:
            return cast(list[list[object]], list(map(_picker(table), rows)))
        except KeyError:
            pass
    return [list(map(r.get, cols)) for r in rows]


def _omittable(table: Table) -> list[int]:
    """Where ``table``'s nullable columns without a server default are: an INSERT that
    leaves one out stores NULL there, the same record as a NULL bound to it."""
    got = _OMITTABLE.get(table.name)
    if got is None:
        got = _OMITTABLE[table.name] = [
            i for i, c in enumerate(table.columns) if c.nullable and c.server_default is None and not c.primary_key
        ]
    return got


def sqlite_rows(
    table: Table, params: Sequence[Sequence[object]]
) -> tuple[list[str], Sequence[Sequence[object]]]:
    """The columns and rows of a SQLite ``executemany`` of ``params`` (``table``'s column
    order), without the nullable columns that are None in every row (issue 15, phase 8).

    Python's ``sqlite3`` binds a None through its adapter look-up (``__adapt__`` and
    ``__conform__`` searched on every call: ~0.4 µs a value), and a push's new doses carry
    13 of their 27 columns None, its new persons 8 of 23: left out of the INSERT, SQLite
    stores the same NULL (no column here has a server default; the tests check the
    migrated schema) at about half the cost per row (dose 10 → 4.5 µs, person 8 → 4.5 µs
    over the replay's rows). The rows keep their order; one statement per batch.
    """
    cols = shape(table)[0]
    omit = _omittable(table)
    if not omit or not params:
        return cols, params
    # A column with a value stops at its first row; only an all-None one is walked through.
    none = {i for i in omit if not any(map(operator.is_not, map(operator.itemgetter(i), params), _NONES))}
    if not none:
        return cols, params
    keep = [i for i in range(len(cols)) if i not in none]
    return [cols[i] for i in keep], list(map(operator.itemgetter(*keep), params))


def sqlite_dict_rows(
    table: Table, rows: Sequence[Mapping[str, object]]
) -> tuple[list[str], list[tuple[object, ...]]] | None:
    """:func:`sqlite_rows` of :func:`row_values` in one pass, for a table without a JSON
    column whose rows hold every column (issue 15, phase 10): the all-None columns found
    from the dicts, the other values picked straight into the driver's tuples (one tuple
    a row instead of two). The same columns and values in the same order; None (the two
    steps instead) for a row lacking a column or a table with a JSON column."""
    cols, json_at = shape(table)
    if json_at or not rows:
        return None
    omit = _omittable(table)
    try:
        none = {i for i in omit if not any(map(operator.is_not, map(operator.itemgetter(cols[i]), rows), _NONES))}
        keep = [c for i, c in enumerate(cols) if i not in none]
        if len(keep) < 2:
            return None
        return keep, list(map(operator.itemgetter(*keep), rows))
    except KeyError:
        return None


def sqlite_insert(conn: Connection, table: str, cols: list[str], rows: Sequence[Sequence[object]]) -> None:
    """SQLite: ``rows`` (values of ``cols``) with one ``executemany`` (see :func:`hub.effects.insert_values`)."""
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    raw = conn.connection.driver_connection
    if not isinstance(raw, sqlite3.Connection):  # another driver: through SQLAlchemy
        conn.exec_driver_sql(sql, [tuple(v) for v in rows])
        return
    try:
        raw.executemany(sql, rows)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(sql, None, exc, sqlite3.Error, hide_parameters=True) from None


def copy_rows(conn: Connection, table: str, cols: list[str], rows: list[list[object]]) -> None:
    """PostgreSQL: the rows with one ``COPY ... FROM STDIN`` in the transaction (issue 15).

    ``executemany`` sent one Bind/Execute per row (psycopg's pipeline): a third of the
    hub's CPU on a push and most of its backend's went to that per-row protocol work.
    COPY checks the same constraints and fires the same triggers, in the same
    transaction (durable at its COMMIT, like the INSERTs were). The JSON columns are
    the same text (``json.dumps``) parsed by the column's type. A refusal is raised as
    SQLAlchemy raises the driver's errors (``IntegrityError``, ``DataError``,
    ``OperationalError`` with ``.orig``), so the bulk executor's fallback and
    ``Database.run_write``'s retries see what they saw before.
    """
    import psycopg

    sql = f"COPY {table} ({', '.join(cols)}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with driver.cursor() as cur, cur.copy(sql) as copy:
            for values in rows:
                copy.write_row(values)
    except psycopg.Error as exc:
        raise DBAPIError.instance(sql, None, exc, psycopg.Error, hide_parameters=True) from None
