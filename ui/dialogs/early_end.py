"""Ending an observation before its 30 minutes: an explicit choice with a reason.

The clerk presses Enter all day on the observation screen, so Enter alone must
never end an observation early: here Enter keeps observing until a reason is
chosen (↑ ↓ or its number), and only then does Enter confirm. The workspace
still offers an undo for a few seconds after.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from station.services.clinical import EARLY_END_REASONS
from ui import labels, theme


class _ReasonList(QListWidget):
    """Nothing is chosen until a key chooses it: focus alone makes a row current, not chosen."""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if not self.selectedItems() and event.key() in (Qt.Key.Key_Down, Qt.Key.Key_Up):
            self.setCurrentRow(0 if event.key() == Qt.Key.Key_Down else self.count() - 1)
            return
        super().keyPressEvent(event)


class EarlyEndDialog(QDialog):
    def __init__(self, person_text: str, left_text: str, until_text: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("End observation early?"))
        self.setModal(True)
        heading = QLabel(self.tr("End observation early?"), self)
        theme.set_role(heading, "h2")
        who = QLabel(person_text, self)
        who.setWordWrap(True)
        left = QLabel(self.tr("{left} of observation left: the person should stay until {until}.").format(
            left=left_text, until=until_text), self)
        left.setWordWrap(True)
        theme.set_role(left, "banner-warning")
        prompt = QLabel(self.tr("Why does the observation end now? (↑ ↓ or 1–4)"), self)
        self.reasons = _ReasonList(self)
        for i, code in enumerate(EARLY_END_REASONS, start=1):
            item = QListWidgetItem(f"{i}. {labels.tr(labels.EARLY_END, code)}")
            item.setData(Qt.ItemDataRole.UserRole, code)
            self.reasons.addItem(item)
        self.reasons.setCurrentRow(-1)
        self.reasons.setFixedHeight(self.reasons.sizeHintForRow(0) * len(EARLY_END_REASONS) + 8)
        self.end_btn = QPushButton(self.tr("End observation early"), self)
        self.end_btn.setEnabled(False)
        self.end_btn.setAutoDefault(False)
        self.keep_btn = QPushButton(self.tr("Keep observing (Esc)"), self)
        self.keep_btn.setDefault(True)
        self.keep_btn.setProperty("role", "primary")
        self.reasons.itemSelectionChanged.connect(self._chosen)
        self.end_btn.clicked.connect(self.accept)
        self.keep_btn.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.end_btn)
        row.addStretch(1)
        row.addWidget(self.keep_btn)
        lay = QVBoxLayout(self)
        for w in (heading, who, left, prompt, self.reasons):
            lay.addWidget(w)
        lay.addLayout(row)
        self.setMinimumWidth(560)
        self.reasons.setFocus()

    def _chosen(self) -> None:
        # Once a reason is chosen, Enter confirms: choosing is the deliberate act.
        on = bool(self.reasons.selectedItems())
        self.end_btn.setEnabled(on)
        self.end_btn.setDefault(on)
        self.keep_btn.setDefault(not on)

    def reason(self) -> str | None:
        items = self.reasons.selectedItems()
        return str(items[0].data(Qt.ItemDataRole.UserRole)) if items else None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        text = event.text()
        if text.isdigit() and 1 <= int(text) <= len(EARLY_END_REASONS):
            self.reasons.setCurrentRow(int(text) - 1)
            return
        super().keyPressEvent(event)
