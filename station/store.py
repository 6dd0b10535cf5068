"""Opening a station database from a data directory: the one public façade.

A data directory holds ``station.json`` (non-secret identity: install id and
site code), ``station.db`` (SQLCipher) and ``backups/``. The key lives in the
OS keyring (:mod:`station.keys`). Opening checks the schema revision and, when
it is behind, copies the file to ``backups/`` before running the Alembic
migrations.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypedDict, cast

from kernel.clock import CLOCK_TOLERANCE_MS, HLC, Clock, iso, site_today, system_clock
from kernel.errors import FieldIssue, StoreError, ValidationError
from kernel.ids import uuid7
from station import keys
from station._build import BUILD_DATE
from station.db import RawConnection, as_raw, guard, make_engine, open_raw, raw_connection
from station.db import db_path as db_path  # re-exported: the file's one name
from station.db_copy import MAX_MIGRATION_BACKUPS as MAX_MIGRATION_BACKUPS
from station.db_copy import backup_file as backup_file  # re-exported (moved for size)
from station.db_copy import prune_migration_backups
from station.rawpool import RawPool

if TYPE_CHECKING:
    import sqlcipher3.dbapi2 as sqlcipher
    from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

HEAD_REVISION = "0007"
GENESIS_HASH = "0" * 64
SITE_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")


def default_data_dir() -> Path:
    import platformdirs  # here: ~50 ms at start-up that a --data-dir never needs

    return Path(platformdirs.user_data_dir("tramtiem", "TramTiem"))


class StationMeta(TypedDict):
    """What this code reads of ``station.json`` (the file also holds ``format`` and ``created_at``)."""

    install_id: str
    site_code: str


class SyncStateRow(TypedDict):
    """The one row of ``sync_state``: this replica's identity and sync cursors."""

    id: int
    station_id: str
    site_code: str
    station_letter: str
    replica_epoch: str
    hub_epoch: str | None
    pull_cursor: int
    hlc_last: str | None
    clock_skew_ms: int | None
    last_push_ok: str | None
    last_pull_ok: str | None
    # The site hub route (0007).
    site_hub_url: str | None
    relay_cursor: int
    relay_hub_epoch: str | None
    last_relay_ok: str | None


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a logged-in user (or the installer's ``system`` actor)."""

    user_id: str | None
    username: str
    role: str
    site_code: str
    display_name: str = ""

    @classmethod
    def system(cls, site_code: str) -> Actor:
        return cls(user_id=None, username="system", role="system", site_code=site_code)


def _canonical(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def audit_hash(prev_hash: str, fields: Sequence[object]) -> str:
    return hashlib.sha256((prev_hash + "|" + _canonical(fields)).encode()).hexdigest()


_HEADS_SQL = (
    "SELECT (SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1), "
    "(SELECT hlc FROM sync_outbox ORDER BY op_seq DESC LIMIT 1), "
    "(SELECT hlc_last FROM sync_state WHERE id = 1), "
    "(SELECT clock_skew_ms FROM sync_state WHERE id = 1)"
)
_OUTBOX_SQL = (
    "INSERT INTO sync_outbox (op_id, tx_id, op_type, op_version, entity_type, entity_id, "
    "base_version, payload, hlc, recorded_at, user_id, state, attempts) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0)"
)
_AUDIT_SQL = (
    "INSERT INTO audit_log (at, user_id, action, entity_type, entity_id, op_id, detail, "
    "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def _chain_heads(raw: RawConnection) -> tuple[str, HLC, int | None]:
    """Last audit hash, newest HLC (ops are appended in HLC order) and the hub clock skew.

    One statement on the raw DB-API connection: this runs at the start of every write.
    """
    last, outbox_hlc, state_hlc, skew = raw.execute(_HEADS_SQL).fetchone()
    best = max((str(h) for h in (outbox_hlc, state_hlc) if h), default=None)
    return (
        (str(last) if last else GENESIS_HASH),
        (HLC.parse(best) if best else HLC()),
        (int(skew) if skew is not None else None),
    )


class UnitOfWork:
    """One service call: domain rows + outbox op(s) + audit entries, one transaction.

    Ops must be emitted *before* the domain rows they cover: the guard triggers
    refuse synced-table writes until the transaction has its outbox row.
    """

    def __init__(self, station: Station, conn: Connection, actor: Actor, now: datetime) -> None:
        self.station = station
        self.conn = conn
        self.actor = actor
        self.now = now
        self.now_iso = iso(now)
        self.today = site_today(lambda: now)
        self.tx_id = uuid7()
        self.op_ids: list[str] = []
        # The raw DB-API connection of this same transaction: the hot path of every
        # service (outbox, audit, dose) skips SQLAlchemy's per-statement overhead.
        self.raw = raw_connection(conn)
        # Chain heads are read inside this (IMMEDIATE) transaction, not taken from
        # memory: another process may have written since this Station opened.
        self._audit_hash, self._hlc, self.clock_skew_ms = _chain_heads(self.raw)

    def emit(
        self,
        op_type: str,
        entity_type: str,
        entity_id: str,
        payload: Mapping[str, object],
        *,
        base_version: int | None = None,
        op_version: int = 1,
    ) -> str:
        op_id = uuid7()
        hlc = self._hlc.tick(self.now)
        self.raw.execute(
            _OUTBOX_SQL,
            (
                op_id,
                self.tx_id,
                op_type,
                op_version,
                entity_type,
                entity_id,
                base_version,
                _canonical(payload),
                hlc,
                self.now_iso,
                self.actor.user_id,
            ),
        )
        self.op_ids.append(op_id)
        self.audit(op_type, entity_type, entity_id, op_id=op_id)
        return op_id

    def audit(
        self,
        action: str,
        entity_type: str | None,
        entity_id: str | None,
        *,
        op_id: str | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        """Append a hash-chained audit entry. ``detail`` must hold no personal data."""
        det = _canonical(detail or {})
        fields = [self.now_iso, self.actor.user_id, action, entity_type, entity_id, op_id, det]
        h = audit_hash(self._audit_hash, fields)
        self.raw.execute(
            _AUDIT_SQL,
            (
                self.now_iso,
                self.actor.user_id,
                action,
                entity_type,
                entity_id,
                op_id,
                det,
                self._audit_hash,
                h,
            ),
        )
        self._audit_hash = h


class Station:
    """An open station database. Thread-safe: reads in parallel, one writer at a time.

    Two ways in, on the same file with the same pragmas and write lock: the SQLAlchemy
    engine (``read``, ``unit_of_work``, ``sync_writer``), made on first use, and raw
    sqlcipher connections (``read_raw``, ``sync_writer_raw``) for the few statements of a
    sync cycle with nothing to do, so that such a cycle never imports SQLAlchemy (issue 15:
    ~150 ms of a ``tramtiem sync`` start).
    """

    def __init__(
        self,
        data_dir: Path,
        meta: StationMeta,
        clock: Clock,
        *,
        key: bytes,
        engine: Engine | None = None,
        raw: sqlcipher.Connection | None = None,
    ) -> None:
        self.data_dir = data_dir
        self._key = key
        self._engine = engine
        self._engine_lock = threading.Lock()
        self._raw = RawPool(db_path(data_dir), key, raw)
        self.clock = clock
        self.install_id = meta["install_id"]
        self.site_code = meta["site_code"]
        self._write_lock = threading.RLock()
        self._hlc = HLC()
        self._audit_hash = GENESIS_HASH
        # Called (no arguments) after every committed service write: the sync engine
        # wakes on them, so a dose reaches the hub without waiting for its next round.
        self._commit_listeners: list[Callable[[], None]] = []
        self._load_runtime_state()

    # ---- lifecycle -----------------------------------------------------------------

    def _load_runtime_state(self) -> None:
        with self.read_raw() as raw:
            self._audit_hash, self._hlc, _skew = _chain_heads(raw)

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, made on first use (the pool opens its connections lazily)."""
        engine = self._engine
        if engine is None:
            with self._engine_lock:
                if self._engine is None:
                    self._engine = make_engine(db_path(self.data_dir), self._key)
                engine = self._engine
        return engine

    def close(self) -> None:
        self._raw.close()
        if self._engine is not None:
            self._engine.dispose()

    # ---- raw connections (no SQLAlchemy: station.rawpool) --------------------------------

    @contextmanager
    def read_raw(self) -> Iterator[RawConnection]:
        """``read`` on a raw sqlcipher connection: its own connection, one transaction."""
        with self._raw.transaction("BEGIN", None) as raw:
            yield raw

    @contextmanager
    def sync_writer_raw(self) -> Iterator[RawConnection]:
        """``sync_writer()`` (durable) on a raw connection: the same write lock, ``BEGIN
        IMMEDIATE``, the ``"pull"`` write context and a ``synchronous=FULL`` commit."""
        with self._write_lock, self._raw.transaction("BEGIN IMMEDIATE", "pull") as raw:
            yield raw

    def add_commit_listener(self, cb: Callable[[], None]) -> None:
        if cb not in self._commit_listeners:
            self._commit_listeners.append(cb)

    def remove_commit_listener(self, cb: Callable[[], None]) -> None:
        if cb in self._commit_listeners:
            self._commit_listeners.remove(cb)

    def _committed(self) -> None:
        for cb in list(self._commit_listeners):
            try:
                cb()
            except Exception:  # a listener must never undo or hide a committed write
                log.exception("commit listener failed")

    def __enter__(self) -> Station:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- access --------------------------------------------------------------------

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only unit of work (its own connection, one transaction)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def unit_of_work(self, actor: Actor, *, min_ops: int = 1) -> Iterator[UnitOfWork]:
        """Open the single writer's transaction for one service call."""
        with self._write_lock:
            now = self.clock()
            conn = self.engine.connect().execution_options(tt_writer=True)
            state = guard(conn)
            try:
                trans = conn.begin()
                uow = UnitOfWork(self, conn, actor, now)
                state.ctx = uow.tx_id
                try:
                    yield uow
                    if len(uow.op_ids) < min_ops:
                        raise StoreError("store.no_op_written")
                except BaseException:
                    trans.rollback()
                    raise
                trans.commit()
                # Only after COMMIT do the in-memory chain heads move on.
                self._hlc = uow._hlc
                self._audit_hash = uow._audit_hash
            finally:
                state.ctx = None
                conn.close()
        self._committed()

    @contextmanager
    def sync_writer(self, *, durable: bool = True) -> Iterator[Connection]:
        """The sync engine's write transaction: pulled changes, the hub's answers, sync bookkeeping.

        No outbox op is made (these writes come from the hub or describe the queue).
        It was called ``pull_writer`` while only pulls used it; the push side writes
        through it as much (``station.answers``, ``station.outbox``).

        ``durable=False`` is for sync bookkeeping that the hub gives back if a power cut
        takes it (the outbox's "inflight" marks: resent ops are answered "duplicate"):
        this one commit does not wait for fsync (``synchronous=NORMAL``). WAL order keeps
        it before every later commit, so the next FULL commit makes it durable too; a
        crash of the process alone loses nothing (the OS holds the written WAL).
        """
        with self._write_lock:
            conn = self.engine.connect().execution_options(tt_writer=True)
            state = guard(conn)
            raw = raw_connection(conn)
            try:
                if not durable:
                    raw.execute("PRAGMA synchronous=NORMAL")
                with conn.begin():
                    state.ctx = "pull"
                    yield conn
            finally:
                state.ctx = None
                try:
                    if not durable:
                        raw.execute("PRAGMA synchronous=FULL")
                finally:
                    conn.close()

    def today(self) -> date:
        return site_today(self.clock)

    def clock_issues(
        self, now: datetime | None = None, skew_ms: int | bool | None = False
    ) -> list[FieldIssue]:
        """Reasons to believe the wall clock is wrong (empty when it looks right)."""
        now = now or self.clock()
        issues: list[FieldIssue] = []
        if now.date() < date.fromisoformat(BUILD_DATE):
            issues.append(FieldIssue("clock", "clock.before_build", {"build_date": BUILD_DATE}, "warning"))
        now_ms = int(now.timestamp() * 1000)
        if self._hlc.wall_ms and now_ms < self._hlc.wall_ms - CLOCK_TOLERANCE_MS:
            behind = (self._hlc.wall_ms - now_ms) // 60000
            issues.append(FieldIssue("clock", "clock.went_back", {"minutes": behind}, "warning"))
        if skew_ms is False:  # not given: read it
            with self.read_raw() as own:
                row = own.execute("SELECT clock_skew_ms FROM sync_state WHERE id = 1").fetchone()
                skew = None if row is None else row[0]
        else:
            skew = skew_ms
        if skew is not None and abs(int(skew)) > CLOCK_TOLERANCE_MS:
            issues.append(
                FieldIssue("clock", "clock.hub_skew", {"minutes": int(skew) // 60000}, "warning")
            )
        return issues

    def sync_state(self) -> SyncStateRow:
        with self.read_raw() as conn:
            cur = conn.execute("SELECT * FROM sync_state WHERE id = 1")
            rows = cur.fetchall()
            if len(rows) != 1:
                raise StoreError("store.no_sync_state")
            row = dict(zip([d[0] for d in cur.description], rows[0], strict=True))
        return SyncStateRow(
            id=row["id"],
            station_id=row["station_id"],
            site_code=row["site_code"],
            station_letter=row["station_letter"],
            replica_epoch=row["replica_epoch"],
            hub_epoch=row["hub_epoch"],
            pull_cursor=row["pull_cursor"],
            hlc_last=row["hlc_last"],
            clock_skew_ms=row["clock_skew_ms"],
            last_push_ok=row["last_push_ok"],
            last_pull_ok=row["last_pull_ok"],
            site_hub_url=row["site_hub_url"],
            relay_cursor=int(row["relay_cursor"] or 0),
            relay_hub_epoch=row["relay_hub_epoch"],
            last_relay_ok=row["last_relay_ok"],
        )


# ---- opening -----------------------------------------------------------------------


def _read_meta(data_dir: Path) -> StationMeta:
    path = data_dir / "station.json"
    if not path.exists():
        raise StoreError("store.not_initialised", data_dir=str(data_dir))
    try:
        meta: object = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise StoreError("store.bad_metadata", data_dir=str(data_dir)) from None
    install_id = meta.get("install_id") if isinstance(meta, dict) else None
    site_code = meta.get("site_code") if isinstance(meta, dict) else None
    if not isinstance(install_id, str) or not isinstance(site_code, str):
        raise StoreError("store.bad_metadata", data_dir=str(data_dir))
    return StationMeta(install_id=install_id, site_code=site_code)




def current_revision(conn: Connection | RawConnection) -> str | None:
    raw = as_raw(conn)
    exists = raw.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='alembic_version'").fetchone()
    if not exists:
        return None
    rev = raw.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(rev[0]) if rev and rev[0] else None


def _migrate(engine: Engine, target: str = "head") -> None:
    # Imported lazily: alembic costs ~100 ms to import and is needed only on upgrade.
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "station:migrations")
    with engine.connect() as conn:
        guard(conn).ctx = "migrate"
        try:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, target)
            conn.commit()
        finally:
            guard(conn).ctx = None


def open_station(
    data_dir: Path | str | None = None,
    *,
    clock: Clock = system_clock,
    migrate: bool = True,
) -> Station:
    """Open the station in ``data_dir`` (default: the OS user-data dir).

    Raises ``StoreError`` subclasses with codes: ``store.not_initialised``,
    ``store.keyring_unavailable``, ``store.key_missing``, ``store.wrong_key``,
    ``store.schema_newer`` (the file was written by a newer version).
    """
    ddir = Path(data_dir) if data_dir is not None else default_data_dir()
    meta = _read_meta(ddir)
    key = keys.load_key(meta["install_id"])
    path = db_path(ddir)
    if not path.exists():
        raise StoreError("store.db_missing", data_dir=str(ddir))
    # The revision is read on a raw connection, which the station then keeps: the engine
    # (and SQLAlchemy) are made only for a migration here, else on first use.
    raw: sqlcipher.Connection | None = open_raw(path, key)
    engine: Engine | None = None
    try:
        rev = current_revision(cast(RawConnection, raw))
        if rev != HEAD_REVISION:
            if rev is not None and rev > HEAD_REVISION:
                raise StoreError("store.schema_newer", revision=rev, supported=HEAD_REVISION)
            if not migrate:
                raise StoreError("store.schema_old", revision=rev)
            cast(RawConnection, raw).close()
            raw = None
            if rev is not None:
                backup = backup_file(ddir, key, f"pre-{HEAD_REVISION}-from-{rev}", now=clock())
                log.info("backed up database before migration to %s", backup.name)
                prune_migration_backups(ddir)
            engine = make_engine(path, key)
            _migrate(engine)
        return Station(ddir, meta, clock, key=key, engine=engine, raw=raw)
    except BaseException:
        if raw is not None:
            raw.close()
        if engine is not None:
            engine.dispose()
        raise


def init_station(
    data_dir: Path | str,
    site_code: str,
    *,
    clock: Clock = system_clock,
    station_letter: str = "A",
    install_id: str | None = None,
) -> Station:
    """Create a new station: metadata file, key in the keyring, migrated database.

    ``install_id`` is given when enrolling into an empty directory: the hub has
    already bound the station token to that id.
    """
    issues: list[FieldIssue] = []
    code = (site_code or "").strip().upper()
    if not SITE_CODE_RE.match(code):
        issues.append(FieldIssue("site_code", "site_code.invalid", {"pattern": SITE_CODE_RE.pattern}))
    letter = (station_letter or "").strip().upper()
    if not re.fullmatch(r"[A-Z]", letter):
        issues.append(FieldIssue("station_letter", "station_letter.invalid"))
    if issues:
        raise ValidationError(issues)
    ddir = Path(data_dir)
    if (ddir / "station.json").exists() or db_path(ddir).exists():
        raise StoreError("store.already_initialised", data_dir=str(ddir))
    keys.check_backend()
    ddir.mkdir(parents=True, exist_ok=True)
    if install_id is not None and not re.fullmatch(r"[0-9a-f-]{36}", install_id):
        raise ValidationError([FieldIssue("install_id", "install_id.invalid")])
    install_id = install_id or uuid7()
    key = keys.create_key(install_id)
    from sqlalchemy import text

    engine = make_engine(db_path(ddir), key)
    try:
        _migrate(engine)
        with engine.connect() as conn, conn.begin():
            conn.execute(
                text(
                    "INSERT INTO sync_state (id, station_id, site_code, station_letter, "
                    "replica_epoch, pull_cursor) VALUES (1, :sid, :site, :letter, :epoch, 0)"
                ),
                {"sid": install_id, "site": code, "letter": letter, "epoch": uuid7()},
            )
            conn.execute(
                text("INSERT INTO meta (key, value) VALUES ('created_at', :v), ('build', :b)"),
                {"v": iso(clock()), "b": BUILD_DATE},
            )
    finally:
        engine.dispose()
    meta = {"format": 1, "install_id": install_id, "site_code": code, "created_at": iso(clock())}
    tmp = ddir / "station.json.tmp"
    tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    tmp.replace(ddir / "station.json")
    return open_station(ddir, clock=clock)
