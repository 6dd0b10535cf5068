"""Hub database engines, sessions and migrations.

PostgreSQL in production (``postgresql+psycopg://…``), a SQLite file for demos
and tests. On SQLite every write transaction starts with ``BEGIN IMMEDIATE``
(the pysqlite recipe: the driver's own transaction handling is switched off and
SQLAlchemy's ``begin`` event emits the statement), so two concurrent pushes
queue on the write lock instead of deadlocking when both try to upgrade a read
lock. Reads use a second engine with plain deferred ``BEGIN`` so pulls never
wait for pushes (WAL lets readers run beside the writer).
"""

from __future__ import annotations

import logging
import random
import select
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from hub.errors import HubError
from hub.walcheckpoint import WRITER_FALLBACK_PAGES, checkpointer_for

log = logging.getLogger(__name__)

T = TypeVar("T")

# Transient conflicts (deadlock, serialization failure, a lost insert race) re-run the
# whole transaction: up to 10 attempts, waits 10 ms, 20 ms, ... capped at 0.5 s, ±50%.
WRITE_ATTEMPTS = 10
RETRY_BASE_WAIT_S = 0.005
RETRY_MAX_WAIT_S = 0.5

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    # The hub's SQLite mode is for demos and tests; FULL still, since a demo
    # hub on a laptop loses power like a station does.
    "PRAGMA synchronous=FULL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA foreign_keys=ON",
)

# Session settings of the hub's PostgreSQL connections (issue 15). A custom plan for
# every execution: the push's look-ups are ``col = ANY(%s)`` with one array of up to
# 500 ids, and psycopg prepares a statement after its fifth run; PostgreSQL's generic
# plan of it assumes a 10-element array and the table size of when it was planned, so
# on a hub whose tables grew since (a fresh hub's first day, before autovacuum's first
# ANALYZE) it kept a sequential scan of ``dose`` and ``person_site`` testing each row
# against the whole array: 60% of the backends' time of a first drain. A custom plan
# knows the array (an index look-up per id, or a hashed array on a small table) and
# the table's current size. Planning these short statements costs microseconds.
PG_SESSION_SETTINGS = ("SET plan_cache_mode = force_custom_plan",)


def _pg_session_settings(dbapi_conn: Any, _record: ConnectionPoolEntry) -> None:
    """:data:`PG_SESSION_SETTINGS` on each new connection of the pool: ``SET`` and COMMIT
    (a committed ``SET`` holds for the session), not a startup option a connection pooler
    could refuse."""
    cur = dbapi_conn.cursor()
    try:
        for sql in PG_SESSION_SETTINGS:
            cur.execute(sql)
    finally:
        cur.close()
    dbapi_conn.commit()


# A pooled PostgreSQL connection is pinged when it is taken from the pool only if it may
# be dead (issue 15, branch pg9): idle for this long, or its socket readable while no query
# is pending (the server ends a connection with a FATAL message and a close — a restart, a
# terminated backend, an idle timeout — or the peer's reset: readable at once). SQLAlchemy's
# pool_pre_ping sent ``;`` on every checkout, a round trip before every request's first
# statement, two per push (the authentication's, the push's).
PING_IDLE_S = 5.0
_IDLE_SINCE = "pg9_idle_since"


