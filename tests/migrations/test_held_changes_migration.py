"""Revision 0006: parked and deferred pulled changes move out of ``meta`` into their tables.

The fixture ``fixtures/held-in-meta-0005/`` (``make_fixtures.py --variant
held-in-meta-0005``) is the rev0005 fixture plus what a 0005 station held back
from a pull: two parked changes, a hub row of person p1 kept aside behind a
pending op, and a ``deferred:`` entry that is not JSON.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

from station import held_changes, replica
from station.db import open_raw
from station.store import HEAD_REVISION, current_revision, open_station
from tests.migrations.test_upgrade import FIXTURES, install, raw_revision
from tests.sync.builders import change, page, person_row

HELD = FIXTURES / "held-in-meta-0005"


def _meta(path: Path, key: bytes) -> dict[str, str]:
    raw = open_raw(path, key)
    try:
        return {str(k): str(v) for k, v in raw.execute("SELECT key, value FROM meta")}
    finally:
        raw.close()


def test_held_changes_leave_meta_for_their_tables(tmp_path: Path, clock: Any) -> None:
    ddir, _, key = install(HELD, tmp_path)
    assert raw_revision(ddir / "station.db", key) == "0005"
    before = _meta(ddir / "station.db", key)
    held = {k: json.loads(v) for k, v in before.items() if k.startswith(("parked:", "deferred:person:0"))}
    assert len(held) == 3 and "deferred:person:broken" in before

    st = open_station(ddir, clock=clock)
    try:
        with st.read() as conn:
            assert current_revision(conn) == HEAD_REVISION
        after = _meta(ddir / "station.db", key)
        # Moved out of meta; the entry that is not JSON is left where it was, not lost.
        assert [k for k in after if k.startswith(("parked:", "deferred:"))] == ["deferred:person:broken"]
        assert {k: v for k, v in after.items() if k not in before or not k.startswith(("parked:", "deferred:"))} == {
            k: v for k, v in before.items() if not k.startswith(("parked:", "deferred:"))
        }
        with st.read() as conn:
            parked = conn.execute(text("SELECT server_seq, entity_type, error, data FROM sync_parked "
                                       "ORDER BY server_seq")).all()
        assert [(r[0], r[1], r[2]) for r in parked] == [(412, "dose", "pull.integrity"), (415, "person", "pull.malformed")]
        assert json.loads(parked[0][3]) == held[f"parked:{412:015d}"]["change"]["data"]
        assert replica.parked_count(st) == 2
        pid, kept = next((k.split(":")[2], v) for k, v in held.items() if k.startswith("deferred:"))
        ch = held_changes.deferred_change(st, "person", pid)
        assert ch is not None and ch.server_seq == 420 and ch.row_version == 5
        assert ch.data == kept["change"]["data"] and ch.data["phone"] == "0911000111"
        with st.read() as conn:
            assert held_changes.deferred(conn, limit=10)[0][1] == set(kept["ops"])

        # The moved rows work as held changes: the parked dose lands once its person arrives.
        state = st.sync_state()
        cursor, epoch = int(state["pull_cursor"]), str(state["hub_epoch"])
        absent = held[f"parked:{412:015d}"]["change"]["data"]["person_id"]
        pg = page([change(cursor + 1, "person", absent, person_row(absent, id_number="075080004120"))], epoch=epoch)
        rep = replica.apply_page(st, pg, from_cursor=cursor)
        assert rep.unparked == 1 and replica.parked_count(st) == 1
        assert held_changes.parked_error(st, 415) == "pull.malformed"
    finally:
        st.close()
