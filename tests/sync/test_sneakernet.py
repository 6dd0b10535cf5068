"""Sneakernet: a site with no line carries its ops to the hub on a USB stick.

Export a bundle (``tramtiem export-bundle``), import it twice at the hub
(``tramtiem-hub import-bundle`` as a subprocess, against the hub's own
database), then let the station sync online: every op is applied exactly once
— the imports and the later push all go through the ``applied_op`` ledger.
A changed byte is refused; the file holds no plaintext names, ID numbers or
phones.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.bundles import import_bundle
from hub.errors import HubError
from station import outbox, replica
from station.store import Station
from sync import cli as sync_cli
from sync.engine import SyncEngine, SyncSettings
from tests.conftest import FakeClock
from tests.station.conftest import SITE, Staff
from tests.sync.builders import HubFixture, site_hub
from tests.sync.test_engine_http import enroll, vaccinate
from ui import cli as tramtiem

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock() -> FakeClock:
    # Near the hub's real clock: the online sync must not see a days-long skew.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubFixture]:
    with site_hub(tmp_path, SITE) as h:
        yield h


def hub_import(hub: HubFixture, tmp_path: Path, bundle: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.pop("TRAMTIEM_HUB_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", "import-bundle", str(bundle), "--json",
         "--database-url", f"sqlite:///{tmp_path / 'hub.db'}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )


def count(hub: HubFixture, sql: str) -> int:
    return int(hub.scalar(sql))  # type: ignore[arg-type]


def export(data_dir: Path, to: Path) -> Path:
    before = set(to.glob("*.ttbundle")) if to.exists() else set()
    assert tramtiem.main(["export-bundle", "--data-dir", str(data_dir), "--to", str(to)]) == 0
    (new,) = set(to.glob("*.ttbundle")) - before
    return new


@pytest.fixture
def enrolled(hub: HubFixture, st: Station) -> Station:
    token = enroll(hub, st)
    sync_cli.store_token(st.install_id, token)
    replica.set_meta(st, sync_cli.HUB_URL_KEY, hub.running.url)
    return st


@pytest.mark.slow  # export, two imports and an online sync end to end
def test_bundle_imported_twice_then_online_sync_every_op_exactly_once(
    hub: HubFixture, enrolled: Station, staff: Staff, lot_id: str, data_dir: Path, tmp_path: Path,
) -> None:
    st = enrolled
    vaccinate(st, staff, lot_id, 3)
    waiting = outbox.counts(st).waiting
    usb = tmp_path / "usb"
    bundle = export(data_dir, usb)
    assert outbox.counts(st).waiting == waiting  # the station cannot know the stick arrives

    first = hub_import(hub, tmp_path, bundle)
    assert first.returncode == 0, first.stderr
    s1 = json.loads(first.stdout)
    assert s1["ops"] == waiting and s1["applied"] + s1["conflict_queued"] == waiting - s1["rejected"]
    assert s1["rejected"] == 0 and s1["tally_recorded"]
    assert count(hub, "SELECT count(*) FROM dose") == 3
    ledger = count(hub, "SELECT count(*) FROM applied_op")
    assert ledger == waiting

    second = hub_import(hub, tmp_path, bundle)
    assert second.returncode == 0, second.stderr
    s2 = json.loads(second.stdout)
    assert s2["duplicate"] == waiting and s2["applied"] == 0
    assert count(hub, "SELECT count(*) FROM applied_op") == ledger
    assert count(hub, "SELECT count(*) FROM dose") == 3

    # Later the line comes back: the same ops go online and are answered from the ledger.
    vaccinate(st, staff, lot_id, 1, start=3)
    rep = SyncEngine(st, sync_cli.client_factory_for(st), settings=SyncSettings(seed=1)).run_once()
    assert rep.ok, rep.error
    assert rep.duplicate == waiting and rep.pending_left == 0
    assert count(hub, "SELECT count(*) FROM dose") == 4
    assert count(hub, "SELECT count(*) FROM applied_op") == count(
        hub, "SELECT count(DISTINCT op_id) FROM applied_op"
    )
    with st.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM dose")).scalar_one() == 4


def test_second_bundle_carries_old_and_new_ops(
    hub: HubFixture, enrolled: Station, staff: Staff, lot_id: str, data_dir: Path, tmp_path: Path,
) -> None:
    st = enrolled
    vaccinate(st, staff, lot_id, 2)
    b1 = export(data_dir, tmp_path / "usb")
    vaccinate(st, staff, lot_id, 1, start=2)
    b2 = export(data_dir, tmp_path / "usb")
    s1 = import_bundle(hub.db, b1.read_bytes()).as_dict()
    s2 = import_bundle(hub.db, b2.read_bytes()).as_dict()
    assert s2["duplicate"] == s1["ops"] and s2["ops"] > s1["ops"]
    assert count(hub, "SELECT count(*) FROM dose") == 3


def test_tampered_or_foreign_bundle_is_refused(
    hub: HubFixture, enrolled: Station, staff: Staff, lot_id: str, data_dir: Path, tmp_path: Path,
) -> None:
    vaccinate(enrolled, staff, lot_id, 1)
    bundle = export(data_dir, tmp_path / "usb")
    doc = json.loads(bundle.read_bytes())

    body = bytearray(base64.b64decode(doc["ciphertext"]))
    body[len(body) // 2] ^= 0x01
    changed = dict(doc, ciphertext=base64.b64encode(bytes(body)).decode())
    with pytest.raises(HubError) as exc:
        import_bundle(hub.db, json.dumps(changed).encode())
    assert exc.value.code == "bundle.bad_signature"

    # The clear header is signed too: claiming fewer ops fails the tag.
    changed = dict(doc, header=dict(doc["header"], ops=0))
    with pytest.raises(HubError) as exc:
        import_bundle(hub.db, json.dumps(changed).encode())
    assert exc.value.code == "bundle.bad_signature"

    changed = dict(doc, header=dict(doc["header"], station_id="0190aaaa-0000-7000-8000-000000000000"))
    with pytest.raises(HubError) as exc:
        import_bundle(hub.db, json.dumps(changed).encode())
    assert exc.value.code == "bundle.unknown_station"

    with pytest.raises(HubError) as exc:
        import_bundle(hub.db, b"not a bundle")
    assert exc.value.code == "bundle.malformed"

    # The station re-enrolled (new token) since the export: the old file no longer verifies.
    enroll(hub, enrolled)
    with pytest.raises(HubError) as exc:
        import_bundle(hub.db, bundle.read_bytes())
    assert exc.value.code == "bundle.bad_signature"
    assert count(hub, "SELECT count(*) FROM applied_op") == 0

    # The CLI says so and exits non-zero.
    bad = tmp_path / "bad.ttbundle"
    bad.write_bytes(json.dumps(dict(doc, header=dict(doc["header"], ops=0))).encode())
    r = hub_import(hub, tmp_path, bad)
    assert r.returncode != 0 and "bundle." in r.stderr


def test_bundle_holds_no_plaintext_personal_data(
    enrolled: Station, staff: Staff, lot_id: str, data_dir: Path, tmp_path: Path,
) -> None:
    vaccinate(enrolled, staff, lot_id, 2)
    with enrolled.read() as conn:
        names = [str(r[0]) for r in conn.execute(text("SELECT full_name FROM person"))]
        ids = [str(r[0]) for r in conn.execute(text("SELECT id_number FROM person"))]
        phones = [str(r[0]) for r in conn.execute(text("SELECT phone FROM person"))]
    assert names and ids and phones
    blob = export(data_dir, tmp_path / "usb").read_bytes()
    for value in names + ids + phones:
        assert value.encode() not in blob
        assert value.encode("unicode_escape") not in blob
    for value in ids + phones:
        assert value[-6:].encode() not in blob


def test_export_needs_enrollment(st: Station, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert tramtiem.main(["export-bundle", "--data-dir", str(data_dir), "--to", str(tmp_path / "usb")]) == 3
    assert "sync.not_enrolled" in capsys.readouterr().err
