"""UI fixtures: the real window over a real station file (tests/station fixtures), offscreen."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QWidget

from station.store import Station
from tests.station.conftest import PASSWORD, SITE, Staff, lot_id, st, staff  # noqa: F401 - fixtures
from ui.app import StationApp
from ui.main_window import MainWindow

WAIT_MS = 10_000


class Keyboard:
    """Sends key events to the focused widget, as a keyboard (or a wedge scanner) would.

    ``qtbot.keyClicks`` only handles ASCII; every character here is a
    KeyPress/KeyRelease pair carrying the text, so Vietnamese letters work.
    ``presses`` counts the key presses sent, for the keystroke-budget tests.
    """

    def __init__(self) -> None:
        self.presses = 0

    def _target(self, widget: QWidget | None) -> QWidget:
        target = widget or QApplication.focusWidget()
        assert target is not None, "no widget has keyboard focus"
        return target

    def type(self, text: str, widget: QWidget | None = None) -> None:
        for ch in text:
            target = self._target(widget)  # focus may move (e.g. a scan opens a form)
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(target, QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, ch))
            self.presses += 1

    def key(
        self,
        key: Qt.Key,
        widget: QWidget | None = None,
        modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
    ) -> None:
        """One key press (+ release) through QTest, so window shortcuts (F-keys, Ctrl+…) fire."""
        QTest.keyClick(self._target(widget), key, modifiers)
        self.presses += 1

    def enter(self, widget: QWidget | None = None) -> None:
        self.key(Qt.Key.Key_Return, widget)

    def tab(self, widget: QWidget | None = None) -> None:
        self.key(Qt.Key.Key_Tab, widget)


@pytest.fixture
def kb() -> Keyboard:
    return Keyboard()


@pytest.fixture
def app(qapp: QApplication, st: Station, staff: Staff) -> Iterator[StationApp]:  # noqa: F811
    ui = StationApp(qapp, st.data_dir, station=st)
    ui.start()
    yield ui
    ui.shutdown()


def wait_idle(qtbot: object, app: StationApp) -> None:
    qtbot.waitUntil(lambda: app.tasks.in_flight() == 0, timeout=WAIT_MS)  # type: ignore[attr-defined]


def login(qtbot: object, app: StationApp, kb: Keyboard, username: str, password: str = PASSWORD) -> MainWindow:
    panel = app.login.panel
    qtbot.waitUntil(lambda: panel.username.isEnabled(), timeout=WAIT_MS)  # type: ignore[attr-defined]
    panel.username.setFocus()
    app.login.activateWindow()
    kb.type(username, panel.username)
    kb.type(password, panel.password)
    kb.enter(panel.password)
    qtbot.waitUntil(lambda: app.main is not None and app.main.isVisible(), timeout=WAIT_MS)  # type: ignore[attr-defined]
    assert app.main is not None
    app.main.activateWindow()
    wait_idle(qtbot, app)
    return app.main


__all__ = ["SITE", "Keyboard", "login", "wait_idle"]
