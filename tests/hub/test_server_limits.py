"""The served hub's resource limits over raw sockets on 127.0.0.1: read deadlines, the
concurrency limit, bodies bounded before authentication, settings from the CLI and env.

Deadlines are set short here (0.5 s) so a test never waits long; no test times
anything: a socket read with a generous timeout only bounds how long a broken
server could hang the test.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.app import HubSettings
from hub.cli import _parser
from hub.server import RunningHub, ServerLimits, run_hub
from tests.hub.conftest import Hub
from tests.hub.ops import Desk, new_cccd
from tests.pg import free_port

SHORT = ServerLimits(header_timeout_s=0.5, body_timeout_s=0.5, keep_alive_s=5, max_connections=100)
GUARD_S = 30  # a socket never waits longer than this for the server


@pytest.fixture
def limited(tmp_path: Path) -> Iterator[tuple[RunningHub, Hub]]:
    from hub.db import Database

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    settings = HubSettings(database_url=url)
    with run_hub(settings, limits=SHORT) as running, httpx.Client(timeout=30) as client:
        db = Database(url)
        try:
            yield running, Hub(running, db, "sqlite", client)
        finally:
            db.dispose()


def connect(running: RunningHub) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", running.port), timeout=GUARD_S)
    sock.settimeout(GUARD_S)
    return sock


def read_all(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection."""
    out = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return out
        out += chunk


