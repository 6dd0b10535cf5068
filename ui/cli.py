"""The ``tramtiem`` command: the station's headless commands, and the app.

Qt is imported only when the window is started, so headless commands run
without a display.
"""

from __future__ import annotations

import argparse

from station import cli as station_cli
from sync import cli as sync_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tramtiem", description="Trạm Tiêm: offline-first vaccination station"
    )
    # Its own dest: the subcommands' --data-dir defaults would overwrite a shared one.
    parser.add_argument("--data-dir", dest="app_data_dir",
                        help="start the window on this station data directory")
    sub = parser.add_subparsers(dest="command")
    station_cli.register(sub)
    p = sub.add_parser("app", help="start the station window (the default without a command)")
    p.add_argument("--data-dir", help="station data directory (default: the enrolled station)")
    p.set_defaults(func=cmd_app)
    sync_cli.register(sub)
    p = sub.add_parser("demo", help="try the station on throwaway demo data")
    p.add_argument("--data-dir", help="where to put the demo station (default: a new temp dir)")
    p.add_argument("--people", type=int, default=300)
    p.add_argument("--seed", type=int, default=1)
    p.set_defaults(func=cmd_demo)
    return parser


def cmd_demo(args: argparse.Namespace) -> int:
    """A throwaway station with demo data (the window arrives with the station app)."""
    import tempfile
    from pathlib import Path

    import keyring

    from station.demo import DEMO_PASSWORD, generate
    from station.doctor import diagnose
    from station.memkeyring import ProcessKeyring
    from station.store import init_station

    # Demo data is throwaway: its key lives in this process only, chosen explicitly.
    keyring.set_keyring(ProcessKeyring())
    ddir = Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="tramtiem-demo-"))
    st = init_station(ddir, "DN-DEMO-01")
    try:
        summary = generate(st, people_count=args.people, seed=args.seed)
        report = diagnose(st)
    finally:
        st.close()
    print(f"Demo station in {ddir}: {summary.people} people, {summary.expected_today} expected today, "
          f"{summary.past_doses} past doses, {summary.lots} lots.")
    print("Users (password " + repr(DEMO_PASSWORD) + "): "
          + ", ".join(f"{u} ({r})" for u, r in summary.users.items()))
    print(f"Database check: {'OK' if report['ok'] else 'PROBLEMS'}; "
          f"{report['outbox']['pending']} ops waiting for the hub.")
    print("The station window and the embedded hub are not part of this version yet.")
    return station_cli.EXIT_OK


def cmd_app(args: argparse.Namespace) -> int:
    """The station window on the enrolled (default) or given data directory."""
    from pathlib import Path

    from ui.app import run

    data_dir = args.data_dir or getattr(args, "app_data_dir", None)
    return run(Path(data_dir) if data_dir else None)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        args.data_dir = args.app_data_dir
        return cmd_app(args)
    if args.command == "app":
        return cmd_app(args)
    return station_cli.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
