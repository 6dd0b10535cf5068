"""Shared pieces of the sync fault tests: a hub on 127.0.0.1, a seeded workload, the checks.

``test_fault_schedules.py`` (seeded fault schedules through the proxy) and
``test_sync_kill.py`` (SIGKILLed ``tramtiem sync`` processes) both end with
:func:`check_exactly_once`: every station op is in the hub's ledger once with
the same payload hash, the outbox is drained, the change log has no gaps and
the station's pulled rows equal the hub's rows for its site.
"""

from __future__ import annotations

import json
import random
import tempfile
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.import_bench import person_cells
from hub import importer, service
from hub.app import HubSettings
from hub.db import Database
from hub.ingest import payload_hash, utc_now
from hub.server import RunningHub, run_hub
from kernel.clock import HLC, iso
from kernel.errors import DomainError, NeedsConfirmation
from kernel.ids import uuid7
from station import exchange, outbox
from station.audit import verify_chain
from station.db import integrity_check
from station.demo import fake_person
from station.dto import DoseInput, LotInput, PersonInput, UserInput
from station.services import admin, clinical, people
from station.store import Actor, Station
from sync.client import HubClient
from sync.protocol import EnrollRequest, Op
from tests.pg import migrated_sqlite_url
from tests.station.helpers import screen_eligible

PASSWORD = "mat-khau-123"

# Domain tables compared station <-> hub, with how the hub rows of one site are found.
SCOPED_TABLES: dict[str, str] = {
    "person": "id IN (SELECT person_id FROM person_site WHERE site_code = :site)",
    "registration": "site_code = :site",
    "screening": "site_code = :site",
    "dose": "site_code = :site",
    "adverse_event": "dose_id IN (SELECT id FROM dose WHERE site_code = :site)",
    "vaccine_lot": "site_code = :site",
    "app_user": "site_code = :site",
}
# Columns compared value for value (besides id and version) per table.
COMPARED_COLUMNS: dict[str, tuple[str, ...]] = {
    "person": ("full_name", "birth", "id_number", "phone", "address_line", "status"),
    "registration": ("person_id", "day", "status", "queue_label"),
    "screening": ("person_id", "outcome"),
    "dose": ("person_id", "lot_id", "dose_number", "voided", "void_reason", "observed_at"),
    "adverse_event": ("dose_id", "severity"),
    "vaccine_lot": ("lot_number", "doses_received", "active"),
    "app_user": ("username", "role", "active"),
}


# ---- the hub ------------------------------------------------------------------------------


@dataclass
class Hub:
    running: RunningHub
    db: Database

    @property
    def url(self) -> str:
        return self.running.url

    @property
    def port(self) -> int:
        return self.running.port

    def scalar(self, sql: str, **params: object) -> Any:
        with self.db.read() as s:
            return s.execute(text(sql), params).scalar()

    def rows(self, sql: str, **params: object) -> list[dict[str, Any]]:
        with self.db.read() as s:
            return [dict(r) for r in s.execute(text(sql), params).mappings()]

    def add_site(self, code: str) -> None:
        service.add_site(self.db, code, f"Điểm tiêm {code}", "75", now=utc_now())

    def enrollment_code(self, site: str) -> str:
        return service.new_enrollment_code(self.db, site, ttl_hours=1, now=utc_now())

    def import_list(self, site: str, persons: list[PersonInput], day: date) -> int:
        """The district imports a list for ``site`` and ``day`` at the hub (hub/importer.py)."""
        m = exchange.load_mapping()
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "list.csv"
            exchange.write_table(path, m, [person_cells(p, n, m) for n, p in enumerate(persons, 1)])
            plan = importer.dry_run(self.db, site, path, day, m)
            return importer.commit(self.db, site, plan).registrations_added

    def enroll(self, site: str, station_id: str) -> str:
        """Enroll ``station_id`` at ``site`` directly (not through any proxy); returns the token."""
        with HubClient(self.url) as c:
            resp = c.enroll(
                EnrollRequest(
                    code=self.enrollment_code(site), station_id=station_id, station_name="m"
                )
            )
        assert resp.site_code == site
        return resp.token


