"""``tramtiem sync`` starts without loading what it never uses (issue 15: a sync with
nothing to send in ≤ 0.5 s; the time itself is measured by ``bench peer``).

The modules below cost a noticeable part of a second to import (the ORM models, the
demo generator, the reports and workbooks, argon2, the services); none is needed to
send the outbox and pull. A subprocess, so that this test run's own imports do not count.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

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
    # the other commands' modules: ``tramtiem sync`` builds its own parser alone
    "station.exchange_cli",
    "station.maintenance_cli",
    "ui.print_cli",
    "kernel.cliargs",
    "getpass",
    # HTTP: sync/client.py speaks http.client itself
    "requests",
    "urllib3",
    "charset_normalizer",
    "idna",
)

PROBE = """
import json, sys
import ui.cli
argv = ["sync", "--once", "--data-dir", "x"]
ui.cli.build_parser(argv[0]).parse_args(argv)  # as ui.cli.main builds it
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


def test_sync_parser_alone_parses_as_the_full_parser() -> None:
    import ui.cli

    cases = [
        ["sync", "--once", "--data-dir", "d"],
        ["sync", "--once", "--json", "--hub", "http://127.0.0.1:1"],
        ["sync"],
        ["enroll", "--hub", "https://h.example", "--code", "C0DE", "--site-letter", "B", "--name", "x"],
    ]
    for argv in cases:
        alone = vars(ui.cli.build_parser(argv[0]).parse_args(argv))
        full = vars(ui.cli.build_parser().parse_args(argv))
        assert alone == full, argv
    # the full parser is still what `tramtiem --help` shows, every command in it
    names = ui.cli.build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    assert {"sync", "enroll", "init", "app", "demo", "backup"} <= set(names)


# ---- a real empty cycle: the station's store and the hub's answers without SQLAlchemy or pydantic

# What a cycle with nothing to send or pull loads none of (issue 15: ~150 ms SQLAlchemy,
# ~90–120 ms pydantic and the protocol models, of a ~0.6 s start): the statements run
# on the raw sqlcipher connection (station.rawpool), the answers are read by sync.lean.
NOT_IN_AN_EMPTY_CYCLE = (
    "sqlalchemy",
    "alembic",
    "pydantic",
    "pydantic_core",
    "sync.protocol",
    "kernel.wire",
    "kernel.ops",
    "station.replica",
    "station.replica_rows",
    "station.answers",
    "station.held_changes",
    "station.protection",
    "sync.push",
    "sync.push_body",
    "sync.site_hub_cli",
)

EMPTY_CYCLE = """
import contextlib, io, json, sys
import ui.cli
from station import syncstate
from station.store import open_station
# As a scheduled task runs it (minutes apart): the revoked site hub list is due again too.
st = open_station(sys.argv[1])
syncstate.set_meta(st, syncstate.META_REVOKED_CERTS, "")
st.close()
out = io.StringIO()
with contextlib.redirect_stdout(out):
    rc = ui.cli.main(["sync", "--once", "--json", "--data-dir", sys.argv[1]])
modules = sorted(sys.modules)
from station import tally
st = open_station(sys.argv[1])
rows = len(tally.compute(st).rows)
revoked = json.loads(syncstate.get_meta(st, syncstate.META_REVOKED_CERTS) or "{}")
st.close()
print(json.dumps({"rc": rc, "report": json.loads(out.getvalue().strip().splitlines()[-1]),
                  "modules": modules, "tally_rows": rows, "revoked": revoked}))
"""

SITE = "DN-COLD-01"

