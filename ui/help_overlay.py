"""F1: a full-window overlay listing every shortcut of the window and the current workspace.

Its last line is the "About" of the program: version, commit and build date
(``station._build``, stamped by packaging/build.py), what support asks first.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QVBoxLayout, QWidget


def about_text() -> str:
    """``Trạm Tiêm 0.1.0 · commit 1a2b3c4d5e6f · built 2026-11-26`` (translated labels)."""
    from PySide6.QtCore import QCoreApplication

    from station._build import BUILD_DATE, COMMIT, VERSION

    commit = COMMIT[:12] + ("+dirty" if COMMIT.endswith("+dirty") else "") if COMMIT else \
        QCoreApplication.translate("HelpOverlay", "source checkout")
    return QCoreApplication.translate(
        "HelpOverlay", "Trạm Tiêm {version} · commit {commit} · built {date}"
    ).format(version=VERSION, commit=commit, date=BUILD_DATE)


class HelpOverlay(QFrame):
    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("helpOverlay")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._title = QLabel(self)
        self._title.setStyleSheet("font-size: 24px; font-weight: 700;")
        self._grid = QGridLayout()
        self._grid.setHorizontalSpacing(24)
        self._grid.setVerticalSpacing(6)
        hint = QLabel(self.tr("Press F1 or Esc to close"), self)
        self.about = QLabel(about_text(), self)
        self.about.setObjectName("about")
        self.about.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(60, 40, 60, 40)
        lay.addWidget(self._title)
        lay.addSpacing(10)
        lay.addLayout(self._grid)
        lay.addStretch(1)
        lay.addWidget(hint)
        lay.addWidget(self.about)
        parent.installEventFilter(self)
        self.hide()

    def show_for(self, title: str, sections: list[tuple[str, list[tuple[str, str]]]]) -> None:
        while self._grid.count():
            item = self._grid.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        self._title.setText(title)
        row = 0
        for heading, entries in sections:
            h = QLabel(heading, self)
            h.setStyleSheet("font-size: 19px; font-weight: 700; color: #f0b400; padding-top: 8px;")
            self._grid.addWidget(h, row, 0, 1, 2)
            row += 1
            for keys, what in entries:
                k = QLabel(keys, self)
                k.setStyleSheet("font-weight: 700; font-family: 'DejaVu Sans Mono', monospace;")
                self._grid.addWidget(k, row, 0)
                self._grid.addWidget(QLabel(what, self), row, 1)
                row += 1
        self._grid.setColumnStretch(1, 1)
        self._fit()
        self.show()
        self.raise_()
        self.setFocus()

    def _fit(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize and self.isVisible():
            self._fit()
        return False

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Escape, Qt.Key.Key_F1):
            self.hide()
            return
        super().keyPressEvent(event)
