"""A busy day at the desk (issue 17): no lost input, no accidental action. Keys only, no clicks."""

from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton
from sqlalchemy import text

from station.dto import DoseInput, PersonInput
from station.services import clinical, people
from station.store import Station
from tests.station.conftest import Staff
from tests.station.helpers import ELIGIBLE_4355
from tests.ui.conftest import Keyboard, login, wait_idle
from ui import labels
from ui.app import StationApp
from ui.bridge import SyncSucceeded
from ui.dialogs.reason import ReasonDialog
from ui.settings import load_settings
from ui.widgets.common import selected_row
from ui.workspaces.admin import AdminWorkspace
from ui.workspaces.observation import ObservationWorkspace
from ui.workspaces.reception import ReceptionWorkspace
from ui.workspaces.screening import ScreeningWorkspace
from ui.workspaces.vaccination import VaccinationWorkspace

K = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier


def vaccinated(st: Station, staff: Staff, lot_id: str, name: str = "Lê Thị Hoa",
               id_number: str = "075190001111") -> str:
    res = people.register_walk_in(st, staff.volunteer, PersonInput(
        full_name=name, birth="02/02/1990", sex="F", id_number=id_number,
        phone="0903334444", priority_group=9))
    clinical.record_screening(st, staff.screener, res.person.id, answers=ELIGIBLE_4355, outcome="eligible")
    return clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id)).id


def observed_at(st: Station, dose_id: str) -> str | None:
    with st.read() as conn:
        return conn.execute(text("SELECT observed_at FROM dose WHERE id = :i"), {"i": dose_id}).scalar()


# ---- 1. observation: Enter never ends it early; an end can be undone ------------------------


def test_enter_never_ends_an_observation_early_and_an_end_can_be_undone(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff, lot_id: str
) -> None:
    dose_id = vaccinated(st, staff, lot_id)
    st.clock.advance(minutes=10)  # type: ignore[attr-defined]
    main = login(qtbot, app, kb, "thuky")
    kb.key(K.Key_F5, main)
    obs = main.workspaces["observation"]
    assert isinstance(obs, ObservationWorkspace)
    wait_idle(qtbot, app)
    obs.undo_ms = 300
    obs.view.setFocus()

    # Enter, Enter (the clerk's habit): a question, then "keep observing". Nothing ends.
    kb.enter(obs.view)
    wait_idle(qtbot, app)
    assert observed_at(st, dose_id) is None and obs.model.rowCount() == 1
    dialog = obs.early_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.focusWidget() is dialog.reasons
    kb.enter(dialog.reasons)
    assert obs.early_dialog is None
    qtbot.wait(600)  # longer than the undo time: nothing is waiting to be written either
    wait_idle(qtbot, app)
    assert observed_at(st, dose_id) is None
    assert obs.model.rowCount() == 1 and not obs.pending_ends()

    # A deliberate early end (Enter, choose a reason, Enter), then Ctrl+Z: still observed.
    obs.view.setFocus()
    kb.enter(obs.view)
    dialog = obs.early_dialog
    assert dialog is not None
    kb.key(K.Key_Down, dialog.reasons)
    assert dialog.reason() == "doctor_allowed"
    kb.enter(dialog.reasons)
    assert obs.early_dialog is None
    assert obs.model.rowCount() == 0 and obs.pending_ends() == [dose_id]
    assert obs.undo_bar.isVisible()
    kb.key(K.Key_Z, obs.view, CTRL)
    assert not obs.pending_ends() and obs.model.rowCount() == 1
    qtbot.wait(600)
    wait_idle(qtbot, app)
    assert observed_at(st, dose_id) is None

    # The same with the reason's number, left to run out its undo time: written, with the reason.
    obs.view.setFocus()
    kb.enter(obs.view)
    dialog = obs.early_dialog
    assert dialog is not None
    kb.key(K.Key_2, dialog)
    kb.enter(dialog.reasons)
    qtbot.waitUntil(lambda: not obs.pending_ends(), timeout=5000)
    wait_idle(qtbot, app)
    assert observed_at(st, dose_id) is not None
    with st.read() as conn:
        payload = conn.execute(text(
            "SELECT payload FROM sync_outbox WHERE op_type = 'end_observation'")).scalar_one()
    assert json.loads(payload)["early_reason"] == "left_against_advice"


