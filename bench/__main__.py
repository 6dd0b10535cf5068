"""``python -m bench <name> [--people N] [--seed S] [--keep DIR]``; ``python -m bench list``."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from bench._util import emit, log, memory_keyring

BENCHES = {
    "search": "bench.search_bench",
    "record_dose": "bench.record_dose_bench",
    "open": "bench.open_bench",
    "ui_start": "bench.ui_start",
    "import": "bench.import_bench",
    "hub_push": "bench.hub_push",
    "sync_loopback": "bench.sync_loopback",
    "sync_degraded": "bench.sync_degraded",
    "hub_burst": "bench.hub_burst",
    "bootstrap_pull": "bench.bootstrap_pull",
    "ui_stall": "bench.ui_stall",
    "site_visibility": "bench.site_visibility",
    "tally_after_outage": "bench.tally_after_outage",
    "dashboard": "bench.dashboard_bench",
    "peer": "bench.peer",
    "sync_noop": "bench.sync_noop",
    "site_lan": "bench.site_lan",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("list", "-h", "--help"):
        if argv and argv[0] in ("-h", "--help"):
            print(__doc__)
        for name, modname in BENCHES.items():
            mod = importlib.import_module(modname)
            print(f"{name:12} {mod.HELP} (default --people {mod.DEFAULT_PEOPLE})")
        return 0
    name = argv.pop(0)
    if name not in BENCHES:
        print(f"unknown benchmark {name!r}; try: python -m bench list", file=sys.stderr)
        return 2
    mod = importlib.import_module(BENCHES[name])
    parser = argparse.ArgumentParser(prog=f"python -m bench {name}", description=mod.HELP)
    parser.add_argument("--people", type=int, default=mod.DEFAULT_PEOPLE)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--keep",
        type=Path,
        default=None,
        help="folder for built stations (cache root; default bench/out)",
    )
    mod.add_arguments(parser)
    args = parser.parse_args(argv)
    memory_keyring()  # explicit in-memory keyring before anything touches the store
    log(f"bench {name}: people={args.people} seed={args.seed}")
    emit(mod.run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
