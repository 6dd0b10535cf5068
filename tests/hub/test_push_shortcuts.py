"""The push's per-op shortcuts of issue 15, phase 9 (branch ``hubcpu9``), held to what they replace.

* Rows built by ``hub.apply.rows`` keep their table's column order, so a change row's data
  is the row copied whole with its hub-only keys dropped (``change_data``): the same keys in
  the same order with the same values as key by key, for any row.
* ``hub.apply.orm.answer`` builds what ``OpResult.model_construct`` builds.
* A run of planned ops sets the replica row's ``next_op_seq`` once, not once per op, with
  the same answers and the same stored order (real hub over HTTP, SQLite and PostgreSQL).
* A run remembers whether a user may act only where the op's time cannot change it: a
  deactivated user's ops are still answered each by its own time.
"""

from __future__ import annotations

import types
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event

from hub.apply.orm import answer
from hub.apply.rows import (
    DOSE,
    PERSON,
    REGISTRATION,
    SCREENING,
    change_data,
    dose_row,
    person_row,
    registration_row,
    screening_row,
)
from hub.effects import station_columns
from hub.models import Replica
from kernel.ops import DoseP, PersonP, RegP, ScreeningP
from sync.protocol import OpResult
from tests.hub.conftest import Hub
from tests.hub.ops import Desk, new_cccd
from tests.hub.test_hardening import clerk_row

SITE = "SC-A"
AT = "2026-12-04T09:00:00+07:00"


def _rows() -> dict[str, list[dict[str, object]]]:
    person = PersonP.model_validate(
        {"full_name": "Nguyễn Thị Đào", "birth": "1990-05-01", "sex": "F", "id_type": "cccd",
         "id_number": "001190000001", "phone": "0912345678", "consent": True}
    )
    bare = PersonP.model_validate({"full_name": "Lê Văn An", "birth": "1951"})
    reg = RegP.model_validate({"id": "r1", "day": "2026-12-04", "source": "walk_in", "status": "checked_in"})
    dose = DoseP.model_validate(
        {"id": "d1", "person_id": "p1", "site_code": SITE, "vaccine_code": "AZ", "lot_id": "l1",
         "lot_number": "FK1", "dose_number": 2, "kind": "primary", "administered_at": AT,
         "day": "2026-12-04", "recorded_at": AT, "source": "site", "volume_ml": 0.25,
         "override_by": "u2", "override_reason": "đã hỏi ý kiến"}
    )
    screening = ScreeningP.model_validate(
        {"id": "s1", "person_id": "p1", "registration_id": "r1", "site_code": SITE, "day": "2026-12-04",
         "form_id": "4355-2021-09", "answers": "{}", "vitals": "{}", "suggested_outcome": "eligible",
         "outcome": "eligible", "screener_id": "u1", "screened_at": AT}
    )
    return {
        "person": [
            dict(person_row("p1", person, SITE, AT, version=1)),
            dict(person_row("p2", bare, SITE, AT, version=0)),
        ],
        "registration": [
            dict(registration_row(reg, "p1", SITE, AT, version=1)),
            dict(registration_row(reg, "p1", SITE, AT, version=0, merged_from="p0")),
        ],
        "dose": [
            dict(dose_row(dose, "p1", "st-1", version=1)),
            dict(dose_row(dose, "p1", "st-1", version=0, merged_from="p0")),
        ],
        "screening": [dict(screening_row(screening, "p1", version=1))],
    }


_TABLES = {"person": PERSON, "registration": REGISTRATION, "dose": DOSE, "screening": SCREENING}


def test_rows_keep_their_tables_column_order() -> None:
    # The copy in change_data is taken for rows in this order (person_row had id_key
    # after id_number, dose_row the issue 12 columns before observed_at: both failed).
    for entity_type, rows in _rows().items():
        for row in rows:
            assert list(row) == [c.key for c in _TABLES[entity_type].columns], entity_type


def _reference(entity_type: str, row: Any) -> list[tuple[str, object]]:
    """change_data as first written: the station columns, key by key, in table order."""
    return list({c: row.get(c) for c in station_columns(entity_type, _TABLES[entity_type])}.items())


class _Row(dict[str, object]):
    pass


def test_change_data_is_the_station_columns_of_any_row() -> None:
    for entity_type, rows in _rows().items():
        for row in rows:
            data = change_data(entity_type, row)
            assert list(data.items()) == _reference(entity_type, row)
            assert data is not row
            before = list(data.items())
            for key in row:  # a copy: the row changed afterwards (a registration moved) leaves it
                row[key] = "changed"
            assert list(data.items()) == before
        row = rows[0]
        others: list[Any] = [
            dict(reversed(list(row.items()))),  # another key order
            {k: v for k, v in row.items() if k != "id"},  # a key missing
            row | {"extra": 1},  # a key more
            types.MappingProxyType(row),  # not a dict
            _Row(row),  # a dict subclass
        ]
        for other in others:
            assert list(change_data(entity_type, other).items()) == _reference(entity_type, other)


