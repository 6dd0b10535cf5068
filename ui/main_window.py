"""The main window: routes between workspaces, owns the shortcuts, the lock and the status bar.

It holds no business logic (DESIGN §3.7): each workspace does its own work;
this class only decides which ones the role may see, switches between them,
and locks the screen after idle time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kernel.roles import can
from station.store import Actor
from ui import messages, theme
from ui.context import AppContext, Session
from ui.focus_input import FocusInput
from ui.help_overlay import HelpOverlay
from ui.idle import IdleWatcher
from ui.login import LoginPanel
from ui.status_bar import StationStatusBar
from ui.widgets.common import shortcut
from ui.widgets.scan import ScanCatcher
from ui.workspaces.admin import AdminWorkspace
from ui.workspaces.base import Workspace
from ui.workspaces.observation import ObservationWorkspace
from ui.workspaces.reception import ReceptionWorkspace
from ui.workspaces.reports import ReportsWorkspace
from ui.workspaces.screening import ScreeningWorkspace
from ui.workspaces.sync import SyncWorkspace
from ui.workspaces.vaccination import VaccinationWorkspace


@dataclass(frozen=True)
class WorkspaceSpec:
    key: str
    shortcut: Qt.Key
    factory: Callable[[AppContext, Session, QWidget], Workspace]
    allowed: Callable[[str], bool]


SPECS: tuple[WorkspaceSpec, ...] = (
    WorkspaceSpec("reception", Qt.Key.Key_F2, ReceptionWorkspace,
                  lambda r: can(r, "register") or can(r, "check_in")),
    WorkspaceSpec("screening", Qt.Key.Key_F3, ScreeningWorkspace, lambda r: can(r, "record_screening")),
    WorkspaceSpec("vaccination", Qt.Key.Key_F4, VaccinationWorkspace, lambda r: can(r, "record_dose")),
    WorkspaceSpec("observation", Qt.Key.Key_F5, ObservationWorkspace, lambda r: can(r, "end_observation")),
    WorkspaceSpec("sync", Qt.Key.Key_F6, SyncWorkspace, lambda r: r != "system"),
    WorkspaceSpec("admin", Qt.Key.Key_F7, AdminWorkspace,
                  lambda r: can(r, "manage_lots") or can(r, "manage_staff") or can(r, "settings")),
    # F8 is taken (lot selection in vaccination).
    WorkspaceSpec("reports", Qt.Key.Key_F9, ReportsWorkspace, lambda r: can(r, "view_reports")),
)


# The screen each role works on most; the others start at the first screen they may use.
HOME = {"clerk": "vaccination", "screener": "screening", "admin": "admin"}


class MainWindow(QMainWindow):
    sig_switch_user = Signal(object)  # a different Actor unlocked the screen
    sig_logout = Signal()

    def __init__(self, ctx: AppContext, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.session = session
        self.setWindowTitle(self.tr("Trạm Tiêm — {site}").format(site=ctx.site_name() or ctx.station.site_code))
        self.workspaces: dict[str, Workspace] = {}
        self._keys: dict[str, Qt.Key] = {}

        self.nav = QListWidget(self)
        self.nav.setObjectName("nav")
        self.nav.setFixedWidth(200)
        self.stack = QStackedWidget(self)
        for spec in SPECS:
            # Every F-key answers: one the role does not use says so (feedback), not silence.
            shortcut(QKeySequence(spec.shortcut), self, partial(self.show_workspace, spec.key))
            if not spec.allowed(session.actor.role):
                continue
            ws = spec.factory(ctx, session, self.stack)
            ws.sig_status.connect(self.show_feedback)
            self.workspaces[spec.key] = ws
            self._keys[spec.key] = spec.shortcut
            self.stack.addWidget(ws)
            key_name = QKeySequence(spec.shortcut).toString(QKeySequence.SequenceFormat.NativeText)
            item = QListWidgetItem(f"{key_name}  {ws.title()}")
            item.setData(Qt.ItemDataRole.UserRole, spec.key)
            self.nav.addItem(item)
        self.nav.currentRowChanged.connect(self._nav_changed)

        side = self._build_side()
        work = QWidget(self)
        wl = QHBoxLayout(work)
        wl.setContentsMargins(0, 0, 0, 0)
        wl.setSpacing(0)
        wl.addWidget(side)
        wl.addWidget(self.stack, 1)

        lock_page = self._build_lock_page()

        self.pages = QStackedWidget(self)
        self.pages.addWidget(work)
        self.pages.addWidget(lock_page)
        self.setCentralWidget(self.pages)
        self.status = StationStatusBar(ctx, session, self)
        self.setStatusBar(self.status)
        self.help = HelpOverlay(self)

        shortcut(QKeySequence(Qt.Key.Key_F1), self, self.toggle_help)
        shortcut("Ctrl+L", self, self.lock)  # locked on purpose: the text says so
        shortcut("Ctrl+F", self, self._focus_search)

        self.scanner = ScanCatcher(self, self)
        self.scanner.sig_scanned.connect(self._scanned)
        self.scanner.sig_scan_refused.connect(self._scan_refused)
        self.idle = IdleWatcher(ctx.settings.idle_lock_minutes * 60_000, self)
        self.idle.sig_idle.connect(lambda: self.lock(idle=True))
        # Key presses reach the focus widget first: one filter there sees them all, where an
        # application-wide filter would make every event of the process cross into Python.
        self.input = FocusInput([self.scanner.eventFilter, self.idle.eventFilter], self)
        self.input.sig_focus_moved.connect(self.idle.activity)
        self.idle.start()
        self.resize(1366, 768)
        if self.workspaces:
            self.show_workspace(self.home_workspace())

    def _build_side(self) -> QWidget:
        """The workspace list with Help, Lock and Log out under it."""
        help_btn = QPushButton(self.tr("Help (F1)"), self)
        help_btn.clicked.connect(self.toggle_help)
        lock_btn = QPushButton(self.tr("Lock (Ctrl+L)"), self)
        lock_btn.clicked.connect(self.lock)
        logout_btn = QPushButton(self.tr("Log out"), self)
        logout_btn.clicked.connect(self.sig_logout.emit)
        side = QWidget(self)
        side.setFixedWidth(200)
        sl = QVBoxLayout(side)
        sl.setContentsMargins(0, 0, 0, 6)
        sl.addWidget(self.nav, 1)
        for b in (help_btn, lock_btn, logout_btn):
            sl.addWidget(b)
        return side

    def _build_lock_page(self) -> QWidget:
        """Lock page: the same login panel, pre-filled with the current user."""
        lock_page = QWidget(self)
        lock_title = QLabel(self.tr("Locked"), lock_page)
        lock_title.setStyleSheet("font-size: 30px; font-weight: 800;")
        lock_hint = QLabel(lock_page)
        self.lock_hint = lock_hint
        lock_hint.setWordWrap(True)
        # Room for three wrapped lines: a centred box does not grow for height-for-width text.
        lock_hint.setMinimumHeight(3 * lock_hint.fontMetrics().lineSpacing() + 4)
        theme.set_role(lock_hint, "muted")
        self.lock_panel = LoginPanel(self.ctx.tasks, lock_page)
        self.lock_panel.set_station(self.ctx.station)
        self.lock_panel.sig_logged_in.connect(self._unlocked)
        box = QWidget(lock_page)
        box.setFixedWidth(480)  # a fixed width lets the wrapped hint compute its height
        bl = QVBoxLayout(box)
        for w in (lock_title, lock_hint, self.lock_panel):
            bl.addWidget(w)
        ll = QVBoxLayout(lock_page)
        ll.addStretch(1)
        ll.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        ll.addStretch(2)
        return lock_page

    def show_feedback(self, text: str) -> None:
        """Feedback of an action, next to (never over) the sync state."""
        self.status.show_feedback(text)

    # ---- routing ----------------------------------------------------------------------------

    def home_workspace(self) -> str:
        """Where this role's work starts after logging in (its own screen, not reception)."""
        keys = list(self.workspaces)
        home = HOME.get(self.session.actor.role)
        return home if home in self.workspaces else (keys[0] if keys else "")

    def current_key(self) -> str | None:
        item = self.nav.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else None

    def show_workspace(self, key: str) -> bool:
        """Switch to a workspace; False (and nothing happens) when the role may not see it."""
        if self.is_locked() or key not in self.workspaces:
            if key not in self.workspaces and not self.is_locked():
                self.show_feedback(self.tr("Your role does not use this screen."))
            return False
        keys = list(self.workspaces)
        self.nav.setCurrentRow(keys.index(key))
        return True

    def _nav_changed(self, row: int) -> None:
        if row < 0:
            return
        key = str(self.nav.item(row).data(Qt.ItemDataRole.UserRole))
        ws = self.workspaces[key]
        self.stack.setCurrentWidget(ws)
        ws.activate()

    def current_workspace(self) -> Workspace | None:
        w = self.stack.currentWidget()
        return w if isinstance(w, Workspace) else None

    def _focus_search(self) -> None:
        if self.show_workspace("reception"):
            ws = self.workspaces["reception"]
            assert isinstance(ws, ReceptionWorkspace)
            ws.focus_search()

    def _scanned(self, payload: str) -> None:
        current = self.current_workspace()
        if current is not None and current.handle_scan(payload):
            return
        if self.show_workspace("reception"):
            self.workspaces["reception"].handle_scan(payload)
        else:
            self.show_feedback(self.tr("Card scanned, but your role has no reception screen."))

    def _scan_refused(self, code: str) -> None:
        """A scan an input method rewrote: say so where the person is looking (never guessed)."""
        current = self.current_workspace()
        if current is not None and current.handle_scan_refused(code):
            return
        if self.show_workspace("reception"):
            self.workspaces["reception"].handle_scan_refused(code)
        else:
            self.statusBar().showMessage(messages.text_for(code), 15000)

    # ---- help, lock ----------------------------------------------------------------------------

    def global_shortcuts(self) -> list[tuple[str, str]]:
        out = [(self.tr("F1"), self.tr("Show or hide this help"))]
        for key, ws in self.workspaces.items():
            name = QKeySequence(self._keys[key]).toString(QKeySequence.SequenceFormat.NativeText)
            out.append((name, ws.title()))
        out += [
            (self.tr("Ctrl+F"), self.tr("Search a person (reception)")),
            (self.tr("Ctrl+L"), self.tr("Lock the screen")),
            (self.tr("Tab / Shift+Tab"), self.tr("Next / previous field")),
        ]
        return out

    def toggle_help(self) -> None:
        if self.help.isVisible():
            self.help.hide()
            return
        if self.is_locked():
            return
        sections = [(self.tr("Everywhere"), self.global_shortcuts())]
        ws = self.current_workspace()
        if ws is not None and ws.shortcuts():
            sections.append((ws.title(), ws.shortcuts()))
        self.help.show_for(self.tr("Keyboard shortcuts"), sections)

    def is_locked(self) -> bool:
        return self.pages.currentIndex() == 1

    def lock(self, idle: bool = False) -> None:
        if self.is_locked():
            return
        self.lock_hint.setText(
            self.tr("The screen locked after a pause. Enter your password to continue, "
                    "or log in as another user.") if idle else
            self.tr("The screen is locked. Enter your password to continue, "
                    "or log in as another user."))
        self.help.hide()
        # Open dialogs (a warning, an adverse event) would show data over the lock screen.
        for dialog in self.findChildren(QDialog):
            if dialog.isVisible():
                dialog.reject()
        self.scanner.set_enabled(False)
        self.idle.stop()
        self.pages.setCurrentIndex(1)
        self.lock_panel.prefill(self.session.actor.username)

    def _unlocked(self, actor: Actor) -> None:  # LoginPanel.sig_logged_in
        if actor.user_id != self.session.actor.user_id:
            self.sig_switch_user.emit(actor)
            return
        self.session.actor = actor
        self.pages.setCurrentIndex(0)
        self.scanner.set_enabled(True)
        self.idle.start()
        ws = self.current_workspace()
        if ws is not None:
            ws.activate()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.input.close()
        self._flush()
        super().closeEvent(event)

    def _flush(self) -> None:
        for ws in self.workspaces.values():
            ws.flush_pending()

    def detach(self) -> None:
        """Stop listening to the application (before this window is replaced)."""
        self.input.close()
        self.idle.stop()
        self._flush()
