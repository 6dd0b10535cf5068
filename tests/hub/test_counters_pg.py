"""The counter upserts themselves, raced on PostgreSQL with many trials.

A push holds the change clock's row lock while it writes its counters today, which
happens to serialise them; the counters must not depend on that (the clock may be
taken last, as it should be, or another path may write counters). So here eight
transactions write the same counter rows at the same moment, with no other lock in
between, thirty times over: every increment and decrement must land.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from hub import counters
from hub.db import Database, migrate
from hub.models import Dose
from tests.pg import PgCluster, hub_database_url

pytestmark = pytest.mark.slow  # fast lane (./dev test --fast) leaves it out; ./dev test runs it

THREADS = 8
TRIALS = 30
KEYS = [("DN-PG-01", "st-a", "2026-12-01"), ("DN-PG-01", "st-a", "2026-12-02"), ("DN-PG-01", "st-b", "2026-12-01")]


@pytest.fixture
def db(tmp_path: Path, pg: PgCluster | None) -> Iterator[Database]:
    url = hub_database_url("postgresql", tmp_path, pg)
    migrate(url)
    d = Database(url)
    yield d
    d.dispose()


def _work(db: Database, rng: random.Random, barrier: threading.Barrier, errors: list[str]) -> None:
    try:
        with db.write() as s:
            keys = KEYS[:]
            rng.shuffle(keys)
            for site, st, day in keys:
                for _ in range(3):
                    counters.note_new_dose(
                        s, dose_id=f"{rng.random()}", site=site, origin=st, day=day,
                        source="site", recorded_at=None,
                    )
                dose = Dose(id=f"v{rng.random()}", site_code=site, origin_station=st, day=day, source="site")
                counters.note_void(s, dose, by_station="st-b")
            barrier.wait(timeout=30)
            counters.flush(s)
    except Exception as exc:  # reported by the test, not lost in the thread
        errors.append(repr(exc))


def test_counter_upserts_never_lose_an_update(db: Database) -> None:
    rng = random.Random(7)
    for trial in range(TRIALS):
        with db.write() as s:
            s.execute(text("DELETE FROM station_day"))
        barrier = threading.Barrier(THREADS)
        errors: list[str] = []
        threads = [
            threading.Thread(target=_work, args=(db, random.Random(rng.random()), barrier, errors))
            for _ in range(THREADS)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors[:3]
        with db.read() as s:
            got = {
                (a, b, c): (int(d), int(e))
                for a, b, c, d, e in s.execute(
                    text("SELECT site_code, station_id, day, held_all, held_valid FROM station_day")
                )
            }
        want = {k: (3 * THREADS, 2 * THREADS) for k in KEYS}
        assert {k: got.get(k) for k in KEYS} == want, f"trial {trial}"
