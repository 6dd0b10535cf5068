"""Issue 12 in the real window: the form per person, why a suggestion, site and override."""

from __future__ import annotations

from PySide6.QtCore import Qt
from sqlalchemy import text

from kernel import refdata
from station.dto import PersonInput
from station.services import clinical, people
from station.store import Station
from tests.station.conftest import Staff
from tests.ui.conftest import Keyboard, login, wait_idle
from tests.ui.test_flows import choose_lot
from ui import labels, messages
from ui.app import StationApp
from ui.workspaces.screening import ScreeningWorkspace
from ui.workspaces.vaccination import VaccinationWorkspace

K = Qt.Key


def walk_in(st: Station, staff: Staff, name: str, birth: str, sex: str, phone: str) -> str:
    res = people.register_walk_in(st, staff.volunteer, PersonInput(
        full_name=name, birth=birth, sex=sex, id_type="none", phone=phone, priority_group=9))
    return res.person.id


def select_person(qtbot, app: StationApp, ws: ScreeningWorkspace | VaccinationWorkspace, pid: str) -> None:
    model = ws.queue_model
    for r in range(model.rowCount()):
        if model.row_at(r)[1].id == pid:
            ws.queue_view.selectRow(r)
            break
    else:
        raise AssertionError("not in the queue")
    wait_idle(qtbot, app)


def open_screening(qtbot, app: StationApp, kb: Keyboard) -> ScreeningWorkspace:
    main = login(qtbot, app, kb, "bacsi")
    kb.key(K.Key_F3, main)
    scr = main.workspaces["screening"]
    assert isinstance(scr, ScreeningWorkspace)
    wait_idle(qtbot, app)
    return scr


def test_the_form_fits_the_person(qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff):
    """A man is not asked about pregnancy; a child of 15 gets the children's checklist."""
    man = walk_in(st, staff, "Trần Văn Bình", "12/05/1970", "M", "0987654321")
    woman = walk_in(st, staff, "Lê Thị Hoa", "02/02/1990", "F", "0903334444")
    child = walk_in(st, staff, "Phạm Minh Khoa", "01/06/2011", "M", "0903335555")
    scr = open_screening(qtbot, app, kb)

    select_person(qtbot, app, scr, man)
    assert scr.form.id == "5785-2021-12"
    assert "3a" not in scr.item_boxes and "3b" not in scr.item_boxes and "1" in scr.item_boxes
    assert not scr.guardian_box.isVisibleTo(scr)
    assert " · 56 " in scr.person.text()  # the age on the day (born 12/05/1970, today 01/12/2026)

    select_person(qtbot, app, scr, woman)
    assert {"3a", "3b"} <= set(scr.item_boxes)

    select_person(qtbot, app, scr, child)
    assert scr.form.id == "5002-2021-10-child12"
    assert scr.guardian_box.isVisibleTo(scr)
    assert set(scr.vitals) == {"temperature", "pulse"}
    # Without the guardian the form is refused, naming the fields; nothing is saved.
    scr.save()
    wait_idle(qtbot, app)
    assert scr.errors.has_error("guardian_name") and scr.errors.has_error("guardian_phone")
    assert people.registrations_for_day(st, status="cleared") == []
    scr.guardian_name.setFocus()
    kb.type("Phạm Thị Lành", scr.guardian_name)
    kb.type("0912 000 111", scr.guardian_phone)
    kb.key(K.Key_Return, scr.guardian_phone, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, app)
    with st.read() as conn:
        stored = conn.execute(text("SELECT form_id, answers FROM screening WHERE person_id = :p"),
                              {"p": child}).one()
    assert stored[0] == "5002-2021-10-child12"
    assert '"guardian": {"name": "Phạm Thị Lành", "phone": "0912000111"}' in stored[1]


def test_why_names_the_answers_and_the_rule(qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff):
    woman = walk_in(st, staff, "Lê Thị Hoa", "02/02/1990", "F", "0903334444")
    scr = open_screening(qtbot, app, kb)
    select_person(qtbot, app, scr, woman)
    assert scr.suggestion() == "eligible"
    assert scr.why.text() and "▶" not in scr.why.text()  # nothing points anywhere
    # Anaphylaxis grade 3 (hospital) and an acute illness (defer): defer wins, and says so.
    scr.item_boxes["4"].setFocus()
    kb.key(K.Key_Space, scr.item_boxes["4"])
    kb.key(K.Key_Space, scr.item_boxes["2"])
    kb.type("37.9", scr.vitals["temperature"])
    assert scr.suggestion() == "defer"
    why = scr.why.text().splitlines()
    form = refdata.screening_forms()["5785-2021-12"]
    item2, item4 = form.item("2"), form.item("4")
    assert item2 is not None and item4 is not None
    text2 = item2.text_vi if labels.is_vietnamese() else item2.text_en
    text4 = item4.text_vi if labels.is_vietnamese() else item4.text_en
    # The decisive answer first (▶), then the others (·), each with where it points.
    assert why[0].startswith("▶") and text2 in why[0] and why[0].endswith(labels.outcome_short("defer"))
    assert why[1].startswith("·") and text4 in why[1] and why[1].endswith(labels.outcome_short("hospital"))
    assert why[2].startswith("·") and "37" in why[2] and why[2].endswith(labels.outcome_short("caution"))
    # ... and the rule that decides between them, strongest first.
    order = " > ".join(labels.outcome_short(o) for o in
                       ("contraindicated", "defer", "hospital", "caution", "eligible"))
    assert order in why[3]
    assert scr.outcome.currentData() == "defer"


