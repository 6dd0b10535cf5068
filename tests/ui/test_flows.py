"""Real clinic flows through the real window (offscreen), on a real encrypted station file."""

from __future__ import annotations

from datetime import timedelta

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from station.dto import PersonInput
from station.services import clinical, people
from station.store import Station
from tests.station.conftest import Staff
from tests.station.helpers import ELIGIBLE_4355, QR_AN
from tests.ui.conftest import Keyboard, login, wait_idle
from ui.app import StationApp
from ui.dialogs.reason import ReasonDialog
from ui.main_window import MainWindow
from ui.workspaces.observation import ObservationWorkspace
from ui.workspaces.reception import ReceptionWorkspace
from ui.workspaces.screening import ScreeningWorkspace
from ui.workspaces.vaccination import VaccinationWorkspace

K = Qt.Key


def switch_user(qtbot, app: StationApp, kb: Keyboard, username: str) -> MainWindow:
    """Lock the screen (Ctrl+L) and log in as someone else, as colleagues do at a shared desk."""
    assert app.main is not None
    old = app.main
    kb.key(K.Key_L, old, Qt.KeyboardModifier.ControlModifier)
    assert old.is_locked()
    panel = old.lock_panel
    panel.username.clear()
    kb.type(username, panel.username)
    kb.type("mat-khau-123", panel.password)
    kb.enter(panel.password)
    qtbot.waitUntil(lambda: app.main is not None and app.main is not old and app.main.isVisible(), timeout=10_000)
    assert app.main is not None
    app.main.activateWindow()
    wait_idle(qtbot, app)
    return app.main


def choose_lot(qtbot, app: StationApp, kb: Keyboard, ws: VaccinationWorkspace, lot_id: str) -> None:
    """The session's lot (F8) and injection site (F9): chosen once, by keys."""
    ws.lot_combo.setFocus()
    while ws.session.lot_id != lot_id:
        kb.key(K.Key_Down, ws.lot_combo)
    wait_idle(qtbot, app)
    if ws.session.injection_site is None:
        ws.site_combo.setFocus()
        kb.key(K.Key_Down, ws.site_combo)
        wait_idle(qtbot, app)
        assert ws.session.injection_site == "left_deltoid"


