"""The write side of a push on SQLite (issue 15, phase 8, branch ``hubwrite``).

* ``sqlite_rows``: a bulk INSERT leaves out the nullable columns that are None in every
  row of the batch; the rows read back the same as with every column bound (NULL there,
  the other values, their order), on SQLite and through PostgreSQL's ``COPY`` (which
  keeps every column); no omittable column has a default in the migrated schema (an
  omitted column would take it).
* ``result_text``: the ledger's result text from its template is ``json_text``'s, for
  the shapes it takes and the ones it must leave to the encoder.
* The WAL checkpointer (``hub.walcheckpoint``): the writer's connections leave the
  checkpoints to it, it runs after the commits (fewer times than they) and leaves the
  whole log checkpointed,
  its thread ends when idle and with ``dispose``; a writer killed (SIGKILL) while it and
  its checkpointer run, again and again, loses no committed transaction.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.db import Database
from hub.effects import insert_rows
from hub.models import Dose, Person, Registration, table_of
from hub.rowvalues import _omittable, json_text, result_text, shape, sqlite_rows
from hub.walcheckpoint import INTERVAL_S, WRITER_FALLBACK_PAGES
from tests.pg import migrated_hub_url

ROOT = Path(__file__).resolve().parents[2]
DOSE = table_of(Dose)


def _dose(n: int, **values: object) -> dict[str, object]:
    row: dict[str, object] = {c: None for c in shape(DOSE)[0]}
    row.update(
        id=f"d{n}", person_id=f"p{n}", site_code="DN-A", vaccine_code="BCG", dose_number=1, kind="primary",
        administered_at="2026-12-04T09:00:00+07:00", day="2026-12-04", recorded_at="2026-12-04T09:00:01+07:00",
        source="live", voided=0, version=1,
    )
    row.update(values)
    return row


def test_null_columns_left_out_read_back_the_same(db: Database) -> None:
    cols = shape(DOSE)[0]
    rows = [_dose(1), _dose(2, lot_number="L-7", volume_ml=0.5), _dose(3, origin_station="st-1")]
    # SQLite's statement: without the columns None in every row, the rows in their order.
    kept, values = sqlite_rows(DOSE, [tuple(r[c] for c in cols) for r in rows])
    assert "lot_id" not in kept and "voided_at" not in kept and "merged_from" not in kept
    assert {"lot_number", "volume_ml", "origin_station", "voided", "id"} <= set(kept)
    assert [v[kept.index("id")] for v in values] == ["d1", "d2", "d3"]
    with db.write() as s:
        insert_rows(s, DOSE, rows)
    with db.read() as s:
        got = s.execute(text(f"SELECT {', '.join(cols)} FROM dose WHERE id IN ('d1', 'd2', 'd3') ORDER BY id")).all()
    assert [dict(zip(cols, r, strict=True)) for r in got] == rows


def test_no_omittable_column_has_a_default(db: Database) -> None:
    """A column an INSERT leaves out takes its default: none of them may have one."""
    for model in (Person, Registration, Dose):
        table = table_of(model)
        omittable = {shape(table)[0][i] for i in _omittable(table)}
        assert omittable, table.name
        with db.read() as s:
            if db.sqlite:
                info = s.execute(text(f"PRAGMA table_info({table.name})")).all()
                defaults = {r[1]: r[4] for r in info}
                nullable = {r[1] for r in info if not r[3]}
            else:
                info = s.execute(
                    text("SELECT column_name, column_default, is_nullable FROM information_schema.columns WHERE table_name = :t"),
                    {"t": table.name},
                ).all()
                defaults = {r[0]: r[1] for r in info}
                nullable = {r[0] for r in info if r[2] == "YES"}
        assert omittable <= nullable, table.name
        assert {c: defaults[c] for c in omittable if defaults[c] is not None} == {}, table.name


def test_result_text_is_the_encoders() -> None:
    shapes: list[dict[str, object]] = []
    for seq in (1, 10**15, 0, -1, None, True, 2.0):
        for reason in (None, "dup", 0):
            for detail in (
                {"entity_changed": True, "no_echo": True},
                {"entity_changed": True},
                {"no_echo": True, "entity_changed": True},
                {"entity_changed": 1},
                {"entity_changed": True, "no_echo": 1},
                {"entity_changed": False},
                {"entity_changed": True, "moved": "Nguyễn"},
                {},
            ):
                shapes.append({"server_seq": seq, "reason": reason, "detail": detail})
                shapes.append({"reason": reason, "server_seq": seq, "detail": detail})
    shapes.append({"server_seq": 3, "reason": None, "detail": {"entity_changed": True}, "extra": 1})
    for result in shapes:
        assert result_text(result) == json_text(result), result


def _sqlite_db(tmp_path: Path) -> Database:
    return Database(migrated_hub_url("sqlite", tmp_path, None))


def _fill(db: Database, first: int, count: int) -> None:
    """Dose rows with some bulk (a few WAL pages a transaction)."""
    with db.write() as s:
        insert_rows(s, DOSE, [_dose(n, void_reason="x" * 1500) for n in range(first, first + count)])


def test_the_checkpointer_runs_off_the_writer(tmp_path: Path) -> None:
    db = _sqlite_db(tmp_path)
    try:
        with db.write() as s:
            limit = s.connection().exec_driver_sql("PRAGMA wal_autocheckpoint").scalar()
        assert limit == WRITER_FALLBACK_PAGES  # the writer does not checkpoint at 1,000 pages
        ck = db.checkpointer
        assert ck is not None and ck.interval_s == INTERVAL_S
        ck.interval_s = 0.05
        deadline = time.monotonic() + 60
        n = 0
        while n < 3000 and time.monotonic() < deadline:
            _fill(db, n, 100)  # ~40 pages a commit
            n += 100
        assert 1 <= ck.runs < n // 100  # fewer checkpoints than commits
        # After the last commit, one more pass leaves nothing of the log behind.
        runs = ck.runs
        _fill(db, n, 1)
        while ck.runs == runs and time.monotonic() < deadline:
            time.sleep(0.02)
        assert ck.last is not None and ck.last[0] == 0 and ck.last[1] == ck.last[2] > 0
        with db.read() as s:
            assert s.execute(text("SELECT count(*) FROM dose")).scalar() == n + 1
    finally:
        db.dispose()
    assert db.checkpointer is not None and db.checkpointer._thread is None  # stopped


def test_the_checkpointer_thread_ends_when_idle(tmp_path: Path) -> None:
    db = _sqlite_db(tmp_path)
    try:
        ck = db.checkpointer
        assert ck is not None
        ck.idle_s = 0.2
        _fill(db, 0, 5)
        assert ck._thread is not None
        deadline = time.monotonic() + 10
        while ck._thread is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ck._thread is None
        _fill(db, 5, 5)  # the next commit starts a new one
        assert ck._thread is not None
    finally:
        db.dispose()


_WRITER = """
import sys
import hub.walcheckpoint as w
w.INTERVAL_S = 0.0  # a checkpoint after nearly every commit
from hub.db import Database
from tests.hub.test_hub_write import _fill
db = Database(sys.argv[1])
print("ready", flush=True)
for batch in range(100000):
    _fill(db, batch * 20, 20)
    print(batch, db.checkpointer.runs, flush=True)
"""


@pytest.mark.parametrize("after", [15, 40, 90])
def test_a_writer_killed_with_its_checkpointer_running_loses_no_commit(tmp_path: Path, after: int) -> None:
    url = migrated_hub_url("sqlite", tmp_path, None)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, url], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True
    )
    acked = -1
    runs = 0
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 120
        for line in proc.stdout:
            if line.startswith("ready"):
                continue
            acked, runs = (int(x) for x in line.split())
            if acked >= after or time.monotonic() > deadline:
                break
        proc.send_signal(signal.SIGKILL)  # mid-write, the checkpointer likely mid-copy
    finally:
        proc.kill()
        proc.wait(timeout=30)
    assert acked >= after and runs >= 2, (acked, runs)
    path = url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        ids = {r[0] for r in conn.execute("SELECT id FROM dose")}
    finally:
        conn.close()
    # Every transaction committed before the kill is there (the one in flight may be too).
    assert {f"d{n}" for n in range((acked + 1) * 20)} <= ids
    assert len(ids) % 20 == 0  # whole transactions only
