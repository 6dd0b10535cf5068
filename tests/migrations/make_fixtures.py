"""(Re)generate the committed fixture databases in ``tests/migrations/fixtures/``.

One data directory per schema revision (``rev0001``, ``rev0002``, ...): a
``station.json``, a ``station.db`` built by running the Alembic migrations only
up to that revision, and ``KEY.txt`` holding the database key. The rows are
inserted with raw SQL that names every column of the revision's schema (the
script stops if a table has a column it does not fill), so the file is what a
station of that release would have written: people with Vietnamese names,
registrations, a lot, screenings, doses (one voided), users with argon2
hashes, the sync state, a hash-chained audit log and outbox ops in the states
``acked``, ``pending`` and ``rejected``.

Everything here is FAKE test data: fake people, and a fake key that is
published on purpose. Never reuse the key for anything real.

Usage (from the repository root, with the venv active)::

    python tests/migrations/make_fixtures.py            # only missing revisions
    python tests/migrations/make_fixtures.py 0002       # rebuild one revision
    python tests/migrations/make_fixtures.py --all      # rebuild every revision

A fixture of a *released* revision is a record of what that release wrote:
do not rebuild it after the release unless its migration itself is unchanged.
When a new migration adds a column, add an entry to ``ADDED_COLUMNS`` (the
value old rows would get if that release had written them), then run the
script to make the new revision's fixture.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.low_level import Type, hash_secret
from sqlalchemy import Connection, text

from kernel.clock import HLC, VN_TZ, iso
from kernel.rules.vietnam import fold
from station.db import guard, make_engine, open_raw
from station.store import GENESIS_HASH, _canonical, _migrate, audit_hash, current_revision

FIXTURES_DIR = Path(__file__).resolve().parent / "fixtures"

# FAKE key, published on purpose: it only opens these fixture files.
KEY_HEX = "b5cac525feec9d9cfd4af04c3a3997b7166d90f58894d3ce55f80534d7acb296"
INSTALL_ID = "019ac1e5-5d80-7a3c-8e21-4f6b9d0c7e15"
SITE_CODE = "DN-FIX-01"
STATION_LETTER = "A"
PASSWORD = "tiem-chung-2026"  # every fixture user's password
LOGIN_USER = "dd.hoa"  # a supervisor: may register, screen, vaccinate, void
BUILD = "2026-11-26"
MAX_BYTES = 300_000

Row = dict[str, Any]

# Columns added by later revisions: revision -> table -> column -> value for a
# fixture row (given the row as built so far). A revision that adds a column
# must be listed here, or building its fixture stops with a clear message.
ADDED_COLUMNS: dict[str, dict[str, dict[str, Callable[[Row], Any]]]] = {
    # 0002: registration notice acknowledged. People registered through the
    # walk-in desk gave consent at registration; imported lists did not.
    "0002": {
        "person": {
            "consent_at": lambda r: r["created_at"] if r["id"] != ID["p5"] else None,
        }
    },
    # 0004: the volume injected (site doses: the catalog's dose; a dose copied from a
    # paper certificate has none) and a supervisor's override (none in the fixture).
    "0004": {
        "dose": {
            "volume_ml": lambda r: None
            if r["source"] != "site"
            else {"AZ": 0.5, "PFIZER": 0.3}[r["vaccine_code"]],
            "override_by": lambda r: None,
            "override_reason": lambda r: None,
        }
    },
    # 0005: the station that entered each dose. Every fixture dose was entered
    # at this station (none was pulled from a sibling).
    "0005": {
        "dose": {
            "origin_station": lambda r: INSTALL_ID,
        }
    },
    # 0007: the site hub route (issue 14). The fixture station never had a site hub.
    "0007": {
        "sync_state": {
            "site_hub_url": lambda r: None,
            "relay_cursor": lambda r: 0,
            "relay_hub_epoch": lambda r: None,
            "last_relay_ok": lambda r: None,
        }
    },
}

# Insert order respects the foreign keys.
TABLES = (
    "meta",
    "sync_state",
    "app_user",
    "vaccine_lot",
    "person",
    "registration",
    "screening",
    "dose",
    "adverse_event",
    "person_redirect",
    "conflict",
    "sync_outbox",
    "audit_log",
)


def at(day: int, hh: int, mm: int, ss: int = 0) -> datetime:
    """Site-local time on 2026-11-<day>."""
    return datetime(2026, 11, day, hh, mm, ss, tzinfo=VN_TZ)


def fixed_uuid7(when: datetime, label: str) -> str:
    """A UUIDv7-shaped id: time from ``when``, the rest from a hash of ``label``."""
    ms = int(when.timestamp() * 1000)
    rnd = int.from_bytes(hashlib.sha256(label.encode()).digest()[:10], "big")
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= ((rnd >> 68) & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rnd & ((1 << 62) - 1)
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def password_hash(username: str) -> str:
    """argon2id with PasswordHasher's parameters but a fixed salt (reproducible files)."""
    ph = PasswordHasher()
    salt = hashlib.sha256(b"fixture-salt:" + username.encode()).digest()[: ph.salt_len]
    return hash_secret(
        PASSWORD.encode(),
        salt,
        time_cost=ph.time_cost,
        memory_cost=ph.memory_cost,
        parallelism=ph.parallelism,
        hash_len=ph.hash_len,
        type=Type.ID,
    ).decode()


