"""The background sync engine: tally, push until the outbox is empty, pull to the head.

Usage::

    engine = SyncEngine(station, lambda: HubClient(url, token), events=[on_event])
    report = engine.run_once()        # one cycle, in the calling thread
    engine.start(); ...; engine.stop()  # or a background thread with its own loop

One cycle (DESIGN §5):

1. probe ``/health`` (offline → stop here, retry later with backoff + jitter);
2. send the signed tally (counts only) so the hub knows the true numbers first;
3. push the outbox in ``op_seq`` order, in batches sized by bytes: shrunk after
   timeouts, grown back after successes. Every per-op answer is recorded in one
   transaction per batch: applied/duplicate → acked, rejected → rejected (the
   queue moves on), conflict_queued → conflict (delivered). A gap answer
   (``expected_next_op_seq`` below our first unanswered op: a restored hub)
   resends from there; ``409 replica.regressed`` (we were restored) rotates the
   replica epoch and re-pushes the same op_ids;
4. pull pages until ``has_more`` is false, each page applied with the cursor in
   one transaction; a new ``hub_epoch`` resets the cursor to 0 and pulls again;
5. purge acked ops past retention; the watchdog flags a stalled queue.

The engine uses the station's own connections per unit of work (``st.read()``
and ``st.pull_writer()`` each take a fresh pooled connection) and never touches
the UI's. Events are plain dataclasses delivered to callbacks (a Qt bridge in
``ui/`` re-emits them as signals). Every loop is bounded in count and time.
Logs carry counts and codes, never personal data.

Crash points for the kill tests: ``TRAMTIEM_CRASH_AT=<name>[:<n>]`` makes the
process ``os._exit(137)`` the n-th time it reaches ``<name>`` (see CRASH_POINTS).
Only under the test suite (``TRAMTIEM_TESTING=1``, set by tests/conftest.py and
inherited by the processes the tests start), never in the shipped bundle: a
stray variable on a site laptop must not make the engine kill itself.
"""

from __future__ import annotations

import logging
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Literal

from pydantic import ValidationError

from kernel.clock import iso
from kernel.ids import uuid7
from station import outbox, replica, tally
from station.store import HEAD_REVISION, Station
from sync.client import (
    Encoded,
    HubClient,
    HubError,
    HubRejected,
    HubTimeout,
    HubUnreachable,
    ReplicaRegressed,
)
from sync.protocol import (
    MAX_BODY_BYTES,
    MAX_OPS_PER_PUSH,
    MAX_PULL_LIMIT,
    Op,
    PullResponse,
    PushRequest,
    TallyRequest,
    TallyRow,
    tally_signature,
)

log = logging.getLogger(__name__)

# ---- crash points ------------------------------------------------------------------------

CRASH_ENV = "TRAMTIEM_CRASH_AT"
TESTING_ENV = "TRAMTIEM_TESTING"
CRASH_POINTS = (
    "after_tally",
    "after_push_send_before_ack_commit",
    "after_ack_commit",
    "mid_pull_apply",
)
_crash_hits: dict[str, int] = {}
_crash_lock = threading.Lock()
_crash_refused: list[str] = []  # logged once per process


def test_hooks_allowed() -> bool:
    """True only under the test suite: never in a frozen (shipped) bundle."""
    return os.environ.get(TESTING_ENV) == "1" and not getattr(sys, "frozen", False)


def crash_point(name: str) -> None:
    """Die like ``kill -9`` here if ``TRAMTIEM_CRASH_AT`` names this point (no-op otherwise)."""
    spec = os.environ.get(CRASH_ENV)
    if not spec:
        return
    if not test_hooks_allowed():
        if not _crash_refused:
            _crash_refused.append(spec)
            log.warning("%s is set outside the test suite: ignored", CRASH_ENV)
        return
    target, _, nth = spec.partition(":")
    if target != name:
        return
    with _crash_lock:
        _crash_hits[name] = _crash_hits.get(name, 0) + 1
        hits = _crash_hits[name]
    if hits >= (int(nth) if nth.isdigit() else 1):
        os._exit(137)


# ---- settings, events, report ----------------------------------------------------------

EngineState = Literal["offline", "connecting", "pushing", "pulling", "idle", "error"]