@contextmanager
def start_hub(path: Path) -> Iterator[Hub]:
    """A SQLite hub served by uvicorn on 127.0.0.1 (a free port) in this process."""
    url = migrated_sqlite_url(path)  # a new file starts at head: no migration per test
    with run_hub(HubSettings(database_url=url)) as running:
        db = Database(url)
        try:
            yield Hub(running, db)
        finally:
            db.dispose()


# ---- a seeded workload through the station's services -----------------------------------


@dataclass
class Workload:
    """Walk-ins, screenings, doses, voids, edits, observations, AEFIs and expected lists.

    ID numbers are ``id_base * 1000 + n`` in their last six digits, so workloads with
    different ``id_base`` never share a CCCD (no cross-site merges between seeds).
    """

    st: Station
    rng: random.Random
    id_base: int
    staff: dict[str, Actor] = field(default_factory=dict)
    lot_id: str = ""
    n_ids: int = 0
    persons: list[str] = field(default_factory=list)
    doses: list[str] = field(default_factory=list)
    voided: set[str] = field(default_factory=set)
    observed: set[str] = field(default_factory=set)
    kinds: Counter[str] = field(default_factory=Counter)

    def setup(self) -> None:
        """Users (one per role) and a lot; these are ops too."""
        system = Actor.system(self.st.site_code)
        for name, role in (("thuky", "clerk"), ("bacsi", "screener"), ("giamsat", "supervisor")):
            admin.create_user(
                self.st, system, UserInput(name, f"Người dùng {role}", role, PASSWORD)
            )
            self.staff[role] = admin.login(self.st, name, PASSWORD)
        lot = admin.upsert_lot(
            self.st, self.staff["supervisor"], LotInput("PFIZER", "FK0891", "30/06/2027", 5000)
        )
        self.lot_id = lot.id

    def person_input(self) -> PersonInput:
        data = fake_person(self.rng, self.st.today())
        assert data.id_number is not None
        suffix = self.id_base * 1000 + self.n_ids
        self.n_ids += 1
        return replace(data, id_number=f"{data.id_number[:6]}{suffix:06d}", consent=True)

    def walk_in(self, *, vaccinate: bool) -> None:
        sup = self.staff["supervisor"]
        res = people.register_walk_in(self.st, sup, self.person_input())
        self.persons.append(res.person.id)
        self.kinds["walk_in"] += 1
        if not vaccinate:
            return
        screen_eligible(self.st, self.staff["screener"], res.person.id)
        self.kinds["screening"] += 1
        data = DoseInput(person_id=res.person.id, lot_id=self.lot_id)
        try:
            dose = clinical.record_dose(self.st, self.staff["clerk"], data)
        except NeedsConfirmation as exc:
            dose = clinical.record_dose(
                self.st,
                self.staff["clerk"],
                replace(data, confirm=frozenset(w.code for w in exc.warnings)),
            )
        self.doses.append(dose.id)
        self.kinds["dose"] += 1

    def expected(self, n: int, *, long_text: bool = False) -> None:
        """An expected list of ``n`` people; ``long_text`` fills address and occupation (bigger ops)."""
        day = self.st.today() + timedelta(days=self.rng.randint(1, 5))
        rows = [self.person_input() for _ in range(n)]
        if long_text:
            rows = [
                replace(
                    r,
                    address_line=(f"{r.address_line}, khu phố {i}, " + "ấp Bình Dương " * 20)[:200],
                    occupation=("Công nhân khu công nghiệp Biên Hòa " * 4)[:100],
                )
                for i, r in enumerate(rows)
            ]
        results = people.add_expected(self.st, self.staff["supervisor"], rows, day=day)
        self.persons += [r.person.id for r in results]
        self.kinds["expected"] += len(results)

    def void(self) -> None:
        live = [d for d in self.doses if d not in self.voided]
        if not live:
            return
        did = self.rng.choice(live)
        clinical.void_dose(self.st, self.staff["supervisor"], did, "Nhập nhầm người")
        self.voided.add(did)
        self.kinds["void"] += 1

    def observe(self) -> None:
        live = [d for d in self.doses if d not in self.voided and d not in self.observed]
        if not live:
            return
        did = self.rng.choice(live)
        clinical.end_observation(self.st, self.staff["clerk"], did, early_reason="doctor_allowed")
        self.observed.add(did)
        self.kinds["observe"] += 1

    def adverse_event(self) -> None:
        live = [d for d in self.doses if d not in self.voided]
        if not live:
            return
        clinical.record_adverse_event(
            self.st,
            self.staff["clerk"],
            self.rng.choice(live),
            severity="common",
            description="Sốt nhẹ",
        )
        self.kinds["aefi"] += 1

    def edit(self) -> None:
        if not self.persons:
            return
        pid = self.rng.choice(self.persons)
        roll = self.rng.random()
        if roll < 0.5:
            changes: dict[str, Any] = {"phone": f"09{self.rng.randint(0, 99_999_999):08d}"}
        elif roll < 0.8:
            changes = {"address_line": f"Số {self.rng.randint(1, 999)}, đường Đồng Khởi"}
        else:
            changes = {
                "full_name": self.rng.choice(["Nguyễn Văn Sửa", "Trần Thị Sửa", "Lê Minh Sửa"])
            }
        try:
            people.update_person(self.st, self.staff["supervisor"], pid, changes)
        except DomainError as exc:
            if exc.code != "person.no_change":
                raise
            return
        self.kinds["edit"] += 1

    def bogus_void(self) -> str:
        """Queue an op the hub must refuse (voiding a dose it never heard of); returns its op id.

        Written straight into the outbox, as a buggy client would: a refused op must
        not block the queue, even when its answer is lost and it is sent again.
        """
        op_id = uuid7()
        clock = self.st.clock()
        now = iso(clock)
        with self.st.sync_writer() as conn:
            last = conn.execute(
                text("SELECT hlc FROM sync_outbox ORDER BY op_seq DESC LIMIT 1")
            ).scalar()
            hlc = HLC.parse(last).tick(clock) if last else HLC().tick(clock)
            conn.execute(
                text(
                    "INSERT INTO sync_outbox (op_id, tx_id, op_type, op_version, entity_type, "
                    "entity_id, base_version, payload, hlc, recorded_at, user_id, state, attempts) "
                    "VALUES (:i, :i, 'void_dose', 1, 'dose', :d, 1, :p, :h, :at, :u, 'pending', 0)"
                ),
                {
                    "i": op_id,
                    "d": uuid7(),
                    "p": json.dumps({"reason": "Nhập nhầm", "voided_at": now}),
                    "h": hlc,
                    "at": now,
                    "u": self.staff["supervisor"].user_id if self.staff else None,
                },
            )
        self.kinds["bogus"] += 1
        return op_id

    def step(self) -> None:
        """One seeded user action."""
        roll = self.rng.random()
        if roll < 0.30:
            self.walk_in(vaccinate=True)
        elif roll < 0.40:
            self.walk_in(vaccinate=False)
        elif roll < 0.50:
            self.expected(self.rng.randint(1, 4))
        elif roll < 0.65:
            self.void()
        elif roll < 0.75:
            self.observe()
        elif roll < 0.80:
            self.adverse_event()
        else:
            self.edit()


