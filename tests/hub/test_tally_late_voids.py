"""A tally that arrives after the void it counted (through a site hub) must not keep counting it.

Found by issue 14's LAN acceptance (tests/lan/test_site_lan.py): desk A voids desk C's dose
with the line down; the site hub forwards A's void, and A's tally made while the void was
still waiting arrives at the province *after* it. That tally says "one void not sent yet"
for the day; once A has the province's answer its tally leaves the day out (A entered no
dose that day), and the province went on subtracting the void from "given" for good.
A day a tally leaves out has no void waiting at the station (station/tally.py always
includes such a day), so the province clears it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from hub import service
from hub.db import Database
from sync.protocol import EnrollRequest, TallyRequest, TallyRow, tally_signature, token_hash
from tests.pg import migrated_sqlite_url

SITE = "DN-TALLY-01"
DAY = "2026-12-04"
NOW = datetime(2026, 12, 4, 3, 0, tzinfo=UTC)


def _tally(station_id: str, token: str, rows: list[TallyRow]) -> TallyRequest:
    return TallyRequest(station_id=station_id, generated_at=NOW.isoformat(), rows=rows, outbox_pending=0,
                        signature=tally_signature(token, rows))


def _voids_unsent(db: Database, station_id: str) -> int:
    with db.read() as s:
        return int(s.execute(text("SELECT coalesce(sum(t_voids_unsent), 0) FROM station_day WHERE station_id = :s"),
                             {"s": station_id}).scalar_one())


def test_a_day_left_out_of_a_tally_has_no_void_waiting(tmp_path: Path) -> None:
    db = Database(migrated_sqlite_url(tmp_path / "hub.db"))
    try:
        service.add_site(db, SITE, "Trạm", "75", now=NOW)
        code = service.new_enrollment_code(db, SITE, ttl_hours=1, now=NOW)
        sid = "018f0000-0000-7000-8000-0000000000aa"
        token = service.enroll(db, EnrollRequest(code=code, station_id=sid), now=NOW).token
        caller = service.Caller(sid, SITE, token_hash(token))
        late = [TallyRow(day=DAY, vaccine_code="PFIZER", lot_number="FK0891", entered=0, pending=0, acknowledged=0,
                         all_entered=0, all_pending=0, all_acknowledged=0, voids_unsent=1)]
        service.record_tally(db, caller, _tally(sid, token, late), now=NOW)
        assert _voids_unsent(db, sid) == 1
        # Another day in the tally: the day left out is cleared, the other one counts.
        other = [TallyRow(day="2026-12-03", vaccine_code="PFIZER", lot_number="FK0891", entered=0, pending=0,
                          acknowledged=0, all_entered=0, all_pending=0, all_acknowledged=0, voids_unsent=1)]
        service.record_tally(db, caller, _tally(sid, token, other), now=NOW)
        assert _voids_unsent(db, sid) == 1
        with db.read() as s:
            assert s.execute(text("SELECT t_voids_unsent FROM station_day WHERE station_id = :s AND day = :d"),
                             {"s": sid, "d": DAY}).scalar_one() == 0
        service.record_tally(db, caller, _tally(sid, token, []), now=NOW)
        assert _voids_unsent(db, sid) == 0
    finally:
        db.dispose()
