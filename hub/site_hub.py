"""Relay mode: a hub on the site's LAN serving the site's desks, relaying to the province (issue 14).

The site hub is the ordinary hub app (``hub.app.create_app``: the same routes, the same
appliers in ``hub/apply``, on SQLite) with three background tasks and four hooks:

* **roster** — the site's stations (id, token hash, revoked) from the province's
  ``GET /relay/stations``, refreshed every minute and at once when a desk presents a
  token it does not know: the site hub authenticates the desks itself, with the token
  each desk already holds (one credential per desk, for both routes);
* **forwarder** — every op a desk pushed is kept in ``relay_op`` *in the push's own
  transaction* (:meth:`SiteHub.record_push`), sent upstream unchanged in per-replica
  ``op_seq`` order (``POST /relay/push``), and the province's answer stored per op; a
  desk collects the answers for its ops (``POST /site/answers``) and only then counts
  them acknowledged. The desks' signed tallies are forwarded unchanged;
* **down** — the province's changes for the site (``GET /relay/pull``, long-polled) are
  written into the site hub's own tables and its change log, so every desk converges
  to the province's state: **the province decides**. Each row is also kept as the
  province sent it (``relay_shadow``). While an op touching the entity is still on its
  way upstream, the local (provisional) row is kept; once the province has answered every
  such op, the entity is set to the province's row. A refused op therefore does not stay
  as if accepted: its entity goes back to what the province holds. Rows written down are
  numbered above what the desks hold (``row_version``), so a desk takes them.

The link to the province (credential, certificate) is in ``hub.site_link``; writing the
province's rows into the site hub's tables, and the desks' ops kept to forward, in
``hub.site_rows``; the forwarder's batches in ``hub.site_forward``.

A site hub crash loses nothing: an op answered to a desk is in ``relay_op``; the
province's answer is stored in one transaction, and one sent again is a ``duplicate``
there; a pulled page is written with its cursor in one transaction.

Trust (docs/site-hub.md): at enrollment the site hub sends a CSR and keeps the certificate
the province signs for its site (:func:`enroll`, ``hub.relay_pki``); ``serve --relay-to``
serves HTTPS with it and may announce itself by DNS-SD (``sync.discovery``); the desks
pin it (``sync.pinning``).
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from hub.db import Database
from hub.models import (
    EnrolledStation,
    RelayOp,
    RelayTally,
    Site,
)
from hub.routes.context import HubContext
from hub.site_forward import RelayBatch, answers_of, next_batch
from hub.site_link import (
    META_CURSOR,
    META_PROVINCE_EPOCH,
    RelayLink,
    _meta,
    _now,
    _set_meta,
)
from hub.site_link import META_TLS as META_TLS
from hub.site_link import enroll as enroll
from hub.site_link import load_link as load_link
from hub.site_link import set_province_url as set_province_url
from hub.site_link import tls_identity as tls_identity
from hub.site_rows import record_ops, store_answers, write_page
from hub.site_rows import touched as touched
from hub.site_rows import waiting_ops as waiting_ops
from hub.timestamps import utc_iso_ms
from hub.upstream import READ_TIMEOUT_S, Upstream, UpstreamError
from sync.protocol import (
    MAX_RELAY_GROUPS,
    RELAY_PREFIX,
    Op,
    OpResult,
    PullResponse,
    PushRequest,
    RelayPushResponse,
    RelayStations,
    RelayTallyRequest,
    RelayTallyResponse,
    TallyRequest,
)

log = logging.getLogger(__name__)

PULL_LIMIT = 1000
ROSTER_EVERY_S = 60.0
ROSTER_MIN_GAP_S = 5.0  # an unknown token refreshes the roster at most this often
FORWARD_IDLE_S = 0.25
LONG_POLL_S = 25.0
BACKOFF_MAX_S = 30.0
DOWN_DEFER_MAX_S = 10.0  # the province's pages wait at most this long for a backlog to go up
BUSY_GAP_S = 0.5  # no desk push nor forwarded batch for this long: the down task goes on
MAX_FORWARD_ROUNDS = 10_000  # batches per forward_once (bounded; the loop comes back)


class SiteHub:
    """The relay tasks of one site hub process (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        link: RelayLink,
        *,
        ssl_context: ssl.SSLContext | None = None,
        long_poll_s: float = LONG_POLL_S,
        roster_every_s: float = ROSTER_EVERY_S,
        forward_idle_s: float = FORWARD_IDLE_S,
        backoff_max_s: float = BACKOFF_MAX_S,
        roster_min_gap_s: float = ROSTER_MIN_GAP_S,
    ) -> None:
        self.db = db
        self.link = link
        self.ssl_context = ssl_context
        self.long_poll_s = long_poll_s
        self.roster_every_s = roster_every_s
        self.forward_idle_s = forward_idle_s
        self.backoff_max_s = backoff_max_s
        self.roster_min_gap_s = roster_min_gap_s
        self.ctx: HubContext | None = None
        self._reachable = False
        self.province_contact_at: str | None = None  # the province's last answer (UTC ISO)
        self._stop = threading.Event()
        self._wake_forward = threading.Event()
        self._threads: list[threading.Thread] = []
        self._roster_lock = threading.Lock()
        self._unknown_refresh_at = -1e9
        self._skip: dict[tuple[str, str], float] = {}
        self._busy_at = -1e9  # monotonic time of the last desk push or forwarded batch

    @property
    def province_reachable(self) -> bool:
        return self._reachable

    @province_reachable.setter
    def province_reachable(self, value: bool) -> None:
        # Every place that learns the province answered sets True: that is the last contact.
        self._reachable = value
        if value:
            self.province_contact_at = utc_iso_ms(_now())

    def link_status(self) -> tuple[bool, str | None]:
        """For the desks' Sync workspace and the dashboard (hub/routes/site_status.py)."""
        return self._reachable, self.province_contact_at

    def _upstream(self, read_timeout_s: float = READ_TIMEOUT_S) -> Upstream:
        return Upstream(self.link.province_url, self.link.token, ssl_context=self.ssl_context,
                        read_timeout_s=read_timeout_s)

    # ---- hooks into the app ------------------------------------------------------------

    def install(self, ctx: HubContext) -> None:
        """``create_app(ctx_hook=...)``: the push, tally, auth and answers hooks."""
        self.ctx = ctx
        ctx.relay_record = self.record_push
        ctx.refresh_roster = self.refresh_on_unknown
        ctx.province_answers = self.answers_for
        ctx.relay_tally = self.record_tally
        ctx.relay_status = self.link_status

    def record_push(self, s: Session, req: PushRequest, ops: list[Op], results: list[OpResult]) -> None:
        """Inside the desk's push transaction: keep every answered op to forward it."""
        answered = {r.op_id for r in results if r.reason != "op.id_reused"}
        todo = [op for op in ops if op.op_id in answered]
        if not todo:
            return
        if record_ops(s, req, todo, utc_iso_ms(_now())):
            # Wake the forwarder once this push is committed (before, it would find nothing).
            event.listen(s, "after_commit", self._wake_after_commit, once=True)

    def _wake_after_commit(self, _session: Session) -> None:
        self._busy_at = time.monotonic()
        self._wake_forward.set()

    def record_tally(self, req: TallyRequest) -> None:
        """A desk's tally, verified by the site hub: kept (latest per desk) to forward unchanged."""
        stamp = utc_iso_ms(_now())
        with self.db.write() as s:
            row = s.get(RelayTally, req.station_id)
            data = req.model_dump(mode="json")
            if row is None:
                s.add(RelayTally(station_id=req.station_id, tally=data, received_at=stamp))
            else:
                row.tally, row.received_at, row.forwarded_at = data, stamp, None
        self._wake_forward.set()

    def answers_for(self, station_id: str, op_ids: list[str]) -> tuple[list[OpResult], bool]:
        """The province's answers for ``op_ids`` of ``station_id`` known so far."""
        if not op_ids:
            return [], self.province_reachable
        with self.db.read() as s:
            rows = s.execute(
                select(RelayOp.province_result).where(
                    RelayOp.op_id.in_(sorted(set(op_ids))),
                    RelayOp.station_id == station_id,
                    RelayOp.province_status.is_not(None),
                )
            ).scalars().all()
        out = []
        for r in rows:
            if r is None:
                continue
            try:
                out.append(OpResult.model_validate(r))
            except ValueError:
                log.warning("a stored province answer cannot be read; left out")
        return out, self.province_reachable

    # ---- roster --------------------------------------------------------------------------

    def refresh_on_unknown(self) -> bool:
        """An unknown token: refresh the roster (at most every few seconds); True when the
        token is worth checking again (a roster was read since the request came in).

        Not "True if the roster changed": a desk's first cycle sends two requests at once;
        the first one's refresh adds the desk, the second one's refresh (queued on the lock)
        finds nothing new, and its request must still be let in.
        """
        # The gap bounds the refreshes unknown tokens cause (a stranger sending made-up tokens
        # costs the province one roster read per gap). It is counted from the last refresh an
        # unknown token caused, not from the periodic one: a desk enrolled a moment after the
        # periodic read must still get its own read on first contact.
        now = time.monotonic()
        if now - self._unknown_refresh_at < self.roster_min_gap_s:
            # Refreshed a moment ago (or being refreshed now: wait for it): try the token once more.
            with self._roster_lock:
                return True
        self._unknown_refresh_at = now
        try:
            self.refresh_roster()
        except UpstreamError as exc:
            log.warning("roster refresh for an unknown token failed: %s", exc.code)
            return False
        return True

    def refresh_roster(self) -> bool:
        """The site's stations from the province: added, token replaced, revoked. True on a change."""
        with self._roster_lock:
            up = self._upstream()
            try:
                roster = up.get(RELAY_PREFIX + "/stations", RelayStations)
            finally:
                up.close()
            self.province_reachable = True
            return self._store_roster(roster)

    def _store_roster(self, roster: RelayStations) -> bool:
        changed = False
        stamp = utc_iso_ms(_now())
        listed = {st.station_id for st in roster.stations}
        with self.db.write() as s:
            if s.get(Site, roster.site_code) is None:
                s.add(Site(code=roster.site_code, name=roster.site_name, created_at=stamp))
            for st in roster.stations:
                row = s.get(EnrolledStation, st.station_id)
                if row is None:
                    s.add(
                        EnrolledStation(
                            id=st.station_id,
                            site_code=roster.site_code,
                            name=st.name,
                            token_hash=st.token_hash,
                            revoked=int(st.revoked),
                            enrolled_at=stamp,
                            skew_flagged=0,
                        )
                    )
                    changed = True
                elif row.token_hash != st.token_hash or bool(row.revoked) != st.revoked:
                    row.token_hash, row.revoked = st.token_hash, int(st.revoked)
                    row.revoked_at = stamp if st.revoked else None
                    changed = True
            # A station the province no longer lists for this site is refused here too.
            for row in s.execute(select(EnrolledStation).where(EnrolledStation.revoked == 0)).scalars():
                if row.id not in listed:
                    row.revoked, row.revoked_at = 1, stamp
                    changed = True
        return changed

    # ---- forwarder ---------------------------------------------------------------------

    def forward_once(self) -> int:
        """Send the waiting tallies, then every waiting op upstream; returns ops answered.

        Pipelined: while the province applies one batch (up to 1000 ops), the site hub
        stores the answers to the previous one, so neither waits for the other. Ops sent and
        answered but not stored yet are left out of the next batch (they are still waiting
        in ``relay_op``); an answer lost to a crash is sent again and comes back ``duplicate``.
        """
        self._forward_tallies()
        now_mono = time.monotonic()
        self._skip = {k: t for k, t in self._skip.items() if t > now_mono}
        answered = 0
        batch = self._next_batch(set())
        if batch is None:
            return 0
        in_flight = batch.touched
        up = self._upstream()
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="site-hub-send")
        try:
            sending: Future[RelayPushResponse] | None = pool.submit(
                up.post_json, RELAY_PREFIX + "/push", batch.body, RelayPushResponse
            )
            for _ in range(MAX_FORWARD_ROUNDS):
                if sending is None or self._stop.is_set():
                    break
                answers = answers_of(sending.result(), self._skip)
                self.province_reachable = True
                touched, sending = in_flight, None
                batch = self._next_batch({r.op_id for r in answers})
                self._busy_at = time.monotonic()
                if batch is not None:
                    sending = pool.submit(up.post_json, RELAY_PREFIX + "/push", batch.body, RelayPushResponse)
                    in_flight = batch.touched
                if answers:
                    self._store_answers(answers, touched)
                    answered += len(answers)
            if sending is not None:
                sending.result()  # stopping: what the province answered is sent again later
        finally:
            pool.shutdown(wait=True)
            up.close()
        return answered

    def _next_batch(self, unstored: set[str]) -> RelayBatch | None:
        return next_batch(self.db, self.link.relay_id, utc_iso_ms(_now()), unstored=unstored, skip=self._skip)

    def _forward_tallies(self) -> None:
        with self.db.read() as s:
            rows = s.execute(
                select(RelayTally).where(RelayTally.forwarded_at.is_(None)).limit(MAX_RELAY_GROUPS)
            ).scalars().all()
            pending = [(r.station_id, r.received_at, r.tally) for r in rows]
        if not pending:
            return
        body = RelayTallyRequest(
            relay_id=self.link.relay_id, tallies=[TallyRequest.model_validate(t) for _, _, t in pending]
        )
        up = self._upstream()
        try:
            up.post(RELAY_PREFIX + "/tally", body, RelayTallyResponse)
        finally:
            up.close()
        stamp = utc_iso_ms(_now())
        with self.db.write() as s:
            for station_id, received_at, _ in pending:
                # Only the tally that was sent: a newer one that came meanwhile goes next time.
                s.execute(
                    update(RelayTally)
                    .where(RelayTally.station_id == station_id, RelayTally.received_at == received_at)
                    .values(forwarded_at=stamp)
                )

    def _store_answers(self, answers: list[OpResult], touched: dict[str, tuple[str, str, str | None]]) -> None:
        """The province's answers, one executemany; rows nothing waits on settle (:func:`settle`)."""
        stamp = utc_iso_ms(_now())
        site = self.link.site_code
        by_id = {r.op_id: r for r in answers}

        def run(s: Session) -> None:
            store_answers(s, by_id, site, stamp, touched)

        self.db.run_write(run)
        if self.ctx is not None:
            self.ctx.watch.poke()

    # ---- down: the province's changes --------------------------------------------------

    def pull_once(self, wait_s: float = 0) -> int:
        """One page of the province's changes for the site, written with the cursor."""
        with self.db.read() as s:
            cursor = int(_meta(s, META_CURSOR) or 0)
            stored_epoch = _meta(s, META_PROVINCE_EPOCH)
        up = self._upstream(read_timeout_s=wait_s + 30 if wait_s else READ_TIMEOUT_S)
        try:
            params: dict[str, str | int | float] = {"cursor": cursor, "limit": PULL_LIMIT}
            if wait_s > 0:
                params["wait"] = round(wait_s, 3)
            page = up.get(RELAY_PREFIX + "/pull", PullResponse, params, read_timeout_s=wait_s + 30)
        finally:
            up.close()
        self.province_reachable = True
        if (stored_epoch is not None and stored_epoch != page.hub_epoch) or cursor > page.head_seq:
            # The province was restored or replaced: its rows are read again from the start.
            log.warning("the province's hub epoch changed: pulling its state again from 0")
            with self.db.write() as s:
                _set_meta(s, META_CURSOR, "0")
                _set_meta(s, META_PROVINCE_EPOCH, page.hub_epoch)
            return 0
        self._write_page(page, cursor)
        return len(page.changes) + (1 if page.has_more else 0)

    def _write_page(self, page: PullResponse, cursor: int) -> None:
        site = self.link.site_code

        def run(s: Session) -> None:
            if int(_meta(s, META_CURSOR) or 0) != cursor:
                return  # another pull wrote this page meanwhile
            write_page(s, page.changes, site)
            _set_meta(s, META_CURSOR, str(max(cursor, page.next_cursor)))
            _set_meta(s, META_PROVINCE_EPOCH, page.hub_epoch)

        self.db.run_write(run)
        if self.ctx is not None:
            self.ctx.watch.poke()

    # ---- the background tasks ----------------------------------------------------------

    def start(self) -> None:
        self._stop.clear()
        for name, fn in (("roster", self._roster_loop), ("forward", self._forward_loop),
                         ("down", self._down_loop)):
            t = threading.Thread(target=fn, name=f"site-hub-{name}", daemon=True)
            t.start()
            self._threads.append(t)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake_forward.set()
        for t in self._threads:
            t.join(timeout)
        self._threads = []

    def _backoff(self, failures: int) -> float:
        return float(min(self.backoff_max_s, 0.5 * 2 ** min(failures, 10)))

    def _roster_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            try:
                self.refresh_roster()
                failures = 0
                delay = self.roster_every_s
            except UpstreamError as exc:
                self._note_down(exc)
                failures += 1
                delay = self._backoff(failures)
            except Exception:
                log.exception("site hub roster refresh failed")
                failures += 1
                delay = self._backoff(failures)
            self._stop.wait(delay)

    def _forward_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            # Cleared before looking: a push committed while we look wakes the wait below.
            self._wake_forward.clear()
            try:
                n = self.forward_once()
                failures = 0
                if n:
                    continue  # more may wait
                delay = self.forward_idle_s
            except UpstreamError as exc:
                self._note_down(exc)
                failures += 1
                delay = self._backoff(failures)
            except Exception:
                log.exception("site hub forwarder failed")
                failures += 1
                delay = self._backoff(failures)
            if failures:
                self._stop.wait(delay)  # the line is down: a desk's push does not cut the backoff
            else:
                self._wake_forward.wait(delay)

    def _down_loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            self._yield_to_forwarder()
            try:
                self.pull_once(wait_s=self.long_poll_s)
                failures = 0
                continue
            except UpstreamError as exc:
                self._note_down(exc)
                failures += 1
            except Exception:
                log.exception("site hub down task failed")
                failures += 1
            self._stop.wait(self._backoff(failures))

    def _yield_to_forwarder(self) -> None:
        """Forward first: while the desks push and the forwarder sends batch after batch, the
        province's pages wait (at most ``DOWN_DEFER_MAX_S``, then one page goes through).
        During a drain those pages are mostly the desks' own rows coming back, or rows their
        ops still on the way keep provisional; written meanwhile they would take the site
        hub's one writer from the desks' pushes and the forwarder."""
        for _ in range(int(DOWN_DEFER_MAX_S / 0.05)):
            if self._stop.is_set() or time.monotonic() - self._busy_at > BUSY_GAP_S:
                return
            self._stop.wait(0.05)


    def _note_down(self, exc: UpstreamError) -> None:
        if exc.unreachable:
            self.province_reachable = False
        else:
            log.warning("the province refused the site hub: %s", exc.code)
