"""Backups, recovery codes and restore — the acceptance test for a laptop lost mid-campaign.

The main test runs the real engine against a real hub over HTTP on 127.0.0.1:
back up to a "USB stick", record and sync more, lose the laptop (the data
directory is deleted AND the keyring emptied), restore the stick's backup on a
"new laptop" with the printed recovery code, re-enroll with a new one-time
code and sync. The hub and the restored station then hold every dose exactly
once. Around it: rolling-backup bounds, tampered backups and wrong recovery
codes refused, the key commands.
"""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text

from hub import service
from hub.ingest import utc_now
from kernel.errors import StoreError, ValidationError
from station import backup, keys, outbox, recovery
from station.db import open_raw
from station.store import Station, init_station, open_station
from sync import cli as sync_cli
from sync.engine import SyncEngine, SyncSettings
from tests.conftest import FakeClock
from tests.station.conftest import SITE, Staff
from tests.sync.builders import HubFixture, site_hub
from tests.sync.test_engine_http import enroll, vaccinate
from ui import cli as tramtiem


@pytest.fixture
def clock() -> FakeClock:
    # Near the hub's real clock: records made after a sync must not trip the skew warning.
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubFixture]:
    with site_hub(tmp_path, SITE) as h:
        yield h


def sync_once(st: Station) -> None:
    rep = SyncEngine(st, sync_cli.client_factory_for(st), settings=SyncSettings(seed=1)).run_once()
    assert rep.ok, rep.error
    assert rep.pending_left == 0


def station_dose_ids(st: Station) -> list[str]:
    with st.read() as conn:
        return sorted(str(r[0]) for r in conn.execute(text("SELECT id FROM dose")))


def hub_dose_ids(hub: HubFixture) -> list[str]:
    with hub.db.read() as s:
        return sorted(str(r[0]) for r in s.execute(text("SELECT id FROM dose")))


