"""Command-line argument types shared by the station's and the hub's CLIs."""

from __future__ import annotations

import argparse
from datetime import date

from kernel.rules import vietnam as vn


def parse_day_arg(raw: str) -> date:
    """``dd/mm/yyyy`` (as sites write it) or ISO ``yyyy-mm-dd``; an argparse error otherwise."""
    value, issues = vn.parse_date(raw, field="day", today=date(9999, 12, 31))
    full = value.as_date() if value is not None else None
    if issues or full is None:
        raise argparse.ArgumentTypeError("write the day as dd/mm/yyyy or yyyy-mm-dd")
    return full
