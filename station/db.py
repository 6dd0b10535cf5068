"""SQLCipher engine for the station database.

One file per station, encrypted with a raw 256-bit key (``x'…'`` form, so no
key-derivation cost on each connection). Every connection gets the pragmas the
design requires: WAL, ``synchronous=FULL`` (sites lose power; NORMAL can drop
committed transactions) and foreign keys.

Each connection also gets a tiny SQL function ``tt_ctx()`` that returns the
write context the Python side set for it. Triggers on synced tables call it to
refuse writes that do not come from a service unit of work (see
``station/migrations/versions/0001_initial_schema.py``).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

import sqlcipher3.dbapi2 as sqlcipher

from kernel.errors import StoreError, WrongKey

if TYPE_CHECKING:
    # SQLAlchemy is imported where an engine is made (``make_engine``), not here: a sync
    # cycle with nothing to do runs on the raw connection alone (issue 15, no-op start).
    from sqlalchemy import Connection, Engine

log = logging.getLogger(__name__)

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA temp_store=MEMORY",
)


def db_path(data_dir: Path) -> Path:
    """The station's database file in its data directory."""
    return data_dir / "station.db"


# SQL parameters: positional (``?``) or named (``:name``).
Params = Sequence[object] | Mapping[str, object]


class RawCursor(Protocol):
    """A cursor of :class:`RawConnection`.

    Row values are SQLite's (None, int, float, str, bytes), typed by the schema and
    not by Python: rows stay untyped here, as in typeshed's own ``sqlite3`` stubs, and
    each reader converts the columns it reads (``int(...)``, ``str(...)``).
    """

    @property
    def rowcount(self) -> int: ...
    @property
    def description(self) -> Any: ...
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class RawConnection(Protocol):
    """The DB-API (pysqlite) surface of a sqlcipher3 connection that the hot paths use.

    Services and the sync writer run their hottest statements on the raw connection of
    their SQLAlchemy transaction (:func:`raw_connection`): SQLAlchemy's per-statement
    handling cost more than the statements.
    """

    def execute(self, sql: str, parameters: Params = (), /) -> RawCursor: ...
    def executemany(self, sql: str, seq_of_parameters: Iterable[Params], /) -> RawCursor: ...
    def close(self) -> None: ...


def raw_connection(conn: Connection) -> RawConnection:
    """The DB-API connection under ``conn``: same transaction, same write context."""
    driver = conn.connection.driver_connection
    if driver is None:  # pragma: no cover - only after the pool invalidated it
        raise StoreError("store.no_connection")
    # The typing boundary: sqlcipher3 ships no type information, so mypy knows nothing
    # of its connection; what it is, is the pysqlite API that RawConnection describes.
    return cast(RawConnection, driver)


def as_raw(conn: Connection | RawConnection) -> RawConnection:
    """``conn`` itself if it is a raw connection, else the one under the SQLAlchemy connection.

    Lets a query written once for the raw connection also run inside a caller's
    SQLAlchemy transaction. Without SQLAlchemy loaded nothing can be its connection.
    """
    # getattr: SQLAlchemy may be half imported (``sync.preload``'s thread): before its
    # Connection class exists, nothing is one.
    sa_connection = getattr(sys.modules.get("sqlalchemy.engine"), "Connection", None)
    if sa_connection is not None and isinstance(conn, sa_connection):
        return raw_connection(conn)
    return cast(RawConnection, conn)


class GuardState:
    """Per-connection write context read by the ``tt_ctx()`` SQL function.

    ``ctx`` is None (no synced writes allowed), a unit-of-work transaction id
    (writes allowed once that transaction has written its outbox op), or
    ``"pull"`` (the sync engine applying hub changes, which make no op).
    """

    __slots__ = ("ctx",)

    def __init__(self) -> None:
        self.ctx: str | None = None


def _key_pragma(key: bytes) -> str:
    return f"PRAGMA key = \"x'{key.hex()}'\""


def install_guard(dbapi_conn: sqlcipher.Connection) -> GuardState:
    """Give a new connection its ``tt_ctx()`` SQL function and the state it reads."""
    state = GuardState()
    dbapi_conn.create_function("tt_ctx", 0, lambda: state.ctx)
    return state


def open_raw(path: Path, key: bytes) -> sqlcipher.Connection:
    """A bare DB-API connection with the key and pragmas (tools, backups, benchmarks)."""
    conn = sqlcipher.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute(_key_pragma(key))
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher.DatabaseError:
        conn.close()
        raise WrongKey() from None
    for pragma in PRAGMAS:
        conn.execute(pragma)
    return conn


def make_engine(path: Path, key: bytes, *, pool_size: int = 4) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import ConnectionPoolEntry, QueuePool

    def creator() -> sqlcipher.Connection:
        conn = open_raw(path, key)
        return conn

    engine = create_engine(
        "sqlite://",
        creator=creator,
        module=sqlcipher,
        poolclass=QueuePool,
        pool_size=pool_size,
        max_overflow=4,
        pool_pre_ping=False,
        # SQL errors and SQL logging would otherwise quote the bound values (names, IDs).
        hide_parameters=True,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlcipher.Connection, record: ConnectionPoolEntry) -> None:
        record.info["tt_guard"] = install_guard(dbapi_conn)

    # pysqlite's own transaction handling is off (isolation_level=None); we issue
    # BEGIN ourselves so SQLAlchemy's begin/commit map to real transactions.
    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front (IMMEDIATE): a deferred transaction
        # that reads and then writes can fail with SQLITE_BUSY when another
        # process writes in between, and the busy timeout cannot help it.
        if conn.get_execution_options().get("tt_writer"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine


def guard(conn: Connection) -> GuardState:
    state = conn.info.get("tt_guard")
    if not isinstance(state, GuardState):  # pragma: no cover - engine always sets it
        raise StoreError("store.no_guard")
    return state


def integrity_check(conn: Connection) -> list[str]:
    rows = conn.exec_driver_sql("PRAGMA integrity_check").fetchall()
    return [str(r[0]) for r in rows]
