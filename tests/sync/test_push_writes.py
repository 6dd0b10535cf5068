"""Each outbox row is written once per send (issue 15, phase 5), over real HTTP to a real hub.

The push used to mark every op ``inflight`` as it sent it, then write the same row again
with the answer. Now the answer's UPDATE alone records the outcome and counts the
attempt; an op whose answer is lost stays ``pending`` and goes again, answered
``duplicate`` by the hub's ledger.
"""

from __future__ import annotations

from unittest import mock

import pytest
from sqlalchemy import text

import sync.engine as engine_mod
from station import outbox
from station.store import Station
from tests.sync.test_engine_http import enroll, hub, make_engine, vaccinate  # noqa: F401 (fixture)


def _outbox(st: Station) -> dict[str, tuple[str, int]]:
    with st.read() as conn:
        return {str(r[0]): (str(r[1]), int(r[2]))
                for r in conn.execute(text("SELECT op_id, state, attempts FROM sync_outbox"))}


def _count_outbox_writes(st: Station) -> None:
    """A table counting UPDATEs of outbox rows, filled by a trigger (the test's own)."""
    with st.engine.begin() as conn:
        conn.execute(text("CREATE TABLE t_outbox_writes (op_id TEXT)"))
        conn.execute(text(
            "CREATE TRIGGER t_outbox_w AFTER UPDATE ON sync_outbox "
            "BEGIN INSERT INTO t_outbox_writes VALUES (new.op_id); END"
        ))


class _LostAnswer(Exception):
    pass


def test_a_push_writes_each_outbox_row_once_and_counts_one_attempt(hub, st, staff, lot_id) -> None:  # noqa: F811
    token = enroll(hub, st)
    vaccinate(st, staff, lot_id, 5)
    waiting = outbox.counts(st).waiting
    _count_outbox_writes(st)
    rep = make_engine(st, hub.running.url, token, batch_ops_max=4).run_once()
    assert rep.ok and rep.pending_left == 0 and rep.batches >= 3
    rows = _outbox(st)
    assert len(rows) == waiting and set(rows.values()) == {("acked", 1)}
    with st.read() as conn:
        writes = conn.execute(text("SELECT op_id, count(*) FROM t_outbox_writes GROUP BY op_id")).all()
    assert len(writes) == waiting and {int(n) for _, n in writes} == {1}  # was 2: inflight, answered


def test_an_op_whose_answer_is_lost_stays_pending_and_goes_again_as_a_duplicate(
    hub, st, staff, lot_id  # noqa: F811
) -> None:
    token = enroll(hub, st)
    vaccinate(st, staff, lot_id, 3)
    waiting = outbox.counts(st).waiting
    eng = make_engine(st, hub.running.url, token)

    def crash(name: str) -> None:
        if name == "after_push_send_before_ack_commit":
            raise _LostAnswer

    with mock.patch.object(engine_mod, "crash_point", crash), pytest.raises(_LostAnswer):
        eng.run_once()
    # The hub applied the batch; the station never heard: unanswered, no attempt counted.
    assert hub.scalar("SELECT count(*) FROM applied_op") == waiting
    assert set(_outbox(st).values()) == {("pending", 0)}
    assert outbox.counts(st).waiting == waiting
    rep = eng.run_once()
    assert rep.ok and rep.duplicate == waiting and rep.pushed == 0
    assert set(_outbox(st).values()) == {("acked", 1)}
    assert hub.scalar("SELECT count(*) FROM applied_op") == waiting
