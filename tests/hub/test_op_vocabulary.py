"""One vocabulary for op payloads (kernel.ops) and typed ack fields (sync.protocol.AckDetail).

* Every op a real station writes is exactly its model: parsed by the hub's model and
  dumped again, nothing is lost or added (the station builds with ``build``/``wire``,
  which construct without validating: this is what keeps them honest).
* The hub's answers keep the JSON keys of ``detail`` an older station reads with
  ``detail.get(...)``, and a new station reads the same values as attributes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from kernel.ops import OP_MODELS, PersonP, RecordDoseP, build, payload_model, wire
from station.dto import LotInput, PastDoseInput, UserInput
from station.services import admin, clinical, people
from sync.protocol import AckDetail, Op, OpResult, PushResponse
from tests.hub.conftest import Hub, Sim
from tests.hub.ops import Desk
from tests.hub.test_sync_flow import SITE_A, vaccinate
from tests.station.helpers import person


def _station_day(a: Sim) -> None:
    """A day at a desk touching every op type a station writes (but resolve_review)."""
    pid, dose_id = vaccinate(a)
    clinical.end_observation(a.st, a.staff.clerk, dose_id, early_reason="doctor_allowed")
    clinical.record_adverse_event(a.st, a.staff.clerk, dose_id, severity="common", description="Sốt nhẹ")
    people.update_person(a.st, a.staff.supervisor, pid, {"phone": "0987654321", "full_name": "Trần Thị Bình"})
    other = people.register_walk_in(a.st, a.staff.clerk, person(id_number=None, id_type="none"), check_in=False)
    people.check_in(a.st, a.staff.clerk, other.registration.id)
    people.add_registration(a.st, a.staff.clerk, other.person.id, day=a.st.today() + timedelta(days=1))
    people.add_expected(
        a.st, a.staff.supervisor,
        [person(full_name="Lê Văn Cường", id_number="075123456789"), person(full_name="Phạm Thu Dung", id_number=None, id_type="none")],
        day=a.st.today() + timedelta(days=2), import_ref="ds-phuong-1",
    )
    clinical.record_past_dose(
        a.st, a.staff.clerk,
        PastDoseInput(other.person.id, "PFIZER", 1, "primary", (a.st.today() - timedelta(days=40)).strftime("%d/%m/%Y")),
    )
    clinical.void_dose(a.st, a.staff.supervisor, dose_id, "Nhập nhầm người")
    admin.upsert_lot(a.st, a.staff.supervisor, LotInput("AZ", "ABV5811", "31/05/2027", 300))
    user = admin.create_user(a.st, a.staff.supervisor, UserInput("tiepdon2", "Tiếp đón 2", "clerk", "mat-khau-dai-123"))
    admin.set_user_active(a.st, a.staff.supervisor, user.id, False)


def test_every_op_a_station_writes_is_exactly_its_model(
    sqlite_hub: Hub, make_station: Callable[..., Sim]
) -> None:
    a = make_station(sqlite_hub, SITE_A)
    _station_day(a)
    ops = a.outbox(all_ops=True)
    assert {o["op_type"] for o in ops} == set(OP_MODELS) - {"resolve_review"}
    for raw in ops:
        op = Op.model_validate(raw)
        typed = op.typed_payload()
        assert type(typed) is payload_model(op.op_type), op.op_type
        # Nothing the station wrote is dropped by the model, nothing is added.
        assert wire(typed) == raw["payload"], op.op_type
    # And the hub, validating with the same models, applies all of them.
    out = a.push()
    assert [r["status"] for r in out["results"]] == ["applied"] * len(ops), [
        (o["op_type"], r.get("reason"), r.get("detail")) for o, r in zip(ops, out["results"], strict=True)
        if r["status"] != "applied"
    ]


def test_build_refuses_a_field_the_model_does_not_declare() -> None:
    with pytest.raises(TypeError, match="no field"):
        build(PersonP, full_name="Nguyễn Văn An", birth="1990", nickname="An")
    # Constructed, not validated: a test can still send the hub a bad value on purpose.
    assert wire(build(RecordDoseP, dose_number=0)) == {"dose_number": 0}


def test_ack_fields_over_http_keep_the_old_detail_keys(sqlite_hub: Hub) -> None:
    desk = Desk.enroll(sqlite_hub, SITE_A)
    first = desk.walk_in(None, name="Võ Thị Em", phone="0911222333")
    twin = desk.walk_in(None, name="Võ Thị Em", phone="0911222333")
    r1 = desk.post([first])
    r2 = desk.post([twin])
    assert r1.status_code == r2.status_code == 200
    raw = r2.json()["results"][0]
    # The wire is the old one: ``detail`` a JSON object with these keys, nothing renamed.
    assert set(raw["detail"]) == {"possible_duplicate_of", "review_id", "entity_changed"}
    [res] = PushResponse.model_validate(r2.json()).results
    ack = res.ack()
    assert ack.possible_duplicate_of == [first["entity_id"]]
    assert ack.review_id == raw["detail"]["review_id"]
    assert ack.entity_changed is True and ack.no_echo is False
    # What an older station reads with dict look-ups is what a new one reads as attributes.
    for result in (r1.json()["results"][0], raw):
        detail: dict[str, Any] = result["detail"]
        typed = OpResult.model_validate(result).ack()
        assert typed.entity_changed == bool(detail.get("entity_changed", True))
        assert typed.no_echo == (detail.get("no_echo") is True)


def test_ack_detail_reads_every_hub_release() -> None:
    # An older hub sends no keys: the op changed its entity, no echo mark.
    old = OpResult(op_id="o1", status="applied", server_seq=7).ack()
    assert (old.entity_changed, old.no_echo, old.person_id) == (True, False, None)
    # A losing edit and a fast-path echo, as the hub writes them.
    lost = OpResult(op_id="o2", status="conflict_queued", detail={
        "entity_changed": False, "applied": [], "noop": [], "lww": [], "queued": ["full_name"],
        "person_id": "p-1"}).ack()
    assert lost.entity_changed is False and lost.queued == ["full_name"] and lost.person_id == "p-1"
    assert OpResult(op_id="o3", status="applied", detail={"entity_changed": True, "no_echo": True}).ack().no_echo
    # A rejection's parameters and a newer hub's keys are kept, not refused.
    rej = OpResult(op_id="o4", status="rejected", reason="payload.invalid",
                   detail={"fields": ["day"], "shiny_new_key": 1}).ack()
    assert rej.model_extra == {"fields": ["day"], "shiny_new_key": 1}
    assert OpResult(op_id="o6", status="applied", detail={
        "entity_changed": False, "lww": [{"field": "phone", "won": False}], "noop": [], "applied": [],
        "queued": []}).ack().lww[0].won is False  # type: ignore[index]
    assert OpResult(op_id="o7", status="applied", detail={"noop": True, "already_voided": True}).ack().noop is True
    # A key that does not fit never fails a push: it reads as absent, the others stay.
    for bad in ({"no_echo": "yes"}, {"entity_changed": 0}, {"person_id": "x" * 500}):
        assert OpResult(op_id="o5", status="applied", detail=bad).ack() == AckDetail()
    mixed = OpResult(op_id="o8", status="applied", detail={"entity_changed": False, "no_echo": "yes"}).ack()
    assert (mixed.entity_changed, mixed.no_echo) == (False, False)
    # Dumped for the wire: exactly the keys given (an old station's .get sees the same).
    assert AckDetail(entity_changed=True, no_echo=True).wire() == {"entity_changed": True, "no_echo": True}
    assert AckDetail.read({"entity_changed": False}).wire() == {"entity_changed": False}
