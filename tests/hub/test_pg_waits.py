"""What a push waits for on PostgreSQL (issue 15, branch pgwaits), and that its locks still hold.

A push's replica lock, person locks and ledger look-up go out in one round trip; the app
users in the planner's; the dose counters' upserts with the hub clock's update; the
replica row is not read again after a run. Counted with libpq's own trace of the write
connection (``tests/hub/test_pg_lookups.py``'s parser). The races below run many trials
of pushes that lock the same persons through their doses, registrations and merge
redirects, and of one replica pushed twice at once, on the real PostgreSQL cluster.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from hub.db import Database
from hub.ingest import process_push
from sync.protocol import PushRequest
from tests.hub.conftest import Hub
from tests.hub.ops import Desk, new_cccd
from tests.hub.test_pg_lookups import _round_trips as round_trips
from tests.hub.test_races import at_once, statuses

on_postgresql = pytest.mark.parametrize("hub", ["postgresql"], indirect=True)


def _void(desk: Desk, dose_id: str) -> dict[str, Any]:
    return desk.op("void_dose", "dose", dose_id, {"reason": "nhập nhầm", "voided_at": desk.at()})


def _trace_db(db: Database, trace: Path) -> Any:
    """Trace every connection ``db`` opens from now on (its pool emptied first), to ``trace``."""
    db.write_engine.dispose()

    def _trace(dbapi_conn: DBAPIConnection, _rec: ConnectionPoolEntry) -> None:
        import psycopg

        assert isinstance(dbapi_conn, psycopg.Connection)
        fd = os.open(trace, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
        dbapi_conn.pgconn.trace(fd)
        dbapi_conn.pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)

    event.listen(db.write_engine, "connect", _trace)
    return _trace


def _untrace_db(db: Database, listener: Any) -> None:
    event.remove(db.write_engine, "connect", listener)
    db.write_engine.dispose()  # the traced connections closed


def _traced_push(db: Database, desk: Desk, ops: list[dict[str, Any]], trace: Path) -> list[list[str]]:
    """``ops`` pushed by ``desk`` in process, on a new traced connection: its round trips."""
    listener = _trace_db(db, trace)
    req = PushRequest.model_validate(desk.body(ops))
    try:
        results, _ = process_push(db, desk.station_id, req, now="2026-12-01T02:00:00.000+00:00", skew_ms=5)
    finally:
        _untrace_db(db, listener)
    assert [r.status for r in results] == ["applied"] * len(ops), [(r.status, r.reason) for r in results]
    return round_trips(trace.read_text())


@on_postgresql
def test_a_push_waits_for_its_backend_fewer_times(hub: Hub, tmp_path: Path) -> None:
    """A push of doses (one for a merged person: its survivor is locked through the
    redirect), a void (its person through the dose) and screenings: the replica lock, the
    person locks and the ledger in one round trip; the app users with the planner's
    look-ups; the counters' upserts with the hub clock; the replica read once. Main sent
    this push in 56 round trips (and 4 COPY ends); this branch in 45."""
    desk = Desk.enroll(hub, "WAIT-A")
    number = new_cccd()
    first, twin = desk.walk_in(number), desk.walk_in(number)  # the twin is merged into the first
    others = [desk.walk_in(new_cccd()) for _ in range(3)]
    assert {r["status"] for r in desk.push([first, twin, *others])} == {"applied"}
    assert hub.scalar("SELECT count(*) FROM person_redirect WHERE from_id = :t", t=twin["entity_id"]) == 1
    earlier = desk.dose(others[0]["entity_id"])
    assert {r["status"] for r in desk.push([earlier])} == {"applied"}
    ops = [
        desk.dose(twin["entity_id"]),
        _void(desk, earlier["entity_id"]),
        *[desk.screening(p["entity_id"]) for p in others],
        *[desk.dose(p["entity_id"], dose_number=2) for p in others[1:]],
    ]
    trips = _traced_push(hub.db, desk, ops, tmp_path / "libpq.trace")

    def trip_of(fragment: str) -> list[str]:
        found = [g for g in trips if any(fragment in q for q in g)]
        assert len(found) == 1, f"{fragment}: in {len(found)} round trips"
        return found[0]

    start = trip_of("FROM replica WHERE")
    assert any("FOR UPDATE OF person" in q for q in start), start
    assert any("FROM applied_op WHERE op_id = ANY" in q for q in start), start
    assert sum("replica" in q and q.lstrip().startswith("SELECT") for g in trips for q in g) == 1
    planner = [g for g in trips if any("FROM person_site WHERE person_id = ANY" in q for q in g)]
    users = [g for g in trips if any("FROM app_user WHERE id = ANY" in q for q in g)]
    assert len(planner) == 2 and users == planner, "the app users looked up apart from the planner's look-ups"
    clock = trip_of("UPDATE hub_clock")
    assert any("INSERT INTO station_day" in q for q in clock), clock
    assert any("INSERT INTO station_total" in q for q in clock), clock
    assert any("UPDATE station_tally SET ops_since" in q for q in trip_of("carried_cut")), trips
    assert len(trips) <= 45, f"{len(trips)} round trips: " + " | ".join(";".join(g)[:80] for g in trips)
    # The same rows as one at a time would write: the void moved the counters, the twin's
    # dose is its survivor's, and every counter equals a recount.
    from hub import counters

    with hub.db.read() as s:
        assert counters.verify(s) == []
        assert s.execute(
            text("SELECT person_id FROM dose WHERE id = :d"), {"d": ops[0]["entity_id"]}
        ).scalar_one() == first["entity_id"]


TRIALS = 30


@pytest.mark.slow
@on_postgresql
def test_persons_locked_through_doses_and_redirects_from_two_desks_at_once(hub: Hub) -> None:
    """Two laptops of a site, at once, in opposite orders: doses for merged persons (their
    survivors locked through the redirect) and voids of each other's doses (their persons
    locked through the dose): never a 5xx, every op answered once, counters = a recount."""
    from hub import counters

    one, two = Desk.enroll(hub, "WAIT-R"), Desk.enroll(hub, "WAIT-R")
    pairs = []
    for _ in range(4):
        number = new_cccd()
        pairs.append((one.walk_in(number), one.walk_in(number)))
    assert {r["status"] for r in one.push([op for pair in pairs for op in pair])} == {"applied"}
    twins = sorted(t["entity_id"] for _f, t in pairs)
    own = {}
    for desk in (one, two):
        doses = [desk.dose(twins[i % len(twins)]) for i in range(TRIALS)]
        assert {r["status"] for r in desk.push(doses)} == {"applied"}
        own[desk.station_id] = [d["entity_id"] for d in doses]
    for trial in range(TRIALS):
        pushes = []
        for k, (desk, sibling) in enumerate(((one, two), (two, one))):
            order = twins if (k + trial) % 2 == 0 else twins[::-1]
            ops = [desk.dose(pid, dose_number=2) for pid in order]
            ops.insert(trial % len(ops), _void(desk, own[sibling.station_id][trial]))
            pushes.append((desk, ops))
        out = at_once([lambda c, d=d, o=o: d.post(o, c) for d, o in pushes])
        assert all(s == "applied" for r in out for s in statuses(r)), trial
    assert hub.scalar("SELECT count(*) FROM dose WHERE voided = 1") == 2 * TRIALS
    assert hub.scalar("SELECT count(*) FROM dose WHERE dose_number = 2") == 2 * TRIALS * len(twins)
    survivors = {f["entity_id"] for f, _t in pairs}
    assert hub.scalar("SELECT count(DISTINCT person_id) FROM dose") == len(survivors)
    with hub.db.read() as s:
        assert counters.verify(s) == []


@pytest.mark.slow
@on_postgresql
def test_one_replica_pushed_twice_at_once_applies_each_op_once(hub: Hub) -> None:
    """A lost answer sent again while the first send is still applied: the replica row's
    lock (now sent with the person locks and the ledger) makes the two take turns; the
    second answers every op ``duplicate`` (or the first does, if the second won)."""
    desk = Desk.enroll(hub, "WAIT-S")
    people = [desk.walk_in(new_cccd()) for _ in range(3 * TRIALS)]
    assert {r["status"] for r in desk.push(people)} == {"applied"}
    for trial in range(TRIALS):
        ops = [desk.dose(p["entity_id"]) for p in people[3 * trial : 3 * trial + 3]]
        out = at_once([lambda c, o=ops: desk.post(o, c), lambda c, o=ops: desk.post(o, c)])
        got = sorted(tuple(statuses(r)) for r in out)
        assert got == [("applied",) * 3, ("duplicate",) * 3], (trial, got)
        assert isinstance(out[0], httpx.Response)
        assert out[0].json()["expected_next_op_seq"] == out[1].json()["expected_next_op_seq"] == desk.seq + 1
    assert hub.scalar("SELECT count(*) FROM dose") == 3 * TRIALS
    assert hub.scalar("SELECT next_op_seq FROM replica WHERE station_id = :s", s=desk.station_id) == desk.seq + 1


# ---- phase 9 (branch pg9): the start of a push, its authentication, the pool -----------


def _trace_hub(hub: Hub, trace: Path) -> Any:
    """Trace every connection the running hub opens from now on (its pool emptied first)."""
    return _trace_db(hub.running.app.state.db, trace)


def _untrace_hub(hub: Hub, listener: Any) -> None:
    _untrace_db(hub.running.app.state.db, listener)


@on_postgresql
def test_a_push_over_http_begins_with_its_station_and_locks_in_one_round_trip(hub: Hub, tmp_path: Path) -> None:
    """Two pushes of doses over HTTP, every connection of the hub traced (the second push
    on connections the first returned to the pool): no pool ping; the authentication's
    token look-up alone, without BEGIN and COMMIT; the write transaction's BEGIN, the
    station's clock-skew UPDATE, the replica lock, the person locks and the ledger in one
    round trip; the replica's new order written once, with the hub clock. Main `ea8d559`
    sent these two pushes in 39 round trips (and 3 COPY ends each); this branch in 26."""
    desk = Desk.enroll(hub, "WAIT-H")
    people = [desk.walk_in(new_cccd()) for _ in range(6)]
    assert {r["status"] for r in desk.push(people)} == {"applied"}
    trace = tmp_path / "libpq.trace"
    listener = _trace_hub(hub, trace)
    try:
        for half in (people[:3], people[3:]):
            assert {r["status"] for r in desk.push([desk.dose(p["entity_id"]) for p in half])} == {"applied"}
    finally:
        _untrace_hub(hub, listener)
    trips = [[q.strip().strip('"') for q in g] for g in round_trips(trace.read_text())]
    flat = [q for g in trips for q in g]
    assert ";" not in flat, "a pooled connection was pinged"
    auth = [g for g in trips if g[0].startswith("SELECT station.id, station.site_code")]  # by token
    assert len(auth) == 2 and all(len(g) == 1 for g in auth), auth
    starts = [g for g in trips if g[0].startswith("BEGIN")]
    assert len(starts) == 2 and flat.count("BEGIN") == 2, trips
    for g in starts:
        assert "UPDATE station SET clock_skew_ms" in g[1] and "FROM replica WHERE" in g[2], g
        assert any("FOR UPDATE OF person" in q for q in g) and "FROM applied_op" in g[-1], g
    assert flat.count("COMMIT") == 2
    clocks = [g for g in trips if any("UPDATE hub_clock" in q for q in g)]
    assert len(clocks) == 2 and all(g[0].startswith("UPDATE replica SET next_op_seq") for g in clocks), clocks
    assert sum(q.startswith("UPDATE replica") for q in flat) == 2
    assert len(trips) <= 26, f"{len(trips)} round trips: " + " | ".join(";".join(g)[:60] for g in trips)
    # What those statements wrote: the replica's order, the station's skew and contact.
    assert hub.scalar("SELECT next_op_seq FROM replica WHERE station_id = :s", s=desk.station_id) == desk.seq + 1
    assert hub.scalar("SELECT clock_skew_ms FROM station WHERE id = :s", s=desk.station_id) is not None
    assert hub.scalar("SELECT last_seen FROM station WHERE id = :s", s=desk.station_id) is not None
    assert hub.scalar("SELECT count(*) FROM dose") == 6


@on_postgresql
def test_pooled_connections_killed_by_the_server_are_replaced_before_use(
    hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ping per checkout, yet a connection the server ended (a restart, a terminated
    backend) is replaced before a request uses it: every pooled connection of the hub is
    terminated, and the next push and pull succeed. A connection idle for longer than
    ``PING_IDLE_S`` is pinged as ``pool_pre_ping`` did."""
    import time

    import psycopg

    from hub import db as hub_db

    desk = Desk.enroll(hub, "WAIT-K")
    people = [desk.walk_in(new_cccd()) for _ in range(4)]
    assert {r["status"] for r in desk.push(people[:2])} == {"applied"}
    url = hub.running.app.state.db.url.replace("postgresql+psycopg://", "postgresql://")
    for _round in range(2):
        with psycopg.connect(url, autocommit=True) as c:
            killed = [r[0] for r in c.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchall()]
            assert killed
            c.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (killed,))
            deadline = time.monotonic() + 10
            while c.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (killed,)).fetchone() != (0,):
                assert time.monotonic() < deadline, "the backends did not end"
                time.sleep(0.05)
        pulled = hub.client.get(hub.api + "/pull", params={"cursor": 0}, headers=desk.headers)
        assert pulled.status_code == 200, pulled.text
        r = desk.post([people[2 + _round]])
        assert r.status_code == 200 and [x["status"] for x in r.json()["results"]] == ["applied"], r.text
    # idle for PING_IDLE_S (here: any time at all): pinged at checkout, as before
    monkeypatch.setattr(hub_db, "PING_IDLE_S", 0.0)
    trace = tmp_path / "idle.trace"
    listener = _trace_hub(hub, trace)
    try:
        assert hub.client.get(hub.api + "/pull", params={"cursor": 0}, headers=desk.headers).status_code == 200
        assert hub.client.get(hub.api + "/pull", params={"cursor": 0}, headers=desk.headers).status_code == 200
    finally:
        _untrace_hub(hub, listener)
    assert ";" in [q.strip().strip('"') for g in round_trips(trace.read_text()) for q in g]


