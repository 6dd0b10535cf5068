"""The bulk path of ``replica.apply_page``: runs of plain upserts written in one go.

What the per-change path did must still hold with mixed pages: bad changes park
while good ones land, local edits are kept, replays are no-ops, survivors pick
up redirected rows. A page applied in bulk and the same page applied change by
change leave the same database by construction: both entries call the one row
writer, ``station.replica_rows.write_rows`` (a change alone is a run of one).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from station import held_changes, replica
from station.services import people
from station.store import Station
from tests.station.conftest import SITE
from tests.station.helpers import person
from tests.sync.builders import change, new_id, page, person_row, row


def reg_row(rid: str, pid: str, **over: Any) -> dict[str, Any]:
    r: dict[str, Any] = {
        "id": rid, "person_id": pid, "site_code": SITE, "day": "2026-12-02", "source": "import",
        "status": "expected", "queue_label": None, "checked_in_at": None, "import_ref": None,
        "created_at": "2026-11-30T08:00:00+07:00", "updated_at": "2026-11-30T08:00:00+07:00",
    }
    r.update(over)
    return r


def dose_row(did: str, pid: str) -> dict[str, Any]:
    return {
        "id": did, "person_id": pid, "site_code": "DN-OTHER-02", "vaccine_code": "PFIZER",
        "lot_id": None, "lot_number": "X1", "dose_number": 1, "kind": "primary",
        "administered_at": "2026-11-20T09:00:00+07:00", "day": "2026-11-20",
        "recorded_at": "2026-11-20T09:00:00+07:00", "source": "site", "voided": 0,
    }


def people_page(start: int, n: int) -> tuple[list[Any], list[tuple[str, str]]]:
    """``n`` imported people: a person change then its registration, seqs from ``start``."""
    chs, ids = [], []
    seq = start
    for i in range(n):
        pid, rid = new_id(), new_id()
        chs.append(change(seq, "person", pid, person_row(pid, id_number=f"0750{start:04d}{i:04d}", full_name=f"Lê Văn {i}")))
        chs.append(change(seq + 1, "registration", rid, reg_row(rid, pid, import_ref=f"r{start}-{i}")))
        seq += 2
        ids.append((pid, rid))
    return chs, ids


def count_per_change(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every change that goes through the per-change path."""
    calls: list[str] = []
    real = replica._try_apply

    def spy(conn, ch, prot, now_iso, report):  # type: ignore[no-untyped-def]
        calls.append(ch.entity_id)
        return real(conn, ch, prot, now_iso, report)

    monkeypatch.setattr(replica, "_try_apply", spy)
    return calls


def snapshot(st: Station) -> dict[str, Any]:
    """Every synced table, the review mirror, parked/deferred entries and the cursor."""
    out: dict[str, Any] = {}
    with st.read() as conn:
        for table in (*replica.ENTITY_TABLE.values(), "conflict"):
            rows = conn.execute(text(f"SELECT * FROM {table} ORDER BY id")).mappings().all()
            out[table] = [{k: v for k, v in r.items() if k != "rid"} for r in rows]
        out["person_redirect"] = [tuple(r) for r in conn.execute(text("SELECT from_id, to_id FROM person_redirect ORDER BY from_id"))]
        out["parked"] = [tuple(r) for r in conn.execute(text("SELECT * FROM sync_parked ORDER BY server_seq"))]
        out["deferred"] = [
            tuple(r) for r in conn.execute(text("SELECT * FROM sync_deferred ORDER BY entity_type, entity_id"))
        ]
        out["fts"] = conn.execute(text("SELECT count(*) FROM person_fts WHERE person_fts MATCH 'le'")).scalar()
    s = st.sync_state()
    out["cursor"] = (s["pull_cursor"], s["hub_epoch"])
    return out


