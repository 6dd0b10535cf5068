"""What the station knows about its sync, read from its own database: one function, one DTO.

The outbox, the ``conflict`` mirror and ``sync_state`` are local, so the state of
sync is known even while no engine runs (a fresh install, a stopped hub). This is
the one place that reads it: the sync engine's events (``sync.engine``), the
window's status bar and Sync workspace (``ui/sync_local.py``) and ``tramtiem
doctor`` all show these numbers, so they can never disagree on what "waiting" or
"last sync" means.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from kernel.clock import parse_iso
from station.store import Station


@dataclass(frozen=True, slots=True)
class SyncStatus:
    """Counts by outbox state, the oldest unanswered op, the last good push and pull, open reviews."""

    pending: int  # never sent, or sent without a known outcome and put back
    inflight: int  # sent, outcome unknown
    acked: int  # applied or duplicate at the hub (kept for the retention window)
    rejected: int  # refused by the hub
    conflict: int  # delivered, and the hub queued a review item
    oldest_pending_at: str | None  # recorded_at of the first unanswered op (op_seq order)
    last_push_ok: str | None
    last_pull_ok: str | None
    open_reviews: int
    relay_accepted: int = 0  # the site hub holds them; the province has not answered
    site_hub_url: str | None = None
    last_relay_ok: str | None = None

    @property
    def waiting(self) -> int:
        """Ops the province has not answered yet (what "N chờ gửi" shows)."""
        return self.pending + self.inflight + self.relay_accepted

    @property
    def waiting_for_site_hub(self) -> int:
        """Ops no hub holds yet (what the site hub link still has to carry)."""
        return self.pending + self.inflight

    @property
    def last_success(self) -> str | None:
        """When a cycle last succeeded: both directions did; the older of the two is the honest figure."""
        if not self.last_push_ok or not self.last_pull_ok:
            return None
        return min(self.last_push_ok, self.last_pull_ok)

    def oldest_pending_age_s(self, now: datetime) -> float | None:
        """Seconds since the oldest unanswered op was recorded (None when nothing waits)."""
        if self.oldest_pending_at is None:
            return None
        return max(0.0, (now - parse_iso(self.oldest_pending_at)).total_seconds())


def query(conn: Connection) -> SyncStatus:
    """The status inside the caller's transaction (one consistent snapshot)."""
    states: dict[str, int] = {
        str(k): int(v) for k, v in conn.execute(text("SELECT state, count(*) FROM sync_outbox GROUP BY state"))
    }
    oldest = conn.execute(
        text(
            "SELECT recorded_at FROM sync_outbox "
            "WHERE state IN ('pending', 'inflight', 'relay_accepted') ORDER BY op_seq LIMIT 1"
        )
    ).scalar()
    ok = conn.execute(
        text("SELECT last_push_ok, last_pull_ok, site_hub_url, last_relay_ok FROM sync_state WHERE id = 1")
    ).first()
    reviews = conn.execute(text("SELECT count(*) FROM conflict WHERE status = 'open'")).scalar_one()
    return SyncStatus(
        pending=states.get("pending", 0),
        inflight=states.get("inflight", 0),
        acked=states.get("acked", 0),
        rejected=states.get("rejected", 0),
        conflict=states.get("conflict", 0),
        oldest_pending_at=None if oldest is None else str(oldest),
        last_push_ok=None if ok is None or not ok[0] else str(ok[0]),
        last_pull_ok=None if ok is None or not ok[1] else str(ok[1]),
        open_reviews=int(reviews),
        relay_accepted=states.get("relay_accepted", 0),
        site_hub_url=None if ok is None or not ok[2] else str(ok[2]),
        last_relay_ok=None if ok is None or not ok[3] else str(ok[3]),
    )


def read(st: Station) -> SyncStatus:
    """The status now, in one read transaction (any thread)."""
    with st.read() as conn:
        return query(conn)


__all__ = ["SyncStatus", "query", "read"]