def main(args: list[str], stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return tramtiem.main([str(a) for a in args])


# ---- the acceptance test -----------------------------------------------------------------


def test_lost_laptop_restored_from_usb_backup_every_dose_exactly_once(
    hub: HubFixture, st: Station, staff: Staff, lot_id: str, data_dir: Path, tmp_path: Path,
    memory_keyring, capsys: pytest.CaptureFixture[str],
) -> None:
    token = enroll(hub, st)
    sync_cli.store_token(st.install_id, token)
    from station import replica

    replica.set_meta(st, sync_cli.HUB_URL_KEY, hub.running.url)
    # At setup the admin printed the recovery code and put the sheet in the site's folder.
    code = recovery.recovery_code(st, staff.admin)

    vaccinate(st, staff, lot_id, 2)  # A: synced before the backup
    sync_once(st)
    vaccinate(st, staff, lot_id, 1, start=2)  # B: still pending in the backup
    usb = tmp_path / "usb"
    assert main(["backup", "--data-dir", data_dir, "--to", usb]) == 0
    (bak,) = usb.glob("*.db")
    manifest = json.loads(bak.with_suffix(".json").read_text())
    assert manifest["install_id"] == st.install_id and manifest["ops"]["pending"] > 0
    vaccinate(st, staff, lot_id, 2, start=3)  # C: recorded and synced after the backup
    sync_once(st)
    before = hub_dose_ids(hub)
    assert len(before) == 5
    install_id = st.install_id
    st.close()

    # The laptop is lost: its data directory and its keyring with it.
    shutil.rmtree(data_dir)
    memory_keyring.store.clear()

    new = tmp_path / "new-laptop"
    capsys.readouterr()
    # Without the recovery code the new laptop cannot open the backup.
    assert main(["restore", bak, "--data-dir", new]) != 0
    assert "recovery-code" in capsys.readouterr().err
    # A typo in the code is caught by its checksum, before anything is touched.
    typo = ("Z" if code[0] != "Z" else "Y") + code[1:]
    assert main(["restore", bak, "--data-dir", new, "--recovery-code", typo]) == 4
    assert not (new / "station.db").exists()
    assert main(["restore", bak, "--data-dir", new, "--recovery-code", code.lower()]) == 0
    out = capsys.readouterr().out
    assert "tramtiem enroll" in out  # no token here: re-enroll, as the output says
    assert keys.load_key(install_id)  # the recovery code's key is in the new keyring

    # Re-enrolled with a new one-time code: same station id, same site, new token.
    new_code = service.new_enrollment_code(hub.db, SITE, ttl_hours=1, now=utc_now())
    assert main(["enroll", "--hub", hub.running.url, "--code", new_code, "--data-dir", new]) == 0

    st2 = open_station(new)
    try:
        assert st2.install_id == install_id
        assert st2.sync_state()["replica_epoch"] != manifest.get("replica_epoch")
        rep = SyncEngine(st2, sync_cli.client_factory_for(st2), settings=SyncSettings(seed=1)).run_once()
        assert rep.ok, rep.error
        assert rep.pending_left == 0
        assert rep.duplicate >= 1  # B went again under its own id: answered from the ledger
        assert hub_dose_ids(hub) == before  # nothing twice at the hub
        assert station_dose_ids(st2) == before  # C came back by pull
        # The restored station keeps working: a new dose goes under the new epoch.
        vaccinate(st2, staff, lot_id, 1, start=5)
        sync_once(st2)
        assert len(hub_dose_ids(hub)) == 6
        assert station_dose_ids(st2) == hub_dose_ids(hub)
        with hub.db.read() as s:
            ledger = int(s.execute(text("SELECT count(*) FROM applied_op")).scalar_one())
            distinct = int(s.execute(text("SELECT count(DISTINCT op_id) FROM applied_op")).scalar_one())
        assert ledger == distinct
        with st2.read() as conn:
            audit = conn.execute(
                text("SELECT count(*) FROM audit_log WHERE action = 'restored_from_backup'")
            ).scalar_one()
        assert audit == 1
    finally:
        st2.close()


# ---- restore in place, and refusals ------------------------------------------------------


def test_restore_in_place_keeps_old_file_aside_and_requeues_inflight(
    st: Station, staff: Staff, lot_id: str, data_dir: Path, tmp_path: Path,
) -> None:
    vaccinate(st, staff, lot_id, 1)
    ids = [o.op_id for o in outbox.next_batch(st, max_bytes=1 << 20, max_ops=2)]
    outbox.mark_inflight(st, ids)  # sent, outcome unknown, when the backup is taken
    res = backup.backup_to(data_dir, tmp_path / "usb")
    old_epoch = st.sync_state()["replica_epoch"]
    vaccinate(st, staff, lot_id, 1, start=1)
    st.close()
    r = backup.restore_backup(res.path, data_dir)
    assert r.requeued == len(ids) and r.replaced is not None and (r.replaced / "station.db").exists()
    assert not r.key_stored
    st2 = open_station(data_dir)
    try:
        assert st2.sync_state()["replica_epoch"] not in (old_epoch, None)
        assert st2.sync_state()["replica_epoch"] == r.new_epoch
        assert outbox.counts(st2).inflight == 0 and outbox.counts(st2).pending == r.pending
        assert len(station_dose_ids(st2)) == 1  # the dose recorded after the backup is not in it
    finally:
        st2.close()


def _backup(st: Station, tmp_path: Path) -> backup.BackupResult:
    return backup.backup_to(st.data_dir, tmp_path / "usb")


def test_tampered_backup_is_refused(st: Station, staff: Staff, lot_id: str, tmp_path: Path) -> None:
    vaccinate(st, staff, lot_id, 1)
    res = _backup(st, tmp_path)
    st.close()
    data = bytearray(res.path.read_bytes())
    data[len(data) // 2] ^= 0x01
    res.path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as exc:
        backup.restore_backup(res.path, st.data_dir)
    assert exc.value.code == "restore.checksum"
    # Someone also rewrote the manifest's hash: SQLCipher's page authentication catches it.
    m = json.loads(res.manifest_path.read_text())
    m["sha256"] = backup.sha256_file(res.path)
    res.manifest_path.write_text(json.dumps(m))
    with pytest.raises(StoreError) as exc:
        backup.restore_backup(res.path, st.data_dir)
    assert exc.value.code == "restore.integrity"
    # The station was left as it was.
    open_station(st.data_dir).close()


def test_backup_with_edited_audit_log_is_refused(st: Station, staff: Staff, lot_id: str, tmp_path: Path) -> None:
    vaccinate(st, staff, lot_id, 1)
    res = _backup(st, tmp_path)
    key = keys.load_key(st.install_id)
    st.close()
    raw = open_raw(res.path, key)  # someone with the key edits history in the copy
    raw.execute("UPDATE audit_log SET action = 'login' WHERE seq = (SELECT max(seq) FROM audit_log)")
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.execute("PRAGMA journal_mode=DELETE")
    raw.close()
    m = json.loads(res.manifest_path.read_text())
    m["sha256"], m["size"] = backup.sha256_file(res.path), res.path.stat().st_size
    res.manifest_path.write_text(json.dumps(m))
    with pytest.raises(StoreError) as exc:
        backup.restore_backup(res.path, st.data_dir)
    assert exc.value.code == "restore.audit_chain"


def test_backup_of_another_station_or_wrong_code_is_refused(
    st: Station, tmp_path: Path, clock: FakeClock, memory_keyring,
) -> None:
    other = init_station(tmp_path / "other", SITE, clock=clock)
    other_code = recovery.encode(keys.load_key(other.install_id))
    other.close()
    res = _backup(st, tmp_path)
    st.close()
    # Into a directory that holds another station: refused.
    with pytest.raises(StoreError) as exc:
        backup.restore_backup(res.path, tmp_path / "other")
    assert exc.value.code == "restore.other_station"
    # On a new laptop with a valid code of another station: the key does not open it.
    memory_keyring.store.clear()
    with pytest.raises(StoreError) as exc:
        backup.restore_backup(res.path, tmp_path / "new", recovery_code=other_code)
    assert exc.value.code == "restore.wrong_key"
    assert not (tmp_path / "new" / "station.json").exists()


# ---- rolling automatic backups -----------------------------------------------------------


def test_rolling_backups_are_bounded(st: Station, staff: Staff, clock: FakeClock) -> None:
    # 10 days, 5 backups a day (the scheduler's "changed since" check is bypassed).
    made = []
    for _day in range(10):
        for _ in range(5):
            made.append(backup.make_auto_backup(st.data_dir, now=clock()).path.name)
            backup.prune_auto(st.data_dir, keep_last=12, keep_days=7)
            clock.advance(hours=2)
        clock.advance(hours=14)
    kept = [p.name for p in backup.list_auto(st.data_dir)]
    days = sorted({n.split("-")[2][:8] for n in made})
    newest_per_day = {d: max(n for n in made if n.split("-")[2][:8] == d) for d in days}
    expected = set(made[-12:]) | {newest_per_day[d] for d in days[-7:]}
    assert set(kept) == expected
    assert len(kept) <= 12 + 7
    # Every kept backup has its manifest; nothing else is left behind.
    files = {p.name for p in backup.auto_dir(st.data_dir).iterdir()}
    assert files == set(kept) | {n.replace(".db", ".json") for n in kept}


def test_scheduler_skips_unchanged_and_backs_up_at_exit(st: Station, staff: Staff, lot_id: str, clock: FakeClock) -> None:
    sched = backup.BackupScheduler(st, interval_s=3600)
    first = sched.run_once()
    assert first is not None
    clock.advance(minutes=15)
    assert sched.run_once() is None  # nothing changed
    vaccinate(st, staff, lot_id, 1)
    clock.advance(minutes=15)
    sched.start()
    last = sched.stop(final=True)  # the exit backup
    assert last is not None and last.manifest.doses == 1
    assert len(backup.list_auto(st.data_dir)) == 2
    assert sched.last_error is None
    # The newest automatic backup restores like a USB one.
    st.close()
    r = backup.restore_backup(last.path, st.data_dir)
    assert r.install_id == st.install_id


def test_scheduler_failure_is_reported_not_raised(st: Station, memory_keyring) -> None:
    memory_keyring.store.clear()  # the key vanished from the keyring
    sched = backup.BackupScheduler(st, interval_s=3600)
    assert sched.run_once(force=True) is None
    assert sched.last_error == "store.key_missing"


# ---- recovery codes and the key commands -------------------------------------------------


def test_recovery_code_round_trip_and_typos() -> None:
    key = bytes(range(32))
    code = recovery.encode(key)
    assert len(code.replace("-", "")) == recovery.CODE_CHARS == 56
    assert all(len(g) == 4 for g in code.split("-"))
    assert recovery.decode(code) == key
    # Case, spaces and the look-alikes I/L/O are forgiven.
    sloppy = code.lower().replace("-", " ").replace("1", "l").replace("0", "o")
    assert recovery.decode(sloppy) == key
    for i in range(0, 56, 7):  # any single changed character is caught
        chars = list(code.replace("-", ""))
        chars[i] = "2" if chars[i] != "2" else "3"
        with pytest.raises(ValidationError) as exc:
            recovery.decode("".join(chars))
        assert exc.value.codes() == {"recovery_code.checksum"}
    with pytest.raises(ValidationError) as exc:
        recovery.decode(code[:-1])
    assert exc.value.codes() == {"recovery_code.length"}
    with pytest.raises(ValidationError) as exc:
        recovery.decode("U" + code[1:])
    assert exc.value.codes() == {"recovery_code.chars"}


def test_key_recovery_needs_an_admin_login_and_is_audited(
    st: Station, staff: Staff, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.station.conftest import PASSWORD

    expected = recovery.encode(keys.load_key(st.install_id))
    assert main(["key", "recovery", "--data-dir", data_dir, "--user", "quantri", "--password-stdin"],
                PASSWORD + "\n", monkeypatch) == 0
    assert capsys.readouterr().out.splitlines()[0] == expected
    # A supervisor is not an admin; a wrong password is refused.
    assert main(["key", "recovery", "--data-dir", data_dir, "--user", "giamsat", "--password-stdin"],
                PASSWORD + "\n", monkeypatch) == 4
    assert main(["key", "recovery", "--data-dir", data_dir, "--user", "quantri", "--password-stdin"],
                "sai-mat-khau\n", monkeypatch) == 4
    assert expected not in capsys.readouterr().out
    with st.read() as conn:
        shown = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'recovery_code_shown'")
        ).scalar_one()
    assert shown == 1


def test_key_restore_puts_the_key_back(st: Station, data_dir: Path, memory_keyring, tmp_path: Path, clock: FakeClock) -> None:
    code = recovery.encode(keys.load_key(st.install_id))
    st.close()
    memory_keyring.store.clear()
    with pytest.raises(StoreError):
        open_station(data_dir)
    other = init_station(tmp_path / "other", SITE, clock=clock)
    other_code = recovery.encode(keys.load_key(other.install_id))
    other.close()
    assert main(["key", "restore", "--data-dir", data_dir, "--code", other_code]) == 4
    assert main(["key", "restore", "--data-dir", data_dir, "--code", code]) == 0
    open_station(data_dir).close()


def test_backup_never_writes_plaintext(st: Station, staff: Staff, lot_id: str, tmp_path: Path) -> None:
    vaccinate(st, staff, lot_id, 1)
    res = _backup(st, tmp_path)
    blob = res.path.read_bytes()
    assert not blob.startswith(b"SQLite format 3")
    for needle in (b"0751850", b"09123", "Nguyễn".encode()):
        assert needle not in blob
    assert b"0751850" not in res.manifest_path.read_bytes()
    # A second copy in the same second gets its own name; nothing is overwritten.
    assert backup.backup_to(st.data_dir, tmp_path / "usb").path != res.path
