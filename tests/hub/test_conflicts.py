"""DESIGN §6 conflict rules at the hub: field merges, LWW, identity holds, duplicates, void vs edit.

A second station of the same site is played by :class:`Manual` (hand-made ops in
the station's payload shapes, on their own replica epoch), since applying pulled
rows into a station is the sync engine's job, tested on its side.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from kernel.ids import uuid7
from kernel.ops import PersonP, RegisterPersonP, RegP, build, wire
from station.services import clinical, people
from tests.hub.conftest import Hub, Sim
from tests.hub.test_sync_flow import SITE_A, vaccinate
from tests.station.helpers import person

EARLY = "0000000000001-00000"
LATE = "9999999999999-00000"


class Manual:
    """Ops made by hand for the station ``sim`` on a separate replica epoch."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.epoch = str(uuid.uuid4())
        self.seq = 0

    def op(
        self,
        op_type: str,
        entity_type: str,
        entity_id: str,
        payload: dict[str, Any],
        hlc: str = LATE,
    ) -> dict[str, Any]:
        self.seq += 1
        return {
            "op_id": uuid7(),
            "op_seq": self.seq,
            "op_type": op_type,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "payload": payload,
            "hlc": hlc,
            "recorded_at": "2026-12-01T10:00:00+07:00",
            # The site's supervisor: the hub checks the op's user and role.
            "user_id": self.sim.staff.supervisor.user_id,
        }

    def push(self, *ops: dict[str, Any]) -> list[dict[str, Any]]:
        r = self.sim.post_push(list(ops), replica_epoch=self.epoch)
        assert r.status_code == 200, r.text
        results: list[dict[str, Any]] = r.json()["results"]
        assert len(results) == len(ops)
        return results


def reviews(hub: Hub, sim: Sim, kind: str) -> list[dict[str, Any]]:
    items = hub.client.get(hub.api + "/reviews", headers=sim.headers).json()["items"]
    return [i for i in items if i["kind"] == kind]


