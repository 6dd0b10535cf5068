"""Every screen and dialog of the station app on a morning's demo data, one after another.

Shared by the fit test (``tests/ui/test_fit.py``: does every text fit, is every text
translated) and ``scripts/render_screenshots.py`` (the PNGs in docs/screenshots),
so the pictures show exactly the states the test measures.

``walk(app, ...)`` drives the real window the way the clinic does and yields
``Screen(name, window, dialog)`` at each state worth looking at; ``dialog`` is a
dialog open over the window (checked on its own, drawn over it in a picture).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QPoint, QSize, QUrl
from PySide6.QtGui import QPainter, QPixmap
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QWidget
from sqlalchemy import text

from kernel.errors import FieldIssue, NeedsConfirmation
from station import replica
from station.demo import DEMO_PASSWORD, generate
from station.dto import DoseInput, PersonInput
from station.services import admin, clinical, people
from station.store import Station, init_station
from sync.site_hub_status import SiteHubStatus
from tests.station.helpers import QR_AN, screen_eligible
from ui.app import StationApp
from ui.bridge import SiteHubLineChanged
from ui.dialogs.confirm import ConfirmWarningsDialog
from ui.settings import UiSettings, save_settings
from ui.site_hub_host import HostState
from ui.widgets.common import select_first

SIZE = QSize(1366, 768)
SITE_NAME = "Trạm Y tế phường Tân Phong"
# The walk's desk has a site hub (issue 14): every status bar shows both links. Port 9
# (discard) on loopback: nothing answers there, the window's own ask fails at once.
SITE_HUB_URL = "http://127.0.0.1:9"


class Clock:
    """A fixed morning at the site, movable."""

    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 2, 40, tzinfo=UTC)  # 09:40 at the site

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class Screen:
    name: str
    window: QWidget
    dialog: QWidget | None = None

    def pixmap(self) -> QPixmap:
        """The window as a person sees it, the dialog (if any) drawn centred over it."""
        QApplication.processEvents()
        shot = self.window.grab()
        if self.dialog is not None:
            over = self.dialog.grab()
            painter = QPainter(shot)
            painter.drawPixmap(QPoint((shot.width() - over.width()) // 2,
                                      (shot.height() - over.height()) // 3), over)
            painter.end()
        return shot


def wait_until(pred: Callable[[], bool], timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not pred():
        QApplication.processEvents()
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        time.sleep(0.01)


def settle(app: StationApp) -> None:
    wait_until(lambda: app.tasks.in_flight() == 0)
    for _ in range(5):
        QApplication.processEvents()
        time.sleep(0.02)


def build_station(ddir: Path, clock: Clock, *, people_count: int = 400) -> Station:
    """A morning's work on demo data, with a review item and a refused op for the sync screen."""
    st = init_station(ddir, "DN-DEMO-01", clock=clock)
    generate(st, people_count=people_count, seed=3, expected_today=30)
    replica.set_meta(st, replica.SITE_NAME_KEY, SITE_NAME)
    sup = admin.login(st, "giamsat", DEMO_PASSWORD)
    scr = admin.login(st, "bacsi", DEMO_PASSWORD)
    clerk = admin.login(st, "thuky", DEMO_PASSWORD)
    lots = admin.list_lots(st)
    pfizer = next(lot for lot in lots if lot.vaccine_code == "PFIZER")
    today = people.registrations_for_day(st)
    # Some checked in, screened, vaccinated, under observation.
    for i, (reg, person) in enumerate(today[:14]):
        people.check_in(st, sup, reg.id)
        if i < 10:
            screen_eligible(st, scr, person.id)
        if i < 5:
            clock.now -= timedelta(minutes=5 * (5 - i))
            try:
                clinical.record_dose(st, clerk, DoseInput(person.id, pfizer.id))
            except NeedsConfirmation as exc:  # a history that needs a confirmation: as a clerk would
                codes = frozenset(w.code for w in exc.warnings)
                clinical.record_dose(st, clerk, DoseInput(person.id, pfizer.id, confirm=codes))
            clock.now = datetime(2026, 12, 1, 2, 40, tzinfo=UTC)
    # A review item and a refused op, as the sync engine leaves them.
    a = today[20][1]
    dup = people.register_walk_in(st, sup, PersonInput(
        full_name=a.full_name, birth=a.birth_display, sex=a.sex, id_type="none", phone=a.phone,
        priority_group=a.priority_group), check_in=False).person
    with st.sync_writer() as conn:
        conn.execute(text(
            "INSERT INTO conflict (id, kind, priority, entity_type, entity_id, status, candidates, created_at) "
            "VALUES ('rv-demo-1', 'possible_duplicate_person', 'high', 'person', :a, 'open', :c, :t)"),
            {"a": a.id, "c": json.dumps({"person_ids": [a.id, dup.id]}), "t": "2026-12-01T08:15:00+07:00"})
        conn.execute(text(
            "INSERT INTO conflict (id, kind, priority, entity_type, entity_id, status, candidates, created_at) "
            "VALUES ('rv-demo-2', 'field_conflict', 'low', 'person', :a, 'open', '{}', :t)"),
            {"a": today[21][1].id, "t": "2026-12-01T08:30:00+07:00"})
        conn.execute(text(
            "UPDATE sync_outbox SET state = 'rejected', last_error = :e WHERE op_seq = "
            "(SELECT min(op_seq) FROM sync_outbox WHERE op_type = 'upsert_lot')"),
            {"e": json.dumps({"code": "lot.exists"})})
    # A site hub: some ops it holds for the province (relay_accepted), the rest not there yet.
    replica.set_site_hub_url(st, SITE_HUB_URL)
    with st.sync_writer() as conn:
        conn.execute(text(
            "UPDATE sync_outbox SET state = 'relay_accepted' WHERE op_seq IN "
            "(SELECT op_seq FROM sync_outbox WHERE state = 'pending' ORDER BY op_seq LIMIT 12)"))
        conn.execute(text("UPDATE sync_state SET last_relay_ok = :t WHERE id = 1"),
                     {"t": "2026-12-01T02:38:00+00:00"})
    # Two children (issue 12): one waits for screening (the children's checklist), one was
    # cleared and meets the adult Pfizer lot (refused unless a supervisor overrides).
    vol = admin.login(st, "tinhnguyen", DEMO_PASSWORD)
    for name, birth, sex, phone, screen in (
        ("Phạm Minh Khoa", "15/02/2012", "M", "0903335555", False),
        ("Đặng Thị Bảo Ngọc", "09/09/2017", "F", "0903336666", True),
    ):
        pid = people.register_walk_in(st, vol, PersonInput(
            full_name=name, birth=birth, sex=sex, id_type="none", phone=phone,
            priority_group=8)).person.id
        if screen:
            screen_eligible(st, scr, pid)
    return st


