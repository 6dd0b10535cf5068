"""The push's apply-side shortcuts of issue 15, phase 10 (branch ``hubapply10``), held to what
they replace.

* ``hub.rowvalues.sqlite_dict_rows``: the columns and values ``sqlite_rows(row_values(...))``
  gives, in one pass from the row dicts; the same rows stored through ``insert_rows`` on a
  real SQLite hub database, with the same statement sent.
* ``BulkRun._number_all``: a run's change rows and ledger rows handed to the Numbering as
  ``Numbering.add_values`` / ``add_ledger_values`` did op by op, and the same ledger rows
  (``Ledgered``) returned; once written, each ledger result's ``server_seq`` is its first
  change row's number (None for an op without change rows).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from hub.apply.bulk import BulkRun, PlannedOp
from hub.apply.orm import Ledgered
from hub.apply.rows import DOSE, PERSON, PERSON_SITE, REGISTRATION, SCREENING
from hub.db import Database
from hub.effects import Numbering, insert_rows, insert_values
from hub.models import ReviewItem, table_of
from hub.rowvalues import row_values, sqlite_dict_rows, sqlite_rows
from sync.protocol import Op
from tests.hub.conftest import Hub
from tests.hub.ops import Desk, new_cccd
from tests.hub.test_push_shortcuts import SITE, _rows
from tests.pg import migrated_sqlite_url

_TABLES = {"person": PERSON, "registration": REGISTRATION, "dose": DOSE, "screening": SCREENING}


def _two_steps(table: Any, rows: list[dict[str, object]]) -> tuple[list[str], list[tuple[object, ...]]]:
    cols, got = sqlite_rows(table, row_values(table, rows))
    return list(cols), [tuple(r) for r in got]


def _variants() -> list[tuple[Any, list[dict[str, object]]]]:
    built = _rows()
    out: list[tuple[Any, list[dict[str, object]]]] = []
    for name in ("person", "registration", "dose", "screening"):
        rows = built[name] if name != "screening" else [*built[name], {**built[name][0], "id": "s2", "answers": None}]
        out.append((_TABLES[name], rows))
        out.append((_TABLES[name], rows[:1]))
        # a column with a value in the second row only; one None in every row
        first, second = dict(rows[0]), dict(rows[1])
        col = next(c for c in first if c not in ("id", "person_id") and first[c] is not None)
        first[col] = None
        out.append((_TABLES[name], [first, second]))
        out.append((_TABLES[name], [{k: None if k == col else v for k, v in r.items()} for r in rows]))
    out.append((PERSON_SITE, [{"person_id": "p1", "site_code": "SC-A"}, {"person_id": "p2", "site_code": "SC-B"}]))
    return out


def test_sqlite_dict_rows_are_sqlite_rows_of_row_values() -> None:
    for table, rows in _variants():
        got = sqlite_dict_rows(table, rows)
        assert got is not None, table.name
        cols, values = got
        assert (cols, [tuple(v) for v in values]) == _two_steps(table, rows), table.name


def test_rows_it_cannot_take_go_the_two_steps() -> None:
    built = _rows()
    lacking = dict(built["dose"][0])
    del lacking["volume_ml"]
    assert sqlite_dict_rows(DOSE, [built["dose"][1], lacking]) is None  # a row lacks a column
    review = table_of(ReviewItem)
    row = {c.name: None for c in review.columns} | {"id": "rv1", "site_codes": ["SC-A"], "candidates": {}}
    assert sqlite_dict_rows(review, [row]) is None  # a JSON column
    assert sqlite_dict_rows(DOSE, []) is None


def _stored(db: Database, table: str) -> list[str]:
    with db.read() as s:
        raw = s.connection().connection.driver_connection
        cols = [r[1] for r in raw.execute(f"PRAGMA table_info({table})")]
        sql = "SELECT " + " || ',' || ".join(f"quote({c})" for c in cols) + f" FROM {table} ORDER BY rowid"
        return [str(r[0]) for r in raw.execute(sql)]


def test_insert_rows_stores_and_sends_what_the_two_steps_did(tmp_path: Path) -> None:
    built = {name: [{**r, "id": f"{r['id']}-{i}"} for i, r in enumerate(rows)] for name, rows in _rows().items()}
    # the same rows written both ways, ids apart: the second database gets the two steps
    dbs = [Database(migrated_sqlite_url(tmp_path / f"h{i}.db")) for i in range(2)]
    sent: list[list[str]] = [[], []]
    try:
        for i, db in enumerate(dbs):
            with db.write() as s:
                raw = s.connection().connection.driver_connection
                raw.set_trace_callback(sent[i].append)
                for name in ("person", "registration", "dose", "screening"):
                    table, rows = _TABLES[name], built[name]
                    if i == 0:
                        insert_rows(s, table, rows)
                    else:
                        insert_values(s, table, row_values(table, rows))
                raw.set_trace_callback(None)
        for name in ("person", "registration", "dose", "screening"):
            assert _stored(dbs[0], name) == _stored(dbs[1], name) != []
        assert sent[0] == sent[1] != []
    finally:
        for db in dbs:
            db.dispose()


def _op(n: int) -> Op:
    return Op.model_construct(
        op_id=f"01a2410c-575f-7291-b6de-ccfcb245f8{n:02d}", op_seq=n + 1, op_type="record_dose", op_version=1,
        entity_type="dose", entity_id=f"d{n}", base_version=None, payload={}, hlc=f"1764900000000-{n:05d}",
        recorded_at="2026-12-04T09:00:00+07:00", user_id="u1",
    )


def _reference(run: BulkRun, numbering: Numbering) -> list[tuple[int, int | None, Ledgered]]:
    """The op-by-op numbering as it was (``BulkRun._number`` before phase 10)."""
    out = []
    for p in run.pending:
        offset = numbering.add_values(p.changes)
        detail: dict[str, object] = {"entity_changed": True, "no_echo": True} if run.echo else {"entity_changed": True}
        result: Any = {"server_seq": None, "reason": None, "detail": detail}
        op = p.op
        numbering.add_ledger_values(
            [op.op_id, run.station_id, run.epoch, op.op_seq, op.op_type, p.digest, "applied", result, run.now],
            result,
            offset,
        )
        out.append((p.index, offset, Ledgered(op.op_id, run.station_id, p.digest, "applied", result)))
    return out


@pytest.mark.parametrize("echo", [True, False])
def test_a_run_is_numbered_as_op_by_op(echo: bool, tmp_path: Path) -> None:
    def planned() -> list[PlannedOp]:
        # ops with one, none and three change rows, after a change row already handed over
        sizes = [1, 0, 3, 2, 0]
        return [
            PlannedOp(
                i + 3, _op(i), f"sha{i}",
                [[None, "SC-A", "dose", f"d{i}", "upsert", 1, {"k": j}, f"op-{i}", None] for j in range(n)],
            )
            for i, n in enumerate(sizes)
        ]

    got: list[Any] = []
    stored: list[tuple[list[str], list[str]]] = []
    for way in ("new", "reference"):
        db = Database(migrated_sqlite_url(tmp_path / f"{way}.db"))
        try:
            with db.write() as s:
                numbering = Numbering()
                numbering.add_values([[None, "SC-A", "person", "p0", "upsert", 1, {}, "op-0", None]])
                run = BulkRun(s, "SC-A", "st-1", "e1", "2026-12-04T02:00:00.000Z", numbering, echo=echo)
                run.pending = planned()
                answered = run._number_all() if way == "new" else _reference(run, numbering)
                got.append((answered, [list(c) for c in numbering.changes], [(list(v), dict(r), o) for v, r, o in numbering.ledger]))
                numbering.write(s)  # numbered and written: the results' server_seq filled in
                base = numbering.base
                assert base is not None
                assert [led.result["server_seq"] for _i, _o, led in answered] == [
                    None if o is None else base + o for _i, o, _led in answered
                ]
            stored.append((_stored(db, "applied_op"), _stored(db, "change_log")))
        finally:
            db.dispose()
    assert got[0] == got[1]
    assert [offset for _i, offset, _led in got[0][0]] == [1, None, 2, 5, None]
    assert stored[0] == stored[1]
    assert len(stored[0][0]) == 5 and len(stored[0][1]) == 7


@pytest.fixture
def statements() -> Iterator[list[str]]:
    """Every statement the engines of this process send through SQLAlchemy (the hub runs here)."""
    seen: list[str] = []

    def on_execute(_conn: Any, _cursor: Any, sql: str, *_args: Any) -> None:
        seen.append(" ".join(sql.split()))

    event.listen(Engine, "before_cursor_execute", on_execute)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", on_execute)


def test_a_sqlite_push_reads_its_station_and_replica_once_and_writes_the_order_once(
    sqlite_hub: Hub, statements: list[str]
) -> None:
    hub = sqlite_hub
    a = Desk.enroll(hub, SITE)
    first = [a.walk_in(new_cccd()) for _ in range(4)]
    user = a.user("clerk")  # an ORM op between two runs
    second = [a.walk_in(new_cccd()) for _ in range(3)]
    ops = [*first, user, *second]
    statements.clear()
    assert {r["status"] for r in a.push(ops)} == {"applied"}
    replica = [s for s in statements if " replica " in f" {s} "]
    station = [s for s in statements if " station " in f" {s} "]
    # Read by hand once, written once at the end (before: the ORM's load, and its UPDATE at
    # each run's flush and after the ORM's op); the station row read with its skew written.
    assert [s.split()[0] for s in replica] == ["SELECT", "UPDATE"], replica
    assert replica[1].startswith("UPDATE replica SET next_op_seq = ?")
    # (the SELECT: the route's token check, on its read engine)
    assert [s.split()[0] for s in station] == ["SELECT", "UPDATE"] and "RETURNING" in station[1], station
    last = ops[-1]["op_seq"]
    assert hub.scalar("SELECT next_op_seq FROM replica WHERE station_id = :s", s=a.station_id) == last + 1
    assert hub.scalar("SELECT clock_skew_ms FROM station WHERE id = :s", s=a.station_id) is not None

    # A gap, then the same ops again: the order as before (and as PostgreSQL's, tests above).
    more = [a.walk_in(new_cccd()) for _ in range(3)]
    del more[1]
    got = a.post(more).json()
    assert [x["status"] for x in got["results"]] == ["applied"]
    assert got["expected_next_op_seq"] == more[0]["op_seq"] + 1
    again = a.post(ops).json()
    assert {x["status"] for x in again["results"]} == {"duplicate"}
    assert hub.scalar("SELECT next_op_seq FROM replica WHERE station_id = :s", s=a.station_id) == more[0]["op_seq"] + 1
