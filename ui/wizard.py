"""First-run setup wizard: hub and one-time code, site check, first admin, recovery code.

Shown instead of the login when the data directory holds no station (or a
setup left unfinished). The steps, and why they come in this order:

1. **Hub**: address, one-time code, station letter — or load a provisioning
   file. Typing needs no line; "Connect" is the one step that needs the hub.
   If it cannot be reached, what was typed is kept and the wizard resumes here
   next time (the one-time code is NOT saved: unspent it would enroll any
   laptop that finds the file).
2. **Site check**: the hub names the site the code belongs to; the person
   confirms it. The local station is created only now, so a code for the wrong
   site costs a new code, not a reinstall (the wrong-site enrollment is
   dropped: new station id next time).
3. **First admin**: user name, display name, password twice (or the argon2
   hash from the provisioning file, never a plaintext password).
4. **Recovery code**: shown large and saved as a PDF to print; the wizard
   finishes only once the person ticks that it is written down or printed.

Progress is kept in ``setup-wizard.json`` in the data directory (no secrets,
no personal data) and the wizard resumes at the saved step. Hub calls and
database writes run on the task manager's threads; the window never blocks.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TypeVar

import keyring
import keyring.errors
from PySide6.QtCore import QMarginsF, Qt, Signal
from PySide6.QtGui import QCloseEvent, QFont, QPageLayout, QPageSize, QPdfWriter, QTextDocument
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kernel.errors import StationError
from kernel.ids import uuid7
from station import keys, provision, recovery, replica
from station.dto import UserInput
from station.services import admin
from station.store import Actor, Station, init_station, open_station
from sync import cli as sync_cli
from ui import messages, theme
from ui.tasks import TaskManager

log = logging.getLogger(__name__)

T = TypeVar("T")

STATE_FILE = "setup-wizard.json"
STEPS = ("hub", "confirm", "admin", "recovery", "done")


@dataclass
class WizardState:
    """What the wizard remembers between runs. No secrets, no personal data."""

    step: str = "hub"
    hub_url: str = ""
    station_letter: str = "A"
    station_name: str = ""
    station_id: str = ""
    site_code: str = ""
    site_name: str = ""
    expected_site: str = ""  # from a provisioning file: warn if the hub says otherwise

    @classmethod
    def load(cls, data_dir: Path) -> WizardState:
        try:
            raw = json.loads((Path(data_dir) / STATE_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return cls()
        if not isinstance(raw, dict):
            return cls()
        known = {f.name for f in fields(cls)}
        st = cls(**{k: str(v) for k, v in raw.items() if k in known})
        if st.step not in STEPS:
            st.step = "hub"
        return st

    def save(self, data_dir: Path) -> None:
        ddir = Path(data_dir)
        ddir.mkdir(parents=True, exist_ok=True)
        tmp = ddir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, ddir / STATE_FILE)


def needs_setup(data_dir: Path) -> bool:
    """True when the app should show the wizard instead of the login."""
    ddir = Path(data_dir)
    if not (ddir / "station.json").exists():
        return True
    return (ddir / STATE_FILE).exists() and WizardState.load(ddir).step != "done"


class SetupWizard(QWidget):
    """The first-run wizard; emits ``sig_finished`` when the station is ready for the login."""

    sig_finished = Signal()
    sig_step = Signal(str)  # tests and screenshots follow the steps

    def __init__(self, tasks: TaskManager, data_dir: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tasks = tasks
        self.data_dir = Path(data_dir)
        self.state = WizardState.load(self.data_dir)
        self._provision: provision.Provision | None = None
        self._station: Station | None = None
        self._busy = False
        self.recovery_code_text = ""
        self.setWindowTitle(self.tr("Trạm Tiêm — set up this laptop"))
        self.stack = QStackedWidget(self)
        self.error = QLabel(self)
        self.error.setWordWrap(True)
        theme.set_role(self.error, "fieldError")
        self._build_hub_page()
        self._build_confirm_page()
        self._build_admin_page()
        self._build_recovery_page()
        box = QWidget(self)
        box.setFixedWidth(620)
        bl = QVBoxLayout(box)
        title = QLabel(self.tr("Set up this laptop as a vaccination station"), box)
        theme.set_role(title, "h2")
        bl.addWidget(title)
        bl.addWidget(self.stack)
        bl.addWidget(self.error)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        lay.addWidget(box, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch(2)
        self.resize(1366, 768)
        self._resume()

    # ---- pages ----------------------------------------------------------------------------

    def _page(self, heading: str, intro: str) -> tuple[QWidget, QVBoxLayout]:
        page = QWidget(self.stack)
        lay = QVBoxLayout(page)
        h = QLabel(heading, page)
        h.setStyleSheet("font-size: 20px; font-weight: 700;")
        lay.addWidget(h)
        text = QLabel(intro, page)
        text.setWordWrap(True)
        theme.set_role(text, "muted")
        lay.addWidget(text)
        self.stack.addWidget(page)
        return page, lay

    def _build_hub_page(self) -> None:
        page, lay = self._page(
            self.tr("1. Connect to the hub"),
            self.tr("Type the hub address and the one-time code from the hub admin. You can type "
                    "them without a connection; “Connect” needs the hub."),
        )
        self.hub_page = page
        form = QFormLayout()
        self.hub_url = QLineEdit(page)
        self.hub_url.setPlaceholderText("https://hub.example.vn")
        self.hub_url.setAccessibleName(self.tr("Hub address"))
        self.code = QLineEdit(page)
        self.code.setPlaceholderText("ABCD-EFGH-JKMN")
        self.code.setAccessibleName(self.tr("One-time code"))
        self.letter = QLineEdit(page)
        self.letter.setMaxLength(1)
        self.letter.setAccessibleName(self.tr("Station letter"))
        self.station_name = QLineEdit(page)
        self.station_name.setAccessibleName(self.tr("Laptop name (optional)"))
        form.addRow(self.tr("Hub address"), self.hub_url)
        form.addRow(self.tr("One-time code"), self.code)
        form.addRow(self.tr("Station letter"), self.letter)
        form.addRow(self.tr("Laptop name (optional)"), self.station_name)
        lay.addLayout(form)
        row = QHBoxLayout()
        self.load_button = QPushButton(self.tr("Load provisioning file…"), page)
        self.load_button.clicked.connect(self._choose_provision)
        self.connect_button = QPushButton(self.tr("Connect (Enter)"), page)
        self.connect_button.setProperty("role", "primary")
        self.connect_button.clicked.connect(self.connect_hub)
        row.addWidget(self.load_button)
        row.addStretch(1)
        row.addWidget(self.connect_button)
        lay.addLayout(row)
        for w in (self.hub_url, self.code, self.letter, self.station_name):
            w.returnPressed.connect(self.connect_hub)

    def _build_confirm_page(self) -> None:
        page, lay = self._page(
            self.tr("2. Check the site"),
            self.tr("The hub enrolled this laptop at the site below. Is this your site?"),
        )
        self.confirm_page = page
        self.site_label = QLabel(page)
        self.site_label.setStyleSheet("font-size: 24px; font-weight: 800;")
        self.site_label.setWordWrap(True)
        self.site_warning = QLabel(page)
        self.site_warning.setWordWrap(True)
        theme.set_role(self.site_warning, "banner-error")
        self.site_warning.hide()
        lay.addWidget(self.site_label)
        lay.addWidget(self.site_warning)
        row = QHBoxLayout()
        self.wrong_site_button = QPushButton(self.tr("No, this is not my site"), page)
        self.wrong_site_button.clicked.connect(self.reject_site)
        self.confirm_button = QPushButton(self.tr("Yes, this is my site (Enter)"), page)
        self.confirm_button.setProperty("role", "primary")
        self.confirm_button.clicked.connect(self.confirm_site)
        row.addWidget(self.wrong_site_button)
        row.addStretch(1)
        row.addWidget(self.confirm_button)
        lay.addLayout(row)

    def _build_admin_page(self) -> None:
        page, lay = self._page(
            self.tr("3. First administrator"),
            self.tr("This account sets up users and vaccine lots at the site. "
                    "Choose a password of at least 8 characters."),
        )
        self.admin_page = page
        form = QFormLayout()
        self.admin_username = QLineEdit(page)
        self.admin_username.setAccessibleName(self.tr("User name"))
        self.admin_display = QLineEdit(page)
        self.admin_display.setAccessibleName(self.tr("Full name"))
        self.admin_password = QLineEdit(page)
        self.admin_password.setEchoMode(QLineEdit.EchoMode.Password)
        self.admin_password.setAccessibleName(self.tr("Password"))
        self.admin_password2 = QLineEdit(page)
        self.admin_password2.setEchoMode(QLineEdit.EchoMode.Password)
        self.admin_password2.setAccessibleName(self.tr("Password again"))
        form.addRow(self.tr("User name"), self.admin_username)
        form.addRow(self.tr("Full name"), self.admin_display)
        form.addRow(self.tr("Password"), self.admin_password)
        form.addRow(self.tr("Password again"), self.admin_password2)
        lay.addLayout(form)
        self.admin_button = QPushButton(self.tr("Create the account (Enter)"), page)
        self.admin_button.setProperty("role", "primary")
        self.admin_button.clicked.connect(self.create_admin)
        lay.addWidget(self.admin_button, 0, Qt.AlignmentFlag.AlignRight)
        self.admin_password2.returnPressed.connect(self.create_admin)

    def _build_recovery_page(self) -> None:
        page, lay = self._page(
            self.tr("4. Recovery code"),
            self.tr("If this laptop breaks, its data can be opened on another one only with this "
                    "code and a backup. Print it or write it down, and keep it locked away at the "
                    "site — never in the laptop bag."),
        )
        self.recovery_page = page
        self.code_label = QLabel(page)
        mono = QFont("monospace")
        mono.setStyleHint(QFont.StyleHint.Monospace)
        mono.setPointSize(15)
        mono.setBold(True)
        self.code_label.setFont(mono)
        self.code_label.setWordWrap(True)
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.code_label)
        self.pdf_button = QPushButton(self.tr("Save as PDF to print…"), page)
        self.pdf_button.clicked.connect(self._choose_pdf)
        lay.addWidget(self.pdf_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.kept = QCheckBox(self.tr("I have printed or written down the recovery code"), page)
        lay.addWidget(self.kept)
        self.finish_button = QPushButton(self.tr("Finish"), page)
        self.finish_button.setProperty("role", "primary")
        self.finish_button.setEnabled(False)
        self.kept.toggled.connect(self.finish_button.setEnabled)
        self.finish_button.clicked.connect(self.finish)
        lay.addWidget(self.finish_button, 0, Qt.AlignmentFlag.AlignRight)

    # ---- flow -----------------------------------------------------------------------------

    def _save(self) -> None:
        try:
            self.state.save(self.data_dir)
        except OSError:
            log.warning("the setup progress could not be saved")

    def _go(self, step: str) -> None:
        self.state.step = step
        self._save()
        page = {
            "hub": self.hub_page,
            "confirm": self.confirm_page,
            "admin": self.admin_page,
            "recovery": self.recovery_page,
        }.get(step)
        if page is not None:
            self.stack.setCurrentWidget(page)
        if step == "hub":
            self.hub_url.setText(self.hub_url.text() or self.state.hub_url)
            self.letter.setText(self.letter.text() or self.state.station_letter or "A")
            self.station_name.setText(self.station_name.text() or self.state.station_name)
            (self.code if self.hub_url.text() else self.hub_url).setFocus()
        elif step == "confirm":
            self.site_label.setText(
                self.tr("{name} ({code})").format(name=self.state.site_name, code=self.state.site_code))
            if self.state.expected_site and self.state.expected_site != self.state.site_code:
                self.site_warning.setText(self.tr(
                    "The provisioning file is for site {expected}, but this code is for {actual}."
                ).format(expected=self.state.expected_site, actual=self.state.site_code))
                self.site_warning.show()
            else:
                self.site_warning.hide()
            self.confirm_button.setFocus()
        elif step == "admin":
            self.admin_username.setFocus()
        elif step == "recovery":
            self._show_recovery_code()
        self.sig_step.emit(step)

    def _resume(self) -> None:
        step = self.state.step
        exists = (self.data_dir / "station.json").exists()
        if step in ("admin", "recovery") and not exists:
            step = "hub"  # the state file outlived its station: start over
        if step == "done":
            step = "admin" if exists else "hub"
        if step in ("admin", "recovery"):
            self._with_station(lambda st: None, lambda _r: self._go(step))
            return
        self._go(step)

    def _fail(self, text: str) -> None:
        self._busy = False
        self.error.setText(text)

    def _with_station(self, fn: Callable[[Station], T], on_ok: Callable[[T], None]) -> None:
        """Run ``fn`` on the writer thread with the wizard's open station (opened once)."""
        self._busy = True
        ddir = self.data_dir

        def work() -> tuple[Station, T]:
            st = self._station or open_station(ddir)
            return st, fn(st)

        def done(res: tuple[Station, T]) -> None:
            self._busy = False
            st, value = res
            self._station = st
            on_ok(value)

        self._tasks.write(work, owner=self, on_ok=done,
                          on_err=lambda e: self._fail(messages.error_text(e)), label="wizard")

    # step 1
    def load_provision(self, path: Path) -> None:
        try:
            prov = provision.load(path)
        except StationError as exc:
            self.error.setText(messages.error_text(exc))
            return
        self._provision = prov
        self.hub_url.setText(prov.hub_url)
        self.letter.setText(prov.station_letter)
        if prov.enrollment_code:
            self.code.setText(prov.enrollment_code)
        if prov.admin is not None:
            self.admin_username.setText(prov.admin.username)
            self.admin_display.setText(prov.admin.display_name)
        self.state.expected_site = prov.site_code
        self.error.setText(self.tr("Provisioning file loaded for site {site}.").format(site=prov.site_code))
        self.code.setFocus()

    def _choose_provision(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self, self.tr("Provisioning file"), "", self.tr("Provisioning file (*.json)"))
        if path:
            self.load_provision(Path(path))

    def connect_hub(self) -> None:
        if self._busy:
            return
        url = self.hub_url.text().strip().rstrip("/")
        code = self.code.text().strip()
        letter = (self.letter.text().strip() or "A").upper()
        if not url.startswith(("http://", "https://")):
            self.error.setText(self.tr("The hub address starts with https:// (or http://)."))
            self.hub_url.setFocus()
            return
        if not code:
            self.error.setText(self.tr("Type the one-time code."))
            self.code.setFocus()
            return
        if not (len(letter) == 1 and "A" <= letter <= "Z"):
            self.error.setText(self.tr("The station letter is one letter, A to Z."))
            self.letter.setFocus()
            return
        # Saved before the hub is tried: offline, the next start resumes with this.
        self.state.hub_url, self.state.station_letter = url, letter
        self.state.station_name = self.station_name.text().strip()
        self.state.station_id = self.state.station_id or uuid7()
        self._save()
        self._busy = True
        self.error.setText(self.tr("Connecting to the hub…"))
        self.connect_button.setEnabled(False)
        ddir, sid, name = self.data_dir, self.state.station_id, self.state.station_name

        def work() -> sync_cli.Enrolled:
            return sync_cli.enroll_station(ddir, url, code, site_letter=letter, name=name,
                                           station_id=sid, create=False)

        self._tasks.read(work, owner=self, on_ok=self._enrolled, on_err=self._enroll_failed,
                         label="wizard-enroll")

    def _hub_error_text(self, code: str) -> str:
        texts = {
            "enroll.invalid_code": self.tr("The hub does not know this code. Check it, or ask for a new one."),
            "enroll.code_used": self.tr("This code was already used. Ask the hub admin for a new one."),
            "enroll.code_expired": self.tr("This code has expired. Ask the hub admin for a new one."),
            "enroll.other_site": self.tr("This laptop is enrolled at another site. Ask for a code for that site."),
            "enroll.site_mismatch": self.tr(
                "This station belongs to another site than the code. Ask for a code for its site."),
            "enroll.revoked": self.tr(
                "This station was revoked at the hub. Ask the hub admin to lift the revocation."),
        }
        if code in texts:
            return texts[code]
        if code.startswith("hub."):
            return self.tr("The hub cannot be reached. Check the address and the connection; "
                           "what you typed is kept, so you can continue here later.")
        return self.tr("The hub refused the enrollment ({code}).").format(code=code)

    def _enroll_failed(self, exc: BaseException) -> None:
        self.connect_button.setEnabled(True)
        code = getattr(exc, "code", None)
        if isinstance(exc, sync_cli.EnrollFailed) and code:
            self._fail(self._hub_error_text(code))
        else:
            self._fail(messages.error_text(exc))

    def _enrolled(self, res: sync_cli.Enrolled) -> None:
        self._busy = False
        self.connect_button.setEnabled(True)
        self.error.setText("")
        self.code.clear()
        self.state.station_id = res.station_id
        self.state.site_code, self.state.site_name = res.site_code, res.site_name
        self._go("confirm")

    # step 2
    def confirm_site(self) -> None:
        if self._busy:
            return
        s = self.state
        ddir = self.data_dir

        def create() -> Station:
            if (ddir / "station.json").exists():
                return open_station(ddir)
            st = init_station(ddir, s.site_code, station_letter=s.station_letter, install_id=s.station_id)
            replica.set_meta(st, sync_cli.HUB_URL_KEY, s.hub_url)
            replica.set_meta(st, sync_cli.SITE_NAME_KEY, s.site_name)
            return st

        self._busy = True

        def created(st: Station) -> None:
            self._busy = False
            self._station = st
            self._after_station()

        self._tasks.write(create, owner=self, on_ok=created,
                          on_err=lambda e: self._fail(messages.error_text(e)), label="wizard-init")

    def _after_station(self) -> None:
        prov = self._provision
        spec = prov.admin if prov is not None else None
        if spec is not None and spec.password_hash:
            # The provisioning file's admin (a hash, never a password): no page to fill.
            ph = spec.password_hash

            def make(st: Station) -> None:
                if not provision.user_exists(st, spec.username):
                    admin.create_user_with_hash(
                        st, Actor.system(st.site_code),
                        UserInput(spec.username, spec.display_name or spec.username, "admin", None), ph)

            self._with_station(make, lambda _r: self._go("recovery"))
            return
        self._go("admin")

    def reject_site(self) -> None:
        """Wrong site: forget that enrollment (new station id next time), back to step 1."""
        sid = self.state.station_id
        try:
            keyring.delete_password(keys.SERVICE, keys.token_user(sid))
        except keyring.errors.KeyringError:
            pass
        self.state.station_id = ""
        self.state.site_code = self.state.site_name = ""
        self.error.setText(self.tr("Ask the hub admin for a one-time code for your site, then connect again."))
        self._go("hub")

    # step 3
    def create_admin(self) -> None:
        if self._busy:
            return
        if self.admin_password.text() != self.admin_password2.text():
            self.error.setText(self.tr("The two passwords differ."))
            self.admin_password2.clear()
            self.admin_password2.setFocus()
            return
        data = UserInput(self.admin_username.text(), self.admin_display.text(), "admin",
                         self.admin_password.text())
        self.error.setText("")

        def make(st: Station) -> None:
            admin.create_user(st, Actor.system(st.site_code), data)

        def made(_r: None) -> None:
            self.admin_password.clear()
            self.admin_password2.clear()
            self._go("recovery")

        self._with_station(make, made)

    # step 4
    def _show_recovery_code(self) -> None:
        def code(st: Station) -> str:
            return recovery.recovery_code(st, Actor.system(st.site_code))

        def shown(value: str) -> None:
            self.recovery_code_text = value
            groups = self.recovery_code_text.split("-")
            # Two lines of seven groups: easier to read out and to copy by hand.
            self.code_label.setText("-".join(groups[:7]) + "-\n" + "-".join(groups[7:]))
            self.kept.setFocus()

        self._with_station(code, shown)

    def save_pdf(self, path: Path) -> Path:
        """The recovery sheet as a PDF (A4): site, station id, the code, what it is for."""
        st = self._station
        writer = QPdfWriter(str(path))
        writer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
        writer.setPageMargins(QMarginsF(20, 20, 20, 20), QPageLayout.Unit.Millimeter)
        writer.setTitle(self.tr("Trạm Tiêm recovery code"))
        doc = QTextDocument()
        groups = self.recovery_code_text.split("-")
        code_html = "<br/>".join(" ".join(groups[i:i + 7]) for i in range(0, len(groups), 7))
        doc.setHtml(
            "<h1>" + self.tr("Trạm Tiêm recovery code") + "</h1>"
            + "<p>" + self.tr("Site: {site}").format(site=st.site_code if st else "") + "<br/>"
            + self.tr("Station: {sid}").format(sid=st.install_id if st else "") + "</p>"
            + "<p style='font-family: monospace; font-size: 20pt; font-weight: bold'>" + code_html + "</p>"
            + "<p>" + self.tr("With this code and a backup, this station's data can be opened on "
                              "another laptop (tramtiem restore … --recovery-code). Keep this sheet "
                              "locked away at the site.") + "</p>"
        )
        doc.setPageSize(writer.pageLayout().paintRectPixels(writer.resolution()).size().toSizeF())
        doc.print_(writer)
        return path

    def _choose_pdf(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Save the recovery code"), "tramtiem-recovery-code.pdf", "PDF (*.pdf)")
        if path:
            self.save_pdf(Path(path))
            self.error.setText(self.tr("Saved. Print it now and keep it locked away."))

    def finish(self) -> None:
        if not self.kept.isChecked():
            return
        self.state.step = "done"
        (self.data_dir / STATE_FILE).unlink(missing_ok=True)
        self.close_station()
        self.sig_step.emit("done")
        self.sig_finished.emit()

    def close_station(self) -> None:
        if self._station is not None:
            self._station.close()
            self._station = None

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt's override name
        self.close_station()
        super().closeEvent(event)


__all__ = ["STATE_FILE", "SetupWizard", "WizardState", "needs_setup"]
