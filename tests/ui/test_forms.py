"""Walk-in form: Vietnamese typed with key events, live field errors, nothing typed lost."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from station.services import people
from station.store import Station
from tests.ui.conftest import Keyboard, login, wait_idle
from ui.app import StationApp
from ui.workspaces.reception import ReceptionWorkspace

K = Qt.Key


def open_form(qtbot, app: StationApp, kb: Keyboard) -> ReceptionWorkspace:
    main = login(qtbot, app, kb, "tnv")
    rec = main.workspaces["reception"]
    assert isinstance(rec, ReceptionWorkspace)
    rec.search_box.setFocus()
    kb.key(K.Key_N, rec.search_box, Qt.KeyboardModifier.ControlModifier)
    assert rec.form_open()
    assert QApplication.focusWidget() is rec.form.full_name
    return rec


def test_vietnamese_typed_with_key_events_is_saved(qtbot, app: StationApp, kb: Keyboard, st: Station):
    rec = open_form(qtbot, app, kb)
    f = rec.form
    kb.type("Trần Thị Ánh Tuyết")
    kb.tab()
    kb.type("09/11/1968")
    kb.tab()
    f.sex.setCurrentIndex(f.sex.findData("F"))
    kb.tab()
    kb.tab()  # keep CCCD
    kb.type("075168009999")
    kb.tab()
    kb.type("0389998877")
    kb.tab()
    kb.type("1")
    kb.type("3")
    assert f.priority_group.currentData() == 13
    kb.tab()
    kb.type("đồng nai")  # folded completion: finds "Đồng Nai" typed in any accents
    f.province.set_code(f.province.code() or "75")
    kb.tab()
    f.address_line.setFocus()
    kb.type("Ấp Bình Dương, tổ 5")
    kb.enter()
    wait_idle(qtbot, app)
    assert rec.queue_label.text() == "A1", rec.form.banner.text()
    ((_reg, person),) = people.registrations_for_day(st)
    assert person.full_name == "Trần Thị Ánh Tuyết"
    assert person.address_line == "Ấp Bình Dương, tổ 5"
    assert person.province_code == "75"


def test_bad_input_shows_field_errors_and_keeps_text(qtbot, app: StationApp, kb: Keyboard, st: Station):
    rec = open_form(qtbot, app, kb)
    f = rec.form
    kb.type("Lê Văn Tám")
    kb.tab()
    kb.type("31/02/1990")  # no such day
    kb.tab()  # leaving the field checks it at once
    assert f.errors.has_error("birth")
    assert f.errors.text("birth")
    f.phone.setFocus()
    kb.type("12345")
    kb.enter()
    wait_idle(qtbot, app)
    # Nothing saved, every problem shown next to its field, nothing typed lost.
    assert people.registrations_for_day(st) == []
    for field in ("birth", "sex", "id_number", "phone", "priority_group"):
        assert f.errors.has_error(field), field
    assert not f.errors.has_error("full_name")
    assert (f.full_name.text(), f.birth.text(), f.phone.text()) == ("Lê Văn Tám", "31/02/1990", "12345")
    assert QApplication.focusWidget() is f.birth  # the first field in error
    # Fixing the value clears its error as you type.
    f.birth.selectAll()
    kb.type("28/02/1990")
    assert not f.errors.has_error("birth")


def test_duplicate_suggested_before_saving(qtbot, app: StationApp, kb: Keyboard, st: Station, staff):
    from station.dto import PersonInput

    people.add_expected(st, staff.supervisor, [PersonInput(
        full_name="Đoàn Minh Khoa", birth="01/01/1975", sex="M", id_type="none", phone="0901112222",
        priority_group=9)], day=st.today())
    rec = open_form(qtbot, app, kb)
    f = rec.form
    kb.type("Đoàn Minh Khoa")
    f.birth.setFocus()
    kb.type("01/01/1975")
    f.sex.setCurrentIndex(f.sex.findData("M"))
    f.id_type.setCurrentIndex(f.id_type.findData("none"))
    f.phone.setFocus()
    kb.type("0901112222")
    f.priority_group.setCurrentIndex(f.priority_group.findData(9))
    kb.enter(f.phone)
    wait_idle(qtbot, app)
    assert f.dup_list.isVisible() and f.dup_list.count() == 1
    assert QApplication.focusWidget() is f.dup_list
    kb.enter()  # use the existing person: checked in, no second person created
    wait_idle(qtbot, app)
    regs = people.registrations_for_day(st)
    assert len(regs) == 1 and regs[0][0].status == "checked_in"
