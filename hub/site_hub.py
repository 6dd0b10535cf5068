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

A site hub crash loses nothing: an op answered to a desk is in ``relay_op``; the
province's answer is stored in one transaction, and one sent again is a ``duplicate``
there; a pulled page is written with its cursor in one transaction.

Not here (issue 14's LAN part, built beside this): mDNS announcement, the TLS identity
issued by the province (``RelayEnrollResponse.tls``), station-side pinning.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import bindparam, event, func, insert, select, text, update
from sqlalchemy.orm import Session

from hub.db import Database
from hub.effects import ENTITY_ORDER, ChangeRow, Numbering, row_data
from hub.models import (
    DOMAIN_MODELS,
    EnrolledStation,
    HubMeta,
    Person,
    PersonRedirect,
    PersonSite,
    Registration,
    RelayOp,
    RelayShadow,
    RelayTally,
    ReviewItem,
    ReviewSite,
    Site,
    table_of,
)
from hub.routes.context import HubContext
from hub.timestamps import utc_iso_ms
from hub.upstream import READ_TIMEOUT_S, Upstream, UpstreamError
from kernel.ids import uuid7
from sync.protocol import (
    MAX_OPS_PER_PUSH,
    MAX_RELAY_GROUPS,
    RELAY_PREFIX,
    Change,
    Op,
    OpResult,
    PullResponse,
    PushRequest,
    RelayEnrollRequest,
    RelayEnrollResponse,
    RelayPushRequest,
    RelayPushResponse,
    RelayStations,
    RelayTallyRequest,
    RelayTallyResponse,
    TallyRequest,
)

log = logging.getLogger(__name__)

# hub_meta keys of the relay link (the site hub's own database).
META_URL = "relay.province_url"
META_ID = "relay.id"
META_TOKEN = "relay.token"
META_SITE = "relay.site_code"
META_SITE_NAME = "relay.site_name"
META_CURSOR = "relay.cursor"
META_PROVINCE_EPOCH = "relay.province_epoch"
META_TLS = "relay.tls"

PULL_LIMIT = 1000
ROSTER_EVERY_S = 60.0
ROSTER_MIN_GAP_S = 5.0  # an unknown token refreshes the roster at most this often
FORWARD_IDLE_S = 0.25
LONG_POLL_S = 25.0
BACKOFF_MAX_S = 30.0
SKIP_GROUP_S = 30.0  # a group the province refused whole is tried again after this
MAX_FORWARD_ROUNDS = 10_000  # batches per forward_once (bounded; the loop comes back)


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RelayLink:
    """The site hub's credential at the province (kept in its own ``hub_meta``)."""

    province_url: str
    relay_id: str
    token: str
    site_code: str
    site_name: str


def _meta(s: Session, key: str) -> str | None:
    row = s.get(HubMeta, key)
    return None if row is None else row.value


def _set_meta(s: Session, key: str, value: str) -> None:
    row = s.get(HubMeta, key)
    if row is None:
        s.add(HubMeta(key=key, value=value))
    else:
        row.value = value


def load_link(db: Database) -> RelayLink | None:
    with db.read() as s:
        values = [_meta(s, k) for k in (META_URL, META_ID, META_TOKEN, META_SITE, META_SITE_NAME)]
    if any(v is None for v in values[:4]):
        return None
    url, rid, token, site, name = values
    assert url is not None and rid is not None and token is not None and site is not None
    return RelayLink(url, rid, token, site, name or site)


def set_province_url(db: Database, url: str) -> None:
    with db.write() as s:
        _set_meta(s, META_URL, url.rstrip("/"))


def enroll(
    db: Database,
    province_url: str,
    code: str,
    *,
    name: str = "",
    ssl_context: ssl.SSLContext | None = None,
    now: datetime | None = None,
) -> RelayEnrollResponse:
    """Enroll this hub as the site hub of the code's site (``tramtiem-hub relay enroll``)."""
    with db.read() as s:
        relay_id = _meta(s, META_ID) or uuid7()
    up = Upstream(province_url, ssl_context=ssl_context)
    try:
        resp = up.post(
            RELAY_PREFIX + "/enroll",
            RelayEnrollRequest(code=code, relay_id=relay_id, relay_name=name[:100]),
            RelayEnrollResponse,
            auth=False,
        )
    finally:
        up.close()
    stamp = utc_iso_ms(now or _now())
    with db.write() as s:
        _set_meta(s, META_URL, province_url.rstrip("/"))
        _set_meta(s, META_ID, resp.relay_id)
        _set_meta(s, META_TOKEN, resp.token)
        _set_meta(s, META_SITE, resp.site_code)
        _set_meta(s, META_SITE_NAME, resp.site_name)
        if resp.tls is not None:
            _set_meta(s, META_TLS, json.dumps(resp.tls))
        if s.get(Site, resp.site_code) is None:
            s.add(Site(code=resp.site_code, name=resp.site_name, created_at=stamp))
    log.info("enrolled as the site hub of site %s", resp.site_code)
    return resp


# ---- what an op touches ------------------------------------------------------------------


def touched(op: Op) -> tuple[str, str, str | None]:
    """The entity an op is about, and a second row it changes: the registration a walk-in
    creates or a screening moves on, or (a dose) its person, whose registration it moves."""
    extra: object = None
    if op.op_type == "register_person":
        reg = op.payload.get("registration")
        extra = reg.get("id") if isinstance(reg, dict) else None
    elif op.op_type == "record_screening":
        extra = op.payload.get("registration_id")
    elif op.op_type == "record_dose":
        extra = op.payload.get("person_id")
    return op.entity_type, op.entity_id, extra[:64] if isinstance(extra, str) and extra else None


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
        self.province_reachable = False
        self._stop = threading.Event()
        self._wake_forward = threading.Event()
        self._threads: list[threading.Thread] = []
        self._roster_lock = threading.Lock()
        self._roster_at = -1e9
        self._skip: dict[tuple[str, str], float] = {}

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

    def record_push(self, s: Session, req: PushRequest, ops: list[Op], results: list[OpResult]) -> None:
        """Inside the desk's push transaction: keep every answered op to forward it."""
        answered = {r.op_id for r in results if r.reason != "op.id_reused"}
        todo = [op for op in ops if op.op_id in answered]
        if not todo:
            return
        known = set(
            s.execute(select(RelayOp.op_id).where(RelayOp.op_id.in_([op.op_id for op in todo]))).scalars()
        )
        stamp = utc_iso_ms(_now())
        # One writer at a time on the site hub's SQLite: max + 1 is this push's place.
        arrival = int(s.execute(select(func.coalesce(func.max(RelayOp.arrival), 0))).scalar_one())
        rows: list[dict[str, object]] = []
        for op in todo:
            if op.op_id in known:
                continue
            etype, eid, extra = touched(op)
            arrival += 1
            rows.append({
                "op_id": op.op_id, "arrival": arrival, "station_id": req.station_id,
                "replica_epoch": req.replica_epoch, "op_seq": op.op_seq, "entity_type": etype,
                "entity_id": eid, "extra_id": extra, "op": op.model_dump(mode="json"),
                "schema_version": req.schema_version, "received_at": stamp,
            })
            known.add(op.op_id)
        if rows:
            # One executemany, not an ORM object per op (a desk's batch is up to 1000 ops).
            s.execute(insert(RelayOp), rows)
            # Wake the forwarder once this push is committed (before, it would find nothing).
            event.listen(s, "after_commit", self._wake_after_commit, once=True)

    def _wake_after_commit(self, _session: Session) -> None:
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
        """An unknown token: refresh the roster (at most every few seconds); True if it changed."""
        if time.monotonic() - self._roster_at < self.roster_min_gap_s:
            # Refreshed a moment ago (or being refreshed now: wait for it): try the token once more.
            with self._roster_lock:
                return True
        try:
            return self.refresh_roster()
        except UpstreamError:
            return False

    def refresh_roster(self) -> bool:
        """The site's stations from the province: added, token replaced, revoked. True on a change."""
        with self._roster_lock:
            self._roster_at = time.monotonic()
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
        unstored: set[str] = set()
        body = self._next_push(unstored)
        if body is None:
            return 0
        up = self._upstream()
        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="site-hub-send")
        try:
            sending: Future[RelayPushResponse] | None = pool.submit(
                up.post, RELAY_PREFIX + "/push", body, RelayPushResponse
            )
            for _ in range(MAX_FORWARD_ROUNDS):
                if sending is None or self._stop.is_set():
                    break
                answers = self._answers_of(sending.result())
                self.province_reachable = True
                unstored = {r.op_id for r in answers}
                body = self._next_push(unstored)
                sending = (
                    pool.submit(up.post, RELAY_PREFIX + "/push", body, RelayPushResponse)
                    if body is not None else None
                )
                if answers:
                    self._store_answers(answers)
                    answered += len(answers)
            if sending is not None:
                sending.result()  # stopping: what the province answered is sent again later
        finally:
            pool.shutdown(wait=True)
            up.close()
        return answered

    def _next_push(self, unstored: set[str]) -> RelayPushRequest | None:
        """The next waiting ops (up to 1000), as runs of one replica's ops in the order the
        site hub applied them: each run one group, applied by the province in turn (the
        causal order across desks kept). ``unstored``: answered ops not written yet."""
        with self.db.read() as s:
            rows = s.execute(
                select(RelayOp.station_id, RelayOp.replica_epoch, RelayOp.schema_version,
                       RelayOp.op_id, RelayOp.op)
                .where(RelayOp.province_status.is_(None))
                .order_by(RelayOp.arrival)
                .limit(MAX_OPS_PER_PUSH + len(unstored))
            ).all()
        runs: list[tuple[tuple[str, str], str, list[Op]]] = []
        n = 0
        for station_id, epoch, schema, op_id, op in rows:
            key = (station_id, epoch)
            if key in self._skip or op_id in unstored:
                continue
            if n >= MAX_OPS_PER_PUSH:
                break
            if runs and runs[-1][0] == key:
                runs[-1][2].append(Op.model_validate(op))
            elif len(runs) >= MAX_RELAY_GROUPS:
                break
            else:
                runs.append((key, schema, [Op.model_validate(op)]))
            n += 1
        if not runs:
            return None
        stamp = utc_iso_ms(_now())
        return RelayPushRequest(
            relay_id=self.link.relay_id,
            groups=[
                PushRequest(station_id=st, replica_epoch=ep, schema_version=schema, sent_at=stamp, ops=ops)
                for (st, ep), schema, ops in runs
            ],
        )

    def _answers_of(self, resp: RelayPushResponse) -> list[OpResult]:
        answers: list[OpResult] = []
        for g in resp.groups:
            if g.error is not None:
                # Refused whole (a revoked desk, a regressed replica): logged by code, tried later.
                log.warning("province refused a relayed group: %s", g.error.code)
                self._skip[(g.station_id, g.replica_epoch)] = time.monotonic() + SKIP_GROUP_S
                continue
            if not g.results:
                # A gap: the province expects ops this site hub never received (the desk sent
                # them by the other route, or to a site hub before this one). The desk fills
                # it; this replica waits a while rather than being sent again at once.
                log.info("province expects an earlier op of a relayed replica; waiting")
                self._skip[(g.station_id, g.replica_epoch)] = time.monotonic() + SKIP_GROUP_S
            answers.extend(g.results)
        return answers

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

    def _store_answers(self, answers: list[OpResult]) -> None:
        """The province's answers, one executemany; rows nothing waits on settle (:func:`settle`)."""
        stamp = utc_iso_ms(_now())
        site = self.link.site_code
        by_id = {r.op_id: r for r in answers}

        def run(s: Session) -> None:
            numbering = Numbering()
            waiting = _still_waiting(s, sorted(by_id))
            if not waiting:
                return
            t = table_of(RelayOp)
            s.connection().execute(
                update(t).where(t.c.op_id == bindparam("oid"), t.c.province_status.is_(None))
                .values(province_status=bindparam("st"), province_result=bindparam("res"),
                        answered_at=bindparam("at")),
                [{"oid": oid, "st": by_id[oid].status, "res": by_id[oid].model_dump(mode="json"), "at": stamp}
                 for oid, _, _, _ in waiting],
            )
            settle(s, [(by_id[oid], etype, eid) for oid, etype, eid, _ in waiting], site, numbering)
            refuse_walk_ins(s, [(etype, eid, extra) for oid, etype, eid, extra in waiting
                                if by_id[oid].status == "rejected"], site, numbering)
            numbering.write(s)

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
            numbering = Numbering()
            waiting = _waiting_entities(
                s,
                [c.entity_id for c in page.changes]
                + [str(c.data["person_id"]) for c in page.changes
                   if c.entity_type == "registration" and c.data.get("person_id")],
            )
            persons: set[str] = set()
            shadows = _shadows(s, [(c.entity_type, c.entity_id) for c in page.changes])
            _preload(s, page.changes)
            for ch in page.changes:
                shadow = shadows.get((ch.entity_type, ch.entity_id))
                if shadow is not None and shadow.server_seq >= ch.server_seq:
                    continue
                if shadow is None:
                    shadow = RelayShadow(entity_type=ch.entity_type, entity_id=ch.entity_id,
                                         server_seq=ch.server_seq, kind=ch.kind,
                                         row_version=ch.row_version, data=dict(ch.data), pending=0)
                    s.add(shadow)
                    shadows[(ch.entity_type, ch.entity_id)] = shadow
                else:
                    shadow.server_seq, shadow.kind = ch.server_seq, ch.kind
                    shadow.row_version, shadow.data = ch.row_version, dict(ch.data)
                if _blocked(ch.entity_type, ch.entity_id, ch.data, waiting):
                    shadow.pending = 1  # a desk's op on it is on its way: the provisional row stays
                    continue
                shadow.pending = 0
                if write_live(s, ch.entity_type, ch.entity_id, ch.kind, ch.row_version, dict(ch.data),
                              site, numbering) and ch.entity_type == "person":
                    persons.add(ch.entity_id)
            _claim_id_keys(s, persons)
            _set_meta(s, META_CURSOR, str(max(cursor, page.next_cursor)))
            _set_meta(s, META_PROVINCE_EPOCH, page.hub_epoch)
            numbering.write(s)

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

    def _note_down(self, exc: UpstreamError) -> None:
        if exc.unreachable:
            self.province_reachable = False
        else:
            log.warning("the province refused the site hub: %s", exc.code)