@dataclass(frozen=True, slots=True)
class SyncSettings:
    """Tunables; defaults suit a slow rural line."""

    batch_bytes_initial: int = 256 * 1024
    batch_bytes_min: int = 4 * 1024
    batch_bytes_max: int = 2 * 1024 * 1024  # well under MAX_BODY_BYTES
    batch_ops_max: int = 500
    # Changes per pull page (the hub allows up to MAX_PULL_LIMIT). 1,000 halves the
    # round trips and commits of 500 (a bootstrap ~10% faster); a page is ~60 KB
    # gzipped, a few seconds on a 256 kbit/s line, and ~30 ms of write lock here.
    pull_limit: int = 1000
    interval_s: float = 30.0  # between full cycles while idle (the long-poll pull watches meanwhile)
    # A committed local write wakes the engine; writes within this long of the last
    # cycle's start wait for the next one (a busy desk: at most one cycle a second).
    write_debounce_s: float = 1.0
    # While idle and online, a long-poll pull waits this long for a sibling's change (0: off).
    long_poll_s: float = 25.0
    backoff_base_s: float = 2.0
    # Backoff caps by kind of failure: no answer at all (the line is down: probe often,
    # each probe is one tiny GET), the hub answering 5xx, and refusals (4xx).
    offline_probe_max_s: float = 30.0
    server_error_max_s: float = 60.0
    backoff_max_s: float = 300.0
    max_transient_failures_per_cycle: int = 4
    max_push_batches_per_cycle: int = 2000
    max_pull_pages_per_cycle: int = 2000
    cycle_time_budget_s: float = 900.0
    stall_cycles: int = 5  # watchdog: online cycles without progress before "stalled"
    retention_days: int = outbox.DEFAULT_RETENTION_DAYS
    seed: int | None = None  # jitter RNG seed (tests)


@dataclass(frozen=True, slots=True)
class SyncEvent:
    """What the status bar shows. Counts and codes only."""

    state: EngineState
    pending: int = 0
    oldest_pending_age_s: float | None = None
    done: int = 0
    total: int = 0
    eta_s: float | None = None
    last_success: str | None = None
    last_error: str | None = None
    rejected: int = 0
    reviews: int = 0
    stalled: bool = False
    phase_detail: str = ""


FailureKind = Literal["offline", "server", "refused"]


def failure_kind(exc: HubError) -> FailureKind:
    """No answer at all (the line), the hub failing (5xx), or the hub refusing (4xx)."""
    if isinstance(exc, HubRejected):
        return "refused"
    if exc.status is not None and exc.status >= 500:
        return "server"
    return "offline"


@dataclass(slots=True)
class SyncReport:
    """The outcome of one cycle."""

    ok: bool = False
    online: bool = False
    error: str | None = None
    failure: FailureKind | None = None
    tally_sent: bool = False
    closing_tally: bool = False  # sent again at the end (own doses pulled back, new epoch)
    pushed: int = 0  # applied
    duplicate: int = 0
    rejected: int = 0
    conflict: int = 0
    batches: int = 0
    pulled: int = 0  # changes applied
    pull_pages: int = 0
    own_pulled: int = 0  # of them, doses this station entered (a restored backup pulling back)
    parked: int = 0
    refetched: bool = False
    epoch_rotated: bool = False
    pending_left: int = 0
    cursor: int = 0
    stalled: bool = False
    duration_s: float = 0.0
    timeouts: int = 0
    batch_bytes: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return self.pushed + self.duplicate + self.rejected + self.conflict


Listener = Callable[[SyncEvent], None]
ClientFactory = Callable[[], HubClient]


@dataclass(frozen=True, slots=True)
class _Remote:
    """What a long-poll pull brought back (a page, or the error that ended it)."""

    cursor: int
    page: PullResponse | None
    error: HubError | None
    elapsed_s: float


