"""The tally reads the unanswered ops once (issue 15, phase 7): the same figures as the
query it replaced, on a real station with every kind of op state and day.

The old query (kept here as the reference) read every unanswered op's outbox row once per
use of an IN-set, plus a second statement for the outbox count: ~0.13 s of a sync's start
with 16,118 ops waiting (bench peer).
"""

from __future__ import annotations

from station import answers, outbox, tally
from station.services import clinical
from tests.sync.builders import walk_in_with_dose

# station/tally.py's query before phase 7, and its outbox statement.
OLD_SQL = (
    """
    WITH pend AS (SELECT entity_id FROM sync_outbox
                  WHERE op_type = 'record_dose' AND state IN ('pending', 'inflight', 'relay_accepted')),
         refused AS (SELECT entity_id FROM sync_outbox
                     WHERE op_type = 'record_dose' AND state = 'rejected'),
         vpend AS (SELECT entity_id FROM sync_outbox
                   WHERE op_type = 'void_dose' AND state IN ('pending', 'inflight', 'relay_accepted')),
         wdays AS (SELECT DISTINCT day FROM dose
                   WHERE id IN (SELECT entity_id FROM pend) OR id IN (SELECT entity_id FROM vpend))
    SELECT day, vaccine_code, lot_number,
           sum(own AND voided = 0) AS entered,
           sum(own AND voided = 0 AND waits) AS pending,
           sum(own AND voided = 0 AND NOT waits AND NOT refused) AS acknowledged,
           sum(own) AS all_entered,
           sum(own AND waits) AS all_pending,
           sum(own AND NOT waits AND NOT refused) AS all_acknowledged,
           sum(voided = 1 AND void_waits AND NOT waits) AS voids_unsent
    FROM (
        SELECT d.day, d.vaccine_code, d.lot_number, d.voided,
               coalesce(d.origin_station = :me, 0) AS own,
               d.id IN pend AS waits,
               d.id IN refused AS refused,
               d.id IN vpend AS void_waits
        FROM dose d
        WHERE d.site_code = :site AND d.source = 'site'
          AND (d.day >= :since OR d.day IN wdays)
    )
    WHERE own OR void_waits
    GROUP BY day, vaccine_code, lot_number
    ORDER BY day DESC, vaccine_code, lot_number
    LIMIT :n
    """
)
OLD_OUTBOX = (
    "SELECT count(*), min(recorded_at) FROM sync_outbox "
    "WHERE state IN ('pending', 'inflight', 'relay_accepted')"
)


def _old(st, days: int = tally.DEFAULT_DAYS) -> tuple[list[tuple[object, ...]], tuple[object, ...]]:
    from datetime import timedelta

    from kernel.clock import to_site_time

    since = (to_site_time(st.clock()) - timedelta(days=days)).date().isoformat()
    params = {"site": st.site_code, "me": st.install_id, "since": since, "n": tally.MAX_ROWS}
    with st.read_raw() as raw:
        return raw.execute(OLD_SQL, params).fetchall(), raw.execute(OLD_OUTBOX).fetchone()


def _same(st, days: int = tally.DEFAULT_DAYS) -> tally.Tally:
    t = tally.compute(st, days=days)
    rows, ob = _old(st, days)
    assert [
        (r.day, r.vaccine_code, r.lot_number, r.entered, r.pending, r.acknowledged, r.all_entered,
         r.all_pending, r.all_acknowledged, r.voids_unsent)
        for r in t.rows
    ] == [tuple(r) for r in rows]
    assert (t.outbox_pending, t.oldest_pending_at) == (ob[0], ob[1])
    return t


def test_the_tally_says_what_the_old_query_said(st, staff, lot_id, clock) -> None:
    t = _same(st)  # nothing entered: no row, the users' ops waiting
    assert t.rows == () and t.outbox_pending > 0
    doses = []
    for i in range(6):
        doses.append(walk_in_with_dose(st, staff, lot_id, id_number=f"0751850{i:05d}", phone=f"09123{i:05d}")[1])
        if i == 2:
            clock.advance(days=1)  # two days of doses
    clinical.void_dose(st, staff.supervisor, doses[3], "Nhập nhầm người")
    _same(st)
    ops = {o.entity_id: o for o in outbox.next_batch(st, max_bytes=10**9, max_ops=1000)}
    answers.record_acks(st, [answers.Ack(ops[doses[0]].op_id, "applied", 5),
                            answers.Ack(ops[doses[1]].op_id, "rejected", None, "dose.x"),
                            answers.Ack(ops[doses[4]].op_id, "duplicate", 6),
                            answers.Ack(ops[doses[5]].op_id, "conflict_queued", 7)], now=clock())
    # A void of an answered dose, still waiting: counted in voids_unsent.
    clinical.void_dose(st, staff.supervisor, doses[0], "Nhập nhầm người")
    t = _same(st)
    assert sum(r.voids_unsent for r in t.rows) == 1 and len(t.rows) == 2
    clock.advance(days=45)  # past the window: only the days with something waiting stay
    t = _same(st)
    assert t.rows and t.oldest_pending_age_s is not None
    _same(st, days=0)
    # Everything answered: no op waits, the days past the window drop out, the count is 0.
    rest = [answers.Ack(o.op_id, "applied", 9) for o in outbox.next_batch(st, max_bytes=10**9, max_ops=1000)]
    answers.record_acks(st, rest, now=clock())
    t = _same(st)
    assert (t.rows, t.outbox_pending, t.oldest_pending_at) == ((), 0, None)
    t = _same(st, days=60)
    assert len(t.rows) == 2 and t.outbox_pending == 0


def test_the_tally_reads_the_unanswered_ops_once(st, staff, lot_id) -> None:
    """One statement for the figures and the outbox count, reading the unanswered ops' rows once
    (the refused doses' look-up aside): before, three reads of them and a second statement."""
    walk_in_with_dose(st, staff, lot_id)
    params = {"site": st.site_code, "me": st.install_id, "since": "2000-01-01", "n": tally.MAX_ROWS}
    with st.read_raw() as raw:
        plan = [str(r[3]) for r in raw.execute("EXPLAIN QUERY PLAN " + tally._SQL, params)]
    reads = [p for p in plan if p.startswith(("SEARCH sync_outbox", "SCAN sync_outbox"))]
    # ``waiting`` (the unanswered ops, materialised once) and ``refused``.
    assert len(reads) == 2, plan
    assert "MATERIALIZE waiting" in plan, plan
    # ... and the count comes with the figures: compute runs no statement of its own for it.
    assert "sync_outbox" not in tally.compute.__code__.co_consts.__repr__()