# ---- writing the province's rows into the site hub's tables --------------------------------

MAX_PENDING_PER_SETTLE = 5000
_ORDER = {etype: i for i, etype in enumerate(ENTITY_ORDER)}


def _blocked(etype: str, eid: str, data: Mapping[str, object], waiting: set[str]) -> bool:
    """A desk's op touching this row is still on its way upstream (a registration: also any
    op on its person, e.g. a dose, which moves the registration on)."""
    return eid in waiting or (etype == "registration" and str(data.get("person_id")) in waiting)


def settle(
    s: Session, answered: Sequence[tuple[OpResult, str, str]], site: str, numbering: Numbering
) -> None:
    """The province answered ops (answer, entity type, entity id): rows nothing waits on any
    more take the province's row.

    An op that had no effect there (refused, a losing edit) puts its entity back to the
    province's row at once. An op whose effect the site hub has not pulled yet leaves its
    entity alone: the newer row is on its way down and is written when it comes. Every
    other row kept provisional while ops were waiting (``relay_shadow.pending``) takes the
    province's row now, parents first.
    """
    on_way: set[tuple[str, str]] = set()
    persons: set[str] = set()
    shadows = _shadows(s, [(etype, eid) for _, etype, eid in answered])
    no_effect: list[RelayShadow] = []
    for r, etype, eid in answered:
        shadow = shadows.get((etype, eid))
        if shadow is None:
            continue
        if r.status == "rejected" or not r.ack().entity_changed:
            no_effect.append(shadow)
        elif r.server_seq is not None and shadow.server_seq < r.server_seq:
            on_way.add((etype, eid))
    if no_effect:
        waiting = _waiting_entities(s, [i for sh in no_effect for i in _ids_of(sh)])
        for sh in no_effect:
            if _blocked(sh.entity_type, sh.entity_id, sh.data, waiting):
                continue
            sh.pending = 0
            if write_live(s, sh.entity_type, sh.entity_id, sh.kind, sh.row_version, dict(sh.data),
                          site, numbering) and sh.entity_type == "person":
                persons.add(sh.entity_id)
    pending = s.execute(
        select(RelayShadow).where(RelayShadow.pending == 1).limit(MAX_PENDING_PER_SETTLE)
    ).scalars().all()
    if pending:
        waiting = _waiting_entities(s, [i for sh in pending for i in _ids_of(sh)])
        for sh in sorted(pending, key=lambda x: (_ORDER.get(x.entity_type, 99), x.server_seq)):
            if (sh.entity_type, sh.entity_id) in on_way or _blocked(
                sh.entity_type, sh.entity_id, sh.data, waiting
            ):
                continue
            sh.pending = 0
            if write_live(s, sh.entity_type, sh.entity_id, sh.kind, sh.row_version, dict(sh.data),
                          site, numbering) and sh.entity_type == "person":
                persons.add(sh.entity_id)
    _claim_id_keys(s, persons)


