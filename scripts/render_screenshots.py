#!/usr/bin/env python3
"""Render every screen of the station app, in Vietnamese and English, at 1366×768.

    QT_QPA_PLATFORM=offscreen python scripts/render_screenshots.py [--out docs/screenshots]

Builds a throwaway demo station (in-process keyring, fixed clock), walks a few
people through the clinic so every workspace has something to show, then
grabs each screen as PNG: ``<lang>-<nn>-<screen>.png``. Look at every image
after a change to the UI (clipped text, overlaps, missing glyphs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import keyring
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QApplication, QWidget
from sqlalchemy import text

from station import refdata
from station.demo import DEMO_PASSWORD, generate
from station.dto import DoseInput, PersonInput
from station.memkeyring import ProcessKeyring
from station.services import admin, clinical, people
from station.store import Station, init_station
from tests.station.helpers import QR_AN
from ui.app import StationApp
from ui.settings import UiSettings, save_settings

SIZE = QSize(1366, 768)


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 2, 40, tzinfo=UTC)  # 09:40 at the site

    def __call__(self) -> datetime:
        return self.now


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


def build_station(ddir: Path, clock: Clock) -> Station:
    st = init_station(ddir, "DN-DEMO-01", clock=clock)
    generate(st, people_count=400, seed=3, expected_today=30)
    sup = admin.login(st, "giamsat", DEMO_PASSWORD)
    scr = admin.login(st, "bacsi", DEMO_PASSWORD)
    clerk = admin.login(st, "thuky", DEMO_PASSWORD)
    lots = admin.list_lots(st)
    pfizer = next(lot for lot in lots if lot.vaccine_code == "PFIZER")
    today = people.registrations_for_day(st)
    # A morning's work: some checked in, screened, vaccinated, under observation.
    for i, (reg, person) in enumerate(today[:14]):
        people.check_in(st, sup, reg.id)
        if i < 10:
            form = refdata.screening_forms()[clinical.screening_form_for(st, person.id).form_id or ""]
            guardian = {"guardian_name": "Nguyễn Văn Ba", "guardian_phone": "0912000111"} if form.guardian else {}
            clinical.record_screening(st, scr, person.id, answers={i.id: False for i in form.items},
                                      outcome="eligible", vitals={"temperature": 36.7, "pulse": 78},
                                      **guardian)
        if i < 5:
            clock.now -= timedelta(minutes=5 * (5 - i))
            try:
                clinical.record_dose(st, clerk, DoseInput(person.id, pfizer.id))
            except Exception:  # a history that needs a confirmation: confirm it, as a clerk would
                from station.errors import NeedsConfirmation

                try:
                    clinical.record_dose(st, clerk, DoseInput(person.id, pfizer.id))
                except NeedsConfirmation as exc:
                    codes = frozenset(w.code for w in exc.warnings)
                    clinical.record_dose(st, clerk, DoseInput(person.id, pfizer.id, confirm=codes))
            clock.now = datetime(2026, 12, 1, 2, 40, tzinfo=UTC)
    # A review item and a refused op, as the sync engine would leave them.
    a = today[20][1]
    dup = people.register_walk_in(st, sup, PersonInput(
        full_name=a.full_name, birth=a.birth_display, sex=a.sex, id_type="none", phone=a.phone,
        priority_group=a.priority_group), check_in=False).person
    with st.pull_writer() as conn:
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
    # Two children (issue 12): one waits for screening (the children's checklist), one was
    # cleared and meets the adult Pfizer lot (refused unless a supervisor overrides).
    vol = admin.login(st, "tinhnguyen", DEMO_PASSWORD)
    for name, birth, phone, screen in (("Phạm Minh Khoa", "15/02/2012", "0903335555", False),
                                       ("Đặng Thị Bảo Ngọc", "09/09/2017", "0903336666", True)):
        pid = people.register_walk_in(st, vol, PersonInput(
            full_name=name, birth=birth, sex="M" if not screen else "F", id_type="none",
            phone=phone, priority_group=8)).person.id
        if screen:
            form = refdata.screening_forms()[clinical.screening_form_for(st, pid).form_id or ""]
            clinical.record_screening(st, scr, pid, answers={i.id: False for i in form.items},
                                      outcome="eligible", vitals={"temperature": 36.6},
                                      guardian_name="Đặng Văn Hùng", guardian_phone="0912000222")
    return st


def grab(widget: QWidget, path: Path) -> None:
    QApplication.processEvents()
    widget.grab().save(str(path), "PNG")
    print(path.name)


def login(app: StationApp, user: str) -> None:
    panel = app.login.panel
    wait_until(panel.username.isEnabled)
    panel.username.setText(user)
    panel.password.setText(DEMO_PASSWORD)
    panel.submit()
    wait_until(lambda: app.main is not None and app.main.isVisible())
    settle(app)


def render_language(qapp: QApplication, st: Station, lang: str, out: Path) -> None:
    save_settings(st.data_dir, UiSettings(language=lang, idle_lock_minutes=10,
                                          hub_url="https://hub.dongnai.example"))
    app = StationApp(qapp, st.data_dir, station=st)
    app.start()
    n = [0]

    def shot(widget: QWidget, name: str, number: str | None = None) -> None:
        if number is None:
            n[0] += 1
        grab(widget, out / f"{lang}-{number or f'{n[0]:02d}'}-{name}.png")

    try:
        app.login.resize(SIZE)
        wait_until(app.login.panel.username.isEnabled)
        app.login.panel.username.setText("thuky")
        shot(app.login, "login")
        login(app, "giamsat")
        main = app.main
        assert main is not None
        main.resize(SIZE)
        settle(app)
        shot(main, "reception")
        rec = main.workspaces["reception"]
        rec.search_box.setText("nguyen van")
        wait_until(lambda: rec.lists.currentWidget() is rec.hits_view)
        settle(app)
        from ui.widgets.common import select_first

        select_first(rec.hits_view)
        shot(main, "reception-search")
        rec.search_box.clear()
        rec.handle_scan(QR_AN)
        settle(app)
        rec.form.phone.setText("12345")
        rec.form.validate_field("phone")
        shot(main, "reception-walk-in-from-qr")
        rec.close_walk_in()

        main.show_workspace("screening")
        settle(app)
        scr = main.workspaces["screening"]
        # A woman: the pregnancy questions are asked. Two findings that disagree show
        # why the suggestion is what it is (acute illness -> defer beats the hospital).
        for r in range(scr.queue_model.rowCount()):
            if scr.queue_model.row_at(r)[1].sex == "F":
                scr.queue_view.selectRow(r)
                break
        settle(app)
        scr.item_boxes["2"].setChecked(True)
        scr.item_boxes["4"].setChecked(True)
        scr.details["4"].setText("Penicillin")
        scr.vitals["temperature"].setText("37.9")
        shot(main, "screening")
        # The children's checklist: a parent or guardian, temperature and pulse.
        for r in range(scr.queue_model.rowCount()):
            if scr.queue_model.row_at(r)[1].full_name == "Phạm Minh Khoa":
                scr.queue_view.selectRow(r)
        settle(app)
        scr.guardian_name.setText("Phạm Thị Lành")
        scr.guardian_phone.setText("0912 000 111")
        scr.vitals["temperature"].setText("36.9")
        scr.item_boxes["5"].setChecked(True)
        shot(main, "screening-child", "05b")

        main.show_workspace("vaccination")
        settle(app)
        vac = main.workspaces["vaccination"]
        vac.set_session_lot(vac.lot_combo.itemData(1) or vac.lot_combo.itemData(0))
        vac.set_session_site("left_deltoid")
        vac.queue_view.setFocus()
        select_first(vac.queue_view)
        settle(app)
        shot(main, "vaccination")
        # A child of 9 and the adult Pfizer lot: refused; a supervisor may override.
        pfizer = next(i for i in range(vac.lot_combo.count())
                      if vac._lots[i].vaccine_code == "PFIZER")
        vac.set_session_lot(vac.lot_combo.itemData(pfizer))
        for r in range(vac.queue_model.rowCount()):
            if vac.queue_model.row_at(r)[1].full_name == "Đặng Thị Bảo Ngọc":
                vac.queue_view.selectRow(r)
        settle(app)
        vac.record()
        wait_until(lambda: vac.override_dialog is not None)
        dialog = vac.override_dialog
        assert dialog is not None
        dialog.reason.setText("Theo chỉ định của bác sĩ nhi khoa")
        settle(app)
        shot(dialog, "vaccination-override", "06b")
        dialog.reject()
        settle(app)

        main.show_workspace("observation")
        settle(app)
        shot(main, "observation")

        assert app.poller is not None
        app.poller.poll()
        settle(app)
        main.show_workspace("sync")
        settle(app)
        sync = main.workspaces["sync"]
        sync.reviews_view.setFocus()
        settle(app)
        shot(main, "sync")

        main.show_workspace("admin")
        settle(app)
        shot(main, "admin-lots-users")
        main.toggle_help()
        shot(main, "help-overlay")
        main.toggle_help()
        main.lock()
        shot(main, "locked")

        app.logout()
        login(app, "admin")
        main = app.main
        assert main is not None
        main.resize(SIZE)
        main.show_workspace("admin")
        adm = main.workspaces["admin"]
        adm.tabs.setCurrentIndex(adm.tabs.count() - 1)
        settle(app)
        shot(main, "admin-settings")
    finally:
        app.shutdown()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    keyring.set_keyring(ProcessKeyring())  # throwaway demo key, never the OS keyring
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(qapp, QApplication)
    with tempfile.TemporaryDirectory(prefix="tramtiem-shots-") as tmp:
        clock = Clock()
        st = build_station(Path(tmp) / "station", clock)
        try:
            for lang in ("vi", "en"):
                render_language(qapp, st, lang, args.out)
        finally:
            st.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
