"""The daily tally's numbers, and the watchdog that reports a stalled queue."""

from __future__ import annotations

from station import answers, outbox, tally
from station.services import clinical
from sync.client import HubClient, HubUnreachable
from sync.engine import SyncEngine, SyncEvent, SyncSettings
from sync.protocol import Health, PullResponse, TallyResponse
from tests.sync.builders import walk_in_with_dose


def test_tally_counts_entered_pending_acknowledged(st, staff, lot_id, clock) -> None:
    doses = [walk_in_with_dose(st, staff, lot_id, id_number=f"0751850{i:05d}", phone=f"09123{i:05d}")[1] for i in range(4)]
    clinical.void_dose(st, staff.supervisor, doses[3], "Nhập nhầm người")
    ops = {o.entity_id: o for o in outbox.next_batch(st, max_bytes=10**9, max_ops=1000) if o.op_type == "record_dose"}
    answers.record_acks(st, [answers.Ack(ops[doses[0]].op_id, "applied", 5),
                            answers.Ack(ops[doses[1]].op_id, "rejected", None, "dose.x")], now=clock())
    clock.advance(minutes=5)
    t = tally.compute(st)
    assert len(t.rows) == 1
    r = t.rows[0]
    assert (r.day, r.vaccine_code, r.lot_number) == (st.today().isoformat(), "PFIZER", "FK0891")
    # 3 valid doses (one voided); one acknowledged, one refused (neither), one pending.
    assert (r.entered, r.pending, r.acknowledged) == (3, 1, 1)
    assert t.outbox_pending == outbox.counts(st).waiting and t.oldest_pending_age_s >= 300


class _BrokenPush(HubClient):
    """Health and tally answer; every push is a 5xx; pull returns nothing new."""

    def health(self) -> Health:
        return Health(hub_epoch="e", server_time="2026-12-01T02:00:00Z")

    def tally(self, req):  # type: ignore[no-untyped-def]
        return TallyResponse(accepted=True, server_time="2026-12-01T02:00:00Z")

    def push(self, req, *, read_timeout_s=None):  # type: ignore[no-untyped-def]
        raise HubUnreachable("hub.server_error", status=503)

    def pull(self, cursor: int, limit: int, replica_epoch: str | None = None) -> PullResponse:
        return PullResponse(changes=[], next_cursor=cursor, has_more=False, hub_epoch="e", head_seq=cursor)


def test_watchdog_flags_stall_while_online(st, staff, lot_id) -> None:
    walk_in_with_dose(st, staff, lot_id)
    events: list[SyncEvent] = []
    engine = SyncEngine(st, lambda: _BrokenPush("http://127.0.0.1:9", "t"), events=events.append,
                        settings=SyncSettings(seed=1, stall_cycles=3, max_transient_failures_per_cycle=2))
    reports = [engine.run_once() for _ in range(4)]
    assert all(r.online and not r.ok for r in reports)
    assert [r.stalled for r in reports] == [False, False, True, True]
    assert events[-1].stalled and events[-1].state == "error" and events[-1].last_error == "hub.server_error"
    # The ops are still there, unanswered, with the error code recorded.
    assert outbox.counts(st).pending == outbox.counts(st).waiting > 0
