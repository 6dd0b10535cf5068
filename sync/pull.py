"""The pull phase of a sync cycle: pull pages to the hub's head, each applied with its cursor.

While a page is applied, the next one is already being fetched (reads only: it
is used only if the stored cursor and replica are still the ones it was asked
for, otherwise fetched again). A new ``hub_epoch`` resets the cursor to 0 and
pulls again, once per cycle. Bounded in pages and time.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from typing import TYPE_CHECKING

from station import syncstate
from station.store import Station
from sync.client import HubClient
from sync.lean import MAX_PULL_LIMIT, EmptyPage
from sync.report import CycleAbort, SyncReport

if TYPE_CHECKING:
    from sync.protocol import PullResponse

def own_doses(st: Station, page: PullResponse | EmptyPage) -> int:
    """Doses in ``page`` this station entered (a restored backup pulling its own back)."""
    me = st.install_id
    return sum(1 for c in page.changes if c.entity_type == "dose" and c.data.get("origin_station") == me)


def _apply(
    st: Station, page: PullResponse | EmptyPage, cursor: int, hook: Callable[[str], None], route: str
) -> syncstate.ApplyReport:
    """``replica.apply_page``; a page with no changes while nothing is parked (the page that
    ends almost every cycle) is applied by ``syncstate.apply_empty_page``, the same steps
    without loading the replica's row writers (issue 15, no-op start)."""
    res = syncstate.apply_empty_page(st, page, from_cursor=cursor, hook=hook, route=route)
    if res is not None:
        return res
    from station import replica

    return replica.apply_page(st, page, from_cursor=cursor, hook=hook, route=route)


def pull_to_head(
    st: Station,
    client: HubClient,
    report: SyncReport,
    *,
    pull_limit: int,
    max_pages: int,
    go_on: Callable[[], bool],
    progress: Callable[[int, int], None],
    hook: Callable[[str], None],
    route: str = "province",
) -> None:
    """Pull until ``has_more`` is false (see the module docstring); ``route``: whose cursor."""
    limit = max(1, min(pull_limit, MAX_PULL_LIMIT))
    refetches = 0
    pool = ThreadPoolExecutor(1, thread_name_prefix="tramtiem-pull")
    ahead: tuple[int, str, Future[PullResponse | EmptyPage]] | None = None
    try:
        for _ in range(max_pages):
            if not go_on():
                return
            state = st.sync_state()
            cursor = syncstate.cursor_of(state, route)
            # Naming our replica lets the hub leave out rows we pushed ourselves (no_echo).
            epoch = str(state["replica_epoch"])
            if ahead is not None and ahead[:2] == (cursor, epoch):
                page = ahead[2].result()
            else:
                if ahead is not None:
                    # One request at a time on the client: let the stale fetch end first.
                    with suppress(Exception):
                        ahead[2].result()
                page = client.pull(cursor, limit, replica_epoch=epoch)
            ahead = None
            if page.has_more:
                ahead = (page.next_cursor, epoch, pool.submit(client.pull, page.next_cursor, limit, epoch))
            try:
                res = _apply(st, page, cursor, hook, route)
            except syncstate.MustRefetch as exc:
                refetches += 1
                if refetches > 1:
                    raise CycleAbort("pull.refetch_loop") from None
                from station import replica

                replica.reset_for_refetch(st, exc.hub_epoch, route)
                report.refetched = True
                continue
            except syncstate.StaleCursor:
                continue
            report.pull_pages += 1
            report.pulled += res.applied + res.redirects + res.reviews
            report.own_pulled += own_doses(st, page)
            report.parked += res.parked
            progress(res.next_cursor, page.head_seq)
            if not page.has_more:
                return
    finally:
        # A fetch still running is waited for (bounded by the client's timeouts);
        # its page, or its error, is dropped.
        pool.shutdown(wait=True)


__all__ = ["own_doses", "pull_to_head"]
