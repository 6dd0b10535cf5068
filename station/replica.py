"""Applying the hub's changes to the local replica (the pull side of sync).

The rules (DESIGN §5, research §2.4/§2.8):

* A pulled page is applied **and** ``sync_state.pull_cursor`` advanced in ONE
  transaction (``Station.sync_writer``): a crash mid-apply rolls both back, so
  the page is simply pulled again (pouchdb#1240 was a checkpoint written apart
  from its docs).
* Applying is idempotent: a row is written only when the change's
  ``row_version`` is newer than the local ``version``.
* Local state = last hub state + pending local ops. Fields that pending (or
  in-flight) ops changed are kept as edited until those ops are answered
  (``station.protection``); the hub row that arrived meanwhile is kept aside
  (``station.held_changes``, deferred) and settled when the ops are answered
  (``station.answers.settle``).
* A change that cannot be applied (a parent row outside this station's scope,
  a malformed row) is parked (``station.held_changes``) and retried on later
  pages, so one bad row never stalls the cursor.
* Redirects (hub merges): the loser person is marked ``merged`` and local rows
  re-pointed to the survivor.
* A changed ``hub_epoch`` (hub restored or replaced) means must-refetch: the
  cursor goes back to 0, local versions are forgotten (the new hub numbers
  rows afresh) and everything is pulled again; the outbox is kept.

Rows are written by one writer (``station.replica_rows.write_rows``): runs of
plain upserts in bulk, any other change as a run of one with its special
case. This module takes pages duck-typed (``station`` never imports ``sync``):
any object with the attributes of ``sync.protocol.PullResponse``/``Change``
works. Nothing here logs row contents: they hold personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, text

from kernel.clock import iso
from station import held_changes
from station.db import RawConnection, raw_connection
from station.held_changes import Change, ChangeLike
from station.protection import Protection, compute_protection
from station.replica_rows import (
    DB_FAULTS,
    ENTITY_TABLE,
    ROW_FAULTS,
    apply_redirect,
    apply_review,
    failure_code,
    keep_for,
    write_rows,
)
from station.store import Station
from station.syncstate import (
    META_RELAY_CA,
    META_REVOKED_CERTS,
    ROUTE_COLUMNS,
    SITE_NAME_KEY,
    ApplyReport,
    MustRefetch,
    PageLike,
    StaleCursor,
    advance_cursor,
    check_page,
    cursor_of,
    get_meta,
    meta_value,
    set_meta,
)

log = logging.getLogger(__name__)

MAX_PARKED_RETRIES_PER_PAGE = 200


# ---- one change ------------------------------------------------------------------------------


def _apply_one(conn: Connection, ch: Change, prot: Protection, now_iso: str, report: ApplyReport) -> None:
    """A change as a run of one, with what only a single change can be: a merge, a review
    item, a row with fields kept local or a hub row kept aside for it."""
    if ch.kind == "redirect" or ch.entity_type == "person_redirect":
        apply_redirect(conn, ch, now_iso)
        report.redirects += 1
        return
    if ch.entity_type == "review":
        keep, ops = prot.for_row("review", ch.entity_id, None)
        apply_review(conn, ch, keep)
        if keep:
            held_changes.defer(conn, ch, ops)
        report.reviews += 1
        return
    if ch.entity_type not in ENTITY_TABLE:
        raise ValueError("unknown entity type")
    keep, ops = keep_for(prot, ch)
    done = write_rows(raw_connection(conn), [ch], now_iso, keep=frozenset(keep))
    if done.stale:
        report.stale += 1
        return
    if keep:
        held_changes.defer(conn, ch, ops)
        report.kept_local += 1
    else:
        # A newer hub row supersedes anything kept aside earlier.
        held_changes.drop_deferred(conn, ch.entity_type, ch.entity_id)
    report.applied += done.applied


def _try_apply(
    conn: Connection, ch: Change, prot: Protection, now_iso: str, report: ApplyReport
) -> str | None:
    """Apply inside a savepoint; returns an error code (the change is not applied) or None."""
    sp = conn.begin_nested()
    try:
        _apply_one(conn, ch, prot, now_iso, report)
    except DB_FAULTS:
        # The database itself failed (locked, disk): not this change's fault. The page
        # fails whole (cursor unchanged) and is pulled again next cycle.
        sp.rollback()
        raise
    except ROW_FAULTS as exc:
        sp.rollback()
        return failure_code(exc)
    sp.commit()
    return None


# ---- a page: runs of plain upserts in bulk, the rest change by change ---------------------
#
# Nearly every change in a page is a plain upsert of a row with no local edit
# pending (a bootstrap, the pull-back after a push). Consecutive such changes
# form a *run*, written by one ``write_rows`` call inside one savepoint. Every
# other change goes through ``_try_apply`` in page order. When a run fails (a
# parent outside this station's scope, a malformed row), its savepoint is
# rolled back and the run is split until the failing changes are applied one by
# one, which parks them.

_PER_CHANGE_BELOW = 8  # a failing run this short is applied change by change


@dataclass(slots=True)
class _PageApplier:
    """Applies a page's changes in order: runs in bulk, the rest change by change."""

    conn: Connection
    raw: RawConnection  # the DB-API connection of ``conn`` (same transaction, same pull context)
    prot: Protection
    deferred: frozenset[tuple[str, str]]
    now_iso: str
    report: ApplyReport

    def apply(self, changes: Sequence[Change]) -> None:
        run: list[Change] = []
        for ch in changes:
            if self._plain(ch):
                run.append(ch)
            else:
                self._run(run)
                run = []
                self._one(ch)
        self._run(run)

    def _plain(self, ch: Change) -> bool:
        """An upsert with nothing local to keep and no hub row kept aside."""
        if ch.kind == "redirect" or ch.entity_type not in ENTITY_TABLE:
            return False
        person_id = ch.data.get("person_id") if ch.entity_type == "registration" else None
        if self.prot.touches(ch.entity_type, ch.entity_id, str(person_id) if person_id else None):
            return False
        return not self.deferred or (ch.entity_type, ch.entity_id) not in self.deferred

    def _one(self, ch: Change) -> None:
        err = _try_apply(self.conn, ch, self.prot, self.now_iso, self.report)
        if err is not None:
            held_changes.park(self.conn, ch, err)
            self.report.parked += 1

    def _run(self, run: Sequence[Change]) -> None:
        if not run:
            return
        sp = self.conn.begin_nested()
        try:
            done = write_rows(self.raw, run, self.now_iso)
        except DB_FAULTS:
            sp.rollback()
            raise  # the database failed (locked, disk), not a row: splitting cannot help
        except ROW_FAULTS as exc:
            sp.rollback()
            # Counts and the error class only: the message could quote row values.
            log.debug("pull: a run of %d change(s) failed (%s); applying it in parts", len(run), type(exc).__name__)
            if len(run) < _PER_CHANGE_BELOW:
                for ch in run:
                    self._one(ch)
            else:
                mid = len(run) // 2
                self._run(run[:mid])
                self._run(run[mid:])
            return
        sp.commit()
        self.report.applied += done.applied
        self.report.stale += done.stale


