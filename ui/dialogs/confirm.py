"""Warnings that need an explicit confirmation (interval, expiry near, clock...).

Confirming takes a deliberate act: the box must be ticked before the confirm
button works, and Enter alone on the dialog cancels. Then the caller retries
the service call with ``confirm`` = the listed codes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from kernel.errors import FieldIssue
from ui import messages, theme


class ConfirmWarningsDialog(QDialog):
    def __init__(self, warnings: tuple[FieldIssue, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Please confirm"))
        self.setModal(True)
        self.codes = frozenset(w.code for w in warnings)
        title = QLabel(self.tr("Check before recording:"), self)
        theme.set_role(title, "h2")
        lay = QVBoxLayout(self)
        lay.addWidget(title)
        for w in warnings:
            label = QLabel("⚠ " + messages.issue_text(w), self)
            label.setWordWrap(True)
            theme.set_role(label, "banner-warning")
            lay.addWidget(label)
        self.check = QCheckBox(self.tr("I have checked this and want to record anyway"), self)
        self.confirm_btn = QPushButton(self.tr("Record anyway"), self)
        self.confirm_btn.setEnabled(False)
        self.confirm_btn.setAutoDefault(False)
        self.cancel_btn = QPushButton(self.tr("Cancel (Esc)"), self)
        self.cancel_btn.setDefault(True)
        self.check.toggled.connect(self._toggled)
        self.confirm_btn.clicked.connect(self.accept)
        self.cancel_btn.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.confirm_btn)
        row.addStretch(1)
        row.addWidget(self.cancel_btn)
        lay.addWidget(self.check)
        lay.addLayout(row)
        self.setMinimumWidth(560)
        self.check.setFocus(Qt.FocusReason.OtherFocusReason)

    def _toggled(self, on: bool) -> None:
        # Once ticked, Enter confirms: tick (Space) + Enter is the deliberate act.
        self.confirm_btn.setEnabled(on)
        self.confirm_btn.setDefault(on)
        self.cancel_btn.setDefault(not on)
