"""The daily tally the station sends before anything else in a sync cycle.

Per day, vaccine and lot: doses entered here (valid, ``source = 'site'``; doses
copied from paper certificates are history, not work done here), how many of
them the hub has not acknowledged yet, and how many it has. With this the hub
knows the true count even while records trickle in over a bad line (the Đồng
Nai gap between doses given and doses reported).

Counts only: no person data leaves through the tally.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text

from station.clock import iso, parse_iso, to_site_time
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


@dataclass(frozen=True, slots=True)
class Tally:
    generated_at: str
    rows: tuple[TallyLine, ...]
    outbox_pending: int
    oldest_pending_at: str | None
    oldest_pending_age_s: float | None


def compute(st: Station, *, days: int = DEFAULT_DAYS, now: datetime | None = None) -> Tally:
    """The tally over the last ``days`` days, plus any older day that still has pending doses.

    ``pending``: the dose's ``record_dose`` op is not answered yet.
    ``acknowledged``: the op was applied (or queued for review) by the hub, or
    already purged after acknowledgement. Doses whose op the hub refused are
    entered but neither pending nor acknowledged: that difference is what a
    supervisor must look at.
    """
    now = now or st.clock()
    since = (to_site_time(now) - timedelta(days=days)).date().isoformat()
    # The outbox is looked up through two IN-sets that SQLite materialises once
    # (with an index) per query: a LEFT JOIN on the unindexed entity_id scanned
    # the whole outbox for every dose, minutes at a few thousand doses.
    sql = text(
        """
        WITH pend AS (SELECT entity_id FROM sync_outbox
                      WHERE op_type = 'record_dose' AND state IN ('pending', 'inflight')),
             refused AS (SELECT entity_id FROM sync_outbox
                         WHERE op_type = 'record_dose' AND state = 'rejected')
        SELECT d.day, d.vaccine_code, d.lot_number,
               count(*) AS entered,
               sum(d.id IN pend) AS pending,
               sum(NOT (d.id IN pend) AND NOT (d.id IN refused)) AS acknowledged
        FROM dose d
        WHERE d.site_code = :site AND d.source = 'site' AND d.voided = 0
          AND (d.day >= :since OR d.id IN pend)
        GROUP BY d.day, d.vaccine_code, d.lot_number
        ORDER BY d.day DESC, d.vaccine_code, d.lot_number
        LIMIT :n
        """
    )
    with st.read() as conn:
        rows = conn.execute(sql, {"site": st.site_code, "since": since, "n": MAX_ROWS}).all()
        ob = conn.execute(
            text(
                "SELECT count(*), min(recorded_at) FROM sync_outbox "
                "WHERE state IN ('pending', 'inflight')"
            )
        ).one()
    oldest = None if ob[1] is None else str(ob[1])
    age = None
    if oldest is not None:
        age = max(0.0, (now - parse_iso(oldest)).total_seconds())
    lines = tuple(
        TallyLine(
            day=str(r[0]),
            vaccine_code=str(r[1]),
            lot_number=None if r[2] is None else str(r[2]),
            entered=int(r[3]),
            pending=int(r[4] or 0),
            acknowledged=int(r[5] or 0),
        )
        for r in rows
    )
    return Tally(
        generated_at=iso(now),
        rows=lines,
        outbox_pending=int(ob[0]),
        oldest_pending_at=oldest,
        oldest_pending_age_s=age,
    )


__all__ = ["DEFAULT_DAYS", "MAX_ROWS", "Tally", "TallyLine", "compute"]