# Each route has its own cursor and hub epoch: the province's change log, and the site
# hub's own (numbered by it). Row versions are the province's on both (the site hub keeps
# the province's numbers and numbers its own changes above them).
# Whether a page may be applied on the stored cursor (``station.syncstate``).
_check_page = check_page


def apply_page(
    st: Station,
    page: PageLike,
    *,
    from_cursor: int,
    now: datetime | None = None,
    hook: Callable[[str], None] | None = None,
    route: str = "province",
) -> ApplyReport:
    """Apply one pulled page and advance the cursor, in one transaction.

    ``from_cursor`` is the cursor the page was requested with; if the stored
    cursor moved meanwhile, :class:`StaleCursor` is raised and nothing is written.
    :class:`MustRefetch` is raised (nothing written) when the hub's epoch
    differs from the stored one or the stored cursor is past the hub's head;
    call :func:`reset_for_refetch` and pull again from 0.

    ``hook`` is called with ``"mid_pull_apply"`` halfway through (crash tests).
    """
    now_iso = iso(now or st.clock())
    report = ApplyReport()
    with st.sync_writer() as conn:
        cursor = _check_page(conn, page, from_cursor, route)
        prot = compute_protection(conn, route=route)
        raw = raw_connection(conn)
        applier = _PageApplier(conn, raw, prot, held_changes.deferred_keys(raw), now_iso, report)
        changes = [Change.of(c) for c in page.changes]
        half = len(changes) // 2
        applier.apply(changes[:half])
        if hook is not None:
            hook("mid_pull_apply")
        applier.apply(changes[half:])
        report.unparked = _retry_parked(conn, prot, now_iso, report)
        report.next_cursor = advance_cursor(conn, page, cursor, now_iso, route)
    if report.parked:
        # Counts and codes only: parked rows hold personal data.
        log.warning("pull: %d change(s) parked (not applicable yet)", report.parked)
    return report