def refuse_walk_ins(
    s: Session, rejected: Sequence[tuple[str, str, str | None]], site: str, numbering: Numbering
) -> None:
    """Walk-ins the province refused do not stay at the site as if accepted.

    ``rejected``: what refused ops touched (entity type, id, second row). A person the site
    hub created from a desk's walk-in whose ``register_person`` the province refused, of
    which the province holds no row and on which no op is still on its way, is set to
    ``refused`` with its registrations here: the desks take the rows (numbered above theirs)
    and no longer find the person (search, queues and counts show active people only). Its
    own desk shows the refused op with the province's reason, as on the direct route.
    """
    candidates: set[str] = set()
    regs: set[str] = set()
    for etype, eid, extra in rejected:
        if etype == "person":
            candidates.add(eid)
            if extra:
                regs.add(extra)
        elif etype == "dose" and extra:
            candidates.add(extra)  # the dose's person: its walk-in may have been refused first
        elif etype == "screening" and extra:
            regs.add(extra)
    if regs:
        candidates.update(s.execute(
            select(Registration.person_id).where(Registration.id.in_(sorted(regs)[:500]))
        ).scalars())
    if not candidates:
        return
    waiting = _waiting_entities(s, candidates)
    known = _shadows(s, [("person", pid) for pid in candidates])
    for pid in sorted(candidates - waiting):
        if ("person", pid) in known:
            continue  # the province holds it (merged, say): its row decides
        walk_in_refused = s.execute(
            select(RelayOp.op_id).where(
                RelayOp.entity_type == "person", RelayOp.entity_id == pid,
                RelayOp.extra_id.is_not(None), RelayOp.province_status == "rejected",
            ).limit(1)
        ).first()
        person = s.get(Person, pid)
        if walk_in_refused is None or person is None or person.status != "active":
            continue
        person.status, person.id_key = "refused", None
        person.version += 1
        numbering.add([ChangeRow(site, "person", pid, "upsert", person.version, row_data("person", person), None)])
        for reg in s.execute(select(Registration).where(Registration.person_id == pid)).scalars():
            reg.status = "refused"
            reg.version += 1
            numbering.add([ChangeRow(site, "registration", reg.id, "upsert", reg.version,
                                     row_data("registration", reg), None)])
    s.flush()


