"""Admin → Site hub: "This laptop is the site hub" (issue 14; docs/site-hub.md).

IT staff type the relay code the province made for this site (once) and turn it on: the
window enrolls the site hub with the province this desk is enrolled with and starts it as a
child process (:class:`ui.site_hub_host.SiteHubHost`), again at each start while the setting
is on, and stops it when the window quits. The tab shows whether it runs, where the other
desks reach it, its certificate's fingerprint, and its own link to the province with the
ops it holds for it. Turning it off asks first when ops wait to be forwarded (they are kept
on disk, and every desk keeps its own copy until the province has answered).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ui import labels, messages, theme
from ui.site_hub_host import HostState, SiteHubHost
from ui.tasks import TaskManager
from ui.widgets.common import Banner, FieldErrors

REFRESH_MS = 5000


def _grouped(fp: str) -> str:
    """A fingerprint as IT staff compare it: groups of four."""
    return " ".join(fp[i:i + 4] for i in range(0, len(fp), 4))


class SiteHubTab(QWidget):
    def __init__(self, host: SiteHubHost, tasks: TaskManager, banner: Banner,
                 on_changed: Callable[[], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.tasks = tasks
        self.banner = banner
        self.on_changed = on_changed
        self.errors = FieldErrors(self)
        self.state: HostState | None = None
        title = QLabel(self.tr("This laptop is the site hub"), self)
        theme.set_role(title, "h2")
        about = QLabel(self.tr(
            "The other desks of this site sync with this laptop over the site's network, also when "
            "the Internet line is down; it sends everything on to the province. Keep this laptop on "
            "during the session. Turn it on once with the relay code from the province."), self)
        about.setWordWrap(True)
        theme.set_role(about, "muted")
        self.code = QLineEdit(self)
        self.code.setPlaceholderText("ABCD-EFGH-JKMN")
        self.code.returnPressed.connect(self.turn_on)
        self.code.setMinimumWidth(320)
        self.port = QSpinBox(self)
        self.port.setRange(1, 65535)
        self.port.setValue(host.port())
        self.port.setMinimumWidth(140)
        grid = QGridLayout()
        for r, (field, text, widget) in enumerate([
            ("relay_code", self.tr("Relay code"), self.code),
            ("port", self.tr("Port"), self.port),
        ]):
            label = QLabel(text, self)
            label.setBuddy(widget)
            grid.addWidget(label, r, 0)
            cell = QVBoxLayout()
            cell.setSpacing(0)
            cell.addWidget(widget, 0, Qt.AlignmentFlag.AlignLeft)
            cell.addWidget(self.errors.add(field, widget, self))
            grid.addLayout(cell, r, 1)
        grid.setColumnStretch(1, 1)
        self.on_button = QPushButton(self.tr("Turn on"), self)
        self.on_button.setProperty("role", "primary")
        self.on_button.clicked.connect(self.turn_on)
        self.off_button = QPushButton(self.tr("Turn off"), self)
        self.off_button.clicked.connect(self.turn_off)
        buttons = QHBoxLayout()
        buttons.addWidget(self.on_button)
        buttons.addWidget(self.off_button)
        buttons.addStretch(1)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)  # busy: enrolling and starting take seconds
        self.progress.setTextVisible(False)
        self.progress.hide()
        self.busy_text = QLabel(self)
        self.busy_text.hide()
        self.status = QLabel(self)
        self.status.setWordWrap(True)
        self.status.setObjectName("siteHubState")
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        lay.addWidget(about)
        lay.addLayout(grid)
        lay.addLayout(buttons)
        lay.addWidget(self.busy_text)
        lay.addWidget(self.progress)
        lay.addWidget(self.status)
        lay.addStretch(1)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self._busy = False
        self.show_state(None)

    # ---- state ---------------------------------------------------------------------------

    def refresh(self) -> None:
        if self._busy:
            return
        self.tasks.read(self.host.state, owner=self, on_ok=self.show_state,
                        on_err=self.banner.show_error, label="site-hub-state")

    def show_state(self, state: HostState | None) -> None:
        self.state = state
        if state is None:
            self.status.setText(self.tr("Reading the site hub's state…"))
            self._buttons()
            return
        lines = []
        if state.running:
            lines.append(self.tr("Running: the desks of site {site} sync with this laptop.").format(
                site=state.site_code))
            if state.addresses:
                lines.append(self.tr("Address for the other desks: {urls}").format(urls=", ".join(state.addresses)))
            lines.append(self.tr("Certificate (SHA-256): {fp}").format(fp=_grouped(state.fingerprint)))
            if state.province_reachable is None:
                lines.append(self.tr("Link to the province: not known yet."))
            elif state.province_reachable:
                lines.append(self.tr("Link to the province: up; {n} records waiting to be sent.").format(
                    n=labels.number(state.waiting_ops or 0)))
            else:
                lines.append(self.tr(
                    "Link to the province: down since {when}; {n} records kept here wait for it.").format(
                    when=labels.site_time(state.province_contact_at or "", "%d/%m %H:%M") or "—",
                    n=labels.number(state.waiting_ops or 0)))
        elif state.on:
            lines.append(self.tr("Turned on, but not running."))
            if state.error_code:
                lines.append(messages.text_for(state.error_code))
        else:
            lines.append(self.tr("Off: this laptop is an ordinary desk."))
            if state.enrolled:
                lines.append(self.tr("Enrolled as the site hub of {site} (no code needed to turn it on again).")
                             .format(site=state.site_code))
        self.status.setText("\n".join(lines))
        self._buttons()
        if state.running and not self.timer.isActive():
            self.timer.start()
        elif not state.running:
            self.timer.stop()

    def _buttons(self) -> None:
        state, busy = self.state, self._busy
        self.on_button.setEnabled(not busy and (state is None or not state.running))
        self.off_button.setEnabled(not busy and state is not None and (state.running or state.on))
        self.code.setEnabled(not busy and not (state is not None and state.enrolled))
        self.port.setEnabled(not busy and (state is None or not state.running))

    def _set_busy(self, text: str | None) -> None:
        self._busy = text is not None
        self.busy_text.setText(text or "")
        self.busy_text.setVisible(text is not None)
        self.progress.setVisible(text is not None)
        self._buttons()

    # ---- on / off ------------------------------------------------------------------------

    def turn_on(self) -> None:
        if self._busy:
            return
        self.errors.clear()
        self.banner.clear_message()
        code, port = self.code.text(), self.port.value()
        self._set_busy(self.tr("Enrolling with the province and starting the site hub…"))

        def failed(exc: BaseException) -> None:
            self._set_busy(None)
            for field, issues in messages.field_issues(exc).items():
                self.errors.set_issues(field, issues)
            self.banner.show_error(exc)
            self.refresh()

        def done(state: HostState) -> None:
            self._set_busy(None)
            self.code.clear()
            self.banner.show_message(self.tr("The site hub is running."), "ok")
            self.show_state(state)
            self.on_changed()

        self.tasks.read(lambda: self.host.turn_on(code, port), owner=self, on_ok=done,
                        on_err=failed, label="site-hub-on")

    def confirm_off(self, waiting: int) -> bool:
        box = QMessageBox(QMessageBox.Icon.Question, self.tr("Turn off the site hub"), self.tr(
            "The site hub still holds {n} records the province has not received. They stay on this "
            "laptop and every desk keeps its own copy until the province has it: nothing is lost. "
            "Turn it off now?").format(n=labels.number(waiting)),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        box.setDefaultButton(QMessageBox.StandardButton.No)
        return box.exec() == QMessageBox.StandardButton.Yes

    def turn_off(self) -> None:
        if self._busy:
            return
        waiting = self.state.waiting_ops if self.state is not None else None
        if waiting and not self.confirm_off(waiting):
            return
        self.banner.clear_message()
        self._set_busy(self.tr("Stopping the site hub…"))

        def failed(exc: BaseException) -> None:
            self._set_busy(None)
            self.banner.show_error(exc)
            self.refresh()

        def done(state: HostState) -> None:
            self._set_busy(None)
            self.banner.show_message(self.tr("The site hub is off; its data stays on this laptop."), "ok")
            self.show_state(state)
            self.on_changed()

        self.tasks.read(self.host.turn_off, owner=self, on_ok=done, on_err=failed, label="site-hub-off")


__all__ = ["SiteHubTab"]
