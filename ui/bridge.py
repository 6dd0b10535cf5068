"""Sync status for the UI: plain-Python events in, Qt signals out.

The sync engine (``sync/engine.py``) and the local outbox poller publish the
plain event objects below from any thread; :class:`SyncBridge` is the one place
that turns them into Qt signals delivered in the GUI thread, and keeps the
latest values in a :class:`SyncSnapshot` so a widget created later can show the
current state at once.

The engine's own events are typed in ``sync/events.py``; :func:`from_engine_event`
turns each (by its type) into the bridge events below, which are what the
window shows: a line state, a backlog, a transfer's progress. The local poller
(``ui/sync_local.py``) feeds the same bridge events from the station's own
status (``station.sync_status``), so a window without an engine shows the same.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal, Protocol

from PySide6.QtCore import QObject, Qt, Signal

from kernel.errors import FieldIssue
from station.sync_status import SyncStatus
from sync.client import is_tls_code
from sync.events import CycleStarted, PullProgress, PushProgress, RemoteApplied, SyncEvent

log = logging.getLogger(__name__)

# "certificate": the line works but the hub's certificate is not trusted (sync.client.TLS_CODES):
# IT staff must act, so it is never shown as "offline".
LineState = Literal["unknown", "unconfigured", "online", "offline", "syncing", "error", "certificate"]


# ---- events (plain Python; safe to build and publish from any thread) -------------------


@dataclass(frozen=True, slots=True)
class LineStateChanged:
    state: LineState
    detail_code: str | None = None  # e.g. "net.timeout"; mapped to text by ui.messages


@dataclass(frozen=True, slots=True)
class SiteHubLineChanged:
    """The site hub route's line (its own engine, ``route="site_hub"``)."""

    state: LineState
    detail_code: str | None = None


@dataclass(frozen=True, slots=True)
class StatusRead:
    """The station's stored sync status (``station.sync_status``), read by the local poller."""

    status: SyncStatus


@dataclass(frozen=True, slots=True)
class PendingChanged:
    count: int
    oldest_recorded_at: str | None  # ISO timestamp of the oldest unacknowledged op


@dataclass(frozen=True, slots=True)
class SyncProgress:
    done: int
    total: int
    eta_seconds: float | None = None


@dataclass(frozen=True, slots=True)
class SyncSucceeded:
    at: str  # ISO timestamp of the last cycle that pushed and pulled without error


@dataclass(frozen=True, slots=True)
class RejectedOp:
    op_id: str
    op_type: str
    entity_type: str
    recorded_at: str
    reason_code: str
    reason_params: dict[str, object] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OpsRejected:
    items: tuple[RejectedOp, ...]


@dataclass(frozen=True, slots=True)
class ReviewItemView:
    id: str
    kind: str
    priority: str
    status: str
    entity_type: str
    entity_id: str
    candidates: dict[str, object]  # JSON from the hub: read with isinstance
    created_at: str


@dataclass(frozen=True, slots=True)
class ReviewsChanged:
    items: tuple[ReviewItemView, ...]


@dataclass(frozen=True, slots=True)
class ClockWarning:
    issues: tuple[FieldIssue, ...]  # empty: the clock looks right


# What the bridge carries: the engine's events adapted (from_engine_event), the local poller's.
BridgeEvent = (
    LineStateChanged
    | PendingChanged
    | SyncProgress
    | SyncSucceeded
    | OpsRejected
    | ReviewsChanged
    | ClockWarning
    | SiteHubLineChanged
    | StatusRead
)


class SyncController(Protocol):
    """What the UI needs from a running sync engine (the embedded one or a real one).

    ``sync_now`` must not block for the duration of a sync: it asks the engine's
    own thread to start a cycle. Listeners may be called from any thread.
    """

    def sync_now(self) -> None: ...

    def add_listener(self, callback: Callable[[BridgeEvent], None]) -> None: ...

    def remove_listener(self, callback: Callable[[BridgeEvent], None]) -> None: ...


@dataclass(frozen=True, slots=True)
class SyncSnapshot:
    line: LineStateChanged = LineStateChanged("unknown")
    pending: PendingChanged = PendingChanged(0, None)
    progress: SyncProgress | None = None
    last_success: str | None = None
    rejected: tuple[RejectedOp, ...] = ()
    reviews: tuple[ReviewItemView, ...] = ()
    clock: tuple[FieldIssue, ...] = ()
    site_hub_line: LineStateChanged = LineStateChanged("unknown")
    status: SyncStatus | None = None  # the last stored status read (None until the first poll)