def _still_waiting(s: Session, op_ids: list[str]) -> list[tuple[str, str, str, str | None]]:
    """Of ``op_ids``, those the province had not answered yet: (op id, entity type, entity
    id, second row it touches)."""
    out: list[tuple[str, str, str, str | None]] = []
    for i in range(0, len(op_ids), 500):
        rows = s.execute(
            select(RelayOp.op_id, RelayOp.entity_type, RelayOp.entity_id, RelayOp.extra_id).where(
                RelayOp.op_id.in_(op_ids[i : i + 500]), RelayOp.province_status.is_(None)
            )
        ).tuples()
        out.extend(rows)
    return out


def _ids_of(sh: RelayShadow) -> list[str]:
    ids = [sh.entity_id]
    if sh.entity_type == "registration" and sh.data.get("person_id"):
        ids.append(str(sh.data["person_id"]))
    return ids


def _waiting_entities(s: Session, ids: Iterable[str]) -> set[str]:
    """Of ``ids``, those a desk's op still on its way upstream touches."""
    want = sorted(set(ids))
    out: set[str] = set()
    for i in range(0, len(want), 500):
        chunk = want[i : i + 500]
        out.update(
            s.execute(
                select(RelayOp.entity_id).where(
                    RelayOp.province_status.is_(None), RelayOp.entity_id.in_(chunk)
                )
            ).scalars()
        )
        out.update(
            x for x in s.execute(
                select(RelayOp.extra_id).where(RelayOp.province_status.is_(None), RelayOp.extra_id.in_(chunk))
            ).scalars() if x
        )
    return out


