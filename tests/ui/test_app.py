"""Login, lock, settings and language, and the GUI thread never blocking on the station."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt

from station.demo import fake_person
from station.services import people
from station.store import Station
from tests.ui.conftest import Keyboard, login, wait_idle
from tests.ui.sync_helpers import StallMeter
from ui.app import StationApp
from ui.settings import UiSettings, load_settings
from ui.workspaces.admin import AdminWorkspace

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


def test_gui_event_loop_never_stalls_while_a_long_write_runs(qtbot, app: StationApp, kb: Keyboard, st: Station, staff):
    """A 10 ms timer keeps ticking while the writer thread imports thousands of people."""
    main = login(qtbot, app, kb, "giamsat")
    rng = __import__("random").Random(7)
    rows = [fake_person(rng, st.today()) for _ in range(12_000)]  # > 0.5 s of writing since add_expected got faster
    actor = staff.supervisor
    day = st.today()
    meter = StallMeter()
    meter.start()
    started = time.monotonic()
    app.tasks.write(lambda: people.add_expected(st, actor, rows, day=day), label="import")
    # Searches keep running in the read pool at the same time, as a clerk would type.
    rec = main.workspaces["reception"]
    rec.search_box.setFocus()
    kb.type("nguyen van")
    wait_idle(qtbot, app)
    qtbot.wait(50)
    meter.stop()
    busy_s = time.monotonic() - started
    print(
        f"longest event-loop stall: {meter.worst_ms} ms over {busy_s:.1f} s of background work; "
        f"the GUI thread's own: {meter.worst_own_ms()} ms; whole process paused at most "
        f"{meter.worst_probe_ms()} ms"
    )
    assert busy_s > 0.5, "the job was too short to say anything"
    # Target 100 ms (reported above). A blocking call on the GUI thread shows in its own
    # share, whatever the machine's load: this import alone takes over a second.
    assert meter.worst_own_ms() <= 250, meter.where()
    # Pauses of the whole process (descheduling on a loaded 2-core machine, full
    # garbage collections) are reported; only gross ones fail here.
    assert meter.worst_ms <= 1000, meter.where()


def test_tramtiem_without_a_command_starts_the_app(monkeypatch, tmp_path):
    from ui import app as app_module
    from ui import cli

    seen: list[object] = []
    monkeypatch.setattr(app_module, "run", lambda data_dir=None, **_kw: seen.append(data_dir) or 0)
    assert cli.main([]) == 0
    assert cli.main(["--data-dir", str(tmp_path)]) == 0
    assert cli.main(["app", "--data-dir", str(tmp_path / "x")]) == 0
    assert seen == [None, tmp_path, tmp_path / "x"]
