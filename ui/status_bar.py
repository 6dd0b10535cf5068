"""The status bar on every screen: line, pending ops, last sync, clock, user, site.

A desk with a site hub shows both links (``station.sync_status.links``): the site hub
(reachable or not, the ops not yet there) and the province (reachable or not, the ops
the site hub holds that the province has not answered yet); the total waiting stays.

The sync state is always on screen: action feedback ("Checked in: A3") goes to
its own label (:meth:`StationStatusBar.show_feedback`), never through
``QStatusBar.showMessage``, which would hide every normal widget of the bar
(the line state, the pending count, the last sync) while the message shows.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QCoreApplication, Qt, QTimer
from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from kernel.clock import parse_iso
from station import sync_status
from ui import labels, messages
from ui.bridge import LineStateChanged, PendingChanged, SyncBridge
from ui.context import AppContext, Session

AGE_REFRESH_MS = 30_000
FEEDBACK_MS = 8_000
# A long site or user name is cut with "…" (whole in its tooltip): the sync state needs the room.
SITE_MAX_PX = 190
USER_MAX_PX = 170


def _elide(label: QLabel, text: str, max_px: int | None) -> None:
    """``text`` in ``label``, cut to ``max_px`` (None: whole)."""
    shown = text if max_px is None else label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, max_px)
    label.setText(shown)
    label.setToolTip(text if shown != text else "")


def age_text(since_iso: str | None, now: datetime) -> str:
    """``5 min`` / ``2 h 10 min`` / ``3 days`` since an ISO timestamp."""
    if not since_iso:
        return ""
    try:
        minutes = max(0, int((now - parse_iso(since_iso)).total_seconds() // 60))
    except ValueError:
        return ""
    # One context for every caller (status bar and Sync workspace).
    if minutes < 60:
        return QCoreApplication.translate("StationStatusBar", "%n min", "", minutes)
    if minutes < 48 * 60:
        text = QCoreApplication.translate("StationStatusBar", "{h} h {m} min")
        return text.format(h=minutes // 60, m=minutes % 60)
    return QCoreApplication.translate("StationStatusBar", "%n days", "", minutes // (24 * 60))


class StationStatusBar(QStatusBar):
    def __init__(self, ctx: AppContext, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setSizeGripEnabled(False)
        self.site_hub = QLabel(self)  # the site hub link; hidden without a site hub
        self.site_hub.setObjectName("siteHubLink")
        self.site_hub.hide()
        self.line = QLabel(self)
        self.pending = QLabel(self)
        self.last_sync = QLabel(self)
        self.clock = QLabel(self)
        self.clock.setProperty("state", "warning")
        self.clock.hide()
        a = session.actor
        self._user_text = f"{a.display_name or a.username} · {labels.tr(labels.ROLE, a.role)}"
        self._site_text = ctx.site_name() or self.tr("Site {site}").format(site=ctx.station.site_code)
        self.user = QLabel(self._user_text, self)
        self.site = QLabel(self._site_text, self)
        # Feedback of the last action, between the sync state and the user; it fades
        # after a few seconds and never covers the sync state.
        self.feedback = QLabel(self)
        self.feedback.setObjectName("feedback")
        self.feedback.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self._feedback_timer = QTimer(self)
        self._feedback_timer.setSingleShot(True)
        self._feedback_timer.timeout.connect(self.feedback.clear)
        for w in (self.site_hub, self.line, self.pending, self.last_sync, self.clock):
            self.addWidget(w)
        self.addWidget(self.feedback, 1)
        self.addPermanentWidget(self.user)
        self.addPermanentWidget(self.site)

        bridge: SyncBridge = ctx.bridge
        # Bound methods, not lambdas: Qt drops the connection when this bar is deleted.
        bridge.sig_line_state_changed.connect(self.refresh_status)
        bridge.sig_pending_changed.connect(self.refresh_status)
        bridge.sig_sync_succeeded.connect(self.refresh_status)
        bridge.sig_clock_warning_changed.connect(self.refresh_status)
        bridge.sig_progress_changed.connect(self.refresh_status)
        bridge.sig_links_changed.connect(self.refresh_status)
        self._timer = QTimer(self)
        self._timer.setInterval(AGE_REFRESH_MS)
        self._timer.timeout.connect(self.refresh_status)
        self._timer.start()
        self.refresh_status()

    def refresh_status(self) -> None:
        snap = self.ctx.bridge.snapshot
        line: LineStateChanged = snap.line
        text = labels.tr(labels.LINE, line.state)
        if snap.progress is not None and snap.progress.total:
            text += f" {snap.progress.done}/{snap.progress.total}"
        links = self.links()
        both = links is not None and links.site_hub is not None
        # With both links their two counts say it (they add up to the total); the total, its
        # age and the last sync move to the province link's tooltip, and long names are cut,
        # so the bar still fits a 1366-pixel screen (tests/ui/test_fit.py measures the window).
        # Room is made before the site hub's label shows: the window never grows meanwhile.
        self.pending.setVisible(not both)
        self.last_sync.setVisible(not both)
        _elide(self.user, self._user_text, USER_MAX_PX if both else None)
        _elide(self.site, self._site_text, SITE_MAX_PX if both else None)
        self._set_state(self.line, line.state)
        if links is not None and links.site_hub is not None:
            site = links.site_hub
            self.site_hub.setText(self.tr("Site hub: {line} · {n} to send").format(
                line="?" if site.line == "unknown" else labels.tr(labels.LINE, site.line), n=site.waiting))
            self._set_state(self.site_hub, site.line)
            self.site_hub.setToolTip(self.tr(
                "Site hub {url}: {n} not yet there; {held} held there, not yet at the province."
            ).format(url=links.site_hub_url, n=site.waiting, held=links.province.waiting))
            self.site_hub.show()
            text = self.tr("Province: {line} · {n} at the site hub").format(
                line=text, n=links.province.waiting)
        else:
            self.site_hub.hide()
            self.line.setToolTip("")
        self.line.setText(text)
        now = self.ctx.now()
        p: PendingChanged = snap.pending
        if p.count:
            pending = self.tr("Waiting to send: %n", "", p.count)
            age = age_text(p.oldest_recorded_at, now)
            if age:
                pending += " " + self.tr("(oldest {age})").format(age=age)
        else:
            pending = self.tr("All sent")
        self.pending.setText(pending)
        if snap.last_success:
            self.last_sync.setText(
                self.tr("Last sync {when}").format(when=labels.site_time(snap.last_success, "%d/%m %H:%M"))
            )
        else:
            self.last_sync.setText(self.tr("Never synced"))
        if both:
            self.line.setToolTip(f"{pending}\n{self.last_sync.text()}")
        if snap.clock:
            self.clock.setText("⚠ " + messages.issue_text(snap.clock[0]))
            self.clock.show()
        else:
            self.clock.hide()

    def links(self) -> sync_status.Links | None:
        """Both links as the core computes them (None before the first status read)."""
        snap = self.ctx.bridge.snapshot
        if snap.status is None:
            return None
        return sync_status.links(snap.status, province_line=snap.line.state,
                                 site_hub_line=snap.site_hub_line.state)

    @staticmethod
    def _set_state(label: QLabel, state: str) -> None:
        label.setProperty("state", state)
        label.style().unpolish(label)
        label.style().polish(label)

    def show_feedback(self, text: str, ms: int = FEEDBACK_MS) -> None:
        """Show what the last action did, for ``ms``; the sync state stays visible."""
        self.feedback.setText(text)
        self._feedback_timer.start(ms)

    def showMessage(self, text: str, timeout: int | None = 0) -> None:
        # QStatusBar's own message hides the sync widgets: route it to the feedback label.
        self.show_feedback(text, timeout or FEEDBACK_MS)
