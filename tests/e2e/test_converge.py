"""End to end over real HTTP: three real stations, two sites, a SQLite hub and a PostgreSQL hub.

Each DESIGN §6 row is played by real stations through their services and their sync
engines (nothing hand-made on the wire), then every station and the hub must converge:
normalised dumps equal, every op exactly once in the hub ledger, no dose lost or doubled,
the change log without gaps, every outbox drained.

Layout (fixture ``three``): st1 and st2 at site A (letters A and B), st3 at site B.

| DESIGN §6 row                                   | test                                                  |
|-------------------------------------------------|-------------------------------------------------------|
| same op or dose re-sent                         | test_resent_ops_are_duplicates_lost_ack,              |
|                                                 | test_crash_before_ack_commit_resends_as_duplicates     |
| two doses, same person/series/number            | test_two_doses_same_series_number_kept_and_reviewed   |
|   (a supervisor voids one, from a station)      |   (same test: resolve_review → syncs, converges)      |
| dose correction                                 | test_dose_correction_is_void_plus_new_dose            |
| demographics edit on the current version        | test_edit_on_current_version_applies                  |
| concurrent edits, different fields              | test_concurrent_edits_of_different_fields_merge       |
| concurrent edits, same contact field            | test_same_contact_field_last_writer_by_hlc_wins       |
| concurrent edits, same identity field           | test_same_identity_field_keeps_current_high_review    |
| same ID number at two sites                     | test_same_cccd_at_two_sites_is_one_person_with_both_doses |
| no ID, same folded name + birth + phone         | test_no_id_same_name_birth_phone_is_review_not_merge  |
| edit or dose on a merged person                 | test_edit_and_dose_on_merged_person_follow_redirect   |
| void vs edit                                    | test_void_wins_over_later_edit_which_is_flagged       |
| a void propagates (acceptance)                  | test_void_propagates_to_every_station_holding_the_dose |

Edges (partial syncs, merges within one site, resolutions that are ops):
test_losing_contact_edit_pulled_before_its_push_converges,
test_queued_identity_edit_pulled_before_its_push_converges,
test_same_cccd_at_two_stations_of_one_site_same_day_converges,
test_same_site_merge_then_visit_recorded_on_the_loser_converges,
test_same_cccd_at_both_desks_of_a_site_after_another_site_converges,
test_unmerge_resolution_reactivates_at_every_station,
test_supervisor_merge_of_two_vaccinated_people_flags_duplicate_dose.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from station.services import clinical, reviews
from tests.e2e.harness import Cluster, Node, People

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]  # fast lane (./dev test --fast) leaves it out; ./dev test runs it

SITE_A, SITE_B = "DN-A-01", "DN-B-02"


def nodes(c: Cluster) -> tuple[Node, Node, Node]:
    st1, st2, st3 = c.nodes
    return st1, st2, st3


def op_of(node: Node, op_type: str, entity_id: str | None = None) -> dict[str, Any]:
    got = [
        o
        for o in node.outbox()
        if o["op_type"] == op_type and (entity_id is None or o["entity_id"] == entity_id)
    ]
    assert got, f"{node.name}: no {op_type} op"
    return got[-1]


def hub_person(c: Cluster, pid: str) -> dict[str, Any]:
    rows = c.hub_rows("SELECT * FROM person WHERE id = :i", i=pid)
    assert len(rows) == 1
    return rows[0]


# ---- the harness itself can fail --------------------------------------------------------


def test_convergence_check_catches_a_diverging_station(three: Cluster) -> None:
    c = three
    st1, _st2, _st3 = nodes(c)
    pid = st1.walk_in(People().make())
    st1.vaccinate(pid)
    c.converge()
    dumped = st1.dump()
    assert dumped["person"] and dumped["dose"] and dumped["registration"]
    assert dumped["app_user"] and dumped["vaccine_lot"]
    # A row changed behind sync's back (no op): the check must notice.
    with st1.st.sync_writer() as conn:
        conn.execute(text("UPDATE dose SET injection_site = 'right_thigh'"))
    with pytest.raises(AssertionError, match="injection_site"):
        c.assert_converged()


# ---- same ID number at two sites (acceptance: one person, both doses, re-pointed) -------


def _two_site_walk_in(c: Cluster) -> tuple[str, str, str, str]:
    """The same CCCD walked in at site A (st1) and site B (st3), both offline, each a dose."""
    st1, _st2, st3 = nodes(c)
    who = People(seed=7).make()
    p1 = st1.walk_in(who)
    d1 = st1.vaccinate(p1)
    p3 = st3.walk_in(who)
    d3 = st3.vaccinate(p3)
    assert p1 != p3
    return p1, d1, p3, d3


def test_same_cccd_at_two_sites_is_one_person_with_both_doses(three: Cluster) -> None:
    c = three
    st1, st2, st3 = nodes(c)
    p1, d1, p3, d3 = _two_site_walk_in(c)
    c.sync_all()  # st1 pushes first: its person is the earlier one

    merged = c.ledger(op_of(st3, "register_person", p3)["op_id"])
    assert merged["status"] == "applied"
    assert merged["result"]["detail"]["merged_into"] == p1
    assert hub_person(c, p1)["status"] == "active"
    assert hub_person(c, p3)["status"] == "merged"
    assert c.hub_rows("SELECT from_id, to_id FROM person_redirect") == [
        {"from_id": p3, "to_id": p1}
    ]
    hub_doses = c.hub_rows("SELECT id, person_id FROM dose ORDER BY id")
    assert {d["id"] for d in hub_doses} == {d1, d3}
    assert {d["person_id"] for d in hub_doses} == {p1}
    assert [r["candidates"]["from_id"] for r in c.hub_reviews("merged_person")] == [p3]
    # Two first doses of one series the same day: a possible duplicate for a supervisor.
    dup = c.hub_reviews("possible_duplicate_dose")
    assert len(dup) == 1 and set(dup[0]["candidates"]["dose_ids"]) == {d1, d3}
    assert dup[0]["priority"] == "high" and set(dup[0]["site_codes"]) == {SITE_A, SITE_B}

    # Both stations re-pointed: the loser is merged locally, its rows follow the survivor.
    for node in (st1, st3):
        assert node.rows("SELECT from_id, to_id FROM person_redirect") == [
            {"from_id": p3, "to_id": p1}
        ]
        assert {d["id"] for d in node.doses_of(p1)} == {d1, d3}
        assert node.doses_of(p3) == []
        # The dose history a clerk sees, from either id, holds both doses.
        for pid in (p1, p3):
            assert {d.id for d in clinical.dose_history(node.st, pid)} == {d1, d3}
    loser = st3.person(p3)
    assert loser is not None and loser["status"] == "merged"
    assert st3.rows("SELECT DISTINCT person_id FROM registration") == [{"person_id": p1}]
    assert st3.rows("SELECT DISTINCT person_id FROM screening") == [{"person_id": p1}]
    # The other station of site A sees the same person with both doses too.
    assert {d["id"] for d in st2.doses_of(p1)} == {d1, d3}
    c.assert_converged()
    c.check_hub_invariants()


def test_void_propagates_to_every_station_holding_the_dose(three: Cluster) -> None:
    c = three
    st1, st2, st3 = nodes(c)
    p1, d1, _p3, d3 = _two_site_walk_in(c)
    c.sync_all()
    for node in (st1, st2, st3):
        assert {d["id"]: d["voided"] for d in node.doses_of(p1)} == {d1: 0, d3: 0}
    # The supervisor of site B voids site B's duplicate entry.
    st3.void(d3, "nhập trùng với điểm A")
    c.sync_all()
    hub = c.hub_rows("SELECT voided, void_reason, voided_by FROM dose WHERE id = :i", i=d3)[0]
    assert hub["voided"] == 1 and hub["void_reason"] == "nhập trùng với điểm A"
    assert hub["voided_by"] == st3.require_staff().supervisor.user_id
    for node in (st1, st2, st3):
        got = {d["id"]: (d["voided"], d["void_reason"]) for d in node.doses_of(p1)}
        assert got == {d1: (0, None), d3: (1, "nhập trùng với điểm A")}, node.name
    c.assert_converged()
    c.check_hub_invariants()


# ---- same op re-sent -----------------------------------------------------------------------


def test_resent_ops_are_duplicates_lost_ack(three: Cluster) -> None:
    c = three
    st1, _st2, _st3 = nodes(c)
    pid = st1.walk_in(People().make())
    dose = st1.vaccinate(pid)
    st1.sync()
    before = int(c.hub_scalar("SELECT count(*) FROM applied_op"))
    changes = int(c.hub_scalar("SELECT count(*) FROM change_log"))
    lost = st1.lose_acks()  # the answers never arrived: the engine sends them all again
    assert len(lost) >= 3
    rep = st1.sync()
    assert rep.duplicate == len(lost) and rep.pushed == 0 and rep.rejected == 0
    assert int(c.hub_scalar("SELECT count(*) FROM applied_op")) == before
    assert int(c.hub_scalar("SELECT count(*) FROM change_log")) == changes  # nothing re-applied
    assert c.hub_rows("SELECT id FROM dose") == [{"id": dose}]
    c.converge()


def test_crash_before_ack_commit_resends_as_duplicates(three: Cluster) -> None:
    c = three
    st1, _st2, _st3 = nodes(c)
    pid = st1.walk_in(People().make())
    dose = st1.vaccinate(pid)
    waiting = st1.waiting()
    # The hub applies the push; the station dies before recording the answers.
    assert st1.sync_crashing_at("after_push_send_before_ack_commit")
    assert st1.waiting() == waiting
    assert (
        int(c.hub_scalar("SELECT count(*) FROM applied_op WHERE station_id = :s", s=st1.install_id))
        >= waiting
    )
    rep = st1.sync()
    assert rep.duplicate == waiting and rep.pushed == 0
    assert c.hub_rows("SELECT id FROM dose") == [{"id": dose}]
    c.converge()


# ---- two doses, same person, series and number ---------------------------------------------


def test_two_doses_same_series_number_kept_and_reviewed(three: Cluster) -> None:
    c = three
    st1, st2, st3 = nodes(c)
    pid = st1.walk_in(People().make())
    c.sync_all()  # st2 (same site) now has the person and the check-in
    d1 = st1.vaccinate(pid)
    d2 = st2.vaccinate(pid)  # both offline: the same first dose entered at both desks
    c.sync_all()
    assert {d["id"]: d["voided"] for d in c.hub_rows("SELECT id, voided FROM dose")} == {
        d1: 0,
        d2: 0,
    }
    dup = c.hub_reviews("possible_duplicate_dose")
    assert len(dup) == 1
    item = dup[0]
    assert item["priority"] == "high" and item["status"] == "open"
    assert sorted(item["candidates"]["dose_ids"]) == sorted([d1, d2])
    for node in (st1, st2):
        mirrored = node.reviews("possible_duplicate_dose")
        assert [r["id"] for r in mirrored] == [item["id"]] and mirrored[0]["status"] == "open"
    assert st3.reviews() == []  # site B never saw this person
    c.assert_converged()

    # A supervisor at st1 voids the second entry through the review: it is an op.
    sup = st1.require_staff().supervisor
    reviews.resolve_review(st1.st, sup, item["id"], "void_dose", dose_id=d2, reason="nhập trùng")
    c.sync_all()
    hub_item = c.hub_reviews("possible_duplicate_dose")[0]
    assert hub_item["status"] == "resolved"
    assert hub_item["resolution"]["action"] == "void_dose"
    assert hub_item["resolution"]["effect"] == {"voided": d2}
    for node in (st1, st2):
        assert {d["id"]: d["voided"] for d in node.doses_of(pid)} == {d1: 0, d2: 1}
        assert node.reviews("possible_duplicate_dose")[0]["status"] == "resolved"
    c.converge()


def test_dose_correction_is_void_plus_new_dose(three: Cluster) -> None:
    c = three
    st1, st2, _st3 = nodes(c)
    pid = st1.walk_in(People().make())
    wrong = st1.vaccinate(pid, injection_site="left_deltoid")
    c.sync_all()
    before = c.hub_rows("SELECT * FROM dose WHERE id = :i", i=wrong)[0]
    # The correction: void the wrong entry, enter the right one (same screening today).
    st1.void(wrong, "sai vị trí tiêm")
    right = st1.vaccinate(pid, screen=False, injection_site="right_deltoid")
    c.sync_all()
    after = {d["id"]: d for d in c.hub_rows("SELECT * FROM dose")}
    assert set(after) == {wrong, right}
    void_cols = {"voided", "void_reason", "voided_by", "voided_at", "version"}
    # Never an update in place: only the void columns of the wrong dose changed.
    assert {k: v for k, v in after[wrong].items() if k not in void_cols} == {
        k: v for k, v in before.items() if k not in void_cols
    }
    assert after[wrong]["voided"] == 1 and after[right]["voided"] == 0
    assert after[right]["injection_site"] == "right_deltoid"
    assert c.hub_reviews("possible_duplicate_dose") == []  # a voided dose is no duplicate
    assert {d["id"]: d["voided"] for d in st2.doses_of(pid)} == {wrong: 1, right: 0}
    c.converge()


# ---- demographics --------------------------------------------------------------------------


def test_edit_on_current_version_applies(three: Cluster) -> None:
    c = three
    st1, st2, _st3 = nodes(c)
    pid = st1.walk_in(People().make())
    c.sync_all()
    st2.edit(pid, phone="0987654321")
    c.sync_all()
    led = c.ledger(op_of(st2, "update_person", pid)["op_id"])
    assert led["status"] == "applied" and led["result"]["detail"]["applied"] == ["phone"]
    assert hub_person(c, pid)["phone"] == "0987654321"
    assert st1.person(pid)["phone"] == "0987654321"  # type: ignore[index]
    assert c.hub_reviews("field_conflict") == []
    c.converge()


def test_concurrent_edits_of_different_fields_merge(three: Cluster) -> None:
    c = three
    st1, st2, _st3 = nodes(c)
    pid = st1.walk_in(People().make())
    c.sync_all()
    st1.edit(pid, phone="0911000111")
    st2.edit(pid, address_line="Số 9, đường Đồng Khởi")  # both offline, same base
    c.sync_all()
    hub = hub_person(c, pid)
    assert hub["phone"] == "0911000111" and hub["address_line"] == "Số 9, đường Đồng Khởi"
    for node in (st1, st2):
        assert c.ledger(op_of(node, "update_person", pid)["op_id"])["status"] == "applied"
        mine = node.person(pid)
        assert mine is not None
        assert (mine["phone"], mine["address_line"]) == (hub["phone"], hub["address_line"])
    assert c.hub_reviews("field_conflict") == []
    c.converge()


def test_same_contact_field_last_writer_by_hlc_wins(three: Cluster) -> None:
    c = three
    st1, st2, _st3 = nodes(c)
    pid = st1.walk_in(People().make())
    c.sync_all()
    st1.edit(pid, phone="0911111111")
    st2.clock.advance(minutes=2)  # st2 writes later (HLC), within the skew tolerance
    st2.edit(pid, phone="0922222222")
    # Received in the other order: the later HLC (st2) still wins, not the later arrival.
    st2.sync()
    st1.sync()
    c.sync_all()
    assert hub_person(c, pid)["phone"] == "0922222222"
    led = c.ledger(op_of(st1, "update_person", pid)["op_id"])
    assert led["status"] == "applied"
    assert led["result"]["detail"]["lww"] == [{"field": "phone", "won": False}]
    conflicts = c.hub_reviews("field_conflict")
    assert len(conflicts) == 1
    cand = conflicts[0]["candidates"]
    assert conflicts[0]["priority"] == "low"
    assert (cand["field"], cand["current"], cand["other"]) == ("phone", "0922222222", "0911111111")
    assert cand["rule"] == "lww_hlc"
    for node in (st1, st2):
        assert node.person(pid)["phone"] == "0922222222"  # type: ignore[index]
        assert [r["id"] for r in node.reviews("field_conflict")] == [conflicts[0]["id"]]
    c.converge()


def test_same_identity_field_keeps_current_high_review(three: Cluster) -> None:
    c = three
    st1, st2, _st3 = nodes(c)
    who = People().make(full_name="Lê Thị Hoa")
    pid = st1.walk_in(who)
    c.sync_all()
    st1.edit(pid, full_name="Lê Thị Hoà")
    st2.edit(pid, full_name="Lê Thị Hòa Bình")
    st1.sync()
    st2.sync()
    c.sync_all()
    assert hub_person(c, pid)["full_name"] == "Lê Thị Hoà"  # the current value is kept
    led = c.ledger(op_of(st2, "update_person", pid)["op_id"])
    assert led["status"] == "conflict_queued" and led["result"]["detail"]["queued"] == ["full_name"]
    conflicts = c.hub_reviews("field_conflict")
    assert len(conflicts) == 1 and conflicts[0]["priority"] == "high"
    cand = conflicts[0]["candidates"]
    assert (cand["field"], cand["current"], cand["other"], cand["base"]) == (
        "full_name",
        "Lê Thị Hoà",
        "Lê Thị Hòa Bình",
        "Lê Thị Hoa",
    )
    for node in (st1, st2):
        assert node.person(pid)["full_name"] == "Lê Thị Hoà", node.name  # type: ignore[index]
    c.converge()


# ---- possible duplicate person ---------------------------------------------------------------


def test_no_id_same_name_birth_phone_is_review_not_merge(three: Cluster) -> None:
    c = three
    st1, _st2, st3 = nodes(c)
    pp = People()
    base: dict[str, Any] = {"id_type": "none", "id_number": None, "birth": "01/02/1990"}
    p1 = st1.walk_in(pp.make(full_name="Nguyễn Văn Ân", phone="0903000111", **base))
    p3 = st3.walk_in(pp.make(full_name="NGUYEN VAN AN", phone="0903000111", **base))
    c.sync_all()
    assert c.hub_rows("SELECT * FROM person_redirect") == []
    assert {hub_person(c, p)["status"] for p in (p1, p3)} == {"active"}
    dup = c.hub_reviews("possible_duplicate_person")
    assert len(dup) == 1
    assert dup[0]["priority"] == "low" and dup[0]["status"] == "open"
    assert dup[0]["candidates"]["person_ids"] == [p1, p3]
    assert set(dup[0]["site_codes"]) == {SITE_A, SITE_B}
    for node in (st1, st3):
        assert [r["id"] for r in node.reviews("possible_duplicate_person")] == [dup[0]["id"]]
    c.converge()


# ---- merged person -----------------------------------------------------------------------


def test_edit_and_dose_on_merged_person_follow_redirect(three: Cluster) -> None:
    c = three
    st1, st2, st3 = nodes(c)
    who = People(seed=11).make()
    p1 = st1.walk_in(who)
    st1.sync()
    p3 = st3.walk_in(who)
    st3.push_only()  # the hub merges p3 into p1; st3 has not heard of it yet
    assert hub_person(c, p3)["status"] == "merged"
    st3.edit(p3, address_line="Số 77, đường Võ Thị Sáu")  # still aimed at the merged id
    dose = st3.vaccinate(p3)
    c.sync_all()
    led = c.ledger(op_of(st3, "update_person", p3)["op_id"])
    assert led["status"] == "applied" and led["result"]["detail"]["person_id"] == p1
    assert hub_person(c, p1)["address_line"] == "Số 77, đường Võ Thị Sáu"
    hub_dose = c.hub_rows("SELECT person_id, merged_from FROM dose WHERE id = :i", i=dose)[0]
    assert hub_dose == {"person_id": p1, "merged_from": p3}
    for node in (st1, st2, st3):
        assert [d["id"] for d in node.doses_of(p1)] == [dose], node.name
        assert node.person(p1)["address_line"] == "Số 77, đường Võ Thị Sáu"  # type: ignore[index]
    c.converge()


# ---- void vs edit ----------------------------------------------------------------------------


def test_void_wins_over_later_edit_which_is_flagged(three: Cluster) -> None:
    c = three
    st1, st2, _st3 = nodes(c)
    pid = st1.walk_in(People().make())
    dose = st1.vaccinate(pid)
    c.sync_all()
    st2.void(dose, "nhập nhầm người")  # the supervisor at st2 voids it...
    c.advance(minutes=31)
    staff = st1.require_staff()
    clinical.end_observation(st1.st, staff.clerk, dose)  # ...while st1, offline, edits it
    clinical.record_adverse_event(
        st1.st, staff.clerk, dose, severity="common", description="đau chỗ tiêm"
    )
    st2.sync()
    st1.sync()
    c.sync_all()
    hub = c.hub_rows("SELECT voided, observed_at FROM dose WHERE id = :i", i=dose)[0]
    assert hub["voided"] == 1  # void wins the status
    assert hub["observed_at"] is not None  # the edit is kept in history
    assert c.hub_scalar("SELECT count(*) FROM adverse_event WHERE dose_id = :d", d=dose) == 1
    flagged = c.hub_reviews("edit_after_void")
    assert sorted((r["candidates"]["op_type"], r["priority"]) for r in flagged) == [
        ("end_observation", "low"),
        ("record_adverse_event", "high"),
    ]
    assert {r["candidates"]["dose_id"] for r in flagged} == {dose}
    for node in (st1, st2):
        assert node.doses_of(pid)[0]["voided"] == 1, node.name
        assert len(node.reviews("edit_after_void")) == 2
    c.converge()


# ---- edges: partial syncs, same-site merges, resolutions ------------------------------------


def test_losing_contact_edit_pulled_before_its_push_converges(three: Cluster) -> None:
    """st1's edit loses LWW; st1 pulled the winner while its own edit was still queued."""
    c = three
    st1, st2, _st3 = nodes(c)
    pid = st1.walk_in(People().make())
    c.sync_all()
    st1.edit(pid, phone="0911111111")
    st2.clock.advance(minutes=2)
    st2.edit(pid, phone="0922222222")
    st2.sync()
    st1.pull_only()  # new local edit still queued while a pull runs (e.g. typed during sync)
    st1.push_only()
    c.sync_all()
    assert hub_person(c, pid)["phone"] == "0922222222"
    assert st1.person(pid)["phone"] == "0922222222"  # type: ignore[index]
    c.converge()


