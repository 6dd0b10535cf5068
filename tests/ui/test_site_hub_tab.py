"""Admin → Site hub, offscreen with keys: this laptop turns its site hub on and off (issue 14).

Real parts: a province hub on 127.0.0.1, this desk enrolled with it (token in a keyring
file shared with the child), the window (``StationApp``) logged in as admin, and the site
hub started by the tab as a real child process (``python -m hub.cli serve --relay-to``,
HTTPS, on 127.0.0.1 without announcing). A wrong code is told under the field and the code
stays typed; the right one starts it; the desk points at it; turning it off asks first when
ops wait, stops the child and gives the desk its previous route back.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from station import replica
from station.demo import DEMO_PASSWORD
from station.dto import UserInput
from station.services import admin
from station.store import Actor, open_station
from sync import site_hub_serve as shs
from tests.e2e import test_site_hub_laptop as laptop
from tests.e2e.test_site_hub_laptop import SITE, Province, enrolled_desk, free_port, pids_using
from tests.ui.screens import login, settle, wait_until
from ui.app import StationApp
from ui.settings import UiSettings, save_settings
from ui.site_hub_host import SiteHubHost
from ui.workspaces.site_hub_tab import SiteHubTab

# The province and the shared keyring file of the command-line tests.
plain_keyring = laptop.plain_keyring
province = laptop.province

pytestmark = pytest.mark.slow  # a real hub process and its child: ./dev test runs it


def test_admin_turns_the_site_hub_on_and_off(
    qapp: QApplication, qtbot: QtBot, tmp_path: Path, province: Province
) -> None:
    ddir = tmp_path / "desk"
    enrolled_desk(province, ddir, "A").close()
    st = open_station(ddir)
    admin.create_user(st, Actor.system(SITE), UserInput("admin", "Quản trị", "admin", DEMO_PASSWORD))
    save_settings(ddir, UiSettings(language="en", idle_lock_minutes=10))
    app = StationApp(qapp, ddir, station=st, start_engine=False)
    app.make_site_hub = lambda s, d: SiteHubHost(s, d, host="127.0.0.1", announce=False)
    app.start()
    folder = ddir / shs.SUBDIR
    try:
        login(app, "admin")
        main = app.main
        assert main is not None
        main.show_workspace("admin")
        adm = main.workspaces["admin"]
        tab = adm.site_hub_tab  # type: ignore[attr-defined]
        assert isinstance(tab, SiteHubTab)
        adm.tabs.setCurrentWidget(tab)  # type: ignore[attr-defined]
        settle(app)
        assert "Off" in tab.status.text()
        port = free_port()
        tab.port.setValue(port)

        # A wrong code: told under the field, still typed, nothing made.
        tab.code.setFocus()
        qtbot.keyClicks(tab.code, "abcd-efgh-jkmn")
        qtbot.keyClick(tab.code, Qt.Key.Key_Return)
        wait_until(lambda: tab.errors.has_error("relay_code"), timeout=120)
        assert "does not know this relay code" in tab.errors.text("relay_code")
        assert tab.code.text() == "abcd-efgh-jkmn" and not folder.exists()

        # The right code: enrolled, started, this desk pointed at it.
        tab.code.selectAll()
        qtbot.keyClicks(tab.code, province.relay_code())
        qtbot.keyClick(tab.code, Qt.Key.Key_Return)
        wait_until(lambda: tab.state is not None and tab.state.running, timeout=120)
        assert not tab.errors.has_error("relay_code") and tab.code.text() == ""
        assert len(pids_using(folder)) == 1 and shs.accepts(port)
        assert replica.site_hub_url(st) == f"https://127.0.0.1:{port}"
        wait_until(lambda: tab.state is not None and tab.state.province_reachable is True, timeout=30)
        tab.refresh()
        settle(app)
        text = tab.status.text()
        assert f"site {SITE}" in text and "Link to the province: up" in text
        assert tab.state is not None and tab.state.fingerprint[:4] in text

        # Ops waiting at the site hub: turning off asks, and "no" keeps it running.
        asked: list[int] = []
        tab.confirm_off = lambda n: asked.append(n) or False  # type: ignore[method-assign]
        tab.state = replace(tab.state, waiting_ops=3)
        tab.off_button.setFocus()
        qtbot.keyClick(tab.off_button, Qt.Key.Key_Space)
        settle(app)
        assert asked == [3] and len(pids_using(folder)) == 1

        tab.confirm_off = lambda n: True  # type: ignore[method-assign]
        qtbot.keyClick(tab.off_button, Qt.Key.Key_Space)
        wait_until(lambda: tab.state is not None and not tab.state.running and not tab.state.on, timeout=60)
        assert not pids_using(folder) and not shs.accepts(port)
        assert replica.site_hub_url(st) is None  # the desk's previous route (none)
        assert (folder / shs.INFO_FILE).is_file()  # its data stays on this laptop
        assert "no code needed" in tab.status.text()

        # On again without a code (enrolled once), then the window quits: the child ends.
        tab.on_button.setFocus()
        qtbot.keyClick(tab.on_button, Qt.Key.Key_Space)
        wait_until(lambda: tab.state is not None and tab.state.running, timeout=120)
        assert len(pids_using(folder)) == 1
    finally:
        app.shutdown()
        st.close()
    wait_until(lambda: not pids_using(folder), timeout=20)