def login(app: StationApp, user: str) -> None:
    panel = app.login.panel
    wait_until(panel.username.isEnabled)
    panel.username.setText(user)
    panel.password.setText(DEMO_PASSWORD)
    panel.submit()
    wait_until(lambda: app.main is not None and app.main.isVisible())
    assert app.main is not None
    app.main.resize(SIZE)
    settle(app)


def _dialog(app: StationApp, dialog: QDialog | None) -> QDialog:
    assert dialog is not None
    wait_until(dialog.isVisible)
    settle(app)
    return dialog


def _select(view: QWidget, pred: Callable[[object], bool]) -> None:
    """Select the first row of a queue for which ``pred(row)`` holds."""
    model = view.model()  # type: ignore[attr-defined]
    for r in range(model.rowCount()):
        if pred(model.row_at(r)):
            view.selectRow(r)  # type: ignore[attr-defined]
            return
    raise AssertionError("no such row")


def walk(qapp: QApplication, st: Station, lang: str) -> Iterator[Screen]:
    """Log in as each role and visit every workspace and dialog (one language)."""
    save_settings(st.data_dir, UiSettings(language=lang, idle_lock_minutes=10,
                                          hub_url="https://hub.dongnai.example"))
    app = StationApp(qapp, st.data_dir, station=st, start_engine=False)
    app.start()
    try:
        yield from _walk(app, st)
    finally:
        app.shutdown()