def test_a_pending_end_is_written_when_the_user_logs_out(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff, lot_id: str
) -> None:
    dose_id = vaccinated(st, staff, lot_id)
    st.clock.advance(minutes=31)  # type: ignore[attr-defined]
    main = login(qtbot, app, kb, "thuky")
    kb.key(K.Key_F5, main)
    obs = main.workspaces["observation"]
    assert isinstance(obs, ObservationWorkspace)
    wait_idle(qtbot, app)
    obs.undo_ms = 60_000
    obs.view.setFocus()
    kb.enter(obs.view)  # time is up: no question, only the undo bar
    assert obs.early_dialog is None and obs.pending_ends() == [dose_id]
    app.logout()
    wait_idle(qtbot, app)
    assert observed_at(st, dose_id) is not None


# ---- 2. Esc never throws a half-typed walk-in form away --------------------------------------


def test_esc_asks_before_closing_a_form_with_input_and_ctrl_n_brings_it_back(
    qtbot, app: StationApp, kb: Keyboard, st: Station
) -> None:
    main = login(qtbot, app, kb, "tnv")
    rec = main.workspaces["reception"]
    assert isinstance(rec, ReceptionWorkspace)
    rec.search_box.setFocus()
    kb.key(K.Key_N, rec.search_box, CTRL)
    form = rec.form
    assert form.isVisible() and QApplication.focusWidget() is form.full_name
    kb.type("Trần Thị Ánh Tuyết")
    kb.tab()
    kb.type("09/11/1968")
    kb.tab()
    assert QApplication.focusWidget() is form.sex  # a closed drop-down
    kb.key(K.Key_Escape, form.sex)
    assert form.isVisible() and form.full_name.text() == "Trần Thị Ánh Tuyết"  # still open, still filled
    dialog = form.close_dialog
    assert dialog is not None and dialog.isVisible()
    assert rec.form_open()
    kb.key(K.Key_Escape, dialog.keep_btn)  # Esc again: keep editing
    assert form.close_dialog is None and rec.form_open()
    kb.key(K.Key_Escape, form.sex)
    dialog = form.close_dialog
    assert dialog is not None
    kb.enter(dialog.keep_btn)  # Enter: keep editing too
    assert form.close_dialog is None and rec.form_open()
    assert form.full_name.text() == "Trần Thị Ánh Tuyết"

    # Closing on purpose keeps the input; Ctrl+N brings it back.
    kb.key(K.Key_Escape, form.sex)
    dialog = form.close_dialog
    assert dialog is not None
    kb.tab(dialog.keep_btn)
    assert dialog.focusWidget() is dialog.close_btn
    kb.enter(dialog.close_btn)
    assert not rec.form_open()
    assert "Ctrl+N" in rec.walkin_btn.text()
    rec.search_box.setFocus()
    kb.key(K.Key_N, rec.search_box, CTRL)
    assert rec.form_open()
    assert (form.full_name.text(), form.birth.text()) == ("Trần Thị Ánh Tuyết", "09/11/1968")

    # Discarding is a choice of its own.
    kb.key(K.Key_Escape, form.full_name)
    dialog = form.close_dialog
    assert dialog is not None
    kb.tab(dialog.keep_btn)
    kb.tab(dialog.close_btn)
    kb.enter(dialog.discard_btn)
    assert not rec.form_open()
    kb.key(K.Key_N, rec.search_box, CTRL)
    assert form.full_name.text() == "" and not form.has_input()
    # An empty form closes at once.
    kb.key(K.Key_Escape, form.full_name)
    assert form.close_dialog is None and not rec.form_open()
    assert people.registrations_for_day(st) == []


# ---- 3. the void dialog: two buttons that cannot be confused, both readable -----------------


def text_fits(button: QPushButton) -> bool:
    """The label of a button is drawn whole (its text is at most as wide as its contents)."""
    opt_margin = 2 * 12 + 4  # the theme's horizontal padding and border
    return button.fontMetrics().horizontalAdvance(button.text()) <= button.width() - opt_margin


