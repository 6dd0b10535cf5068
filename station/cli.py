"""Headless commands for IT staff and scripts: ``init``, ``demo-data``, ``doctor``.

``register(subparsers)`` adds them to the ``tramtiem`` command (composed in
``ui/cli.py``). Exit codes: 0 ok, 1 check failed, 2 bad arguments,
3 store or keyring problem, 4 invalid input.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from kernel.errors import (
    DomainError,
    KeyMissing,
    KeyringUnavailable,
    StationError,
    StoreError,
    ValidationError,
    WrongKey,
)
from station import keys
from station.store import default_data_dir, init_station, open_station

if TYPE_CHECKING:
    from station.doctor import Diagnosis

EXIT_OK, EXIT_CHECK, EXIT_USAGE, EXIT_STORE, EXIT_INPUT = 0, 1, 2, 3, 4

STORE_MESSAGES = {
    "store.keyring_unavailable": keys.KEYRING_HELP,
    "store.key_missing": (
        "The database key for this station is not in this machine's keyring. Open the data on "
        "the laptop that created it, or restore the key with the recovery code (docs/keys.md)."
    ),
    "store.wrong_key": "The key in the keyring does not open this database (wrong key or damaged file).",
    "store.not_initialised": "No station here. Create one with: tramtiem init --data-dir DIR --site CODE",
    "store.db_missing": "station.json exists but station.db is missing: restore it from a backup.",
    "store.schema_newer": "This database was written by a newer Trạm Tiêm; install that version.",
    "store.already_initialised": "A station already exists in this directory.",
}


def explain(exc: StationError) -> str:
    """A readable line for an error: text by code, plus the code. Never personal data."""
    if isinstance(exc, ValidationError):
        return "invalid input: " + "; ".join(f"{i.field} ({i.code})" for i in exc.issues)
    text = STORE_MESSAGES.get(exc.code)
    return f"{text} [{exc.code}]" if text else str(exc)


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError("must be a whole number") from None
    if n < 0 or n > 5_000_000:
        raise argparse.ArgumentTypeError("must be between 0 and 5,000,000")
    return n


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir else default_data_dir()


def cmd_init(args: argparse.Namespace) -> int:
    st = init_station(_data_dir(args), args.site, station_letter=args.letter)
    print(f"station created in {st.data_dir} for site {st.site_code} (station {args.letter})")
    st.close()
    return EXIT_OK


def cmd_demo_data(args: argparse.Namespace) -> int:
    # Imported here, like every command's own modules: `tramtiem sync --once` must not pay
    # for the demo generator or the doctor at start-up (bench peer: noop_wall_s).
    from station.demo import DEMO_PASSWORD, generate

    ddir = _data_dir(args)
    if not (ddir / "station.json").exists():
        init_station(ddir, args.site).close()
    st = open_station(ddir)
    started = time.monotonic()

    def progress(done: int, total: int) -> None:
        if not args.quiet:
            print(f"\r  people {done}/{total}", end="", file=sys.stderr, flush=True)

    try:
        summary = generate(st, people_count=args.people, seed=args.seed, progress=progress)
    finally:
        st.close()
    if not args.quiet:
        print(file=sys.stderr)
    print(
        f"demo data: {summary.people} people ({summary.expected_today} expected today), "
        f"{summary.past_doses} past doses, {summary.lots} new lots in {time.monotonic() - started:.1f}s"
    )
    print("users (password '" + DEMO_PASSWORD + "'): " + ", ".join(f"{u} ({r})" for u, r in summary.users.items()))
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from station.doctor import diagnose

    st = open_station(_data_dir(args))
    try:
        report = diagnose(st)
    finally:
        st.close()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        _print_report(report)
    return EXIT_OK if report["ok"] else EXIT_CHECK


def _print_report(r: Diagnosis) -> None:
    ob = r["outbox"]
    lines = [
        f"data dir        {r['data_dir']}",
        f"site            {r['site_code']}",
        f"integrity       {r['integrity']}",
        f"foreign keys    {r['foreign_key_violations']} violations",
        f"schema          {r['schema_revision']} (head {r['schema_head']})",
        f"journal         {r['journal_mode']}, synchronous={r['synchronous']}",
        f"outbox          {ob['pending']} pending, {ob['acked']} acked, {ob['rejected']} rejected"
        + (f", oldest pending {ob['oldest_pending_at']}" if ob["oldest_pending_at"] else ""),
        f"audit chain     {'ok' if r['audit']['ok'] else 'BROKEN at seq ' + str(r['audit']['first_bad_seq'])}"
        f" ({r['audit']['entries']} entries)",
        "counts          " + ", ".join(f"{k} {v}" for k, v in r["counts"].items()),
        f"keyring         {r['keyring_backend']}",
        f"size            {r['db_size_bytes'] / 1e6:.1f} MB",
        f"result          {'OK' if r['ok'] else 'PROBLEMS FOUND'}",
    ]
    print("\n".join(lines))


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the station's headless commands to an argparse subparsers object."""
    p = sub.add_parser("init", help="create a new station data directory")
    p.add_argument("--data-dir", help="data directory (default: the OS user-data dir)")
    p.add_argument("--site", required=True, help="site code, e.g. DNA-BH-001")
    p.add_argument("--letter", default="A", help="this station's letter at the site (queue numbers)")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("demo-data", help="fill a station with deterministic demo data")
    p.add_argument("--data-dir", help="data directory (created if empty)")
    p.add_argument("--people", type=_positive_int, default=200)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--site", default="DN-DEMO-01", help="site code when creating the station")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=cmd_demo_data)

    p = sub.add_parser("doctor", help="check a station's database")
    p.add_argument("--data-dir", help="data directory (default: the OS user-data dir)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_doctor)


def run(args: argparse.Namespace) -> int:
    """Run a parsed command, mapping station errors to messages and exit codes."""
    try:
        return int(args.func(args))
    except (KeyringUnavailable, KeyMissing, WrongKey, StoreError) as exc:
        print(f"error: {explain(exc)}", file=sys.stderr)
        return EXIT_STORE
    except (ValidationError, DomainError) as exc:
        print(f"error: {explain(exc)}", file=sys.stderr)
        return EXIT_INPUT


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tramtiem", description="Trạm Tiêm station")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    return run(args)