def test_plain_page_is_written_in_bulk_in_the_pull_context(st, monkeypatch) -> None:
    calls = count_per_change(monkeypatch)
    chs, ids = people_page(1, 40)
    rep = replica.apply_page(st, page(chs), from_cursor=0)
    # The guard triggers let the raw-connection writes through: none fell back.
    assert calls == []
    assert rep.applied == 80 and rep.parked == 0 and rep.next_cursor == 80
    pid, rid = ids[7]
    p = row(st, "person", pid)
    assert p is not None and p["name_fold"] == "le van 7" and p["birth_year"] == 1980 and p["version"] == 15
    r = row(st, "registration", rid)
    assert r is not None and r["person_id"] == pid and r["version"] == 16
    with st.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM person_fts WHERE person_fts MATCH 'le'")).scalar() == 40


def test_orphan_parks_while_the_rest_of_the_page_lands(st, monkeypatch) -> None:
    calls = count_per_change(monkeypatch)
    before, ids_before = people_page(1, 30)
    after, ids_after = people_page(200, 30)
    absent, orphan = new_id(), new_id()
    chs = [*before, change(100, "dose", orphan, dose_row(orphan, absent)), *after]
    rep = replica.apply_page(st, page(chs), from_cursor=0)
    assert rep.parked == 1 and rep.applied == 120
    assert st.sync_state()["pull_cursor"] == 259
    assert replica.parked_count(st) == 1 and row(st, "dose", orphan) is None
    assert all(row(st, "registration", rid) is not None for _, rid in ids_before + ids_after)
    # Only a few changes around the bad one took the per-change path (plus the retry
    # of parked changes at the end of the page).
    assert orphan in calls and len(calls) <= replica._PER_CHANGE_BELOW
    # Its person arrives later: the parked dose is applied then.
    rep = replica.apply_page(st, page([change(300, "person", absent, person_row(absent))]), from_cursor=259)
    assert rep.unparked == 1 and replica.parked_count(st) == 0
    assert row(st, "dose", orphan)["person_id"] == absent


def test_malformed_row_parks_as_malformed(st) -> None:
    chs, ids = people_page(1, 10)
    bad = new_id()
    chs.insert(5, change(50, "person", bad, person_row(bad, birth="not-a-date")))
    rep = replica.apply_page(st, page(chs, next_cursor=50), from_cursor=0)
    assert rep.parked == 1 and rep.applied == 20
    assert row(st, "person", bad) is None
    assert all(row(st, "person", pid) is not None for pid, _ in ids)
    assert held_changes.parked_error(st, 50) == "pull.malformed"


def test_pending_local_edit_kept_inside_a_bulk_page(st, staff, clock) -> None:
    from station import answers, outbox

    pid = people.register_walk_in(st, staff.volunteer, person()).person.id
    ops = outbox.next_batch(st, max_bytes=10**9, max_ops=1000)
    answers.record_acks(st, [answers.Ack(o.op_id, "applied", 1) for o in ops], now=clock())
    replica.apply_page(st, page([change(1, "person", pid, person_row(pid, phone="0912345678"))]), from_cursor=0)
    people.update_person(st, staff.volunteer, pid, {"phone": "0987654321"})
    chs, ids = people_page(10, 20)
    hub_row = person_row(pid, phone="0912345678", address_line="Ấp mới")
    chs.insert(11, change(30, "person", pid, hub_row))
    rep = replica.apply_page(st, page(chs, next_cursor=49), from_cursor=1)
    assert rep.kept_local == 1 and rep.applied == 41
    p = row(st, "person", pid)
    assert p["phone"] == "0987654321" and p["address_line"] == "Ấp mới" and p["version"] == 30
    assert held_changes.deferred_change(st, "person", pid) is not None
    assert all(row(st, "registration", rid) is not None for _, rid in ids)