def _retry_parked(conn: Connection, prot: Protection, now_iso: str, report: ApplyReport) -> int:
    done = 0
    for ch in held_changes.parked(conn, limit=MAX_PARKED_RETRIES_PER_PAGE):
        scratch = ApplyReport()
        if _try_apply(conn, ch, prot, now_iso, scratch) is None:
            held_changes.unpark(conn, ch.server_seq)
            done += 1
            report.applied += scratch.applied
    return done


def reset_for_refetch(st: Station, hub_epoch: str, route: str = "province") -> None:
    """Must-refetch: cursor to 0, new hub epoch, local row versions forgotten; outbox kept.

    Versions are zeroed because a restored or replaced hub numbers rows afresh:
    the old numbers would make its rows look stale and be skipped.

    On the site hub route (a new or replaced site hub) only that route's cursor starts
    again: versions are the province's on both routes. The ops the old site hub held
    and the province has not answered go back to pending, so the new one receives them
    (the province's ledger answers ``duplicate`` for any the old one had forwarded).
    """
    if route == "site_hub":
        with st.sync_writer() as conn:
            conn.execute(
                text("UPDATE sync_state SET relay_cursor = 0, relay_hub_epoch = :e WHERE id = 1"),
                {"e": hub_epoch},
            )
            conn.execute(text("UPDATE sync_outbox SET state = 'pending' WHERE state = 'relay_accepted'"))
        log.warning("site hub epoch changed: pulling from it again from 0 (relayed ops sent again)")
        return
    with st.sync_writer() as conn:
        conn.execute(
            text("UPDATE sync_state SET pull_cursor = 0, hub_epoch = :e WHERE id = 1"), {"e": hub_epoch}
        )
        for table in ENTITY_TABLE.values():
            conn.execute(text(f"UPDATE {table} SET version = 0 WHERE version != 0"))
        held_changes.forget_all(conn)
    log.warning("hub epoch changed: refetching everything from cursor 0 (outbox kept)")


# ---- counts and sync_state / meta helpers ----------------------------------------------------


def parked_count(st: Station) -> int:
    return held_changes.parked_count(st)


def rotate_replica_epoch(st: Station, new_epoch: str) -> None:
    """The hub saw our op_seq go backwards (restored backup): become a new replica."""
    with st.sync_writer() as conn:
        conn.execute(text("UPDATE sync_state SET replica_epoch = :e WHERE id = 1"), {"e": new_epoch})
    log.warning("replica epoch rotated (hub reported a regressed op sequence)")


def site_hub_url(st: Station) -> str | None:
    """The site hub's address on the LAN (None: this desk syncs with the province only)."""
    with st.read() as conn:
        v = conn.execute(text("SELECT site_hub_url FROM sync_state WHERE id = 1")).scalar()
    return None if not v else str(v)


def set_site_hub_url(st: Station, url: str | None) -> None:
    """Set (or clear, ``None``) the site hub's address. A new address is a new site hub:
    its cursor starts again and the ops the old one held go to the new one."""
    with st.sync_writer() as conn:
        old = conn.execute(text("SELECT site_hub_url FROM sync_state WHERE id = 1")).scalar()
        conn.execute(text("UPDATE sync_state SET site_hub_url = :u WHERE id = 1"), {"u": url})
        if (old or None) != url:
            conn.execute(text("UPDATE sync_state SET relay_cursor = 0, relay_hub_epoch = NULL WHERE id = 1"))
            conn.execute(text("UPDATE sync_outbox SET state = 'pending' WHERE state = 'relay_accepted'"))


def site_name(conn: Connection) -> str:
    """The enrolled site's name, "" on a station never enrolled."""
    return meta_value(conn, SITE_NAME_KEY) or ""


__all__ = [
    "ENTITY_TABLE",
    "META_RELAY_CA",
    "META_REVOKED_CERTS",
    "ROUTE_COLUMNS",
    "SITE_NAME_KEY",
    "ApplyReport",
    "ChangeLike",
    "MustRefetch",
    "PageLike",
    "Protection",
    "StaleCursor",
    "apply_page",
    "compute_protection",
    "cursor_of",
    "get_meta",
    "parked_count",
    "reset_for_refetch",
    "rotate_replica_epoch",
    "set_meta",
    "set_site_hub_url",
    "site_hub_url",
]
