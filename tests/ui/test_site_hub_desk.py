"""A desk with a site hub, on a real site on 127.0.0.1 (issue 14 "seen at the desk").

The window of desk B over its real station, a real site hub relaying to a real province
hub through a line the test cuts: the status bar shows both links and what waits for
each; the Sync workspace asks the site hub for its own view of the province link (F6,
Ctrl+R); and at the injection desk a dose another desk gave (pulled from the site hub
after the person was opened) is caught when Enter saves, with a message naming it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication

from station import outbox, replica
from station.dto import DoseInput
from station.services import clinical, people
from sync import cli as sync_cli
from tests.e2e.site_lan import Desk, Lan, run_site_hub, site_lan, wait_until
from tests.e2e.test_site_hub import start
from tests.station.helpers import person, screen_eligible
from tests.ui.conftest import WAIT_MS, Keyboard, login, wait_idle
from tests.ui.test_flows import choose_lot
from ui import labels, messages
from ui.app import StationApp
from ui.bridge import LineStateChanged, SiteHubLineChanged, SyncProgress
from ui.status_bar import StationStatusBar
from ui.workspaces.sync import SyncWorkspace
from ui.workspaces.vaccination import VaccinationWorkspace

K = Qt.Key


@contextmanager
def window(
    qapp: QApplication, desk: Desk, lan: Lan, *, engines: bool = False, province_url: str | None = None
) -> Iterator[StationApp]:
    """Desk's window; without ``engines`` none runs (the test syncs by hand, deterministically)."""
    assert lan.site_hub is not None
    replica.set_site_hub_url(desk.st, lan.site_hub.url)
    replica.set_meta(desk.st, sync_cli.HUB_URL_KEY, province_url or lan.province.url)
    sync_cli.store_token(desk.st.install_id, desk.token)
    app = StationApp(qapp, desk.st.data_dir, station=desk.st, start_engine=engines)
    app.start()
    try:
        yield app
    finally:
        app.shutdown()


def _ready(lan: Lan) -> None:
    sh = lan.site_hub
    assert sh is not None
    wait_until(lambda: sh.scalar("SELECT count(*) FROM station") == 2, what="the roster")
    wait_until(lambda: sh.scalar("SELECT count(*) FROM app_user") == 4, what="the site's users")


def _tr(ctx: str, source: str, n: int = -1) -> str:
    return QCoreApplication.translate(ctx, source, None, n)


def test_both_links_in_the_status_bar_and_the_site_hubs_view_in_the_sync_workspace(
    qtbot, qapp: QApplication, kb: Keyboard, tmp_path: Path
) -> None:
    with site_lan(tmp_path) as lan:
        _a, b = start(lan)
        with run_site_hub(lan) as sh:
            _ready(lan)
            replica.set_site_hub_url(b.st, sh.url)  # before it holds anything: a new address resends
            lan.line_down()
            vol = b.staff()["volunteer"]
            people.register_walk_in(b.st, vol, person())
            b.sync()  # the site hub holds it; the province does not
            people.register_walk_in(b.st, vol, person(full_name="Trần Văn Bình", id_number="075185001235",
                                                      phone="0912345679"))  # not yet at the site hub
            wait_until(lambda: not sh.hub.province_reachable, what="the site hub to notice the line is down")
            with window(qapp, b, lan) as app:
                main = login(qtbot, app, kb, "giamsat")
                held, unsent = outbox.counts(b.st).relay_accepted, outbox.counts(b.st).unsent  # a login is an op too
                assert held >= 1 and unsent >= 1
                app.bridge.feed(SiteHubLineChanged("online"))
                app.bridge.feed(LineStateChanged("offline"))
                assert app.poller is not None
                app.poller.poll()
                wait_idle(qtbot, app)
                bar = main.statusBar()
                assert isinstance(bar, StationStatusBar)
                qtbot.waitUntil(bar.site_hub.isVisible, timeout=WAIT_MS)
                online, offline = labels.tr(labels.LINE, "online"), labels.tr(labels.LINE, "offline")
                assert bar.site_hub.text() == _tr("StationStatusBar", "Site hub: {line} · {n} to send").format(
                    line=online, n=unsent)
                assert bar.line.text() == _tr("StationStatusBar", "Province: {line} · {n} at the site hub").format(
                    line=offline, n=held)
                assert bar.site_hub.property("state") == "online" and bar.line.property("state") == "offline"
                assert "Máy chủ điểm" in bar.site_hub.text()  # Vietnamese by default
                # The longest states (both syncing, a transfer under way) still fit 1366 pixels.
                app.bridge.feed(SiteHubLineChanged("syncing"))
                app.bridge.feed(LineStateChanged("syncing"))
                app.bridge.feed(SyncProgress(1234, 5678))
                qtbot.waitUntil(lambda: "1234/5678" in bar.line.text(), timeout=WAIT_MS)
                main.resize(1366, 768)
                QApplication.processEvents()
                assert main.width() <= 1366 and bar.site_hub.isVisible() and not bar.pending.isVisible()
                assert str(held + unsent) in bar.line.toolTip()  # the total moved to the tooltip
                for ev in (SyncProgress(0, 0), LineStateChanged("offline"), SiteHubLineChanged("online")):
                    app.bridge.feed(ev)
                qtbot.waitUntil(lambda: bar.line.property("state") == "offline", timeout=WAIT_MS)
                # The Sync workspace (F6): the desk's links and what the site hub says.
                kb.key(K.Key_F6, main)
                ws = main.workspaces["sync"]
                assert isinstance(ws, SyncWorkspace) and main.current_workspace() is ws
                panel = ws.site_hub
                qtbot.waitUntil(lambda: panel.remote is not None, timeout=WAIT_MS)
                assert panel.isVisible()
                assert panel.address.text() == sh.url
                assert panel.found_by.text() == _tr("SiteHubPanel", "typed by IT staff")
                assert panel.to_site_hub.text() == str(unsent) and panel.held.text() == str(held)
                assert panel.province.text() == _tr("SiteHubPanel", "not reachable")
                assert panel.site_waiting.text() == _tr("SiteHubPanel", "{n} (this desk: {mine})").format(
                    n=sh.waiting(), mine=held)
                # The line comes back; Ctrl+R asks the site hub again.
                lan.line_up()
                wait_until(lambda: sh.waiting() == 0, what="the forwarder to drain")
                kb.key(K.Key_R, None, Qt.KeyboardModifier.ControlModifier)  # to the focused list
                qtbot.waitUntil(lambda: panel.province.text() == _tr("SiteHubPanel", "reachable"), timeout=WAIT_MS)
                assert panel.site_waiting.text().startswith("0")
                # Without a site hub the desk shows the province link alone, as before.
                replica.set_site_hub_url(b.st, None)
                app.poller.poll()
                wait_idle(qtbot, app)
                qtbot.waitUntil(lambda: not bar.site_hub.isVisible(), timeout=WAIT_MS)
                assert not panel.isVisible() and bar.line.text() == offline and bar.pending.isVisible()