def test_walk_in_from_scanned_qr_to_observation(qtbot, app: StationApp, kb: Keyboard, st: Station, lot_id: str):
    main = login(qtbot, app, kb, "tnv")
    rec = main.workspaces["reception"]
    assert isinstance(rec, ReceptionWorkspace)
    # The scanner "types" into whatever has focus: here the search box.
    rec.search_box.setFocus()
    kb.type(QR_AN)
    kb.enter()
    wait_idle(qtbot, app)
    assert rec.form_open()
    assert rec.search_box.text() == ""  # nothing of the QR leaked into the search box
    form = rec.form
    assert (form.full_name.text(), form.birth.text(), form.id_number.text()) == (
        "Nguyễn Văn An", "15/03/1990", "075090001234")
    assert form.sex.currentData() == "M"
    assert QApplication.focusWidget() is form.phone

    # Only the phone and the priority group are typed.
    before = kb.presses
    kb.type("0912345678")
    kb.tab()
    assert QApplication.focusWidget() is form.priority_group
    kb.type("9")
    assert form.priority_group.currentData() == 9
    kb.enter()
    wait_idle(qtbot, app)
    typed = kb.presses - before
    assert typed == 10 + 1 + 1 + 1  # phone digits, Tab, group, Enter
    assert rec.queue_label.text() == "A1"
    assert rec.right.currentIndex() == 0

    # Screening doctor takes over the desk.
    main = switch_user(qtbot, app, kb, "bacsi")
    kb.key(K.Key_F3, main)
    scr = main.workspaces["screening"]
    assert isinstance(scr, ScreeningWorkspace) and main.current_workspace() is scr
    wait_idle(qtbot, app)
    assert scr.queue_model.rowCount() == 1
    assert scr.form_area.isEnabled()
    kb.type("36.8", scr.vitals["temperature"])
    assert scr.suggestion() == "eligible"
    scr.vitals["temperature"].setFocus()
    kb.key(K.Key_Return, scr.vitals["temperature"], Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, app)
    assert scr.queue_model.rowCount() == 0

    # The clerk records the dose with the session lot: one key after selecting the person.
    main = switch_user(qtbot, app, kb, "thuky")
    kb.key(K.Key_F4, main)
    vac = main.workspaces["vaccination"]
    assert isinstance(vac, VaccinationWorkspace)
    wait_idle(qtbot, app)
    choose_lot(qtbot, app, kb, vac, lot_id)
    vac.queue_view.setFocus()  # selects the first person in the queue
    before = kb.presses
    kb.enter()
    wait_idle(qtbot, app)
    assert kb.presses - before <= 3
    assert vac.confirm_dialog is None
    assert vac.queue_model.rowCount() == 0
    assert [d.dose_number for d in vac.history_model.rows()] == [1]

    # Observation: record a mild reaction (typed in Vietnamese), then mark done.
    kb.key(K.Key_F5, main)
    obs = main.workspaces["observation"]
    assert isinstance(obs, ObservationWorkspace)
    wait_idle(qtbot, app)
    assert obs.model.rowCount() == 1
    assert obs.seconds_left(obs.model.row_at(0)) == 30 * 60
    obs.view.setFocus()
    kb.key(K.Key_E, obs.view, Qt.KeyboardModifier.ControlModifier)
    dialog = obs.ae_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.description.setFocus()
    kb.type("Sốt nhẹ, đau chỗ tiêm", dialog.description)
    kb.key(K.Key_Return, dialog.description, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, app)
    assert obs.ae_dialog is None
    st.clock.advance(minutes=31)  # type: ignore[attr-defined]
    obs.undo_ms = 50  # the end is written once its undo time is over
    obs.view.setFocus()
    kb.enter(obs.view)
    assert obs.model.rowCount() == 0  # gone from the list at once
    qtbot.waitUntil(lambda: not obs.pending_ends(), timeout=5000)
    wait_idle(qtbot, app)
    regs = people.registrations_for_day(st)
    assert [r.status for r, _p in regs] == ["observed"]
    with st.read() as conn:
        ops = [r[0] for r in conn.exec_driver_sql("SELECT op_type FROM sync_outbox ORDER BY op_seq")]
    for op in ("register_person", "record_screening", "record_dose", "record_adverse_event", "end_observation"):
        assert op in ops


