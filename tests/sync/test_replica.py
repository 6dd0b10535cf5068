"""Applying pulled pages: atomic with the cursor, idempotent, local edits kept, redirects, epochs."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from kernel.errors import PermissionDenied, ValidationError
from station import answers, held_changes, outbox, replica
from station.services import people, reviews
from tests.sync.builders import EPOCH, change, new_id, page, person_row, row, walk_in_with_dose


def _ack_all(st, clock, status: str = "applied", seq: int = 1) -> list[outbox.OutboxOp]:
    ops = outbox.next_batch(st, max_bytes=10**9, max_ops=1000)
    answers.record_acks(st, [answers.Ack(o.op_id, status, seq if status != "rejected" else None) for o in ops], now=clock())
    return ops


def test_new_person_lands_with_local_columns_and_cursor(st) -> None:
    pid = new_id()
    rep = replica.apply_page(st, page([change(5, "person", pid, person_row(pid))]), from_cursor=0)
    assert rep.applied == 1 and rep.next_cursor == 5
    p = row(st, "person", pid)
    assert p is not None
    assert p["name_fold"] == "tran van binh" and p["birth_year"] == 1980 and p["version"] == 5
    s = st.sync_state()
    assert s["pull_cursor"] == 5 and s["hub_epoch"] == EPOCH and s["last_pull_ok"]
    # Search sees it (FTS is fed by the person triggers).
    with st.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM person_fts WHERE person_fts MATCH 'binh'")).scalar() == 1


def test_idempotent_and_row_version_guard(st) -> None:
    pid = new_id()
    p1 = page([change(3, "person", pid, person_row(pid, phone="0909000001"))])
    replica.apply_page(st, p1, from_cursor=0)
    # The same page again (crash after commit, before the engine noticed): nothing changes.
    with pytest.raises(replica.StaleCursor):
        replica.apply_page(st, p1, from_cursor=0)
    rep = replica.apply_page(st, page([change(3, "person", pid, person_row(pid, phone="0909000001"))], next_cursor=3), from_cursor=3)
    assert rep.stale == 1 and rep.applied == 0
    # An older version never overwrites a newer one.
    replica.apply_page(st, page([change(9, "person", pid, person_row(pid, phone="0909000009"))]), from_cursor=3)
    replica.apply_page(st, page([change(10, "person", pid, person_row(pid, phone="0909000003"), version=4)]), from_cursor=9)
    assert row(st, "person", pid)["phone"] == "0909000009"
    assert st.sync_state()["pull_cursor"] == 10


def test_crash_mid_apply_changes_nothing(st) -> None:
    ids = [new_id() for _ in range(6)]
    pg = page([change(i + 1, "person", pid, person_row(pid, id_number=f"07508000{i:04d}")) for i, pid in enumerate(ids)])

    def boom(name: str) -> None:
        assert name == "mid_pull_apply"
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        replica.apply_page(st, pg, from_cursor=0, hook=boom)
    assert all(row(st, "person", pid) is None for pid in ids)
    s = st.sync_state()
    assert s["pull_cursor"] == 0 and s["hub_epoch"] is None
    replica.apply_page(st, pg, from_cursor=0)
    assert all(row(st, "person", pid) is not None for pid in ids)


def test_pending_edit_survives_pull_and_settles_after_ack(st, staff, clock) -> None:
    res = people.register_walk_in(st, staff.volunteer, __import__("tests.station.helpers", fromlist=["person"]).person())
    pid = res.person.id
    _ack_all(st, clock, seq=2)
    replica.apply_page(st, page([change(2, "person", pid, person_row(pid, full_name="Nguyễn Thị Đào", phone="0912345678"))]), from_cursor=0)
    people.update_person(st, staff.volunteer, pid, {"phone": "0987654321"})
    # Another station changed the address meanwhile; the hub row still has the old phone.
    hub_row = person_row(pid, full_name="Nguyễn Thị Đào", phone="0912345678", address_line="Ấp mới")
    rep = replica.apply_page(st, page([change(7, "person", pid, hub_row)]), from_cursor=2)
    assert rep.kept_local == 1
    p = row(st, "person", pid)
    assert p["phone"] == "0987654321" and p["address_line"] == "Ấp mới" and p["version"] == 7
    # The edit is applied by the hub at seq 8 (after the kept row): the kept row is dropped,
    # the phone stays as edited until the seq-8 change arrives.
    ops = outbox.next_batch(st, max_bytes=10**9, max_ops=100)
    answers.record_acks(st, [answers.Ack(ops[0].op_id, "applied", 8)], now=clock())
    assert row(st, "person", pid)["phone"] == "0987654321"
    assert held_changes.deferred_change(st, "person", pid) is None
    replica.apply_page(st, page([change(8, "person", pid, hub_row | {"phone": "0987654321"})]), from_cursor=7)
    assert row(st, "person", pid)["phone"] == "0987654321"


def test_refused_edit_is_undone(st, staff, clock) -> None:
    from tests.station.helpers import person

    pid = people.register_walk_in(st, staff.volunteer, person()).person.id
    _ack_all(st, clock, seq=1)
    people.update_person(st, staff.clerk, pid, {"phone": "0987654321", "full_name": "Nguyễn Thị Đàm"})
    ops = outbox.next_batch(st, max_bytes=10**9, max_ops=100)
    answers.record_acks(st, [answers.Ack(ops[0].op_id, "rejected", None, "person.field_conflict")], now=clock())
    p = row(st, "person", pid)
    assert p["phone"] == "0912345678" and p["full_name"] == "Nguyễn Thị Đào" and p["name_fold"] == "nguyen thi dao"


def test_refused_edit_with_kept_hub_row_takes_hub_row(st, staff, clock) -> None:
    from tests.station.helpers import person

    pid = people.register_walk_in(st, staff.volunteer, person()).person.id
    _ack_all(st, clock, seq=1)
    people.update_person(st, staff.volunteer, pid, {"phone": "0987654321"})
    hub_row = person_row(pid, full_name="Nguyễn Thị Đào", phone="0911111111")
    replica.apply_page(st, page([change(4, "person", pid, hub_row)]), from_cursor=0)
    assert row(st, "person", pid)["phone"] == "0987654321"
    ops = outbox.next_batch(st, max_bytes=10**9, max_ops=100)
    answers.record_acks(st, [answers.Ack(ops[0].op_id, "rejected", None, "x")], now=clock())
    assert row(st, "person", pid)["phone"] == "0911111111"


def test_pending_dose_keeps_registration_status(st, staff, lot_id, clock) -> None:
    pid, _dose_id = walk_in_with_dose(st, staff, lot_id)
    with st.read() as conn:
        reg = dict(conn.execute(text("SELECT * FROM registration WHERE person_id = :p"), {"p": pid}).mappings().one())
    assert reg["status"] == "vaccinated"
    hub_reg = {k: reg[k] for k in reg} | {"status": "checked_in"}
    replica.apply_page(st, page([change(3, "registration", reg["id"], hub_reg)]), from_cursor=0)
    assert row(st, "registration", reg["id"])["status"] == "vaccinated"


def test_redirect_repoints_and_marks_loser(st, staff, lot_id) -> None:
    loser, dose_id = walk_in_with_dose(st, staff, lot_id)
    survivor = new_id()
    rep = replica.apply_page(
        st,
        page([
            change(11, "person", survivor, person_row(survivor)),
            change(12, "person_redirect", loser, {"from_id": loser, "to_id": survivor, "created_at": "2026-12-01T10:00:00+07:00"}, kind="redirect"),
        ]),
        from_cursor=0,
    )
    assert rep.redirects == 1
    assert row(st, "person", loser)["status"] == "merged"
    assert row(st, "dose", dose_id)["person_id"] == survivor
    with st.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM registration WHERE person_id = :p"), {"p": survivor}).scalar() == 1
        assert conn.execute(text("SELECT to_id FROM person_redirect WHERE from_id = :p"), {"p": loser}).scalar() == survivor
    # The person view follows the redirect.
    assert people.get_person(st, loser).id == survivor


def test_redirect_before_survivor_then_survivor_arrives(st, staff, lot_id) -> None:
    loser, dose_id = walk_in_with_dose(st, staff, lot_id)
    survivor = new_id()
    replica.apply_page(st, page([change(2, "person_redirect", loser, {"from_id": loser, "to_id": survivor}, kind="redirect")]), from_cursor=0)
    assert row(st, "dose", dose_id)["person_id"] == loser  # no survivor row yet: FK holds
    replica.apply_page(st, page([change(3, "person", survivor, person_row(survivor))]), from_cursor=2)
    assert row(st, "dose", dose_id)["person_id"] == survivor


def test_orphan_is_parked_not_stalling_then_applied(st, staff, lot_id) -> None:
    pid = new_id()
    dose_id = new_id()
    dose = {
        "id": dose_id, "person_id": pid, "site_code": "DN-OTHER-02", "vaccine_code": "PFIZER",
        "lot_id": None, "lot_number": "X1", "dose_number": 1, "kind": "primary",
        "administered_at": "2026-11-20T09:00:00+07:00", "day": "2026-11-20",
        "recorded_at": "2026-11-20T09:00:00+07:00", "source": "site", "voided": 0,
    }
    rep = replica.apply_page(st, page([change(4, "dose", dose_id, dose)]), from_cursor=0)
    assert rep.parked == 1 and st.sync_state()["pull_cursor"] == 4
    assert replica.parked_count(st) == 1
    rep = replica.apply_page(st, page([change(6, "person", pid, person_row(pid))]), from_cursor=4)
    assert rep.unparked == 1 and replica.parked_count(st) == 0
    assert row(st, "dose", dose_id)["person_id"] == pid


def test_hub_epoch_change_forces_refetch_keeping_outbox(st, staff) -> None:
    pid = new_id()
    replica.apply_page(st, page([change(5, "person", pid, person_row(pid))]), from_cursor=0)
    waiting = outbox.counts(st).waiting
    with pytest.raises(replica.MustRefetch) as exc:
        replica.apply_page(st, page([], next_cursor=5, epoch="hub-epoch-2", head=3), from_cursor=5)
    assert st.sync_state()["pull_cursor"] == 5
    replica.reset_for_refetch(st, exc.value.hub_epoch)
    s = st.sync_state()
    assert s["pull_cursor"] == 0 and s["hub_epoch"] == "hub-epoch-2"
    assert row(st, "person", pid)["version"] == 0
    assert outbox.counts(st).waiting == waiting
    # The new hub numbers rows afresh: its low versions now apply.
    replica.apply_page(st, page([change(2, "person", pid, person_row(pid, phone="0909123123"))], epoch="hub-epoch-2"), from_cursor=0)
    assert row(st, "person", pid)["phone"] == "0909123123"


def test_cursor_past_head_forces_refetch(st) -> None:
    replica.apply_page(st, page([], next_cursor=50), from_cursor=0)
    with pytest.raises(replica.MustRefetch):
        replica.apply_page(st, page([], next_cursor=10, head=10), from_cursor=50)


def _review(rid: str, entity: str, status: str = "open") -> dict:
    return {
        "id": rid, "kind": "possible_duplicate_dose", "priority": "high", "status": status,
        "entity_type": "dose", "entity_id": entity, "site_codes": ["DN-TEST-01"],
        "candidates": {"doses": [entity]}, "created_at": "2026-12-01T09:30:00+07:00", "resolution": None,
    }


def test_reviews_mirrored_and_resolved_locally(st, staff, clock) -> None:
    rid = new_id()
    dose = new_id()
    replica.apply_page(st, page([change(1, "review", rid, _review(rid, dose))]), from_cursor=0)
    items = reviews.list_reviews(st)
    assert [r.id for r in items] == [rid] and items[0].candidates == {"doses": [dose]}
    with pytest.raises(PermissionDenied):
        reviews.resolve_review(st, staff.clerk, rid, "keep_both")
    with pytest.raises(ValidationError) as bad:
        reviews.resolve_review(st, staff.supervisor, rid, "merge")
    assert bad.value.codes() == {"review.bad_action"}
    dto = reviews.resolve_review(st, staff.supervisor, rid, "void_dose", dose_id=dose, reason="Nhập trùng")
    assert dto.status == "resolved" and dto.pending
    ops = outbox.next_batch(st, max_bytes=10**9, max_ops=1000)
    op = next(o for o in ops if o.op_type == "resolve_review")
    assert op.entity_type == "review" and op.payload == {"review_id": rid, "action": "void_dose", "dose_id": dose, "reason": "Nhập trùng"}
    assert reviews.list_reviews(st) == []
    # A pull still showing it open does not reopen it while the op waits.
    replica.apply_page(st, page([change(2, "review", rid, _review(rid, dose))]), from_cursor=1)
    assert reviews.list_reviews(st) == []
    # The hub's answer: resolved for good.
    answers.record_acks(st, [answers.Ack(op.op_id, "applied", 3)], now=clock())
    replica.apply_page(st, page([change(3, "review", rid, _review(rid, dose, "resolved") | {"resolution": {"action": "void_dose"}})]), from_cursor=2)
    got = reviews.list_reviews(st, status=None)
    assert got[0].status == "resolved" and got[0].resolution == {"action": "void_dose"} and not got[0].pending