def test_the_injection_desk_checks_again_at_save_a_dose_pulled_since_the_person_was_opened(
    qtbot, qapp: QApplication, kb: Keyboard, tmp_path: Path
) -> None:
    with site_lan(tmp_path) as lan:
        a, b = start(lan)
        with run_site_hub(lan):
            _ready(lan)
            lan.line_down()
            sa = a.staff()
            pid = people.register_walk_in(a.st, sa["volunteer"], person()).person.id
            screen_eligible(a.st, sa["screener"], pid)
            a.sync()
            b.sync()
            lot = lan.lot_id()
            with window(qapp, b, lan) as app:
                main = login(qtbot, app, kb, "thuky")
                kb.key(K.Key_F4, main)
                vac = main.workspaces["vaccination"]
                assert isinstance(vac, VaccinationWorkspace)
                wait_idle(qtbot, app)
                choose_lot(qtbot, app, kb, vac, lot)
                vac.queue_view.setFocus()
                model = vac.queue_model
                rows = [r for r in range(model.rowCount()) if model.row_at(r)[1].id == pid]
                assert rows, "the person screened at A is in B's queue"
                vac.queue_view.selectRow(rows[0])
                wait_idle(qtbot, app)
                already = _tr("VaccinationWorkspace", "Already vaccinated today: {vaccine} at {time}.")
                assert already.split("{")[0] not in vac.suggest.text()  # nothing given yet
                # Desk A injects the same person; B pulls it from the site hub, its form still open.
                given = clinical.record_dose(a.st, sa["clerk"], DoseInput(pid, lot))
                a.sync()
                b.sync()
                kb.enter(vac.queue_view)
                wait_idle(qtbot, app)
                text = vac.banner.text()
                assert text == messages.text_for(
                    "dose.same_day_other_desk",
                    {"vaccine": given.vaccine_code, "given_at": given.administered_at, "desk": a.st.install_id[-4:]},
                )
                assert "…" + a.st.install_id[-4:] in text
                assert labels.site_time(given.administered_at, "%H:%M:%S") in text
                assert len(clinical.dose_history(b.st, pid)) == 1  # nothing saved at B
                # The history now shows A's dose and the suggestion says it, before another Enter.
                qtbot.waitUntil(lambda: vac.history_model.rowCount() == 1, timeout=WAIT_MS)
                assert already.format(vaccine=labels.vaccine_name(given.vaccine_code),
                                      time=labels.site_time(given.administered_at)) in vac.suggest.text()


def test_the_window_runs_both_routes_and_the_bar_follows_the_real_engines(
    qtbot, qapp: QApplication, kb: Keyboard, tmp_path: Path
) -> None:
    """The desk's own line is down (its province address answers nothing), the LAN works:
    the window's two engines (ui/sync_wiring.py) report each link, and what B registers
    reaches the site hub and waits there for the province."""
    with site_lan(tmp_path) as lan:
        _a, b = start(lan)
        with run_site_hub(lan) as sh:
            _ready(lan)
            replica.set_site_hub_url(b.st, sh.url)
            lan.line_down()
            dead = "http://127.0.0.1:9"  # nothing listens: the desk's own line is down
            with window(qapp, b, lan, engines=True, province_url=dead) as app:
                assert app.sync is not None and app.sync.relay is not None
                main = login(qtbot, app, kb, "tnv")
                bar = main.statusBar()
                assert isinstance(bar, StationStatusBar)
                people.register_walk_in(b.st, b.staff()["volunteer"], person())
                app.bridge.request_sync()  # both routes at once
                qtbot.waitUntil(lambda: outbox.counts(b.st).unsent == 0, timeout=30_000)
                assert outbox.counts(b.st).relay_accepted >= 1 and sh.waiting() >= 1
                assert app.poller is not None
                app.poller.poll()
                held = outbox.counts(b.st).relay_accepted
                online, offline = labels.tr(labels.LINE, "online"), labels.tr(labels.LINE, "offline")
                want_site = _tr("StationStatusBar", "Site hub: {line} · {n} to send").format(line=online, n=0)
                want_prov = _tr("StationStatusBar", "Province: {line} · {n} at the site hub").format(
                    line=offline, n=held)
                qtbot.waitUntil(lambda: bar.site_hub.text() == want_site and bar.line.text() == want_prov,
                                timeout=30_000)
                assert bar.site_hub.property("state") == "online" and bar.line.property("state") == "offline"