def test_void_dialog_buttons_say_different_things_and_fit(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff, lot_id: str
) -> None:
    dose_id = vaccinated(st, staff, lot_id)
    main = login(qtbot, app, kb, "giamsat")
    kb.key(K.Key_F4, main)
    vac = main.workspaces["vaccination"]
    assert isinstance(vac, VaccinationWorkspace)
    with st.read() as conn:
        person_id = conn.execute(text("SELECT person_id FROM dose WHERE id = :i"), {"i": dose_id}).scalar_one()
    vac._load_person(person_id)
    wait_idle(qtbot, app)
    vac.history_view.setFocus()
    kb.key(K.Key_Delete, vac.history_view, CTRL)
    dialog = vac.findChild(ReasonDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitExposed(dialog)
    ok_btn, cancel_btn = dialog.findChildren(QPushButton)
    action, cancel = ok_btn.text(), cancel_btn.text()
    assert action.split()[0].lower() != cancel.split()[0].lower(), (action, cancel)
    assert text_fits(ok_btn) and text_fits(cancel_btn), (action, cancel)
    kb.type("Nhập nhầm", dialog.reason)
    kb.key(K.Key_Escape, dialog.reason)  # Esc keeps the dose
    assert not dialog.isVisible()
    assert not clinical.dose_history(st, person_id)[0].voided


# ---- 5. search: a typo, a tail, and no stale card -------------------------------------------


def test_search_forgives_a_typo_finds_tails_and_clears_the_card(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff
) -> None:
    people.add_expected(st, staff.supervisor, [
        PersonInput(full_name="Nguyễn Văn An", birth="15/03/1990", sex="M", id_type="cccd",
                    id_number="075090001234", phone="0912345678", priority_group=9),
        PersonInput(full_name="Trần Thị Bình", birth="1970", sex="F", id_type="cccd",
                    id_number="075170004321", phone="0987654321", priority_group=13),
    ], day=st.today())
    main = login(qtbot, app, kb, "tnv")
    rec = main.workspaces["reception"]
    assert isinstance(rec, ReceptionWorkspace)
    wait_idle(qtbot, app)

    def search_for(query: str) -> list[str]:
        kb.key(K.Key_F, main, CTRL)
        assert QApplication.focusWidget() is rec.search_box
        kb.type(query)
        kb.enter()  # Enter right after typing searches at once
        wait_idle(qtbot, app)
        return [h.full_name for h in rec.hits_model.rows()]

    assert search_for("ngyen van an") == ["Nguyễn Văn An"]
    assert search_for("nguyen vn an") == ["Nguyễn Văn An"]
    assert search_for("…678") == ["Nguyễn Văn An"]  # the phone tail the card shows
    assert search_for("4321") == ["Trần Thị Bình"]  # the ID tail the lists show
    # The person found last is on the card; a search with no result clears it.
    kb.key(K.Key_Down, rec.search_box)
    assert "Trần Thị Bình" in rec.person_name.text()
    assert search_for("zzzz qqqq") == []
    assert "Trần Thị Bình" not in rec.person_name.text()
    assert not rec.checkin_btn.isEnabled()


# ---- 8. keyboard: each role lands on its screen, vitals first, Enter saves, first person --------


def test_doctor_lands_on_screening_and_enter_goes_to_the_temperature(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff
) -> None:
    res = people.register_walk_in(st, staff.volunteer, PersonInput(
        full_name="Lê Thị Hoa", birth="02/02/1990", sex="F", id_number="075190001111",
        phone="0903334444", priority_group=9))
    main = login(qtbot, app, kb, "bacsi")
    scr = main.workspaces["screening"]
    assert isinstance(scr, ScreeningWorkspace)
    assert main.current_workspace() is scr  # the doctor's own screen, not reception
    wait_idle(qtbot, app)
    assert QApplication.focusWidget() is scr.queue_view
    before = kb.presses
    kb.enter(scr.queue_view)
    kb.type("36.8")  # straight into the temperature
    assert scr.vitals["temperature"].text() == "36.8"
    kb.key(K.Key_Return, None, CTRL)
    wait_idle(qtbot, app)
    assert kb.presses - before == 6
    assert scr.queue_model.rowCount() == 0
    with st.read() as conn:
        temp = conn.execute(text("SELECT vitals FROM screening WHERE person_id = :p"),
                            {"p": res.person.id}).scalar_one()
    assert json.loads(temp)["temperature"] == 36.8
    # 6: the empty form after saving shows no outcome (no green "eligible" for nobody).
    assert scr.suggested.text() != labels.outcome_name("eligible")


def test_clerk_lands_on_vaccination_with_the_first_person_selected(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff, lot_id: str
) -> None:
    for name, idn in (("Lê Thị Hoa", "075190001111"), ("Phạm Văn Cường", "075080002222")):
        res = people.register_walk_in(st, staff.volunteer, PersonInput(
            full_name=name, birth="02/02/1990", sex="F", id_number=idn, phone="0903334444",
            priority_group=9))
        clinical.record_screening(st, staff.screener, res.person.id, answers=ELIGIBLE_4355,
                                  outcome="eligible")
    main = login(qtbot, app, kb, "thuky")
    vac = main.workspaces["vaccination"]
    assert isinstance(vac, VaccinationWorkspace)
    assert main.current_workspace() is vac
    wait_idle(qtbot, app)
    first = selected_row(vac.queue_view)
    assert isinstance(first, tuple) and first[1].full_name == vac.queue_model.row_at(0)[1].full_name
    vac.set_session_lot(lot_id)
    vac.set_session_site("left_deltoid")  # issue 12: the site is chosen once per session too
    kb.enter(vac.queue_view)
    wait_idle(qtbot, app)
    assert len(clinical.dose_history(st, first[1].id)) == 1
    # After a dose nothing is selected: a second Enter records nobody.
    assert selected_row(vac.queue_view) is None
    kb.enter(vac.queue_view)
    wait_idle(qtbot, app)
    assert vac.queue_model.rowCount() == 1
    assert clinical.dose_history(st, vac.queue_model.row_at(0)[1].id) == []


def test_settings_show_the_enrolled_hub_and_enter_saves(
    qtbot, qapp, st: Station, staff: Staff, kb: Keyboard
) -> None:
    from station import replica

    replica.set_meta(st, "hub_url", "http://127.0.0.1:8765")  # as enrollment stores them
    replica.set_meta(st, "hub_site_name", "Trạm Y tế phường Tân Phong")
    ui = StationApp(qapp, st.data_dir, station=st, start_engine=False)
    ui.start()
    try:
        main = login(qtbot, ui, kb, "quantri")
        ws = main.workspaces["admin"]
        assert isinstance(ws, AdminWorkspace)
        assert main.current_workspace() is ws  # IT staff land on administration
        assert any("Trạm Y tế phường Tân Phong" in w.text()  # the name, not only the code
                   for w in main.statusBar().findChildren(QLabel))
        ws.tabs.setCurrentIndex(ws.tabs.count() - 1)
        assert ws.hub.text() == "http://127.0.0.1:8765"
        ws.idle.setFocus()
        ws.idle.selectAll()
        kb.type("9", ws.idle)
        kb.enter(ws.idle)
        assert load_settings(st.data_dir).idle_lock_minutes == 9
    finally:
        ui.shutdown()


# ---- 6. feedback never hides the sync state; the last sync never goes back ----------------


def test_action_feedback_leaves_the_sync_state_on_screen(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff
) -> None:
    people.add_expected(st, staff.supervisor, [PersonInput(
        full_name="Nguyễn Thị Đào", birth="07/03/1985", sex="F", id_type="cccd",
        id_number="075185001234", phone="0912345678", priority_group=9)], day=st.today())
    main = login(qtbot, app, kb, "tnv")
    bar = main.statusBar()
    app.bridge.feed(SyncSucceeded("2026-12-01T09:05:00+07:00"))
    qtbot.waitUntil(lambda: "09:05" in bar.last_sync.text(), timeout=5000)
    sync_state = (bar.line.text(), bar.pending.text(), bar.last_sync.text())
    rec = main.workspaces["reception"]
    assert isinstance(rec, ReceptionWorkspace)
    wait_idle(qtbot, app)
    rec.today_view.setFocus()
    kb.key(K.Key_Down, rec.today_view)
    kb.enter(rec.today_view)  # check in: an action with feedback
    wait_idle(qtbot, app)
    for label in (bar.line, bar.pending, bar.last_sync):
        assert label.isVisible(), label.text()
    assert "A1" in bar.feedback.text()
    assert (bar.line.text(), bar.last_sync.text()) == sync_state[::2]
    # The poller reports an older success (another clock, the same cycle): the time stays.
    app.bridge.feed(SyncSucceeded("2026-12-01T08:55:00+07:00"))
    qtbot.wait(50)
    assert "09:05" in bar.last_sync.text()
    # A colleague unlocks: the new window shows the same (newest) time.
    app.bridge.feed(SyncSucceeded("2026-12-01T08:50:00+07:00"))
    qtbot.wait(50)
    assert "09:05" in bar.last_sync.text()


# ---- 9. smaller things --------------------------------------------------------------------


def test_an_old_11_digit_phone_is_converted_in_the_box(qtbot, app: StationApp, kb: Keyboard) -> None:
    main = login(qtbot, app, kb, "tnv")
    rec = main.workspaces["reception"]
    assert isinstance(rec, ReceptionWorkspace)
    rec.search_box.setFocus()
    kb.key(K.Key_N, rec.search_box, CTRL)
    rec.form.phone.setFocus()
    kb.type("01662345678")
    kb.tab()
    assert rec.form.phone.text() == "0362345678"
    assert "0166" in rec.form.errors.text("phone")  # the warning says what was converted


def test_f_keys_of_other_roles_answer_and_ctrl_l_says_locked(qtbot, app: StationApp, kb: Keyboard) -> None:
    main = login(qtbot, app, kb, "tnv")
    kb.key(K.Key_F3, main)
    assert main.current_key() == "reception"
    assert main.statusBar().feedback.text()  # "your role does not use this screen", not silence
    kb.key(K.Key_L, main, CTRL)
    assert main.is_locked()
    assert "pause" not in main.lock_hint.text().lower() and "tạm" not in main.lock_hint.text().lower()