def _may_be_dead(dbapi_conn: Any, record: ConnectionPoolEntry) -> bool:
    """A pooled connection idle longer than :data:`PING_IDLE_S`, closed, or whose socket
    has something to read (an idle connection's server sends nothing unless it ends it)."""
    since = record.info.pop(_IDLE_SINCE, None)
    if since is None or time.monotonic() - since >= PING_IDLE_S or dbapi_conn.closed:
        return True
    try:
        fd = dbapi_conn.fileno()
        if hasattr(select, "poll"):  # one system call, any descriptor number
            p = select.poll()
            p.register(fd, select.POLLIN)
            return bool(p.poll(0))
        return bool(select.select([fd], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _pg_pool_checks(engine: Engine) -> None:
    """Replace ``pool_pre_ping``: a connection found dead at checkout is replaced by a new
    one before the caller sees it (``DisconnectionError``: the pool's own recipe), as the
    pre-ping did; only the ping of a connection used a moment ago is left out."""

    @event.listens_for(engine, "connect")
    def _fresh(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()  # just opened: alive

    @event.listens_for(engine, "checkin")
    def _idle(dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        if dbapi_conn is not None:
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _check(dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if not _may_be_dead(dbapi_conn, record):
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # the driver's error, whatever it is: a new connection
            raise DisconnectionError("the pooled connection is gone") from exc


# A statement for :func:`pipelined`: psycopg's SQL and its parameters (a tuple for ``%s``/``%b``,
# a mapping for ``%(name)s``).
Statement = tuple[str, tuple[object, ...] | Mapping[str, object]]


def pipelined(conn: Connection, statements: Sequence[Statement]) -> list[list[tuple[Any, ...]]]:
    """PostgreSQL: the rows of each statement, all sent in one round trip (issue 15).

    psycopg's pipeline mode: the statements go out together, one Sync, and the hub waits
    for its backend once instead of once per statement; the backend runs them in order
    in the connection's transaction, as if sent one by one. A failed statement aborts the
    rest (and so the transaction, as it would one by one), and the error is raised here as
    SQLAlchemy raises the driver's: ``OperationalError``, ``IntegrityError``, … with
    ``.orig``. Each row a tuple; a statement without rows (a write) reads as none.
    """
    import psycopg

    if not statements:
        return []
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    cursors: list[psycopg.Cursor[Any]] = []
    try:
        # A libpq older than 14 has no pipeline mode: the same statements one by one.
        with driver.pipeline() if psycopg.Pipeline.is_supported() else nullcontext():
            for sql, params in statements:
                cur = driver.cursor()
                cursors.append(cur)
                cur.execute(sql, params)
        # a statement that returns no rows (a write) reads as no rows
        return [cur.fetchall() if cur.description is not None else [] for cur in cursors]
    except psycopg.Error as exc:
        raise DBAPIError.instance(
            "; ".join(sql for sql, _ in statements), None, exc, psycopg.Error, hide_parameters=True
        ) from None
    finally:
        for cur in cursors:
            cur.close()


def begin_with(s: Session) -> list[Statement]:
    """PostgreSQL: the session's transaction begun by the caller's first pipeline (issue 15,
    branch pg9). psycopg sends its own ``BEGIN`` before a transaction's first statement and
    waits for it alone, even in a pipeline; so the connection is taken in autocommit (the
    driver then sends no ``BEGIN``) and ``BEGIN`` is returned as the first statement to
    pipeline: every statement after it runs in that transaction block, and the session's
    COMMIT or ROLLBACK ends it (the driver sends them while a block is open). The pool
    puts the connection back out of autocommit. To be called before the transaction's first
    statement; if the connection is already in use, nothing: the driver's own ``BEGIN``."""
    conn = s.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    driver = conn.connection.driver_connection
    import psycopg

    assert isinstance(driver, psycopg.Connection)
    if driver.autocommit and driver.pgconn.transaction_status == psycopg.pq.TransactionStatus.IDLE:
        return [("BEGIN", ())]
    return []


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _sqlite_engine(url: str, *, immediate: bool) -> Engine:
    # The writer leaves the WAL's checkpoints to hub.walcheckpoint's thread (issue 15).
    pragmas = (*SQLITE_PRAGMAS, f"PRAGMA wal_autocheckpoint={WRITER_FALLBACK_PAGES}") if immediate else SQLITE_PRAGMAS
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 30},
        pool_size=8,
        max_overflow=16,
        hide_parameters=True,  # errors must not quote bound values (personal data)
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # The DBAPI connection of this engine is pysqlite's (sqlite:// URLs only).
        # Take transaction control away from pysqlite so our BEGIN is the only one.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        for pragma in pragmas:
            cur.execute(pragma)
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Database:
    """The hub's engines and unit-of-work helpers. One per app (or CLI command)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sqlite = is_sqlite(url)
        if self.sqlite:
            self.write_engine = _sqlite_engine(url, immediate=True)
            self.read_engine = _sqlite_engine(url, immediate=False)
        else:
            self.write_engine = create_engine(
                url,
                pool_size=10,
                max_overflow=20,
                hide_parameters=True,
            )
            event.listen(self.write_engine, "connect", _pg_session_settings)
            _pg_pool_checks(self.write_engine)
            self.read_engine = self.write_engine
        # SQLite: the WAL's checkpoints on a thread of their own (hub.walcheckpoint).
        self.checkpointer = checkpointer_for(make_url(url).database) if self.sqlite else None
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)
        self._read = sessionmaker(self.read_engine, expire_on_commit=False)
        # PostgreSQL: a read of one statement without BEGIN and COMMIT (:meth:`read`).
        self._read_single = (
            self._read
            if self.sqlite
            else sessionmaker(self.read_engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
        )

    def dispose(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.close()
        self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            self.read_engine.dispose()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write transaction: commits on success, rolls back on any exception."""
        with self._write() as session, session.begin():
            yield session
        if self.checkpointer is not None:
            self.checkpointer.poke()  # committed: the WAL's checkpoint, off this thread

    @contextmanager
    def read(self, *, single: bool = False) -> Iterator[Session]:
        """A read transaction. ``single``: the caller runs one statement; on PostgreSQL it
        runs in autocommit (issue 15, branch pg9): one round trip instead of three (``BEGIN``,
        the statement, ``COMMIT``), the same rows — a statement of a READ COMMITTED
        transaction sees what was committed when it started, as a statement alone does."""
        with (self._read_single if single else self._read)() as session, session.begin():
            yield session

    def run_write(self, fn: Callable[[Session], T], *, attempts: int = WRITE_ATTEMPTS) -> T:
        """Run ``fn`` in a write transaction, re-running the whole unit on transient conflicts.

        PostgreSQL may abort one of two transactions that race for the same rows
        (deadlock, serialization failure) or let the loser of an insert race hit a
        unique violation (two pushes registering the same new ID number: the retry
        finds the winner's person and merges). Re-running the whole unit is the
        cure, and it is safe because nothing committed. Waits grow exponentially
        with jitter, so racing retries spread out. If the conflicts persist, the
        caller gets ``503 server.busy`` (a "retry later", like any 5xx for a
        station's engine), never a bare 500.
        """
        for attempt in range(1, attempts + 1):
            try:
                with self.write() as session:
                    return fn(session)
            except (IntegrityError, OperationalError) as exc:
                if not _transient(exc):
                    raise
                if attempt == attempts:
                    log.warning(
                        "a write transaction kept conflicting (%s) after %d attempts",
                        type(exc.orig).__name__,
                        attempts,
                    )
                    raise busy() from None
                log.info(
                    "retrying a write transaction after a transient conflict (%s)",
                    type(exc.orig).__name__,
                )
                time.sleep(min(RETRY_MAX_WAIT_S, RETRY_BASE_WAIT_S * 2**attempt) * random.uniform(0.5, 1.5))
            except PoolTimeout:
                raise busy() from None
        raise AssertionError("unreachable")


def busy() -> HubError:
    """The answer when the database cannot take a request now: retry later."""
    return HubError(503, "server.busy", "the hub is busy; retry later", retry_after_s=2)


def _transient(exc: DBAPIError) -> bool:
    if isinstance(exc, IntegrityError):
        return True  # a concurrent insert of the same key: the retry sees it and answers duplicate
    name = type(exc.orig).__name__
    return name in {
        "DeadlockDetected",
        "SerializationFailure",
        "LockNotAvailable",
    } or "locked" in str(exc.orig)


# ---- migrations ----------------------------------------------------------------------


def migrate(url: str, target: str = "head") -> None:
    """Bring the hub schema to ``target`` (Alembic, ``hub/migrations``)."""
    from alembic import command
    from alembic.config import Config

    if is_sqlite(url):
        path = make_url(url).database
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if is_sqlite(url):
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
            cfg = Config()
            cfg.set_main_option("script_location", "hub:migrations")
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, target)
    finally:
        engine.dispose()


def hub_epoch(session: Session) -> str:
    return str(
        session.execute(text("SELECT value FROM hub_meta WHERE key = 'hub_epoch'")).scalar_one()
    )