def write_live(
    s: Session,
    etype: str,
    eid: str,
    kind: str,
    row_version: int,
    data: dict[str, object],
    site: str,
    numbering: Numbering,
) -> bool:
    """Set the site hub's row to the province's; logged for the desks. False: nothing changed."""
    if kind == "redirect" or etype == "person_redirect":
        return _write_redirect(s, eid, row_version, data, site, numbering)
    if etype == "review":
        return _write_review(s, eid, row_version, data, site, numbering)
    model = DOMAIN_MODELS.get(etype)
    if model is None:
        return False
    columns = set(table_of(model).columns.keys())
    values = {k: v for k, v in data.items() if k in columns and k != "version"}
    row = s.get(model, eid)
    if row is None:
        row = model(**values)
        setattr(row, "version", row_version)  # noqa: B010 - every domain model has it; Base does not say so
        if isinstance(row, Person):
            row.id_key = None  # claimed after the page (_claim_id_keys)
        s.add(row)
        version = row_version
    else:
        current = row_data(etype, row)
        differs = any(current.get(k) != v for k, v in values.items())
        local = int(getattr(row, "version", 0) or 0)
        if not differs and local >= row_version:
            return False
        for k, v in values.items():
            setattr(row, k, v)
        # Numbered above what the desks hold, so they take the province's row.
        version = row_version if row_version > local else local + 1
        setattr(row, "version", version)  # noqa: B010
        if isinstance(row, Person) and values.get("status") != "active":
            row.id_key = None
            s.flush()  # the number's key is free before another person claims it
    if etype == "person":
        _relate(s, eid, site)
    numbering.add([ChangeRow(site, etype, eid, "upsert", version, row_data(etype, row), None)])
    return True