class _CycleAbort(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SyncEngine:
    """See the module docstring. Thread-safe: one cycle runs at a time."""

    def __init__(
        self,
        station: Station,
        client_factory: ClientFactory,
        *,
        events: Listener | Iterable[Listener] | None = None,
        settings: SyncSettings | None = None,
        rng: random.Random | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.st = station
        self.client_factory = client_factory
        self.settings = settings or SyncSettings()
        self.rng = rng or random.Random(self.settings.seed)
        self._monotonic = monotonic
        if events is None:
            self._listeners: list[Listener] = []
        elif callable(events):
            self._listeners = [events]
        else:
            self._listeners = list(events)
        self._batch_bytes = self.settings.batch_bytes_initial
        self._cycle_lock = threading.Lock()
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._failures = 0
        self._failure_kind: FailureKind = "offline"
        self._no_progress_cycles = 0
        # Why the background loop was woken (flags; ``_wake`` is only the doorbell).
        self._write_flag = False
        self._manual_flag = False
        self._remote: _Remote | None = None
        self._remote_lock = threading.Lock()
        self._watcher: threading.Thread | None = None
        self._watch_off_until = 0.0
        self._cycle_started = -1e9
        self._last_success: str | None = None
        self._last_error: str | None = None
        self.last_event: SyncEvent | None = None
        self.last_report: SyncReport | None = None

    # ---- listeners -----------------------------------------------------------------

    def add_listener(self, cb: Listener) -> None:
        self._listeners.append(cb)

    def remove_listener(self, cb: Listener) -> None:
        if cb in self._listeners:
            self._listeners.remove(cb)

    def _emit(
        self,
        state: EngineState,
        *,
        done: int = 0,
        total: int = 0,
        eta_s: float | None = None,
        last_error: str | None = None,
    ) -> None:
        ev = replace(self.status(), state=state, done=done, total=total, eta_s=eta_s)
        if last_error is not None or state == "idle":
            ev = replace(ev, last_error=last_error)
        self.last_event = ev
        for cb in list(self._listeners):
            try:
                cb(ev)
            except Exception:  # a broken listener must not stop sync
                log.exception("sync event listener failed")

    # ---- background thread ---------------------------------------------------------

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self.st.add_commit_listener(self.notify_write)
        self._thread = threading.Thread(target=self._loop, name="tramtiem-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> bool:
        """Ask the thread to stop after the current step; True if it ended within ``timeout``.

        A long-poll in flight is left to end on its own (a daemon thread that
        touches nothing once the engine stopped).
        """
        self._stop.set()
        self._wake.set()
        self.st.remove_commit_listener(self.notify_write)
        t = self._thread
        if t is None:
            return True
        t.join(timeout)
        return not t.is_alive()

    def run_forever(self, on_report: Callable[[SyncReport], None] | None = None) -> None:
        """The background loop in the calling thread (``tramtiem sync`` without ``--once``)."""
        self._stop.clear()
        self.st.add_commit_listener(self.notify_write)
        try:
            self._loop(on_report)
        finally:
            self.st.remove_commit_listener(self.notify_write)

    def trigger(self) -> None:
        """Run the next cycle now ("Sync now")."""
        self._manual_flag = True
        self._wake.set()

    def notify_write(self) -> None:
        """A local write was committed: sync it soon (coalesced, see ``write_debounce_s``)."""
        self._write_flag = True
        self._wake.set()

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _cap(self, kind: FailureKind) -> float:
        s = self.settings
        if kind == "offline":
            return min(s.offline_probe_max_s, s.backoff_max_s)
        if kind == "server":
            return min(s.server_error_max_s, s.backoff_max_s)
        return s.backoff_max_s

    def backoff_delay(self, failures: int, kind: FailureKind | None = None) -> float:
        """Exponential backoff with jitter, bounded: in [d/2, d], d = min(cap, base·2^(n-1)).

        The cap depends on the kind of the last failure: a dead line is probed
        every ``offline_probe_max_s`` at most (so the tally reaches the hub soon
        after the line is back), a failing hub is given more room.
        """
        if failures <= 0:
            return self.settings.interval_s
        cap = self._cap(kind or self._failure_kind)
        d = min(cap, self.settings.backoff_base_s * 2.0 ** min(failures - 1, 20))
        return float(d / 2 + self.rng.random() * d / 2)

    def next_delay(self, report: SyncReport) -> float:
        """How long the loop waits after ``report`` unless something wakes it earlier."""
        if report.ok:
            return self.settings.interval_s if report.pending_left == 0 else 0.5
        return self.backoff_delay(self._failures, report.failure or self._failure_kind)

    # ---- the background loop ---------------------------------------------------------

    def _loop(self, on_report: Callable[[SyncReport], None] | None = None) -> None:
        while not self._stop.is_set():
            self._cycle_started = self._monotonic()
            self._write_flag = False  # writes until now are in this cycle
            self._manual_flag = False
            try:
                report = self.run_once()
            except Exception:  # never let the thread die silently
                log.exception("sync cycle crashed")
                report = SyncReport(error="engine.crashed")
            if on_report is not None:
                on_report(report)
            if self._stop.is_set():
                break
            self._idle(report)

    def _idle(self, report: SyncReport) -> None:
        """Wait for the next reason to run a cycle: time, "Sync now", a local write, a remote change.

        While idle and online a long-poll pull watches the hub; a page it brings is
        applied here without a full cycle. While the hub cannot be reached a local
        write does not cut the backoff short: the next probe comes on schedule.
        """
        deadline = self._monotonic() + self.next_delay(report)
        idle_online = report.ok and report.pending_left == 0
        for _ in range(100_000):  # bounded: each round waits or ends the idle period
            if self._stop.is_set():
                return
            if idle_online:
                self._arm_watch()
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                return
            self._wake.wait(remaining)
            self._wake.clear()
            if self._stop.is_set():
                return
            if self._manual_flag:
                return
            remote = self._take_remote()
            if remote is not None and self._handle_remote(remote):
                return
            if self._write_flag and report.ok:
                # Coalesce: at most one cycle per write_debounce_s; writes meanwhile join it.
                wait_more = self._cycle_started + self.settings.write_debounce_s - self._monotonic()
                if wait_more > 0:
                    self._stop.wait(wait_more)
                return

    # ---- long-poll watch ---------------------------------------------------------------

    def _arm_watch(self) -> None:
        s = self.settings
        if s.long_poll_s <= 0 or self._monotonic() < self._watch_off_until:
            return
        if self._watcher is not None and self._watcher.is_alive():
            return
        with self._remote_lock:
            if self._remote is not None:
                return  # a page waits to be applied
        state = self.st.sync_state()
        cursor, epoch = int(state["pull_cursor"]), str(state["replica_epoch"])
        self._watcher = threading.Thread(
            target=self._watch, args=(cursor, epoch), name="tramtiem-sync-watch", daemon=True
        )
        self._watcher.start()

    def _watch(self, cursor: int, epoch: str) -> None:
        started = self._monotonic()
        limit = max(1, min(self.settings.pull_limit, MAX_PULL_LIMIT))
        result: _Remote
        try:
            client = self.client_factory()
        except Exception:
            log.exception("sync watch: no client")
            return
        try:
            page = client.pull(cursor, limit, epoch, wait_s=self.settings.long_poll_s)
            result = _Remote(cursor, page, None, self._monotonic() - started)
        except HubError as exc:
            result = _Remote(cursor, None, exc, self._monotonic() - started)
        except Exception:  # a bug must not kill the thread silently, nor spin
            log.exception("sync watch failed")
            result = _Remote(cursor, None, HubUnreachable("watch.crashed"), self._monotonic() - started)
        finally:
            client.close()
        if self._stop.is_set():
            return
        with self._remote_lock:
            self._remote = result
        self._wake.set()

    def _take_remote(self) -> _Remote | None:
        with self._remote_lock:
            r, self._remote = self._remote, None
        return r

    def _handle_remote(self, r: _Remote) -> bool:
        """Apply what a long-poll brought; True when a full cycle should run now instead."""
        if r.error is not None:
            if failure_kind(r.error) == "refused":
                # E.g. a hub without long-poll support refusing the parameter: stop watching a while.
                self._watch_off_until = self._monotonic() + self.settings.interval_s
                return False
            return True  # the line or the hub is in trouble: a cycle probes and backs off
        page = r.page
        assert page is not None
        if not page.changes and not page.has_more:
            if r.elapsed_s < self.settings.long_poll_s / 2:
                # An empty answer at once: this hub does not hold pulls. Plain cycles only.
                self._watch_off_until = self._monotonic() + self.settings.interval_s
            return False
        with self._cycle_lock:
            report = SyncReport(online=True)
            try:
                res = replica.apply_page(self.st, page, from_cursor=r.cursor, hook=crash_point)
            except replica.StaleCursor:
                return False  # a cycle pulled meanwhile
            except replica.MustRefetch:
                return True
            report.pull_pages = 1
            report.pulled = res.applied + res.redirects + res.reviews
            report.own_pulled = self._own_doses(page)
            client = self.client_factory()
            try:
                if page.has_more:
                    self._pull_all(client, report, self._monotonic() + self.settings.cycle_time_budget_s)
                if report.own_pulled:
                    self._send_tally(client, report)
            except (HubError, _CycleAbort) as exc:
                log.info("sync watch: pulling the rest failed (%s)", getattr(exc, "code", ""))
                return True
            finally:
                client.close()
            self._emit("idle")
        log.info("sync watch: %d change(s) pulled", report.pulled)
        return False

    def _own_doses(self, page: PullResponse) -> int:
        me = self.st.install_id
        return sum(
            1
            for c in page.changes
            if c.entity_type == "dose" and c.data.get("origin_station") == me
        )

    # ---- one cycle -------------------------------------------------------------------

    def run_once(self) -> SyncReport:
        with self._cycle_lock:
            return self._run_cycle()

    def _run_cycle(self) -> SyncReport:
        report = SyncReport()
        started = self._monotonic()
        deadline = started + self.settings.cycle_time_budget_s
        cursor_before = int(self.st.sync_state()["pull_cursor"])
        self._emit("connecting")
        client = self.client_factory()
        try:
            try:
                client.health()
            except HubError as exc:
                report.error = exc.code
                report.failure = self._failure_kind = failure_kind(exc)
                self._failures += 1
                self._last_error = exc.code
                return self._finish(report, started, cursor_before, "offline")
            report.online = True
            self._send_tally(client, report)
            crash_point("after_tally")
            self._push_all(client, report, deadline)
            self._pull_all(client, report, deadline)
            if report.own_pulled or report.epoch_rotated:
                # Our own doses came back (a restored backup) or we became a new replica:
                # the hub's cross-check should see the station as it is now.
                self._send_tally(client, report)
                report.closing_tally = True
            outbox.purge_acked(self.st, older_than_days=self.settings.retention_days)
            report.ok = True
            self._failures = 0
            self._last_error = None
            self._last_success = iso(self.st.clock())
        except _CycleAbort as exc:
            report.error = exc.code
            report.failure = "server"
        except HubUnreachable as exc:
            report.error = exc.code
            report.failure = failure_kind(exc)
        except HubRejected as exc:
            report.error = exc.code
            report.failure = "refused"
        finally:
            client.close()
        if not report.ok:
            self._failures += 1
            self._last_error = report.error
            self._failure_kind = report.failure or "server"
        return self._finish(report, started, cursor_before, "idle" if report.ok else "error")

    def _finish(self, report: SyncReport, started: float, cursor_before: int, state: EngineState) -> SyncReport:
        counts = outbox.counts(self.st)
        report.pending_left = counts.waiting
        report.cursor = int(self.st.sync_state()["pull_cursor"])
        report.batch_bytes = self._batch_bytes
        # Watchdog (research §2.4): online, ops waiting, yet nothing answered and the
        # cursor did not move — for K cycles in a row. Offline cycles do not count.
        if report.online:
            progress = report.answered > 0 or report.cursor != cursor_before
            if report.pending_left > 0 and not progress:
                self._no_progress_cycles += 1
            else:
                self._no_progress_cycles = 0
        report.stalled = self._no_progress_cycles >= self.settings.stall_cycles
        if report.stalled:
            log.warning("sync stalled: %d ops waiting, no progress for %d cycles",
                        report.pending_left, self._no_progress_cycles)
        report.duration_s = self._monotonic() - started
        self.last_report = report
        self._emit(state, last_error=report.error if state != "idle" else None)
        log.info(
            "sync cycle %s: pushed=%d duplicate=%d rejected=%d conflict=%d pulled=%d pending=%d %.1fs",
            "ok" if report.ok else f"failed ({report.error})", report.pushed, report.duplicate,
            report.rejected, report.conflict, report.pulled, report.pending_left, report.duration_s,
        )
        return report

    # ---- tally -----------------------------------------------------------------------

    def _send_tally(self, client: HubClient, report: SyncReport) -> None:
        req = build_tally_request(self.st, client.token or "")
        try:
            client.tally(req)
            report.tally_sent = True
        except HubRejected as exc:
            # A refused tally must not hold back the records themselves.
            report.errors.append(exc.code)
            log.warning("tally refused by the hub: %s", exc.code)

    # ---- push ------------------------------------------------------------------------

    def _push_all(self, client: HubClient, report: SyncReport, deadline: float) -> None:
        """Push until the outbox is empty, one batch in flight at a time.

        While a batch is in flight (the hub is working), this thread prepares the
        next one and records the previous batch's answers: once a batch came back
        clean (every op answered, no gap) the next is sent before those answers
        are committed. Order at the hub is unchanged (one request at a time); a
        crash between the two leaves the earlier ops ``inflight``, and the ledger
        answers ``duplicate`` when they go again. Any other outcome drops the
        prepared batch and records at once, as before.
        """
        s = self.settings
        total = outbox.counts(self.st).waiting
        t0 = self._monotonic()
        transient = 0
        rotations = 0
        no_answer_rounds = 0
        resend_from: int | None = None
        last_gap: int | None = None
        same_gap = 0
        op_cap = min(s.batch_ops_max, MAX_OPS_PER_PUSH)
        ahead: list[Op] | None = None  # the next batch, prepared while one was in flight
        ahead_wire: Encoded[PushRequest] | None = None  # ... and its request, encoded
        deferred: tuple[list[outbox.Ack], int] | None = None  # a clean batch's answers
        pool = ThreadPoolExecutor(1, thread_name_prefix="tramtiem-push")

        def record(acks: list[outbox.Ack], skew_ms: int) -> outbox.AckSummary:
            res = outbox.record_acks(self.st, acks, now=self.st.clock(), clock_skew_ms=skew_ms)
            crash_point("after_ack_commit")
            report.batches += 1
            report.pushed += res.acked
            report.duplicate += res.duplicate
            report.rejected += res.rejected
            report.conflict += res.conflict
            return res

        try:
            for _ in range(s.max_push_batches_per_cycle):
                if self._stop.is_set() or self._monotonic() > deadline:
                    return
                wire: Encoded[PushRequest] | None = None
                if ahead is not None:
                    ops, ahead = ahead, None
                    wire, ahead_wire = ahead_wire, None
                else:
                    batch = outbox.next_batch(
                        self.st, max_bytes=self._batch_bytes, max_ops=op_cap, from_seq=resend_from
                    )
                    if not batch:
                        if resend_from is None:
                            return
                        resend_from = None
                        continue
                    ops, bad = self._wire_ops(batch)
                    if bad:
                        if deferred is not None:
                            record(*deferred)
                            deferred = None
                        self._reject_locally(bad, report)
                        resend_from = None
                        continue
                    if not ops:
                        continue
                epoch = str(self.st.sync_state()["replica_epoch"])
                if wire is None or wire.model.replica_epoch != epoch or [o.op_id for o in wire.model.ops] != [
                    o.op_id for o in ops
                ]:
                    wire = None
                    req = self._push_request(epoch, ops)
                op_ids = [o.op_id for o in ops]
                outbox.mark_inflight(self.st, op_ids)
                self._emit("pushing", done=report.answered, total=total, eta_s=self._eta(report, total, t0))
                sent = pool.submit(client.push, wire if wire is not None else req)
                # The hub works on this batch meanwhile: answers of the last one, next batch.
                if deferred is not None:
                    record(*deferred)
                    deferred = None
                if resend_from is None:
                    ahead = self._prepare_after(ops[-1].op_seq, op_cap)
                    # Encoded now too (JSON, gzip: ~9 ms a 500-op batch), so a clean answer
                    # is followed by the next send at once. Its sent_at is earlier by at most
                    # the hub's time for one batch: nothing next to the 5-minute skew tolerance.
                    ahead_wire = None if ahead is None else client.encode(self._push_request(epoch, ahead))
                try:
                    resp = sent.result()
                except ReplicaRegressed:
                    ahead = None
                    rotations += 1
                    if rotations > 2:
                        raise _CycleAbort("push.replica_regressed_loop") from None
                    replica.rotate_replica_epoch(self.st, uuid7())
                    report.epoch_rotated = True
                    resend_from = None
                    continue
                except HubTimeout as exc:
                    ahead = None
                    # Maybe applied (lost ack): the same op_ids go again; smaller batches
                    # get through a line that cannot carry the big one within the timeout.
                    outbox.mark_error(self.st, op_ids, exc.code)
                    report.timeouts += 1
                    self._batch_bytes = max(s.batch_bytes_min, self._batch_bytes // 2)
                    op_cap = max(1, min(op_cap, len(ops)) // 2) if len(ops) > 1 else 1
                    transient += 1
                    if transient >= s.max_transient_failures_per_cycle:
                        raise
                    continue
                except HubUnreachable as exc:
                    ahead = None
                    outbox.mark_error(self.st, op_ids, exc.code)
                    transient += 1
                    if transient >= s.max_transient_failures_per_cycle:
                        raise
                    continue
                except HubRejected as exc:
                    ahead = None
                    outbox.mark_error(self.st, op_ids, exc.code)
                    if exc.code in _GARBLED_CODES:
                        # The body arrived damaged (a middlebox cut or mangled it): resend as is.
                        transient += 1
                        if transient >= s.max_transient_failures_per_cycle:
                            raise
                        continue
                    if exc.status in (413, 422) and exc.code not in _FATAL_CODES:
                        # The request as a whole was refused: halve to find the culprit; a
                        # single op refused this way is recorded as rejected so the queue moves.
                        if len(ops) == 1:
                            self._reject_locally([outbox.Ack(ops[0].op_id, "rejected", None, exc.code)], report)
                            resend_from = None
                        else:
                            op_cap = max(1, len(ops) // 2)
                            self._batch_bytes = max(s.batch_bytes_min, self._batch_bytes // 2)
                        continue
                    raise
                crash_point("after_push_send_before_ack_commit")
                # The effect seq is kept only when the op changed its own entity (see
                # station.replica.settle): a losing edit's seq is its review item's.
                acks = [
                    outbox.Ack(
                        r.op_id,
                        r.status,
                        r.server_seq if r.detail.get("entity_changed", True) else None,
                        r.reason,
                        no_echo=r.detail.get("no_echo") is True,
                    )
                    for r in resp.results
                ]
                acked_ids = {a.op_id for a in acks}
                transient = 0
                clean = (
                    ahead is not None
                    and acked_ids.issuperset(op_ids)
                    and all(a.status in outbox.ACK_STATE for a in acks)
                    and resp.expected_next_op_seq == ops[-1].op_seq + 1
                )
                if clean:
                    # Recorded once the prepared batch is on its way (above).
                    deferred = (acks, resp.clock_skew_ms)
                    self._batch_bytes, op_cap = self._grown(self._batch_bytes, op_cap)
                    no_answer_rounds = 0
                    continue
                ahead = None
                res = record(acks, resp.clock_skew_ms)
                answered = res.acked + res.duplicate + res.rejected + res.conflict
                # Put back sent ops the hub did not answer (it stopped at a gap).
                unanswered = [o for o in op_ids if o not in acked_ids]
                if unanswered:
                    outbox.mark_error(self.st, unanswered, "push.not_answered")
                if answered:
                    self._batch_bytes, op_cap = self._grown(self._batch_bytes, op_cap)
                    no_answer_rounds = 0
                else:
                    no_answer_rounds += 1
                    if no_answer_rounds >= 3:
                        raise _CycleAbort("push.no_progress")
                resend_from = self._gap(resp.expected_next_op_seq, report)
                if resend_from is not None:
                    same_gap = same_gap + 1 if resend_from == last_gap else 1
                    last_gap = resend_from
                    if same_gap > 3:
                        # Resending did not move the hub past this op_seq: stop, say so.
                        raise _CycleAbort("push.gap_stuck")
                self._emit("pushing", done=report.answered, total=total, eta_s=self._eta(report, total, t0))
        finally:
            if deferred is not None:
                # Answers the hub gave are never dropped, whatever ends the loop.
                record(*deferred)
            pool.shutdown(wait=True)

    def _push_request(self, epoch: str, ops: list[Op]) -> PushRequest:
        return PushRequest(
            station_id=self.st.install_id,
            replica_epoch=epoch,
            schema_version=HEAD_REVISION,
            sent_at=iso(self.st.clock()),
            ops=ops,
        )

    def _grown(self, batch_bytes: int, op_cap: int) -> tuple[int, int]:
        """Batch limits after a batch got through: bytes × 1.5, ops × 2 (bounded)."""
        s = self.settings
        return (
            min(s.batch_bytes_max, MAX_BODY_BYTES // 2, int(batch_bytes * 1.5) + 1),
            min(s.batch_ops_max, MAX_OPS_PER_PUSH, max(op_cap, 1) * 2),
        )

    def _prepare_after(self, last_seq: int, op_cap: int) -> list[Op] | None:
        """The batch after ``last_seq``, read while the current one is in flight (None: none or odd).

        Sized as if the batch in flight gets through: only then is it used.
        """
        max_bytes, max_ops = self._grown(self._batch_bytes, op_cap)
        batch = outbox.next_batch(self.st, max_bytes=max_bytes, max_ops=max_ops, after_seq=last_seq)
        if not batch:
            return None
        ops, bad = self._wire_ops(batch)
        return ops if ops and not bad else None

    def _reject_locally(self, acks: list[outbox.Ack], report: SyncReport) -> None:
        """Record ops as rejected that the hub never ledgered (it could not even read them).

        The hub would wait for their op_seq for ever (a gap), so this replica
        continues under a new epoch: the hub starts a new replica at the first
        op_seq it sees, and the refused ops stay visible to the supervisor.
        """
        res = outbox.record_acks(self.st, acks, now=self.st.clock())
        report.rejected += res.rejected
        replica.rotate_replica_epoch(self.st, uuid7())
        report.epoch_rotated = True
        log.warning("%d op(s) refused before the hub could read them; replica epoch rotated", len(acks))

    def _gap(self, expected: int, report: SyncReport) -> int | None:
        """Where to resend from when the hub expects an op_seq below our first unanswered one."""
        first = outbox.first_unanswered_seq(self.st)
        if first is None or expected >= first:
            return None
        held = outbox.min_seq(self.st)
        if held is not None and expected >= held:
            log.warning("hub expects op_seq %d, before our first unanswered %d: resending", expected, first)
            return expected
        # The hub lost ops we no longer hold (purged after retention): continue as a
        # new replica so the hub takes the remaining ops; the lost ones are in its
        # backups or gone — say so loudly.
        log.error("hub expects op_seq %d, which this station purged; rotating replica epoch", expected)
        replica.rotate_replica_epoch(self.st, uuid7())
        report.epoch_rotated = True
        report.errors.append("push.gap_unrecoverable")
        return None

    def _wire_ops(self, batch: list[outbox.OutboxOp]) -> tuple[list[Op], list[outbox.Ack]]:
        ops: list[Op] = []
        bad: list[outbox.Ack] = []
        for o in batch:
            try:
                ops.append(Op.model_validate(o.wire()))
            except ValidationError:
                # An op the wire format cannot carry would block the queue forever.
                bad.append(outbox.Ack(o.op_id, "rejected", None, "station.invalid_op"))
        return ops, bad

    def _eta(self, report: SyncReport, total: int, t0: float) -> float | None:
        done = report.answered
        elapsed = self._monotonic() - t0
        if done <= 0 or elapsed <= 0:
            return None
        return max(0.0, (total - done) / (done / elapsed))

    # ---- pull ------------------------------------------------------------------------

    def _pull_all(self, client: HubClient, report: SyncReport, deadline: float) -> None:
        """Pull to the head. While a page is applied, the next one is already being fetched
        (reads only: it is used only if the stored cursor and replica are still the ones
        it was asked for, otherwise fetched again)."""
        s = self.settings
        limit = max(1, min(s.pull_limit, MAX_PULL_LIMIT))
        refetches = 0
        pool = ThreadPoolExecutor(1, thread_name_prefix="tramtiem-pull")
        ahead: tuple[int, str, Future[PullResponse]] | None = None
        try:
            for _ in range(s.max_pull_pages_per_cycle):
                if self._stop.is_set() or self._monotonic() > deadline:
                    return
                state = self.st.sync_state()
                cursor = int(state["pull_cursor"])
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
                    res = replica.apply_page(self.st, page, from_cursor=cursor, hook=crash_point)
                except replica.MustRefetch as exc:
                    refetches += 1
                    if refetches > 1:
                        raise _CycleAbort("pull.refetch_loop") from None
                    replica.reset_for_refetch(self.st, exc.hub_epoch)
                    report.refetched = True
                    continue
                except replica.StaleCursor:
                    continue
                report.pull_pages += 1
                report.pulled += res.applied + res.redirects + res.reviews
                report.own_pulled += self._own_doses(page)
                report.parked += res.parked
                self._emit("pulling", done=res.next_cursor, total=page.head_seq)
                if not page.has_more:
                    return
        finally:
            # A fetch still running is waited for (bounded by the client's timeouts);
            # its page, or its error, is dropped.
            pool.shutdown(wait=True)

    # ---- helpers for the CLI and tests ---------------------------------------------------

    def status(self) -> SyncEvent:
        """The current numbers without running a cycle."""
        counts = outbox.counts(self.st)
        return SyncEvent(
            state=self.last_event.state if self.last_event else "idle",
            pending=counts.waiting,
            oldest_pending_age_s=outbox.oldest_pending_age_s(self.st),
            last_success=self._last_success,
            last_error=self._last_error,
            rejected=counts.rejected,
            reviews=replica.open_review_count(self.st),
            stalled=self._no_progress_cycles >= self.settings.stall_cycles,
        )


def build_tally_request(st: Station, token: str) -> TallyRequest:
    """The station's signed tally as the engine sends it (counts of its own doses only)."""
    t = tally.compute(st)
    rows = [TallyRow.model_validate(r) for r in tally.wire_rows(t)]
    return TallyRequest(
        station_id=st.install_id,
        generated_at=t.generated_at,
        rows=rows,
        outbox_pending=t.outbox_pending,
        oldest_pending_at=t.oldest_pending_at,
        replica_epoch=t.replica_epoch,
        signature=tally_signature(token, rows),
    )


# 400s that mean the bytes were damaged in transit, not that the ops are bad.
_GARBLED_CODES = frozenset({"request.bad_encoding", "request.malformed_json"})
# Refusals of the whole request that splitting cannot fix.
_FATAL_CODES = frozenset(
    {"auth.invalid_token", "auth.missing_token", "auth.no_token", "protocol.unsupported_version",
     "station.unknown", "station.mismatch"}
)


__all__ = [
    "CRASH_ENV",
    "CRASH_POINTS",
    "ClientFactory",
    "EngineState",
    "FailureKind",
    "SyncEngine",
    "SyncEvent",
    "SyncReport",
    "SyncSettings",
    "build_tally_request",
    "crash_point",
    "failure_kind",
]
