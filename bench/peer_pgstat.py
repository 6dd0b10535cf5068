"""Where PostgreSQL's time goes in one ``bench peer`` sync (issue 15): ``pg_stat_statements``.

``python -m bench.peer_pgstat [RECORDS]`` (default 10,000; Node and npm as for ``bench
peer``): the peer's records as our ops, one ``tramtiem sync --once`` to a hub on a durable
PostgreSQL cluster restarted with ``pg_stat_statements`` preloaded; prints the run's figures
(stderr) and the statements by total execution time: calls, rows, ms, statement. A
profiling aid, not a benchmark (no baseline): not registered in ``bench/__main__``.
"""

from __future__ import annotations

import json
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
                c.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            opts = f"-p {cl.port} -k {cl.root / 'sock'} -c listen_addresses=127.0.0.1 -c max_connections=200"
            cl._run(str(cl.bindir / "pg_ctl"), "-D", str(cl.root / "data"), "-o", opts,
                    "-l", str(cl.root / "log"), "-w", "restart")
            hubs = peer.Hubs(stack, base, durable_pg=True, with_pg=False)
            hubs.cluster = cl
            url = hubs.db_url("postgres")
            db = url.rsplit("/", 1)[1].split("?")[0]
            with psycopg.connect(dsn(db), autocommit=True) as c:
                c.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                c.execute("SELECT pg_stat_statements_reset()")
            hubs.db_url = lambda backend: url  # type: ignore[method-assign]
            out: dict[str, Any] = peer.ours_run(base, src, xdg, hubs, "postgres", "pgstat")
            print(json.dumps({k: v for k, v in out.items() if k != "report"}), file=sys.stderr)
            with psycopg.connect(dsn(db), autocommit=True) as c:
                tot = c.execute("SELECT sum(total_exec_time), sum(calls) FROM pg_stat_statements").fetchone()
                print(f"total exec ms {float(tot[0] or 0):.0f}, statements {int(tot[1] or 0)}" if tot else "-")
                for row in c.execute(TOP):
                    print(row)
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000)
