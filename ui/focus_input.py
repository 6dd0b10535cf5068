"""See the keyboard input of the window without an application-wide Python event filter.

The scan catcher and the idle lock need every key press, wherever the focus is.
An event filter installed on the QApplication would do it, but then *every*
event of the process (timers, paints, queued signals from worker threads, layout
requests) crosses into Python and needs the GIL on the GUI thread. While a
background thread writes thousands of rows (an import, a sync), each of those
crossings waits for the interpreter, and the window stalls for hundreds of
milliseconds (bench ``ui_stall``).

Key presses are delivered to the focus widget first, so a filter on that one
widget sees them all: this object follows ``QApplication.focusChanged`` and keeps
its filter on the current focus widget only, forwarding events to the watchers
it was given (each ignores what it does not need).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtWidgets import QApplication, QWidget
from shiboken6 import isValid

EventHook = Callable[[QObject, QEvent], bool]


class FocusInput(QObject):
    """Forwards the events of whichever widget has the keyboard focus to ``hooks``.

    ``sig_focus_moved`` fires when the focus moves (a click or a Tab): the idle
    lock counts it as activity.
    """

    sig_focus_moved = Signal()

    def __init__(self, hooks: list[EventHook], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hooks = list(hooks)
        self._watched: QWidget | None = None
        app = QApplication.instance()
        self._app = app if isinstance(app, QApplication) else None
        if self._app is not None:
            self._app.focusChanged.connect(self._moved)
            self._follow(self._app.focusWidget())

    def _follow(self, widget: QWidget | None) -> None:
        old = self._watched
        if old is not None and isValid(old):
            old.removeEventFilter(self)
        self._watched = widget
        if widget is not None:
            widget.installEventFilter(self)

    def _moved(self, _old: QWidget | None, new: QWidget | None) -> None:
        self._follow(new)
        self.sig_focus_moved.emit()

    def watched(self) -> QWidget | None:
        """The widget whose events are seen now (tests)."""
        return self._watched

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        return any(hook(watched, event) for hook in self._hooks)

    def close(self) -> None:
        """Stop following the focus (before the window is replaced)."""
        if self._app is not None:
            try:
                self._app.focusChanged.disconnect(self._moved)
            except (RuntimeError, TypeError):
                pass  # already disconnected
        self._follow(None)