def read_response(sock: socket.socket) -> tuple[bytes, bytes]:
    """One response (head, body) by its Content-Length, without waiting for a close."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        assert chunk, buf
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = sock.recv(65536)
        assert chunk, body
        body += chunk
    return head, body


def test_slow_headers_get_408_and_the_connection_closed(
    limited: tuple[RunningHub, Hub],
) -> None:
    running, _hub = limited
    with connect(running) as sock:
        sock.sendall(b"POST /sync/v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # and then nothing
        answer = read_all(sock)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["code"] == "request.timeout"
    with connect(running) as sock:  # a connection that never says a word
        assert read_all(sock).startswith(b"HTTP/1.1 408")


def test_slow_body_is_cut_off(limited: tuple[RunningHub, Hub]) -> None:
    running, hub = limited
    desk = Desk.enroll(hub, "SL-A", setup=False)
    with connect(running) as sock:
        sock.sendall(
            b"POST /sync/v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {desk.token}\r\nContent-Length: 1000\r\n\r\n".encode()
            + b'{"ops": ['  # 9 of 1,000 bytes, then silence
        )
        assert read_all(sock) == b""  # closed, nothing applied, nothing answered
    # The hub still serves everyone else.
    assert hub.client.get(hub.api + "/health").status_code == 200


def test_bad_token_is_refused_before_the_body_is_read(limited: tuple[RunningHub, Hub]) -> None:
    running, _hub = limited
    with connect(running) as sock:
        sock.sendall(
            b"POST /sync/v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Authorization: Bearer forged\r\nContent-Length: 3000000\r\n\r\n"
        )  # the 3 MB never come: the answer must not wait for them
        head, body = read_response(sock)
    assert head.startswith(b"HTTP/1.1 401"), head[:200]
    assert json.loads(body)["code"] == "auth.invalid_token"


def test_bodies_without_a_token_are_small(limited: tuple[RunningHub, Hub]) -> None:
    _running, hub = limited
    big = b'{"code": "' + b"A" * (70 * 1024) + b'"}'
    r = hub.client.post(hub.api + "/enroll", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["detail"]["max_bytes"] == 64 * 1024
    r = hub.client.post(hub.api + "/push", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    # With a station's token the full limit applies (the body is then just not a push).
    desk = Desk.enroll(hub, "SL-B", setup=False)
    r = hub.client.post(
        hub.api + "/push", content=big, headers=desk.headers | {"Content-Type": "application/json"}
    )
    assert r.status_code == 422


def test_requests_past_the_concurrency_limit_get_503(tmp_path: Path) -> None:
    """Three requests whose bodies never finish, with room for two: exactly one is answered
    503 at once; the two taken in are cut off by the body deadline; then all is well."""
    from hub.db import Database

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    settings = HubSettings(database_url=url, max_concurrent_requests=2)
    limits = ServerLimits(header_timeout_s=30, body_timeout_s=2)
    with run_hub(settings, limits=limits) as running, httpx.Client(timeout=30) as client:
        db = Database(url)
        try:
            hub = Hub(running, db, "sqlite", client)
            desk = Desk.enroll(hub, "SL-C", setup=False)
            held = []
            for _ in range(3):
                sock = connect(running)
                sock.sendall(
                    b"POST /sync/v1/push HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    b"Content-Type: application/json\r\n"
                    + f"Authorization: Bearer {desk.token}\r\nContent-Length: 100\r\n\r\n".encode()
                    + b"{"
                )
                held.append(sock)
            assert client.get(hub.api + "/health").status_code == 200  # never counted
            answers = []
            for sock in held:
                with sock:
                    answers.append(read_all(sock))
            busy = [a for a in answers if a]
            assert len(busy) == 1 and answers.count(b"") == 2, answers
            assert busy[0].startswith(b"HTTP/1.1 503") and b"server.busy" in busy[0]
            assert b"retry-after: 2" in busy[0].lower()
            assert client.get(hub.api + "/pull", headers=desk.headers).status_code == 200
        finally:
            db.dispose()


def test_limits_are_settable_on_the_command_line_and_in_the_environment() -> None:
    args = _parser().parse_args(
        ["serve", "--header-timeout-s", "3", "--max-concurrent-requests", "9", "--max-connections", "50"]
    )
    assert (args.header_timeout_s, args.max_concurrent_requests, args.max_connections) == (3.0, 9, 50)
    env = {"TRAMTIEM_HUB_BODY_TIMEOUT_S": "42", "TRAMTIEM_HUB_MAX_CONNECTIONS": "77"}
    limits = ServerLimits.from_env(env, header_timeout_s=3.0)
    assert (limits.header_timeout_s, limits.body_timeout_s, limits.max_connections) == (3.0, 42.0, 77)
    assert ServerLimits() == ServerLimits.from_env({})  # the documented defaults
    with pytest.raises(ValueError):
        ServerLimits.from_env({"TRAMTIEM_HUB_HEADER_TIMEOUT_S": "0"})


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.slow  # seconds each; the fast lane leaves it out
def test_tramtiem_hub_serve_applies_its_limits(tmp_path: Path, workers: int) -> None:
    """The real command, as a process: it starts with the limits given and enforces them."""
    port = free_port()
    env = dict(os.environ, TRAMTIEM_HUB_BODY_TIMEOUT_S="60")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "hub.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--header-timeout-s", "0.5", "--max-concurrent-requests", "8",
            "--database-url", f"sqlite:///{tmp_path / 'hub.db'}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        up = False
        for _ in range(600):  # until it answers (bounded: 60 s)
            if proc.poll() is not None:
                break
            try:
                up = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                up = False
            if up:
                break
            time.sleep(0.1)
        assert up, proc.stderr.read().decode()[-2000:] if proc.poll() is not None else "no answer"
        with socket.create_connection(("127.0.0.1", port), timeout=GUARD_S) as sock:
            sock.settimeout(GUARD_S)
            sock.sendall(b"GET /health HTTP/1.1\r\n")  # and nothing more
            assert read_all(sock).startswith(b"HTTP/1.1 408")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    # A limit that makes no sense is refused before anything starts.
    bad = subprocess.run(
        [sys.executable, "-m", "hub.cli", "serve", "--header-timeout-s", "0",
         "--database-url", f"sqlite:///{tmp_path / 'hub.db'}"],
        capture_output=True, text=True, timeout=120,
    )
    assert bad.returncode == 1 and "serve.bad_limit" in bad.stderr


def test_waiting_long_polls_hold_no_request_slot_and_one_station_holds_two(tmp_path: Path) -> None:
    """Room for two requests in flight. Two stations each park two long-polls (four waits):
    a push from a third desk still gets in, and wakes them all with its change. A station's
    third wait answers at once (empty) instead of parking another connection."""
    import threading

    from hub.db import Database

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    settings = HubSettings(database_url=url, max_concurrent_requests=2, max_waits_per_station=2)
    with run_hub(settings) as running, httpx.Client(timeout=60) as client:
        db = Database(url)
        try:
            hub = Hub(running, db, "sqlite", client)
            a, b, c = (Desk.enroll(hub, "SL-LP") for _ in range(3))
            head = client.get(hub.api + "/pull", params={"limit": 1}, headers=a.headers).json()["head_seq"]
            pages: list[tuple[int, dict[str, Any]]] = []

            def poll(desk: Desk) -> None:
                with httpx.Client(timeout=60) as own:
                    r = own.get(hub.api + "/pull", params={"cursor": head, "wait": 25}, headers=desk.headers)
                    pages.append((r.status_code, r.json()))

            threads = [threading.Thread(target=poll, args=(d,), daemon=True) for d in (a, a, b, b)]
            watch = running.app.state.watch
            for n, t in enumerate(threads, 1):
                t.start()  # one at a time: each takes a slot until it starts waiting
                for _ in range(4000):  # until it waits (bounded)
                    if watch.waiting >= n:
                        break
                    time.sleep(0.005)
                assert watch.waiting == n, pages
            third = client.get(hub.api + "/pull", params={"cursor": head, "wait": 25}, headers=a.headers)
            assert third.status_code == 200 and third.json()["changes"] == []
            assert watch.waiting == 4  # the others still wait: nothing was committed
            reg = c.walk_in(new_cccd())
            assert [r["status"] for r in c.push([reg])] == ["applied"]
            for t in threads:
                t.join(GUARD_S)
            assert [code for code, _ in pages] == [200] * 4, pages
            assert all(reg["entity_id"] in {ch["entity_id"] for ch in p["changes"]} for _, p in pages), pages
        finally:
            db.dispose()