def test_injection_site_is_chosen_and_kept_for_the_session(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff, lot_id: str
):
    a = walk_in(st, staff, "Lê Thị Hoa", "02/02/1990", "F", "0903334444")
    b = walk_in(st, staff, "Trần Văn Bình", "12/05/1970", "M", "0987654321")
    for pid in (a, b):
        form = refdata.screening_forms()[clinical.screening_form_for(st, pid).form_id or ""]
        clinical.record_screening(st, staff.screener, pid, answers={i.id: False for i in form.items},
                                  outcome="eligible")
    main = login(qtbot, app, kb, "thuky")
    kb.key(K.Key_F4, main)
    vac = main.workspaces["vaccination"]
    assert isinstance(vac, VaccinationWorkspace)
    wait_idle(qtbot, app)
    vac.lot_combo.setFocus()
    while vac.session.lot_id != lot_id:
        kb.key(K.Key_Down, vac.lot_combo)
    # Enter without a site: nothing recorded, the site is asked for.
    vac.queue_view.setFocus()
    select_person(qtbot, app, vac, a)
    kb.enter(vac.queue_view)
    wait_idle(qtbot, app)
    assert clinical.dose_history(st, a) == []
    assert vac.site_combo.hasFocus() or vac.site_combo.view().isVisible()
    vac.site_combo.hidePopup()
    kb.key(K.Key_F10, vac)  # F9 is the Reports screen: the site has its own key
    assert main.current_key() == "vaccination" and vac.site_combo.view().isVisible()
    vac.site_combo.hidePopup()
    kb.key(K.Key_Down, vac.site_combo)
    kb.key(K.Key_Down, vac.site_combo)
    assert vac.session.injection_site == "right_deltoid"
    for pid in (a, b):
        vac.queue_view.setFocus()
        select_person(qtbot, app, vac, pid)
        kb.enter(vac.queue_view)
        wait_idle(qtbot, app)
    with st.read() as conn:
        sites = conn.execute(text("SELECT injection_site FROM dose ORDER BY recorded_at")).scalars().all()
    assert sites == ["right_deltoid", "right_deltoid"]
    # The next session (another clerk at this desk) chooses its own site.
    app.logout()
    wait_idle(qtbot, app)
    main = login(qtbot, app, kb, "giamsat")
    kb.key(K.Key_F4, main)
    vac2 = main.workspaces["vaccination"]
    assert isinstance(vac2, VaccinationWorkspace) and vac2 is not vac
    assert vac2.session.injection_site is None and vac2.site_combo.currentIndex() == -1


def test_a_refused_dose_needs_a_supervisor_at_the_clerks_desk(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff, lot_id: str
):
    """A child of 8 and the adult Pfizer lot: refused; the supervisor overrides with a reason."""
    child = walk_in(st, staff, "Phạm Minh Khoa", "15/02/2018", "M", "0903335555")
    form = refdata.screening_forms()[clinical.screening_form_for(st, child).form_id or ""]
    assert form.id == "1535-2022-03-child5"
    clinical.record_screening(st, staff.screener, child, answers={i.id: False for i in form.items},
                              outcome="eligible", guardian_name="Phạm Thị Lành",
                              guardian_phone="0912000111")
    main = login(qtbot, app, kb, "thuky")
    kb.key(K.Key_F4, main)
    vac = main.workspaces["vaccination"]
    assert isinstance(vac, VaccinationWorkspace)
    wait_idle(qtbot, app)
    choose_lot(qtbot, app, kb, vac, lot_id)
    vac.queue_view.setFocus()
    select_person(qtbot, app, vac, child)
    kb.enter(vac.queue_view)
    wait_idle(qtbot, app)
    dialog = vac.override_dialog
    assert dialog is not None and dialog.isVisible() and dialog.needs_login
    assert dialog.codes == {"dose.age_below_min"}
    # Enter alone cancels until reason and supervisor are filled in.
    assert not dialog.ok_btn.isEnabled()
    kb.type("Theo chỉ định của bác sĩ nhi", dialog.reason)
    kb.type("giamsat", dialog.username)
    kb.type("sai-mat-khau", dialog.password)
    assert dialog.ok_btn.isEnabled()
    kb.enter(dialog.password)
    wait_idle(qtbot, app)
    assert clinical.dose_history(st, child) == []  # a wrong password records nothing
    assert messages.text_for("login.failed") in vac.banner.text()
    kb.enter(vac.queue_view)
    wait_idle(qtbot, app)
    dialog = vac.override_dialog
    assert dialog is not None
    kb.type("Theo chỉ định của bác sĩ nhi", dialog.reason)
    kb.type("giamsat", dialog.username)
    kb.type("mat-khau-123", dialog.password)
    kb.enter(dialog.password)
    wait_idle(qtbot, app)
    (dose,) = clinical.dose_history(st, child)
    assert dose.override_reason == "Theo chỉ định của bác sĩ nhi"
    assert vac.banner.text().endswith(": Theo chỉ định của bác sĩ nhi")
    with st.read() as conn:
        row = conn.execute(text("SELECT d.override_by, u.username FROM dose d JOIN app_user u "
                                "ON u.id = d.override_by WHERE d.id = :d"), {"d": dose.id}).one()
    assert row[1] == "giamsat"


