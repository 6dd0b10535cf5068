"""Where PostgreSQL's time goes in one ``bench peer`` sync (issue 15): ``pg_stat_statements``.

``python -m bench.peer_pgstat [RECORDS]`` (default 10,000; Node and npm as for ``bench
peer``): the peer's records as our ops, one ``tramtiem sync --once`` to a hub on a durable
PostgreSQL cluster restarted with ``pg_stat_statements`` preloaded; prints the run's figures
(stderr) and the statements by total execution time: calls, rows, ms, statement. A
profiling aid, not a benchmark (no baseline): not registered in ``bench/__main__``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bench import peer

TOP = """SELECT calls, rows, round(total_exec_time::numeric, 1),
                 left(regexp_replace(query, '\\s+', ' ', 'g'), 110)
          FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT 30"""


TABLES = """SELECT relname, seq_scan, seq_tup_read, idx_scan, n_tup_ins FROM pg_stat_user_tables
             WHERE n_tup_ins > 0 OR seq_scan > 0 ORDER BY relname"""
INDEXES = """SELECT relname, indexrelname, idx_scan FROM pg_stat_user_indexes ORDER BY relname, indexrelname"""
# ``PGSTAT_PROFILE=DIR``: py-spy folded stacks of the station and the hub in DIR.
# ``PGSTAT_EXPLAIN_MS=5``: auto_explain logs the plan (ANALYZE, BUFFERS) of every statement
# slower than that, printed at the end.
EXPLAIN_MS = float(os.environ["PGSTAT_EXPLAIN_MS"]) if os.environ.get("PGSTAT_EXPLAIN_MS") else None


def main(n: int) -> None:
    import psycopg

    from tests.pg import pg_cluster

    base = Path(tempfile.mkdtemp(prefix="bench-pgstat-"))
    xdg = base / "xdg"
    peer._use_file_keyring(xdg)
    hdir = peer.harness_dir(peer.ROOT / "bench" / "out")
    peer.compile_project()
    data, _ = peer.generate(hdir, n)
    src = base / "src"
    print(peer.build_station(src, peer.read_records(data)), file=sys.stderr)
    try:
        with ExitStack() as stack:
            cl = stack.enter_context(pg_cluster(durable=True))

            def dsn(db: str) -> str:
                return f"host=127.0.0.1 port={cl.port} user=postgres dbname={db}"

            with psycopg.connect(dsn("postgres"), autocommit=True) as c:
                c.execute("ALTER SYSTEM SET shared_preload_libraries = pg_stat_statements, auto_explain")
            opts = f"-p {cl.port} -k {cl.root / 'sock'} -c listen_addresses=127.0.0.1 -c max_connections=200"
            cl._run(str(cl.bindir / "pg_ctl"), "-D", str(cl.root / "data"), "-o", opts,
                    "-l", str(cl.root / "log"), "-w", "restart")
            if EXPLAIN_MS is not None:  # the plans of the slow statements, as run, to the log
                with psycopg.connect(dsn("postgres"), autocommit=True) as c:
                    c.execute(f"ALTER SYSTEM SET auto_explain.log_min_duration = {int(EXPLAIN_MS)}")
                    c.execute("ALTER SYSTEM SET auto_explain.log_analyze = on")
                    c.execute("ALTER SYSTEM SET auto_explain.log_buffers = on")
                    c.execute("SELECT pg_reload_conf()")
            hubs = peer.Hubs(stack, base, durable_pg=True, with_pg=False)
            hubs.cluster = cl
            url = hubs.db_url("postgres")
            db = url.rsplit("/", 1)[1].split("?")[0]
            with psycopg.connect(dsn(db), autocommit=True) as c:
                c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                c.execute("SELECT pg_stat_statements_reset()")
            hubs.db_url = lambda backend: url  # type: ignore[method-assign]
            prof = Path(os.environ["PGSTAT_PROFILE"]) if os.environ.get("PGSTAT_PROFILE") else None
            if prof is not None:  # py-spy folded stacks of the station and the hub
                prof.mkdir(parents=True, exist_ok=True)
            out: dict[str, Any] = peer.ours_run(base, src, xdg, hubs, "postgres", "pgstat", profile=prof)
            print(json.dumps({k: v for k, v in out.items() if k != "report"}), file=sys.stderr)
            with psycopg.connect(dsn(db), autocommit=True) as c:
                tot = c.execute("SELECT sum(total_exec_time), sum(calls) FROM pg_stat_statements").fetchone()
                print(f"total exec ms {float(tot[0] or 0):.0f}, statements {int(tot[1] or 0)}" if tot else "-")
                for row in c.execute(TOP):
                    print(row)
                print("tables: seq_scan, seq_tup_read, idx_scan, n_tup_ins")
                for row in c.execute(TABLES):
                    print(row)
                print("indexes: idx_scan")
                for row in c.execute(INDEXES):
                    print(row)
            if EXPLAIN_MS is not None:
                print((cl.root / "log").read_text(errors="replace")[-60_000:])
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