class SyncBridge(QObject):
    """Re-emits sync events as Qt signals in the GUI thread. ``feed`` is thread-safe."""

    sig_line_state_changed = Signal(object)  # LineStateChanged
    sig_pending_changed = Signal(object)  # PendingChanged
    sig_progress_changed = Signal(object)  # SyncProgress | None
    sig_sync_succeeded = Signal(str)
    sig_rejected_changed = Signal(object)  # tuple[RejectedOp, ...]
    sig_reviews_changed = Signal(object)  # tuple[ReviewItemView, ...]
    sig_clock_warning_changed = Signal(object)  # tuple[FieldIssue, ...]
    sig_controller_changed = Signal(bool)
    sig_links_changed = Signal()  # the site hub's line or the stored status changed
    _sig_event = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.snapshot = SyncSnapshot()
        self._controller: SyncController | None = None
        self._site_hub: SyncController | None = None
        self._sig_event.connect(self._dispatch, Qt.ConnectionType.QueuedConnection)

    # ---- controller ---------------------------------------------------------------------

    def attach(self, controller: SyncController) -> None:
        self.detach()
        self._controller = controller
        controller.add_listener(self.feed)
        self.sig_controller_changed.emit(True)

    def detach(self) -> None:
        self.detach_site_hub()
        if self._controller is not None:
            self._controller.remove_listener(self.feed)
            self._controller = None
            self.sig_controller_changed.emit(False)

    def attach_site_hub(self, controller: SyncController) -> None:
        """The site hub route's engine (:class:`SiteHubController`), beside the province's."""
        self.detach_site_hub()
        self._site_hub = controller
        controller.add_listener(self.feed)

    def detach_site_hub(self) -> None:
        if self._site_hub is not None:
            self._site_hub.remove_listener(self.feed)
            self._site_hub = None

    @property
    def has_controller(self) -> bool:
        return self._controller is not None

    def request_sync(self) -> bool:
        """Ask the engine for a cycle now; False when no engine is attached."""
        if self._controller is None:
            return False
        self._controller.sync_now()
        if self._site_hub is not None:
            self._site_hub.sync_now()  # both routes: the LAN one is the quick one
        return True

    # ---- events -------------------------------------------------------------------------

    def feed(self, event: BridgeEvent) -> None:
        """Publish one event; callable from any thread (delivery is queued)."""
        self._sig_event.emit(event)

    def _dispatch(self, event: BridgeEvent) -> None:
        snap = self.snapshot
        if isinstance(event, LineStateChanged):
            self.snapshot = replace(snap, line=event)
            self.sig_line_state_changed.emit(event)
        elif isinstance(event, PendingChanged):
            self.snapshot = replace(snap, pending=event)
            self.sig_pending_changed.emit(event)
        elif isinstance(event, SyncProgress):
            finished = event.total > 0 and event.done >= event.total
            self.snapshot = replace(snap, progress=None if finished else event)
            self.sig_progress_changed.emit(self.snapshot.progress)
        elif isinstance(event, SyncSucceeded):
            # The engine and the local poller both report it, from different clocks of the
            # same cycle: the newest wins, so the time shown never goes backwards.
            if snap.last_success and _later(snap.last_success, event.at):
                return
            self.snapshot = replace(snap, last_success=event.at)
            self.sig_sync_succeeded.emit(event.at)
        elif isinstance(event, OpsRejected):
            self.snapshot = replace(snap, rejected=event.items)
            self.sig_rejected_changed.emit(event.items)
        elif isinstance(event, ReviewsChanged):
            self.snapshot = replace(snap, reviews=event.items)
            self.sig_reviews_changed.emit(event.items)
        elif isinstance(event, ClockWarning):
            self.snapshot = replace(snap, clock=event.issues)
            self.sig_clock_warning_changed.emit(event.issues)
        elif isinstance(event, SiteHubLineChanged):
            if snap.site_hub_line.state == event.state and snap.site_hub_line.detail_code == event.detail_code:
                return
            self.snapshot = replace(snap, site_hub_line=LineStateChanged(event.state, event.detail_code))
            self.sig_links_changed.emit()
        elif isinstance(event, StatusRead):
            self.snapshot = replace(snap, status=event.status)
            self.sig_links_changed.emit()
        else:
            log.debug("ignored sync event of type %s", type(event).__name__)


def _later(a: str, b: str) -> bool:
    """True when ISO time ``a`` is after ``b`` (an unreadable one never wins)."""
    try:
        return datetime.fromisoformat(a) > datetime.fromisoformat(b)
    except ValueError:
        return False