def _walk(app: StationApp, st: Station) -> Iterator[Screen]:
    app.login.resize(SIZE)
    wait_until(app.login.panel.username.isEnabled)
    app.login.panel.username.setText("thuky")
    yield Screen("login", app.login)

    login(app, "giamsat")
    main = app.main
    assert main is not None
    # The site hub route answers on the LAN; the province's line is down (no engine here).
    app.bridge.feed(SiteHubLineChanged("online"))
    assert app.poller is not None
    app.poller.poll()
    main.show_workspace("reception")
    settle(app)
    yield Screen("reception", main)
    rec = main.workspaces["reception"]
    rec.search_box.setText("nguyen van")  # type: ignore[attr-defined]
    wait_until(lambda: rec.lists.currentWidget() is rec.hits_view)  # type: ignore[attr-defined]
    settle(app)
    select_first(rec.hits_view)  # type: ignore[attr-defined]
    settle(app)
    yield Screen("reception-search", main)
    rec.search_box.clear()  # type: ignore[attr-defined]
    rec.handle_scan(QR_AN)
    settle(app)
    form = rec.form  # type: ignore[attr-defined]
    form.phone.setText("12345")
    form.validate_field("phone")
    yield Screen("reception-walk-in-from-qr", main)
    form.request_close()
    yield Screen("reception-close-form", main, _dialog(app, form.close_dialog))
    form.close_dialog.reject()
    settle(app)
    form.request_close()
    form.close_dialog.discard_btn.click()
    settle(app)

    main.show_workspace("screening")
    settle(app)
    scr = main.workspaces["screening"]
    # A woman: the pregnancy questions are asked. Two answers that disagree show why the
    # suggestion is what it is (an acute illness defers; that beats the hospital referral).
    _select(scr.queue_view, lambda row: row[1].sex == "F")  # type: ignore[attr-defined]
    settle(app)
    scr.item_boxes["2"].setChecked(True)  # type: ignore[attr-defined]
    scr.item_boxes["4"].setChecked(True)  # type: ignore[attr-defined]
    scr.details["4"].setText("Penicillin")  # type: ignore[attr-defined]
    scr.vitals["temperature"].setText("37.9")  # type: ignore[attr-defined]
    settle(app)  # the "why" grew: let the layout give it its lines
    yield Screen("screening", main)
    # A child of 14: the children's checklist, with the parent or guardian.
    _select(scr.queue_view, lambda row: row[1].full_name == "Phạm Minh Khoa")  # type: ignore[attr-defined]
    settle(app)
    scr.guardian_name.setText("Phạm Thị Lành")  # type: ignore[attr-defined]
    scr.guardian_phone.setText("0912 000 111")  # type: ignore[attr-defined]
    scr.vitals["temperature"].setText("36.9")  # type: ignore[attr-defined]
    scr.item_boxes["5"].setChecked(True)  # type: ignore[attr-defined]
    settle(app)
    yield Screen("screening-child", main)

    main.show_workspace("vaccination")
    settle(app)
    vac = main.workspaces["vaccination"]
    vac.set_session_lot(vac.lot_combo.itemData(1) or vac.lot_combo.itemData(0))  # type: ignore[attr-defined]
    vac.set_session_site("left_deltoid")  # type: ignore[attr-defined]
    vac.queue_view.setFocus()  # type: ignore[attr-defined]
    select_first(vac.queue_view)  # type: ignore[attr-defined]
    settle(app)
    yield Screen("vaccination", main)
    warnings = (FieldIssue("lot_id", "lot.expiry_near", {"days": 3}),
                FieldIssue("administered_at", "dose.interval_too_short", {"days": 20, "min_days": 21}))
    confirm = ConfirmWarningsDialog(warnings, vac)
    confirm.open()
    yield Screen("vaccination-confirm", main, _dialog(app, confirm))
    confirm.reject()
    # A child of 9 and the adult Pfizer lot: refused; a supervisor may override, with a reason.
    pfizer = next(lot.id for lot in vac._lots if lot.vaccine_code == "PFIZER")  # type: ignore[attr-defined]
    vac.set_session_lot(pfizer)  # type: ignore[attr-defined]
    _select(vac.queue_view, lambda row: row[1].full_name == "Đặng Thị Bảo Ngọc")  # type: ignore[attr-defined]
    settle(app)
    vac.record()  # type: ignore[attr-defined]
    wait_until(lambda: vac.override_dialog is not None)  # type: ignore[attr-defined]
    override = vac.override_dialog  # type: ignore[attr-defined]
    override.reason.setText("Theo chỉ định của bác sĩ nhi khoa")
    yield Screen("vaccination-override", main, _dialog(app, override))
    override.reject()
    settle(app)
    # The void dialog, on a dose given this morning.
    vaccinated = [p for r, p in people.registrations_for_day(st) if r.status == "vaccinated"]
    vac._load_person(vaccinated[0].id)  # type: ignore[attr-defined]
    settle(app)
    select_first(vac.history_view)  # type: ignore[attr-defined]
    vac.void_selected()  # type: ignore[attr-defined]
    yield Screen("vaccination-void", main, _dialog(app, vac.void_dialog))  # type: ignore[attr-defined]
    vac.void_dialog.reject()  # type: ignore[attr-defined]
    settle(app)

    main.show_workspace("observation")
    settle(app)
    obs = main.workspaces["observation"]
    select_first(obs.view)  # type: ignore[attr-defined]
    yield Screen("observation", main)
    obs.mark_done()  # type: ignore[attr-defined]
    yield Screen("observation-end-early", main, _dialog(app, obs.early_dialog))  # type: ignore[attr-defined]
    dialog = obs.early_dialog  # type: ignore[attr-defined]
    dialog.reasons.setCurrentRow(0)
    dialog.accept()
    settle(app)
    yield Screen("observation-undo", main)
    obs.undo()  # type: ignore[attr-defined]
    settle(app)
    obs.record_event()  # type: ignore[attr-defined]
    yield Screen("observation-adverse-event", main, _dialog(app, obs.ae_dialog))  # type: ignore[attr-defined]
    obs.ae_dialog.reject()  # type: ignore[attr-defined]
    settle(app)

    assert app.poller is not None
    app.poller.poll()
    settle(app)
    main.show_workspace("sync")
    settle(app)
    sync = main.workspaces["sync"]
    sync.reviews_view.setFocus()  # type: ignore[attr-defined]
    select_first(sync.reviews_view)  # type: ignore[attr-defined]
    settle(app)
    # What the site hub answers about its own line (a real one is asked in
    # tests/ui/test_site_hub_links.py; nothing listens on the walk's address).
    sync.site_hub._answered(SiteHubStatus(  # type: ignore[attr-defined]
        site_code="DN-DEMO-01", province_reachable=False, province_contact_at="2026-12-01T01:55:00.000Z",
        waiting_ops=31, waiting_for_you=12, server_time="2026-12-01T02:40:00.000Z"))
    yield Screen("sync", main)

    main.show_workspace("admin")
    settle(app)
    adm = main.workspaces["admin"]
    yield Screen("admin-users", main)
    adm.tabs.setCurrentIndex(1)  # type: ignore[attr-defined]
    settle(app)
    yield Screen("admin-lots", main)

    main.show_workspace("reports")
    settle(app)
    yield Screen("reports", main)
    rep = main.workspaces["reports"]
    rep.tabs.setCurrentIndex(1)  # type: ignore[attr-defined]
    settle(app)
    yield Screen("reports-exchange", main)
    files = QFileDialog(main, rep.tr("Save the report as PDF"), str(Path.home()), "PDF (*.pdf)")
    files.setOption(QFileDialog.Option.DontUseNativeDialog)
    files.setSidebarUrls([QUrl.fromLocalFile(str(Path.home()))])
    files.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
    files.resize(900, 520)
    files.open()
    yield Screen("file-dialog", main, _dialog(app, files))
    files.reject()
    settle(app)

    main.show_workspace("vaccination")
    settle(app)
    main.toggle_help()
    settle(app)
    yield Screen("help-overlay", main)
    main.toggle_help()
    main.lock()
    settle(app)
    yield Screen("locked", main)

    app.logout()
    login(app, "admin")
    main = app.main
    assert main is not None
    main.show_workspace("admin")
    adm = main.workspaces["admin"]
    adm.tabs.setCurrentIndex(adm.tabs.count() - 2)  # type: ignore[attr-defined]
    settle(app)
    yield Screen("admin-site-hub", main)
    # Running, with its link to the province down (the longest texts): the state as shown.
    adm.site_hub_tab.show_state(HostState(  # type: ignore[attr-defined]
        on=True, running=True, enrolled=True, port=8765, site_code="DN-01",
        addresses=("https://192.168.1.10:8765", "https://10.8.0.2:8765"), fingerprint="3f1c" * 16,
        province_reachable=False, province_contact_at="2026-12-01T03:12:00.000Z", waiting_ops=1234))
    settle(app)
    yield Screen("admin-site-hub-running", main)
    adm.tabs.setCurrentIndex(adm.tabs.count() - 1)  # type: ignore[attr-defined]
    settle(app)
    yield Screen("admin-settings", main)

    app.logout()
    login(app, "tinhnguyen")
    main = app.main
    assert main is not None
    settle(app)
    yield Screen("volunteer-reception", main)


__all__ = ["SITE_NAME", "SIZE", "Clock", "Screen", "build_station", "walk"]
