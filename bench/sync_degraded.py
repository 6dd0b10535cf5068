"""``sync_degraded``: 2,000 dose ops over a slow, lossy line (the fault proxy).

Setup (not timed): a SQLite hub in its own process; a station built as in
``sync_loopback`` (walk-in + screening + dose per person: ``--ops N`` builds
``ceil(N / 3)`` persons); a :class:`tests.faults.faultproxy.FaultProxy` in front of the
hub with 300 ms added each way, 32,000 bytes/s each way (256 kbit/s) and a 2%
chance per connection of a reset. The station keeps its connection alive, so a
run uses one or two connections: ``--no-keep-alive`` opens one per request
(each with its own 2% draw), ``--reset-prob 0.2`` makes resets common.

Timed: ``SyncEngine.run_once`` until the outbox is drained, through the proxy
(the pull-back of the site's changes and the tally are in the time too).

Figures: ``seconds``; ``wire_bytes_per_op`` = (bytes_up + bytes_down through the
proxy) / ops, HTTP headers and the pull-back included; ``goodput_pct_of_link``
= the payload bytes that had to be moved (the ops' JSON payloads as stored in
the outbox) / (32,000 B/s x seconds). ``upload_wire_bytes_per_op`` is the push
direction alone. Baseline in the same run: the bytes-on-the-wire floor, i.e.
the time the payload alone takes at the link rate.

``python -m bench sync_degraded --ops 600``.
"""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench._util import in_scratch_dir, log, r3

NAME = "sync_degraded"
HELP = "2,000 dose ops through the fault proxy: 256 kbit/s, 300 ms each way, 2% resets"
DEFAULT_PEOPLE = 0  # unused: see --ops
DEFAULT_OPS = 2_000
LINK_BPS = 32_000  # bytes/s each way = 256 kbit/s
TARGETS = {"goodput_pct_of_link": 60.0, "wire_bytes_per_op": 200.0}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ops", type=int, default=DEFAULT_OPS, help="ops to drain (2,000)")
    p.add_argument("--latency-ms", type=float, default=300.0)
    p.add_argument("--reset-prob", type=float, default=0.02)
    p.add_argument(
        "--no-keep-alive", action="store_true", help="a new connection (and fault draw) per request"
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    return in_scratch_dir("bench-sync-degraded-", args.keep, lambda base: _run(base, args))


def _run(base: Path, args: argparse.Namespace) -> dict[str, Any]:
    from bench.sync_loopback import (
        build_station,
        cheap_hasher,
        drain,
        enroll,
        hub_url_for,
        load,
        start_hub,
    )
    from station.store import open_station
    from tests.faults.faultproxy import FaultProxy, Faults

    cheap_hasher()
    src = base / "station"
    persons, ops = build_station(src, "BENCH-000", args.ops, args.seed)
    log(f"built {persons} persons, {ops} ops")
    with ExitStack() as stack:
        db_url = hub_url_for(stack, base, "sqlite")
        hub_url, _proc = start_hub(stack, base, db_url)
        st = open_station(src)
        stack.callback(st.close)
        enroll(st, db_url, hub_url, "bench degraded")  # direct: enrollment is not timed
        with st.read() as conn:
            payload_bytes = int(
                conn.execute(
                    text(
                        "SELECT coalesce(sum(length(payload)), 0) FROM sync_outbox "
                        "WHERE state IN ('pending', 'inflight')"
                    )
                ).scalar_one()
            )
        port = int(hub_url.rsplit(":", 1)[1])
        proxy = FaultProxy("127.0.0.1", port, seed=args.seed)
        stack.enter_context(proxy)
        proxy.set_faults(
            Faults(latency_ms=args.latency_ms, bandwidth_bps=LINK_BPS, reset_prob=args.reset_prob)
        )
        log(f"proxy at {proxy.url}; {payload_bytes} payload bytes to send")
        # Keep-alive (the default) puts the whole run on one or two connections, and the
        # proxy draws its fault per connection; --no-keep-alive makes every request a
        # new connection with its own draw (a line whose NAT forgets idle connections).
        res = drain(st, proxy.url, max_cycles=500, client_kw={"keep_alive": not args.no_keep_alive})
        stats = proxy.stats_snapshot()
    secs = res["seconds"]
    wire = stats["bytes_up"] + stats["bytes_down"]
    log(f"drained in {secs:.1f} s, {wire} bytes on the wire, {res['cycles']} cycles")
    result: dict[str, Any] = {
        "bench": NAME,
        "ops": ops,
        "persons": persons,
        "seconds": r3(secs),
        "goodput_pct_of_link": r3(100.0 * payload_bytes / (LINK_BPS * secs)),
        "wire_bytes_per_op": r3(wire / max(1, ops)),
        "upload_wire_bytes_per_op": r3(stats["bytes_up"] / max(1, ops)),
        "download_wire_bytes_per_op": r3(stats["bytes_down"] / max(1, ops)),
        "payload_bytes": payload_bytes,
        "payload_bytes_per_op": r3(payload_bytes / max(1, ops)),
        "baseline_payload_at_link_rate_s": r3(payload_bytes / LINK_BPS),
        "seconds_scaled_to_2000": r3(secs * 2000 / max(1, ops)),
        "proxy_stats": stats,
        "engine": {k: v for k, v in res.items() if k != "seconds"},
        "faults": {
            "latency_ms": args.latency_ms,
            "bandwidth_Bps": LINK_BPS,
            "reset_prob": args.reset_prob,
            "keep_alive": not args.no_keep_alive,
        },
        "cpus": os.cpu_count(),
        "load_avg_1m": load(),
        "targets": TARGETS,
    }
    drained = res["pending_left"] == 0 and res["rejected"] == 0
    result["pass"] = {
        "drained": drained,
        "goodput_pct_of_link": drained
        and result["goodput_pct_of_link"] >= TARGETS["goodput_pct_of_link"],
        "wire_bytes_per_op": result["wire_bytes_per_op"] <= TARGETS["wire_bytes_per_op"],
    }
    return result
