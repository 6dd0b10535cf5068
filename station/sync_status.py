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
from typing import TYPE_CHECKING, Any, Literal

from kernel.clock import parse_iso
from station.db import RawConnection, as_raw
from station.store import Station

if TYPE_CHECKING:
    from sqlalchemy import Connection

SiteHubSource = Literal["typed", "discovered"]
# meta key the discovery writes beside ``sync_state.site_hub_url`` (absent: typed).
SITE_HUB_FOUND_BY_KEY = "site_hub_found_by"


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
    # How the site hub's address came: "typed" by IT staff (``tramtiem site-hub set``) or
    # "discovered" on the LAN (mDNS, sync.discovery); None without a site hub.
    site_hub_found_by: SiteHubSource | None = None

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


def _scalar(raw: RawConnection, sql: str, params: tuple[object, ...] = ()) -> Any:
    row = raw.execute(sql, params).fetchone()
    return None if row is None else row[0]


def query(conn: Connection | RawConnection) -> SyncStatus:
    """The status inside the caller's transaction (one consistent snapshot).

    On the raw connection (a SQLAlchemy one gives its own): the sync engine reads it at
    every event, also in a cycle that loads no SQLAlchemy (issue 15)."""
    raw = as_raw(conn)
    states: dict[str, int] = {
        str(k): int(v) for k, v in raw.execute("SELECT state, count(*) FROM sync_outbox GROUP BY state")
    }
    oldest = _scalar(
        raw,
        "SELECT recorded_at FROM sync_outbox "
        "WHERE state IN ('pending', 'inflight', 'relay_accepted') ORDER BY op_seq LIMIT 1",
    )
    ok = raw.execute(
        "SELECT last_push_ok, last_pull_ok, site_hub_url, last_relay_ok FROM sync_state WHERE id = 1"
    ).fetchone()
    reviews = _scalar(raw, "SELECT count(*) FROM conflict WHERE status = 'open'")
    site_hub_url = None if ok is None or not ok[2] else str(ok[2])
    found_by: SiteHubSource | None = None
    if site_hub_url is not None:
        how = _scalar(raw, "SELECT value FROM meta WHERE key = ?", (SITE_HUB_FOUND_BY_KEY,))
        # `site-hub set auto`: the desk browses the LAN for its site hub (sync.site_route).
        found_by = "discovered" if how == "discovered" or site_hub_url == "auto" else "typed"
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
        site_hub_url=site_hub_url,
        last_relay_ok=None if ok is None or not ok[3] else str(ok[3]),
        site_hub_found_by=found_by,
    )


# ---- the two links (site hub, province) as the status bar and the Sync workspace show them ----

# A route's line as its sync engine last reported it (ui.bridge.LineState's values).
LineState = Literal["unknown", "unconfigured", "online", "offline", "syncing", "error", "certificate"]
_REACHABLE: dict[str, bool | None] = {
    "online": True, "syncing": True, "offline": False, "error": True, "certificate": False,
}


@dataclass(frozen=True, slots=True)
class LinkStatus:
    """One link: can this desk reach it, and what still has to go over it."""

    route: Literal["site_hub", "province"]
    line: LineState
    # True: it answered at the last attempt; False: it did not; None: not known yet.
    reachable: bool | None
    # site_hub: ops no hub holds yet (they go to the site hub first);
    # province: ops the site hub holds that the province has not answered yet
    # (without a site hub: every op the province has not answered).
    waiting: int
    oldest_waiting_at: str | None  # the province link: the oldest op it has not answered
    last_ok: str | None  # the last good pull over this link


@dataclass(frozen=True, slots=True)
class Links:
    """Both links of a desk; ``site_hub`` is None when the desk has no site hub address."""

    province: LinkStatus
    site_hub: LinkStatus | None
    total_waiting: int  # everything the province has not answered (= "N chờ gửi")
    site_hub_url: str | None
    site_hub_found_by: SiteHubSource | None


def links(status: SyncStatus, *, province_line: LineState, site_hub_line: LineState = "unknown") -> Links:
    """The desk's links from its stored status and each route's last line state.

    The waiting counts add up: ops not yet at the site hub plus ops held there for the
    province is everything the province has not answered.
    """
    site: LinkStatus | None = None
    if status.site_hub_url:
        site = LinkStatus(
            route="site_hub", line=site_hub_line, reachable=_REACHABLE.get(site_hub_line),
            waiting=status.waiting_for_site_hub, oldest_waiting_at=None, last_ok=status.last_relay_ok,
        )
    province = LinkStatus(
        route="province", line=province_line, reachable=_REACHABLE.get(province_line),
        waiting=status.relay_accepted if site is not None else status.waiting,
        oldest_waiting_at=status.oldest_pending_at, last_ok=status.last_pull_ok,
    )
    return Links(province, site, status.waiting, status.site_hub_url, status.site_hub_found_by)


def read(st: Station) -> SyncStatus:
    """The status now, in one read transaction (any thread)."""
    with st.read_raw() as raw:
        return query(raw)


__all__ = [
    "SITE_HUB_FOUND_BY_KEY",
    "LineState",
    "LinkStatus",
    "Links",
    "SiteHubSource",
    "SyncStatus",
    "links",
    "query",
    "read",
]
