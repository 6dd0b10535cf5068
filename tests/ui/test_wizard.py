"""The first-run setup wizard, driven with pytest-qt against a real hub on 127.0.0.1.

A laptop set up without a line keeps what was typed and resumes at the hub
step; with the hub it is enrolled, the site is confirmed, the first admin is
created, the recovery code is shown and saved as a PDF; the app then shows the
login and the station syncs. Also: a code for the wrong site, a provisioning
file (in the wizard and with ``tramtiem provision``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

from hub import service
from hub.app import HubSettings
from hub.db import Database
from hub.ingest import utc_now
from hub.server import RunningHub, run_hub
from station import keys, recovery
from station.services import admin
from station.store import open_station
from sync import cli as sync_cli
from tests.pg import migrated_sqlite_url
from tests.ui.conftest import WAIT_MS, Keyboard, login
from ui import cli as tramtiem
from ui.app import StationApp
from ui.tasks import TaskManager
from ui.wizard import STATE_FILE, SetupWizard, WizardState, needs_setup

SITE = "DN-WIZ-01"
SITE_NAME = "Trạm Y tế phường Tân Mai"
OTHER_SITE = "DN-WIZ-02"
ADMIN_PW = "quan-tri-2026"


class Hub:
    def __init__(self, running: RunningHub, db: Database) -> None:
        self.running = running
        self.db = db
        self.url = running.url

    def code(self, site: str = SITE) -> str:
        return service.new_enrollment_code(self.db, site, ttl_hours=1, now=utc_now())

    def ops_from(self, station_id: str) -> int:
        with self.db.read() as s:
            return int(s.execute(text("SELECT count(*) FROM applied_op WHERE station_id = :s"),
                                 {"s": station_id}).scalar_one())


@pytest.fixture
def tasks(qapp: QApplication) -> Iterator[TaskManager]:
    tm = TaskManager()
    yield tm
    tm.shutdown()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    url = migrated_sqlite_url(tmp_path / "hub.db")  # at head: no migration per test
    with run_hub(HubSettings(database_url=url)) as running:
        db = Database(url)
        service.add_site(db, SITE, SITE_NAME, "75", now=utc_now())
        service.add_site(db, OTHER_SITE, "Điểm tiêm khác", "75", now=utc_now())
        try:
            yield Hub(running, db)
        finally:
            db.dispose()


def click(qtbot, button) -> None:  # type: ignore[no-untyped-def]
    assert button.isEnabled()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def wait_page(qtbot, wiz: SetupWizard, page) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: wiz.stack.currentWidget() is page and not wiz._busy, timeout=WAIT_MS)


def fill(kb: Keyboard, widget, value: str) -> None:  # type: ignore[no-untyped-def]
    widget.clear()
    widget.setFocus()
    kb.type(value, widget)


def test_wizard_offline_resume_enroll_admin_recovery_then_login_and_sync(
    qtbot, qapp: QApplication, hub: Hub, tmp_path: Path, kb: Keyboard,
) -> None:
    ddir = tmp_path / "station"
    assert needs_setup(ddir)

    # 1. No line yet: everything can be typed; "Connect" fails and what was typed is kept.
    app = StationApp(qapp, ddir)
    app.start()
    wiz = app.wizard
    assert wiz is not None and wiz.isVisible() and not app.login.isVisible()
    fill(kb, wiz.hub_url, "http://127.0.0.1:9")
    fill(kb, wiz.code, hub.code())
    fill(kb, wiz.letter, "b")
    kb.enter(wiz.code)
    qtbot.waitUntil(lambda: not wiz._busy and wiz.connect_button.isEnabled(), timeout=WAIT_MS)
    assert wiz.stack.currentWidget() is wiz.hub_page and wiz.error.text()
    saved = WizardState.load(ddir)
    assert saved.hub_url == "http://127.0.0.1:9" and saved.station_letter == "B" and saved.step == "hub"
    assert "-" not in (ddir / STATE_FILE).read_text().split('"station_id"')[0]  # no code saved
    assert not (ddir / "station.json").exists()
    app.shutdown()
    wiz.deleteLater()

    # 2. Next start: the wizard resumes with the address and letter; now the hub answers.
    app = StationApp(qapp, ddir)
    app.start()
    wiz = app.wizard
    assert wiz is not None
    assert wiz.hub_url.text() == "http://127.0.0.1:9" and wiz.letter.text() == "B"
    fill(kb, wiz.hub_url, hub.url)
    fill(kb, wiz.code, hub.code().lower())
    kb.enter(wiz.code)
    wait_page(qtbot, wiz, wiz.confirm_page)
    assert SITE_NAME in wiz.site_label.text() and SITE in wiz.site_label.text()
    station_id = WizardState.load(ddir).station_id
    assert keys.load_token(station_id)
    click(qtbot, wiz.confirm_button)
    wait_page(qtbot, wiz, wiz.admin_page)
    assert (ddir / "station.json").exists()

    # 3. Admin: the passwords must match; then the laptop is switched off mid-setup.
    fill(kb, wiz.admin_username, "quantri")
    fill(kb, wiz.admin_display, "Nguyễn Thị Quản Trị")
    fill(kb, wiz.admin_password, ADMIN_PW)
    fill(kb, wiz.admin_password2, ADMIN_PW + "x")
    kb.enter(wiz.admin_password2)
    assert wiz.stack.currentWidget() is wiz.admin_page and wiz.error.text()
    app.shutdown()
    wiz.deleteLater()
    assert needs_setup(ddir)

    app = StationApp(qapp, ddir)
    app.start()
    wiz = app.wizard
    assert wiz is not None
    wait_page(qtbot, wiz, wiz.admin_page)
    fill(kb, wiz.admin_username, "quantri")
    fill(kb, wiz.admin_display, "Nguyễn Thị Quản Trị")
    fill(kb, wiz.admin_password, ADMIN_PW)
    fill(kb, wiz.admin_password2, ADMIN_PW)
    kb.enter(wiz.admin_password2)
    wait_page(qtbot, wiz, wiz.recovery_page)

    # 4. The recovery code is this station's key; saved as a PDF to print.
    qtbot.waitUntil(lambda: bool(wiz.recovery_code_text), timeout=WAIT_MS)
    assert recovery.decode(wiz.recovery_code_text) == keys.load_key(station_id)
    pdf = wiz.save_pdf(tmp_path / "recovery.pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000
    assert not wiz.finish_button.isEnabled()
    wiz.kept.setChecked(True)
    click(qtbot, wiz.finish_button)

    # The app continues to the login; the new admin logs in; the station syncs by itself.
    qtbot.waitUntil(lambda: app.wizard is None and app.login.isVisible(), timeout=WAIT_MS)
    assert not needs_setup(ddir) and not (ddir / STATE_FILE).exists()
    main = login(qtbot, app, kb, "quantri", ADMIN_PW)
    assert main.isVisible()
    assert app.station is not None and app.station.install_id == station_id
    assert app.sync is not None  # enrolled: the engine was started
    qtbot.waitUntil(lambda: hub.ops_from(station_id) >= 1, timeout=30_000)
    app.shutdown()


def test_wrong_site_is_dropped_and_a_new_code_enrolls_a_new_id(
    qtbot, tasks: TaskManager, hub: Hub, tmp_path: Path, kb: Keyboard,
) -> None:
    ddir = tmp_path / "station"
    wiz = SetupWizard(tasks, ddir)
    qtbot.addWidget(wiz)
    wiz.show()
    fill(kb, wiz.hub_url, hub.url)
    fill(kb, wiz.code, hub.code(OTHER_SITE))
    click(qtbot, wiz.connect_button)
    wait_page(qtbot, wiz, wiz.confirm_page)
    first_id = wiz.state.station_id
    click(qtbot, wiz.wrong_site_button)
    wait_page(qtbot, wiz, wiz.hub_page)
    assert keys.load_token(first_id) is None and not (ddir / "station.json").exists()
    fill(kb, wiz.code, hub.code(SITE))
    click(qtbot, wiz.connect_button)
    wait_page(qtbot, wiz, wiz.confirm_page)
    assert wiz.state.station_id != first_id and wiz.state.site_code == SITE
    click(qtbot, wiz.confirm_button)
    wait_page(qtbot, wiz, wiz.admin_page)
    wiz.close_station()
    st = open_station(ddir)
    try:
        assert st.site_code == SITE and st.install_id == wiz.state.station_id
    finally:
        st.close()


def provision_file(tmp_path: Path, hub: Hub, **extra: object) -> Path:
    doc = {
        "format": 1,
        "hub_url": hub.url,
        "site_code": SITE,
        "station_letter": "C",
        "admin": {"username": "quantri", "display_name": "Quản trị viên",
                  "password_hash": admin.hash_password(ADMIN_PW)},
        **extra,
    }
    path = tmp_path / "provision.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return path


def test_wizard_with_provisioning_file_skips_the_admin_page(
    qtbot, tasks: TaskManager, hub: Hub, tmp_path: Path,
) -> None:
    ddir = tmp_path / "station"
    path = provision_file(tmp_path, hub, enrollment_code=hub.code())
    wiz = SetupWizard(tasks, ddir)
    qtbot.addWidget(wiz)
    wiz.load_provision(path)
    assert wiz.hub_url.text() == hub.url and wiz.letter.text() == "C" and wiz.code.text()
    click(qtbot, wiz.connect_button)
    wait_page(qtbot, wiz, wiz.confirm_page)
    assert not wiz.site_warning.isVisibleTo(wiz)
    click(qtbot, wiz.confirm_button)
    wait_page(qtbot, wiz, wiz.recovery_page)  # the admin came from the file's hash
    qtbot.waitUntil(lambda: bool(wiz.recovery_code_text), timeout=WAIT_MS)
    wiz.close_station()
    st = open_station(ddir)
    try:
        assert admin.login(st, "quantri", ADMIN_PW).role == "admin"
        assert st.sync_state()["station_letter"] == "C"
    finally:
        st.close()


@pytest.mark.slow  # seconds each; the fast lane leaves it out
def test_provision_command_offline_then_enroll(hub: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = provision_file(tmp_path, hub)
    raw = json.loads(path.read_text())
    assert "password" not in raw["admin"]  # only a hash travels in the file
    d1 = tmp_path / "laptop1"
    # No code: set up locally (works without a line), enrollment later.
    assert tramtiem.main(["provision", "--file", str(path), "--data-dir", str(d1), "--letter", "D"]) == 0
    assert "tramtiem enroll" in capsys.readouterr().out
    assert tramtiem.main(["enroll", "--hub", hub.url, "--code", hub.code(), "--data-dir", str(d1)]) == 0
    # With a per-laptop code: set up and enrolled in one go.
    d2 = tmp_path / "laptop2"
    assert tramtiem.main(["provision", "--file", str(path), "--data-dir", str(d2), "--letter", "E",
                          "--code", hub.code()]) == 0
    for d in (d1, d2):
        st = open_station(d)
        try:
            assert admin.login(st, "quantri", ADMIN_PW).role == "admin"
            assert sync_cli.load_token(st.install_id)
        finally:
            st.close()
    # A plaintext password in the file is refused.
    bad = tmp_path / "bad.json"
    raw["admin"]["password"] = ADMIN_PW
    bad.write_text(json.dumps(raw))
    assert tramtiem.main(["provision", "--file", str(bad), "--data-dir", str(tmp_path / "l3")]) == 4
    assert not (tmp_path / "l3" / "station.json").exists()
