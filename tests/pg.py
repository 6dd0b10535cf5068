"""A throwaway PostgreSQL cluster for tests: initdb in a temp dir, pg_ctl start on a free port.

Runs the server as the ``postgres`` OS user when the tests run as root (PostgreSQL
refuses to run as root). In CI (``CI=true``) missing binaries are an error, not
a skip: the PostgreSQL tests must run there.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


_EXE = ".exe" if os.name == "nt" else ""


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL server bin dir (Debian layout), or $PG_BINDIR.

    On a GitHub Windows runner PostgreSQL is preinstalled and $PGBIN names its bin dir.
    """
    for var in ("PG_BINDIR", "PGBIN"):
        env = os.environ.get(var)
        if env and (Path(env) / f"initdb{_EXE}").exists():
            return Path(env)
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3].split(".")[0]),
    )
    if candidates:
        return Path(candidates[-1]).parent
    which = shutil.which("pg_ctl")
    if which and (Path(which).parent / f"initdb{_EXE}").exists():
        return Path(which).parent
    return None


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgCluster:
    bindir: Path
    root: Path
    port: int
    as_user: list[str]

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*self.as_user, *args], check=True, capture_output=True, text=True, timeout=120
        )

    def create_database(self, name: str | None = None) -> str:
        """A fresh, empty database; returns its SQLAlchemy URL."""
        import psycopg

        name = name or f"hub_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')  # name is ours, not user input
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def create_migrated_database(self) -> str:
        """A new hub database at the head revision: a copy (``CREATE DATABASE ... TEMPLATE``)
        of one migrated once for this cluster, with its own hub epoch and dashboard secret."""
        import psycopg

        key = f"pg:{self.port}"
        if key not in _TEMPLATES:
            from hub.db import migrate

            url = self.create_database(f"hub_template_{uuid.uuid4().hex[:8]}")
            migrate(url)  # disposes its engine: nobody stays connected to the template
            _TEMPLATES[key] = url.rsplit("/", 1)[1]
        name = f"hub_{uuid.uuid4().hex[:12]}"
        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname="
        with psycopg.connect(dsn + "postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{_TEMPLATES[key]}"')  # our names
        with psycopg.connect(dsn + name, autocommit=True) as conn:
            for sql, params in _fresh_identity_sql():
                conn.execute(sql.replace(":v", "%(v)s"), params)
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"


@contextmanager
def pg_cluster(*, durable: bool = False) -> Iterator[PgCluster]:
    """Start a cluster; ``durable`` keeps PostgreSQL's default fsync/synchronous_commit
    (benchmarks that want production-like commits), otherwise both are off (fast tests)."""
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "PostgreSQL server binaries not found (apt-get install postgresql)"
        )
    root = Path(tempfile.mkdtemp(prefix="tramtiem-pg-"))
    data, sock = root / "data", root / "sock"
    data.mkdir()
    sock.mkdir()
    as_user: list[str] = []
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # PostgreSQL will not run as root: hand the directories to the postgres user.
        shutil.chown(root, "postgres", "postgres")
        shutil.chown(data, "postgres", "postgres")
        shutil.chown(sock, "postgres", "postgres")
        os.chmod(root, 0o755)
        as_user = ["runuser", "-u", "postgres", "--"]
    port = free_port()
    cluster = PgCluster(bindir, root, port, as_user)
    cluster._run(
        str(bindir / "initdb"),
        "-D",
        str(data),
        "-A",
        "trust",
        "-U",
        "postgres",
        "--no-sync",
        "-E",
        "UTF8",
        # Windows has no C.UTF-8 locale; C with UTF8 encoding sorts the same (bytewise).
        "--locale=C" if os.name == "nt" else "--locale=C.UTF-8",
    )
    # Unix-domain sockets in our own directory (not /var/run/postgresql); TCP only on Windows.
    sock_opt = "" if os.name == "nt" else f"-k {sock} "
    opts = f"-p {port} {sock_opt}-c listen_addresses=127.0.0.1 -c max_connections=200"
    if not durable:
        opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    cluster._run(
        str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", "start"
    )
    try:
        yield cluster
    finally:
        subprocess.run(
            [*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


# One migrated hub database per test process (an xdist worker) and backend: tests that only need
# a hub at the head revision get a copy of it instead of running every migration again.
_TEMPLATES: dict[str, str] = {}


def _fresh_identity_sql() -> list[tuple[str, dict[str, str]]]:
    """What a fresh migration makes unique per hub (0001: hub_epoch, 0002: dashboard_secret).

    A copy gets new values, so no two test hubs share an epoch or a signing key: a copy is,
    as far as the hub can tell, a hub just migrated.
    """
    import secrets

    return [
        ("UPDATE hub_meta SET value = :v WHERE key = 'hub_epoch'", {"v": str(uuid.uuid4())}),
        ("UPDATE hub_meta SET value = :v WHERE key = 'dashboard_secret'", {"v": secrets.token_hex(32)}),
    ]


def _sqlite_template() -> Path:
    import atexit

    from hub.db import migrate

    if "sqlite" not in _TEMPLATES:
        root = Path(tempfile.mkdtemp(prefix="tramtiem-hub-template-"))
        atexit.register(shutil.rmtree, root, True)
        path = root / "hub.db"
        migrate(f"sqlite:///{path}")
        import sqlite3

        conn = sqlite3.connect(path)
        try:  # everything in the main file: a copy of that file is the whole database
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()
        _TEMPLATES["sqlite"] = str(path)
    return Path(_TEMPLATES["sqlite"])


def migrated_sqlite_url(path: Path) -> str:
    """A SQLite hub database file at ``path``: kept if it exists (a hub restarted on its data),
    else a migrated copy as in :func:`migrated_hub_url`."""
    if not path.exists():
        return migrated_hub_url("sqlite", path.parent, None, path.stem)
    return f"sqlite:///{path}"


def migrated_hub_url(backend: str, tmp_path: Path, pg: PgCluster | None, name: str = "hub") -> str:
    """Like :func:`hub_database_url`, but already at the head revision (the hub's start-up
    migration finds nothing to do): a copy of one database migrated once per test process,
    with its own ``hub_epoch`` and dashboard secret. For tests of anything but the migrations."""
    if backend == "sqlite":
        import sqlite3

        path = tmp_path / f"{name}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_sqlite_template(), path)
        conn = sqlite3.connect(path)
        try:
            with conn:  # one transaction, committed
                for sql, params in _fresh_identity_sql():
                    conn.execute(sql, params)
        finally:
            conn.close()
        return f"sqlite:///{path}"
    if pg is None:
        import pytest

        pytest.skip("PostgreSQL binaries not installed (CI must have them)")
    return pg.create_migrated_database()


def hub_database_url(backend: str, tmp_path: Path, pg: PgCluster | None, name: str = "hub") -> str:
    """A fresh hub database: a SQLite file ``name``.db under ``tmp_path``, or a new database
    in the session's PostgreSQL cluster (skipped where PostgreSQL is not installed; CI has it)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / f'{name}.db'}"
    if pg is None:
        import pytest

        pytest.skip("PostgreSQL binaries not installed (CI must have them)")
    return pg.create_database()
