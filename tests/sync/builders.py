"""Builders for sync tests: hub-shaped rows, pages, a walk-in with a dose, a live hub."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import text

from hub import service
from hub.app import HubSettings
from hub.db import Database
from hub.ingest import utc_now
from hub.server import RunningHub, run_hub
from kernel.ids import uuid7
from station.dto import DoseInput
from station.services import clinical, people
from sync.protocol import Change, PullResponse
from tests.pg import migrated_sqlite_url
from tests.station.helpers import ELIGIBLE_4355, person

EPOCH = "hub-epoch-1"


def person_row(pid: str, **over: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": pid,
        "full_name": "Trần Văn Bình",
        "birth": "1980-05-02",
        "sex": "M",
        "id_type": "cccd",
        "id_number": "075080009999",
        "old_id_number": None,
        "phone": "0909000111",
        "province_code": "75",
        "ward_code": None,
        "address_line": "Ấp 3",
        "priority_group": 9,
        "occupation": None,
        "bhyt": None,
        "status": "active",
        "consent_at": None,
        "origin_site": "DN-OTHER-02",
        "created_at": "2026-11-30T08:00:00+07:00",
        "updated_at": "2026-11-30T08:00:00+07:00",
    }
    row.update(over)
    return row


def change(seq: int, etype: str, eid: str, data: dict[str, Any], *, version: int | None = None,
           kind: str = "upsert") -> Change:
    return Change(server_seq=seq, entity_type=etype, entity_id=eid, kind=kind,  # type: ignore[arg-type]
                  row_version=seq if version is None else version, data=data)


def page(changes: list[Change], *, next_cursor: int | None = None, has_more: bool = False,
         epoch: str = EPOCH, head: int | None = None) -> PullResponse:
    nc = next_cursor if next_cursor is not None else max((c.server_seq for c in changes), default=0)
    return PullResponse(changes=changes, next_cursor=nc, has_more=has_more, hub_epoch=epoch,
                        head_seq=head if head is not None else nc)


def walk_in_with_dose(st, staff, lot_id: str, **person_over: Any) -> tuple[str, str]:
    """A walk-in, screened and vaccinated today: (person_id, dose_id)."""
    res = people.register_walk_in(st, staff.volunteer, person(**person_over))
    pid = res.person.id
    clinical.record_screening(st, staff.screener, pid, answers=ELIGIBLE_4355, outcome="eligible")
    d = clinical.record_dose(st, staff.clerk, DoseInput(pid, lot_id))
    return pid, d.id


def row(st, table: str, rid: str) -> dict[str, Any] | None:
    with st.read() as conn:
        r = conn.execute(text(f"SELECT * FROM {table} WHERE id = :i"), {"i": rid}).mappings().first()
    return dict(r) if r else None


def state(st) -> dict[str, Any]:
    return st.sync_state()


def new_id() -> str:
    return uuid7()


class HubFixture:
    """A SQLite hub served over HTTP on 127.0.0.1, with its database."""

    def __init__(self, running: RunningHub, db: Database) -> None:
        self.running = running
        self.db = db

    def scalar(self, sql: str, **params: object) -> object:
        with self.db.read() as s:
            return s.execute(text(sql), params).scalar()


@contextmanager
def site_hub(tmp_path: Path, site: str) -> Iterator[HubFixture]:
    """A hub on a SQLite file under ``tmp_path`` that knows ``site``."""
    url = migrated_sqlite_url(tmp_path / "hub.db")  # at head: no migration per test
    with run_hub(HubSettings(database_url=url)) as running:
        db = Database(url)
        service.add_site(db, site, "Điểm tiêm thử", "75", now=utc_now())
        try:
            yield HubFixture(running, db)
        finally:
            db.dispose()
