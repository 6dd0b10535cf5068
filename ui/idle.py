"""Lock the window after a period without keyboard or mouse input.

Key presses arrive through :class:`ui.focus_input.FocusInput` (a filter on the
focus widget only, see there why not on the whole application). The mouse is
seen by a cheap poll of the cursor position every couple of seconds, and a click
that moves the focus counts as activity too: the lock is minutes away, so a
second or two of slack costs nothing, while filtering every mouse event of the
process would cost the GUI thread its responsiveness during big writes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QPoint, QTimer, Signal
from PySide6.QtGui import QCursor

_ACTIVITY = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
    QEvent.Type.Wheel, QEvent.Type.TouchBegin,
})
CURSOR_POLL_MS = 2_000


class IdleWatcher(QObject):
    """Emits ``sig_idle`` once after ``timeout_ms`` of no input."""

    sig_idle = Signal()

    def __init__(self, timeout_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(timeout_ms)
        self._timer.timeout.connect(self.sig_idle.emit)
        self._cursor = QPoint(QCursor.pos())
        self._poll = QTimer(self)
        self._poll.setInterval(CURSOR_POLL_MS)
        self._poll.timeout.connect(self._poll_cursor)

    def start(self) -> None:
        self._timer.start()
        self._cursor = QPoint(QCursor.pos())
        self._poll.start()

    def stop(self) -> None:
        self._timer.stop()
        self._poll.stop()

    def set_timeout_ms(self, ms: int) -> None:
        self._timer.setInterval(ms)
        if self._timer.isActive():
            self._timer.start()

    def activity(self) -> None:
        """Someone used the window: restart the countdown (if it runs)."""
        if self._timer.isActive():
            self._timer.start()

    def _poll_cursor(self) -> None:
        pos = QCursor.pos()
        if pos != self._cursor:
            self._cursor = QPoint(pos)
            self.activity()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY:
            self.activity()
        return False
