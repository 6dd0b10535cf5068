"""Smoke of the two entry points of one executor: a push in runs, and the same push op by op.

Since issue 13 a new walk-in, screening or dose is planned and written by one
executor (hub/apply/bulk.py) whether it arrives in a run of many or alone
(``process_push(fast=False)`` makes every run one op long), and everything
else by the same ORM appliers either way: the rows, change rows, echo marks and
answers are built by the same code, so their equality holds by construction.
What this smoke still checks is that a run's look-ups stay current as it
buffers (one seed per database instead of the old differential's four).

Seeded random op streams from three stations — new walk-ins (fresh CCCDs, a
CCCD already registered at another site, phone twins), screenings moving a
registration, doses (first and second doses, same-day duplicates, doses of
merged and unknown people), check-ins, voids, end of observation, edits,
broken payloads, retried batches, one op id sent with another payload and
gaps in op_seq — are pushed in random batches to two hub databases, one in runs and one op
by op. Every answer and every row of every sync and domain table must be equal,
echo marks included.

Real databases (SQLite files and a PostgreSQL cluster the tests start), real
``process_push``; only review ids are made deterministic so the two runs can
be compared.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from hub import effects, service
from hub.apply.bulk import BulkRun
from hub.db import Database, migrate
from hub.ingest import payload_hash, process_push, utc_now
from hub.models import Base, EnrolledStation
from sync.protocol import Op, PushRequest
from tests.pg import PgCluster, hub_database_url

SITES = ("EQ-A", "EQ-B", "EQ-C")
VACCINES = ("AZ", "PFIZER", "MODERNA")
HASH = "$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHRzYWx0$3oYrHJaC7g1Ha1dTeVKsHPPsyKWHoX7Jm1wK7vPl8Dg"
COMPARED = (
    "replica",
    "applied_op",
    "hub_clock",
    "change_log",
    "person_site",
    "field_meta",
    "review_item",
    "review_site",
    "person",
    "registration",
    "screening",
    "vaccine_lot",
    "dose",
    "adverse_event",
    "app_user",
    "person_redirect",
)


@dataclass
class Stream:
    """One station's ops, shaped as the station services write them."""

    site: str
    station_id: str
    rng: random.Random
    world: World
    seq: int = 0
    ops: list[dict[str, Any]] = field(default_factory=list)
    user: str | None = None  # the site's supervisor once created (the installer has none)

    def __post_init__(self) -> None:
        # As a new station starts: the installer creates the supervisor, then the lots
        # (the hub checks every op's user, and a dose's lot).
        sup = self.uid()
        self.add(
            "upsert_user",
            "app_user",
            sup,
            {
                "id": sup,
                "site_code": self.site,
                "username": "giamsat",
                "display_name": "Giám sát",
                "role": "supervisor",
                "password_hash": HASH,
                "active": 1,
                "created_at": self.at(),
                "updated_at": self.at(),
            },
        )
        self.user = sup
        for vaccine in VACCINES:
            lot = f"lot-{self.site}-{vaccine}"
            self.add(
                "upsert_lot",
                "vaccine_lot",
                lot,
                {
                    "id": lot,
                    "site_code": self.site,
                    "vaccine_code": vaccine,
                    "lot_number": "ABV5300",
                    "expiry": "2027-06-30",
                    "doses_received": 500,
                    "received_on": "2026-11-20",
                    "active": 1,
                    "updated_at": self.at(),
                },
            )

    def uid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128)))

    def add(self, op_type: str, entity_type: str, entity_id: str, payload: dict[str, Any]) -> None:
        self.seq += 1
        self.ops.append(
            {
                "op_id": self.uid(),
                "op_seq": self.seq,
                "op_type": op_type,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "payload": payload,
                "hlc": f"{1795734744000 + self.seq:013d}-00000",
                "recorded_at": f"2026-11-27T07:{self.seq // 60 % 60:02d}:{self.seq % 60:02d}+07:00",
                "user_id": self.user,
            }
        )

    def step(self) -> None:
        r = self.rng.random()
        w = self.world
        mine = w.people.get(self.site, [])
        anyone = [p for ps in w.people.values() for p in ps]
        if r < 0.34 or not mine:
            self.walk_in()
        elif r < 0.52:
            self.screening(self.rng.choice(mine))
        elif r < 0.78:
            pool = anyone if self.rng.random() < 0.1 else mine
            self.dose(self.rng.choice(pool))
        elif r < 0.82 and w.regs.get(self.site):
            rid = self.rng.choice(w.regs[self.site])
            self.add("check_in", "registration", rid, {"queue_label": "B7", "checked_in_at": self.at()})
        elif r < 0.86 and w.doses.get(self.site):
            did = self.rng.choice(w.doses[self.site])
            self.add("void_dose", "dose", did, {"reason": "nhập nhầm", "voided_at": self.at()})
        elif r < 0.89 and w.doses.get(self.site):
            did = self.rng.choice(w.doses[self.site])
            self.add("end_observation", "dose", did, {"observed_at": self.at()})
        elif r < 0.92:
            pid = self.rng.choice(mine)["id"]
            new = f"09{self.rng.randrange(10**8):08d}"
            self.add("update_person", "person", pid, {"fields": {"phone": {"old": None, "new": new}}})
        elif r < 0.94:
            rid = self.uid()
            pid = self.rng.choice(mine)["id"]
            reg = {"id": rid, "person_id": pid, "day": "2026-11-28", "source": "app", "status": "expected"}
            self.add("add_registration", "registration", rid, {"registration": reg})
        elif r < 0.96:
            pid = self.uid()
            self.add("register_person", "person", pid, {"person": {"full_name": ""}})  # broken
        else:
            self.dose({"id": self.uid(), "reg": None})  # nobody the hub knows

    def at(self) -> str:
        return f"2026-11-27T08:{self.seq // 60 % 60:02d}:{self.seq % 60:02d}+07:00"

    def walk_in(self) -> None:
        w, rng = self.world, self.rng
        pid, rid = self.uid(), self.uid()
        r = rng.random()
        others = [p for ps in w.people.values() for p in ps]
        if r < 0.12 and others:
            src = rng.choice(others)
            name, birth, number, phone = src["name"], src["birth"], src["number"], src["phone"]
            if number is None and rng.random() < 0.5:
                number = None  # a phone twin of someone without an ID number
        else:
            name = rng.choice(["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thu Dung"])
            birth = rng.choice(["1950", "1961-03-04", "1975-12-31", "1988"])
            number = f"0751{rng.randrange(10**8):08d}" if r < 0.7 else None
            phone = f"09{rng.randrange(10**8):08d}" if rng.random() < 0.8 else None
        person = {
            "full_name": name,
            "birth": birth,
            "sex": rng.choice(["M", "F", None]),
            "id_type": "cccd" if number else "none",
            "id_number": number,
            "old_id_number": None,
            "phone": phone,
            "province_code": "75",
            "ward_code": "26377",
            "address_line": "Số 12, đường Trần Quốc Toản",
            "priority_group": rng.randrange(1, 17),
            "occupation": None,
            "bhyt": None,
            "consent": rng.random() < 0.5,
        }
        payload: dict[str, Any] = {"person": person}
        reg_id = None
        if rng.random() < 0.85:
            reg_id = rid
            payload["registration"] = {
                "id": rid,
                "day": "2026-11-27",
                "queue_label": f"A{self.seq}",
                "source": "walk_in",
                "status": rng.choice(["checked_in", "checked_in", "expected"]),
            }
            w.regs.setdefault(self.site, []).append(rid)
        self.add("register_person", "person", pid, payload)
        w.people.setdefault(self.site, []).append(
            {"id": pid, "name": name, "birth": birth, "number": number, "phone": phone, "reg": reg_id}
        )

    def screening(self, person: dict[str, Any]) -> None:
        sid = self.uid()
        payload = {
            "answers": "{}",
            "day": "2026-11-27",
            "form_id": "4355-2021-09",
            "id": sid,
            "outcome": "eligible",
            "override_reason": None,
            "person_id": person["id"],
            "registration_id": person["reg"],
            "registration_status": self.rng.choice(["cleared", "deferred", None]),
            "screened_at": self.at(),
            "screener_id": self.user,
            "site_code": self.site,
            "suggested_outcome": "eligible",
            "vitals": "{}",
        }
        self.world.screenings.setdefault(self.site, []).append(sid)
        self.add("record_screening", "screening", sid, payload)

    def dose(self, person: dict[str, Any]) -> None:
        did = self.uid()
        rng = self.rng
        scr = self.world.screenings.get(self.site) or [None]
        day = rng.choice(["2026-11-27", "2026-11-27", "2026-10-01"])
        vaccine = rng.choice(VACCINES)
        payload = {
            "administered_at": day + self.at()[10:],
            "confirmed": [],
            "day": day,
            "dose_number": rng.choice([1, 1, 2]),
            "id": did,
            "injection_site": "left_deltoid",
            "kind": "primary",
            "lot_id": f"lot-{self.site}-{vaccine}",
            "lot_number": "ABV5300",
            "observe_until": self.at(),
            "person_id": person["id"],
            "recorded_at": self.at(),
            "screening_id": rng.choice(scr),
            "site_code": self.site,
            "source": "site",
            "vaccinator_id": self.user,
            "vaccine_code": vaccine,
        }
        self.world.doses.setdefault(self.site, []).append(did)
        self.add("record_dose", "dose", did, payload)


