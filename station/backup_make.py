"""Making backups: the manifest, rolling automatic copies and their scheduler, USB copies.

See :mod:`station.backup` (the module to import) for what a backup is and how
one is restored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TypedDict

from kernel.clock import iso, system_clock, to_site_time
from kernel.errors import StoreError
from station import keys
from station.db import RawConnection, open_raw, raw_connection
from station.store import (
    Station,
    _read_meta,
    backup_file,
)

log = logging.getLogger(__name__)

MANIFEST_FORMAT = 1
AUTO_DIR = Path("backups") / "auto"
STAGING_DIR = Path("backups") / "staging"
KEEP_LAST = 12
KEEP_DAYS = 7
DEFAULT_INTERVAL_MIN = 15
_AUTO_RE = re.compile(r"^station-auto-(\d{8})T(\d{6})(?:-(\d+))?\.db$")


@dataclass(frozen=True, slots=True)
class Manifest:
    """What a backup is, for a person holding a USB stick and for :func:`restore_backup`."""

    install_id: str
    site_code: str
    station_letter: str
    schema_revision: str
    created_at: str
    file: str
    size: int
    sha256: str
    ops: dict[str, int]
    doses: int
    fingerprint: list[int]  # change markers: unchanged means "no new backup needed"
    kind: str = "manual"
    format: int = MANIFEST_FORMAT

    def dump(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict) or int(raw.get("format", 0)) != MANIFEST_FORMAT:
                raise ValueError("format")
            return cls(
                install_id=str(raw["install_id"]),
                site_code=str(raw["site_code"]),
                station_letter=str(raw.get("station_letter", "A")),
                schema_revision=str(raw["schema_revision"]),
                created_at=str(raw["created_at"]),
                file=str(raw["file"]),
                size=int(raw["size"]),
                sha256=str(raw["sha256"]),
                ops={str(k): int(v) for k, v in dict(raw.get("ops", {})).items()},
                doses=int(raw.get("doses", 0)),
                fingerprint=[int(x) for x in raw.get("fingerprint", [])],
                kind=str(raw.get("kind", "manual")),
            )
        except (OSError, ValueError, KeyError, TypeError):
            raise StoreError("backup.bad_manifest", file=path.name) from None


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    manifest_path: Path
    manifest: Manifest


def manifest_path_for(path: Path) -> Path:
    return path.with_suffix(".json")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_FINGERPRINT_SQL = (
    "SELECT coalesce((SELECT max(seq) FROM audit_log), 0), "
    "coalesce((SELECT max(op_seq) FROM sync_outbox), 0), "
    "coalesce((SELECT count(*) FROM sync_outbox WHERE state IN ('pending', 'inflight')), 0), "
    "coalesce((SELECT pull_cursor FROM sync_state WHERE id = 1), 0)"
)


def _fingerprint(raw: RawConnection) -> list[int]:
    return [int(x) for x in raw.execute(_FINGERPRINT_SQL).fetchone()]


def fingerprint(st: Station) -> list[int]:
    """Markers that move on every local write, ack and pull (cheap: four index lookups)."""
    with st.read() as conn:
        return _fingerprint(raw_connection(conn))


class BackupDescription(TypedDict):
    """What a database file says of itself (read from it, not from a manifest)."""

    schema_revision: str
    station_id: str
    site_code: str
    station_letter: str
    ops: dict[str, int]  # outbox ops per state
    doses: int
    fingerprint: list[int]


def describe(path: Path, key: bytes) -> BackupDescription:
    raw = open_raw(path, key)
    try:
        rev_row = raw.execute(
            "SELECT version_num FROM alembic_version LIMIT 1"
        ).fetchone()
        state = raw.execute(
            "SELECT station_id, site_code, station_letter FROM sync_state WHERE id = 1"
        ).fetchone()
        ops = {str(k): int(v) for k, v in raw.execute(
            "SELECT state, count(*) FROM sync_outbox GROUP BY state"
        ).fetchall()}
        doses = int(raw.execute("SELECT count(*) FROM dose").fetchone()[0])
        fp = _fingerprint(raw)
    finally:
        raw.close()
    return {
        "schema_revision": str(rev_row[0]) if rev_row else "",
        "station_id": str(state[0]) if state else "",
        "site_code": str(state[1]) if state else "",
        "station_letter": str(state[2]) if state and state[2] else "A",
        "ops": ops,
        "doses": doses,
        "fingerprint": fp,
    }


def _write_manifest(path: Path, manifest: Manifest) -> Path:
    mpath = manifest_path_for(path)
    tmp = mpath.with_suffix(".json.part")
    tmp.write_text(manifest.dump(), encoding="utf-8")
    os.replace(tmp, mpath)
    return mpath


def _manifest_for(path: Path, key: bytes, *, kind: str, created_at: str) -> Manifest:
    d = describe(path, key)
    return Manifest(
        install_id=d["station_id"],
        site_code=d["site_code"],
        station_letter=d["station_letter"],
        schema_revision=d["schema_revision"],
        created_at=created_at,
        file=path.name,
        size=path.stat().st_size,
        sha256=sha256_file(path),
        ops=d["ops"],
        doses=d["doses"],
        fingerprint=d["fingerprint"],
        kind=kind,
    )


def local_now(now: datetime | None) -> datetime:
    return to_site_time(now or system_clock())


# ---- automatic (rolling) backups ---------------------------------------------------------


def auto_dir(data_dir: Path) -> Path:
    return Path(data_dir) / AUTO_DIR


def make_auto_backup(data_dir: Path, *, now: datetime | None = None, key: bytes | None = None) -> BackupResult:
    """One backup into ``backups/auto/`` with its manifest (no pruning: see :func:`prune_auto`)."""
    ddir = Path(data_dir)
    meta = _read_meta(ddir)
    key = key if key is not None else keys.load_key(meta["install_id"])
    when = local_now(now)
    dest = auto_dir(ddir)
    path = backup_file(ddir, key, "auto", now=when, dest_dir=dest)
    manifest = _manifest_for(path, key, kind="auto", created_at=iso(when))
    return BackupResult(path, _write_manifest(path, manifest), manifest)


def _auto_sort_key(p: Path) -> tuple[str, str, int]:
    m = _AUTO_RE.match(p.name)
    assert m is not None
    return (m.group(1), m.group(2), int(m.group(3) or 0))


def list_auto(data_dir: Path) -> list[Path]:
    """Automatic backups, oldest first (by the time in the name, not the file's mtime)."""
    d = auto_dir(data_dir)
    if not d.is_dir():
        return []
    return sorted((p for p in d.iterdir() if _AUTO_RE.match(p.name)), key=_auto_sort_key)


def prune_auto(data_dir: Path, *, keep_last: int = KEEP_LAST, keep_days: int = KEEP_DAYS) -> list[Path]:
    """Delete automatic backups beyond the bound; returns the deleted files.

    Kept: the newest ``keep_last``, and the newest of each of the ``keep_days``
    most recent days — a mistake noticed the next morning can still be undone
    from yesterday's copy, and the folder never grows without bound.
    """
    copies = list_auto(data_dir)
    keep = set(copies[-keep_last:]) if keep_last > 0 else set()
    newest_of_day: dict[str, Path] = {}
    for p in copies:  # oldest first: the last one seen for a day is its newest
        newest_of_day[_auto_sort_key(p)[0]] = p
    for day in sorted(newest_of_day)[-keep_days:] if keep_days > 0 else []:
        keep.add(newest_of_day[day])
    deleted = []
    for p in copies:
        if p not in keep:
            p.unlink(missing_ok=True)
            manifest_path_for(p).unlink(missing_ok=True)
            deleted.append(p)
    return deleted


class BackupScheduler:
    """Automatic backups on a background thread every ``interval_s``, and one at :meth:`stop`.

    A cycle is skipped when the database did not change since the last backup
    (the fingerprint in the newest manifest), so a laptop left on overnight does
    not push the day's copies out of the bound with identical ones. Failures
    are logged by type and kept in ``last_error``; they never stop the app.
    """

    def __init__(
        self,
        st: Station,
        *,
        interval_s: float = DEFAULT_INTERVAL_MIN * 60,
        keep_last: int = KEEP_LAST,
        keep_days: int = KEEP_DAYS,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.st = st
        self.interval_s = max(1.0, float(interval_s))
        self.keep_last = keep_last
        self.keep_days = keep_days
        self.clock = clock or st.clock
        self.last_error: str | None = None
        self.last_result: BackupResult | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _last_fingerprint(self) -> list[int] | None:
        copies = list_auto(self.st.data_dir)
        if not copies:
            return None
        try:
            return Manifest.load(manifest_path_for(copies[-1])).fingerprint
        except StoreError:
            return None

    def run_once(self, *, force: bool = False) -> BackupResult | None:
        """Back up now unless nothing changed; prune; None when skipped or failed."""
        with self._lock:
            try:
                if not force and self._last_fingerprint() == fingerprint(self.st):
                    return None
                res = make_auto_backup(self.st.data_dir, now=self.clock())
                prune_auto(self.st.data_dir, keep_last=self.keep_last, keep_days=self.keep_days)
            except Exception as exc:  # a failed backup must never take the station down
                self.last_error = getattr(exc, "code", type(exc).__name__)
                log.error("automatic backup failed: %s", self.last_error)
                return None
            self.last_error = None
            self.last_result = res
            log.info("automatic backup written (%d bytes)", res.manifest.size)
            return res

    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="tramtiem-backup", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.run_once()

    def stop(self, *, final: bool = True, timeout: float = 60.0) -> BackupResult | None:
        """Stop the thread (bounded wait), then take the exit backup if ``final``."""
        self._stop.set()
        t = self._thread
        if t is not None:
            t.join(timeout)
        self._thread = None
        return self.run_once() if final else None


# ---- USB backups -------------------------------------------------------------------------


def backup_to(data_dir: Path, dest_dir: Path, *, now: datetime | None = None) -> BackupResult:
    """A backup for a USB stick: ``tramtiem-<site>-<letter>-<time>.db`` + manifest in ``dest_dir``."""
    ddir = Path(data_dir)
    meta = _read_meta(ddir)
    key = keys.load_key(meta["install_id"])
    when = local_now(now)
    staging = ddir / STAGING_DIR
    staged = backup_file(ddir, key, "usb", now=when, dest_dir=staging)
    try:
        manifest = _manifest_for(staged, key, kind="manual", created_at=iso(when))
        dest_dir = Path(dest_dir)
        dest_dir.mkdir(parents=True, exist_ok=True)
        stem = f"tramtiem-{manifest.site_code}-{manifest.station_letter}-{when:%Y%m%dT%H%M%S}"
        final = dest_dir / f"{stem}.db"
        n = 1
        while final.exists():
            final = dest_dir / f"{stem}-{n}.db"
            n += 1
        part = final.with_suffix(".db.part")
        shutil.copyfile(staged, part)
        with part.open("rb+") as f:
            os.fsync(f.fileno())
        if sha256_file(part) != manifest.sha256:
            part.unlink(missing_ok=True)
            raise StoreError("backup.copy_mismatch")
        os.replace(part, final)
        manifest = Manifest(**{**asdict(manifest), "file": final.name})
        mpath = _write_manifest(final, manifest)
    finally:
        staged.unlink(missing_ok=True)
    return BackupResult(final, mpath, manifest)
