"""Services end to end on a real encrypted file: flows, roles, rules, bad input."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import text

from kernel.errors import (
    DomainError,
    NeedsConfirmation,
    PermissionDenied,
    ValidationError,
)
from kernel.rules.vietnam import parse_cccd_qr
from station.dto import DoseInput, LotInput, PastDoseInput, PersonInput, UserInput
from station.services import admin, clinical, people
from tests.station.helpers import ELIGIBLE_4355, QR_AN, person


def counts(st) -> dict[str, int]:
    with st.read() as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("person", "registration", "screening", "dose", "sync_outbox", "audit_log", "adverse_event", "vaccine_lot")
        }


def clear(st, staff, pid: str) -> None:
    clinical.record_screening(st, staff.screener, pid, answers=ELIGIBLE_4355, outcome="eligible")


# ---- the clinic flow -------------------------------------------------------------------


def test_walk_in_from_qr_to_dose(st, staff, lot_id) -> None:
    qr, issues = parse_cccd_qr(QR_AN)
    assert qr is not None and not [i for i in issues if i.is_error]
    data = PersonInput(
        full_name=qr.full_name, birth=qr.birth.display(), sex=qr.sex, id_type="cccd",
        id_number=qr.id_number, old_id_number=qr.old_id_number, address_line=qr.address,
        phone="0912 345 678", priority_group="9",
    )
    res = people.register_walk_in(st, staff.volunteer, data)
    assert res.person.full_name == "Nguyễn Văn An"
    assert res.person.phone == "0912345678"
    assert res.registration is not None and res.registration.status == "checked_in"
    assert res.registration.queue_label == "A1"
    scr = clinical.record_screening(st, staff.screener, res.person.id, answers=ELIGIBLE_4355, outcome="eligible")
    assert scr.suggested_outcome == "eligible"
    sug = clinical.suggest_dose(st, res.person.id)
    assert (sug.dose_number, sug.kind) == (1, "primary")
    dose = clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id))
    assert (dose.vaccine_code, dose.dose_number, dose.kind, dose.lot_number) == ("PFIZER", 1, "primary", "FK0891")
    assert dose.observe_until is not None
    st.clock.advance(minutes=30)  # type: ignore[attr-defined]
    done = clinical.end_observation(st, staff.clerk, dose.id)
    assert done.observed_at is not None
    regs = people.registrations_for_day(st)
    assert [r.status for r, _p in regs] == ["observed"]
    with st.read() as conn:
        ops = [r[0] for r in conn.execute(text("SELECT op_type FROM sync_outbox ORDER BY op_seq"))]
    assert ops[-4:] == ["register_person", "record_screening", "record_dose", "end_observation"]


def test_queue_numbers_per_day(st, staff, clock) -> None:
    a = people.register_walk_in(st, staff.volunteer, person(id_number="075185000001"))
    b = people.register_walk_in(st, staff.volunteer, person(id_number="075185000002", full_name="Lê Văn Bình", sex="M", birth="1980"))
    assert (a.registration.queue_label, b.registration.queue_label) == ("A1", "A2")
    clock.advance(days=1)
    c = people.add_registration(st, staff.volunteer, a.person.id, check_in=True)
    assert c.queue_label == "A1"


def test_expected_list_then_check_in(st, staff, clock) -> None:
    today = st.today()
    res = people.add_expected(st, staff.supervisor, [person(), person(id_number="075185000009", full_name="Phạm Thị Hoa")], day=today)
    assert len(res) == 2
    regs = people.registrations_for_day(st, status="expected")
    assert len(regs) == 2
    checked = people.check_in(st, staff.volunteer, regs[0][0].id)
    assert checked.status == "checked_in" and checked.queue_label == "A1"
    with pytest.raises(DomainError) as err:
        people.check_in(st, staff.volunteer, regs[0][0].id)
    assert err.value.code == "registration.already_checked_in"
    # Importing the same list again adds nothing.
    before = counts(st)
    people.add_expected(st, staff.supervisor, [person()], day=today)
    assert counts(st)["registration"] == before["registration"]


def test_add_expected_all_or_nothing(st, staff) -> None:
    before = counts(st)
    rows = [person(id_number=f"07518500010{i}", full_name="Võ Thị Lan") for i in range(5)]
    rows[3] = person(birth="31/02/1985", phone="09abc")
    with pytest.raises(ValidationError) as err:
        people.add_expected(st, staff.supervisor, rows, day=st.today())
    assert {"rows[3].birth", "rows[3].phone"} <= err.value.fields
    assert counts(st) == before


def test_duplicate_id_refused_with_existing_person(st, staff) -> None:
    a = people.register_walk_in(st, staff.volunteer, person())
    with pytest.raises(DomainError) as err:
        people.register_walk_in(st, staff.volunteer, person(full_name="Nguyen Thi Dao"))
    assert err.value.code == "person.duplicate_id"
    assert err.value.params["person_id"] == a.person.id


def test_screening_override_needs_reason(st, staff) -> None:
    res = people.register_walk_in(st, staff.volunteer, person())
    answers = dict(ELIGIBLE_4355, **{"2": True})  # acute illness (QĐ 5785 item 2) -> defer
    with pytest.raises(ValidationError) as err:
        clinical.record_screening(st, staff.screener, res.person.id, answers=answers, outcome="eligible")
    assert err.value.fields == {"override_reason"}
    scr = clinical.record_screening(
        st, staff.screener, res.person.id, answers=answers, outcome="eligible",
        override_reason="Sốt nhẹ đã hạ, bác sĩ đồng ý tiêm",
    )
    assert scr.suggested_outcome == "defer" and scr.outcome == "eligible"


def test_dose_refused_without_clearance(st, staff, lot_id) -> None:
    res = people.register_walk_in(st, staff.volunteer, person())
    with pytest.raises(DomainError) as err:
        clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id))
    assert err.value.code == "dose.screening_required"
    clinical.record_screening(st, staff.screener, res.person.id, answers=dict(ELIGIBLE_4355, **{"3a": True}), outcome="defer")
    with pytest.raises(DomainError) as err:
        clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id))
    assert err.value.code == "dose.screening_not_cleared"


def test_dose_interval_warning_needs_confirmation(st, staff, lot_id, clock) -> None:
    res = people.register_walk_in(st, staff.volunteer, person())
    clinical.record_past_dose(
        st, staff.clerk,
        PastDoseInput(res.person.id, "PFIZER", 1, "primary", (st.today() - timedelta(days=10)).isoformat()),
    )
    clear(st, staff, res.person.id)
    before = counts(st)
    with pytest.raises(NeedsConfirmation) as err:
        clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id))
    assert "dose.interval_too_short" in {w.code for w in err.value.warnings}
    assert counts(st) == before
    dose = clinical.record_dose(
        st, staff.clerk, DoseInput(res.person.id, lot_id, confirm=frozenset({"dose.interval_too_short"}))
    )
    assert dose.dose_number == 2 and "dose.interval_too_short" in {w.code for w in dose.warnings}


def test_dose_lot_rules(st, staff, lot_id, clock) -> None:
    res = people.register_walk_in(st, staff.volunteer, person())
    clear(st, staff, res.person.id)
    with pytest.raises(ValidationError) as err:
        clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, "no-such-lot"))
    assert err.value.codes() == {"lot.not_found"}
    with pytest.raises(ValidationError) as err:
        clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id, vaccine_code="AZ"))
    assert err.value.codes() == {"vaccine_code.lot_mismatch"}
    near = admin.upsert_lot(st, staff.supervisor, LotInput("PFIZER", "NEAR01", (st.today() + timedelta(days=3)).isoformat(), 10))
    with pytest.raises(NeedsConfirmation) as nc:
        clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, near.id))
    assert {w.code for w in nc.value.warnings} == {"lot.expiry_near"}
    clock.advance(days=5)  # the lot has now expired
    people.add_registration(st, staff.volunteer, res.person.id, check_in=True)
    clear(st, staff, res.person.id)
    with pytest.raises(ValidationError) as err:
        clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, near.id))
    assert err.value.codes() == {"lot.expired"}


def test_administered_at_bounds(st, staff, lot_id, clock) -> None:
    res = people.register_walk_in(st, staff.volunteer, person())
    clear(st, staff, res.person.id)
    future = (clock() + timedelta(hours=2)).isoformat()
    for raw, code in ((future, "administered_at.future"), ("2020-01-01T09:00:00+07:00", "administered_at.before_build"), ("hôm qua", "administered_at.format")):
        with pytest.raises(ValidationError) as err:
            clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id, administered_at=raw))
        assert err.value.codes() == {code}


def test_clock_that_went_back_blocks_silent_entry(st, staff, lot_id, clock) -> None:
    res = people.register_walk_in(st, staff.volunteer, person())
    clear(st, staff, res.person.id)
    clock.advance(hours=-3)  # someone set the laptop clock back
    with pytest.raises(NeedsConfirmation) as err:
        clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id))
    assert "clock.went_back" in {w.code for w in err.value.warnings}


def test_void_dose(st, staff, lot_id) -> None:
    res = people.register_walk_in(st, staff.volunteer, person())
    clear(st, staff, res.person.id)
    dose = clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id))
    with pytest.raises(PermissionDenied):
        clinical.void_dose(st, staff.clerk, dose.id, "nhập nhầm")
    for bad in (None, "", "  ", "x" * 501, "<script>alert(1)</script>"):
        with pytest.raises(ValidationError) as err:
            clinical.void_dose(st, staff.supervisor, dose.id, bad)
        assert err.value.fields == {"reason"}
    voided = clinical.void_dose(st, staff.supervisor, dose.id, "Nhập nhầm người")
    assert voided.voided and voided.void_reason == "Nhập nhầm người"
    with pytest.raises(DomainError):
        clinical.void_dose(st, staff.supervisor, dose.id, "lần nữa")
    # The voided dose no longer counts: the next suggestion is dose 1 again.
    assert clinical.suggest_dose(st, res.person.id).dose_number == 1
    assert clinical.dose_history(st, res.person.id)[0].voided


def test_ending_observation_early_needs_a_reason(st, staff, lot_id, clock) -> None:
    res = people.register_walk_in(st, staff.volunteer, person())
    clear(st, staff, res.person.id)
    dose = clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id))
    clock.advance(minutes=12)
    with pytest.raises(ValidationError) as err:
        clinical.end_observation(st, staff.clerk, dose.id)
    assert err.value.codes() == {"early_reason.required"}
    assert err.value.issues[0].params == {"minutes_left": 18}
    with pytest.raises(ValidationError) as err:
        clinical.end_observation(st, staff.clerk, dose.id, early_reason="felt fine")
    assert err.value.codes() == {"early_reason.invalid"}
    assert clinical.dose_history(st, res.person.id)[0].observed_at is None
    done = clinical.end_observation(st, staff.clerk, dose.id, early_reason="left_against_advice")
    assert done.observed_at is not None
    with st.read() as conn:
        payload = conn.execute(text(
            "SELECT payload FROM sync_outbox WHERE op_type = 'end_observation'")).scalar_one()
        audit = conn.execute(text(
            "SELECT detail FROM audit_log WHERE action = 'end_observation_early'")).scalar_one()
    assert json.loads(payload)["early_reason"] == "left_against_advice"
    assert json.loads(audit) == {"early_reason": "left_against_advice", "minutes_left": 18}


def test_adverse_event(st, staff, lot_id, clock) -> None:
    res = people.register_walk_in(st, staff.volunteer, person())
    clear(st, staff, res.person.id)
    dose = clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id))
    clock.advance(minutes=10)
    with pytest.raises(ValidationError) as err:
        clinical.record_adverse_event(st, staff.clerk, dose.id, severity="terrible", description="")
    assert err.value.fields == {"severity", "description"}
    with pytest.raises(ValidationError) as err:
        clinical.record_adverse_event(st, staff.clerk, dose.id, severity="common", description="Đau chỗ tiêm", onset_at=(clock() + timedelta(hours=1)).isoformat())
    assert err.value.codes() == {"onset_at.future"}
    ae = clinical.record_adverse_event(st, staff.clerk, dose.id, severity="common", description="Đau chỗ tiêm, sốt nhẹ")
    assert ae.severity == "common"


def test_update_person_three_way_payload(st, staff) -> None:
    res = people.register_walk_in(st, staff.volunteer, person())
    updated = people.update_person(st, staff.volunteer, res.person.id, {"phone": "+84 987 654 321"})
    assert updated.phone == "0987654321"
    with st.read() as conn:
        payload = conn.execute(text("SELECT payload FROM sync_outbox WHERE op_type = 'update_person'")).scalar_one()
    assert '"phone":{"new":"0987654321","old":"0912345678"}' in payload
    with pytest.raises(PermissionDenied):
        people.update_person(st, staff.volunteer, res.person.id, {"full_name": "Nguyễn Thị Đảo"})
    renamed = people.update_person(st, staff.clerk, res.person.id, {"full_name": "nguyễn thị  đảo"})
    assert renamed.full_name == "Nguyễn Thị Đảo"
    with pytest.raises(DomainError):
        people.update_person(st, staff.clerk, res.person.id, {"full_name": "Nguyễn Thị Đảo"})
    with pytest.raises(ValidationError) as err:
        people.update_person(st, staff.clerk, res.person.id, {"status": "merged"})
    assert err.value.codes() == {"field.not_editable"}


# ---- roles -----------------------------------------------------------------------------


def test_roles_enforced_in_services(st, staff, lot_id) -> None:
    res = people.register_walk_in(st, staff.volunteer, person())
    clear(st, staff, res.person.id)
    with pytest.raises(PermissionDenied):
        clinical.record_dose(st, staff.volunteer, DoseInput(res.person.id, lot_id))
    with pytest.raises(PermissionDenied):
        clinical.record_screening(st, staff.clerk, res.person.id, answers=ELIGIBLE_4355, outcome="eligible")
    with pytest.raises(PermissionDenied):
        admin.upsert_lot(st, staff.clerk, LotInput("AZ", "X1", "01/01/2028", 5))
    with pytest.raises(PermissionDenied):
        admin.create_user(st, staff.supervisor, UserInput("sep", "Sếp Mới", "admin", "mat-khau-123"))
    with pytest.raises(PermissionDenied):
        clinical.record_dose(st, staff.admin, DoseInput(res.person.id, lot_id))
    admin.create_user(st, staff.supervisor, UserInput("tnv2", "Tình Nguyện Hai", "volunteer", "mat-khau-123"))


def test_login(st, staff) -> None:
    assert admin.login(st, "THUKY", "mat-khau-123").role == "clerk"
    for user, pw in (("thuky", "sai-mat-khau"), ("khong-co", "mat-khau-123"), ("", ""), (None, None)):
        with pytest.raises(DomainError) as err:
            admin.login(st, user, pw)
        assert err.value.code == "login.failed"
    for _ in range(5):
        with pytest.raises(DomainError):
            admin.login(st, "bacsi", "wrong-password")
    with pytest.raises(DomainError) as err:
        admin.login(st, "bacsi", "mat-khau-123")
    assert err.value.code == "login.locked"
    u = next(u for u in admin.list_users(st) if u.username == "tnv")
    admin.set_user_active(st, staff.admin, u.id, False)
    with pytest.raises(DomainError):
        admin.login(st, "tnv", "mat-khau-123")
    with st.read() as conn:
        hashes = [r[0] for r in conn.execute(text("SELECT password_hash FROM app_user"))]
    assert all(h.startswith("$argon2id$") for h in hashes)


# ---- bad input: every field, nothing partial ------------------------------------------

INJECTION = ["Robert'); DROP TABLE person;--", "<script>alert(1)</script>", "${jndi:ldap://x}"]

BAD_PERSON_FIELDS = {
    "full_name": ["", "   ", "A" * 101, "Иван Петров", "王小明", "Nguyễn 123", *INJECTION],
    "birth": ["", "31/02/1985", "29/02/2001", "13/13/1990", "01/01/2999", "1850", "hôm qua", "85"],
    "sex": ["", "X", "unknown"],
    "id_number": ["", "0751850012345", "07518500123", "ABCDEFGHIJKL", *INJECTION],
    "phone": ["", "09abc45678", "0241234567", "123", "0" * 30, *INJECTION],
    "priority_group": ["", "0", "17", "abc"],
    "address_line": ["x" * 201, *INJECTION],
    "province_code": ["99"],
    "bhyt": ["XYZ", *INJECTION],
}


@pytest.mark.parametrize(
    ("field", "value"),
    [(f, v) for f, values in BAD_PERSON_FIELDS.items() for v in values],
)
def test_walk_in_bad_field(st, staff, field: str, value: str) -> None:
    before = counts(st)
    with pytest.raises(ValidationError) as err:
        people.register_walk_in(st, staff.volunteer, person(**{field: value}))
    assert field in err.value.fields, err.value.issues
    for issue in err.value.issues:
        assert issue.code and "." in issue.code
        assert value.strip() == "" or value not in str(err.value)  # no input echoed back
    assert counts(st) == before


def test_all_errors_reported_at_once(st, staff) -> None:
    with pytest.raises(ValidationError) as err:
        people.register_walk_in(st, staff.volunteer, PersonInput(id_type="cccd"))
    assert {"full_name", "birth", "sex", "id_number", "phone", "priority_group"} <= err.value.fields


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("vaccine_code", {"vaccine_code": "NOPE"}),
        ("lot_number", {"lot_number": ""}),
        ("lot_number", {"lot_number": "L" * 40}),
        ("lot_number", {"lot_number": "A'; DROP--"}),
        ("expiry", {"expiry": "31/02/2027"}),
        ("expiry", {"expiry": "01/01/2020"}),
        ("doses_received", {"doses_received": "mười"}),
        ("doses_received", {"doses_received": 0}),
        ("doses_received", {"doses_received": 10**9}),
    ],
)
def test_lot_bad_input(st, staff, field: str, kwargs: dict) -> None:
    base = {"vaccine_code": "AZ", "lot_number": "ABV5300", "expiry": "30/06/2027", "doses_received": 100}
    base.update(kwargs)
    before = counts(st)
    with pytest.raises(ValidationError) as err:
        admin.upsert_lot(st, staff.supervisor, LotInput(**base))
    assert field in err.value.fields
    assert counts(st) == before


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("username", {"username": ""}),
        ("username", {"username": "Có Dấu"}),
        ("username", {"username": "a" * 40}),
        ("username", {"username": "x'; DROP TABLE app_user;--"}),
        ("display_name", {"display_name": ""}),
        ("display_name", {"display_name": "<b>x</b>"}),
        ("role", {"role": "god"}),
        ("password", {"password": "short"}),
        ("password", {"password": "p" * 200}),
    ],
)
def test_user_bad_input(st, staff, field: str, kwargs: dict) -> None:
    base = {"username": "moi", "display_name": "Người Mới", "role": "clerk", "password": "mat-khau-123"}
    base.update(kwargs)
    with pytest.raises(ValidationError) as err:
        admin.create_user(st, staff.admin, UserInput(**base))
    assert field in err.value.fields


def test_screening_bad_input(st, staff) -> None:
    res = people.register_walk_in(st, staff.volunteer, person())
    before = counts(st)
    bad = dict(ELIGIBLE_4355)
    del bad["3a"]
    with pytest.raises(ValidationError) as err:
        clinical.record_screening(st, staff.screener, res.person.id, answers=bad, outcome="eligible", vitals={"temperature": 90})
    assert {"answers.3a", "vitals.temperature"} <= err.value.fields
    with pytest.raises(ValidationError) as err:
        clinical.record_screening(st, staff.screener, res.person.id, answers=ELIGIBLE_4355, outcome="maybe")
    assert err.value.fields == {"outcome"}
    assert counts(st) == before


def test_same_lot_or_username_on_two_stations_is_one_entity(st, staff, tmp_path, clock) -> None:
    """Two offline laptops of one site adding the same lot or user make the same entity id."""
    from station.store import Actor, init_station

    other = init_station(tmp_path / "second", st.site_code, clock=clock, station_letter="B")
    try:
        system = Actor.system(st.site_code)
        a = admin.upsert_lot(st, staff.supervisor, LotInput("AZ", "abv5300", "30/06/2027", 100))
        b = admin.upsert_lot(other, system, LotInput("AZ", "ABV5300", "30/06/2027", 120))
        assert a.id == b.id
        ua = admin.create_user(st, staff.admin, UserInput("yta.lan", "Y tá Lan", "clerk", "mat-khau-123"))
        ub = admin.create_user(other, system, UserInput("YTA.LAN", "Y tá Lan", "clerk", "mat-khau-456"))
        assert ua.id == ub.id
        other_site = init_station(tmp_path / "third", "DN-OTHER-02", clock=clock)
        try:
            c = admin.upsert_lot(other_site, Actor.system("DN-OTHER-02"), LotInput("AZ", "ABV5300", "30/06/2027", 5))
            assert c.id != a.id  # lots are per site
        finally:
            other_site.close()
    finally:
        other.close()