@dataclass
class World:
    people: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    regs: dict[str, list[str]] = field(default_factory=dict)
    screenings: dict[str, list[str]] = field(default_factory=dict)
    doses: dict[str, list[str]] = field(default_factory=dict)


Schedule = list[tuple[str, PushRequest, str]]


def _schedule(seed: int) -> tuple[Schedule, dict[str, str]]:
    """(station id, request, hub time) in order: batches, retries, a reused op id, gaps."""
    rng = random.Random(seed)
    world = World()
    streams = [
        Stream(site, str(uuid.UUID(int=rng.getrandbits(128))), random.Random(seed * 31 + i), world)
        for i, site in enumerate(SITES)
    ]
    sent = {s.station_id: 0 for s in streams}
    out: Schedule = []
    for step in range(60):
        s = rng.choice(streams)
        for _ in range(rng.randrange(1, 30)):
            s.step()
        start = sent[s.station_id]
        chunk = [dict(o) for o in s.ops[start : start + rng.randrange(1, 60)]]
        r = rng.random()
        if r < 0.1 and start > 0:
            chunk = [dict(o) for o in s.ops[max(0, start - 8) : start + 4]]  # a lost answer: resent
        elif r < 0.13 and chunk:
            chunk[-1] = chunk[-1] | {"payload": chunk[-1]["payload"] | {"extra": 1}}  # id reused
        elif r < 0.16 and len(chunk) > 2:
            del chunk[1]  # a gap: the hub answers up to it
        if not chunk:
            continue
        if r < 0.03:
            chunk = chunk + chunk[:2]  # the same op id twice in one push
        req = PushRequest(
            station_id=s.station_id,
            replica_epoch="e1",
            schema_version="0002",
            sent_at="2026-11-27T08:00:00+07:00",
            ops=[Op.model_validate(o) for o in chunk],
        )
        out.append((s.station_id, req, f"2026-11-27T01:{step // 60:02d}:{step % 60:02d}.000+00:00"))
        sent[s.station_id] = max(sent[s.station_id], max(o["op_seq"] for o in chunk))
    return out, {s.station_id: s.site for s in streams}


