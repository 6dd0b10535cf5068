"""``tramtiem-hub import-registrations``: dry run, commit as hub-origin ops, stations pull the people."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from hub import importer
from hub.cli import main
from hub.errors import HubError
from kernel.clock import site_today, system_clock
from station.services import people
from sync.engine import SyncEngine, SyncSettings
from tests.hub.conftest import Hub, Sim
from tests.station.test_exchange import GOOD, write_xlsx

BAD = [*GOOD, [4, "Võ Thị Em", "31/02/1985", "Nữ", "CCCD", "075185004444", "0912000444", "9", ""]]


def cli(capsys: pytest.CaptureFixture[str], hub: Hub, *args: str) -> tuple[int, str, str]:
    rc = main([*args, "--database-url", hub.db.url])
    out, err = capsys.readouterr()
    return rc, out, err


def pull_with_engine(sim: Sim) -> None:
    from sync.client import HubClient

    def factory() -> HubClient:
        return HubClient(sim.hub.running.url, sim.token, connect_timeout_s=2.0, read_timeout_s=10.0)

    report = SyncEngine(sim.st, factory, settings=SyncSettings(seed=1)).run_once()
    assert report.ok


def test_import_at_the_hub_reaches_the_site_stations(
    hub: Hub, make_station, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sim = make_station(hub, "DN-IMP-01")
    other = make_station(hub, "DN-IMP-02")
    sim.push()
    other.push()
    path = write_xlsx(tmp_path / "list.xlsx", BAD)
    # The station's own clock is a fixed test morning; the hub uses the real one.
    day = site_today(system_clock) + timedelta(days=1)
    d = day.strftime("%d/%m/%Y")
    before = hub.count("change_log")
    rc, out, _err = cli(capsys, hub, "import-registrations", str(path), "--site", "dn-imp-01",
                        "--date", d)
    assert rc == 1  # a dry run with a refused row
    assert "row 7\terror\tbirth\tdate.impossible" in out and "3 new people" in out
    assert "Võ" not in out and hub.count("person") == 0 and hub.count("change_log") == before
    rc, out, err = cli(capsys, hub, "import-registrations", str(path), "--site", "DN-IMP-01",
                       "--date", d, "--commit")
    assert rc == 0, err
    assert "3 new people, 3 registrations" in out
    # Written through the hub's ingest: ledgered ops, change-log rows scoped to the site.
    assert hub.scalar("SELECT count(*) FROM applied_op WHERE station_id = 'hub'") == 3
    assert hub.scalar("SELECT count(*) FROM change_log WHERE scope = 'DN-IMP-01' AND "
                      "entity_type IN ('person', 'registration')") == 6
    assert hub.scalar("SELECT count(*) FROM registration WHERE source = 'import'") == 3
    # Importing the same file again adds nothing.
    rc, out, _ = cli(capsys, hub, "import-registrations", str(path), "--site", "DN-IMP-01",
                     "--date", d, "--commit")
    assert rc == 0 and "0 new people, 0 registrations" in out and "3 already there" in out
    assert hub.count("person") == 3
    # The site's station pulls the people, and they are on its list for the day.
    pull_with_engine(sim)
    regs = people.registrations_for_day(sim.st, day)
    assert sorted(p.full_name for _r, p in regs) == ["Lê Thị Cúc", "Phạm Minh Đức", "Trần Văn Bình"]
    assert {r.source for r, _p in regs} == {"import"} and {r.status for r, _p in regs} == {"expected"}
    # The other site's station hears nothing of them.
    pull_with_engine(other)
    with other.st.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM person")).scalar_one() == 0


def test_known_people_get_a_registration_and_refusals_undo_everything(
    hub: Hub, make_station, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sim = make_station(hub, "DN-IMP-03")
    sim.push()
    day = site_today(system_clock) + timedelta(days=1)
    path = write_xlsx(tmp_path / "list.xlsx", GOOD)
    importer.commit(hub.db, "DN-IMP-03", importer.dry_run(hub.db, "DN-IMP-03", path, day))
    later = day + timedelta(days=28)
    plan = importer.dry_run(hub.db, "DN-IMP-03", path, later)
    assert plan.count("known") == 3
    res = importer.commit(hub.db, "DN-IMP-03", plan)
    assert (res.people_added, res.registrations_added) == (0, 3)
    assert hub.count("person") == 3 and hub.count("registration") == 6
    # One refused op undoes the whole import: make the last row point at a person the
    # hub does not have (as if deleted between the look-up and the write).
    plan2 = importer.dry_run(hub.db, "DN-IMP-03", path, later + timedelta(days=1))
    real_state = importer._state
    last = plan2.rows[-1]

    def state(s, site, d, numbers):
        known, expected, no_id = real_state(s, site, d, numbers)
        return known | {last.values["id_number"]: "no-such-person"}, expected, no_id

    monkeypatch.setattr(importer, "_state", state)
    with pytest.raises(HubError) as err:
        importer.commit(hub.db, "DN-IMP-03", plan2)
    assert err.value.code == "import.row_refused" and err.value.detail["row"] == last.row
    assert hub.count("registration") == 6  # the two good rows before it were not kept
    assert hub.scalar("SELECT count(*) FROM applied_op WHERE station_id = 'hub'") == 6


def test_hub_import_errors(hub: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hub.add_site("DN-IMP-04")
    day = site_today(system_clock) + timedelta(days=1)
    path = write_xlsx(tmp_path / "list.xlsx", GOOD)
    with pytest.raises(HubError) as err:
        importer.dry_run(hub.db, "XX-NONE", path, day)
    assert err.value.code == "site.not_found"
    with pytest.raises(HubError) as err:
        importer.dry_run(hub.db, "DN-IMP-04", path, day - timedelta(days=2))
    assert err.value.code == "day.past"
    (tmp_path / "x.xlsx").write_bytes(b"nope")
    rc, _out, err_text = cli(capsys, hub, "import-registrations", str(tmp_path / "x.xlsx"),
                             "--site", "DN-IMP-04", "--date", day.isoformat())
    assert rc == 1 and "file.unreadable" in err_text
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"columns": []}), encoding="utf-8")
    rc, _out, err_text = cli(capsys, hub, "import-registrations", str(path), "--site", "DN-IMP-04",
                             "--date", day.isoformat(), "--mapping", str(mapping))
    assert rc == 1 and "mapping.no_columns" in err_text
