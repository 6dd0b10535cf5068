"""Change-log numbering equals commit order under concurrent pushes: a puller never skips a row.

Many stations of one site push at once (each op its own transaction) while a
puller walks the site's feed with small pages. With numbers taken from a plain
sequence, a transaction that took a lower number but committed later would be
skipped by a puller whose cursor already passed it; the hub_clock row lock
prevents that. The union of everything pulled must equal everything committed.
"""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy import text

from kernel.ids import uuid7
from tests.hub.conftest import Hub

SITE = "DN-C"
STATIONS = 8
PUSHES = 12
OPS_PER_PUSH = 4


def _enroll(hub: Hub) -> tuple[str, str]:
    sid = str(uuid.uuid4())
    r = hub.client.post(hub.api + "/enroll", json={"code": hub.code(SITE), "station_id": sid})
    assert r.status_code == 200, r.text
    return sid, r.json()["token"]


def _lot_op(seq: int, lot_id: str, n: int) -> dict[str, object]:
    return {
        "op_id": uuid7(),
        "op_seq": seq,
        "op_type": "upsert_lot",
        "entity_type": "vaccine_lot",
        "entity_id": lot_id,
        "payload": {
            "id": lot_id,
            "site_code": SITE,
            "vaccine_code": "PFIZER",
            "lot_number": f"L{n}",
            "expiry": "2027-06-30",
            "doses_received": 100 + n,
            "received_on": "2026-11-30",
            "active": 1,
            "updated_at": "2026-12-01T09:00:00+07:00",
        },
        "hlc": f"{1_700_000_000_000 + seq:013d}-00000",
        "recorded_at": "2026-12-01T09:00:00+07:00",
    }


def test_pull_never_skips_under_concurrent_pushes(hub: Hub) -> None:
    hub.add_site(SITE)
    creds = [_enroll(hub) for _ in range(STATIONS)]
    _reader_sid, reader_token = creds[0]
    errors: list[str] = []
    done = threading.Event()
    pulled: list[int] = []

    def pusher(sid: str, token: str, k: int) -> None:
        seq = 0
        with httpx.Client(
            base_url=hub.api, headers={"Authorization": f"Bearer {token}"}, timeout=60
        ) as c:
            for p in range(PUSHES):
                ops = []
                for j in range(OPS_PER_PUSH):
                    seq += 1
                    # Each op both creates a lot and, every other time, updates an earlier one.
                    lot = str(uuid.uuid5(uuid.NAMESPACE_OID, f"{k}-{p}-{j // 2}"))
                    ops.append(_lot_op(seq, lot, k * 1000 + seq))
                body = {
                    "station_id": sid,
                    "replica_epoch": "e1",
                    "schema_version": "0002",
                    "sent_at": datetime.now(UTC).isoformat(),
                    "ops": ops,
                }
                r = c.post("/push", json=body)
                if r.status_code != 200 or {x["status"] for x in r.json()["results"]} != {
                    "applied"
                }:
                    errors.append(f"{r.status_code} {r.text[:200]}")
                    return

    def puller() -> None:
        cursor = 0
        with httpx.Client(
            base_url=hub.api, headers={"Authorization": f"Bearer {reader_token}"}, timeout=60
        ) as c:
            while True:
                finished = done.is_set()
                page = c.get("/pull", params={"cursor": cursor, "limit": 7}).json()
                pulled.extend(ch["server_seq"] for ch in page["changes"])
                cursor = page["next_cursor"]
                if finished and not page["has_more"]:
                    return
                if not page["changes"]:
                    time.sleep(0.002)

    threads = [
        threading.Thread(target=pusher, args=(sid, tok, k)) for k, (sid, tok) in enumerate(creds)
    ]
    reader = threading.Thread(target=puller)
    reader.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    reader.join(timeout=60)
    assert not errors, errors[:3]
    with hub.db.read() as s:
        committed = [
            int(x)
            for x in s.execute(
                text("SELECT server_seq FROM change_log WHERE scope = :s ORDER BY server_seq"),
                {"s": SITE},
            ).scalars()
        ]
    assert len(committed) == STATIONS * PUSHES * OPS_PER_PUSH
    assert pulled == sorted(pulled), "pull order must follow server_seq"
    assert len(pulled) == len(set(pulled)), "a row was pulled twice"
    assert set(pulled) == set(committed), f"skipped {sorted(set(committed) - set(pulled))[:10]}"