def upd(fields: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    return {"fields": {f: {"old": o, "new": n} for f, (o, n) in fields.items()}}


def test_update_person_merge_lww_and_identity_hold(
    hub: Hub, make_station: Callable[..., Sim]
) -> None:
    a = make_station(hub, SITE_A)
    res = people.register_walk_in(a.st, a.staff.clerk, person())
    pid = res.person.id
    a.push()
    other = Manual(a)
    # Station 1 edits the phone (base = current): applied.
    people.update_person(a.st, a.staff.supervisor, pid, {"phone": "0911111111"})
    assert [r["status"] for r in a.push()["results"]] == ["applied"]
    # Station 2 edited a different field from the same base: field-by-field merge.
    [r] = other.push(
        other.op("update_person", "person", pid, upd({"occupation": (None, "Giáo viên")}))
    )
    assert r["status"] == "applied" and r["detail"]["applied"] == ["occupation"]
    # Station 2 also changed the phone from the old base, with a later HLC: it wins, low review.
    [r] = other.push(
        other.op("update_person", "person", pid, upd({"phone": ("0912345678", "0922222222")}), LATE)
    )
    assert r["status"] == "applied" and r["detail"]["lww"] == [{"field": "phone", "won": True}]
    assert hub.scalar("SELECT phone FROM person WHERE id = :i", i=pid) == "0922222222"
    # An older concurrent phone edit loses; both values are kept in the review.
    [r] = other.push(
        other.op(
            "update_person", "person", pid, upd({"phone": ("0912345678", "0933333333")}), EARLY
        )
    )
    assert r["detail"]["lww"] == [{"field": "phone", "won": False}]
    assert hub.scalar("SELECT phone FROM person WHERE id = :i", i=pid) == "0922222222"
    low = reviews(hub, a, "field_conflict")
    assert [i["priority"] for i in low] == ["low", "low"]
    assert {(i["candidates"]["current"], i["candidates"]["other"]) for i in low} == {
        ("0922222222", "0911111111"),
        ("0922222222", "0933333333"),
    }
    # Identity field: station 1 renames; station 2's rename from the old base is held for review.
    people.update_person(a.st, a.staff.supervisor, pid, {"full_name": "Nguyễn Thị Đào Hoa"})
    a.push()
    [r] = other.push(
        other.op(
            "update_person", "person", pid, upd({"full_name": ("Nguyễn Thị Đào", "Nguyễn Thị Đảo")})
        )
    )
    assert r["status"] == "conflict_queued" and r["detail"]["queued"] == ["full_name"]
    assert hub.scalar("SELECT full_name FROM person WHERE id = :i", i=pid) == "Nguyễn Thị Đào Hoa"
    high = [i for i in reviews(hub, a, "field_conflict") if i["priority"] == "high"]
    assert len(high) == 1 and high[0]["candidates"]["other"] == "Nguyễn Thị Đảo"
    # Same value as current: a no-op, no review.
    [r] = other.push(
        other.op("update_person", "person", pid, upd({"occupation": (None, "Giáo viên")}))
    )
    assert r["status"] == "applied" and r["detail"]["noop"] == ["occupation"]
    # The supervisor takes the other value: a resolve op, and the change syncs.
    out = hub.client.post(
        hub.api + f"/reviews/{high[0]['id']}/resolve",
        json={"action": "take_value", "user_id": a.staff.supervisor.user_id},
        headers=a.headers,
    ).json()
    assert out["status"] == "applied"
    assert hub.scalar("SELECT full_name FROM person WHERE id = :i", i=pid) == "Nguyễn Thị Đảo"
    a.pull()
    assert a.seen("person")[pid]["full_name"] == "Nguyễn Thị Đảo"
    assert a.seen("person")[pid]["name_fold"] == "nguyen thi dao"
    resolved = a.seen("review")[high[0]["id"]]
    assert resolved["status"] == "resolved" and resolved["resolution"]["action"] == "take_value"


def test_duplicate_dose_review_and_void_resolution(
    hub: Hub, make_station: Callable[..., Sim]
) -> None:
    a = make_station(hub, SITE_A)
    _pid, dose_id = vaccinate(a)
    a.push()
    with hub.db.read() as s:
        dose = dict(s.execute(text("SELECT * FROM dose WHERE id = :i"), {"i": dose_id}).mappings().one())
    other = Manual(a)
    twin = {
        k: dose[k]
        for k in (
            "person_id",
            "site_code",
            "vaccine_code",
            "lot_id",
            "lot_number",
            "dose_number",
            "kind",
            "administered_at",
            "day",
            "recorded_at",
            "vaccinator_id",
            "screening_id",
            "injection_site",
            "source",
            "observe_until",
        )
    }
    twin_id = uuid7()
    sup = a.staff.supervisor.user_id
    [r] = other.push(
        other.op("record_dose", "dose", twin_id, twin | {"id": twin_id, "vaccinator_id": sup})
    )
    assert r["status"] == "applied"
    assert r["detail"]["possible_duplicate_of"] == [dose_id]
    [item] = reviews(hub, a, "possible_duplicate_dose")
    assert item["priority"] == "high" and item["candidates"]["dose_ids"] == [dose_id, twin_id]
    assert hub.count("dose") == 2  # both kept
    out = hub.client.post(
        hub.api + f"/reviews/{item['id']}/resolve",
        json={
            "action": "void_dose",
            "params": {"dose_id": twin_id, "reason": "nhập trùng"},
            "user_id": sup,
        },
        headers=a.headers,
    ).json()
    assert out["status"] == "applied", out
    assert hub.scalar("SELECT voided FROM dose WHERE id = :i", i=twin_id) == 1
    assert reviews(hub, a, "possible_duplicate_dose") == []
    # Resolving again is a no-op, and a bad action for the kind is refused.
    again = hub.client.post(
        hub.api + f"/reviews/{item['id']}/resolve",
        json={"action": "keep_both", "user_id": sup},
        headers=a.headers,
    ).json()
    assert again["detail"].get("already_resolved") is True


def test_void_wins_and_later_edit_is_flagged(hub: Hub, make_station: Callable[..., Sim]) -> None:
    a = make_station(hub, SITE_A)
    _pid, dose_id = vaccinate(a)
    a.push()
    other = Manual(a)
    [r] = other.push(
        other.op(
            "void_dose",
            "dose",
            dose_id,
            {"reason": "nhầm người", "voided_at": "2026-12-01T09:10:00+07:00"},
        )
    )
    assert r["status"] == "applied"
    # Station 1, still offline, ends the observation: applied, void kept, flagged.
    clinical.end_observation(a.st, a.staff.clerk, dose_id, early_reason="doctor_allowed")
    [res] = a.push()["results"]
    assert res["status"] == "applied" and res["detail"]["review_id"]
    assert hub.scalar("SELECT voided FROM dose WHERE id = :i", i=dose_id) == 1
    assert hub.scalar("SELECT observed_at FROM dose WHERE id = :i", i=dose_id) is not None
    [flag] = reviews(hub, a, "edit_after_void")
    assert flag["entity_id"] == dose_id and flag["candidates"]["op_type"] == "end_observation"


def test_possible_duplicate_person_without_id_number(
    hub: Hub, make_station: Callable[..., Sim]
) -> None:
    a = make_station(hub, SITE_A)
    first = people.register_walk_in(a.st, a.staff.clerk, person(id_type="none", id_number=None))
    a.push()
    other = Manual(a)
    twin_id = uuid7()
    payload = wire(
        build(
            RegisterPersonP,
            person=build(
                PersonP,
                full_name="NGUYỄN THỊ ĐÀO",
                birth="1985-03-07",
                sex="F",
                id_type="none",
                id_number=None,
                phone="0912345678",
                priority_group=9,
                consent=False,
            ),
            registration=build(
                RegP, id=uuid7(), day="2026-12-01", source="walk_in", status="checked_in", queue_label="B1"
            ),
        )
    )
    [r] = other.push(other.op("register_person", "person", twin_id, payload))
    assert r["status"] == "applied" and r["detail"]["possible_duplicate_of"] == [first.person.id]
    assert hub.count("person_redirect") == 0  # never auto-merged
    [item] = reviews(hub, a, "possible_duplicate_person")
    out = hub.client.post(
        hub.api + f"/reviews/{item['id']}/resolve",
        json={"action": "merge", "user_id": a.staff.supervisor.user_id},
        headers=a.headers,
    ).json()
    assert out["status"] == "applied", out
    assert (
        hub.scalar("SELECT to_id FROM person_redirect WHERE from_id = :f", f=twin_id)
        == first.person.id
    )
    # An edit sent for the merged person follows the redirect to the survivor.
    [r] = other.push(
        other.op("update_person", "person", twin_id, upd({"occupation": (None, "Nông dân")}))
    )
    assert r["status"] == "applied" and r["detail"]["person_id"] == first.person.id
    assert (
        hub.scalar("SELECT occupation FROM person WHERE id = :i", i=first.person.id) == "Nông dân"
    )


def test_same_walk_in_on_two_laptops_of_one_site_keeps_one_registration_per_day(
    hub: Hub, make_station: Callable[..., Sim]
) -> None:
    """Merging must not give the survivor two registrations at one site on one day."""
    a = make_station(hub, SITE_A, letter="A")
    b = make_station(hub, SITE_A, letter="B")
    walk_in = person(id_number="075185999001", phone="0912999001")
    ra = people.register_walk_in(a.st, a.staff.clerk, walk_in)
    rb = people.register_walk_in(b.st, b.staff.clerk, walk_in)
    a.push()
    res = b.push()
    merged = [r for r in res["results"] if r["detail"].get("merged_into")]
    assert merged and merged[0]["detail"]["merged_into"] == ra.person.id
    regs = a.pull() and a.seen("registration")
    keys = [(r["person_id"], r["site_code"], r["day"]) for r in regs.values()]
    assert len(keys) == len(set(keys)) == 2
    assert {r["person_id"] for r in regs.values()} == {ra.person.id, rb.person.id}
