"""What the station itself knows about sync, read from its own database.

The outbox, the ``conflict`` mirror and ``sync_state`` are local, so the
status bar can show the pending count, rejected ops, review items and clock
warnings even while no sync engine is running (a fresh install, a stopped
hub). :class:`LocalSyncPoller` reads them off the GUI thread every few seconds
(:func:`station.sync_status.read`, the numbers the engine's events carry too,
and the refused ops) and feeds :class:`~ui.bridge.SyncBridge`.
"""

from __future__ import annotations

import json
import logging

from PySide6.QtCore import QObject, QTimer

from station import outbox, sync_status
from station.store import Station
from ui import reviews_api
from ui.bridge import (
    BridgeEvent,
    ClockWarning,
    LineStateChanged,
    OpsRejected,
    PendingChanged,
    RejectedOp,
    ReviewsChanged,
    StatusRead,
    SyncBridge,
    SyncSucceeded,
)
from ui.tasks import TaskManager

log = logging.getLogger(__name__)

POLL_MS = 5000
MAX_REJECTED_SHOWN = 200


def _reason(raw: str | None) -> tuple[str, dict[str, object]]:
    """``last_error`` as the engine stores it: JSON {code, params} or a bare code."""
    if not raw:
        return "sync.rejected", {}
    try:
        data = json.loads(raw)
    except ValueError:
        return raw.strip()[:80], {}
    if isinstance(data, dict):
        params = data.get("params")
        return str(data.get("code", "sync.rejected")), dict(params) if isinstance(params, dict) else {}
    return "sync.rejected", {}


def collect(st: Station) -> list[BridgeEvent]:
    """One snapshot of the local sync facts as bridge events (worker thread)."""
    status = sync_status.read(st)
    rejected = []
    for r in outbox.rejected(st, limit=MAX_REJECTED_SHOWN):
        code, params = _reason(r.reason)
        rejected.append(RejectedOp(r.op_id, r.op_type, r.entity_type, r.recorded_at, code, params))
    events: list[BridgeEvent] = [
        PendingChanged(status.waiting, status.oldest_pending_at),
        OpsRejected(tuple(rejected)),
        ReviewsChanged(reviews_api.list_open_reviews(st)),
        ClockWarning(tuple(st.clock_issues())),
        StatusRead(status),
    ]
    if status.last_success is not None:
        events.append(SyncSucceeded(status.last_success))
    return events


class LocalSyncPoller(QObject):
    """Polls :func:`collect` through the task manager and feeds the bridge."""

    def __init__(self, st: Station, tasks: TaskManager, bridge: SyncBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._st = st
        self._tasks = tasks
        self._bridge = bridge
        self._busy = False
        self._again = False  # a poll was asked for while one was running
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)

    def start(self, hub_configured: bool) -> None:
        if not self._bridge.has_controller:
            self._bridge.feed(LineStateChanged("offline" if hub_configured else "unconfigured"))
        self._timer.start()
        self.poll()

    def stop(self) -> None:
        self._timer.stop()

    def poll(self) -> None:
        if self._busy:
            # A slow disk must not pile up reads, but the running one may have read before
            # the change that prompted this call: read once more when it is done.
            self._again = True
            return
        self._busy = True
        self._tasks.read(
            lambda: collect(self._st), owner=self, on_ok=self._done, on_err=self._failed,
            label="sync-status",
        )

    def _done(self, events: list[BridgeEvent]) -> None:
        self._busy = False
        for ev in events:
            self._bridge.feed(ev)
        self._poll_again()

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        log.warning("local sync status unavailable: %s", type(exc).__name__)
        self._poll_again()

    def _poll_again(self) -> None:
        if self._again:
            self._again = False
            self.poll()
