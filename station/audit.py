"""Verification of the hash-chained audit log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from station.store import GENESIS_HASH, audit_hash


@dataclass(frozen=True, slots=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_seq: int | None


def verify_chain(conn: Connection) -> ChainReport:
    """Recompute every entry's hash; the first mismatch (edited or removed row) is reported."""
    prev = GENESIS_HASH
    n = 0
    rows = conn.execute(
        text(
            "SELECT seq, at, user_id, action, entity_type, entity_id, op_id, detail, prev_hash, hash "
            "FROM audit_log ORDER BY seq"
        )
    )
    for row in rows:
        n += 1
        seq, at, user_id, action, etype, eid, op_id, detail, prev_hash, h = row
        expected = audit_hash(prev, [at, user_id, action, etype, eid, op_id, detail])
        if prev_hash != prev or h != expected:
            return ChainReport(False, n, int(seq))
        prev = h
    return ChainReport(True, n, None)
