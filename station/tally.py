"""The daily tally the station sends before anything else in a sync cycle.

Per day, vaccine and lot, counted over the doses **this station entered**
(``dose.origin_station`` = its install id), never the siblings' doses it pulled:
three laptops at one site each hold all the site's doses, and a tally of
"every dose of my site I hold" multiplied the site's "given" by three. Doses
copied from paper certificates (``source = 'history'``) are history, not work
done here, and are left out too.

Counts only: no person data leaves through the tally. What each number means
(the hub's arithmetic is in ``hub/counters.py``):

* ``entered`` / ``pending`` / ``acknowledged``: valid (not voided) doses; of
  them, those whose ``record_dose`` op the hub has not answered yet, and those
  it accepted (applied, duplicate, queued for review, or purged after that).
  Doses whose op the hub refused are entered but neither: a supervisor's list.
* ``all_entered`` / ``all_pending`` / ``all_acknowledged``: the same with voided
  doses included. Doses are never deleted, so these only grow; the hub compares
  them with what it holds from this station (``all_entered`` minus held is what
  has not reached it, whatever the answers said; acknowledged ≤ held ≤
  acknowledged + pending is its cross-check).
* ``voids_unsent``: doses of this site (anyone's) that this station voided and
  whose ``void_dose`` op the hub has not answered, while the hub holds the dose
  (it is not itself waiting here): the hub still counts them as valid.

A day is counted whole: the last ``days`` days, plus any older day that still
has a dose or a void waiting here (all of that day's doses, so the hub can
subtract what it holds for the day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from kernel.clock import iso, parse_iso, to_site_time
from station.store import Station

DEFAULT_DAYS = 30
MAX_ROWS = 5000  # the wire limit (sync.protocol.TallyRequest.rows)


@dataclass(frozen=True, slots=True)
class TallyLine:
    day: str
    vaccine_code: str
    lot_number: str | None
    entered: int
    pending: int
    acknowledged: int
    all_entered: int = 0
    all_pending: int = 0
    all_acknowledged: int = 0
    voids_unsent: int = 0


@dataclass(frozen=True, slots=True)
class Tally:
    generated_at: str
    rows: tuple[TallyLine, ...]
    outbox_pending: int
    oldest_pending_at: str | None
    oldest_pending_age_s: float | None
    replica_epoch: str | None = None


# The outbox is looked up through IN-sets that SQLite materialises once (with an
# index) per query: a LEFT JOIN on the unindexed entity_id scanned the whole
# outbox for every dose, minutes at a few thousand doses. The unanswered ops are read
# from the outbox once (``waiting``, materialised): the IN-sets, the day list and the
# outbox's count and oldest op all come from it. Before, each use of an IN-set read the
# outbox rows again (SQLite copies the inner query's columns into every ``sum``), and
# the count was a statement of its own: ~4 reads of every unanswered op's row, ~0.13 s
# of a sync's start with 16,118 ops waiting (issue 15). One row per group, or one row
# with ``has_row`` 0 when there is no group: the count and oldest op on every row.
_SQL = (
    """
    WITH waiting AS MATERIALIZED (
             SELECT op_type, entity_id, recorded_at FROM sync_outbox
             WHERE state IN ('pending', 'inflight', 'relay_accepted')),
         pend AS (SELECT entity_id FROM waiting WHERE op_type = 'record_dose'),
         refused AS (SELECT entity_id FROM sync_outbox
                     WHERE op_type = 'record_dose' AND state = 'rejected'),
         vpend AS (SELECT entity_id FROM waiting WHERE op_type = 'void_dose'),
         wdays AS (SELECT DISTINCT day FROM dose
                   WHERE id IN (SELECT entity_id FROM pend) OR id IN (SELECT entity_id FROM vpend)),
         marked AS MATERIALIZED (
             SELECT d.day, d.vaccine_code, d.lot_number, d.voided,
                    coalesce(d.origin_station = :me, 0) AS own,
                    d.id IN pend AS waits,
                    d.id IN refused AS refused,
                    d.id IN vpend AS void_waits
             FROM dose d
             WHERE d.site_code = :site AND d.source = 'site'
               AND (d.day >= :since OR d.day IN wdays)),
         grouped AS (
             SELECT day, vaccine_code, lot_number,
                    sum(own AND voided = 0) AS entered,
                    sum(own AND voided = 0 AND waits) AS pending,
                    sum(own AND voided = 0 AND NOT waits AND NOT refused) AS acknowledged,
                    sum(own) AS all_entered,
                    sum(own AND waits) AS all_pending,
                    sum(own AND NOT waits AND NOT refused) AS all_acknowledged,
                    sum(voided = 1 AND void_waits AND NOT waits) AS voids_unsent,
                    1 AS has_row
             FROM marked
             WHERE own OR void_waits
             GROUP BY day, vaccine_code, lot_number
             ORDER BY day DESC, vaccine_code, lot_number
             LIMIT :n),
         ob AS (SELECT count(*) AS n, min(recorded_at) AS oldest FROM waiting)
    SELECT g.day, g.vaccine_code, g.lot_number, g.entered, g.pending, g.acknowledged,
           g.all_entered, g.all_pending, g.all_acknowledged, g.voids_unsent,
           coalesce(g.has_row, 0), ob.n, ob.oldest
    FROM ob LEFT JOIN grouped g ON 1
    ORDER BY g.day DESC, g.vaccine_code, g.lot_number
    """
)


def compute(st: Station, *, days: int = DEFAULT_DAYS, now: datetime | None = None) -> Tally:
    """The tally over the last ``days`` days, plus every older day with something waiting."""
    now = now or st.clock()
    since = (to_site_time(now) - timedelta(days=days)).date().isoformat()
    params = {"site": st.site_code, "me": st.install_id, "since": since, "n": MAX_ROWS}
    # On a raw connection (named parameters are SQLite's own): the tally goes first in
    # every cycle, also one that never loads SQLAlchemy (issue 15, no-op start).
    with st.read_raw() as raw:
        got = raw.execute(_SQL, params).fetchall()
        row = raw.execute("SELECT replica_epoch FROM sync_state WHERE id = 1").fetchone()
        epoch = None if row is None else row[0]
    rows = [r for r in got if r[10]]
    ob = (got[0][11], got[0][12])  # the LEFT JOIN from one row: at least one row
    oldest = None if ob[1] is None else str(ob[1])
    age = None
    if oldest is not None:
        age = max(0.0, (now - parse_iso(oldest)).total_seconds())
    lines = tuple(
        TallyLine(
            day=str(r[0]),
            vaccine_code=str(r[1]),
            lot_number=None if r[2] is None else str(r[2]),
            entered=int(r[3] or 0),
            pending=int(r[4] or 0),
            acknowledged=int(r[5] or 0),
            all_entered=int(r[6] or 0),
            all_pending=int(r[7] or 0),
            all_acknowledged=int(r[8] or 0),
            voids_unsent=int(r[9] or 0),
        )
        for r in rows
    )
    return Tally(
        generated_at=iso(now),
        rows=lines,
        outbox_pending=int(ob[0]),
        oldest_pending_at=oldest,
        oldest_pending_age_s=age,
        replica_epoch=None if epoch is None else str(epoch),
    )


def wire_rows(t: Tally) -> list[dict[str, object]]:
    """The rows as the protocol's ``TallyRow`` fields (the engine and bundles send these)."""
    return [
        {
            "day": r.day,
            "vaccine_code": r.vaccine_code,
            "lot_number": r.lot_number,
            "entered": r.entered,
            "pending": r.pending,
            "acknowledged": r.acknowledged,
            "all_entered": r.all_entered,
            "all_pending": r.all_pending,
            "all_acknowledged": r.all_acknowledged,
            "voids_unsent": r.voids_unsent,
        }
        for r in t.rows
    ]


__all__ = ["DEFAULT_DAYS", "MAX_ROWS", "Tally", "TallyLine", "compute", "wire_rows"]
