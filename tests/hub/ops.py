"""Hand-made ops in the station services' payload shapes, for stations played over raw HTTP.

A :class:`Desk` is an enrolled station identity (no SQLCipher file: many of
them are cheap) that writes ops as a station of its site would: its first push
creates the site's users (the installer's ops carry no user) and a lot, every
later op carries a user of the site with the role the op needs.
"""

from __future__ import annotations

import itertools
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from kernel.ids import uuid7
from kernel.ops import (
    FieldChange,
    LotP,
    PersonP,
    RecordDoseP,
    RegisterPersonP,
    RegP,
    ScreeningP,
    UpdatePersonP,
    UserP,
    build,
    wire,
)
from tests.hub.conftest import Hub

# An argon2id hash in argon2-cffi's encoded form (the hub checks the format, not the password).
HASH = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$3oYrHJaC7g1Ha1dTeVKsHPPsyKWHoX7Jm1wK7vPl8Dg"
DAY = "2026-12-01"
_numbers = itertools.count(uuid.uuid4().int % 10**5 * 10)
_lock = threading.Lock()


def register_payload(
    id_number: str | None = None,
    *,
    name: str = "Nguyễn Thị Đào",
    phone: str | None = "0912345678",
    birth: str = "1985-03-07",
    day: str = DAY,
    reg_id: str | None = None,
) -> dict[str, Any]:
    """A walk-in's ``register_person`` payload, as a desk writes it (kernel.ops models)."""
    person = build(
        PersonP,
        full_name=name,
        birth=birth,
        sex="F",
        id_type="cccd" if id_number else "none",
        id_number=id_number,
        old_id_number=None,
        phone=phone,
        province_code="75",
        ward_code=None,
        address_line="Số 12, đường Phạm Văn Thuận",
        priority_group=9,
        occupation=None,
        bhyt=None,
        consent=True,
    )
    reg = build(
        RegP, id=reg_id or str(uuid.uuid4()), day=day, source="walk_in", status="checked_in", queue_label=None
    )
    return wire(build(RegisterPersonP, person=person, registration=reg))


def new_cccd() -> str:
    """A 12-digit CCCD not handed out before in this test run (075: Đồng Nai, 3: a woman
    born 2000-2099, 85: 2085 as far as the digits go; the hub checks the shape only)."""
    with _lock:
        n = next(_numbers)
    return f"0753{n % 10**8:08d}"