def test_pre_registered_found_without_diacritics_then_dose(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff, lot_id: str
):
    people.add_expected(
        st, staff.supervisor,
        [PersonInput(full_name="Nguyễn Thị Đào", birth="07/03/1985", sex="F", id_type="cccd",
                     id_number="075185001234", phone="0912345678", priority_group=9),
         PersonInput(full_name="Trần Văn Bình", birth="1970", sex="M", id_type="cccd",
                     id_number="075070004321", phone="0987654321", priority_group=13)],
        day=st.today(),
    )
    main = login(qtbot, app, kb, "giamsat")
    rec = main.workspaces["reception"]
    assert isinstance(rec, ReceptionWorkspace)
    wait_idle(qtbot, app)
    assert rec.today_model.rowCount() == 2
    kb.key(K.Key_F, main, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is rec.search_box
    kb.type("nguyen thi dao")
    qtbot.waitUntil(lambda: rec.hits_model.rowCount() == 1, timeout=5000)
    assert rec.hits_model.row_at(0).full_name == "Nguyễn Thị Đào"
    kb.key(K.Key_Down)
    kb.enter()
    wait_idle(qtbot, app)
    assert rec.queue_label.text() == "A1"
    assert rec.search_box.text() == ""

    person_id = rec.hits_model.row_at(0).person_id
    clinical.record_screening(st, staff.screener, person_id, answers=ELIGIBLE_4355, outcome="eligible")
    kb.key(K.Key_F4, main)
    vac = main.workspaces["vaccination"]
    assert isinstance(vac, VaccinationWorkspace)
    wait_idle(qtbot, app)
    choose_lot(qtbot, app, kb, vac, lot_id)
    vac.queue_view.setFocus()
    kb.enter()
    wait_idle(qtbot, app)
    history = clinical.dose_history(st, person_id)
    assert len(history) == 1 and history[0].lot_id == lot_id


def test_dose_warning_needs_explicit_confirmation(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff, lot_id: str
):
    """A lot expiring within a week: Enter alone cancels; Space (tick) + Enter records."""
    from station.dto import LotInput
    from station.services import admin

    near = admin.upsert_lot(st, staff.supervisor, LotInput(
        "PFIZER", "NEAR01", (st.today() + timedelta(days=3)).isoformat(), 10))
    res = people.register_walk_in(st, staff.volunteer, PersonInput(
        full_name="Lê Thị Hoa", birth="02/02/1990", sex="F", id_number="075190001111",
        phone="0903334444", priority_group=9))
    clinical.record_screening(st, staff.screener, res.person.id, answers=ELIGIBLE_4355, outcome="eligible")
    main = login(qtbot, app, kb, "thuky")
    kb.key(K.Key_F4, main)
    vac = main.workspaces["vaccination"]
    assert isinstance(vac, VaccinationWorkspace)
    wait_idle(qtbot, app)
    choose_lot(qtbot, app, kb, vac, near.id)
    vac.queue_view.setFocus()
    before = kb.presses
    kb.enter()
    wait_idle(qtbot, app)
    dialog = vac.confirm_dialog
    assert dialog is not None and dialog.isVisible()
    assert "lot.expiry_near" in dialog.codes
    kb.key(K.Key_Space, dialog.check)
    kb.enter(dialog.check)
    wait_idle(qtbot, app)
    assert kb.presses - before == 3
    assert vac.confirm_dialog is None
    assert len(clinical.dose_history(st, res.person.id)) == 1


def test_volunteer_cannot_reach_dose_recording(qtbot, app: StationApp, kb: Keyboard):
    main = login(qtbot, app, kb, "tnv")
    assert "vaccination" not in main.workspaces
    assert "screening" not in main.workspaces
    kb.key(K.Key_F4, main)
    assert main.current_key() == "reception"
    texts = [main.nav.item(i).text() for i in range(main.nav.count())]
    assert not any("F4" in t for t in texts)


def test_supervisor_voids_a_dose_with_reason(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff, lot_id: str
):
    from station.dto import DoseInput

    res = people.register_walk_in(st, staff.volunteer, PersonInput(
        full_name="Phạm Văn Cường", birth="1980", sex="M", id_number="075080002222",
        phone="0903335555", priority_group=9))
    clinical.record_screening(st, staff.screener, res.person.id, answers=ELIGIBLE_4355, outcome="eligible")
    clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id))
    main = login(qtbot, app, kb, "giamsat")
    kb.key(K.Key_F4, main)
    vac = main.workspaces["vaccination"]
    assert isinstance(vac, VaccinationWorkspace)
    vac._load_person(res.person.id)
    wait_idle(qtbot, app)
    vac.history_view.setFocus()
    kb.key(K.Key_Delete, vac.history_view, Qt.KeyboardModifier.ControlModifier)
    dialog = vac.findChild(ReasonDialog)
    assert dialog is not None and dialog.isVisible()
    kb.type("Nhập nhầm người", dialog.reason)
    kb.enter(dialog.reason)
    wait_idle(qtbot, app)
    history = clinical.dose_history(st, res.person.id)
    assert history[0].voided and history[0].void_reason == "Nhập nhầm người"
