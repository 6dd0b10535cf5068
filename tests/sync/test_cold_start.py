"""``tramtiem sync`` starts without loading what it never uses (issue 15: a sync with
nothing to send in ≤ 0.5 s; the time itself is measured by ``bench peer``).

The modules below cost a noticeable part of a second to import (the ORM models, the
demo generator, the reports and workbooks, argon2, the services); none is needed to
send the outbox and pull. A subprocess, so that this test run's own imports do not count.
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = (
    "station.models",
    "station.demo",
    "station.doctor",
    "station.reports",
    "station.reports_xlsx",
    "station.exchange",
    "station.backup",
    "station.bundle",
    "station.provision",
    "station.services.admin",
    "station.services.clinical",
    "station.services.people",
    "station.services.common",
    "station.dto",
    "station.refdata",
    "argon2",
    "openpyxl",
    "platformdirs",
)

PROBE = """
import json, sys
import ui.cli
ui.cli.build_parser().parse_args(["sync", "--once", "--data-dir", "x"])
import sync.engine, sync.cli, station.replica, station.outbox, station.tally
print(json.dumps(sorted(sys.modules)))
"""


def test_sync_command_loads_no_heavy_module() -> None:
    res = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True)
    loaded = set(json.loads(res.stdout.strip().splitlines()[-1]))
    assert sorted(m for m in HEAVY if m in loaded) == []


def test_services_still_reachable_from_the_package() -> None:
    probe = "import station.services as s; print(s.record_dose.__module__, s.login.__module__)"
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    assert res.stdout.split() == ["station.services.clinical", "station.services.admin"]
