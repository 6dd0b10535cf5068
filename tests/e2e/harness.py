"""End-to-end harness: a real hub over HTTP and real stations with their own data directories.

* :class:`Cluster` owns a hub (``hub.server.run_hub``: uvicorn on 127.0.0.1) backed by a
  SQLite file or a database in the throwaway PostgreSQL cluster, and the :class:`Node` s.
* A :class:`Node` is a real station: ``init_station`` in its own directory with the install
  id the hub enrolled through the real ``/enroll`` API with a one-time code, its own
  :class:`~tests.conftest.FakeClock`, staff per role, a lot, and a real
  :class:`~sync.engine.SyncEngine` talking HTTP to the hub. The first station of a site
  creates the site's users and lot; later stations of that site get them by sync (the
  users table is unique per site and username, so two stations creating "thuky" would be
  two different people).
* :meth:`Cluster.sync_all` syncs every station, round after round, until quiescent.
* :meth:`Cluster.assert_converged` compares NORMALISED DUMPS: each station's synced tables
  against the hub's rows restricted to that station's scope (what its pull must deliver),
  and :meth:`Cluster.check_hub_invariants` checks the ledger, doses and the change log.

Only synthetic data (``station.demo.fake_person`` and fixed test values) is used, so the
diffs printed in assertion messages never hold real personal data.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, Phase, settings
from sqlalchemy import bindparam, text

import sync.engine as engine_mod
from hub import service
from hub.app import HubSettings
from hub.db import Database
from hub.models import HUB_ONLY_COLUMNS
from hub.server import RunningHub, run_hub
from kernel.errors import DomainError, NeedsConfirmation, NotFound, ValidationError
from kernel.ids import uuid7
from station.demo import fake_person
from station.dto import DoseInput, LotInput, PersonInput, UserInput
from station.services import admin, clinical, people
from station.store import Actor, Station, init_station, open_station
from sync.client import HubClient
from sync.engine import SyncEngine, SyncReport, SyncSettings
from sync.protocol import EnrollRequest
from tests.conftest import FakeClock
from tests.pg import PgCluster, in_ci
from tests.station.helpers import screen_eligible

PASSWORD = "mat-khau-123"
ROLES = ("volunteer", "clerk", "screener", "supervisor")
USERNAMES = {"volunteer": "tnv", "clerk": "thuky", "screener": "bacsi", "supervisor": "giamsat"}

# Station tables that sync, keyed by their id column.
SYNCED = {
    "person": "id",
    "registration": "id",
    "screening": "id",
    "dose": "id",
    "adverse_event": "id",
    "vaccine_lot": "id",
    "app_user": "id",
    "person_redirect": "from_id",
    "conflict": "id",
}

Rows = dict[str, dict[str, Any]]  # id -> normalised row
Dump = dict[str, Rows]  # table -> rows


class CrashHere(BaseException):
    """Raised at an engine crash point: the process "dies" there (BaseException, like exit).

    A BaseException passes every ``except Exception`` in the engine, as ``os._exit`` would.
    """


# ---- nodes ---------------------------------------------------------------------------


@dataclass
class Staff:
    volunteer: Actor
    clerk: Actor
    screener: Actor
    supervisor: Actor


@dataclass
class Node:
    """One station: its files, its clock, its sync engine."""

    name: str
    site: str
    letter: str
    data_dir: Path
    clock: FakeClock
    token: str
    hub_url: str
    st: Station
    staff: Staff | None = None
    lot_id: str | None = None
    engine: SyncEngine = field(init=False)

    def __post_init__(self) -> None:
        self.engine = self._make_engine()

    def _make_engine(self) -> SyncEngine:
        url, token = self.hub_url, self.token

        def factory() -> HubClient:
            return HubClient(url, token, connect_timeout_s=2.0, read_timeout_s=30.0)

        return SyncEngine(self.st, factory, settings=SyncSettings(seed=1))

    @property
    def install_id(self) -> str:
        return self.st.install_id

    # ---- lifecycle -------------------------------------------------------------------

    def reopen(self) -> None:
        """Close the Station (engines disposed, like a process exit) and open it again."""
        self.st.close()
        self.st = open_station(self.data_dir, clock=self.clock)
        self.engine = self._make_engine()

    def close(self) -> None:
        self.st.close()

    # ---- sync ------------------------------------------------------------------------

    def sync(self) -> SyncReport:
        """One full engine cycle (tally, push until empty, pull to the head); must succeed."""
        rep = self.engine.run_once()
        assert rep.ok, f"{self.name}: sync failed: {rep.error} {rep.errors}"
        return rep

    def push_only(self) -> SyncReport:
        """Push the outbox but do not pull (a cycle cut short after its push phase).

        Uses the engine's own push phase (the code under test), not a copy of it.
        """
        rep = SyncReport()
        client = self.engine.client_factory()
        try:
            self.engine._push_all(client, rep, deadline=float("inf"))
        finally:
            client.close()
        return rep

    def pull_only(self) -> SyncReport:
        """Pull to the head without pushing (e.g. new local edits made while a pull runs)."""
        rep = SyncReport()
        client = self.engine.client_factory()
        try:
            self.engine._pull_all(client, rep, deadline=float("inf"))
        finally:
            client.close()
        return rep

    def sync_crashing_at(self, point: str) -> bool:
        """Run a cycle that dies at ``point``; reopen the station. True if it did die there."""
        hits = {"n": 0}

        def crash(name: str) -> None:
            if name == point:
                hits["n"] += 1
                raise CrashHere(name)

        died = False
        with mock.patch.object(engine_mod, "crash_point", crash):
            try:
                self.engine.run_once()
            except CrashHere:
                died = True
        self.reopen()
        return died

    def lose_acks(self, limit: int | None = None) -> list[str]:
        """Mimic lost acks: put acked ops back to pending, as if their answers never came."""
        with self.st.sync_writer() as conn:
            ids = list(
                conn.execute(
                    text(
                        "SELECT op_id FROM sync_outbox WHERE state = 'acked' "
                        "ORDER BY op_seq DESC LIMIT :n"
                    ),
                    {"n": -1 if limit is None else limit},
                ).scalars()
            )
            if ids:
                conn.execute(
                    text(
                        "UPDATE sync_outbox SET state = 'pending', ack_server_seq = NULL, "
                        "ack_at = NULL WHERE op_id IN :ids"
                    ).bindparams(bindparam("ids", expanding=True)),
                    {"ids": ids},
                )
        return ids

    # ---- reads -----------------------------------------------------------------------

    def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.st.read() as conn:
            return [dict(r) for r in conn.execute(text(sql), params).mappings()]

    def scalar(self, sql: str, **params: Any) -> Any:
        with self.st.read() as conn:
            return conn.execute(text(sql), params).scalar()

    def outbox(self) -> list[dict[str, Any]]:
        return self.rows(
            "SELECT op_seq, op_id, op_type, entity_type, entity_id, payload, hlc, state, "
            "last_error, ack_server_seq FROM sync_outbox ORDER BY op_seq"
        )

    def waiting(self) -> int:
        return int(
            self.scalar("SELECT count(*) FROM sync_outbox WHERE state IN ('pending', 'inflight')")
        )

    def cursor(self) -> int:
        return int(self.st.sync_state()["pull_cursor"])

    def person(self, pid: str) -> dict[str, Any] | None:
        got = self.rows("SELECT * FROM person WHERE id = :i", i=pid)
        return got[0] if got else None

    def doses_of(self, pid: str) -> list[dict[str, Any]]:
        return self.rows("SELECT * FROM dose WHERE person_id = :p ORDER BY id", p=pid)

    def reviews(self, kind: str | None = None) -> list[dict[str, Any]]:
        out = self.rows("SELECT * FROM conflict ORDER BY created_at, id")
        for r in out:
            r["candidates"] = json.loads(r["candidates"]) if r["candidates"] else {}
            r["resolution"] = json.loads(r["resolution"]) if r["resolution"] else None
        return [r for r in out if kind is None or r["kind"] == kind]

    def meta_leftovers(self) -> list[str]:
        """Parked or deferred hub rows still kept aside (must be none once quiescent)."""
        return [
            str(k)
            for k in self.rows(
                "SELECT key FROM meta WHERE key LIKE 'parked:%' OR key LIKE 'deferred:%'"
            )
        ]

    def dump(self) -> Dump:
        out: Dump = {}
        with self.st.read() as conn:
            for table, key in SYNCED.items():
                rows = [dict(r) for r in conn.execute(text(f"SELECT * FROM {table}")).mappings()]
                out[table] = {str(r[key]): normalise_station_row(table, r) for r in rows}
        return out

    # ---- clinical helpers (through the real services) ---------------------------------

    def require_staff(self) -> Staff:
        assert self.staff is not None, f"{self.name} has no staff yet (sync it first)"
        return self.staff

    def walk_in(self, data: PersonInput) -> str:
        res = people.register_walk_in(self.st, self.require_staff().volunteer, data)
        return res.person.id

    def ensure_checked_in(self, pid: str) -> None:
        """A registration today at this site, checked in (adds one for a known person)."""
        staff = self.require_staff()
        today = self.st.today().isoformat()
        reg = self.rows(
            "SELECT r.id, r.status FROM registration r WHERE r.person_id = :p "
            "AND r.site_code = :s AND r.day = :d",
            p=pid,
            s=self.site,
            d=today,
        )
        if not reg:
            people.add_registration(self.st, staff.volunteer, pid, check_in=True)
        elif reg[0]["status"] == "expected":
            people.check_in(self.st, staff.volunteer, reg[0]["id"])

    def vaccinate(self, pid: str, *, screen: bool = True, **dose: Any) -> str:
        """Screen (eligible) and record a dose today, confirming any warnings; returns its id."""
        staff = self.require_staff()
        assert self.lot_id is not None
        if screen:
            self.ensure_checked_in(pid)
            screen_eligible(self.st, staff.screener, pid)
        data = DoseInput(pid, self.lot_id, **dose)
        try:
            return clinical.record_dose(self.st, staff.clerk, data).id
        except NeedsConfirmation as exc:
            codes = frozenset(w.code for w in exc.warnings)
            return clinical.record_dose(
                self.st, staff.clerk, DoseInput(pid, self.lot_id, confirm=codes, **dose)
            ).id

    def void(self, dose_id: str, reason: str = "nhập nhầm liều") -> None:
        clinical.void_dose(self.st, self.require_staff().supervisor, dose_id, reason)

    def edit(self, pid: str, **changes: Any) -> None:
        people.update_person(self.st, self.require_staff().supervisor, pid, changes)


# ---- normalisation -------------------------------------------------------------------


def _json(v: Any) -> Any:
    if v is None or isinstance(v, dict | list):
        return v
    return json.loads(v)


def normalise_station_row(table: str, row: dict[str, Any]) -> dict[str, Any]:
    r = dict(row)
    if table == "person":
        # rid: the station's local autoincrement row id (FTS rowid), never synced.
        r.pop("rid", None)
    if table == "conflict":
        # Stored as JSON text at the station, as JSON at the hub: compare parsed.
        r["candidates"] = _json(r["candidates"]) or {}
        r["resolution"] = _json(r["resolution"])
    return r


def _hub_rows(sess: Any, sql: str, **params: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in sess.execute(text(sql), params).mappings()]


def hub_scope_dump(db: Database, site: str) -> Dump:
    """The hub's rows a station of ``site`` must hold after pulling to the head.

    Derived from the hub's own bookkeeping (``person_site``, site codes, review sites)
    as docs/protocol.md defines scope, and shaped as the station stores rows.
    """
    out: Dump = {t: {} for t in SYNCED}
    with db.read() as s:
        persons = {
            str(p)
            for p in s.execute(
                text("SELECT person_id FROM person_site WHERE site_code = :s"), {"s": site}
            ).scalars()
        }
        for r in _hub_rows(s, "SELECT * FROM person"):
            if r["id"] in persons:
                out["person"][r["id"]] = _hub_domain("person", r, site)
        for table in ("registration", "screening", "vaccine_lot", "app_user"):
            for r in _hub_rows(s, f"SELECT * FROM {table} WHERE site_code = :s", s=site):
                out[table][r["id"]] = _hub_domain(table, r, site)
        for table in ("dose", "adverse_event"):
            for r in _hub_rows(s, f"SELECT * FROM {table}"):
                if r["person_id"] in persons:
                    out[table][r["id"]] = _hub_domain(table, r, site)
        for r in _hub_rows(s, "SELECT * FROM person_redirect"):
            if r["from_id"] in persons or r["to_id"] in persons:
                out["person_redirect"][r["from_id"]] = _hub_domain("person_redirect", r, site)
        for r in _hub_rows(s, "SELECT * FROM review_item"):
            sites = _json(r["site_codes"]) or []
            if site in sites:
                # site_codes, origin_op_id, version: hub bookkeeping the review payload
                # does not carry (the station's conflict table has no such columns).
                out["conflict"][r["id"]] = {
                    "id": r["id"],
                    "kind": r["kind"],
                    "priority": r["priority"],
                    "entity_type": r["entity_type"],
                    "entity_id": r["entity_id"],
                    "status": r["status"],
                    "candidates": _json(r["candidates"]) or {},
                    "created_at": r["created_at"],
                    "resolution": _json(r["resolution"]),
                }
    return out


def _hub_domain(table: str, r: dict[str, Any], site: str) -> dict[str, Any]:
    row = dict(r)
    # Hub-only bookkeeping never sent to stations (hub.models.HUB_ONLY_COLUMNS).
    for col in HUB_ONLY_COLUMNS:
        row.pop(col, None)
    if table == "person_redirect":
        # The station's person_redirect has no version column (the version rides on the change).
        row.pop("version", None)
    if table == "dose" and row["site_code"] != site:
        # Documented in docs/protocol.md: lots and screenings are site-scoped, so a dose
        # given at another site arrives with lot_id and screening_id null (lot_number stays).
        row["lot_id"] = None
        row["screening_id"] = None
    return row


def diff_dumps(station: Dump, hub: Dump) -> list[str]:
    """Human-readable differences (synthetic data only), bounded in length."""
    out: list[str] = []
    for table in SYNCED:
        a, b = station.get(table, {}), hub.get(table, {})
        for key in sorted(set(a) | set(b)):
            if key not in b:
                out.append(f"{table}[{key}]: only at the station {_short(a[key])}")
            elif key not in a:
                out.append(f"{table}[{key}]: missing at the station {_short(b[key])}")
            elif a[key] != b[key]:
                cols = sorted(set(a[key]) | set(b[key]))
                for c in cols:
                    if a[key].get(c, "<absent>") != b[key].get(c, "<absent>"):
                        out.append(
                            f"{table}[{key}].{c}: station={a[key].get(c, '<absent>')!r} "
                            f"hub={b[key].get(c, '<absent>')!r}"
                        )
    return out[:60]


def _short(row: dict[str, Any]) -> str:
    keep = ("status", "person_id", "site_code", "kind", "to_id", "voided", "version")
    return str({k: row[k] for k in keep if k in row})


# ---- the cluster ---------------------------------------------------------------------


@dataclass
class Cluster:
    """A hub over real HTTP and the stations enrolled with it."""

    root: Path
    backend: str  # "sqlite" | "postgres"
    pg: PgCluster | None = None
    nodes: list[Node] = field(default_factory=list)
    clock: FakeClock = field(default_factory=FakeClock)  # the hub's clock
    running: RunningHub | None = None
    db: Database | None = None
    _stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)
    _seq: int = 0

    # ---- start and stop -----------------------------------------------------------------

    def start(self) -> Cluster:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.backend == "sqlite":
            url = f"sqlite:///{self.root / 'hub.db'}"
        else:
            assert self.backend == "postgres", self.backend
            if self.pg is None:
                import pytest

                if in_ci():  # CI must run the PostgreSQL tests (tests.pg raises there already)
                    raise RuntimeError("PostgreSQL unavailable in CI")
                pytest.skip("PostgreSQL binaries not installed (CI must have them)")
            url = self.pg.create_database()
        self.running = self._stack.enter_context(
            run_hub(HubSettings(database_url=url, clock=self.clock))
        )
        self.db = Database(url)
        self._stack.callback(self.db.dispose)
        return self

    def close(self) -> None:
        for n in self.nodes:
            with contextlib.suppress(Exception):
                n.close()
        self._stack.close()

    def __enter__(self) -> Cluster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def hub_db(self) -> Database:
        assert self.db is not None
        return self.db

    # ---- hub helpers -------------------------------------------------------------------

    def hub_rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        with self.hub_db.read() as s:
            return _hub_rows(s, sql, **params)

    def hub_scalar(self, sql: str, **params: Any) -> Any:
        with self.hub_db.read() as s:
            return s.execute(text(sql), params).scalar()

    def hub_reviews(self, kind: str | None = None) -> list[dict[str, Any]]:
        out = self.hub_rows("SELECT * FROM review_item ORDER BY created_at, id")
        for r in out:
            r["candidates"] = _json(r["candidates"]) or {}
            r["resolution"] = _json(r["resolution"])
            r["site_codes"] = _json(r["site_codes"]) or []
        return [r for r in out if kind is None or r["kind"] == kind]

    def ledger(self, op_id: str) -> dict[str, Any]:
        got = self.hub_rows("SELECT * FROM applied_op WHERE op_id = :i", i=op_id)
        assert len(got) == 1, f"op {op_id} in applied_op {len(got)} times"
        row = got[0]
        row["result"] = _json(row["result"])
        return row

    # ---- stations ----------------------------------------------------------------------

    def add_node(self, site: str, letter: str, *, lot_number: str | None = None) -> Node:
        """Enroll a new station with a one-time code, then create its data directory.

        The first station of a site creates the site's staff and a lot; a later one pulls
        them (sync) and logs the same users in.
        """
        assert self.running is not None
        if self.hub_scalar("SELECT count(*) FROM site WHERE code = :c", c=site) == 0:
            service.add_site(self.hub_db, site, f"Điểm tiêm {site}", "75", now=self.clock())
        code = service.new_enrollment_code(self.hub_db, site, ttl_hours=1, now=self.clock())
        install_id = uuid7()
        self._seq += 1
        name = f"st{self._seq}"
        with HubClient(self.running.url) as c:
            enrolled = c.enroll(
                EnrollRequest(code=code, station_id=install_id, station_name=f"may {name}")
            )
        assert enrolled.site_code == site
        clock = FakeClock(self.clock.now)
        st = init_station(
            self.root / name, site, clock=clock, station_letter=letter, install_id=install_id
        )
        node = Node(
            name, site, letter, self.root / name, clock, enrolled.token, self.running.url, st
        )
        self.nodes.append(node)
        first_of_site = not any(n.site == site and n.staff is not None for n in self.nodes)
        if first_of_site:
            system = Actor.system(site)
            for role in ROLES:
                admin.create_user(
                    st, system, UserInput(USERNAMES[role], f"Người dùng {role}", role, PASSWORD)
                )
            node.staff = _login(st)
            lot = admin.upsert_lot(
                st,
                node.staff.supervisor,
                LotInput("PFIZER", lot_number or f"FK{self._seq:04d}", "30/06/2027", 500),
            )
            node.lot_id = lot.id
        else:
            # The users and the lot of the site come by sync, as on a real second laptop.
            for other in self.nodes:
                if other.site == site and other is not node:
                    other.sync()
            node.sync()
            node.staff = _login(st)
            node.lot_id = str(
                node.scalar("SELECT id FROM vaccine_lot WHERE site_code = :s LIMIT 1", s=site)
            )
        return node

    def advance(self, **kw: float) -> None:
        """Time passes for everyone (the hub and every station)."""
        self.clock.advance(**kw)
        for n in self.nodes:
            n.clock.advance(**kw)

    # ---- sync and checks -------------------------------------------------------------------

    def head(self) -> int:
        return int(self.hub_scalar("SELECT seq FROM hub_clock WHERE id = 1"))

    def quiescent(self) -> bool:
        head = self.head()
        return all(n.waiting() == 0 and n.cursor() == head for n in self.nodes)

    def sync_all(
        self, rounds: int = 8, order: Callable[[list[Node]], list[Node]] | None = None
    ) -> int:
        """Sync every station, round after round, until quiescent (bounded); returns rounds."""
        for i in range(1, rounds + 1):
            for n in order(list(self.nodes)) if order else self.nodes:
                n.sync()
            if self.quiescent():
                return i
        raise AssertionError(
            f"not quiescent after {rounds} rounds: head={self.head()} "
            + ", ".join(f"{n.name}: waiting={n.waiting()} cursor={n.cursor()}" for n in self.nodes)
        )

    def assert_converged(self) -> None:
        """Every station equals the hub's rows in its scope, table by table, column by column."""
        problems: list[str] = []
        for n in self.nodes:
            mine = n.dump()
            theirs = hub_scope_dump(self.hub_db, n.site)
            for table in SYNCED:
                a = next(iter(mine[table].values()), None)
                b = next(iter(theirs[table].values()), None)
                if a is not None and b is not None and set(a) != set(b):
                    problems.append(f"{n.name} {table}: columns {sorted(set(a) ^ set(b))} differ")
            problems += [f"{n.name} {d}" for d in diff_dumps(mine, theirs)]
            problems += [f"{n.name} kept aside: {k}" for k in n.meta_leftovers()]
        assert not problems, "stations and hub diverge:\n" + "\n".join(problems[:80])

    def check_hub_invariants(self, *, allow_rejected: frozenset[str] = frozenset()) -> None:
        """The ledger holds every station op exactly once; doses neither lost nor doubled;
        the change log numbers commits without gaps; every outbox drained."""
        ledger = self.hub_rows("SELECT op_id, station_id, op_type, status FROM applied_op")
        by_station: dict[str, set[str]] = {}
        for r in ledger:
            by_station.setdefault(r["station_id"], set()).add(r["op_id"])
        made_doses: set[str] = set()
        for n in self.nodes:
            ops = n.outbox()
            ids = [o["op_id"] for o in ops]
            assert len(ids) == len(set(ids)), f"{n.name}: an op id twice in the outbox"
            station_ops = {r["op_id"] for r in ledger if r["station_id"] == n.install_id}
            hub_origin = {
                r["op_id"]
                for r in self.hub_rows(
                    "SELECT op_id FROM applied_op WHERE station_id = :s AND replica_epoch = 'hub'",
                    s=n.install_id,
                )
            }
            assert set(ids) == station_ops - hub_origin, (
                f"{n.name}: outbox and hub ledger differ: "
                f"missing at hub {sorted(set(ids) - station_ops)[:5]}, "
                f"unknown to the station {sorted(station_ops - hub_origin - set(ids))[:5]}"
            )
            assert n.waiting() == 0, f"{n.name}: {n.waiting()} ops still waiting"
            bad = [
                (o["op_type"], o["last_error"])
                for o in ops
                if o["state"] == "rejected" and o["op_id"] not in allow_rejected
            ]
            assert not bad, f"{n.name}: ops rejected by the hub: {bad}"
            # The HLC only moves forward, whatever the wall clock did.
            hlcs = [o["hlc"] for o in ops]
            assert all(a < b for a, b in itertools.pairwise(hlcs)), f"{n.name}: HLC went back"
            made_doses |= {o["entity_id"] for o in ops if o["op_type"] == "record_dose"}
        hub_doses = [str(d["id"]) for d in self.hub_rows("SELECT id FROM dose")]
        hub_dose_ids = set(hub_doses)
        assert len(hub_doses) == len(hub_dose_ids)
        assert hub_dose_ids == made_doses, (
            f"doses lost {sorted(made_doses - hub_dose_ids)[:5]} "
            f"or unknown {sorted(hub_dose_ids - made_doses)[:5]}"
        )
        seqs = [int(r["server_seq"]) for r in self.hub_rows("SELECT server_seq FROM change_log")]
        head = self.head()
        if seqs:
            assert min(seqs) == 1 and max(seqs) == head and len(seqs) == head, (
                f"change_log has gaps: {len(seqs)} rows, min {min(seqs)}, max {max(seqs)}, "
                f"head {head}"
            )
        else:
            assert head == 0

    def converge(self, rounds: int = 8) -> None:
        """Sync until quiescent, then every check."""
        self.sync_all(rounds)
        self.assert_converged()
        self.check_hub_invariants()


