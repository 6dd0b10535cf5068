"""Logging in (offline, against the site's synced users) and unlocking after idle time.

Password checking (argon2) and the audit entry run on the writer thread; the
window stays responsive and shows the core's translated error.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from station.services import admin
from station.store import Actor, Station
from ui import messages, theme
from ui.tasks import TaskManager

BOX_WIDTH = 460


class LoginPanel(QWidget):
    """User name + password; emits the logged-in Actor."""

    sig_logged_in = Signal(object)  # Actor

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self._station: Station | None = None
        self._busy = False
        self.username = QLineEdit(self)
        self.username.setPlaceholderText(self.tr("User name"))
        self.username.setAccessibleName(self.tr("User name"))
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText(self.tr("Password"))
        self.password.setAccessibleName(self.tr("Password"))
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        theme.set_role(self.error, "fieldError")
        self.button = QPushButton(self.tr("Log in (Enter)"), self)
        self.button.setProperty("role", "primary")
        self.button.clicked.connect(self.submit)
        self.username.returnPressed.connect(self.password.setFocus)
        self.password.returnPressed.connect(self.submit)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for w in (QLabel(self.tr("User name"), self), self.username,
                  QLabel(self.tr("Password"), self), self.password, self.error, self.button):
            lay.addWidget(w)
        self.set_station(None)

    def set_station(self, st: Station | None) -> None:
        self._station = st
        ready = st is not None
        for w in (self.username, self.password, self.button):
            w.setEnabled(ready)

    def prefill(self, username: str) -> None:
        self.username.setText(username)
        self.password.clear()
        self.password.setFocus()

    def submit(self) -> None:
        st = self._station
        if st is None or self._busy:
            return
        name, pw = self.username.text(), self.password.text()
        if not name.strip():
            self.username.setFocus()
            return
        self._busy = True
        self.error.setText("")
        self.button.setEnabled(False)
        self._tasks.write(lambda: admin.login(st, name, pw), owner=self, on_ok=self._ok,
                          on_err=self._failed, label="login")

    def _ok(self, actor: Actor) -> None:
        self._busy = False
        self.button.setEnabled(True)
        self.password.clear()
        self.sig_logged_in.emit(actor)

    def _failed(self, exc: BaseException) -> None:
        self._busy = False
        self.button.setEnabled(True)
        self.password.clear()
        self.password.setFocus()
        self.error.setText(messages.error_text(exc))


class LoginWindow(QWidget):
    """The first window: the site, and the login panel (enabled once the station is open)."""

    def __init__(self, tasks: TaskManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Trạm Tiêm — log in"))
        title = QLabel(self.tr("Trạm Tiêm"), self)
        title.setStyleSheet("font-size: 34px; font-weight: 800; color: #0b2545;")
        subtitle = QLabel(self.tr("Vaccination station — works without the internet"), self)
        theme.set_role(subtitle, "muted")
        self.site = QLabel(self.tr("Opening the station…"), self)
        theme.set_role(self.site, "h2")
        self.site.setWordWrap(True)  # a site's full name can be long
        self.problem = QLabel(self)
        self.problem.setWordWrap(True)
        self.problem.hide()
        self.panel = LoginPanel(tasks, self)
        box = QWidget(self)
        box.setFixedWidth(BOX_WIDTH)
        bl = QVBoxLayout(box)
        for w in (title, subtitle, self.site, self.problem, self.panel):
            bl.addWidget(w)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        lay.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch(2)
        self.resize(1366, 768)

    def station_ready(self, st: Station, site_name: str = "") -> None:
        self.site.setText(site_name or self.tr("Site {site}").format(site=st.site_code))
        # A centred fixed-width box does not grow for wrapped text: make room for it.
        self.site.setMinimumHeight(self.site.heightForWidth(BOX_WIDTH - 24))
        self.panel.set_station(st)
        self.panel.username.setFocus()

    def station_failed(self, exc: BaseException) -> None:
        self.site.setText(self.tr("The station could not be opened"))
        self.problem.setText(messages.error_text(exc))
        theme.set_role(self.problem, "banner-error")
        self.problem.show()