@on_postgresql
def test_a_connection_a_push_began_by_hand_goes_back_to_the_pool_transactional(hub: Hub) -> None:
    """A push takes its connection in autocommit and sends BEGIN itself: the pool must hand
    that connection out again with transactions — a write that fails leaves nothing."""
    db = hub.db
    db.write_engine.dispose()
    desk = Desk.enroll(hub, "WAIT-T")
    person = desk.walk_in(new_cccd())
    req = PushRequest.model_validate(desk.body([person]))
    results, _ = process_push(db, desk.station_id, req, now="2026-12-01T02:00:00.000+00:00", skew_ms=5)
    assert [r.status for r in results] == ["applied"]
    assert db.write_engine.pool.checkedin() == 1  # the push's connection, the only one
    with pytest.raises(RuntimeError), db.write() as s:
        assert s.connection().connection.driver_connection.autocommit is False
        s.execute(text("UPDATE station SET name = 'rolled back' WHERE id = :s"), {"s": desk.station_id})
        raise RuntimeError("the write fails")
    assert hub.scalar("SELECT name FROM station WHERE id = :s", s=desk.station_id) != "rolled back"


@pytest.mark.parametrize("hub", ["sqlite", "postgresql"], indirect=True)
def test_a_skewed_station_is_flagged_once_on_both_backends(hub: Hub) -> None:
    """The clock skew measured on each push is stored with the station's contact; the first
    push beyond the tolerance opens one ``clock_skew`` review and flags the station; later
    pushes (skewed or not) open no other (PostgreSQL: the station row read by hand)."""
    from datetime import UTC, datetime, timedelta

    desk = Desk.enroll(hub, "WAIT-C")
    sid = desk.station_id

    def push(ahead: timedelta) -> None:
        body = desk.body([desk.walk_in(new_cccd())]) | {"sent_at": (datetime.now(UTC) + ahead).isoformat()}
        r = hub.client.post(hub.api + "/push", json=body, headers=desk.headers)
        assert r.status_code == 200 and r.json()["results"][0]["status"] == "applied", r.text

    push(timedelta(0))
    assert abs(hub.scalar("SELECT clock_skew_ms FROM station WHERE id = :s", s=sid)) < 60_000
    assert hub.scalar("SELECT skew_flagged FROM station WHERE id = :s", s=sid) == 0
    reviews = "SELECT count(*) FROM review_item WHERE kind = 'clock_skew' AND entity_id = :s"
    assert hub.scalar(reviews, s=sid) == 0
    for ahead in (timedelta(minutes=9), timedelta(minutes=12), timedelta(0)):
        push(ahead)
        assert hub.scalar(reviews, s=sid) == 1
        assert hub.scalar("SELECT skew_flagged FROM station WHERE id = :s", s=sid) == 1
    assert abs(hub.scalar("SELECT clock_skew_ms FROM station WHERE id = :s", s=sid)) < 60_000
    assert hub.scalar("SELECT next_op_seq FROM replica WHERE station_id = :s", s=sid) == desk.seq + 1