def test_queued_identity_edit_pulled_before_its_push_converges(three: Cluster) -> None:
    c = three
    st1, st2, _st3 = nodes(c)
    pid = st1.walk_in(People().make(full_name="Lê Thị Hoa"))
    c.sync_all()
    st1.edit(pid, full_name="Lê Thị Hoà")
    st2.edit(pid, full_name="Lê Thị Hòa Bình")
    st1.sync()
    st2.pull_only()
    st2.push_only()
    c.sync_all()
    assert hub_person(c, pid)["full_name"] == "Lê Thị Hoà"
    assert st2.person(pid)["full_name"] == "Lê Thị Hoà"  # type: ignore[index]
    c.converge()


def test_same_cccd_at_two_stations_of_one_site_same_day_converges(three: Cluster) -> None:
    c = three
    st1, st2, _st3 = nodes(c)
    who = People(seed=5).make()
    p1 = st1.walk_in(who)
    p2 = st2.walk_in(who)  # the other desk of the same site, both offline
    c.sync_all()
    assert hub_person(c, p2)["status"] == "merged"
    # Stations hold one registration per person, site and day: the loser's visit stays
    # on the merged person (hub.effects.merge_person), both stations agree.
    regs = {r["person_id"] for r in c.hub_rows("SELECT person_id FROM registration")}
    assert regs == {p1, p2}
    c.assert_converged()
    # The desk that registered the loser goes on with the visit: the dose lands on p1.
    dose = st2.vaccinate(p2)
    c.sync_all()
    assert c.hub_rows("SELECT person_id FROM dose WHERE id = :i", i=dose) == [{"person_id": p1}]
    for node in (st1, st2):
        assert [d["id"] for d in node.doses_of(p1)] == [dose]
    c.converge()


