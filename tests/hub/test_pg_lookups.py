"""A push's look-ups for more than 500 ids (issue 15, branch pgpush2).

On PostgreSQL the planner's look-ups go out as one statement per table, each with its whole
array, all in one round trip (psycopg's pipeline mode), and the ledger's look-up is one
statement; SQLite keeps its slices of 500 (its host-parameter limit). Both must find
every row: the same answers, the same rows.
"""

from __future__ import annotations

import os
import random
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from hub.db import Database, pipelined
from hub.ingest import process_push
from hub.models import Base
from sync.protocol import Op, PushRequest
from tests.hub.test_bulk_entry_points import Stream, World, _count_planned, _new_db
from tests.pg import PgCluster, hub_database_url

SITE = "EQ-A"
TABLES = ("person", "person_site", "registration", "screening", "dose", "applied_op", "change_log")


def _pushes() -> tuple[str, list[PushRequest]]:
    """Two pushes of one station: 900 walk-ins (some of them twins or holders of another's
    ID number: merges and reviews); then a dose for 560 of those with nothing to reconcile
    (over 500 persons, doses and ledger ids to look up, planned in one run)."""
    rng = random.Random(7)
    station = str(uuid.UUID(int=rng.getrandbits(128)))
    s = Stream(SITE, station, random.Random(11), World())
    for _ in range(900):
        s.walk_in()
    first = len(s.ops)
    people = s.world.people[SITE]
    seen: dict[object, int] = {}
    for p in people:
        for key in (p["number"], p["phone"], (p["name"], p["birth"], p["phone"])):
            seen[key] = seen.get(key, 0) + 1
    alone = [p for p in people if all(seen[k] == 1 for k in (p["number"], p["phone"]) if k is not None)]
    for person in alone[:560]:
        s.dose(person)
    assert len(s.ops) - first == 560

    def req(ops: list[dict[str, Any]]) -> PushRequest:
        return PushRequest(
            station_id=station, replica_epoch="e1", schema_version="0002",
            sent_at="2026-11-27T08:00:00+07:00", ops=[Op.model_validate(o) for o in ops],
        )

    return station, [req(s.ops[:first]), req(s.ops[first:])]


def _dump(db: Database) -> dict[str, list[tuple[str, ...]]]:
    with db.read() as s:
        return {
            name: sorted(
                tuple(str(v) for v in r)
                for r in s.execute(select(Base.metadata.tables[name]))
            )
            for name in TABLES
        }


def _round_trips(trace: str) -> list[list[str]]:
    """The statements the client sent, grouped by the wait for their answers: a group ends
    with the client's ``Sync`` (one per statement outside a pipeline, one per pipeline) or
    its simple ``Query`` (libpq's trace, ``F`` lines from the client). A prepared
    statement's Bind names it; its Parse, seen before, gave its text."""
    names: dict[str, str] = {}
    groups: list[list[str]] = [[]]
    for line in trace.splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or parts[0] != "F":
            continue  # the server's answers, or a statement's next line
        msg, rest = parts[2].strip(), "\t".join(parts[3:]).strip()
        if msg == "Parse":  # its name and (the first line of) its text
            m = re.match(r'"([^"]*)" "(.*)', rest)
            if m:
                names[m.group(1)] = sql = re.sub(r'"( \d+)+$', "", m.group(2))  # its parameter types
                groups[-1].append(sql)
        elif msg == "Bind":  # a prepared statement: its name
            m = re.match(r'"[^"]*" "([^"]+)"', rest)
            if m:
                groups[-1].append(names.get(m.group(1), m.group(1)))
        elif msg == "Query":
            groups[-1].append(rest)
            groups.append([])
        elif msg == "Sync":
            groups.append([])
    return [g for g in groups if g]


