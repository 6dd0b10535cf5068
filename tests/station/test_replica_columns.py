"""The synced tables' columns written out in ``station.replica_rows`` are the ORM models'
(issue 15, phase 7: a pulled page no longer imports the models for them)."""

from __future__ import annotations

import subprocess
import sys

from station.models import Base
from station.replica_rows import COLS, ENTITY_TABLE


def test_the_written_out_columns_are_the_models() -> None:
    assert set(COLS) == set(ENTITY_TABLE.values())
    for table, cols in COLS.items():
        assert cols == [c.name for c in Base.metadata.tables[table].columns if c.name != "rid"], table


def test_the_row_writer_loads_no_models() -> None:
    probe = (
        "import sys, station.replica, station.replica_rows as r; r.COLS['dose']; "
        "print('station.models' in sys.modules)"
    )
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert res.stdout.split() == ["False"]
