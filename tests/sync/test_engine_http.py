"""The sync engine against a real hub over real HTTP on 127.0.0.1, with our fault proxy.

Engine behaviour: one cycle drains the outbox and pulls to the head; lost acks
(forwarded request, dropped response) end as duplicates, each op applied once;
timeouts shrink the batches; a refused op never blocks the queue; a restored
station (op_seq regressed) rotates its epoch and re-pushes the same op ids;
offline backoff; the background thread; events and progress.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hub import service
from hub.ingest import utc_now
from kernel.ids import uuid7
from station import keys, outbox
from station.store import Station, backup_file, open_station
from sync.client import HubClient, HubUnreachable
from sync.engine import SyncEngine, SyncEvent, SyncSettings
from sync.protocol import EnrollRequest
from tests.faults.faultproxy import FaultProxy, Faults
from tests.sync.builders import HubFixture, site_hub, walk_in_with_dose

SITE = "DN-TEST-01"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[HubFixture]:
    with site_hub(tmp_path, SITE) as h:
        yield h


def enroll(hub: HubFixture, st: Station) -> str:
    code = service.new_enrollment_code(hub.db, SITE, ttl_hours=1, now=utc_now())
    with HubClient(hub.running.url) as c:
        resp = c.enroll(EnrollRequest(code=code, station_id=st.install_id, station_name="may 1"))
    assert resp.site_code == SITE
    return resp.token


def make_engine(st: Station, url: str, token: str, *, events: list[SyncEvent] | None = None,
                keep_alive: bool = True, read_timeout_s: float = 10.0, **settings: object) -> SyncEngine:
    def factory() -> HubClient:
        return HubClient(url, token, connect_timeout_s=2.0, read_timeout_s=read_timeout_s, keep_alive=keep_alive)

    return SyncEngine(st, factory, events=(events.append if events is not None else None),
                      settings=SyncSettings(seed=1, **settings))  # type: ignore[arg-type]


def vaccinate(st, staff, lot_id, n: int, start: int = 0) -> list[str]:
    doses = []
    for i in range(start, start + n):
        _pid, did = walk_in_with_dose(st, staff, lot_id, id_number=f"0751850{i:05d}", phone=f"09123{i:05d}")
        doses.append(did)
    return doses


def hub_doses(hub: HubFixture) -> int:
    return int(hub.scalar("SELECT count(*) FROM dose"))  # type: ignore[arg-type]


def test_one_cycle_drains_outbox_pulls_and_emits(hub, st, staff, lot_id) -> None:
    token = enroll(hub, st)
    vaccinate(st, staff, lot_id, 4)
    waiting = outbox.counts(st).waiting
    events: list[SyncEvent] = []
    engine = make_engine(st, hub.running.url, token, events=events)
    report = engine.run_once()
    assert report.ok, report.error
    assert report.tally_sent and report.pending_left == 0
    assert report.pushed + report.duplicate + report.conflict == waiting - report.rejected
    assert report.rejected == 0
    assert hub_doses(hub) == 4
    assert report.pulled > 0 and report.cursor > 0
    # Pulled versions land locally: every dose now carries the hub's row version.
    with st.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM dose WHERE version = 0")).scalar() == 0
    states = [e.state for e in events]
    assert states[0] == "connecting" and "pushing" in states and "pulling" in states and states[-1] == "idle"
    last = events[-1]
    assert last.pending == 0 and last.last_success and last.last_error is None
    pushing = [e for e in events if e.state == "pushing"]
    assert pushing[-1].done == pushing[-1].total == waiting
    # The hub has the tally, signed with the token.
    assert hub.scalar("SELECT count(*) FROM station_tally") == 1
    # A second cycle has nothing to send and pulls nothing new.
    again = engine.run_once()
    assert again.ok and again.answered == 0 and again.pending_left == 0


def test_lost_acks_end_as_duplicates_each_op_applied_once(hub, st, staff, lot_id) -> None:
    token = enroll(hub, st)
    vaccinate(st, staff, lot_id, 6)
    waiting = outbox.counts(st).waiting
    with FaultProxy("127.0.0.1", hub.running.port, seed=7) as proxy:
        proxy.set_faults(Faults(drop_response_prob=0.35))
        # A fresh connection per request, so the proxy decides per request.
        engine = make_engine(st, proxy.url, token, keep_alive=False, batch_bytes_initial=3000,
                             max_transient_failures_per_cycle=50)
        duplicates = 0
        for _ in range(30):
            rep = engine.run_once()
            duplicates += rep.duplicate
            if rep.ok and rep.pending_left == 0:
                break
        assert rep.ok and rep.pending_left == 0
        assert "drop_response" in proxy.decisions()
    assert duplicates >= 1  # at least one ack was lost after the hub committed
    assert hub.scalar("SELECT count(*) FROM applied_op") == waiting
    assert hub_doses(hub) == 6
    with st.read() as conn:
        ops = conn.execute(text("SELECT count(*) FROM sync_outbox WHERE state = 'acked'")).scalar()
    assert ops == waiting


def test_timeouts_shrink_batches_then_grow_back(hub, st, staff, lot_id) -> None:
    token = enroll(hub, st)
    vaccinate(st, staff, lot_id, 5)
    with FaultProxy("127.0.0.1", hub.running.port, seed=3) as proxy:
        # health, tally, then two pushes that never get an answer, then a clear line.
        proxy.set_schedule(["pass", "pass", "blackhole", "blackhole"])
        proxy.set_faults(Faults(blackhole_max_s=3))
        engine = make_engine(st, proxy.url, token, keep_alive=False, read_timeout_s=0.5,
                             batch_bytes_initial=64 * 1024)
        rep = engine.run_once()
    assert rep.timeouts == 2
    assert rep.ok and rep.pending_left == 0
    assert hub_doses(hub) == 5
    # Halved twice, then grown by successes but still below where it started.
    assert rep.batch_bytes < 64 * 1024
    assert rep.batches >= 2


def test_rejected_op_does_not_block_the_queue(hub, st, staff, lot_id, clock) -> None:
    token = enroll(hub, st)
    vaccinate(st, staff, lot_id, 1)
    # An op the hub must refuse (voiding a dose it never heard of), queued between good ones.
    bogus = uuid7()
    with st.sync_writer() as conn:
        conn.execute(
            text(
                "INSERT INTO sync_outbox (op_id, tx_id, op_type, op_version, entity_type, entity_id, "
                "base_version, payload, hlc, recorded_at, user_id, state, attempts) VALUES "
                "(:i, :i, 'void_dose', 1, 'dose', :d, 1, '{\"reason\":\"Nhập nhầm\",\"voided_at\":\"2026-12-01T09:00:00+07:00\"}', "
                "'0000000000001-00000', '2026-12-01T09:00:00+07:00', :u, 'pending', 0)"
            ),
            {"i": bogus, "d": uuid7(), "u": staff.supervisor.user_id},
        )
    vaccinate(st, staff, lot_id, 1, start=1)
    rep = make_engine(st, hub.running.url, token).run_once()
    assert rep.ok and rep.rejected == 1 and rep.pending_left == 0
    assert hub_doses(hub) == 2
    rejected = outbox.rejected(st)
    assert [r.op_id for r in rejected] == [bogus] and rejected[0].reason


def test_restored_station_rotates_epoch_and_repushes_same_ids(hub, st, staff, lot_id, data_dir, tmp_path, clock) -> None:
    token = enroll(hub, st)
    vaccinate(st, staff, lot_id, 1)
    key = keys.load_key(st.install_id)
    copy = backup_file(data_dir, key, "before")
    vaccinate(st, staff, lot_id, 1, start=1)
    assert make_engine(st, hub.running.url, token).run_once().ok
    pushed = int(hub.scalar("SELECT count(*) FROM applied_op"))  # type: ignore[arg-type]
    st.close()
    # The laptop is restored from the earlier backup: its op_seq goes back.
    restored_dir = tmp_path / "restored"
    restored_dir.mkdir()
    shutil.copy(data_dir / "station.json", restored_dir / "station.json")
    shutil.copy(copy, restored_dir / "station.db")
    st2 = open_station(restored_dir, clock=clock)
    try:
        old_epoch = st2.sync_state()["replica_epoch"]
        vaccinate(st2, staff, lot_id, 1, start=2)  # a new op reusing an op_seq the hub has seen
        rep = make_engine(st2, hub.running.url, token).run_once()
        assert rep.ok, rep.error
        assert rep.epoch_rotated and st2.sync_state()["replica_epoch"] != old_epoch
        assert rep.pending_left == 0
    finally:
        st2.close()
    # The ops the backup still held went again under their old ids: no dose twice.
    assert hub_doses(hub) == 3
    assert int(hub.scalar("SELECT count(*) FROM applied_op")) > pushed  # type: ignore[arg-type]


def test_offline_reports_and_backs_off(st) -> None:
    events: list[SyncEvent] = []
    engine = SyncEngine(st, lambda: HubClient("http://127.0.0.1:9", "t", connect_timeout_s=0.5),
                        events=events.append, settings=SyncSettings(seed=5, backoff_base_s=1, backoff_max_s=8))
    rep = engine.run_once()
    assert not rep.ok and not rep.online and rep.error == "hub.unreachable"
    assert events[-1].state == "offline" and events[-1].last_error == "hub.unreachable"
    delays = [engine.backoff_delay(n) for n in range(1, 8)]
    assert all(0 < d <= 8 for d in delays)
    assert delays[0] <= 1 and delays[-1] >= 4
    same = SyncEngine(st, lambda: HubClient("http://127.0.0.1:9"), settings=SyncSettings(seed=5, backoff_base_s=1, backoff_max_s=8))
    assert [same.backoff_delay(n) for n in range(1, 8)] == delays  # seeded jitter


def test_client_maps_refused_connection_to_unreachable() -> None:
    with pytest.raises(HubUnreachable) as exc, HubClient("http://127.0.0.1:9", connect_timeout_s=0.5) as c:
        c.health()
    assert exc.value.code == "hub.unreachable"


def test_background_thread_syncs_and_stops(hub, st, staff, lot_id) -> None:
    token = enroll(hub, st)
    seen = threading.Event()
    engine = make_engine(st, hub.running.url, token, interval_s=0.2)
    engine.add_listener(lambda e: seen.set() if e.state == "idle" and e.pending == 0 else None)
    engine.start()
    try:
        vaccinate(st, staff, lot_id, 2)  # the UI writes while the engine runs
        engine.trigger()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and hub_doses(hub) < 2:
            time.sleep(0.1)
        assert hub_doses(hub) == 2
    finally:
        assert engine.stop(timeout=15)
    assert not engine.running and outbox.counts(st).waiting == 0


def test_op_the_hub_cannot_parse_is_isolated_and_rejected(hub, st, staff, lot_id) -> None:
    """A 422 for the whole batch: halve until the culprit is alone, record it rejected, move on."""
    token = enroll(hub, st)
    vaccinate(st, staff, lot_id, 2)
    bad = uuid7()
    with st.sync_writer() as conn:
        conn.execute(
            text(
                "INSERT INTO sync_outbox (op_id, tx_id, op_type, op_version, entity_type, entity_id, "
                "base_version, payload, hlc, recorded_at, user_id, state, attempts) VALUES "
                "(:i, :i, 'void_dose', 1, 'dose', :d, 1, :p, '0000000000001-00000', "
                "'2026-12-01T09:00:00+07:00', :u, 'pending', 0)"
            ),
            {"i": bad, "d": uuid7(), "u": staff.supervisor.user_id, "p": '{"reason":"a\\u0000b"}'},
        )
    vaccinate(st, staff, lot_id, 2, start=2)
    rep = make_engine(st, hub.running.url, token).run_once()
    assert rep.ok and rep.pending_left == 0, rep.error
    assert hub_doses(hub) == 4
    rejected = outbox.rejected(st)
    assert [r.op_id for r in rejected] == [bad] and rejected[0].reason == "request.invalid"
    # The hub never ledgered it, so it would wait for that op_seq for ever: new epoch.
    assert rep.rejected == 1 and rep.epoch_rotated
