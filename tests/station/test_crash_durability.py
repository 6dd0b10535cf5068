"""Crash durability: a writer process killed with SIGKILL loses nothing it reported.

``crash_writer.py`` runs as a subprocess on a real SQLCipher station and writes
through the services in a loop, printing ``COMMITTED ...`` (ids only) after each
service call returns. The test kills it with SIGKILL at random moments, reopens
the station and checks that:

* ``PRAGMA integrity_check`` is ok, no foreign key is broken, the FTS index
  matches the person table and the audit chain verifies;
* every write the writer reported as committed is present (outbox op and
  domain rows);
* the outbox and the domain tables agree: every op's entity exists, every
  domain row is covered by an op, every op has its audit entry;
* multi-statement service calls are whole (a dose implies a vaccinated
  registration, an import batch is all rows or none);
* nothing that was there before a kill disappears after it.

The key lives in a keyrings.alt PlaintextKeyring under ``tmp_path``, chosen
explicitly through ``PYTHON_KEYRING_BACKEND`` so the subprocess finds it.
"""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring
from sqlalchemy import text

from station.audit import verify_chain
from station.db import integrity_check
from station.demo import ensure_lots, ensure_users
from station.store import init_station, open_station

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
    pytest.mark.slow,  # fast lane (./dev test --fast) leaves it out; ./dev test runs it
]

REPO_ROOT = Path(__file__).resolve().parents[2]
WRITER = Path(__file__).resolve().with_name("crash_writer.py")
PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"
SITE = "DN-KILL-01"
KILLS = 20
BATCH_KILLS = 6
BATCH_SIZE = 500
LINE_TIMEOUT_S = 30.0  # a healthy writer says READY in well under a second

# entity_type of an op -> the table holding that entity
ENTITY_TABLES = {
    "person": "person",
    "registration": "registration",
    "screening": "screening",
    "dose": "dose",
    "vaccine_lot": "vaccine_lot",
    "app_user": "app_user",
}
# op types that create a row of each table (the row's id is the op's entity_id)
CREATING_OPS = {
    "person": ("register_person",),
    "registration": ("add_registration",),  # plus register_person's payload registration
    "screening": ("record_screening",),
    "dose": ("record_dose",),
    "vaccine_lot": ("upsert_lot",),
    "app_user": ("upsert_user",),
}


# ---- the station, with its key in a plaintext keyring the subprocess can read -----------


