"""A supervisor lets a refused dose through: the refusals, a reason, and who approves.

The core refuses a dose outside the vaccine's licensed ages or against a
contraindication found in today's screening (``NeedsOverride``). Only a supervisor
may override, with a reason; the override is written on the dose and in the audit
log. When the clerk is logged in, the supervisor comes to the desk and types their
own user name and password here (checked by the core, like a login).
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kernel.errors import FieldIssue
from ui import messages, theme

MIN_REASON = 3


class OverrideDialog(QDialog):
    def __init__(
        self, issues: tuple[FieldIssue, ...], *, needs_login: bool, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Supervisor override"))
        self.setModal(True)
        self.codes = frozenset(i.code for i in issues)
        self.needs_login = needs_login
        title = QLabel(self.tr("This dose is refused:"), self)
        theme.set_role(title, "h2")
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        for issue in issues:
            label = QLabel(messages.issue_text(issue), self)
            label.setWordWrap(True)
            theme.set_role(label, "banner-error")
            lay.addWidget(label)
        note = QLabel(self.tr(
            "Only a supervisor can let it through. The reason and the supervisor's name are "
            "kept with the dose and in the audit log."), self)
        note.setWordWrap(True)
        lay.addWidget(note)
        form = QFormLayout()
        self.reason = QLineEdit(self)
        self.reason.setMaxLength(500)
        self.reason.setPlaceholderText(self.tr("Why is this dose right for this person?"))
        form.addRow(self.tr("Reason"), self.reason)
        self.username = QLineEdit(self)
        self.password = QLineEdit(self)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        if needs_login:
            form.addRow(self.tr("Supervisor's user name"), self.username)
            form.addRow(self.tr("Password"), self.password)
        else:
            self.username.hide()
            self.password.hide()
        lay.addLayout(form)
        self.ok_btn = QPushButton(self.tr("Override and record"), self)
        # Bold from the start: a style sheet's ":default" bold is not measured, its text is cut.
        self.ok_btn.setProperty("role", "primary")
        self.ok_btn.setEnabled(False)
        self.ok_btn.setAutoDefault(False)
        self.cancel_btn = QPushButton(self.tr("Cancel (Esc)"), self)
        self.cancel_btn.setDefault(True)
        self.ok_btn.clicked.connect(self.accept)
        self.cancel_btn.clicked.connect(self.reject)
        for edit in (self.reason, self.username, self.password):
            edit.textChanged.connect(self._changed)
        row = QHBoxLayout()
        row.addWidget(self.ok_btn)
        row.addStretch(1)
        row.addWidget(self.cancel_btn)
        lay.addLayout(row)
        self.setMinimumWidth(580)
        self.reason.setFocus(Qt.FocusReason.OtherFocusReason)

    def _changed(self) -> None:
        ready = len(self.reason.text().strip()) >= MIN_REASON and (
            not self.needs_login or (self.username.text().strip() and self.password.text())
        )
        # Enter alone cancels until the form is complete: overriding is a deliberate act.
        self.ok_btn.setEnabled(bool(ready))
        self.ok_btn.setDefault(bool(ready))
        self.cancel_btn.setDefault(not ready)


    def values(self) -> tuple[str, str | None, str | None]:
        """(reason, supervisor user name, password); the last two None when not asked."""
        if not self.needs_login:
            return self.reason.text().strip(), None, None
        return self.reason.text().strip(), self.username.text().strip(), self.password.text()
