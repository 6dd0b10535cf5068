"""Hostile and broken requests: each a 4xx JSON ErrorBody with a clear code, nothing written."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
import pytest

from hub import service
from kernel.ids import uuid7
from sync.protocol import MAX_BODY_BYTES, TallyRow, tally_signature
from tests.hub.conftest import Hub, Sim
from tests.hub.test_sync_flow import SITE_A, SITE_B, vaccinate


def error(r: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, (r.status_code, r.text)
    body: dict[str, Any] = r.json()
    assert set(body) == {"code", "message", "detail"} and body["code"] == code, body
    assert "Traceback" not in r.text
    return body


def written(hub: Hub) -> tuple[int, int, int]:
    return hub.count("applied_op"), hub.count("change_log"), hub.count("person")


def test_tokens_missing_forged_revoked(hub: Hub, make_station: Callable[..., Sim]) -> None:
    a = make_station(hub, SITE_A)
    vaccinate(a)
    before = written(hub)
    body = a.body(a.outbox())
    url = hub.api + "/push"
    error(hub.client.post(url, json=body), 401, "auth.missing_token")
    error(
        hub.client.post(url, json=body, headers={"Authorization": "Bearer forged-token"}),
        401,
        "auth.invalid_token",
    )
    error(
        hub.client.post(url, json=body, headers={"Authorization": "Basic abc"}),
        401,
        "auth.invalid_token",
    )
    error(
        hub.client.get(hub.api + "/pull", headers={"Authorization": "Bearer x"}),
        401,
        "auth.invalid_token",
    )
    error(hub.client.get(hub.api + "/reviews"), 401, "auth.missing_token")
    assert written(hub) == before
    service.revoke_station(hub.db, a.st.install_id)
    error(hub.client.post(url, json=body, headers=a.headers), 403, "auth.revoked")
    error(hub.client.get(hub.api + "/pull", headers=a.headers), 403, "auth.revoked")
    assert written(hub) == before


def test_enrollment_codes_are_one_time_and_expire(hub: Hub) -> None:
    hub.add_site(SITE_A)
    code = hub.code(SITE_A)
    url = hub.api + "/enroll"
    first = hub.client.post(url, json={"code": code.lower(), "station_id": str(uuid7())})
    assert first.status_code == 200 and first.json()["site_code"] == SITE_A
    error(
        hub.client.post(url, json={"code": code, "station_id": str(uuid7())}),
        403,
        "enroll.code_used",
    )
    expired = service.new_enrollment_code(
        hub.db, SITE_A, ttl_hours=-1, now=service.datetime.now(service.UTC)
    )
    error(
        hub.client.post(url, json={"code": expired, "station_id": str(uuid7())}),
        403,
        "enroll.code_expired",
    )
    error(
        hub.client.post(url, json={"code": "NOPE-NOPE-NOPE", "station_id": str(uuid7())}),
        403,
        "enroll.invalid_code",
    )
    error(hub.client.post(url, json={"code": "x", "station_id": "short"}), 422, "request.invalid")
    assert hub.count("station") == 1


def test_cross_site_push_and_out_of_scope_reads(hub: Hub, make_station: Callable[..., Sim]) -> None:
    a = make_station(hub, SITE_A)
    b = make_station(hub, SITE_B)
    vaccinate(a)
    ops = a.outbox()
    # B's token with A's station id in the body: refused whole.
    r = hub.client.post(hub.api + "/push", json=a.body(ops), headers=b.headers)
    error(r, 403, "auth.station_mismatch")
    # B pushes copies of site A's ops (fresh op ids) under its own identity: refused
    # as cross-site (a register_person carries no site: it would simply register at B).
    b.push()  # B's own users and lot: its supervisor is a user of site B
    forged = [
        dict(o, op_id=uuid7(), op_seq=i + 1, user_id=b.staff.supervisor.user_id)
        for i, o in enumerate(x for x in ops if x["op_type"] != "register_person")
    ]
    r = b.post_push(forged, replica_epoch="forged-epoch")
    assert r.status_code == 200
    reasons = {x["reason"] for x in r.json()["results"]}
    assert reasons == {"auth.cross_site"}, r.json()
    assert hub.count("person") == 0 and hub.count("dose") == 0
    a.push()
    b.pull()
    assert b.seen("person") == {} and b.seen("dose") == {}
    error(
        hub.client.get(hub.api + f"/sites/{SITE_A}/summary", headers=b.headers),
        403,
        "auth.cross_site",
    )
    # A review of site A cannot be resolved by site B.
    error(
        hub.client.post(
            hub.api + "/reviews/0190aaaa-0000-7000-8000-000000000000/resolve",
            json={"action": "keep_both"},
            headers=b.headers,
        ),
        404,
        "review.not_found",
    )


def test_bad_bodies(hub: Hub, make_station: Callable[..., Sim]) -> None:
    a = make_station(hub, SITE_A)
    vaccinate(a)
    before = written(hub)
    url = hub.api + "/push"
    h = a.headers | {"Content-Type": "application/json"}
    error(hub.client.post(url, content=b"{not json", headers=h), 400, "request.malformed_json")
    error(hub.client.post(url, content=b"[1, 2", headers=h), 400, "request.malformed_json")
    wrong = a.body(a.outbox())
    wrong["ops"][0]["op_seq"] = "first"
    body = error(hub.client.post(url, json=wrong, headers=a.headers), 422, "request.invalid")
    assert body["detail"]["errors"][0]["loc"][-1] == "op_seq"
    error(hub.client.post(url, json={"station_id": 5}, headers=a.headers), 422, "request.invalid")
    nul = a.body(a.outbox())
    nul["ops"][0]["payload"]["display_name"] = "a\x00b"
    error(hub.client.post(url, json=nul, headers=a.headers), 422, "request.invalid")
    huge = a.body(a.outbox())
    huge["ops"][0]["op_seq"] = 2**80
    error(hub.client.post(url, json=huge, headers=a.headers), 422, "request.invalid")
    # Inside a payload too, and whatever the body's encoding (the hub's quick scan of
    # the raw JSON must send these to the full check, never to the database).
    for bad in ('"a\\u0000b"', '"\\ud800"', "NaN", "Infinity", str(2**70)):
        marked = a.body(a.outbox())
        marked["ops"][0]["payload"]["display_name"] = "a@b"
        raw = json.dumps(marked).replace('"a@b"', bad).encode()
        assert bad.encode() in raw
        error(hub.client.post(url, content=raw, headers=h), 422, "request.invalid")
        error(
            hub.client.post(url, content=gzip.compress(raw), headers=h | {"Content-Encoding": "gzip"}),
            422,
            "request.invalid",
        )
    error(
        hub.client.post(url, json=a.body([], protocol_version=99), headers=a.headers),
        400,
        "protocol.unsupported",
    )
    # Oversize: plain, and a gzip bomb that inflates past the limit.
    big = b'{"x": "' + b"a" * (MAX_BODY_BYTES + 10) + b'"}'
    error(hub.client.post(url, content=big, headers=h), 413, "request.too_large")
    bomb = gzip.compress(b" " * (MAX_BODY_BYTES + 10))
    error(
        hub.client.post(url, content=bomb, headers=h | {"Content-Encoding": "gzip"}),
        413,
        "request.too_large",
    )
    error(
        hub.client.post(url, content=b"\x1f\x8bnot gzip", headers=h | {"Content-Encoding": "gzip"}),
        400,
        "request.bad_encoding",
    )
    error(
        hub.client.post(url, content=b"{}", headers=h | {"Content-Encoding": "br"}),
        415,
        "request.unsupported_encoding",
    )
    error(
        hub.client.get(hub.api + "/pull", params={"cursor": -1}, headers=a.headers),
        422,
        "request.invalid",
    )
    error(
        hub.client.get(hub.api + "/pull", params={"limit": 10**6}, headers=a.headers),
        422,
        "request.invalid",
    )
    error(hub.client.get(hub.api + "/nowhere", headers=a.headers), 404, "not_found")
    assert written(hub) == before
    # A gzip body that is fine is accepted.
    ok = gzip.compress(json.dumps(a.body(a.outbox())).encode())
    r = hub.client.post(url, content=ok, headers=h | {"Content-Encoding": "gzip"})
    assert r.status_code == 200 and {x["status"] for x in r.json()["results"]} == {"applied"}


def test_gzip_pull_responses(hub: Hub, make_station: Callable[..., Sim]) -> None:
    a = make_station(hub, SITE_A)
    vaccinate(a)
    a.push()
    r = hub.client.get(hub.api + "/pull", headers=a.headers | {"Accept-Encoding": "gzip"})
    assert r.status_code == 200 and r.headers.get("content-encoding") == "gzip"
    assert r.json()["changes"]


@pytest.mark.parametrize("tamper", [False, True])
def test_tally_signature_and_site_summary(
    hub: Hub, make_station: Callable[..., Sim], tamper: bool
) -> None:
    a = make_station(hub, SITE_A)
    vaccinate(a)
    vaccinate(a, id_number="075185007777", full_name="Lê Văn Cường")
    ops = a.outbox()
    # Push only up to the first dose: the hub holds 1 of the 2 doses given.
    first_dose = next(i for i, o in enumerate(ops) if o["op_type"] == "record_dose")
    a.post_push(ops[: first_dose + 1])
    rows = [
        TallyRow(
            day="2026-12-01",
            vaccine_code="PFIZER",
            lot_number="FK0001",
            entered=2,
            pending=1,
            acknowledged=1,
        )
    ]
    sig = tally_signature(a.token, rows)
    if tamper:
        rows = [rows[0].model_copy(update={"entered": 1})]
    body = {
        "station_id": a.st.install_id,
        "generated_at": "2026-12-01T10:00:00+07:00",
        "rows": [r.model_dump() for r in rows],
        "outbox_pending": 3,
        "oldest_pending_at": "2026-12-01T09:30:00+07:00",
        "signature": sig,
    }
    r = hub.client.post(hub.api + "/tally", json=body, headers=a.headers)
    if tamper:
        error(r, 403, "tally.bad_signature")
        return
    assert r.status_code == 200 and r.json()["accepted"] is True
    s = hub.client.get(hub.api + f"/sites/{SITE_A}/summary", headers=a.headers).json()
    assert (s["given"], s["received"], s["gap"], s["pending_at_stations"]) == (2, 1, 1, 1)
    assert (
        datetime.fromisoformat(s["oldest_pending_at"])
        == datetime.fromisoformat("2026-12-01T09:30:00+07:00")
        and s["stations"] == 1
        and s["last_contact"]
    )