@pytest.fixture
def kill_station(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", PLAINTEXT)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    try:
        data_dir = tmp_path / "station"
        with init_station(data_dir, SITE) as st:
            actors = ensure_users(st)
            ensure_lots(st, actors["supervisor"], st.today())
        assert (tmp_path / "xdg" / "python_keyring" / "keyring_pass.cfg").exists()
        yield data_dir
    finally:
        keyring.set_keyring(previous)


# ---- running and killing the writer ---------------------------------------------------------


class WriterProcess:
    """The writer subprocess; a thread collects its complete stdout lines."""

    def __init__(
        self, data_dir: Path, log_dir: Path, *, seed: int, id_base: int, mode: str
    ) -> None:
        self.stderr_path = log_dir / f"writer-{mode}-{seed}.err"
        self._stderr = self.stderr_path.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                str(WRITER),
                str(data_dir),
                "--seed",
                str(seed),
                "--id-base",
                str(id_base),
                "--mode",
                mode,
                "--batch-size",
                str(BATCH_SIZE),
            ],
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            stdin=subprocess.DEVNULL,
            cwd=REPO_ROOT,
            env=dict(os.environ),
        )
        self.lines: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for raw in iter(self.proc.stdout.readline, b""):
            if raw.endswith(b"\n"):  # a line cut by the kill was never reported
                self._queue.put(raw.decode("ascii").rstrip("\n"))
        self._queue.put(None)

    def stderr(self) -> str:
        self._stderr.flush()
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")[-4000:]

    def wait_for(self, prefix: str, timeout: float = LINE_TIMEOUT_S) -> float:
        """Collect lines until one starts with ``prefix``; returns when it arrived."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail(f"writer printed no {prefix!r} in {timeout}s; stderr:\n{self.stderr()}")
            try:
                line = self._queue.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                pytest.fail(
                    f"writer exited ({self.proc.wait(5)}) before {prefix!r}; stderr:\n{self.stderr()}"
                )
            self.lines.append(line)
            if line.startswith(prefix):
                return time.monotonic()

    def kill(self) -> list[str]:
        """SIGKILL the writer; all complete lines it printed."""
        alive = self.proc.poll() is None
        if alive:
            os.kill(self.proc.pid, signal.SIGKILL)
        rc = self.proc.wait(timeout=15)
        self._reader.join(timeout=15)
        assert not self._reader.is_alive(), "stdout reader did not finish"
        while (line := self._queue.get(timeout=1)) is not None:
            self.lines.append(line)
        self._stderr.close()
        assert alive and rc == -signal.SIGKILL, (
            f"writer died on its own (rc={rc}); stderr:\n{self.stderr()}"
        )
        return self.lines


# ---- what the writer reported -----------------------------------------------------------------


@dataclass
class Reported:
    walk_ins: list[tuple[str, str, str]] = field(default_factory=list)  # person, op, registration
    screenings: list[tuple[str, str]] = field(default_factory=list)  # screening, op
    doses: list[tuple[str, str]] = field(default_factory=list)  # dose, op
    expected: list[tuple[str, str, str, str]] = field(default_factory=list)  # person, op, reg, ref
    batches: list[tuple[str, int, str, str]] = field(default_factory=list)  # ref, n, first, last
    begun: list[str] = field(default_factory=list)  # import refs announced with BEGIN

    def add(self, lines: list[str]) -> int:
        """Parse the lines of one run; returns how many COMMITTED lines there were."""
        n = 0
        for line in lines:
            parts = line.split()
            if parts[0] == "BEGIN":
                self.begun.append(parts[1])
                continue
            if parts[0] != "COMMITTED":
                continue
            n += 1
            kind, rest = parts[1], parts[2:]
            if kind == "walk_in":
                self.walk_ins.append((rest[0], rest[1], rest[2]))
            elif kind == "screening":
                self.screenings.append((rest[0], rest[1]))
            elif kind == "dose":
                self.doses.append((rest[0], rest[1]))
            elif kind == "expected":
                self.expected.append((rest[0], rest[1], rest[2], rest[3]))
            elif kind == "batch":
                self.batches.append((rest[0], int(rest[1]), rest[2], rest[3]))
            else:  # pragma: no cover - a writer bug
                pytest.fail(f"unknown line kind {kind!r}")
        return n


# ---- checking the reopened station --------------------------------------------------------------


@dataclass
class Snapshot:
    counts: dict[str, int]
    op_ids: set[str]
    audit_entries: int
    import_refs: dict[str, int]  # import_ref -> registrations


def check_station(data_dir: Path, rep: Reported, before: Snapshot | None) -> Snapshot:
    """Reopen the station after a kill and check everything the module docstring lists."""
    with open_station(data_dir, migrate=False) as st:
        with st.engine.connect() as raw:
            # FTS5's own consistency check (an INSERT command that writes nothing).
            raw.exec_driver_sql("INSERT INTO person_fts(person_fts) VALUES ('integrity-check')")
        with st.read() as conn:
            assert integrity_check(conn) == ["ok"]
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            chain = verify_chain(conn)
            assert chain.ok, f"audit chain broken at seq {chain.first_bad_seq}"
            ids = {
                t: {str(r[0]) for r in conn.execute(text(f"SELECT id FROM {t}"))}
                for t in ENTITY_TABLES.values()
            }
            ops = conn.execute(
                text(
                    "SELECT op_id, tx_id, op_type, entity_type, entity_id, payload, state FROM sync_outbox"
                )
            ).all()
            audited = {
                str(r[0])
                for r in conn.execute(text("SELECT op_id FROM audit_log WHERE op_id IS NOT NULL"))
            }
            reg_rows = {
                str(r[0]): (str(r[1]), str(r[2]), str(r[3]), r[4])
                for r in conn.execute(
                    text("SELECT id, person_id, day, status, import_ref FROM registration")
                )
            }
            dose_regs = conn.execute(
                text(
                    "SELECT d.id, r.status FROM dose d LEFT JOIN registration r ON "
                    "r.person_id = d.person_id AND r.site_code = d.site_code AND r.day = d.day"
                )
            ).all()
            screening_regs = conn.execute(
                text(
                    "SELECT s.id, r.status FROM screening s "
                    "LEFT JOIN registration r ON r.id = s.registration_id"
                )
            ).all()

    op_by_id = {str(o[0]): o for o in ops}
    assert len(op_by_id) == len(ops)
    assert {o[6] for o in ops} <= {"pending"}, "nothing syncs here: every op is pending"
    # Every op was audited in its own transaction, and every audited op exists.
    assert set(op_by_id) == audited

    # Every op's entity exists; every domain row is covered by the op that made it.
    made: dict[str, set[str]] = defaultdict(set)
    batch_ops: dict[str, list[str]] = defaultdict(list)  # import_ref -> tx_ids of its ops
    for op_id, tx_id, op_type, entity_type, entity_id, payload, _state in ops:
        table = ENTITY_TABLES.get(entity_type)
        assert table is not None, f"op {op_id} of unexpected entity type {entity_type}"
        assert entity_id in ids[table], f"op {op_id} ({op_type}) but no {table} row {entity_id}"
        if op_type in CREATING_OPS[table]:
            made[table].add(entity_id)
        body = json.loads(payload)
        reg = (
            body.get("registration") if op_type in ("register_person", "add_registration") else None
        )
        if reg is not None:
            assert reg["id"] in ids["registration"], f"op {op_id}: registration {reg['id']} missing"
            made["registration"].add(reg["id"])
            if reg.get("import_ref"):
                batch_ops[reg["import_ref"]].append(tx_id)
        if op_type == "record_screening":
            assert body["registration_id"] in ids["registration"]
    for table, have in ids.items():
        orphans = have - made[table]
        assert not orphans, f"{len(orphans)} {table} row(s) without the op that made them"

    # Multi-statement service calls are whole.
    for dose_id, status in dose_regs:
        assert status == "vaccinated", f"dose {dose_id} but its registration is {status}"
    for screening_id, status in screening_regs:
        assert status in ("cleared", "vaccinated"), (
            f"screening {screening_id}: registration {status}"
        )
    import_refs = Counter(r[3] for r in reg_rows.values() if r[3] is not None)
    assert set(import_refs) == set(batch_ops)
    for ref, n in import_refs.items():
        assert len(batch_ops[ref]) == n, (
            f"batch {ref}: {n} registrations, {len(batch_ops[ref])} ops"
        )
        assert len(set(batch_ops[ref])) == 1, f"batch {ref} spread over several transactions"

    # Everything reported as committed is there.
    def has_op(op_id: str, op_types: tuple[str, ...], entity_id: str) -> None:
        op = op_by_id.get(op_id)
        assert op is not None, f"reported op {op_id} lost"
        assert op[2] in op_types and op[4] == entity_id, f"reported op {op_id} is {op[2]} {op[4]}"

    for person_id, op_id, reg_id in rep.walk_ins:
        has_op(op_id, ("register_person",), person_id)
        assert person_id in ids["person"] and reg_id in ids["registration"]
    for screening_id, op_id in rep.screenings:
        has_op(op_id, ("record_screening",), screening_id)
    for dose_id, op_id in rep.doses:
        has_op(op_id, ("record_dose",), dose_id)
    for person_id, op_id, reg_id, ref in rep.expected:
        assert op_id in op_by_id, f"reported op {op_id} lost"
        assert person_id in ids["person"] and reg_id in reg_rows
        assert reg_rows[reg_id][0] == person_id and reg_rows[reg_id][3] == ref
    for ref, n, first_op, last_op in rep.batches:
        assert import_refs[ref] == n == BATCH_SIZE, f"reported batch {ref}: {import_refs[ref]} rows"
        assert first_op in op_by_id and last_op in op_by_id

    # Nothing that was there before the kill went away.
    counts = {t: len(v) for t, v in ids.items()} | {"ops": len(ops)}
    snap = Snapshot(counts, set(op_by_id), chain.entries, dict(import_refs))
    if before is not None:
        for key, n in before.counts.items():
            assert counts[key] >= n, f"{key}: {n} rows before the kill, {counts[key]} after"
        assert before.op_ids <= snap.op_ids, "ops present before the kill are gone"
        assert snap.audit_entries >= before.audit_entries
        for ref, n in before.import_refs.items():
            assert snap.import_refs.get(ref) == n
    return snap


# ---- the tests ----------------------------------------------------------------------------------


def test_sigkill_loop_loses_no_committed_write(kill_station: Path, tmp_path: Path) -> None:
    rng = random.Random(20261126)
    rep = Reported()
    snap = check_station(kill_station, rep, None)
    productive = 0
    for i in range(KILLS):
        writer = WriterProcess(kill_station, tmp_path, seed=1000 + i, id_base=i, mode="mix")
        try:
            if rng.random() < 0.15:
                # Now and then die while starting up: opening, WAL recovery, login audit.
                time.sleep(rng.uniform(0.0, 0.8))
            else:
                writer.wait_for("READY")
                time.sleep(rng.uniform(0.05, 0.6))
        finally:
            lines = writer.kill()
        if rep.add(lines):
            productive += 1
        snap = check_station(kill_station, rep, snap)
    assert productive >= KILLS // 2, f"the writer committed something in only {productive} runs"
    assert rep.doses and rep.screenings and rep.expected and len(rep.walk_ins) > len(rep.doses)
    assert snap.counts["person"] >= len(rep.walk_ins) + len(rep.expected)
    print(f"{KILLS} kills, {productive} with commits; rows after the last: {snap.counts}")


def test_sigkill_during_big_import_leaves_all_rows_or_none(
    kill_station: Path, tmp_path: Path
) -> None:
    rng = random.Random(500)
    rep = Reported()
    snap = check_station(kill_station, rep, None)
    duration: float | None = None
    outcomes: Counter[str] = Counter()
    for i in range(BATCH_KILLS):
        writer = WriterProcess(kill_station, tmp_path, seed=2000 + i, id_base=i, mode="batch")
        try:
            writer.wait_for("READY")
            began = writer.wait_for("BEGIN")
            if duration is None:  # learn how long one batch takes, then aim inside the next
                duration = writer.wait_for("COMMITTED batch") - began
                writer.wait_for("BEGIN")
            time.sleep(rng.uniform(0.0, 1.4 * duration))
        finally:
            lines = writer.kill()
        rep.add(lines)
        snap = check_station(kill_station, rep, snap)
        last = rep.begun[-1]
        outcomes["committed" if last in snap.import_refs else "rolled_back"] += 1
    # Every batch ever started is either entirely there or entirely absent.
    for ref in rep.begun:
        assert snap.import_refs.get(ref, BATCH_SIZE) == BATCH_SIZE
    assert outcomes["rolled_back"] >= 1, f"no kill landed inside a batch: {outcomes}"
    print(
        f"{BATCH_KILLS} kills in {BATCH_SIZE}-row imports: {dict(outcomes)}, batch {duration:.2f}s"
    )