def test_unmerge_resolution_reactivates_at_every_station(three: Cluster) -> None:
    c = three
    st1, _st2, st3 = nodes(c)
    p1, d1, p3, d3 = _two_site_walk_in(c)
    c.sync_all()
    item = c.hub_reviews("merged_person")[0]
    sup = st3.require_staff().supervisor
    reviews.resolve_review(st3.st, sup, item["id"], "unmerge")
    c.sync_all()
    assert hub_person(c, p3)["status"] == "active"
    assert c.hub_rows("SELECT * FROM person_redirect") == []
    for node in (st1, st3):
        assert node.rows("SELECT * FROM person_redirect") == [], node.name
    assert st3.person(p3)["status"] == "active"  # type: ignore[index]
    assert [d["id"] for d in st3.doses_of(p3)] == [d3]
    assert [d["id"] for d in st1.doses_of(p1)] == [d1]
    c.converge()


def test_supervisor_merge_of_two_vaccinated_people_flags_duplicate_dose(three: Cluster) -> None:
    """No ID: a possible duplicate person; a supervisor merges; two first doses on one person."""
    c = three
    st1, _st2, st3 = nodes(c)
    pp = People()
    base: dict[str, Any] = {"id_type": "none", "id_number": None, "birth": "01/02/1990"}
    p1 = st1.walk_in(pp.make(full_name="Nguyễn Văn Ân", phone="0903000111", **base))
    d1 = st1.vaccinate(p1)
    p3 = st3.walk_in(pp.make(full_name="NGUYEN VAN AN", phone="0903000111", **base))
    d3 = st3.vaccinate(p3)
    c.sync_all()
    item = c.hub_reviews("possible_duplicate_person")[0]
    reviews.resolve_review(st1.st, st1.require_staff().supervisor, item["id"], "merge")
    c.sync_all()
    assert c.hub_rows("SELECT from_id, to_id FROM person_redirect") == [
        {"from_id": p3, "to_id": p1}
    ]
    assert {d["id"] for d in st3.doses_of(p1)} == {d1, d3}
    # DESIGN §6: two valid doses of one person, same series and number → review item.
    dup = c.hub_reviews("possible_duplicate_dose")
    assert len(dup) == 1 and set(dup[0]["candidates"]["dose_ids"]) == {d1, d3}
    c.converge()


