"""The sync bookkeeping a cycle with nothing to apply reads and writes, without SQLAlchemy.

Part of ``station.replica`` (which re-exports all of it), kept apart so that ``tramtiem
sync`` with nothing to send or pull never loads the replica's row writers, nor
SQLAlchemy (issue 15, no-op start): the route's cursor columns, whether a pulled page
may be applied on the stored cursor, an empty page's cursor advance, and the station's
``meta`` values. Everything runs on the station's raw connections (``Station.read_raw``
and ``Station.sync_writer_raw``), or inside a caller's transaction
(``station.db.as_raw``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from kernel.clock import iso
from station.db import RawConnection, as_raw

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from station.held_changes import ChangeLike
    from station.store import Station, SyncStateRow

# The columns of ``sync_state`` each route pulls with: cursor, hub epoch, last good pull.
ROUTE_COLUMNS = {
    "province": ("pull_cursor", "hub_epoch", "last_pull_ok"),
    "site_hub": ("relay_cursor", "relay_hub_epoch", "last_relay_ok"),
}

# The site's name as the hub knows it (from enrollment): slips, reports, the status bar.
SITE_NAME_KEY = "hub_site_name"
# meta key: the province's relay CA, received at enrollment; the desk trusts a site hub
# certificate the province issued for its site with it (sync.site_route, sync.pinning).
META_RELAY_CA = "relay_ca_pem"
# meta key: the site hub certificates the province revoked for this site (JSON: fingerprints
# and when they were read, sync.revocations); the desk refuses them (sync.pinning).
META_REVOKED_CERTS = "relay_revoked_certs"


class MustRefetch(Exception):
    """The hub's epoch changed (or the cursor is past its head): pull again from 0."""

    def __init__(self, hub_epoch: str, reason: str) -> None:
        super().__init__(reason)
        self.hub_epoch = hub_epoch
        self.reason = reason


class StaleCursor(Exception):
    """The page was pulled from a cursor that is no longer the stored one."""


class PageLike(Protocol):
    @property
    def changes(self) -> Sequence[ChangeLike]: ...
    @property
    def next_cursor(self) -> int: ...
    @property
    def has_more(self) -> bool: ...
    @property
    def hub_epoch(self) -> str: ...
    @property
    def head_seq(self) -> int: ...


@dataclass(slots=True)
class ApplyReport:
    applied: int = 0
    stale: int = 0  # already had this version or newer (idempotent replays)
    kept_local: int = 0  # rows whose local edits were kept (deferred hub row)
    parked: int = 0
    unparked: int = 0
    redirects: int = 0
    reviews: int = 0
    next_cursor: int = 0


def cursor_of(state: SyncStateRow, route: str = "province") -> int:
    """The route's pull cursor in a ``Station.sync_state()`` row."""
    return int(state["relay_cursor"] if route == "site_hub" else state["pull_cursor"]) if state else 0


def check_page(conn: Connection | RawConnection, page: PageLike, from_cursor: int, route: str = "province") -> int:
    """The stored cursor, if ``page`` may be applied on it (else MustRefetch or StaleCursor)."""
    cur_col, epoch_col, _ = ROUTE_COLUMNS[route]
    row = as_raw(conn).execute(f"SELECT {epoch_col}, {cur_col} FROM sync_state WHERE id = 1").fetchall()
    if len(row) != 1:
        raise LookupError("sync_state")
    stored_epoch, cursor = row[0][0], int(row[0][1])
    if stored_epoch is not None and stored_epoch != page.hub_epoch:
        raise MustRefetch(page.hub_epoch, "hub_epoch_changed")
    if cursor > page.head_seq:
        raise MustRefetch(page.hub_epoch, "cursor_past_head")
    if cursor != from_cursor:
        raise StaleCursor()
    return cursor


def advance_cursor(
    conn: Connection | RawConnection, page: PageLike, cursor: int, now_iso: str, route: str = "province"
) -> int:
    """The last step of applying a page, in its transaction: the route's cursor, hub epoch and
    last good pull. Returns the new cursor."""
    new_cursor = max(cursor, int(page.next_cursor))
    cur_col, epoch_col, ok_col = ROUTE_COLUMNS[route]
    as_raw(conn).execute(
        f"UPDATE sync_state SET {cur_col} = ?, {epoch_col} = ?, {ok_col} = ? WHERE id = 1",
        (new_cursor, page.hub_epoch, now_iso),
    )
    return new_cursor


def apply_empty_page(
    st: Station,
    page: PageLike,
    *,
    from_cursor: int,
    now: datetime | None = None,
    hook: Callable[[str], None] | None = None,
    route: str = "province",
) -> ApplyReport | None:
    """``station.replica.apply_page`` of a page without changes while nothing is parked.

    The same steps in one durable transaction (the page checked on the stored cursor,
    the crash point, the cursor advanced), on a raw connection. None, with nothing
    written, when the page has changes or parked changes wait to be retried: the
    caller applies it with ``apply_page``.
    """
    if page.changes:
        return None
    now_iso = iso(now or st.clock())
    report = ApplyReport()
    with st.sync_writer_raw() as raw:
        cursor = check_page(raw, page, from_cursor, route)
        if raw.execute("SELECT 1 FROM sync_parked LIMIT 1").fetchone() is not None:
            return None  # nothing was written
        if hook is not None:
            hook("mid_pull_apply")
        report.next_cursor = advance_cursor(raw, page, cursor, now_iso, route)
    return report


def meta_value(conn: Connection | RawConnection, key: str) -> str | None:
    """A ``meta`` value inside the caller's transaction (None: not set)."""
    row = as_raw(conn).execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None or row[0] is None else str(row[0])


def get_meta(st: Station, key: str) -> str | None:
    with st.read_raw() as raw:
        return meta_value(raw, key)


def set_meta(st: Station, key: str, value: str) -> None:
    """Set a ``meta`` value in the sync engine's durable write transaction."""
    with st.sync_writer_raw() as raw:
        raw.execute(
            "INSERT INTO meta (key, value) VALUES (:k, :v) ON CONFLICT(key) DO UPDATE SET value = :v",
            {"k": key, "v": value},
        )


__all__ = [
    "META_RELAY_CA",
    "META_REVOKED_CERTS",
    "ROUTE_COLUMNS",
    "SITE_NAME_KEY",
    "ApplyReport",
    "MustRefetch",
    "PageLike",
    "StaleCursor",
    "advance_cursor",
    "apply_empty_page",
    "check_page",
    "cursor_of",
    "get_meta",
    "meta_value",
    "set_meta",
]
