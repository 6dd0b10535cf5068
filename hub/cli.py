"""The ``tramtiem-hub`` command. The hub server is not built yet (issue "Sync engine and hub")."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="tramtiem-hub", description="Trạm Tiêm hub")
    parser.parse_args(argv)
    print("The hub is not available in this version.", file=sys.stderr)
    return 2