def test_same_site_merge_then_visit_recorded_on_the_loser_converges(three: Cluster) -> None:
    """The loser's registration stays on the loser at the hub; a later change to it must land."""
    c = three
    st1, st2, _st3 = nodes(c)
    who = People(seed=6).make()
    p1 = st1.walk_in(who)
    st1.sync()
    p2 = st2.walk_in(who)
    st2.push_only()  # merged at the hub; st2 has not pulled yet
    dose = st2.vaccinate(p2)  # screening on the loser's registration, dose on the loser
    c.sync_all()
    assert c.hub_rows("SELECT person_id FROM dose WHERE id = :i", i=dose) == [{"person_id": p1}]
    c.converge()


def test_same_cccd_at_both_desks_of_a_site_after_another_site_converges(three: Cluster) -> None:
    """Known at site B; then walked in at both desks of site A, offline: two merges into one."""
    c = three
    st1, st2, st3 = nodes(c)
    who = People(seed=8).make()
    p3 = st3.walk_in(who)
    st3.sync()
    p1 = st1.walk_in(who)
    p2 = st2.walk_in(who)
    c.sync_all()
    assert {hub_person(c, p)["status"] for p in (p1, p2)} == {"merged"}
    assert hub_person(c, p3)["status"] == "active"
    c.converge()