# ---- adapting the sync engine's events --------------------------------------------------

# How each way a cycle ends shows on the line.
_OUTCOME_LINE: dict[str, LineState] = {"offline": "offline", "idle": "online", "error": "error"}


def _line(ev: SyncEvent) -> LineStateChanged | None:
    """The line as an engine event shows it (None: it keeps what it showed)."""
    match ev:
        case CycleStarted():
            # Probing the hub has no line state of its own: the line keeps showing what it
            # was (offline while a dead line is retried, online between cycles) until the
            # engine knows, rather than flashing "Syncing…" on every retry.
            return None
        case PushProgress() | PullProgress():
            return LineStateChanged("syncing")
        case RemoteApplied():
            return LineStateChanged("online")
    # CycleFinished, or a status read: what the last cycle ended with.
    line = _OUTCOME_LINE.get(ev.state, "unknown")
    detail = ev.last_error if ev.last_error and ev.state in ("error", "offline") else None
    if detail is not None and is_tls_code(detail):
        line = "certificate"
    return LineStateChanged(line, detail)


def from_engine_event(ev: SyncEvent, now: datetime) -> list[BridgeEvent]:
    """Bridge events for one engine event (``sync.events``), told apart by type.

    The lists of rejected ops and review items are not in the engine's events
    (only counts); the local poller reads them from the station.
    """
    out: list[BridgeEvent] = []
    line = _line(ev)
    if line is not None:
        out.append(line)
    age = ev.oldest_pending_age_s
    out.append(PendingChanged(ev.pending, None if age is None else (now - timedelta(seconds=age)).isoformat()))
    match ev:
        case PushProgress(done=done, total=total, eta_s=eta):
            out.append(SyncProgress(done, total, eta))
        case PullProgress(done=done, total=total):
            out.append(SyncProgress(done, total))
        case _:
            out.append(SyncProgress(0, 0))  # no transfer under way: the bar shows none
    if ev.last_success:
        out.append(SyncSucceeded(ev.last_success))
    return out


class SyncEngineLike(Protocol):
    """What :class:`EngineController` uses of ``sync.engine.SyncEngine``."""

    def trigger(self) -> None: ...

    def add_listener(self, cb: Callable[[SyncEvent], None]) -> None: ...

    def remove_listener(self, cb: Callable[[SyncEvent], None]) -> None: ...


class EngineController:
    """:class:`SyncController` over a sync engine: its typed events become bridge events."""

    def __init__(self, engine: SyncEngineLike, clock: Callable[[], datetime]) -> None:
        self._engine = engine
        self._clock = clock
        # Keyed by the callback itself: bound methods are new objects on each access but compare equal.
        self._wrappers: dict[Callable[[BridgeEvent], None], Callable[[SyncEvent], None]] = {}

    def sync_now(self) -> None:
        self._engine.trigger()

    def add_listener(self, callback: Callable[[BridgeEvent], None]) -> None:
        def wrapper(ev: SyncEvent) -> None:
            for out in from_engine_event(ev, self._clock()):
                callback(out)

        self._wrappers[callback] = wrapper
        self._engine.add_listener(wrapper)

    def remove_listener(self, callback: Callable[[BridgeEvent], None]) -> None:
        wrapper = self._wrappers.pop(callback, None)
        if wrapper is not None:
            self._engine.remove_listener(wrapper)


class SiteHubController:
    """:class:`SyncController` over the site hub route's engine: only its line is shown.

    Its events' backlog numbers are the whole station's (the same as the province
    engine's), so they are not fed again; the counts per link come from the stored
    status (:class:`StatusRead`, ``station.sync_status.links``).
    """

    def __init__(self, engine: SyncEngineLike) -> None:
        self._engine = engine
        self._wrappers: dict[Callable[[BridgeEvent], None], Callable[[SyncEvent], None]] = {}

    def sync_now(self) -> None:
        self._engine.trigger()

    def add_listener(self, callback: Callable[[BridgeEvent], None]) -> None:
        def wrapper(ev: SyncEvent) -> None:
            line = _line(ev)
            if line is not None:
                callback(SiteHubLineChanged(line.state, line.detail_code))

        self._wrappers[callback] = wrapper
        self._engine.add_listener(wrapper)

    def remove_listener(self, callback: Callable[[BridgeEvent], None]) -> None:
        wrapper = self._wrappers.pop(callback, None)
        if wrapper is not None:
            self._engine.remove_listener(wrapper)
