"""Copies of a station's database file: before a migration, for backups (``station.backup_make``).

Moved out of ``station.store`` (its size); ``station.store`` re-exports them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from station.db import db_path, open_raw

MAX_MIGRATION_BACKUPS = 5


def backup_file(
    data_dir: Path,
    key: bytes,
    label: str,
    *,
    now: datetime | None = None,
    dest_dir: Path | None = None,
) -> Path:
    """Copy the database into ``backups/`` (or ``dest_dir``) with SQLite's online backup API.

    The backup API copies a consistent snapshot including what still sits in the
    WAL, even while another connection holds a read transaction (a plain file
    copy after a checkpoint would silently miss those pages). The copy is
    encrypted with the same key. Returns the copy's path.
    """
    dest_dir = dest_dir if dest_dir is not None else data_dir / "backups"
    dest_dir.mkdir(parents=True, exist_ok=True)
    stamp = (now or datetime.now()).strftime("%Y%m%dT%H%M%S")
    dest = dest_dir / f"station-{label}-{stamp}.db"
    n = 1
    while dest.exists():
        dest = dest_dir / f"station-{label}-{stamp}-{n}.db"
        n += 1
    src = open_raw(db_path(data_dir), key)
    try:
        out = open_raw(dest, key)
        try:
            src.backup(out)
            out.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            out.close()
    finally:
        src.close()
    return dest


def prune_migration_backups(data_dir: Path, keep: int = MAX_MIGRATION_BACKUPS) -> None:
    """Repeatedly failing migrations must not fill the disk with copies."""
    copies = sorted((data_dir / "backups").glob("station-pre-*.db"), key=lambda p: p.stat().st_mtime)
    for old in copies[:-keep]:
        old.unlink(missing_ok=True)


__all__ = ["MAX_MIGRATION_BACKUPS", "backup_file", "prune_migration_backups"]
