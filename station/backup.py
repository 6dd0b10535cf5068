"""Encrypted backups of the station database, and restoring one.

Every backup is a single SQLCipher file made with SQLite's online backup API
(:func:`station.store.backup_file`: a consistent snapshot, WAL included,
encrypted with the same key — never plaintext) plus a small manifest
``<same name>.json`` beside it: install id, site, schema revision, op counts
per state and the file's SHA-256. The manifest holds no personal data.

* **Automatic** backups (``<data_dir>/backups/auto/``) are made by
  :class:`BackupScheduler` every N minutes while the app runs and once at exit,
  skipped when nothing changed, and pruned to a bound: the newest
  ``keep_last`` plus the newest of each of the last ``keep_days`` days.
* **USB** backups (``tramtiem backup --to DIR``) are staged in the data
  directory, copied to ``DIR`` under a temporary name, flushed, checked against
  the manifest's hash and only then renamed: a stick pulled out mid-copy never
  leaves a file that looks complete.
* **Restore** (:func:`restore_backup`) checks the manifest hash, that the key
  (keyring or recovery code) opens the copy, ``PRAGMA integrity_check`` and the
  audit chain; it then gives the copy a NEW replica epoch and puts every op the
  hub had not answered back to ``pending`` before installing it (the old file
  is kept aside). Why the new epoch: the restored outbox's ``op_seq`` goes back
  to where the backup was taken, and the hub must see a new replica rather than
  an old one going backwards (DESIGN §5; research §2.8). The ops the backup
  holds go again under their original ids and the hub answers ``duplicate``
  for those it already has, so nothing is applied twice; what was recorded
  and synced after the backup comes back by pull.

A restore replaces ``station.db``, which Windows refuses while any process has
it open (``WinError 32``, a ``PermissionError``): the app (its lock,
``station.instance``, is checked first: ``restore.app_running``) or an
antivirus scanning the file. A file held for a moment is retried a few times;
one still held gets ``restore.file_in_use``, and whatever had been moved aside
is put back, so a refused restore leaves the station exactly as it was.

The hub token is never in a backup (secrets stay in the keyring): a station
restored on a new laptop is enrolled again with a new one-time code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy.exc import DBAPIError

from kernel.clock import iso, system_clock, to_site_time
from kernel.errors import StoreError, WrongKey
from kernel.ids import uuid7
from station import instance, keys, recovery
from station.audit import verify_chain
from station.db import integrity_check, make_engine, open_raw
from station.store import (
    HEAD_REVISION,
    Actor,
    Station,
    _read_meta,
    backup_file,
    db_path,
    open_station,
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


def _fingerprint(raw: Any) -> list[int]:
    return [int(x) for x in raw.execute(_FINGERPRINT_SQL).fetchone()]


def fingerprint(st: Station) -> list[int]:
    """Markers that move on every local write, ack and pull (cheap: four index lookups)."""
    with st.read() as conn:
        return _fingerprint(conn.connection.driver_connection)


def _describe(path: Path, key: bytes) -> dict[str, Any]:
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
    d = _describe(path, key)
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


def _local_now(now: datetime | None) -> datetime:
    return to_site_time(now or system_clock())


# ---- automatic (rolling) backups ---------------------------------------------------------


def auto_dir(data_dir: Path) -> Path:
    return Path(data_dir) / AUTO_DIR


def make_auto_backup(data_dir: Path, *, now: datetime | None = None, key: bytes | None = None) -> BackupResult:
    """One backup into ``backups/auto/`` with its manifest (no pruning: see :func:`prune_auto`)."""
    ddir = Path(data_dir)
    meta = _read_meta(ddir)
    key = key if key is not None else keys.load_key(meta["install_id"])
    when = _local_now(now)
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
    when = _local_now(now)
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


# ---- verifying and restoring -------------------------------------------------------------


@dataclass(slots=True)
class RestoreResult:
    install_id: str
    site_code: str
    replaced: Path | None  # where the previous database was put aside
    new_epoch: str
    requeued: int  # ops put back to pending
    pending: int  # ops that will be sent at the next sync
    key_stored: bool  # the recovery code's key was put into this machine's keyring
    needs_enrollment: bool  # no hub token on this machine: enroll with a new one-time code
    notes: list[str] = field(default_factory=list)


def verify_backup(path: Path, key: bytes, manifest: Manifest | None = None) -> dict[str, Any]:
    """Check a backup file: manifest hash, key, integrity, audit chain. Raises ``StoreError``.

    Codes: ``restore.checksum`` (file differs from its manifest: damaged or
    tampered), ``restore.wrong_key``, ``restore.integrity``, ``restore.audit_chain``,
    ``restore.schema_newer``, ``restore.station_mismatch``.
    """
    if manifest is not None and (
        path.stat().st_size != manifest.size or sha256_file(path) != manifest.sha256
    ):
        raise StoreError("restore.checksum")
    try:
        raw = open_raw(path, key)
    except WrongKey:
        raise StoreError("restore.wrong_key") from None
    raw.close()
    try:
        d = _describe(path, key)
        if d["schema_revision"] > HEAD_REVISION:
            raise StoreError("restore.schema_newer", revision=d["schema_revision"])
        if manifest is not None and d["station_id"] != manifest.install_id:
            raise StoreError("restore.station_mismatch")
        engine = make_engine(path, key, pool_size=1)
        try:
            with engine.connect() as conn:
                problems = integrity_check(conn)
                if problems != ["ok"]:
                    raise StoreError("restore.integrity", problems=len(problems))
                chain = verify_chain(conn)
                if not chain.ok:
                    raise StoreError("restore.audit_chain", first_bad_seq=chain.first_bad_seq)
        finally:
            engine.dispose()
    except (sqlcipher.DatabaseError, DBAPIError):
        # SQLCipher authenticates every page: a changed byte anywhere surfaces as
        # a database error on the page it is in.
        raise StoreError("restore.integrity") from None
    return d


# A file an antivirus scans is held for a moment: retry, a few times and bounded (~4 s).
HELD_RETRY_DELAYS_S = (0.25, 0.5, 1.0, 2.0)
_sleep = time.sleep  # tests replace it: the retries are counted, not timed


class _FileHeld(Exception):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _replace_held(src: Path, dst: Path, held: str) -> None:
    """``os.replace`` that waits out a short hold (antivirus); ``_FileHeld`` if it lasts.

    On Windows a file another process has open cannot be renamed or replaced
    (``PermissionError``, WinError 32 "being used by another process").
    """
    for delay in (*HELD_RETRY_DELAYS_S, None):
        try:
            os.replace(src, dst)
            return
        except PermissionError:
            if delay is None:
                raise _FileHeld(held) from None
            log.info("file held by another process; retrying in %.2fs", delay)
            _sleep(delay)


def _move_aside(ddir: Path, when: datetime) -> Path | None:
    current = db_path(ddir)
    if not current.exists():
        return None
    aside = ddir / "backups" / f"replaced-{when:%Y%m%dT%H%M%S}"
    n = 1
    while aside.exists():
        aside = ddir / "backups" / f"replaced-{when:%Y%m%dT%H%M%S}-{n}"
        n += 1
    aside.mkdir(parents=True)
    # The -wal and -shm files go with it: left behind, SQLite would replay the old
    # database's WAL into the restored file.
    moved: list[Path] = []
    try:
        for suffix in ("", "-wal", "-shm", "-journal"):
            f = current.with_name(current.name + suffix)
            if f.exists():
                _replace_held(f, aside / f.name, f.name)
                moved.append(f)
    except _FileHeld:
        _put_back(aside, moved)
        raise
    return aside


def _put_back(aside: Path, originals: list[Path]) -> None:
    """Undo :func:`_move_aside` (a restore that could not finish leaves the station as it was)."""
    for f in reversed(originals):
        os.replace(aside / f.name, f)
    try:
        aside.rmdir()
    except OSError:
        pass


def restore_backup(
    backup: Path,
    data_dir: Path,
    *,
    recovery_code: str | None = None,
    now: datetime | None = None,
) -> RestoreResult:
    """Install ``backup`` as the station database of ``data_dir`` (see the module docstring).

    ``data_dir`` may be empty (a new laptop): then the recovery code is needed
    and ``station.json`` is written from the manifest. The app must not have
    the station open meanwhile.
    """
    backup = Path(backup)
    ddir = Path(data_dir)
    when = _local_now(now)
    mpath = manifest_path_for(backup)
    if not backup.is_file():
        raise StoreError("restore.no_file")
    if not mpath.is_file():
        raise StoreError("restore.no_manifest")
    manifest = Manifest.load(mpath)
    if instance.is_held(ddir):
        # The app has this station open: its file cannot (and must not) be swapped under it.
        raise StoreError("restore.app_running")
    existing: dict[str, Any] | None = None
    if (ddir / "station.json").exists():
        existing = _read_meta(ddir)
        if existing["install_id"] != manifest.install_id:
            raise StoreError("restore.other_station")
    if recovery_code:
        key = recovery.decode(recovery_code)
    else:
        try:
            key = keys.load_key(manifest.install_id)
        except StoreError:
            raise StoreError("restore.needs_recovery_code") from None
    keys.check_backend()  # before anything is moved: the key must be storable
    staging = ddir / STAGING_DIR
    staging.mkdir(parents=True, exist_ok=True)
    staged = staging / f"restore-{uuid7()}.db"
    shutil.copyfile(backup, staged)
    try:
        if sha256_file(staged) != manifest.sha256:  # the copy itself (USB read errors)
            raise StoreError("restore.checksum")
        verify_backup(staged, key, manifest)
        new_epoch = uuid7()
        raw = open_raw(staged, key)
        try:
            raw.execute("BEGIN IMMEDIATE")
            raw.execute("UPDATE sync_state SET replica_epoch = ? WHERE id = 1", (new_epoch,))
            requeued = raw.execute(
                "UPDATE sync_outbox SET state = 'pending' WHERE state = 'inflight'"
            ).rowcount
            pending = int(raw.execute(
                "SELECT count(*) FROM sync_outbox WHERE state = 'pending'"
            ).fetchone()[0])
            raw.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('restored_from_backup', ?)",
                (json.dumps({"at": iso(when), "backup_created_at": manifest.created_at}),),
            )
            raw.execute("COMMIT")
            raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()
        try:
            replaced = _move_aside(ddir, when)
            try:
                _replace_held(staged, db_path(ddir), db_path(ddir).name)
            except _FileHeld:
                if replaced is not None:
                    current = db_path(ddir)
                    _put_back(replaced, [current.with_name(current.name + s) for s in
                                         ("", "-wal", "-shm", "-journal")
                                         if (replaced / (current.name + s)).exists()])
                raise
        except _FileHeld as exc:
            log.warning("restore refused: the station file is held by another process")
            raise StoreError("restore.file_in_use", file=exc.name) from None
        for suffix in ("-wal", "-shm"):
            staged.with_name(staged.name + suffix).unlink(missing_ok=True)
    finally:
        staged.unlink(missing_ok=True)
    key_stored = False
    if recovery_code:
        keys.store_key(manifest.install_id, key)
        key_stored = True
    if existing is None:
        meta = {
            "format": 1,
            "install_id": manifest.install_id,
            "site_code": manifest.site_code,
            "created_at": iso(when),
            "restored_at": iso(when),
        }
        tmp = ddir / "station.json.tmp"
        tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
        os.replace(tmp, ddir / "station.json")
    # Opening migrates an older backup (after its own pre-migration copy) and
    # records the restore in the audit chain.
    st = open_station(ddir)
    try:
        with st.unit_of_work(Actor.system(st.site_code), min_ops=0) as uow:
            uow.audit(
                "restored_from_backup", "station", st.install_id,
                detail={"backup_created_at": manifest.created_at, "requeued": requeued},
            )
    finally:
        st.close()
    needs_enrollment = not keys.load_token(manifest.install_id)
    log.warning("station restored from a backup; replica epoch rotated, %d ops pending", pending)
    return RestoreResult(
        install_id=manifest.install_id,
        site_code=manifest.site_code,
        replaced=replaced,
        new_epoch=new_epoch,
        requeued=requeued,
        pending=pending,
        key_stored=key_stored,
        needs_enrollment=needs_enrollment,
    )


__all__ = [
    "AUTO_DIR",
    "KEEP_DAYS",
    "KEEP_LAST",
    "BackupResult",
    "BackupScheduler",
    "Manifest",
    "RestoreResult",
    "auto_dir",
    "backup_to",
    "fingerprint",
    "list_auto",
    "make_auto_backup",
    "manifest_path_for",
    "prune_auto",
    "restore_backup",
    "sha256_file",
    "verify_backup",
]
