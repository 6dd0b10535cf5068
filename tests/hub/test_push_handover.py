"""The hand-over between a station's push batches (issue 15, phase 9): fewer hops, fewer passes.

Real hub over real HTTP on 127.0.0.1 (served on a thread of this process, so its
worker-thread hops can be counted):

* a push crosses to a worker thread twice — the bearer token checked before the
  body is read, then the parse, apply and answer — where it crossed four times
  (the route's caller dependency was a plain function, which FastAPI runs in a
  worker thread, and GZipMiddleware compresses an answer of 128 KiB or more in a
  worker thread of its own): fails on the code before;
* the parsed request is freed on the server's event loop once the answer is sent,
  not in the worker thread between the COMMIT and the answer: fails on the code before;
* the answer is gzipped as before (the same JSON, ``Vary: Accept-Encoding``), and
  sent as plain JSON to a client that does not accept gzip;
* a token refused and a revoked station are answered as before, with nothing read;
* the body scan (``hub.middleware._suspect_json``) never lets through what its
  reference (``tests/hub/test_hub_rows.py``) sends to the full walk, ``+`` signs
  and upper-case exponents included.
"""

from __future__ import annotations

import functools
import gzip
import random
import threading
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
import httpx
import pytest

from hub import service
from hub.middleware import _suspect_json
from hub.routes import push as push_route
from sync.protocol import PushRequest
from tests.hub.conftest import Hub
from tests.hub.ops import Desk
from tests.hub.test_hub_rows import _suspect_reference

BIG = 300  # walk-ins: an answer of more than 128 KiB (GZipMiddleware's thread minimum)


@pytest.fixture
def hops(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The names of the functions sent to a worker thread (the hub runs in this process)."""
    seen: list[str] = []
    real = anyio.to_thread.run_sync

    async def run_sync(func: Any, *args: Any, **kw: Any) -> Any:
        inner = func.func if isinstance(func, functools.partial) else func
        seen.append(getattr(inner, "__name__", repr(inner)))
        return await real(func, *args, **kw)

    monkeypatch.setattr(anyio.to_thread, "run_sync", run_sync)
    yield seen


def test_a_push_crosses_to_a_worker_thread_twice(sqlite_hub: Hub, hops: list[str]) -> None:
    desk = Desk.enroll(sqlite_hub, "DN-HOP-01")
    ops = [desk.walk_in() for _ in range(BIG)]
    hops.clear()
    with httpx.Client(timeout=120) as client:
        r = client.post(desk.hub.api + "/push", json=desk.body(ops), headers=desk.headers)
    assert r.status_code == 200, r.text
    assert [x["status"] for x in r.json()["results"]] == ["applied"] * BIG
    # Before: authenticate_station, get_caller, push_sync and the middleware's compression.
    assert hops == ["authenticate_station", "push_sync"]
    assert r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) < 128 * 1024 < len(r.content)  # httpx inflated it


def test_the_parsed_request_is_freed_after_the_answer_is_sent(
    sqlite_hub: Hub, monkeypatch: pytest.MonkeyPatch
) -> None:
    freed: list[str] = []

    class Tracked(PushRequest):
        def __del__(self) -> None:
            freed.append(threading.current_thread().name)

    real = push_route.parse_body

    def parse_body(model: Any, body: bytes) -> Any:
        got = real(model, body)
        return Tracked.model_construct(**dict(got)) if model is PushRequest else got

    desk = Desk.enroll(sqlite_hub, "DN-HOP-04")
    monkeypatch.setattr(push_route, "parse_body", parse_body)
    with httpx.Client(timeout=60) as client:
        for _ in range(3):
            r = client.post(desk.hub.api + "/push", json=desk.body([desk.walk_in() for _ in range(5)]),
                            headers=desk.headers)
            assert [x["status"] for x in r.json()["results"]] == ["applied"] * 5
    for _ in range(100):  # the last one may still be on its way out
        if len(freed) == 3:
            break
        threading.Event().wait(0.02)
    # Before: in the worker thread, as push_sync returned (an AnyIO worker thread).
    assert freed == ["hub-uvicorn"] * 3


def test_the_answer_is_gzipped_as_before_and_plain_to_whoever_asks(sqlite_hub: Hub) -> None:
    desk = Desk.enroll(sqlite_hub, "DN-HOP-02")
    with httpx.Client(timeout=60) as client:
        zipped = client.post(
            desk.hub.api + "/push", json=desk.body([desk.walk_in() for _ in range(20)]),
            headers=desk.headers | {"Accept-Encoding": "gzip"},
        )
        plain = client.post(
            desk.hub.api + "/push", json=desk.body([desk.walk_in() for _ in range(20)]),
            headers=desk.headers | {"Accept-Encoding": "identity"},
        )
        streamed, wire = desk.post_raw([desk.walk_in() for _ in range(20)], client)
    assert zipped.status_code == plain.status_code == streamed.status_code == 200
    assert zipped.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in zipped.headers["vary"].lower()
    assert "content-encoding" not in plain.headers
    assert [x["status"] for x in plain.json()["results"]] == ["applied"] * 20
    answer = gzip.decompress(wire)  # what went on the wire is a gzip member of the JSON answer
    assert [x["status"] for x in httpx.Response(200, content=answer).json()["results"]] == ["applied"] * 20
    assert streamed.headers["content-encoding"] == "gzip"
    assert int(streamed.headers["content-length"]) == len(wire)


def test_bad_and_revoked_tokens_are_refused_as_before(sqlite_hub: Hub, hops: list[str]) -> None:
    desk = Desk.enroll(sqlite_hub, "DN-HOP-03")
    body = desk.body([desk.walk_in()])
    with httpx.Client(timeout=30) as client:
        hops.clear()
        bad = client.post(desk.hub.api + "/push", json=body, headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401 and bad.json()["code"] == "auth.invalid_token"
        assert hops == ["authenticate_station"]  # refused before the body: nothing else ran
        service.revoke_station(sqlite_hub.db, desk.station_id)
        gone = client.post(desk.hub.api + "/push", json=body, headers=desk.headers)
        assert gone.status_code == 403 and gone.json()["code"] == "auth.revoked"
        pulled = client.get(desk.hub.api + "/pull", params={"cursor": 0, "limit": 10}, headers=desk.headers)
        assert pulled.status_code == 403 and pulled.json()["code"] == "auth.revoked"
    assert sqlite_hub.count("applied_op") == desk.seq - 1  # the refused op was not applied


def test_the_body_scan_misses_nothing_its_reference_finds() -> None:
    rng = random.Random(9)
    pieces = [
        b'{"a":', b'"x"', b"\\u00", b"NaN", b"Infinity", b"9" * 19, b"12345", b"+", b"+0", b"E+", b"e+",
        b"E", b"e", b"e-", b"1e400", b"E+3", b"E+400", b"e+400", b"0E+0400", b"-", b".", b":", b"[", b",",
        b" ", b"\n", b"\t", b"0", b"1", b"03e456", b"+07:00", b"a", b'"', b"2.5",
    ]
    seen = {True: 0, False: 0}
    for _ in range(30_000):
        body = b"".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        want = _suspect_reference(body)
        got = _suspect_json(body)
        if want:
            assert got, body
        elif b"+" not in body:
            assert not got, body  # a difference only where a "+" was left out
        seen[want] += 1
    assert min(seen.values()) > 3_000