@dataclass
class Desk:
    hub: Hub
    site: str
    station_id: str
    token: str
    epoch: str = field(default_factory=lambda: str(uuid.uuid4()))
    seq: int = 0
    tick: int = 0
    users: dict[str, str] = field(default_factory=dict)  # role -> user id
    lot_id: str = ""

    @classmethod
    def enroll(cls, hub: Hub, site: str, *, setup: bool = True) -> Desk:
        if hub.scalar("SELECT count(*) FROM site WHERE code = :c", c=site) == 0:
            hub.add_site(site)
        sid = str(uuid.uuid4())
        r = hub.client.post(hub.api + "/enroll", json={"code": hub.code(site), "station_id": sid})
        assert r.status_code == 200, r.text
        desk = cls(hub, site, sid, r.json()["token"])
        if setup:
            desk.setup()
        return desk

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def at(self) -> str:
        """A recorded_at on the campaign day, moving on by a second per op."""
        self.tick += 1
        return f"{DAY}T09:{self.tick // 60 % 60:02d}:{self.tick % 60:02d}+07:00"

    def op(
        self,
        op_type: str,
        entity_type: str,
        entity_id: str,
        payload: dict[str, Any],
        *,
        role: str | None = "supervisor",
    ) -> dict[str, Any]:
        self.seq += 1
        return {
            "op_id": uuid7(),
            "op_seq": self.seq,
            "op_type": op_type,
            "entity_type": entity_type,
            "entity_id": entity_id,
            "payload": payload,
            "hlc": f"{1796090400000 + self.seq:013d}-00000",
            "recorded_at": self.at(),
            "user_id": self.users.get(role) if role else None,
        }

    def body(self, ops: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "protocol_version": 1,
            "station_id": self.station_id,
            "replica_epoch": self.epoch,
            "schema_version": "0002",
            "sent_at": datetime.now(UTC).isoformat(),
            "ops": ops,
        }

    def post(self, ops: list[dict[str, Any]], client: httpx.Client | None = None) -> httpx.Response:
        return (client or self.hub.client).post(
            self.hub.api + "/push", json=self.body(ops), headers=self.headers
        )

    def post_raw(self, ops: list[dict[str, Any]], client: httpx.Client) -> tuple[httpx.Response, bytes]:
        """A push asking for gzip, and the answer's bytes as they came over the wire (not inflated)."""
        req = client.build_request(
            "POST", self.hub.api + "/push", json=self.body(ops), headers=self.headers | {"Accept-Encoding": "gzip"}
        )
        streamed = client.send(req, stream=True)
        try:
            return streamed, b"".join(streamed.iter_raw())
        finally:
            streamed.close()

    def push(self, ops: list[dict[str, Any]]) -> list[dict[str, Any]]:
        r = self.post(ops)
        assert r.status_code == 200, r.text
        results: list[dict[str, Any]] = r.json()["results"]
        assert len(results) == len(ops), results
        return results

    # ---- the ops ---------------------------------------------------------------------

    def user(self, role: str, user_id: str | None = None, **over: Any) -> dict[str, Any]:
        uid = user_id or str(uuid.uuid4())
        fields = {
            "id": uid,
            "site_code": self.site,
            "username": f"{role}{uid[:6]}",
            "display_name": f"Người dùng {role}",
            "role": role,
            "password_hash": HASH,
            "active": 1,
            "created_at": self.at(),
            "updated_at": self.at(),
        } | over
        return self.op("upsert_user", "app_user", uid, wire(build(UserP, **fields)), role=None)

    def lot(self, vaccine: str = "PFIZER") -> dict[str, Any]:
        lid = str(uuid.uuid4())
        payload = build(
            LotP,
            id=lid,
            site_code=self.site,
            vaccine_code=vaccine,
            lot_number="FK1234",
            expiry="2027-06-30",
            doses_received=500,
            received_on="2026-11-30",
            active=1,
            updated_at=self.at(),
        )
        return self.op("upsert_lot", "vaccine_lot", lid, wire(payload), role=None)

    def setup(self) -> None:
        """The installer's first ops: a supervisor, a clerk, a screener and a lot."""
        ops = []
        for role in ("supervisor", "clerk", "screener"):
            op = self.user(role)
            self.users[role] = op["entity_id"]
            ops.append(op)
        lot = self.lot()
        self.lot_id = lot["entity_id"]
        ops.append(lot)
        assert {r["status"] for r in self.push(ops)} == {"applied"}

    def walk_in(
        self, id_number: str | None = None, *, name: str = "Nguyễn Thị Đào", phone: str = "0912345678"
    ) -> dict[str, Any]:
        pid = str(uuid.uuid4())
        return self.op(
            "register_person", "person", pid, register_payload(id_number, name=name, phone=phone),
            role="clerk",
        )

    def screening(self, person_id: str) -> dict[str, Any]:
        sid = str(uuid.uuid4())
        at = self.at()
        payload = build(
            ScreeningP,
            id=sid,
            person_id=person_id,
            registration_id=None,
            site_code=self.site,
            day=DAY,
            form_id="4355-2021-09",
            answers="{}",
            vitals="{}",
            suggested_outcome="eligible",
            outcome="eligible",
            override_reason=None,
            screener_id=self.users["screener"],
            screened_at=at,
            registration_status="cleared",
        )
        return self.op("record_screening", "screening", sid, wire(payload), role="screener")

    def dose(self, person_id: str, dose_number: int = 1, **over: Any) -> dict[str, Any]:
        did = str(uuid.uuid4())
        at = self.at()
        fields = {
            "id": did,
            "person_id": person_id,
            "site_code": self.site,
            "vaccine_code": "PFIZER",
            "lot_id": self.lot_id,
            "lot_number": "FK1234",
            "dose_number": dose_number,
            "kind": "primary",
            "administered_at": at,
            "day": DAY,
            "recorded_at": at,
            "vaccinator_id": self.users["clerk"],
            "screening_id": None,
            "injection_site": "left_deltoid",
            "source": "site",
            "observe_until": at,
            "confirmed": [],
        } | over
        return self.op("record_dose", "dose", did, wire(build(RecordDoseP, **fields)), role="clerk")

    def update(self, person_id: str, fields: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
        changes = {f: build(FieldChange, old=o, new=n) for f, (o, n) in fields.items()}
        return self.op("update_person", "person", person_id, wire(build(UpdatePersonP, fields=changes)), role="clerk")
