"""Closing a form that has input: keep editing (the default), close keeping the input, or discard it.

Esc and Enter both mean "keep editing", so a stray key (Esc in a closed
drop-down, an Enter too many) never loses what was typed.
"""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui import theme

KEEP_EDITING, CLOSE_KEEP, DISCARD = 0, 1, 2


class CloseFormDialog(QDialog):
    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.choice = KEEP_EDITING
        heading = QLabel(title, self)
        theme.set_role(heading, "h2")
        body = QLabel(text, self)
        body.setWordWrap(True)
        self.keep_btn = QPushButton(self.tr("Keep editing (Esc)"), self)
        self.keep_btn.setProperty("role", "primary")
        self.keep_btn.setDefault(True)
        self.close_btn = QPushButton(self.tr("Close, keep the input"), self)
        self.discard_btn = QPushButton(self.tr("Discard the input"), self)
        self.keep_btn.clicked.connect(self.reject)
        self.close_btn.clicked.connect(lambda: self._done(CLOSE_KEEP))
        self.discard_btn.clicked.connect(lambda: self._done(DISCARD))
        row = QHBoxLayout()
        row.addWidget(self.keep_btn)
        row.addStretch(1)
        row.addWidget(self.close_btn)
        row.addWidget(self.discard_btn)
        lay = QVBoxLayout(self)
        lay.addWidget(heading)
        lay.addWidget(body)
        lay.addLayout(row)
        self.setMinimumWidth(780)
        self.keep_btn.setFocus()

    def _done(self, choice: int) -> None:
        self.choice = choice
        self.accept()