def test_a_newer_hub_row_drops_a_row_kept_aside(st, monkeypatch) -> None:
    pid = new_id()
    replica.apply_page(st, page([change(1, "person", pid, person_row(pid))]), from_cursor=0)
    # A hub row kept aside earlier whose ops are all answered (nothing protects it now).
    old = held_changes.Change(1, "person", pid, "upsert", 1, person_row(pid))
    with st.sync_writer() as conn:
        held_changes.defer(conn, old, {"op-gone"})
    calls = count_per_change(monkeypatch)
    chs, _ = people_page(10, 5)
    rep = replica.apply_page(st, page([*chs, change(20, "person", pid, person_row(pid, phone="0900000020"))]), from_cursor=1)
    assert rep.applied == 11 and calls == [pid]
    assert held_changes.deferred_change(st, "person", pid) is None
    assert row(st, "person", pid)["phone"] == "0900000020"


def test_replaying_a_page_is_a_no_op(st, monkeypatch) -> None:
    chs, _ = people_page(1, 25)
    replica.apply_page(st, page(chs), from_cursor=0)
    snap = snapshot(st)
    calls = count_per_change(monkeypatch)
    rep = replica.apply_page(st, page(chs, next_cursor=50), from_cursor=50)
    assert rep.applied == 0 and rep.stale == 50 and calls == []
    assert snapshot(st) == snap


def test_the_same_row_twice_in_a_page(st) -> None:
    pid, other = new_id(), new_id()
    up = [
        change(1, "person", pid, person_row(pid, phone="0900000001")),
        change(2, "person", other, person_row(other, id_number="075080000002")),
        change(3, "person", pid, person_row(pid, phone="0900000003")),
    ]
    rep = replica.apply_page(st, page(up), from_cursor=0)
    assert rep.applied == 3 and row(st, "person", pid)["phone"] == "0900000003"
    down = [
        change(9, "person", pid, person_row(pid, phone="0900000009")),
        change(10, "person", pid, person_row(pid, phone="0900000005"), version=5),
    ]
    rep = replica.apply_page(st, page(down), from_cursor=3)
    assert rep.applied == 1 and rep.stale == 1 and row(st, "person", pid)["phone"] == "0900000009"


def test_survivor_in_a_bulk_page_picks_up_the_losers_rows(st, staff, lot_id) -> None:
    from tests.sync.builders import walk_in_with_dose

    loser, dose_id = walk_in_with_dose(st, staff, lot_id)
    survivor = new_id()
    redirect = change(1, "person_redirect", loser, {"from_id": loser, "to_id": survivor}, kind="redirect")
    replica.apply_page(st, page([redirect]), from_cursor=0)
    assert row(st, "dose", dose_id)["person_id"] == loser
    chs, ids = people_page(10, 12)
    chs.insert(9, change(40, "person", survivor, person_row(survivor)))
    rep = replica.apply_page(st, page(chs, next_cursor=40), from_cursor=1)
    assert rep.applied == 25 and rep.parked == 0
    assert row(st, "dose", dose_id)["person_id"] == survivor
    assert all(row(st, "registration", rid) is not None for _, rid in ids)


def _mixed_pages() -> tuple[list[Any], str, str]:
    """Pages mixing everything: inserts, updates, stale rows, repeats, orphans, bad rows,
    a redirect and its late survivor, a review, a child sent before its parent."""
    a, a_ids = people_page(1, 30)
    b, b_ids = people_page(100, 30)
    late_parent, orphan, bad, survivor, review = new_id(), new_id(), new_id(), new_id(), new_id()
    loser = a_ids[2][0]
    p1 = [
        *a[:20],
        change(70, "dose", orphan, dose_row(orphan, late_parent)),
        *a[20:40],
        change(71, "person", bad, person_row(bad, birth="??")),
        change(72, "person", a_ids[3][0], person_row(a_ids[3][0], phone="0900000072")),
        change(73, "person_redirect", loser, {"from_id": loser, "to_id": survivor}, kind="redirect"),
        *a[40:],
        change(74, "review", review, {
            "id": review, "kind": "possible_duplicate_dose", "priority": "high", "status": "open",
            "entity_type": "dose", "entity_id": orphan, "site_codes": [SITE],
            "candidates": {"doses": [orphan]}, "created_at": "2026-12-01T09:30:00+07:00", "resolution": None,
        }),
        *b[:10],
        change(80, "person", late_parent, person_row(late_parent, id_number="075080000080")),
    ]
    p2 = [
        *a[:6],  # replays: stale
        change(200, "person", a_ids[5][0], person_row(a_ids[5][0], full_name="Lê Thị Năm", birth="1990")),
        change(201, "registration", a_ids[5][1], reg_row(a_ids[5][1], a_ids[5][0], status="checked_in", queue_label="A-001")),
        *b[10:30],
        # Rows sent again within the page, the last ones partial: their columns overlay.
        change(203, "registration", b_ids[6][1], {"id": b_ids[6][1], "person_id": b_ids[6][0], "status": "checked_in", "queue_label": "B-007"}),
        change(204, "person", b_ids[7][0], {"id": b_ids[7][0], "phone": "0900000204", "full_name": "Lê Văn Bảy"}),
        change(205, "person", b_ids[7][0], person_row(b_ids[7][0], phone="0900000205"), version=199),  # stale by then
        change(202, "person", survivor, person_row(survivor, id_number="075080000202")),
        *b[30:],
    ]
    return [page(p1, next_cursor=80), page(p2, next_cursor=205)], loser, survivor