DAY1, DAY2 = 26, 28  # day 1's work reached the hub; day 2's did not (yet)
ID: dict[str, str] = {
    name: fixed_uuid7(when, name)
    for name, when in {
        "u_admin": at(DAY1, 7, 30),
        "u_lan": at(DAY1, 7, 31),
        "u_hoa": at(DAY1, 7, 32),
        "u_tuan": at(DAY1, 7, 33),
        "lot": at(DAY1, 7, 40),
        "p1": at(DAY1, 8, 5),
        "r1": at(DAY1, 8, 5),
        "p2": at(DAY1, 8, 12),
        "r2": at(DAY1, 8, 12),
        "s1": at(DAY1, 8, 30),
        "s2": at(DAY1, 8, 41),
        "d1": at(DAY1, 8, 45),
        "d_past": at(DAY1, 8, 50),
        "ae1": at(DAY1, 9, 5),
        "p3": at(DAY2, 8, 2),
        "r3": at(DAY2, 8, 2),
        "p4": at(DAY2, 8, 9),
        "r4": at(DAY2, 8, 9),
        "p5": at(DAY2, 7, 50),
        "r5": at(DAY2, 7, 50),
        "s3": at(DAY2, 8, 20),
        "d2": at(DAY2, 8, 31),
        "d3": at(DAY2, 8, 40),
        "replica_epoch": at(DAY1, 7, 0),
        "hub_epoch": at(DAY1, 6, 0),
    }.items()
}


