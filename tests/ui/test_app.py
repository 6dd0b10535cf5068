"""Login, lock, settings and language, and the GUI thread never blocking on the station."""

from __future__ import annotations

import random
import threading

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

from station.demo import fake_person
from station.services import people
from station.services.common import WRITE_CHUNK
from station.store import Station
from tests.ui.conftest import WAIT_MS, Keyboard, login, wait_idle
from ui.app import StationApp
from ui.settings import UiSettings, load_settings
from ui.workspaces.admin import AdminWorkspace
from ui.workspaces.reception import ReceptionWorkspace

K = Qt.Key


def test_wrong_password_shows_error_and_stays(qtbot, app: StationApp, kb: Keyboard):
    panel = app.login.panel
    qtbot.waitUntil(panel.username.isEnabled, timeout=5000)
    kb.type("tnv", panel.username)
    kb.type("sai-mat-khau", panel.password)
    kb.enter(panel.password)
    wait_idle(qtbot, app)
    assert app.main is None
    assert panel.error.text()
    assert panel.username.text() == "tnv" and panel.password.text() == ""


def test_idle_lock_and_unlock_keeps_the_work(qtbot, app: StationApp, kb: Keyboard):
    main = login(qtbot, app, kb, "tnv")
    rec = main.workspaces["reception"]
    rec.search_box.setFocus()
    kb.type("nguy")
    main.idle.set_timeout_ms(50)
    main.idle.start()
    qtbot.waitUntil(main.is_locked, timeout=5000)
    assert main.lock_panel.username.text() == "tnv"
    kb.type("mat-khau-123", main.lock_panel.password)
    kb.enter(main.lock_panel.password)
    qtbot.waitUntil(lambda: not main.is_locked(), timeout=5000)
    assert app.main is main
    assert rec.search_box.text() == "nguy"


def test_settings_saved_and_language_switch_rebuilds_window(qtbot, app: StationApp, kb: Keyboard, st: Station):
    main = login(qtbot, app, kb, "quantri")
    assert set(main.workspaces) == {"sync", "admin", "reports"}  # IT staff: no clinical screens
    kb.key(K.Key_F7, main)
    ws = main.workspaces["admin"]
    assert isinstance(ws, AdminWorkspace)
    ws.language.setCurrentIndex(ws.language.findData("en"))
    ws.idle.setValue(7)
    ws.hub.setText("not a url")
    ws.save_settings()
    assert ws.settings_errors.has_error("hub_url")
    assert load_settings(st.data_dir) == UiSettings()  # nothing saved
    ws.hub.setText("https://hub.dongnai.example")
    ws.save_settings()
    saved = load_settings(st.data_dir)
    assert (saved.language, saved.idle_lock_minutes, saved.hub_url) == ("en", 7, "https://hub.dongnai.example")
    assert app.main is not main  # rebuilt in the new language, same workspace
    assert app.main is not None and app.main.current_key() == "admin"


def test_window_and_searches_stay_live_in_the_middle_of_a_long_import(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff
):
    """A long import writes in chunks on the writer thread, one transaction; between two chunks
    the window takes keys and the read pool answers a search, with the transaction still open.

    No clock here: the import is held after its first chunk until the window has done its
    work, so the test says the same on any machine. How long the event loop stalls during
    such a write is a figure of ``python -m bench ui_stall``, not a test bound.
    """
    actor = staff.supervisor
    rng = random.Random(7)
    day = st.today()
    people.add_expected(st, actor, [fake_person(rng, day) for _ in range(40)], day=day)
    main = login(qtbot, app, kb, "giamsat")
    rows = [fake_person(rng, day) for _ in range(3 * WRITE_CHUNK)]
    held, release = threading.Event(), threading.Event()
    reports: list[tuple[int, int]] = []

    def progress(done: int, total: int) -> None:
        reports.append((done, total))
        if not held.is_set():
            held.set()
            release.wait(WAIT_MS / 1000)  # the writer waits here, mid-transaction

    app.tasks.write(lambda: people.add_expected(st, actor, rows, day=day, progress=progress),
                    label="import")
    qtbot.waitUntil(held.is_set, timeout=WAIT_MS)
    rec = main.workspaces["reception"]
    assert isinstance(rec, ReceptionWorkspace)
    kb.key(K.Key_F, main, Qt.KeyboardModifier.ControlModifier)
    kb.type("nguyen")
    qtbot.waitUntil(lambda: rec.hits_model.rowCount() > 0, timeout=WAIT_MS)
    assert not release.is_set() and app.tasks.in_flight() == 1  # the import is still open
    release.set()
    wait_idle(qtbot, app)
    assert reports[0] == (WRITE_CHUNK, 2 * len(rows)) and reports[-1] == (2 * len(rows),) * 2
    assert [d for d, _t in reports] == sorted(d for d, _t in reports)
    assert len(reports) >= 2 * len(rows) // WRITE_CHUNK
    with st.read() as conn:
        n = conn.execute(text("SELECT count(*) FROM registration WHERE day = :d"),
                         {"d": day.isoformat()}).scalar()
    assert n == 40 + len(rows)


def test_tramtiem_without_a_command_starts_the_app(monkeypatch, tmp_path):
    from ui import app as app_module
    from ui import cli

    seen: list[object] = []
    monkeypatch.setattr(app_module, "run", lambda data_dir=None, **_kw: seen.append(data_dir) or 0)
    assert cli.main([]) == 0
    assert cli.main(["--data-dir", str(tmp_path)]) == 0
    assert cli.main(["app", "--data-dir", str(tmp_path / "x")]) == 0
    assert seen == [None, tmp_path, tmp_path / "x"]


def test_only_the_focus_widget_is_watched_for_keys_and_typing_keeps_the_window_unlocked(
    qtbot, app: StationApp, kb: Keyboard, monkeypatch
):
    """The scan catcher and the idle lock see keys through a filter on the focus widget only.

    An application-wide Python filter would see every event of the process (timers, paints,
    queued signals) and make each cross into Python: the window then stalls while a
    background thread holds the interpreter. Events for other widgets never reach the hooks.
    """
    main = login(qtbot, app, kb, "giamsat")
    seen: list[tuple[object, int]] = []
    main.input._hooks.append(lambda w, e: seen.append((w, int(e.type().value))) is not None and False)
    rec = main.workspaces["reception"]
    assert isinstance(rec, ReceptionWorkspace)
    kb.key(K.Key_F, main, Qt.KeyboardModifier.ControlModifier)
    assert main.input.watched() is rec.search_box is QApplication.focusWidget()

    other = main.statusBar()
    for kind in (QEvent.Type.KeyPress, QEvent.Type.Paint, QEvent.Type.Timer):
        seen.clear()
        QApplication.sendEvent(other, QEvent(kind) if kind != QEvent.Type.KeyPress else
                               QKeyEvent(kind, K.Key_A, Qt.KeyboardModifier.NoModifier, "a"))
        assert seen == [], f"{kind} for another widget reached the hooks"

    seen.clear()
    kb.type("n")
    assert (rec.search_box, int(QEvent.Type.KeyPress.value)) in seen
    kb.tab()
    assert main.input.watched() is QApplication.focusWidget() is not rec.search_box

    # A key press counts as activity for the idle lock (which restarts its countdown).
    restarts: list[int] = []
    monkeypatch.setattr(main.idle, "activity", lambda: restarts.append(1))
    kb.type("x", QApplication.focusWidget())
    assert restarts
