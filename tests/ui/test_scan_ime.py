"""A wedge scanner while Unikey/EVKey is in Telex mode: the rewritten scan is refused, clearly.

Key events as the window receives them (tests/ui/telex.py): the scanner types a
real-shaped CCCD QR; Telex swallows the trigger keys and sends Backspace +
replacement. Before the fix the catcher kept both characters and read a wrong
address (the old and the new letters of "Masteri" and "Park" side by side); now it refuses the scan, tells the user to
switch the input method to English, and leaves every field as it was.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication

from station.store import Station
from tests.ui.conftest import Keyboard, login, wait_idle
from tests.ui.telex import BACKSPACE, telex_events, visible
from ui import messages
from ui.app import StationApp
from ui.widgets.scan import IME_REWRITTEN
from ui.workspaces.reception import ReceptionWorkspace

# The 2021 chip-card layout (shared/domain/vietnam.md §1.1): no old CMND (empty field 1), an
# address with the ASCII words a Telex input method rewrites ("Masteri", "Park").
QR = ("079190001234||Nguyễn Văn Toàn|15031990|Nam|"
      "Chung cư Masteri, Vinhomes Grand Park, Phường Long Thạnh Mỹ, TP Thủ Đức, TP Hồ Chí Minh|20082021")


def send(events: list[str]) -> None:
    """Each event to the focused widget as the OS delivers it (Backspace carries "\\b")."""
    for ev in events:
        target = QApplication.focusWidget()
        assert target is not None
        key = Qt.Key.Key_Backspace if ev == BACKSPACE else Qt.Key.Key_unknown
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(target, QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, ev))


def test_the_telex_simulation_rewrites_the_payload():
    events, rewrites = telex_events(QR)
    assert rewrites >= 2 and BACKSPACE in events
    shown = visible(events)
    assert shown != QR and "Mảtei" in shown and "Pảk" in shown  # what a text field would show
    assert "".join(e for e in events if e != BACKSPACE) != QR  # and keeping everything is wrong too


def test_a_scan_rewritten_by_unikey_telex_is_refused_with_what_to_do(
    qtbot, app: StationApp, kb: Keyboard, st: Station
):
    main = login(qtbot, app, kb, "tnv")
    rec = main.workspaces["reception"]
    assert isinstance(rec, ReceptionWorkspace)
    scanned: list[str] = []
    main.scanner.sig_scanned.connect(scanned.append)
    rec.search_box.setFocus()
    kb.type("ng")  # a volunteer had started a search; the scan must not lose it
    qtbot.wait(150)  # a person's keys, then the scanner's burst (a gap longer than BURST_GAP_S)
    events, _ = telex_events(QR)
    send(events)
    kb.enter()
    wait_idle(qtbot, app)
    assert scanned == []  # nothing guessed
    assert not rec.form_open()  # no walk-in form with a wrong address
    assert rec.banner.isVisible()
    text = rec.banner.text()
    assert text == messages.text_for(IME_REWRITTEN)  # in the screen's language (vi here)
    assert "Unikey" in text and "EVKey" in text and " E " in text, text
    assert rec.search_box.text() == "ng"  # nothing of the burst leaked, nothing typed lost


def test_the_same_card_scanned_in_english_mode_is_read_exactly(
    qtbot, app: StationApp, kb: Keyboard, st: Station
):
    main = login(qtbot, app, kb, "tnv")
    rec = main.workspaces["reception"]
    assert isinstance(rec, ReceptionWorkspace)
    scanned: list[str] = []
    main.scanner.sig_scanned.connect(scanned.append)
    rec.search_box.setFocus()
    send(list(QR))
    kb.enter()
    wait_idle(qtbot, app)
    assert scanned == [QR]
    assert rec.form_open()
    assert rec.form.full_name.text() == "Nguyễn Văn Toàn"
    assert not rec.banner.isVisible() or "Unikey" not in rec.banner.text()
