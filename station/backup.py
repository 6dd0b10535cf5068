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

Making backups is :mod:`station.backup_make`; this module restores them and
re-exports the rest, so ``station.backup`` is the one to import.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlcipher3.dbapi2 as sqlcipher
from sqlalchemy.exc import DBAPIError

from kernel.clock import iso
from kernel.errors import StoreError, WrongKey
from kernel.ids import uuid7
from station import instance, keys, recovery
from station.audit import verify_chain
from station.backup_make import (
    AUTO_DIR,
    KEEP_DAYS,
    KEEP_LAST,
    STAGING_DIR,
    BackupDescription,
    BackupResult,
    BackupScheduler,
    Manifest,
    auto_dir,
    backup_to,
    describe,
    fingerprint,
    list_auto,
    local_now,
    make_auto_backup,
    manifest_path_for,
    prune_auto,
    sha256_file,
)
from station.db import integrity_check, make_engine, open_raw
from station.store import (
    HEAD_REVISION,
    Actor,
    StationMeta,
    _read_meta,
    db_path,
    open_station,
)

log = logging.getLogger(__name__)


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


def verify_backup(path: Path, key: bytes, manifest: Manifest | None = None) -> BackupDescription:
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
        d = describe(path, key)
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
    when = local_now(now)
    manifest, existing, key = _check_restorable(backup, ddir, recovery_code)
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
        requeued, pending = _rotate_epoch(staged, key, new_epoch, manifest, when)
        replaced = _install(staged, ddir, when)
        for suffix in ("-wal", "-shm"):
            staged.with_name(staged.name + suffix).unlink(missing_ok=True)
    finally:
        staged.unlink(missing_ok=True)
    key_stored = False
    if recovery_code:
        keys.store_key(manifest.install_id, key)
        key_stored = True
    if existing is None:
        _write_station_json(ddir, manifest, when)
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


def _check_restorable(
    backup: Path, ddir: Path, recovery_code: str | None
) -> tuple[Manifest, StationMeta | None, bytes]:
    """The backup's manifest, the station.json already there (if any) and the key; nothing moved yet."""
    mpath = manifest_path_for(backup)
    if not backup.is_file():
        raise StoreError("restore.no_file")
    if not mpath.is_file():
        raise StoreError("restore.no_manifest")
    manifest = Manifest.load(mpath)
    if instance.is_held(ddir):
        # The app has this station open: its file cannot (and must not) be swapped under it.
        raise StoreError("restore.app_running")
    existing: StationMeta | None = None
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
    return manifest, existing, key


def _rotate_epoch(
    staged: Path, key: bytes, new_epoch: str, manifest: Manifest, when: datetime
) -> tuple[int, int]:
    """In the staged copy: a new replica epoch, unanswered ops back to pending. (requeued, pending)."""
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
    return requeued, pending


def _install(staged: Path, ddir: Path, when: datetime) -> Path | None:
    """Put the current database aside and the staged copy in its place; where it was put aside.

    A file held by another process puts everything back: ``restore.file_in_use``.
    """
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
    return replaced


def _write_station_json(ddir: Path, manifest: Manifest, when: datetime) -> None:
    """A new laptop's ``station.json``, from the backup's manifest."""
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
