"""Record an adverse event after a dose: severity, description, time of onset."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt, QTime
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from kernel.clock import VN_TZ, iso
from kernel.errors import FieldIssue
from station.services.clinical import SEVERITIES
from ui import labels, theme
from ui.widgets.common import FieldErrors


class AdverseEventDialog(QDialog):
    def __init__(self, person_text: str, now: datetime, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Adverse event"))
        self.setModal(True)
        self._now = now.astimezone(VN_TZ)
        self.errors = FieldErrors(self)
        heading = QLabel(self.tr("Adverse event after vaccination"), self)
        theme.set_role(heading, "h2")
        who = QLabel(person_text, self)
        self.severity = QComboBox(self)
        for code in SEVERITIES:
            self.severity.addItem(labels.tr(labels.SEVERITY, code), code)
        self.severity.setCurrentIndex(self.severity.findData("common"))
        self.description = QPlainTextEdit(self)
        self.description.setPlaceholderText(self.tr("What happened, what was done"))
        self.description.setTabChangesFocus(True)
        self.description.setMaximumHeight(120)
        self.description.installEventFilter(self)
        self.onset = QTimeEdit(self)
        self.onset.setDisplayFormat("HH:mm")
        self.onset.setTime(QTime(self._now.hour, self._now.minute))
        grid = QGridLayout()
        for r, (text, widget, field) in enumerate((
            (self.tr("Severity"), self.severity, "severity"),
            (self.tr("Description"), self.description, "description"),
            (self.tr("Onset (time today)"), self.onset, "onset_at"),
        )):
            grid.addWidget(QLabel(text, self), r, 0)
            cell = QVBoxLayout()
            cell.addWidget(widget)
            cell.addWidget(self.errors.add(field, widget, self))
            grid.addLayout(cell, r, 1)
        self.save_btn = QPushButton(self.tr("Save (Ctrl+Enter)"), self)
        self.save_btn.setShortcut("Ctrl+Return")
        self.save_btn.setProperty("role", "primary")
        self.save_btn.clicked.connect(self._check)
        cancel = QPushButton(self.tr("Cancel (Esc)"), self)
        cancel.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.save_btn)
        row.addStretch(1)
        row.addWidget(cancel)
        lay = QVBoxLayout(self)
        lay.addWidget(heading)
        lay.addWidget(who)
        lay.addLayout(grid)
        lay.addLayout(row)
        self.setMinimumWidth(600)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # The text box takes Ctrl+Enter as a line break; here it means "save".
        if watched is self.description and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and (
                event.modifiers() & Qt.KeyboardModifier.ControlModifier
            ):
                self._check()
                return True
        return super().eventFilter(watched, event)

    def _check(self) -> None:
        if len(self.description.toPlainText().strip()) < 3:
            self.errors.set_issues("description", [FieldIssue("description", "description.too_short", {"min": 3})])
            self.description.setFocus()
            return
        self.accept()

    def values(self) -> tuple[str, str, str]:
        """(severity, description, onset ISO) — the core validates them again."""
        t = self.onset.time()
        onset = self._now.replace(hour=t.hour(), minute=t.minute(), second=0, microsecond=0)
        return str(self.severity.currentData()), self.description.toPlainText(), iso(onset)

    def show_issues(self, issues: dict[str, list[FieldIssue]]) -> None:
        for field, items in issues.items():
            self.errors.set_issues(field, items)