# ---- the checks -----------------------------------------------------------------------------


def station_ops(st: Station) -> list[outbox.OutboxOp]:
    return outbox.next_batch(st, max_bytes=1 << 40, max_ops=1 << 30, from_seq=0)


def _norm(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return json.loads(v) if v[:1] in "[{" else v
        except ValueError:
            return v
    return v


def check_exactly_once(
    hub: Hub,
    st: Station,
    site: str,
    *,
    label: str,
    rejected: frozenset[str] = frozenset(),
    check_change_log: bool = True,
) -> dict[str, int]:
    """Assert every invariant of "exactly once, nothing lost" for one station; returns counts.

    ``label`` (seed, loop index) prefixes every failure message; ``rejected`` holds the
    op ids the workload made the hub refuse on purpose (exactly those must be refused).
    """
    ops = station_ops(st)
    station_id = st.install_id
    counts = outbox.counts(st)
    assert counts.pending == 0 and counts.inflight == 0, f"{label}: outbox not drained: {counts}"
    refused = {r.op_id: (r.op_type, r.reason) for r in outbox.rejected(st)}
    if set(refused) != set(rejected):
        with st.read() as conn:
            states = {
                oid: conn.execute(
                    text("SELECT state FROM sync_outbox WHERE op_id = :i"), {"i": oid}
                ).scalar()
                for oid in set(rejected) - set(refused)
            }
        hub_status = {
            oid: hub.scalar("SELECT status FROM applied_op WHERE op_id = :i", i=oid)
            for oid in states
        }
        raise AssertionError(
            f"{label}: rejected at the station {sorted(refused.values())}, expected "
            f"{len(rejected)} deliberate rejection(s); deliberate ones not rejected: station "
            f"state {sorted(states.values(), key=str)}, hub ledger {sorted(hub_status.values(), key=str)}"
        )
    assert len(ops) == counts.acked + counts.conflict + counts.rejected, (
        f"{label}: outbox rows vs states {counts}"
    )

    ledger = {
        r["op_id"]: r
        for r in hub.rows(
            "SELECT op_id, payload_sha256, status, op_type FROM applied_op WHERE station_id = :s",
            s=station_id,
        )
    }
    mine = {o.op_id: o for o in ops}
    missing = sorted(set(mine) - set(ledger))
    extra = sorted(set(ledger) - set(mine))
    assert not missing, (
        f"{label}: {len(missing)} station op(s) never reached the hub: {missing[:5]}"
    )
    assert not extra, (
        f"{label}: the hub ledgered {len(extra)} op(s) the station does not hold: {extra[:5]}"
    )
    bad_hash = [
        oid
        for oid, o in mine.items()
        if payload_hash(Op.model_validate(o.wire())) != ledger[oid]["payload_sha256"]
    ]
    assert not bad_hash, f"{label}: {len(bad_hash)} op(s) with a different payload hash at the hub"
    hub_rejected = {oid for oid, r in ledger.items() if r["status"] == "rejected"}
    assert hub_rejected == set(rejected), (
        f"{label}: the hub rejected {sorted(ledger[o]['op_type'] for o in hub_rejected)}, "
        f"expected {len(rejected)} deliberate rejection(s)"
    )

    # An op applied twice would show as two change rows of one entity from one origin op.
    doubled = hub.rows(
        "SELECT origin_op_id, entity_type, count(*) AS n FROM change_log WHERE origin_op_id IN "
        "(SELECT op_id FROM applied_op WHERE station_id = :s) "
        "GROUP BY origin_op_id, entity_type, entity_id, scope HAVING count(*) > 1",
        s=station_id,
    )
    assert not doubled, f"{label}: ops whose effect was written twice: {doubled[:5]}"

    if check_change_log:
        n, lo, hi = (
            hub.scalar("SELECT count(*) FROM change_log"),
            hub.scalar("SELECT min(server_seq) FROM change_log"),
            hub.scalar("SELECT max(server_seq) FROM change_log"),
        )
        head = hub.scalar("SELECT seq FROM hub_clock")
        assert (lo, hi, n) == (1, head, head), (
            f"{label}: change_log not gap-free: {n=} {lo=} {hi=} {head=}"
        )

    # The station's pulled rows equal the hub's rows for its site.
    for table, where in SCOPED_TABLES.items():
        cols = ("id", "version", *COMPARED_COLUMNS[table])
        sel = ", ".join(cols)
        hub_rows = {
            r["id"]: r for r in hub.rows(f"SELECT {sel} FROM {table} WHERE {where}", site=site)
        }
        with st.read() as conn:
            st_rows = {
                r["id"]: dict(r)
                for r in conn.execute(text(f"SELECT {sel} FROM {table}")).mappings()
            }
        only_st = sorted(set(st_rows) - set(hub_rows))
        only_hub = sorted(set(hub_rows) - set(st_rows))
        assert not only_st and not only_hub, (
            f"{label}: {table} ids differ: {len(only_st)} only at the station, {len(only_hub)} only at the hub"
        )
        diffs = [
            (rid, c, st_rows[rid][c], hub_rows[rid][c])
            for rid in st_rows
            for c in cols
            if _norm(st_rows[rid][c]) != _norm(hub_rows[rid][c])
        ]
        assert not diffs, f"{label}: {table} rows differ (id, column, station, hub): {diffs[:5]}"

    with st.read() as conn:
        assert integrity_check(conn) == ["ok"], f"{label}: station integrity_check failed"
        chain = verify_chain(conn)
        assert chain.ok, f"{label}: audit chain broken at seq {chain.first_bad_seq}"
        doses = int(conn.execute(text("SELECT count(*) FROM dose")).scalar_one())
    return {
        "ops": len(ops),
        "doses": doses,
        "conflict": counts.conflict,
        "rejected": counts.rejected,
    }
