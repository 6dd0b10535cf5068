"""Recognise a CCCD QR typed by a keyboard-wedge barcode scanner, whatever has focus.

A wedge scanner "types" the QR text as a fast burst of key presses ending with
Enter. The CCCD QR has at least six ``|`` separators, which no field of this
application accepts, so a burst containing ``|`` is treated as a scan: from
the first ``|`` on, keys are captured instead of reaching the focused widget,
the few characters that leaked in before it are removed again, and Enter ends
the scan. A burst that turns out not to be a scan (too few separators, or a
pause) is handed back to the focused field, so a person typing is never
robbed of a character.

A Vietnamese input method in Telex or VNI mode (Unikey, EVKey: nearly every
site laptop) rewrites what the scanner types as if a person typed it: after
``a`` then ``s`` it sends a Backspace and ``á``. Keeping every character would
read ``aá`` for ``as`` — a wrong name or address saved for a real person. The
rewritten keys themselves are swallowed by the input method, so the payload
cannot be rebuilt with certainty: a burst in which a Backspace arrived is
**refused** (``sig_scan_refused("scan.ime_rewritten")``) and the user is told
to switch the input method to English (E) and scan again. Scanners never
send Backspace, and a person typing does not type within a scanner's burst.
(A replacement without a Backspace — Unikey's ``w`` → ``ư`` at the start of a
word — cannot be told apart from a real letter; the docs therefore make
English mode the rule while scanning.)
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget

MIN_SEPARATORS = 6
# Scanners send a key every 2-20 ms; people rarely type two keys within 60 ms,
# never a whole sequence. A gap above this starts a new burst.
BURST_GAP_S = 0.08
# Once capturing, a pause this long means the "scan" was something else.
CAPTURE_TIMEOUT_MS = 400


# The code of a refused scan (ui.messages has the text telling the user what to do).
IME_REWRITTEN = "scan.ime_rewritten"


class ScanCatcher(QObject):
    """Key filter (fed by ui.focus_input); emits ``sig_scanned(text)`` for a complete QR burst.

    ``sig_scan_refused(code)`` instead when an input method rewrote the burst.
    """

    sig_scanned = Signal(str)
    sig_scan_refused = Signal(str)

    def __init__(self, scope: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._scope = scope  # only keys for widgets inside this window count
        self._enabled = True
        self._burst: list[str] = []
        self._last = 0.0
        self._capturing = False
        self._captured: list[str] = []
        self._snapshot: tuple[QLineEdit, str, int] | None = None
        self._rewritten = False  # a Backspace inside the burst: an input method rewrote it
        self._timeout = QTimer(self)
        self._timeout.setSingleShot(True)
        self._timeout.setInterval(CAPTURE_TIMEOUT_MS)
        self._timeout.timeout.connect(self._give_back)
        self._replaying = False

    def set_enabled(self, enabled: bool) -> None:
        self._enabled = enabled
        if not enabled:
            self._reset()

    def _reset(self) -> None:
        self._burst = []
        self._captured = []
        self._capturing = False
        self._snapshot = None
        self._rewritten = False
        self._timeout.stop()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if self._replaying or not self._enabled or event.type() != QEvent.Type.KeyPress:
            return False
        # A key event travels up the parent chain; look at it once, at the focus widget.
        focus = QApplication.focusWidget()
        if watched is not focus or focus is None or focus.window() is not self._scope.window():
            return False
        assert isinstance(event, QKeyEvent)
        now = time.monotonic()
        key = event.key()
        text = event.text()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if self._capturing:
                payload = "".join(self._burst)
                if payload.count("|") >= MIN_SEPARATORS:
                    rewritten = self._rewritten
                    self._restore_leaked()
                    self._reset()
                    if rewritten:
                        # Never a guessed payload: refuse, and say how to scan correctly.
                        self.sig_scan_refused.emit(IME_REWRITTEN)
                    else:
                        self.sig_scanned.emit(payload)
                    return True
                self._give_back()
            self._burst = []
            self._rewritten = False
            return False
        if key == Qt.Key.Key_Backspace:
            # An input method's rewrite starts with a Backspace sent at machine speed. Inside a
            # capture it is swallowed with the rest; just before one (in the same fast burst) it
            # reached the field, and the snapshot taken at the burst's start undoes it.
            if self._capturing or (self._burst and now - self._last <= BURST_GAP_S):
                self._rewritten = True
                self._last = now
            return self._capturing
        if not text or not text.isprintable():
            return self._capturing  # swallow shift/modifier presses inside a scan
        if now - self._last > BURST_GAP_S and not self._capturing:
            self._burst = []
            self._rewritten = False
            self._snapshot = self._take_snapshot(focus)
        self._last = now
        self._burst.append(text)
        if self._capturing:
            self._captured.append(text)
            self._timeout.start()
            return True
        if "|" in text:
            self._capturing = True
            self._captured = [text]
            self._timeout.start()
            return True
        return False

    @staticmethod
    def _take_snapshot(focus: QWidget) -> tuple[QLineEdit, str, int] | None:
        if isinstance(focus, QLineEdit):
            return focus, focus.text(), focus.cursorPosition()
        return None

    def _restore_leaked(self) -> None:
        """Take back the characters typed into a field before the first ``|``."""
        if self._snapshot is None:
            return
        edit, text, pos = self._snapshot
        edit.setText(text)
        edit.setCursorPosition(pos)

    def _give_back(self) -> None:
        """Not a scan after all: deliver the captured keys to the focused widget."""
        captured = "".join(self._captured)
        self._reset()
        focus = QApplication.focusWidget()
        if not captured or focus is None:
            return
        self._replaying = True
        try:
            for ch in captured:
                for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                    QApplication.sendEvent(
                        focus, QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, ch)
                    )
        finally:
            self._replaying = False
