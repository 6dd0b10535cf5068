"""Health check of a station data directory (``tramtiem doctor``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import text

from station import keys, sync_status
from station.audit import verify_chain
from station.db import integrity_check
from station.store import HEAD_REVISION, Station, current_revision


def diagnose(st: Station) -> dict[str, Any]:
    """Integrity, schema revision, outbox, audit chain. ``ok`` is False on any problem."""
    report: dict[str, Any] = {"data_dir": str(st.data_dir), "site_code": st.site_code}
    with st.read() as conn:
        integrity = integrity_check(conn)
        report["integrity"] = "ok" if integrity == ["ok"] else integrity[:20]
        fk = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        report["foreign_key_violations"] = len(fk)
        rev = current_revision(conn)
        report["schema_revision"] = rev
        report["schema_head"] = HEAD_REVISION
        report["journal_mode"] = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        report["synchronous"] = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
            int(conn.exec_driver_sql("PRAGMA synchronous").scalar() or 0), "?"
        )
        # The same numbers as the window's status bar (station.sync_status).
        sync = sync_status.query(conn)
        report["outbox"] = {
            "pending": sync.waiting,
            "acked": sync.acked,
            "rejected": sync.rejected,
            "conflict": sync.conflict,
            "oldest_pending_at": sync.oldest_pending_at,
        }
        chain = verify_chain(conn)
        report["audit"] = {
            "ok": chain.ok,
            "entries": chain.entries,
            "first_bad_seq": chain.first_bad_seq,
        }
        counts = {}
        for table in ("person", "registration", "screening", "dose", "vaccine_lot", "app_user"):
            counts[table] = int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
        report["counts"] = counts
    report["keyring_backend"] = keys.backend_name()
    report["db_size_bytes"] = sum(
        p.stat().st_size for p in Path(st.data_dir).glob("station.db*") if p.is_file()
    )
    report["ok"] = bool(
        report["integrity"] == "ok"
        and report["foreign_key_violations"] == 0
        and rev == HEAD_REVISION
        and chain.ok
    )
    return report
