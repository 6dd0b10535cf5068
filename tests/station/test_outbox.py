"""Every write to a synced table goes through a service and makes exactly one outbox op.

Random service workloads (valid and invalid calls mixed) on a real file: after
each call the outbox grew by exactly the number of intents the call reports,
domain rows changed only when an op was written, every op has its audit entry,
and the write guards refuse anything else.
"""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import text

from kernel.errors import StationError
from station.audit import verify_chain
from station.demo import fake_person
from station.dto import DoseInput, LotInput, PersonInput
from station.services import admin, clinical, people
from tests.station.helpers import ELIGIBLE_4355

SYNCED = ("person", "registration", "screening", "dose", "adverse_event", "vaccine_lot", "app_user", "person_redirect")


def snapshot(st) -> dict[str, int]:
    with st.read() as conn:
        out = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in SYNCED}
        out["ops"] = conn.execute(text("SELECT count(*) FROM sync_outbox")).scalar_one()
        out["audit_ops"] = conn.execute(text("SELECT count(*) FROM audit_log WHERE op_id IS NOT NULL")).scalar_one()
        # A cheap fingerprint of every synced row, to catch in-place updates too.
        out["fingerprint"] = hash(
            tuple(
                tuple(conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY 1").fetchall())
                for t in SYNCED
            )
        )
    return out


@pytest.mark.parametrize("seed", range(6))
def test_random_workload_one_op_per_intent(st, staff, lot_id, clock, seed: int) -> None:
    rng = random.Random(seed)
    today = st.today()
    persons: list[str] = []
    doses: list[str] = []

    def walk_in() -> int:
        data = fake_person(rng, today)
        if rng.random() < 0.25:  # some bad input
            data = PersonInput(full_name=rng.choice(["", "王", "Ab<c"]), birth="31/02/1990")
        res = people.register_walk_in(st, staff.volunteer, data)
        persons.append(res.person.id)
        return 1

    def expected() -> int:
        rows = [fake_person(rng, today) for _ in range(rng.randint(1, 4))]
        res = people.add_expected(st, staff.supervisor, rows, day=today + timedelta(days=1))
        return len(res)

    def screen() -> int:
        pid = rng.choice(persons)
        clinical.record_screening(st, staff.screener, pid, answers=ELIGIBLE_4355, outcome="eligible")
        return 1

    def dose() -> int:
        pid = rng.choice(persons)
        d = clinical.record_dose(st, staff.clerk, DoseInput(pid, lot_id, confirm=frozenset({"dose.interval_too_short", "dose.same_day"})))
        doses.append(d.id)
        return 1

    def void() -> int:
        clinical.void_dose(st, staff.supervisor, rng.choice(doses), rng.choice(["Nhập nhầm", ""]))
        return 1

    def update() -> int:
        people.update_person(st, staff.volunteer, rng.choice(persons), {"phone": rng.choice(["0901234567", "0987654321", "bad"])})
        return 1

    def lot() -> int:
        admin.upsert_lot(st, staff.supervisor, LotInput("AZ", f"L{rng.randint(1, 30)}", "30/12/2027", rng.randint(-5, 50)))
        return 1

    def ae() -> int:
        clinical.record_adverse_event(st, staff.clerk, rng.choice(doses), severity=rng.choice(["common", "bad"]), description="Sốt nhẹ")
        return 1

    def login() -> int:
        admin.login(st, "thuky", rng.choice(["mat-khau-123", "wrong-pass"]))
        return 0

    actions = [walk_in, walk_in, expected, screen, dose, void, update, lot, ae, login]
    succeeded = 0
    for _ in range(60):
        action = rng.choice(actions)
        if action in (screen, update, dose) and not persons:
            action = walk_in
        if action in (void, ae) and not doses:
            action = walk_in
        before = snapshot(st)
        try:
            intents = action()
        except StationError:
            after = snapshot(st)
            assert after == before, f"{action.__name__} failed but wrote something"
            continue
        succeeded += 1
        after = snapshot(st)
        assert after["ops"] - before["ops"] == intents, action.__name__
        assert after["audit_ops"] - before["audit_ops"] == intents
        if intents == 0:
            assert after["fingerprint"] == before["fingerprint"]
        else:
            assert after["fingerprint"] != before["fingerprint"]
        clock.advance(minutes=rng.randint(0, 20))
    assert succeeded > 15
    with st.read() as conn:
        assert verify_chain(conn).ok
        # op_seq is gap-free and HLCs strictly increase in op order.
        seqs = [r[0] for r in conn.execute(text("SELECT op_seq FROM sync_outbox ORDER BY op_seq"))]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        hlcs = [r[0] for r in conn.execute(text("SELECT hlc FROM sync_outbox ORDER BY op_seq"))]
        assert hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs)
        # Every domain row is covered by an op about it (or, for registrations, inside one).
        for table, etype in (("person", "person"), ("dose", "dose"), ("screening", "screening"), ("vaccine_lot", "vaccine_lot")):
            missing = conn.execute(
                text(f"SELECT count(*) FROM {table} t WHERE NOT EXISTS (SELECT 1 FROM sync_outbox o WHERE o.entity_type = :e AND o.entity_id = t.id)"),
                {"e": etype},
            ).scalar_one()
            assert missing == 0, table


def test_audit_chain_detects_tampering(st, staff) -> None:
    people.register_walk_in(st, staff.volunteer, fake_person(random.Random(1), st.today()))
    with st.read() as conn:
        assert verify_chain(conn).ok
    with st.engine.begin() as conn:
        conn.execute(text("UPDATE audit_log SET action = 'nothing' WHERE seq = 2"))
    with st.read() as conn:
        report = verify_chain(conn)
    assert not report.ok and report.first_bad_seq == 2


def test_two_open_stations_keep_one_chain(st, staff, clock) -> None:
    """The UI and a CLI command may have the same data directory open at once."""
    from station.store import open_station

    other = open_station(st.data_dir, clock=clock)
    try:
        rng = random.Random(3)
        for i in range(6):
            target = st if i % 2 == 0 else other
            people.register_walk_in(target, staff.volunteer, fake_person(rng, st.today()))
        with st.read() as conn:
            assert verify_chain(conn).ok
            hlcs = [r[0] for r in conn.execute(text("SELECT hlc FROM sync_outbox ORDER BY op_seq"))]
        assert hlcs == sorted(hlcs) and len(set(hlcs)) == len(hlcs)
    finally:
        other.close()



def test_inflight_marks_commit_without_fsync_and_leave_every_connection_full(st, staff) -> None:
    """``mark_inflight`` is bookkeeping the hub gives back (a resent op is answered
    "duplicate"), so its commit runs with ``synchronous=NORMAL``; the connection must go
    back to the pool FULL, or a later dose would be committed without its fsync."""
    from station import outbox

    rng = random.Random(5)
    for _ in range(3):
        people.register_walk_in(st, staff.volunteer, fake_person(rng, st.today()))
    ids = [o.op_id for o in outbox.next_batch(st, max_bytes=1 << 20, max_ops=50)]
    outbox.mark_inflight(st, ids)
    assert outbox.counts(st).inflight == len(ids) > 0
    with st.read() as conn:
        attempts = {r[0] for r in conn.execute(text("SELECT attempts FROM sync_outbox"))}
    assert attempts == {1}
    # Every pooled connection (several at once, so the one just used is among them) is
    # FULL (2) again.
    conns = [st.engine.connect() for _ in range(5)]
    try:
        modes = {c.exec_driver_sql("PRAGMA synchronous").scalar_one() for c in conns}
    finally:
        for c in conns:
            c.close()
    assert modes == {2}