def _login(st: Station) -> Staff:
    return Staff(**{role: admin.login(st, USERNAMES[role], PASSWORD) for role in ROLES})


# ---- synthetic people ------------------------------------------------------------------


class People:
    """Synthetic persons (station.demo.fake_person) with unique CCCDs."""

    def __init__(self, seed: int = 1) -> None:
        self.rng = random.Random(seed)
        self.n = 0

    def make(self, **over: Any) -> PersonInput:
        self.n += 1
        p = fake_person(self.rng, date(2026, 12, 1))
        # A unique serial in the CCCD's last six digits (fake_person's are random).
        id_number = p.id_number[:6] + f"{self.n:06d}" if p.id_number else None
        values: dict[str, Any] = {
            "full_name": p.full_name,
            "birth": p.birth,
            "sex": p.sex,
            "id_type": "cccd",
            "id_number": id_number,
            "phone": f"09{self.n:08d}",
            "province_code": p.province_code,
            "ward_code": p.ward_code,
            "address_line": p.address_line,
            "priority_group": p.priority_group,
        }
        values.update(over)
        return PersonInput(**values)


def safe(fn: Callable[[], Any]) -> Any:
    """Run a station service; a refusal the station makes on purpose returns None."""
    try:
        return fn()
    except (DomainError, ValidationError, NotFound):
        return None


def model_settings(examples: int, steps: int) -> settings:
    """Settings of the end-to-end state machines: fixed (derandomized) examples, no deadline.

    Shrinking re-runs whole clusters (seconds each) and would blow the CI budget: a failure is
    reported as generated. TRAMTIEM_E2E_SHRINK=1 shrinks it (locally).
    """
    phases = [Phase.explicit, Phase.reuse, Phase.generate]
    if os.environ.get("TRAMTIEM_E2E_SHRINK") == "1":
        phases.append(Phase.shrink)
    return settings(
        max_examples=examples,
        stateful_step_count=steps,
        deadline=None,
        derandomize=True,
        database=None,
        phases=phases,
        report_multiple_bugs=False,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