# A dose given today at this station (demo-data makes pre-registrations and paper history only).
DOSE_TODAY = """
import sys
from sqlalchemy import text
from kernel.errors import NeedsConfirmation
from station.demo import ensure_users
from station.dto import DoseInput
from station.services import clinical, people
from station.store import open_station
from tests.station.helpers import screen_eligible
st = open_station(sys.argv[1])
try:
    staff = ensure_users(st)
    with st.read() as c:
        reg, pid = c.execute(text("SELECT id, person_id FROM registration WHERE day = :d ORDER BY id LIMIT 1"),
                             {"d": st.today().isoformat()}).one()
        lot = c.execute(text("SELECT id FROM vaccine_lot ORDER BY expiry DESC LIMIT 1")).scalar_one()
    people.check_in(st, staff["volunteer"], reg)
    screen_eligible(st, staff["screener"], pid)
    try:
        clinical.record_dose(st, staff["clerk"], DoseInput(pid, lot))
    except NeedsConfirmation as exc:
        clinical.record_dose(st, staff["clerk"], DoseInput(pid, lot, confirm=frozenset(w.code for w in exc.warnings)))
finally:
    st.close()
"""


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)


def test_an_empty_sync_cycle_loads_neither_sqlalchemy_nor_pydantic(tmp_path: Path) -> None:
    from hub import service
    from hub.app import HubSettings
    from hub.db import Database
    from hub.ingest import utc_now
    from hub.server import run_hub

    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
               XDG_DATA_HOME=str(tmp_path / "xdg"))
    env.pop("TRAMTIEM_CRASH_AT", None)
    d = tmp_path / "st"
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with run_hub(HubSettings(database_url=url)) as running:
        db = Database(url)
        try:
            service.add_site(db, SITE, "Điểm tiêm lạnh", "75", now=utc_now())
            code = service.new_enrollment_code(db, SITE, ttl_hours=1, now=utc_now())
        finally:
            db.dispose()
        r = _cli(["-m", "ui.cli", "enroll", "--hub", running.url, "--code", code, "--data-dir", str(d)], env)
        assert r.returncode == 0, r.stderr
        # A dose of today, so the tally has a row (the engine signs and sends it every cycle).
        r = _cli(["-m", "ui.cli", "demo-data", "--data-dir", str(d), "--people", "3", "--seed", "2", "--quiet"], env)
        assert r.returncode == 0, r.stderr
        r = _cli(["-c", DOSE_TODAY, str(d)], env)
        assert r.returncode == 0, r.stderr
        r = _cli(["-m", "ui.cli", "sync", "--once", "--json", "--data-dir", str(d)], env)  # drains everything
        assert r.returncode == 0, r.stderr
        first = json.loads(r.stdout.strip().splitlines()[-1])
        assert first["ok"] and first["pushed"] > 0

        r = _cli(["-c", EMPTY_CYCLE, str(d)], env)
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout.strip().splitlines()[-1])
    rep = got["report"]
    # A whole cycle: online, the tally sent and taken, an empty push, one (empty) page pulled.
    assert got["rc"] == 0 and rep["ok"] and rep["online"] and rep["tally_sent"], rep
    assert (rep["pushed"], rep["pulled"], rep["pull_pages"], rep["pending_left"], rep["errors"]) == (0, 0, 1, 0, [])
    assert rep["cursor"] == first["cursor"] > 0
    assert got["tally_rows"] > 0  # the tally it signed and sent had rows
    assert got["revoked"]["fingerprints"] == [] and got["revoked"]["read_at"] > 0  # and it read the list
    loaded = set(got["modules"])
    assert sorted(m for m in NOT_IN_AN_EMPTY_CYCLE if m in loaded) == []


def test_the_sync_command_keeps_the_collector_off_its_heap(tmp_path: Path) -> None:
    """``tramtiem sync`` settles its heap as the hub's serving process does (issue 15: the
    collector walking a batch's live rows; station CPU per op −7% in ``bench peer``, A/B)."""
    probe = (
        "import gc, json, sys\n"
        "import ui.cli\n"
        "try:\n"
        f"    ui.cli.main(['sync', '--once', '--data-dir', {str(tmp_path / 'none')!r}])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(json.dumps([gc.get_threshold()[0], gc.get_freeze_count()]))\n"
    )
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    threshold, frozen = json.loads(res.stdout.strip().splitlines()[-1])
    import sync.cli

    assert threshold == sync.cli.GC_GEN0_THRESHOLD and frozen > 10_000