def _new_db(url: str, stations: dict[str, str]) -> Database:
    migrate(url)
    db = Database(url)
    for site in SITES:
        service.add_site(db, site, f"Điểm {site}", "75", now=utc_now())
    with db.write() as s:
        for sid, site in stations.items():
            s.add(
                EnrolledStation(
                    id=sid,
                    site_code=site,
                    name="",
                    token_hash=hashlib.sha256(sid.encode()).hexdigest(),
                    revoked=0,
                    enrolled_at="2026-11-27T00:00:00+00:00",
                    skew_flagged=0,
                )
            )
    return db


def _replay(
    db: Database, schedule: Schedule, *, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> list[Any]:
    counter = itertools.count(1)
    monkeypatch.setattr(effects, "uuid7", lambda: f"00000000-0000-7000-8000-{next(counter):012d}")
    answers: list[Any] = []
    for station_id, req, now in schedule:
        try:
            results, expected = process_push(db, station_id, req, now=now, fast=fast)
            answers.append(([r.model_dump() for r in results], expected))
        except Exception as exc:  # an HTTP error answer (replica.regressed) must match too
            answers.append(("error", getattr(exc, "code", type(exc).__name__)))
    return answers


def _check_echo_marks(dump: dict[str, list[dict[str, Any]]], stations: dict[str, str]) -> None:
    """Echo marks only on version-1 rows at the pushing station's own site, its ops answered no_echo."""
    ledger = {r["op_id"]: r for r in dump["applied_op"]}
    marked = [r for r in dump["change_log"] if r["echo_for"] is not None]
    assert marked, "the executor marked no echo at all"
    for r in marked:
        led = ledger[r["origin_op_id"]]
        assert r["echo_for"] == f"{led['station_id']}:{led['replica_epoch']}"
        assert r["row_version"] == 1 and r["scope"] == stations[led["station_id"]]
        assert led["result"]["detail"].get("no_echo") is True
        assert r["entity_type"] in ("person", "registration", "screening", "dose")


def _count_planned(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Observe (not replace) the bulk executor: how many ops it planned."""
    taken = [0]
    real = BulkRun.try_apply

    def counting(self: BulkRun, index: int, op: Op, digest: str) -> bool:
        ok = real(self, index, op, digest)
        taken[0] += ok
        return ok

    monkeypatch.setattr(BulkRun, "try_apply", counting)
    return taken


def _dump(db: Database) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    with db.read() as s:
        for name in COMPARED:
            table = Base.metadata.tables[name]
            rows = s.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            out[name] = [json.loads(json.dumps(dict(r), sort_keys=True, default=str)) for r in rows]
    return out


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
@pytest.mark.slow  # seconds each; the fast lane leaves it out
def test_runs_and_op_by_op_write_the_same(
    backend: str, tmp_path: Path, pg: PgCluster | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    schedule, stations = _schedule(0)
    fast_url = hub_database_url(backend, tmp_path, pg, "fast")
    slow_url = hub_database_url(backend, tmp_path, pg, "slow")
    fast_db, slow_db = _new_db(fast_url, stations), _new_db(slow_url, stations)
    try:
        taken = _count_planned(monkeypatch)
        fast = _replay(fast_db, schedule, fast=True, monkeypatch=monkeypatch)
        slow = _replay(slow_db, schedule, fast=False, monkeypatch=monkeypatch)
        for i, (a, b) in enumerate(zip(fast, slow, strict=True)):
            assert a == b, f"push {i} answered differently"
        dump_fast, dump_slow = _dump(fast_db), _dump(slow_db)
        _check_echo_marks(dump_fast, stations)
        _check_echo_marks(dump_slow, stations)
        for name in COMPARED:
            assert dump_fast[name] == dump_slow[name], f"table {name} differs"
        # The streams really exercised both paths and the reconciling rules.
        kinds = {r["kind"] for r in dump_slow["review_item"]}
        assert {"merged_person", "possible_duplicate_dose"} <= kinds, kinds
        statuses = {r["status"] for r in dump_slow["applied_op"]}
        assert {"applied", "rejected"} <= statuses
        assert len(dump_slow["person_redirect"]) >= 1
        assert sum(1 for r in dump_slow["applied_op"] if r["op_type"] == "record_dose") >= 50
        # Both replays went through the executor: together at least a third of the ops each.
        assert taken[0] >= 2 * (len(dump_slow["applied_op"]) // 3), (taken, len(dump_slow["applied_op"]))
    finally:
        fast_db.dispose()
        slow_db.dispose()



def test_payload_hash_is_the_ops_json_without_its_position() -> None:
    """The ledger's hash: every field of the op but op_seq (a field added to Op must count)."""
    schedule, _ = _schedule(1)
    for _sid, req, _now in schedule[:10]:
        for op in req.ops:
            body = op.model_dump(mode="json", exclude={"op_seq"})
            raw = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
            assert payload_hash(op) == hashlib.sha256(raw.encode("utf-8")).hexdigest()
            moved = op.model_copy(update={"op_seq": op.op_seq + 7})
            assert payload_hash(moved) == payload_hash(op)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_run_the_database_refuses_is_applied_op_by_op(
    backend: str, tmp_path: Path, pg: PgCluster | None
) -> None:
    """If the database refuses a run's bulk rows, only that run falls back to the ORM appliers
    (in the same transaction): every op is still answered and written, nothing twice.
    On PostgreSQL the rows go by COPY (issue 15): its refusal must reach the executor as
    SQLAlchemy's IntegrityError, as the INSERTs' did."""
    schedule, stations = _schedule(2)
    db = _new_db(hub_database_url(backend, tmp_path, pg, "refused"), stations)
    try:
        station_id, req, now = next(
            (sid, r, t)
            for sid, r, t in schedule
            if sum(o.op_type == "register_person" for o in r.ops) >= 3
        )
        victim = next(o for o in req.ops if o.op_type == "register_person")
        name = victim.payload["person"]["full_name"]
        with db.write() as s:
            # Refuses what only the bulk executor writes: a new person row at version 1
            # (the ORM appliers insert version 0 and number it when the change rows are made).
            if backend == "sqlite":
                s.execute(
                    text(
                        "CREATE TRIGGER refuse_bulk BEFORE INSERT ON person "
                        f"WHEN NEW.version = 1 AND NEW.id = '{victim.entity_id}' "
                        "BEGIN SELECT RAISE(ABORT, 'refused'); END"
                    )
                )
            else:
                s.execute(
                    text(
                        "CREATE FUNCTION refuse_bulk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                        f"IF NEW.version = 1 AND NEW.id = '{victim.entity_id}' THEN "
                        "RAISE EXCEPTION 'refused' USING ERRCODE = 'unique_violation'; END IF; "
                        "RETURN NEW; END $$"
                    )
                )
                s.execute(
                    text(
                        "CREATE TRIGGER refuse_bulk BEFORE INSERT ON person "
                        "FOR EACH ROW EXECUTE FUNCTION refuse_bulk()"
                    )
                )
        results, _expected = process_push(db, station_id, req, now=now)
        assert [r.op_id for r in results] == [o.op_id for o in req.ops[: len(results)]]
        by_id = {r.op_id: r for r in results}
        assert by_id[victim.op_id].status == "applied", by_id[victim.op_id]
        # Answered by its ORM applier (no echo marks there), and written once.
        assert "no_echo" not in by_id[victim.op_id].detail
        with db.read() as s:
            rows = s.execute(
                text("SELECT full_name, version FROM person WHERE id = :i"), {"i": victim.entity_id}
            ).all()
            ledger = s.execute(text("SELECT count(*) FROM applied_op")).scalar_one()
        assert [tuple(r) for r in rows] == [(name, 1)]
        assert ledger == len(results)
    finally:
        db.dispose()
