"""The ``tramtiem`` command: the station's headless commands, and the app.

Qt is imported only when the window is started, so headless commands run
without a display.
"""

from __future__ import annotations

import argparse
import sys

from station import cli as station_cli


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tramtiem", description="Trạm Tiêm: offline-first vaccination station"
    )
    sub = parser.add_subparsers(dest="command")
    station_cli.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        # The window (issue "The station app") is not built yet.
        parser.print_help()
        print("\nThe station window is not available in this version; use the commands above.",
              file=sys.stderr)
        return station_cli.EXIT_USAGE
    return station_cli.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