def _preload(s: Session, changes: Iterable[Change]) -> None:
    """Load a page's existing rows in one query per table and 500 ids: the session then
    finds each without a query of its own (and without flushing the page row by row)."""
    by_type: dict[str, set[str]] = {}
    for c in changes:
        if c.entity_type in DOMAIN_MODELS and c.kind != "redirect" and c.entity_type != "person_redirect":
            by_type.setdefault(c.entity_type, set()).add(c.entity_id)
    for etype, id_set in by_type.items():
        model = DOMAIN_MODELS[etype]
        key = table_of(model).c.id
        ids = sorted(id_set)
        for i in range(0, len(ids), 500):
            s.execute(select(model).where(key.in_(ids[i : i + 500]))).scalars().all()


def _shadows(s: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], RelayShadow]:
    """The province rows kept for ``keys``, in one query per 500 ids."""
    out: dict[tuple[str, str], RelayShadow] = {}
    ids = sorted({k[1] for k in keys})
    for i in range(0, len(ids), 500):
        for sh in s.execute(select(RelayShadow).where(RelayShadow.entity_id.in_(ids[i : i + 500]))).scalars():
            out[(sh.entity_type, sh.entity_id)] = sh
    return out


def _relate(s: Session, person_id: str, site: str) -> None:
    if s.get(PersonSite, (person_id, site)) is None:
        s.add(PersonSite(person_id=person_id, site_code=site))