def _apply_all(st: Station, pages: list[Any]) -> list[replica.ApplyReport]:
    reports, cursor = [], 0
    for pg in pages:
        reports.append(replica.apply_page(st, pg, from_cursor=cursor))
        cursor = reports[-1].next_cursor
    return reports


def test_both_entry_points_of_the_one_writer(st, monkeypatch) -> None:
    """A smoke of the bulk entry (runs) and the per-change entry (a run of one plus the
    special cases) on mixed pages. They cannot disagree: both are ``write_rows``
    (station.replica_rows), so no second database is compared any more."""
    calls = count_per_change(monkeypatch)
    pages, loser, survivor = _mixed_pages()
    bulk = _apply_all(st, pages)
    # The per-change entry took the special changes (and the parts of failing runs) only.
    assert pages[0].changes[20].entity_id in calls and len(calls) < 40
    a = snapshot(st)
    assert [r[0] for r in a["parked"]] == [71] and a["parked"][0][-1] == "pull.malformed"
    assert a["deferred"] == []
    assert a["person_redirect"] == [(loser, survivor)]
    assert row(st, "person", loser)["status"] == "merged"
    assert row(st, "person", pages[0].changes[6].entity_id)["phone"] == "0900000072"
    assert [r.next_cursor for r in bulk] == [80, 205]
    assert [(r.redirects, r.reviews) for r in bulk] == [(1, 1), (0, 0)]
    assert row(st, "dose", pages[0].changes[20].entity_id) is not None
    partial = pages[1].changes[28].entity_id
    assert row(st, "registration", partial)["status"] == "checked_in" and row(st, "registration", partial)["day"] == "2026-12-02"
    p = row(st, "person", pages[1].changes[29].entity_id)
    assert p["phone"] == "0900000204" and p["name_fold"] == "le van bay" and p["birth"] == "1980-05-02"


@pytest.mark.slow  # 2,200 changes applied one by one: large data
def test_a_page_of_many_late_survivors(st) -> None:
    """Each survivor is applied change by change (a loop: deeper than the recursion limit)."""
    n = 1100
    losers = [new_id() for _ in range(n)]
    survivors = [new_id() for _ in range(n)]
    redirects = [
        change(i + 1, "person_redirect", lo, {"from_id": lo, "to_id": sv}, kind="redirect")
        for i, (lo, sv) in enumerate(zip(losers, survivors, strict=True))
    ]
    replica.apply_page(st, page(redirects), from_cursor=0)
    chs, ids = people_page(5000, 3)
    for i, sv in enumerate(survivors):
        chs.append(change(10_000 + i, "person", sv, person_row(sv, id_number=f"07509{i:07d}")))
    rep = replica.apply_page(st, page(chs), from_cursor=n)
    assert rep.applied == n + 6 and rep.parked == 0
    assert all(row(st, "registration", rid) is not None for _, rid in ids)
    with st.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM person")).scalar() == n + 3