def test_printed_report_shows_half_doses(qtbot, st: Station, staff: Staff) -> None:
    """The printed daily report: the booster row names its volume; the lot counts halves."""
    from station import reports
    from station.dto import DoseInput, LotInput, PastDoseInput
    from station.services import admin
    from tests.station.helpers import screen_eligible
    from ui.printing import report_html

    lot = admin.upsert_lot(st, staff.supervisor, LotInput("MODERNA", "MOD001", "30/06/2027", 10))
    pid = walk_in(st, staff, "Trần Thị Mai", "02/02/1970", "F", "0903334445")
    for n, day in enumerate(("2021-08-01", "2021-08-29"), start=1):
        clinical.record_past_dose(st, staff.clerk, PastDoseInput(pid, "MODERNA", n, "primary", day))
    screen_eligible(st, staff.screener, pid)
    assert clinical.record_dose(st, staff.clerk, DoseInput(pid, lot.id)).volume_ml == 0.25
    rep = reports.daily_report(st, st.today())
    vi, en = report_html(rep, "vi"), report_html(rep, "en")
    assert "Vắc xin Spikevax (Moderna) (0,25 ml)" in vi and ">9,5<" in vi
    assert "Moderna (0.25 ml)" in en and ">9.5<" in en


def test_supervisor_sets_the_interval_profile_in_admin(qtbot, app: StationApp, kb: Keyboard, st: Station):
    from ui.workspaces.admin import AdminWorkspace

    main = login(qtbot, app, kb, "giamsat")
    kb.key(K.Key_F7, main)
    adm = main.workspaces["admin"]
    assert isinstance(adm, AdminWorkspace)
    wait_idle(qtbot, app)
    assert adm.profile.currentData() == "national"
    adm.profile.setFocus()
    while adm.profile.currentData() != "dong-nai":
        kb.key(K.Key_Down, adm.profile)
    wait_idle(qtbot, app)
    assert clinical.interval_profile(st) == "dong-nai"
    with st.read() as conn:
        detail = conn.execute(text("SELECT detail FROM audit_log WHERE action = 'set_interval_profile'")).scalar_one()
    assert '"to":"dong-nai"' in detail and '"from":"national"' in detail


def test_a_moderna_lot_gives_a_child_the_half_dose(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff
):
    from station.dto import LotInput
    from station.services import admin

    moderna = admin.upsert_lot(st, staff.supervisor, LotInput("MODERNA", "MOD001", "30/06/2027", 10))
    child = walk_in(st, staff, "Phạm Minh Khoa", "15/02/2018", "M", "0903335555")
    clinical.record_screening(
        st, staff.screener, child, outcome="eligible", guardian_name="Phạm Thị Lành",
        guardian_phone="0912000111",
        answers={i.id: False for i in refdata.screening_forms()["1535-2022-03-child5"].items})
    main = login(qtbot, app, kb, "thuky")
    kb.key(K.Key_F4, main)
    vac = main.workspaces["vaccination"]
    assert isinstance(vac, VaccinationWorkspace)
    wait_idle(qtbot, app)
    choose_lot(qtbot, app, kb, vac, moderna.id)
    vac.queue_view.setFocus()
    select_person(qtbot, app, vac, child)
    # The suggestion is the children's products; the Moderna lot gives one of them: no warning.
    assert labels.vaccine_name("MODERNA_6_11") in vac.suggest.text()
    assert labels.vaccine_name("PFIZER") + "," not in vac.suggest.text()
    assert "⚠" not in vac.suggest.text()
    kb.enter(vac.queue_view)
    wait_idle(qtbot, app)
    (dose,) = clinical.dose_history(st, child)
    assert (dose.vaccine_code, dose.volume_ml) == ("MODERNA_6_11", 0.25)
    assert labels.volume(0.25) in vac.banner.text()