def _claim_id_keys(s: Session, persons: set[str]) -> None:
    """Active persons written down hold their ID number's key when nobody here holds it."""
    for pid in sorted(persons):
        p = s.get(Person, pid)
        if p is None or p.status != "active" or not p.id_number or p.id_key is not None:
            continue
        holder = s.execute(select(Person.id).where(Person.id_key == p.id_number)).scalar()
        if holder is None:
            p.id_key = p.id_number
            s.flush()


def _write_redirect(s: Session, eid: str, row_version: int, data: dict[str, object], site: str,
                    numbering: Numbering) -> bool:
    to_id = data.get("to_id")
    row = s.get(PersonRedirect, eid)
    if to_id is None:
        if row is None:
            return False
        s.delete(row)
    elif row is None:
        s.add(PersonRedirect(from_id=eid, to_id=str(to_id), created_at=str(data.get("created_at") or ""),
                             version=row_version))
    else:
        if row.to_id == to_id:
            return False
        row.to_id = str(to_id)
        row.version = max(row.version + 1, row_version)
    s.flush()
    numbering.add([ChangeRow(site, "person_redirect", eid, "redirect", row_version, dict(data), None)])
    return True


_REVIEW_FIELDS = ("kind", "priority", "status", "entity_type", "entity_id", "site_codes", "candidates",
                  "created_at", "resolution")


def _write_review(s: Session, eid: str, row_version: int, data: dict[str, object], site: str,
                  numbering: Numbering) -> bool:
    row = s.get(ReviewItem, eid)
    values = {k: data.get(k) for k in _REVIEW_FIELDS}
    if row is None:
        row = ReviewItem(id=eid, version=row_version, **values)
        s.add(row)
    else:
        if all(getattr(row, k) == v for k, v in values.items()) and row.version >= row_version:
            return False
        for k, v in values.items():
            setattr(row, k, v)
        row.version = row_version if row_version > row.version else row.version + 1
    codes = values.get("site_codes")
    for code in codes if isinstance(codes, list) else []:
        if isinstance(code, str) and s.get(ReviewSite, (eid, code)) is None:
            s.add(ReviewSite(review_id=eid, site_code=code))
    s.flush()
    numbering.add([ChangeRow(site, "review", eid, "upsert", int(row.version), dict(data), None)])
    return True


def waiting_ops(db: Database) -> int:
    """Ops the province has not answered yet (the site hub's backlog)."""
    with db.read() as s:
        return int(s.execute(text("SELECT count(*) FROM relay_op WHERE province_status IS NULL")).scalar_one())
