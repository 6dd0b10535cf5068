"""The station-side outbox API: batches by bytes, answers in one transaction, retention."""

from __future__ import annotations

from sqlalchemy import text

from station import answers, outbox
from station.services import people
from tests.station.helpers import person


def _walk_ins(st, staff, n: int) -> list[str]:
    ids = []
    for i in range(n):
        res = people.register_walk_in(
            st, staff.volunteer, person(id_number=f"0751850{i:05d}", phone=f"09123{i:05d}")
        )
        ids.append(res.op_id)
    return ids


def test_batches_in_op_seq_order_sized_by_bytes(st, staff) -> None:
    _walk_ins(st, staff, 6)
    everything = outbox.next_batch(st, max_bytes=10**9, max_ops=1000)
    seqs = [o.op_seq for o in everything]
    assert seqs == sorted(seqs) and len(seqs) == outbox.counts(st).waiting
    size = everything[0].size
    assert size > 100
    small = outbox.next_batch(st, max_bytes=size * 2 + 1, max_ops=1000)
    assert 1 <= len(small) <= 3 and [o.op_seq for o in small] == seqs[: len(small)]
    # A single op larger than the budget still goes (alone): the queue never wedges on size.
    assert len(outbox.next_batch(st, max_bytes=1, max_ops=1000)) == 1
    assert len(outbox.next_batch(st, max_bytes=10**9, max_ops=2)) == 2
    wire = everything[0].wire()
    assert set(wire) >= {"op_id", "op_seq", "op_type", "payload", "hlc", "recorded_at"}


def test_answers_recorded_by_state_and_queue_moves_on(st, staff, clock) -> None:
    before = outbox.counts(st).waiting
    _walk_ins(st, staff, 3)
    ops = outbox.next_batch(st, max_bytes=10**9, max_ops=1000)
    outbox.mark_inflight(st, [o.op_id for o in ops])
    assert outbox.counts(st).inflight == len(ops)
    a, b, c = ops[-3:]
    acks = [
        answers.Ack(a.op_id, "applied", 101),
        answers.Ack(b.op_id, "rejected", None, "person.invalid"),
        answers.Ack(c.op_id, "conflict_queued", 103, "person.possible_duplicate"),
        answers.Ack("00000000-0000-7000-8000-000000000000", "applied", 5),
    ]
    summary = answers.record_acks(st, acks, now=clock(), clock_skew_ms=1234)
    assert (summary.acked, summary.rejected, summary.conflict, summary.unknown) == (1, 1, 1, 1)
    counts = outbox.counts(st)
    assert counts.acked == 1 and counts.rejected == 1 and counts.conflict == 1
    assert counts.waiting == before == len(ops) - 3
    rej = outbox.rejected(st)
    assert [r.op_id for r in rej] == [b.op_id] and rej[0].reason == "person.invalid"
    assert rej[0].attempts == 1
    with st.read() as conn:
        seq = conn.execute(text("SELECT ack_server_seq FROM sync_outbox WHERE op_id = :i"), {"i": a.op_id}).scalar()
    assert seq == 101
    s = st.sync_state()
    assert s["clock_skew_ms"] == 1234 and s["last_push_ok"]
    # The unanswered ops are still next, rejected/conflict ones are not resent.
    nxt = outbox.next_batch(st, max_bytes=10**9, max_ops=1000)
    assert {o.op_id for o in nxt}.isdisjoint({a.op_id, b.op_id, c.op_id})


def test_mark_error_puts_inflight_back_and_keeps_ids(st, staff) -> None:
    _walk_ins(st, staff, 2)
    ops = outbox.next_batch(st, max_bytes=10**9, max_ops=1000)
    outbox.mark_inflight(st, [o.op_id for o in ops])
    outbox.mark_error(st, [o.op_id for o in ops], "hub.timeout")
    again = outbox.next_batch(st, max_bytes=10**9, max_ops=1000)
    assert [o.op_id for o in again] == [o.op_id for o in ops]
    assert all(o.state == "pending" and o.attempts == 1 for o in again)


def test_gap_resend_includes_answered_ops(st, staff, clock) -> None:
    _walk_ins(st, staff, 3)
    ops = outbox.next_batch(st, max_bytes=10**9, max_ops=1000)
    answers.record_acks(st, [answers.Ack(o.op_id, "applied", 10 + i) for i, o in enumerate(ops[:-1])], now=clock())
    assert outbox.first_unanswered_seq(st) == ops[-1].op_seq
    resend = outbox.next_batch(st, max_bytes=10**9, max_ops=1000, from_seq=ops[1].op_seq)
    assert [o.op_seq for o in resend] == [o.op_seq for o in ops[1:]]


def test_oldest_pending_age_and_retention_purge(st, staff, clock) -> None:
    _walk_ins(st, staff, 2)
    clock.advance(minutes=10)
    age = outbox.oldest_pending_age_s(st)
    assert age is not None and 590 <= age <= 610
    ops = outbox.next_batch(st, max_bytes=10**9, max_ops=1000)
    answers.record_acks(st, [answers.Ack(o.op_id, "duplicate", 7) for o in ops[:-1]], now=clock())
    answers.record_acks(st, [answers.Ack(ops[-1].op_id, "rejected", None, "x.y")], now=clock())
    assert outbox.oldest_pending_age_s(st) is None
    assert outbox.purge_acked(st, older_than_days=30) == 0  # inside the window
    clock.advance(days=31)
    assert outbox.purge_acked(st, older_than_days=30) == len(ops) - 1
    counts = outbox.counts(st)
    assert counts.acked == 0 and counts.rejected == 1  # refused ops stay for the supervisor