def test_a_push_of_over_500_ids_finds_every_row_on_both_backends(
    tmp_path: Path, pg: PgCluster | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    station, pushes = _pushes()
    answers: dict[str, list[list[dict[str, Any]]]] = {}
    dumps: dict[str, dict[str, list[tuple[str, ...]]]] = {}
    taken = _count_planned(monkeypatch)
    for backend in ("sqlite", "postgresql"):
        db = _new_db(hub_database_url(backend, tmp_path, pg, "big"), {station: SITE})
        try:
            before = taken[0]
            answers[backend] = []
            for i, req in enumerate(pushes):
                results, expected = process_push(db, station, req, now=f"2026-11-27T01:00:0{i}.000+00:00")
                assert expected == req.ops[-1].op_seq + 1
                answers[backend].append([r.model_dump() for r in results])
            # The second push's ops found their persons and lots: the planner took them.
            assert taken[0] - before >= 560 + 700, taken
            # Sent again: every op found in the ledger (its look-up over 560 ids).
            again, _ = process_push(db, station, pushes[1], now="2026-11-27T01:00:09.000+00:00")
            assert {r.status for r in again} == {"duplicate"}
            dumps[backend] = _dump(db)
        finally:
            db.dispose()
    doses = [r for r in answers["sqlite"][1] if r["detail"].get("no_echo")]
    assert len(doses) == 560, len(doses)
    for a, b in zip(answers["sqlite"], answers["postgresql"], strict=True):
        assert [(r["op_id"], r["status"], r["reason"]) for r in a] == [
            (r["op_id"], r["status"], r["reason"]) for r in b
        ]
    for name in ("person", "dose", "screening", "applied_op"):
        assert len(dumps["sqlite"][name]) == len(dumps["postgresql"][name]), name


def test_the_planners_look_ups_wait_for_the_backend_once(tmp_path: Path, pg: PgCluster | None) -> None:
    """The second push (560 doses of 560 persons): each look-up is sent once with
    all its ids, and the run's together (those with ids to look for) in one round trip; the
    ledger's is sent once."""
    station, pushes = _pushes()
    db = _new_db(hub_database_url("postgresql", tmp_path, pg, "trips"), {station: SITE})
    trace = tmp_path / "libpq.trace"
    try:
        process_push(db, station, pushes[0], now="2026-11-27T01:00:00.000+00:00")
        db.write_engine.dispose()  # a new connection, traced from its start

        traced: list[Any] = []

        @event.listens_for(db.write_engine, "connect")
        def _traced(dbapi_conn: DBAPIConnection, _rec: ConnectionPoolEntry) -> None:
            import psycopg

            assert isinstance(dbapi_conn, psycopg.Connection)
            fd = os.open(trace, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
            dbapi_conn.pgconn.trace(fd)  # libpq's stream owns the descriptor
            dbapi_conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
            traced.append(dbapi_conn)

        results, _ = process_push(db, station, pushes[1], now="2026-11-27T01:00:01.000+00:00")
        assert {r.status for r in results} == {"applied"}
        for conn in traced:
            conn.pgconn.untrace()  # flushes libpq's stream
    finally:
        db.dispose()
    trips = _round_trips(trace.read_text())
    person_site = [g for g in trips if any("FROM person_site WHERE person_id = ANY" in q for q in g)]
    assert len(person_site) == 1, f"the persons' sites were looked up in {len(person_site)} round trips"
    together = person_site[0]
    for wanted in (
        "SELECT id FROM person WHERE id = ANY($1)",
        "SELECT from_id, to_id FROM person_redirect WHERE from_id = ANY($1)",
        "SELECT from_id, to_id FROM person_redirect WHERE to_id = ANY($1)",
        "FROM registration WHERE person_id = ANY($1)",
        "day, voided FROM dose WHERE person_id = ANY($1)",
        "day, voided FROM dose WHERE id = ANY($1)",
        "FROM vaccine_lot WHERE id = ANY($1)",
    ):
        assert sum(q.endswith(wanted) for q in together) == 1, wanted
        assert sum(q.endswith(wanted) for g in trips for q in g) == 1, f"{wanted}: sent more than once"
    ledger = [q for g in trips for q in g if "FROM applied_op WHERE op_id = ANY" in q]
    assert len(ledger) == 1, f"the ledger was looked up {len(ledger)} times"


def test_a_failed_pipelined_look_up_is_raised_as_sqlalchemy_raises_it(
    tmp_path: Path, pg: PgCluster | None
) -> None:
    """A refused statement among pipelined look-ups is SQLAlchemy's error with the driver's
    ``.orig`` (what ``Database.run_write`` decides retries on), and nothing is half-read."""
    from sqlalchemy.exc import DBAPIError, ProgrammingError

    db = Database(hub_database_url("postgresql", tmp_path, pg, "bad"))
    try:
        with pytest.raises(DBAPIError) as got, db.read() as s:
            pipelined(s.connection(), [("SELECT 1", ()), ("SELECT * FROM no_such_table", ())])
        assert isinstance(got.value, ProgrammingError)
        assert type(got.value.orig).__name__ == "UndefinedTable"
        with db.read() as s:
            assert pipelined(s.connection(), [("SELECT %s::int", (1,)), ("SELECT %s::text", ("x",))]) == [
                [(1,)],
                [("x",)],
            ]
    finally:
        db.dispose()


def test_without_pipeline_mode_the_look_ups_go_one_by_one(
    tmp_path: Path, pg: PgCluster | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A libpq older than 14 (no pipeline mode): the same statements, the same rows."""
    import psycopg

    db = Database(hub_database_url("postgresql", tmp_path, pg, "nopipe"))
    monkeypatch.setattr(psycopg.Pipeline, "is_supported", classmethod(lambda cls: False))

    def refused(self: psycopg.Connection[Any]) -> None:
        raise psycopg.NotSupportedError("pipeline mode not supported: libpq too old")  # as psycopg says

    monkeypatch.setattr(psycopg.Connection, "pipeline", refused)
    try:
        with db.read() as s:
            assert pipelined(s.connection(), [("SELECT %s::int", (1,)), ("SELECT %s::text", ("x",))]) == [
                [(1,)],
                [("x",)],
            ]
    finally:
        db.dispose()
