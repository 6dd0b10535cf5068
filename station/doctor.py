"""Health check of a station data directory (``tramtiem doctor``)."""

from __future__ import annotations

from pathlib import Path
from typing import TypedDict

from sqlalchemy import text

from station import keys, sync_status
from station.audit import verify_chain
from station.db import integrity_check
from station.store import HEAD_REVISION, Station, current_revision


class OutboxHealth(TypedDict):
    pending: int  # not answered yet (pending and inflight), as the status bar counts
    acked: int
    rejected: int
    conflict: int
    oldest_pending_at: str | None


class AuditHealth(TypedDict):
    ok: bool
    entries: int
    first_bad_seq: int | None


class Diagnosis(TypedDict):
    """``tramtiem doctor``'s report (printed, or written as JSON with ``--json``)."""

    data_dir: str
    site_code: str
    integrity: str | list[str]  # "ok", or the first 20 problems SQLite found
    foreign_key_violations: int
    schema_revision: str | None
    schema_head: str
    journal_mode: str | None
    synchronous: str
    outbox: OutboxHealth
    audit: AuditHealth
    counts: dict[str, int]  # rows per table
    keyring_backend: str
    db_size_bytes: int
    ok: bool  # False on any problem


def diagnose(st: Station) -> Diagnosis:
    """Integrity, schema revision, outbox, audit chain. ``ok`` is False on any problem."""
    with st.read() as conn:
        problems = integrity_check(conn)
        integrity: str | list[str] = "ok" if problems == ["ok"] else problems[:20]
        fk = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        rev = current_revision(conn)
        journal_mode = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
            int(conn.exec_driver_sql("PRAGMA synchronous").scalar() or 0), "?"
        )
        # The same numbers as the window's status bar (station.sync_status).
        sync = sync_status.query(conn)
        chain = verify_chain(conn)
        counts = {}
        for table in ("person", "registration", "screening", "dose", "vaccine_lot", "app_user"):
            counts[table] = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    return Diagnosis(
        data_dir=str(st.data_dir),
        site_code=st.site_code,
        integrity=integrity,
        foreign_key_violations=len(fk),
        schema_revision=rev,
        schema_head=HEAD_REVISION,
        journal_mode=journal_mode,
        synchronous=synchronous,
        outbox=OutboxHealth(
            pending=sync.waiting,
            acked=sync.acked,
            rejected=sync.rejected,
            conflict=sync.conflict,
            oldest_pending_at=sync.oldest_pending_at,
        ),
        audit=AuditHealth(ok=chain.ok, entries=chain.entries, first_bad_seq=chain.first_bad_seq),
        counts=counts,
        keyring_backend=keys.backend_name(),
        db_size_bytes=sum(p.stat().st_size for p in Path(st.data_dir).glob("station.db*") if p.is_file()),
        ok=bool(integrity == "ok" and len(fk) == 0 and rev == HEAD_REVISION and chain.ok),
    )
