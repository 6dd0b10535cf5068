"""Push, ledger, order and pull over real HTTP, on SQLite and PostgreSQL, with real station ops."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from station.dto import DoseInput
from station.services import clinical, people
from tests.hub.conftest import Hub, Sim
from tests.station.helpers import ELIGIBLE_4355, person

SITE_A = "DN-A"
SITE_B = "DN-B"


def vaccinate(sim: Sim, **person_over: Any) -> tuple[str, str]:
    """Walk-in, screening and a dose at this station: returns (person_id, dose_id)."""
    res = people.register_walk_in(sim.st, sim.staff.clerk, person(**person_over))
    pid = res.person.id
    clinical.record_screening(
        sim.st, sim.staff.screener, pid, answers=ELIGIBLE_4355, outcome="eligible"
    )
    dose = clinical.record_dose(sim.st, sim.staff.clerk, DoseInput(pid, sim.lot_id))
    return pid, dose.id


def test_health_needs_no_token(hub: Hub) -> None:
    r = hub.client.get(hub.api + "/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["hub_epoch"]


def test_push_applies_real_station_ops_and_retry_is_duplicate(
    hub: Hub, make_station: Callable[..., Sim]
) -> None:
    a = make_station(hub, SITE_A)
    vaccinate(a)
    ops = a.outbox()
    types = [o["op_type"] for o in ops]
    assert {
        "upsert_user",
        "upsert_lot",
        "register_person",
        "record_screening",
        "record_dose",
    } <= set(types)
    resp = a.post_push(ops)
    assert resp.status_code == 200, resp.text
    first = resp.json()
    assert [r["status"] for r in first["results"]] == ["applied"] * len(ops), first
    assert first["expected_next_op_seq"] == ops[-1]["op_seq"] + 1
    assert all(r["server_seq"] for r in first["results"])
    # The lost ack: the same push again answers duplicate with the stored results.
    again = a.post_push(ops).json()
    assert [r["status"] for r in again["results"]] == ["duplicate"] * len(ops)
    assert [r["server_seq"] for r in again["results"]] == [
        r["server_seq"] for r in first["results"]
    ]
    assert hub.count("applied_op") == len(ops)
    assert hub.count("dose") == 1


def test_same_op_id_other_payload_is_rejected(hub: Hub, make_station: Callable[..., Sim]) -> None:
    a = make_station(hub, SITE_A)
    a.push()
    vaccinate(a)
    ops = a.outbox()
    a.push()
    forged = dict(ops[-1], payload=dict(ops[-1]["payload"], dose_number=2))
    r = a.post_push([forged]).json()
    assert r["results"][0]["status"] == "rejected"
    assert r["results"][0]["reason"] == "op.id_reused"


def test_gap_answers_expected_next_and_regression_is_409(
    hub: Hub, make_station: Callable[..., Sim]
) -> None:
    a = make_station(hub, SITE_A)
    ops = a.outbox()
    assert len(ops) >= 4
    # Send the first two, then skip one: the hub stops at the gap.
    r = a.post_push(ops[:2]).json()
    assert r["expected_next_op_seq"] == ops[1]["op_seq"] + 1
    r = a.post_push(ops[3:]).json()
    assert r["results"] == []
    assert r["expected_next_op_seq"] == ops[2]["op_seq"]
    # A push that starts before the gap and runs past it is applied in order.
    r = a.post_push(ops[2:]).json()
    assert [x["status"] for x in r["results"]] == ["applied"] * len(ops[2:])
    # A new op id at an op_seq the hub has passed: the replica went back (restored backup).
    regressed = dict(ops[0], op_id="0190aaaa-0000-7000-8000-000000000001")
    resp = a.post_push([regressed])
    assert resp.status_code == 409
    assert resp.json()["code"] == "replica.regressed"
    assert resp.json()["detail"]["expected_next_op_seq"] == ops[-1]["op_seq"] + 1
    # A rotated epoch re-pushing the same ids gets duplicates, not double effects.
    r = a.post_push(ops, replica_epoch="0190bbbb-0000-7000-8000-000000000002").json()
    assert {x["status"] for x in r["results"]} == {"duplicate"}


def test_rejected_op_does_not_block_the_queue(hub: Hub, make_station: Callable[..., Sim]) -> None:
    a = make_station(hub, SITE_A)
    a.push()
    _pid, _dose = vaccinate(a)
    ops = a.outbox()
    # Break the screening op (as if a buggy station sent a bad payload): rejected, then the rest applies.
    bad = [dict(o) for o in ops]
    idx = next(i for i, o in enumerate(bad) if o["op_type"] == "record_screening")
    bad[idx]["payload"] = {"nonsense": True}
    r = a.post_push(bad).json()
    statuses = [x["status"] for x in r["results"]]
    assert statuses[idx] == "rejected" and r["results"][idx]["reason"] == "payload.invalid"
    assert statuses[idx + 1 :] == ["applied"] * (len(ops) - idx - 1)
    assert r["expected_next_op_seq"] == ops[-1]["op_seq"] + 1
    # A retry answers the same rejection from the ledger (a lost answer must not
    # turn it into an acknowledgement).
    again = a.post_push(bad[idx : idx + 1]).json()
    assert again["results"][0]["status"] == "rejected"
    assert again["results"][0]["reason"] == "payload.invalid"
    assert again["results"][0]["detail"]["original_status"] == "rejected"


def test_pull_is_scoped_to_the_site(hub: Hub, make_station: Callable[..., Sim]) -> None:
    a = make_station(hub, SITE_A)
    b = make_station(hub, SITE_B)
    pa, _ = vaccinate(a)
    pb, _ = vaccinate(b, id_number="075185009999", full_name="Trần Văn Bình")
    a.push()
    b.push()
    a.pull()
    b.pull()
    assert set(a.seen("person")) == {pa}
    assert set(b.seen("person")) == {pb}
    assert {r["site_code"] for r in a.seen("registration").values()} == {SITE_A}
    assert {r["site_code"] for r in b.seen("app_user").values()} == {SITE_B}
    assert all(r["site_code"] == SITE_A for r in a.seen("vaccine_lot").values())
    # The pulled user row keeps the password hash (offline logins at every station of the site).
    assert all(u["password_hash"].startswith("$argon2") for u in a.seen("app_user").values())
    # Pulled rows carry station columns only, ready to apply.
    p = a.seen("person")[pa]
    assert "merged_from" not in p and p["name_fold"] and p["birth_year"] == 1985
    assert "merged_from" not in next(iter(a.seen("dose").values()))
    # Paging: small pages reach the same end.
    a2_cursor, seen = 0, []
    while True:
        page = hub.client.get(
            hub.api + "/pull", params={"cursor": a2_cursor, "limit": 2}, headers=a.headers
        ).json()
        seen += [c["server_seq"] for c in page["changes"]]
        a2_cursor = page["next_cursor"]
        if not page["has_more"]:
            break
    assert seen == [c["server_seq"] for c in a.pulled]
    assert a2_cursor == a.cursor


def test_same_cccd_at_two_sites_merges_and_doses_follow(
    hub: Hub, make_station: Callable[..., Sim]
) -> None:
    a = make_station(hub, SITE_A)
    b = make_station(hub, SITE_B)
    pa, da = vaccinate(a)
    a.push()
    # The same person walks in at site B (offline there, so B never saw A's record).
    pb, db_ = vaccinate(b)
    r = b.push()
    reg = next(x for x in r["results"] if x["detail"].get("merged_into"))
    assert reg["status"] == "applied" and reg["detail"]["merged_into"] == pa
    assert hub.scalar("SELECT to_id FROM person_redirect WHERE from_id = :f", f=pb) == pa
    assert hub.scalar("SELECT status FROM person WHERE id = :i", i=pb) == "merged"
    assert hub.scalar("SELECT person_id FROM dose WHERE id = :i", i=db_) == pa
    a.pull()
    b.pull()
    # Both sites see both doses under the survivor, and the redirect.
    for sim in (a, b):
        doses = sim.seen("dose")
        assert {da, db_} <= set(doses), sim.site
        assert {d["person_id"] for d in doses.values() if d["id"] in (da, db_)} == {pa}
        assert sim.seen("person_redirect")[pb]["to_id"] == pa
        assert sim.seen("person")[pa]["status"] == "active"
    # Foreign doses arrive without the other site's lot and screening ids.
    assert b.seen("dose")[da]["lot_id"] is None and b.seen("dose")[db_]["lot_id"] == b.lot_id
    reviews = hub.client.get(hub.api + "/reviews", headers=b.headers).json()["items"]
    merged = [i for i in reviews if i["kind"] == "merged_person"]
    assert (
        merged
        and merged[0]["priority"] == "low"
        and set(merged[0]["site_codes"]) == {SITE_A, SITE_B}
    )
    # Two doses of the same series and number for one person: a duplicate-dose review too.
    dup = [i for i in reviews if i["kind"] == "possible_duplicate_dose"]
    assert dup and set(dup[0]["candidates"]["dose_ids"]) == {da, db_}
    # Unmerge (a supervisor decides they are two people): the redirect goes, rows move back.
    res = hub.client.post(
        hub.api + f"/reviews/{merged[0]['id']}/resolve",
        json={"action": "unmerge", "user_id": a.staff.supervisor.user_id},
        headers=a.headers,
    ).json()
    assert res["status"] == "applied", res
    assert hub.scalar("SELECT count(*) FROM person_redirect") == 0
    assert hub.scalar("SELECT person_id FROM dose WHERE id = :i", i=db_) == pb
    a.pull()
    assert a.seen("person_redirect")[pb]["to_id"] is None
    assert a.seen("dose")[db_]["person_id"] == pb
    assert a.seen("person")[pb]["status"] == "active"


def test_person_lookup_by_id_number(hub: Hub, make_station: Callable[..., Sim]) -> None:
    a = make_station(hub, SITE_A)
    b = make_station(hub, SITE_B)
    _pa, _da = vaccinate(a)
    a.push()
    r = hub.client.get(hub.api + "/persons/by-id-number/075185001234", headers=b.headers).json()
    # What a desk needs to avoid a duplicate, nothing more (no ids, contact data or lots).
    assert r == {
        "found": True,
        "person": {"full_name": "Nguyễn Thị Đào", "birth_year": 1985, "sex": "F"},
        "doses": [
            {
                "vaccine_code": "PFIZER",
                "dose_number": 1,
                "kind": "primary",
                "day": "2026-12-01",
                "site_code": SITE_A,
                "source": "site",
            }
        ],
    }
    r = hub.client.get(hub.api + "/persons/by-id-number/000000000000", headers=b.headers).json()
    assert r == {"found": False, "person": None, "doses": []}
    # Both look-ups are in the hub's audit, with the person found and no ID number.
    with hub.db.read() as s:
        rows = s.execute(
            text("SELECT station_id, site_code, outcome, person_id FROM lookup_audit ORDER BY id")
        ).all()
    assert [tuple(x) for x in rows] == [
        (b.st.install_id, SITE_B, "found", _pa),
        (b.st.install_id, SITE_B, "not_found", None),
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [("volume_ml", 0), ("volume_ml", -0.25), ("volume_ml", 1e9), ("volume_ml", "nan"),
     ("volume_ml", "lots"), ("override_reason", "x" * 1001), ("override_by", "u" * 37)],
)
def test_dose_volume_and_override_are_bounded_at_the_edge(
    hub: Hub, make_station: Callable[..., Sim], field: str, value: object
) -> None:
    """Issue 12's dose fields: what a station sends is parsed and bounded; a bad one is refused
    by name (not stored, nothing a dashboard or a pull could choke on)."""
    a = make_station(hub, SITE_A)
    a.push()
    _pid, dose_id = vaccinate(a)
    ops = a.outbox()
    idx = next(i for i, o in enumerate(ops) if o["op_type"] == "record_dose")
    assert ops[idx]["payload"]["volume_ml"] == 0.3  # the station sends what it injected
    bad = [dict(o) for o in ops]
    bad[idx] = dict(bad[idx], payload=dict(bad[idx]["payload"], **{field: value}))
    r = a.post_push(bad).json()
    res = r["results"][idx]
    assert (res["status"], res["reason"]) == ("rejected", "payload.invalid"), res
    assert field in res["detail"]["fields"]
    assert hub.scalar("SELECT count(*) FROM dose WHERE id = :d", d=dose_id) == 0