class Builder:
    """Collects rows the way services would have written them: ops, audit chain, domain rows."""

    def __init__(self) -> None:
        self.rows: dict[str, list[Row]] = {t: [] for t in TABLES}
        self.hlc = HLC()
        self.prev_hash = GENESIS_HASH
        self.server_seq = 4100  # hub-assigned sequence numbers for acked ops
        self.last_acked_hlc: str | None = None

    def add(self, table: str, row: Row) -> Row:
        self.rows[table].append(row)
        return row

    def audit(
        self,
        when: datetime,
        user_id: str | None,
        action: str,
        entity_type: str | None,
        entity_id: str | None,
        op_id: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        now = iso(when)
        det = _canonical(detail or {})
        h = audit_hash(self.prev_hash, [now, user_id, action, entity_type, entity_id, op_id, det])
        self.add(
            "audit_log",
            {
                "seq": len(self.rows["audit_log"]) + 1,
                "at": now,
                "user_id": user_id,
                "action": action,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "op_id": op_id,
                "detail": det,
                "prev_hash": self.prev_hash,
                "hash": h,
            },
        )
        self.prev_hash = h

    def op(
        self,
        when: datetime,
        user_id: str | None,
        op_type: str,
        entity_type: str,
        entity_id: str,
        payload: dict[str, Any],
        *,
        state: str,
        base_version: int | None = None,
        attempts: int = 0,
        last_error: str | None = None,
        ack_after: timedelta = timedelta(minutes=2),
    ) -> str:
        seq = len(self.rows["sync_outbox"]) + 1
        op_id = fixed_uuid7(when, f"op{seq}")
        hlc = self.hlc.tick(when)
        acked = state == "acked"
        if acked:
            self.server_seq += 1
            self.last_acked_hlc = hlc
        self.add(
            "sync_outbox",
            {
                "op_seq": seq,
                "op_id": op_id,
                "tx_id": fixed_uuid7(when, f"tx{seq}"),
                "op_type": op_type,
                "op_version": 1,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "base_version": base_version,
                "payload": _canonical(payload),
                "hlc": hlc,
                "recorded_at": iso(when),
                "user_id": user_id,
                "state": state,
                "attempts": max(attempts, 1) if acked or state == "rejected" else attempts,
                "last_error": last_error,
                "ack_server_seq": self.server_seq if acked else None,
                "ack_at": iso(when + ack_after) if acked else None,
            },
        )
        self.audit(when, user_id, op_type, entity_type, entity_id, op_id)
        return op_id


def person_row(key: str, when: datetime, **fields: Any) -> Row:
    birth = fields["birth"]
    row: Row = {
        "rid": int(key[1:]),
        "id": ID[key],
        "full_name": fields["full_name"],
        "name_fold": fold(fields["full_name"]),
        "birth": birth,
        "birth_year": int(birth[:4]),
        "sex": None,
        "id_type": "none",
        "id_number": None,
        "old_id_number": None,
        "phone": None,
        "province_code": None,
        "ward_code": None,
        "address_line": None,
        "priority_group": None,
        "occupation": None,
        "bhyt": None,
        "status": "active",
        "origin_site": SITE_CODE,
        "version": 0,
        "created_at": iso(when),
        "updated_at": iso(when),
    }
    row.update(fields)
    return row


def public(row: Row) -> Row:
    return {
        k: v
        for k, v in row.items()
        if k not in ("rid", "name_fold", "birth_year", "status", "origin_site", "version")
        and not k.endswith("_at")
        and k != "id"
    }


def registration_row(key: str, person: str, when: datetime, **fields: Any) -> Row:
    row: Row = {
        "id": ID[key],
        "person_id": ID[person],
        "site_code": SITE_CODE,
        "day": when.date().isoformat(),
        "source": "walk_in",
        "status": "checked_in",
        "queue_label": None,
        "checked_in_at": iso(when),
        "import_ref": None,
        "version": 0,
        "created_at": iso(when),
        "updated_at": iso(when),
    }
    row.update(fields)
    return row


def screening_row(key: str, person: str, reg: str, when: datetime, outcome: str, **kw: Any) -> Row:
    answers = {k: False for k in ("1", "2a", "2b", "3", "4", "5", "6", "7", "8", "9")}
    answers.update(kw.pop("yes", {}))
    row: Row = {
        "id": ID[key],
        "person_id": ID[person],
        "registration_id": ID[reg],
        "site_code": SITE_CODE,
        "day": when.date().isoformat(),
        "form_id": "4355-2021-09",
        "answers": json.dumps(
            {"answers": answers, "details": kw.pop("details", {})},
            ensure_ascii=False,
            sort_keys=True,
        ),
        "vitals": json.dumps(kw.pop("vitals"), sort_keys=True),
        "suggested_outcome": outcome,
        "outcome": outcome,
        "override_reason": None,
        "screener_id": ID["u_lan"],
        "screened_at": iso(when),
        "version": 0,
    }
    row.update(kw)
    return row


def dose_row(key: str, person: str, when: datetime, recorded: datetime, **fields: Any) -> Row:
    row: Row = {
        "id": ID[key],
        "person_id": ID[person],
        "site_code": SITE_CODE,
        "vaccine_code": "AZ",
        "lot_id": ID["lot"],
        "lot_number": "NJ0359",
        "dose_number": 1,
        "kind": "primary",
        "administered_at": iso(when),
        "day": when.date().isoformat(),
        "recorded_at": iso(recorded),
        "vaccinator_id": ID["u_tuan"],
        "screening_id": None,
        "injection_site": "left_arm",
        "source": "site",
        "observe_until": iso(when + timedelta(minutes=30)),
        "observed_at": None,
        "voided": 0,
        "void_reason": None,
        "voided_by": None,
        "voided_at": None,
        "version": 0,
    }
    row.update(fields)
    return row


def build_rows() -> dict[str, list[Row]]:
    """The fixture's content in first-revision columns (later columns come from ADDED_COLUMNS)."""
    b = Builder()
    t0 = at(DAY1, 7, 0)
    b.add("meta", {"key": "created_at", "value": iso(t0)})
    b.add("meta", {"key": "build", "value": BUILD})

    # ---- day 1: set-up, first people; everything reached the hub -----------------------
    users = [
        ("u_admin", "quantri", "Quản Trị Viên Trạm", "admin"),
        ("u_lan", "bs.lan", "BS. Trần Thị Lan", "screener"),
        ("u_hoa", LOGIN_USER, "ĐD. Lê Thị Hoà", "supervisor"),
        ("u_tuan", "yt.tuan", "YS. Võ Minh Tuấn", "clerk"),
    ]
    for n, (key, username, display, role) in enumerate(users):
        when = at(DAY1, 7, 30 + n)
        row = {
            "id": ID[key],
            "site_code": SITE_CODE,
            "username": username,
            "display_name": display,
            "role": role,
            "password_hash": password_hash(username),
            "active": 1,
            "version": 0,
            "created_at": iso(when),
            "updated_at": iso(when),
        }
        b.op(
            when,
            None,
            "upsert_user",
            "app_user",
            ID[key],
            {k: v for k, v in row.items() if k != "version"},
            state="acked",
        )
        b.add("app_user", row)
    b.audit(at(DAY1, 7, 38), ID["u_hoa"], "login", "app_user", ID["u_hoa"])

    when = at(DAY1, 7, 40)
    lot = {
        "id": ID["lot"],
        "site_code": SITE_CODE,
        "vaccine_code": "AZ",
        "lot_number": "NJ0359",
        "expiry": "2027-06-30",
        "doses_received": 200,
        "received_on": "2026-11-25",
        "active": 1,
        "updated_at": iso(when),
    }
    b.op(when, ID["u_hoa"], "upsert_lot", "vaccine_lot", ID["lot"], lot, state="acked")
    b.add("vaccine_lot", lot | {"version": 0})

    def walk_in(pkey: str, rkey: str, when: datetime, label: str, state: str, **p: Any) -> None:
        prow = person_row(pkey, when, **p)
        rrow = registration_row(rkey, pkey, when, queue_label=label)
        payload = {
            "person": public(prow),
            "registration": {k: rrow[k] for k in ("id", "day", "source", "status", "queue_label")},
        }
        b.op(when, ID["u_hoa"], "register_person", "person", ID[pkey], payload, state=state)
        b.add("person", prow)
        b.add("registration", rrow)

    walk_in(
        "p1",
        "r1",
        at(DAY1, 8, 5),
        "A1",
        "acked",
        full_name="Nguyễn Thị Đào",
        birth="1985-03-07",
        sex="F",
        id_type="cccd",
        id_number="075185001234",
        phone="0912345678",
        province_code="75",
        ward_code="26383",
        address_line="Số 12, đường Phạm Văn Thuận",
        priority_group=9,
        occupation="Giáo viên",
    )
    walk_in(
        "p2",
        "r2",
        at(DAY1, 8, 12),
        "A2",
        "acked",
        full_name="Trần Văn Đức",
        birth="1962-11-02",
        sex="M",
        id_type="cccd",
        id_number="075062004321",
        phone="0983456712",
        province_code="75",
        address_line="Ấp Hưng Long, xã An Phước",
        priority_group=13,
        bhyt="DN4750123456789",
    )

    s1 = screening_row(
        "s1",
        "p1",
        "r1",
        at(DAY1, 8, 30),
        "eligible",
        vitals={"bp_diastolic": 78.0, "bp_systolic": 118.0, "pulse": 76.0, "temperature": 36.6},
    )
    s1_at = at(DAY1, 8, 30)
    b.op(
        s1_at,
        ID["u_lan"],
        "record_screening",
        "screening",
        ID["s1"],
        {k: v for k, v in s1.items() if k != "version"} | {"registration_status": "cleared"},
        state="acked",
    )
    b.add("screening", s1)
    s2 = screening_row(
        "s2",
        "p2",
        "r2",
        at(DAY1, 8, 41),
        "defer",
        vitals={"bp_diastolic": 96.0, "bp_systolic": 165.0, "pulse": 88.0, "temperature": 38.4},
        yes={"6": True},
        details={"6": "Sốt 38,4°C, ho từ hôm qua"},
    )
    b.op(
        at(DAY1, 8, 41),
        ID["u_lan"],
        "record_screening",
        "screening",
        ID["s2"],
        {k: v for k, v in s2.items() if k != "version"} | {"registration_status": "deferred"},
        state="acked",
    )
    b.add("screening", s2)
    for r in b.rows["registration"]:
        if r["id"] == ID["r1"]:
            r["status"] = "cleared"
            r["updated_at"] = iso(s1_at)
        if r["id"] == ID["r2"]:
            r["status"] = "deferred"
            r["updated_at"] = iso(at(DAY1, 8, 41))

    d1_at = at(DAY1, 8, 45)
    d1 = dose_row("d1", "p1", d1_at, d1_at, screening_id=ID["s1"])
    b.op(
        d1_at,
        ID["u_tuan"],
        "record_dose",
        "dose",
        ID["d1"],
        {
            k: d1[k]
            for k in d1
            if k
            not in ("version", "voided", "void_reason", "voided_by", "voided_at", "observed_at")
        }
        | {"confirmed": []},
        state="acked",
    )
    b.add("dose", d1)
    past_at = at(DAY1, 8, 50)
    dpast = dose_row(
        "d_past",
        "p2",
        datetime(2021, 8, 15, 12, 0, tzinfo=VN_TZ),
        past_at,
        vaccine_code="VEROCELL",
        lot_id=None,
        lot_number="202107B1234",
        vaccinator_id=None,
        injection_site=None,
        source="history",
        observe_until=None,
    )
    b.op(
        past_at,
        ID["u_tuan"],
        "record_dose",
        "dose",
        ID["d_past"],
        {
            k: dpast[k]
            for k in dpast
            if k
            not in ("version", "voided", "void_reason", "voided_by", "voided_at", "observed_at")
        },
        state="acked",
    )
    b.add("dose", dpast)
    ae_at = at(DAY1, 9, 5)
    ae = {
        "id": ID["ae1"],
        "dose_id": ID["d1"],
        "person_id": ID["p1"],
        "severity": "common",
        "description": "Đau nhẹ chỗ tiêm, hơi chóng mặt; nghỉ 15 phút thì đỡ",
        "onset_at": iso(at(DAY1, 9, 0)),
        "recorded_by": ID["u_hoa"],
        "recorded_at": iso(ae_at),
    }
    b.op(ae_at, ID["u_hoa"], "record_adverse_event", "adverse_event", ID["ae1"], ae, state="acked")
    b.add("adverse_event", ae | {"version": 0})
    obs_at = at(DAY1, 9, 16)
    b.op(
        obs_at,
        ID["u_hoa"],
        "end_observation",
        "dose",
        ID["d1"],
        {"observed_at": iso(obs_at)},
        state="acked",
        base_version=0,
    )
    d1["observed_at"] = iso(obs_at)
    for r in b.rows["registration"]:
        if r["id"] == ID["r1"]:
            r["status"] = "observed"
            r["updated_at"] = iso(obs_at)
    # The hub refused this edit (a newer version of the person was already there).
    edit_at = at(DAY1, 10, 2)
    b.op(
        edit_at,
        ID["u_hoa"],
        "update_contact",
        "person",
        ID["p2"],
        {"phone": "0983456799", "address_line": "Ấp Hưng Long, xã An Phước, tổ 3"},
        state="rejected",
        base_version=0,
        attempts=1,
        last_error="conflict.stale_base_version (hub version 1)",
    )
    b.audit(at(DAY1, 16, 45), ID["u_hoa"], "logout", "app_user", ID["u_hoa"])

    # ---- day 2: offline all day; nothing reached the hub --------------------------------
    b.audit(at(DAY2, 7, 20), None, "login_failed", "app_user", ID["u_hoa"])
    b.audit(at(DAY2, 7, 21), ID["u_hoa"], "login", "app_user", ID["u_hoa"])
    p5_at = at(DAY2, 7, 50)
    p5 = person_row(
        "p5",
        p5_at,
        full_name="H'Hen Niê",
        birth="2001-08-15",
        sex="F",
        id_type="cccd",
        id_number="066301009876",
        phone="0345678123",
        priority_group=15,
        occupation="Công nhân may",
    )
    r5 = registration_row(
        "r5",
        "p5",
        p5_at,
        day="2026-11-29",
        source="import",
        status="expected",
        checked_in_at=None,
        import_ref="danh-sach-29-11.xlsx#3",
    )
    b.op(
        p5_at,
        ID["u_hoa"],
        "add_expected",
        "person",
        ID["p5"],
        {
            "person": public(p5),
            "registration": {
                k: r5[k] for k in ("id", "day", "source", "status", "queue_label", "import_ref")
            },
        },
        state="pending",
        attempts=2,
        last_error="network.unreachable",
    )
    b.add("person", p5)
    b.add("registration", r5)
    walk_in(
        "p3",
        "r3",
        at(DAY2, 8, 2),
        "A1",
        "pending",
        full_name="Huỳnh Ngọc Ánh",
        birth="1990",
        sex="F",
        phone="0356789123",
        province_code="75",
        address_line="Khu phố 4, phường Trảng Dài",
        priority_group=9,
    )
    walk_in(
        "p4",
        "r4",
        at(DAY2, 8, 9),
        "A2",
        "pending",
        full_name="Phạm Hữu Lộc",
        birth="1978-05-19",
        sex="M",
        id_type="cmnd",
        id_number="271234567",
        phone="0909123456",
        priority_group=11,
    )
    s3_at = at(DAY2, 8, 20)
    s3 = screening_row(
        "s3",
        "p3",
        "r3",
        s3_at,
        "eligible",
        vitals={"bp_diastolic": 70.0, "bp_systolic": 110.0, "pulse": 72.0, "temperature": 36.8},
        screener_id=ID["u_hoa"],
    )
    b.op(
        s3_at,
        ID["u_hoa"],
        "record_screening",
        "screening",
        ID["s3"],
        {k: v for k, v in s3.items() if k != "version"} | {"registration_status": "cleared"},
        state="pending",
    )
    b.add("screening", s3)
    d2_at = at(DAY2, 8, 31)
    d2 = dose_row(
        "d2",
        "p3",
        d2_at,
        d2_at,
        screening_id=ID["s3"],
        vaccine_code="PFIZER",
        lot_id=None,
        lot_number="FK1234",
    )
    b.op(
        d2_at,
        ID["u_tuan"],
        "record_dose",
        "dose",
        ID["d2"],
        {
            k: d2[k]
            for k in d2
            if k
            not in ("version", "voided", "void_reason", "voided_by", "voided_at", "observed_at")
        }
        | {"confirmed": []},
        state="pending",
    )
    b.add("dose", d2)
    void_at = at(DAY2, 8, 38)
    reason = "Ghi nhầm loại vắc xin: đã tiêm AstraZeneca, không phải Pfizer"
    b.op(
        void_at,
        ID["u_hoa"],
        "void_dose",
        "dose",
        ID["d2"],
        {"reason": reason, "voided_at": iso(void_at)},
        state="pending",
        base_version=0,
    )
    d2.update(voided=1, void_reason=reason, voided_by=ID["u_hoa"], voided_at=iso(void_at))
    d3_at = at(DAY2, 8, 40)
    d3 = dose_row("d3", "p3", at(DAY2, 8, 30), d3_at, screening_id=ID["s3"])
    b.op(
        d3_at,
        ID["u_hoa"],
        "record_dose",
        "dose",
        ID["d3"],
        {
            k: d3[k]
            for k in d3
            if k
            not in ("version", "voided", "void_reason", "voided_by", "voided_at", "observed_at")
        }
        | {"confirmed": []},
        state="pending",
    )
    b.add("dose", d3)
    for r in b.rows["registration"]:
        if r["id"] == ID["r3"]:
            r["status"] = "vaccinated"
            r["updated_at"] = iso(d3_at)

    b.add(
        "sync_state",
        {
            "id": 1,
            "station_id": INSTALL_ID,
            "site_code": SITE_CODE,
            "station_letter": STATION_LETTER,
            "replica_epoch": ID["replica_epoch"],
            "hub_epoch": ID["hub_epoch"],
            "pull_cursor": 57,
            "hlc_last": b.last_acked_hlc,
            "clock_skew_ms": 1250,
            "last_push_ok": iso(at(DAY1, 16, 40)),
            "last_pull_ok": iso(at(DAY1, 16, 40)),
        },
    )
    return b.rows


def revisions() -> list[str]:
    """Every revision in the migration scripts, oldest first."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", "station:migrations")
    script = ScriptDirectory.from_config(cfg)
    return [s.revision for s in reversed(list(script.walk_revisions()))]


def rows_for(revision: str, variant: str | None = None) -> dict[str, list[Row]]:
    rows = build_rows()
    order = revisions()
    for rev in order[: order.index(revision) + 1]:
        for table, cols in ADDED_COLUMNS.get(rev, {}).items():
            for row in rows[table]:
                for col, value in cols.items():
                    row[col] = value(row)
    if variant is not None:
        VARIANTS[variant][1](rows)
    return rows


# ---- variants: fixtures for one migration's own test (directories not named rev*) ---------


def _held_changes_in_meta(rows: dict[str, list[Row]]) -> None:
    """Pulled changes held back as revisions before 0006 stored them: JSON under meta keys.

    Two parked changes (a dose whose person is outside this station's scope, a
    malformed person row), a hub row of person p1 kept aside behind a pending
    op, and an entry that is not JSON (the migration must leave it in meta).
    """
    pending = [r["op_id"] for r in rows["sync_outbox"] if r["state"] == "pending"]
    hub_p1 = public(next(r for r in rows["person"] if r["id"] == ID["p1"])) | {"phone": "0911000111"}

    def change(seq: int, etype: str, eid: str, version: int, data: Row) -> Row:
        return {"server_seq": seq, "entity_type": etype, "entity_id": eid, "kind": "upsert",
                "row_version": version, "data": data}

    orphan = fixed_uuid7(at(DAY1, 12, 0), "orphan-dose")
    absent = fixed_uuid7(at(DAY1, 12, 0), "absent-person")
    bad = fixed_uuid7(at(DAY1, 12, 1), "bad-person")
    entries = {
        f"parked:{412:015d}": {"change": change(412, "dose", orphan, 3, {
            k: v for k, v in rows["dose"][0].items() if k not in ("rid", "version")} | {
            "id": orphan, "person_id": absent, "site_code": "DN-OTHER-02"}), "error": "pull.integrity"},
        f"parked:{415:015d}": {"change": change(415, "person", bad, 2, {
            "id": bad, "full_name": "Lê Văn Sai", "birth": "??"}), "error": "pull.malformed"},
        f"deferred:person:{ID['p1']}": {"change": change(420, "person", ID["p1"], 5, hub_p1),
                                        "ops": pending[:1]},
    }
    for key, value in entries.items():
        rows["meta"].append({"key": key, "value": json.dumps(value)})
    rows["meta"].append({"key": "deferred:person:broken", "value": "{not json"})


# name -> (revision, what it adds to that revision's rows)
VARIANTS: dict[str, tuple[str, Callable[[dict[str, list[Row]]], None]]] = {
    "held-in-meta-0005": ("0005", _held_changes_in_meta),
}


def table_columns(conn: Connection, table: str) -> list[str]:
    return [str(r[1]) for r in conn.exec_driver_sql(f"PRAGMA table_info({table})").fetchall()]


def build_db(path: Path, key: bytes, revision: str, variant: str | None = None) -> None:
    engine = make_engine(path, key)
    try:
        _migrate(engine, revision)
        rows = rows_for(revision, variant)
        with engine.connect() as conn:
            guard(conn).ctx = "migrate"  # the write guards allow only services, pull, migrate
            try:
                with conn.begin():
                    rev = current_revision(conn)
                    if rev != revision:
                        raise SystemExit(f"migrated to {rev}, wanted {revision}")
                    for table in TABLES:
                        cols = table_columns(conn, table)
                        for row in rows[table]:
                            if set(row) != set(cols):
                                raise SystemExit(
                                    f"rev {revision}, table {table}: the schema has columns "
                                    f"{sorted(set(cols) - set(row))} the fixture does not fill "
                                    f"and the fixture has {sorted(set(row) - set(cols))} the "
                                    "schema lacks: add them to ADDED_COLUMNS"
                                )
                            conn.execute(
                                text(
                                    f"INSERT INTO {table} ({', '.join(cols)}) "
                                    f"VALUES ({', '.join(':' + c for c in cols)})"
                                ),
                                row,
                            )
            finally:
                guard(conn).ctx = None
    finally:
        engine.dispose()
    raw = open_raw(path, key)
    try:
        problems = [r[0] for r in raw.execute("PRAGMA integrity_check").fetchall()]
        fks = raw.execute("PRAGMA foreign_key_check").fetchall()
        if problems != ["ok"] or fks:
            raise SystemExit(f"rev {revision}: integrity {problems}, foreign keys {fks}")
        raw.execute("VACUUM")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        raw.close()
    for suffix in ("-wal", "-shm"):
        leftover = path.with_name(path.name + suffix)
        if leftover.exists():
            if leftover.stat().st_size:
                raise SystemExit(f"{leftover} not empty after checkpoint")
            leftover.unlink()


KEY_TXT = (
    "{key}\n"
    "# FAKE test key (hex, 32 bytes) of the committed fixture station.db in this folder.\n"
    "# Published on purpose: it opens only fake test data. Made by make_fixtures.py.\n"
)


def make_fixture(revision: str, dest_root: Path = FIXTURES_DIR, variant: str | None = None) -> Path:
    dest = dest_root / (variant or f"rev{revision}")
    with tempfile.TemporaryDirectory(dir=dest_root) as tmp:
        work = Path(tmp) / dest.name
        work.mkdir()
        build_db(work / "station.db", bytes.fromhex(KEY_HEX), revision, variant)
        meta = {
            "format": 1,
            "install_id": INSTALL_ID,
            "site_code": SITE_CODE,
            "created_at": iso(at(DAY1, 7, 0)),
        }
        (work / "station.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        (work / "KEY.txt").write_text(KEY_TXT.format(key=KEY_HEX), encoding="utf-8")
        size = (work / "station.db").stat().st_size
        if size > MAX_BYTES:
            raise SystemExit(f"rev {revision}: station.db is {size} bytes (> {MAX_BYTES})")
        if dest.exists():
            shutil.rmtree(dest)
        work.rename(dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("revision", nargs="*", help="revisions to (re)build, e.g. 0001")
    parser.add_argument("--all", action="store_true", help="rebuild every revision")
    parser.add_argument("--variant", choices=sorted(VARIANTS), help="(re)build one variant fixture")
    args = parser.parse_args(argv)
    if args.variant:
        path = make_fixture(VARIANTS[args.variant][0], variant=args.variant)
        print(f"{args.variant}: {path / 'station.db'} ({(path / 'station.db').stat().st_size} bytes)")
        return 0
    known = revisions()
    unknown = [r for r in args.revision if r not in known]
    if unknown:
        parser.error(f"unknown revision(s) {unknown}; known: {known}")
    if args.all:
        wanted = known
    elif args.revision:
        wanted = args.revision
    else:
        wanted = [r for r in known if not (FIXTURES_DIR / f"rev{r}" / "station.db").exists()]
    FIXTURES_DIR.mkdir(parents=True, exist_ok=True)
    for rev in wanted:
        path = make_fixture(rev)
        size = (path / "station.db").stat().st_size
        print(f"rev{rev}: {path / 'station.db'} ({size} bytes)")
    if not wanted:
        print("every revision has a fixture; pass a revision or --all to rebuild")
    return 0


if __name__ == "__main__":
    sys.exit(main())
