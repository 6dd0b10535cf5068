"""Ask for a reason (voiding a dose, resolving a review): required, at least 3 characters."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui import theme


class ReasonDialog(QDialog):
    """``action`` and ``cancel`` name what each button does ("Void the dose" / "Keep the dose"),
    so the two can never read alike (in Vietnamese "Hủy" is both "cancel" and "void")."""

    def __init__(self, title: str, prompt: str, action: str, parent: QWidget | None = None,
                 *, cancel: str | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        heading = QLabel(title, self)
        theme.set_role(heading, "h2")
        text = QLabel(prompt, self)
        text.setWordWrap(True)
        self.reason = QLineEdit(self)
        self.reason.setMaxLength(500)
        self.ok_btn = QPushButton(action, self)
        self.ok_btn.setProperty("role", "primary")
        self.ok_btn.setDefault(True)
        self.ok_btn.setEnabled(False)
        self.cancel_btn = QPushButton(cancel or self.tr("Back (Esc)"), self)
        self.reason.textChanged.connect(lambda t: self.ok_btn.setEnabled(len(t.strip()) >= 3))
        self.ok_btn.clicked.connect(self.accept)
        self.cancel_btn.clicked.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.ok_btn)
        row.addStretch(1)
        row.addWidget(self.cancel_btn)
        lay = QVBoxLayout(self)
        for w in (heading, text, self.reason):
            lay.addWidget(w)
        lay.addLayout(row)
        self.setMinimumWidth(520)

    def text(self) -> str:
        return self.reason.text().strip()
