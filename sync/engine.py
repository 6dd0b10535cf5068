"""The background sync engine: tally, push until the outbox is empty, pull to the head.

Usage::

    engine = SyncEngine(station, lambda: HubClient(url, token), events=[on_event])
    report = engine.run_once()        # one cycle, in the calling thread
    engine.start(); ...; engine.stop()  # or a background thread with its own loop

One cycle (DESIGN §5):

1. probe ``/health`` (offline → stop here, retry later with backoff + jitter);
2. send the signed tally (counts only) so the hub knows the true numbers first; purge
   acked ops past retention (while ``sync.preload`` imports the push);
3. push the outbox in ``op_seq`` order (``sync.push``: batches sized by bytes,
   the next one prepared while the hub works, gap recovery, epoch rotation);
   every per-op answer is recorded in one transaction per batch (``station.acks``);
4. pull pages until ``has_more`` is false (``sync.pull``), each page applied with
   the cursor in one transaction; a new ``hub_epoch`` resets the cursor and pulls again.
   The watchdog flags a stalled queue.

The engine uses the station's own connections per unit of work, never the UI's.
Events are plain dataclasses delivered to callbacks (a Qt bridge in ``ui/`` re-emits
them as signals). Every loop is bounded in count and time. Logs carry counts and
codes, never personal data. Crash points for the kill tests: ``sync.crash``.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kernel.clock import iso
from station import outbox, sync_status, syncstate
from station.store import Station
from sync import fastlink, revocations
from sync.client import HubClient, HubError, HubRejected, HubUnreachable
from sync.crash import CRASH_ENV, CRASH_POINTS, TESTING_ENV, crash_point, test_hooks_allowed
from sync.engine_settings import SyncSettings
from sync.events import (
    Backlog,
    CycleFinished,
    CycleOutcome,
    CycleStarted,
    EngineState,
    EngineStatus,
    PullProgress,
    PushProgress,
    RemoteApplied,
    SyncEvent,
)
from sync.lean import MAX_ANSWER_IDS, MAX_PULL_LIMIT, EmptyPage
from sync.preload import preload_done, preload_push
from sync.pull import own_doses, pull_to_head
from sync.report import CycleAbort, FailureKind, SyncReport, failure_kind
from sync.tally_request import build_tally_request, tally_body

if TYPE_CHECKING:
    from sync.protocol import PullResponse

log = logging.getLogger(__name__)

Listener = Callable[[SyncEvent], None]
ClientFactory = Callable[[], HubClient]


@dataclass(frozen=True, slots=True)
class _Remote:
    """What a long-poll pull brought back (a page, or the error that ended it)."""

    cursor: int
    page: PullResponse | EmptyPage | None
    error: HubError | None
    elapsed_s: float


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
        route: str = "province",
    ) -> None:
        if route not in ("province", "site_hub"):
            raise ValueError("route: province or site_hub")
        # "site_hub": the client talks to the site hub on the LAN (docs/site-hub.md):
        # its answers make ops relay_accepted; the province's answers come through it.
        self.route = route
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

    def _emit(self, ev: SyncEvent) -> None:
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
        A long-poll in flight is left to end on its own (a daemon thread that touches
        nothing once the engine stopped)."""
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

    def trigger(self) -> None:  # "Sync now"
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
            if report.pending_left:
                return 0.5
            if report.relay_waiting:
                return min(self.settings.interval_s, self.settings.relay_answers_poll_s)
            return self.settings.interval_s
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
        cursor, epoch = syncstate.cursor_of(state, self.route), str(state["replica_epoch"])
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
        from station import replica

        with self._cycle_lock:
            report = SyncReport(online=True)
            try:
                res = replica.apply_page(
                    self.st, page, from_cursor=r.cursor, hook=crash_point, route=self.route
                )
            except replica.StaleCursor:
                return False  # a cycle pulled meanwhile
            except replica.MustRefetch:
                return True
            report.pull_pages = 1
            report.pulled = res.applied + res.redirects + res.reviews
            report.own_pulled = own_doses(self.st, page)
            client = self.client_factory()
            try:
                if page.has_more:
                    self._pull_all(client, report, self._monotonic() + self.settings.cycle_time_budget_s)
                if report.own_pulled:
                    self._send_tally(client, report)
            except (HubError, CycleAbort) as exc:
                log.info("sync watch: pulling the rest failed (%s)", getattr(exc, "code", ""))
                return True
            finally:
                client.close()
            backlog = self._backlog()
            backlog["last_error"] = None
            self._emit(RemoteApplied(**backlog, pulled=report.pulled))
        log.info("sync watch: %d change(s) pulled", report.pulled)
        return False

    # ---- one cycle -------------------------------------------------------------------

    def run_once(self) -> SyncReport:
        with self._cycle_lock:
            return self._run_cycle()

    def _run_cycle(self) -> SyncReport:
        report = SyncReport()
        started = self._monotonic()
        deadline = started + self.settings.cycle_time_budget_s
        cursor_before = syncstate.cursor_of(self.st.sync_state(), self.route)
        self._emit(CycleStarted(**self._backlog()))
        preload = preload_push(self.st, self.route)  # while the hub is probed and the tally sent
        client = self.client_factory()
        try:
            try:
                probe = time.perf_counter()
                client.health()
                fastlink.tune(client, time.perf_counter() - probe)  # gzip level 1 on loopback/LAN
            except HubError as exc:
                report.error = exc.code
                report.failure = self._failure_kind = failure_kind(exc)
                self._failures += 1
                self._last_error = exc.code
                return self._finish(report, started, cursor_before, "offline")
            report.online = True
            self._send_tally(client, report)
            crash_point("after_tally")
            # Before the push: never this cycle's answers; it fills the wait for sync.preload.
            outbox.purge_acked(self.st, older_than_days=self.settings.retention_days)
            self._push_all(client, report, deadline)
            self._pull_all(client, report, deadline)
            if self.route == "site_hub":
                self._collect_answers(client, report)
            if report.own_pulled or report.epoch_rotated:
                # Our own doses came back (a restored backup) or we became a new replica:
                # the hub's cross-check should see the station as it is now.
                self._send_tally(client, report)
                report.closing_tally = True
            if self.route == "province":  # the site hub certificates the province revoked
                revocations.refresh_due(self.st, client)
            report.ok = True
            self._failures = 0
            self._last_error = None
            self._last_success = iso(self.st.clock())
        except CycleAbort as exc:
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
            preload_done(preload)
        if not report.ok:
            self._failures += 1
            self._last_error = report.error
            self._failure_kind = report.failure or "server"
        return self._finish(report, started, cursor_before, "idle" if report.ok else "error")

    def _finish(self, report: SyncReport, started: float, cursor_before: int, state: CycleOutcome) -> SyncReport:
        counts = outbox.counts(self.st)
        # The site hub route is done with an op once the site hub holds it.
        report.pending_left = counts.unsent if self.route == "site_hub" else counts.waiting
        report.relay_waiting = counts.relay_accepted if self.route == "site_hub" else 0
        report.cursor = syncstate.cursor_of(self.st.sync_state(), self.route)
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
        backlog = self._backlog()
        if state == "idle" or report.error is not None:
            backlog["last_error"] = report.error if state != "idle" else None
        self._emit(CycleFinished(**backlog, state=state, pushed=report.answered, pulled=report.pulled))
        log.info(
            "sync cycle %s: pushed=%d duplicate=%d rejected=%d conflict=%d pulled=%d pending=%d %.1fs",
            "ok" if report.ok else f"failed ({report.error})", report.pushed, report.duplicate,
            report.rejected, report.conflict, report.pulled, report.pending_left, report.duration_s,
        )
        return report

    # ---- tally -----------------------------------------------------------------------

    def _send_tally(self, client: HubClient, report: SyncReport) -> None:
        req = tally_body(self.st, client.token or "")
        try:
            client.tally(req)
            report.tally_sent = True
        except HubRejected as exc:
            # A refused tally must not hold back the records themselves.
            report.errors.append(exc.code)
            log.warning("tally refused by the hub: %s", exc.code)

    # ---- push ------------------------------------------------------------------------

    def _push_all(self, client: HubClient, report: SyncReport, deadline: float) -> None:
        """Push until the outbox is empty (sync.push); the batch size carries over to the next
        cycle. Nothing to send: sync.push is not loaded (issue 15)."""
        s = self.settings
        if not outbox.next_batch(self.st, max_bytes=1, max_ops=1, route=self.route):
            return
        from sync.push import BatchSizer, Pusher

        sizer = BatchSizer.start(
            self._batch_bytes, bytes_min=s.batch_bytes_min, bytes_max=s.batch_bytes_max, ops_max=s.batch_ops_max
        )
        total = outbox.counts(self.st).waiting
        t0 = self._monotonic()
        pusher = Pusher(
            self.st, client, report, sizer,
            max_batches=s.max_push_batches_per_cycle,
            max_transient=s.max_transient_failures_per_cycle,
            go_on=lambda: not self._stop.is_set() and self._monotonic() <= deadline,
            progress=lambda: self._push_progress(report, total, t0),
            hook=self._crash,
            route=self.route,
        )
        try:
            pusher.run()
        finally:
            self._batch_bytes = sizer.bytes

    def _push_progress(self, report: SyncReport, total: int, t0: float) -> None:
        self._emit(PushProgress(**self._backlog(), done=report.answered, total=total,
                                eta_s=self._eta(report, total, t0)))

    @staticmethod
    def _crash(name: str) -> None:
        crash_point(name)  # looked up at each call: the e2e harness patches this module's

    def _eta(self, report: SyncReport, total: int, t0: float) -> float | None:
        done = report.answered
        elapsed = self._monotonic() - t0
        if done <= 0 or elapsed <= 0:
            return None
        return max(0.0, (total - done) / (done / elapsed))

    # ---- pull ------------------------------------------------------------------------

    def _pull_all(self, client: HubClient, report: SyncReport, deadline: float) -> None:
        """Pull to the head (sync.pull)."""
        pull_to_head(
            self.st, client, report,
            pull_limit=self.settings.pull_limit,
            max_pages=self.settings.max_pull_pages_per_cycle,
            go_on=lambda: not self._stop.is_set() and self._monotonic() <= deadline,
            progress=self._pull_progress,
            hook=self._crash,
            route=self.route,
        )

    # ---- the province's answers, through the site hub -----------------------------------

    def _collect_answers(self, client: HubClient, report: SyncReport) -> None:
        """Ask the site hub for the province's answers to the ops it holds; record them
        through the one ack path (``station.answers.record_acks``). Bounded."""
        from station import answers
        from sync.protocol import SiteAnswersRequest
        from sync.push import ack_of

        for _ in range(self.settings.max_push_batches_per_cycle):
            ids = outbox.relay_accepted_ids(self.st, limit=MAX_ANSWER_IDS)
            if not ids:
                return
            resp = client.site_answers(SiteAnswersRequest(station_id=self.st.install_id, op_ids=ids))
            got = [ack_of(r) for r in resp.results if r.op_id in set(ids)]
            if not got:
                return
            res = answers.record_acks(self.st, got, now=self.st.clock())
            report.province_answers += res.acked + res.duplicate + res.rejected + res.conflict
            if len(got) < len(ids):
                return

    def _pull_progress(self, done: int, total: int) -> None:
        self._emit(PullProgress(**self._backlog(), done=done, total=total))

    # ---- helpers for the CLI and tests ---------------------------------------------------

    def status(self) -> EngineStatus:
        """The current numbers without running a cycle."""
        return EngineStatus(state=self.last_event.state if self.last_event else "idle", **self._backlog())

    def _backlog(self) -> Backlog:
        """What every event carries: the station's sync status and the engine's health."""
        s = sync_status.read(self.st)
        return Backlog(
            pending=s.waiting,
            oldest_pending_age_s=s.oldest_pending_age_s(self.st.clock()),
            last_success=self._last_success,
            last_error=self._last_error,
            rejected=s.rejected,
            reviews=s.open_reviews,
            stalled=self._no_progress_cycles >= self.settings.stall_cycles,
        )


__all__ = [
    "CRASH_ENV",
    "CRASH_POINTS",
    "TESTING_ENV",
    "ClientFactory",
    "EngineState",
    "FailureKind",
    "SyncEngine",
    "SyncEvent",  # re-exported from sync.events (the engine's listeners import it from here)
    "SyncReport",
    "SyncSettings",
    "build_tally_request",
    "crash_point",
    "failure_kind",
    "test_hooks_allowed",
]