def _shapes() -> Iterator[dict[str, Any]]:
    for status in ("applied", "duplicate", "rejected", "conflict_queued"):
        for seq in (None, 0, 7, 2**62):
            for reason in (None, "dose.person_unknown"):
                for detail in ({}, {"entity_changed": True}, {"entity_changed": True, "no_echo": True},
                               {"fields": ["a.b"], "original_status": "applied"}):
                    yield {"op_id": "01a2410c-538b-73a7-b1d4-afe5e082b7cd", "status": status,
                           "server_seq": seq, "reason": reason, "detail": detail}


def test_answer_is_what_model_construct_builds() -> None:
    for fields in _shapes():
        got = answer(fields["op_id"], fields["status"], fields["server_seq"], fields["reason"], fields["detail"])
        want = OpResult.model_construct(set(OpResult.model_fields), **fields)
        assert type(got) is OpResult
        assert got == want
        assert got.__dict__ == want.__dict__ and list(got.__dict__) == list(want.__dict__)
        assert got.model_fields_set == want.model_fields_set
        assert got.__pydantic_extra__ == want.__pydantic_extra__
        assert got.__pydantic_private__ == want.__pydantic_private__
        assert got.model_dump_json() == want.model_dump_json()
        assert got.model_dump() == want.model_dump()
        assert hash(got.model_copy(update={"status": "duplicate"}).status) == hash("duplicate")
        assert got.model_fields_set is not answer(fields["op_id"], "applied", None, None, {}).model_fields_set
        with pytest.raises(Exception, match="frozen"):
            got.status = "rejected"  # type: ignore[misc]


@pytest.fixture
def replica_sets() -> Iterator[list[int]]:
    """Every value set on a replica row object's next_op_seq (the hub runs in this process)."""
    seen: list[int] = []

    def on_set(_target: Replica, value: int, _old: object, _initiator: object) -> None:
        seen.append(value)

    event.listen(Replica.next_op_seq, "set", on_set)
    try:
        yield seen
    finally:
        event.remove(Replica.next_op_seq, "set", on_set)


def _pushed(sets: list[int], stored: int) -> list[int]:
    """The values a push set, without the stored one its row object was built with."""
    return sets[1:] if sets[:1] == [stored] else sets


def test_a_run_sets_the_replica_row_once(hub: Hub, replica_sets: list[int]) -> None:
    a = Desk.enroll(hub, SITE)
    first = [a.walk_in(new_cccd()) for _ in range(5)]
    user = a.user("clerk")  # the ORM's: it ends the run before it
    second = [a.walk_in(new_cccd()) for _ in range(3)]
    replica_sets.clear()
    ops = [*first, user, *second]
    assert {r["status"] for r in a.push(ops)} == {"applied"}
    last = ops[-1]["op_seq"]
    # Once for each run (before the ORM's op, at the push's end) and once for the ORM's op;
    # op by op before: one set per op. (PostgreSQL builds the row object it read and
    # locked with its stored value: that one first.)
    assert _pushed(replica_sets, first[0]["op_seq"]) == [first[-1]["op_seq"] + 1, user["op_seq"] + 1, last + 1]
    assert hub.scalar("SELECT next_op_seq FROM replica WHERE station_id = :s", s=a.station_id) == last + 1

    # A gap: what comes before it is applied, and the hub asks for the missing op_seq.
    replica_sets.clear()
    more = [a.walk_in(new_cccd()) for _ in range(4)]
    del more[2]
    r = a.post(more)
    assert r.status_code == 200, r.text
    got = r.json()
    assert [x["status"] for x in got["results"]] == ["applied", "applied"]
    assert got["expected_next_op_seq"] == more[1]["op_seq"] + 1
    assert _pushed(replica_sets, more[0]["op_seq"]) == [more[1]["op_seq"] + 1]
    assert hub.scalar("SELECT next_op_seq FROM replica WHERE station_id = :s", s=a.station_id) == more[1]["op_seq"] + 1

    # The same ops again: duplicates, the replica's order unchanged.
    again = a.post(ops)
    assert again.status_code == 200 and {x["status"] for x in again.json()["results"]} == {"duplicate"}
    assert hub.scalar("SELECT next_op_seq FROM replica WHERE station_id = :s", s=a.station_id) == more[1]["op_seq"] + 1


def test_a_deactivated_users_ops_are_each_answered_by_their_time(hub: Hub) -> None:
    a = Desk.enroll(hub, SITE)
    clerk = a.users["clerk"]
    row = clerk_row(hub, a, SITE, active=0, updated_at="2026-12-01T10:00:00+07:00")
    assert [r["status"] for r in a.push([a.op("upsert_user", "app_user", clerk, row)])] == ["applied"]
    times = ["2026-12-01T10:01:00+07:00", "2026-12-01T09:59:00+07:00", "2026-12-01T10:02:00+07:00",
             "2026-12-01T09:58:00+07:00"]
    ops = [a.walk_in(new_cccd()) | {"recorded_at": t} for t in times]
    got = a.push(ops)
    assert [(r["status"], r["reason"]) for r in got] == [
        ("rejected", "auth.user_inactive"), ("applied", None), ("rejected", "auth.user_inactive"), ("applied", None)
    ]
    # An active user's ops in one run: every one applied (the answer remembered for the run).
    b = Desk.enroll(hub, SITE)
    assert {r["status"] for r in b.push([b.walk_in(new_cccd()) for _ in range(6)])} == {"applied"}
