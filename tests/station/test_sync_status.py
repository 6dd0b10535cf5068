"""station.sync_status: the one reading of the station's sync state (status bar, Sync screen,
the engine's events, ``tramtiem doctor``), against a real station file."""

from __future__ import annotations

import json

from sqlalchemy import text

from station import answers, doctor, outbox, sync_status
from station.services import people
from tests.station.helpers import person


def _walk_ins(st, staff, n: int) -> None:
    for i in range(n):
        people.register_walk_in(st, staff.volunteer, person(id_number=f"0751860{i:05d}", phone=f"09124{i:05d}"))


def test_counts_oldest_last_success_and_reviews_in_one_reading(st, staff, clock) -> None:
    first = sync_status.read(st)
    assert first.last_success is None  # never synced
    _walk_ins(st, staff, 3)
    clock.advance(minutes=10)
    ops = outbox.next_batch(st, max_bytes=10**9, max_ops=1000)
    outbox.mark_inflight(st, [o.op_id for o in ops[:2]])
    answers.record_acks(st, [answers.Ack(ops[0].op_id, "applied", 1)], now=clock(), clock_skew_ms=0)
    answers.record_acks(st, [answers.Ack(ops[1].op_id, "rejected", None, "person.invalid")], now=clock())
    with st.sync_writer() as conn:
        conn.execute(text(
            "INSERT INTO conflict (id, kind, priority, entity_type, entity_id, status, candidates, created_at) "
            "VALUES ('rv-1', 'possible_duplicate_person', 'high', 'person', 'p', 'open', :c, :t)"),
            {"c": json.dumps({}), "t": "2026-12-01T09:00:00+07:00"})
    s = sync_status.read(st)
    assert (s.acked, s.rejected, s.conflict) == (1, 1, 0)
    assert len(ops) == first.waiting + 3
    assert s.waiting == len(ops) - 2 == s.pending + s.inflight
    assert s.waiting == outbox.counts(st).waiting
    # The oldest op still waiting, in op_seq order, recorded before the clock moved on 10 minutes.
    assert s.oldest_pending_at == outbox.oldest_pending_at(st)
    age = s.oldest_pending_age_s(clock())
    assert age is not None and age >= 600
    assert s.open_reviews == 1
    # A push alone is not a successful sync: both directions must have gone through.
    assert s.last_push_ok is not None and s.last_pull_ok is None and s.last_success is None


def test_last_success_is_the_older_of_push_and_pull(st) -> None:
    with st.sync_writer() as conn:
        conn.execute(text("UPDATE sync_state SET last_push_ok = :p, last_pull_ok = :q WHERE id = 1"),
                     {"p": "2026-12-01T09:05:00+07:00", "q": "2026-12-01T09:01:00+07:00"})
    assert sync_status.read(st).last_success == "2026-12-01T09:01:00+07:00"


def test_doctor_shows_the_same_numbers(st, staff) -> None:
    _walk_ins(st, staff, 2)
    s = sync_status.read(st)
    ob = doctor.diagnose(st)["outbox"]
    assert (ob["pending"], ob["acked"], ob["rejected"], ob["conflict"], ob["oldest_pending_at"]) == (
        s.waiting, s.acked, s.rejected, s.conflict, s.oldest_pending_at)
