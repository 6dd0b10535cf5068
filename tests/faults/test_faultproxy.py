"""Tests for the seeded TCP fault proxy, over real loopback sockets."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from tests.faults.faultproxy import ACTIONS, FaultProxy, Faults, _http_response_end

# Every client call carries a timeout so a proxy bug fails a test instead of
# hanging the suite.
CLIENT_TIMEOUT = 5.0


class _Upstream(ThreadingHTTPServer):
    """Tiny hub stand-in that records what actually reached it."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.count = 0
        self.bodies: list[bytes] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so the proxy has to parse Content-Length/chunked framing
    # instead of relying on the server closing the connection.
    protocol_version = "HTTP/1.1"
    server: _Upstream

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep pytest output readable

    def _record(self, body: bytes) -> None:
        # Counted before answering: proves "processed" even if the answer is lost.
        with self.server.lock:
            self.server.count += 1
            self.server.bodies.append(body)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        self._record(b"")
        if url.path == "/big":
            n = int(parse_qs(url.query)["n"][0])
            self._reply(b"x" * n)
        elif url.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._reply(b"echo " + self.path.encode())

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self._record(body)
        self._reply(body)

    def _reply(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def upstream() -> Iterator[_Upstream]:
    server = _Upstream()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


NO_FAULTS = Faults()


def _proxy(upstream: _Upstream, faults: Faults = NO_FAULTS, **kw: object) -> FaultProxy:
    return FaultProxy("127.0.0.1", upstream.port, faults, **kw)  # type: ignore[arg-type]


def _wait_for(pred: object, timeout: float = 3.0) -> bool:
    # The proxy updates stats on its own thread; poll briefly instead of sleeping.
    assert callable(pred)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.01)
    return bool(pred())


def test_pass_through(upstream: _Upstream) -> None:
    with _proxy(upstream) as proxy:
        r = requests.get(proxy.url + "/hello", timeout=CLIENT_TIMEOUT)
        assert r.status_code == 200
        assert r.content == b"echo /hello"
        r = requests.post(proxy.url + "/p", data=b"payload", timeout=CLIENT_TIMEOUT)
        assert r.content == b"payload"
        r = requests.get(proxy.url + "/chunked", timeout=CLIENT_TIMEOUT)
        assert r.content == b"hello chunked world"
        assert proxy.url == f"http://127.0.0.1:{proxy.port}"
        stats = proxy.stats_snapshot()
    assert upstream.count == 3
    assert stats["connections"] == 3
    assert stats["pass"] == 3
    assert stats["bytes_up"] > 0 and stats["bytes_down"] > 0


def test_keep_alive_session_passes_multiple_requests(upstream: _Upstream) -> None:
    with _proxy(upstream) as proxy, requests.Session() as s:
        for i in range(3):
            assert (
                s.get(f"{proxy.url}/{i}", timeout=CLIENT_TIMEOUT).content == f"echo /{i}".encode()
            )
        # One pooled connection: the decision is per connection, not per request.
        assert proxy.stats_snapshot()["connections"] == 1


def test_latency_adds_delay(upstream: _Upstream) -> None:
    with _proxy(upstream, Faults(latency_ms=150)) as proxy:
        t0 = time.monotonic()
        r = requests.get(proxy.url + "/slow", timeout=CLIENT_TIMEOUT)
        elapsed = time.monotonic() - t0
    assert r.content == b"echo /slow"
    # Request and response each cross the proxy once: >= 2 x latency.
    assert elapsed >= 0.29


def test_bandwidth_cap(upstream: _Upstream) -> None:
    size, rate = 200_000, 200_000
    with _proxy(upstream, Faults(bandwidth_bps=rate)) as proxy:
        t0 = time.monotonic()
        r = requests.get(f"{proxy.url}/big?n={size}", timeout=CLIENT_TIMEOUT)
        elapsed = time.monotonic() - t0
    assert len(r.content) == size
    assert elapsed >= 0.9 * size / rate


def test_reset_never_reaches_upstream(upstream: _Upstream) -> None:
    with _proxy(upstream, Faults(reset_prob=1)) as proxy:
        with pytest.raises(requests.ConnectionError):
            requests.post(proxy.url + "/x", data=b"v", timeout=CLIENT_TIMEOUT)
        assert proxy.stats_snapshot()["reset"] == 1
    assert upstream.count == 0


def test_drop_response_is_a_lost_ack(upstream: _Upstream) -> None:
    with _proxy(upstream, Faults(drop_response_prob=1)) as proxy:
        with pytest.raises(requests.ConnectionError):
            requests.post(proxy.url + "/push", data=b"batch-42", timeout=CLIENT_TIMEOUT)
        assert proxy.stats_snapshot()["drop_response"] == 1
        assert proxy.stats_snapshot()["bytes_down"] == 0
    # The key property: the hub DID process the request the client thinks failed.
    assert upstream.count == 1
    assert upstream.bodies == [b"batch-42"]


def test_drop_response_chunked(upstream: _Upstream) -> None:
    # Chunked terminator recognised: the proxy drops the answer as soon as it is complete. Had
    # it waited for response_timeout_s (30 s), the client's 5 s read timeout would have raised
    # ReadTimeout, which is not a ConnectionError: no clock needed to tell the two apart.
    assert CLIENT_TIMEOUT < 30
    with (
        _proxy(upstream, Faults(drop_response_prob=1), response_timeout_s=30) as proxy,
        pytest.raises(requests.ConnectionError),
    ):
        requests.get(proxy.url + "/chunked", timeout=CLIENT_TIMEOUT)
    assert upstream.count == 1


def test_truncate_gives_incomplete_body(upstream: _Upstream) -> None:
    with _proxy(upstream, Faults(truncate_prob=1)) as proxy:
        conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=CLIENT_TIMEOUT)
        try:
            conn.request("GET", "/big?n=100000")
            resp = conn.getresponse()
            assert resp.status == 200
            with pytest.raises(http.client.IncompleteRead):
                resp.read()
        finally:
            conn.close()
        with pytest.raises(requests.RequestException):
            requests.get(proxy.url + "/big?n=5000", timeout=CLIENT_TIMEOUT)
        assert proxy.stats_snapshot()["truncate"] == 2
    assert upstream.count == 2


def test_blackhole_times_out_and_stop_is_prompt(upstream: _Upstream) -> None:
    proxy = _proxy(upstream, Faults(blackhole_prob=1, blackhole_max_s=30))
    proxy.start()
    try:
        with pytest.raises(requests.Timeout):
            requests.post(proxy.url + "/x", data=b"v", timeout=0.5)
        # requests hangs up after its timeout (and the blackhole then lets go),
        # so hold a raw connection open to prove stop() cuts held ones short.
        held = socket.create_connection(("127.0.0.1", proxy.port), timeout=CLIENT_TIMEOUT)
        held.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        assert _wait_for(lambda: proxy.stats_snapshot()["connections"] == 2)
    finally:
        proxy.stop()
    # The held connection was cut by stop(), not left to the 30 s blackhole: recv answers at
    # once (EOF or reset) instead of raising socket.timeout after CLIENT_TIMEOUT.
    with held:
        try:
            assert held.recv(1024) == b""
        except ConnectionResetError:
            pass  # either way the held connection is gone, not hanging
    assert upstream.count == 0
    proxy.stop()  # idempotent


def test_blackhole_max_hold_releases_client(upstream: _Upstream) -> None:
    with _proxy(upstream, Faults(blackhole_prob=1, blackhole_max_s=0.2)) as proxy:
        # Released by the proxy (a reset: ConnectionError), not by the client giving up
        # after CLIENT_TIMEOUT (that would be ReadTimeout).
        with pytest.raises(requests.ConnectionError):
            requests.get(proxy.url + "/x", timeout=CLIENT_TIMEOUT)
        assert _wait_for(lambda: proxy.stats_snapshot()["active"] == 0)


MIXED = Faults(
    reset_prob=0.2,
    blackhole_prob=0.1,
    truncate_prob=0.2,
    drop_response_prob=0.2,
    blackhole_max_s=0.05,
)


def _run_connections(proxy: FaultProxy, n: int) -> list[str]:
    outcomes: list[str] = []
    for i in range(n):
        try:
            requests.get(f"{proxy.url}/{i}", timeout=CLIENT_TIMEOUT)
            outcomes.append("ok")
        except requests.RequestException:
            outcomes.append("error")
    return outcomes


def test_same_seed_same_decisions(upstream: _Upstream) -> None:
    runs = []
    for seed in (1234, 1234, 99):
        with _proxy(upstream, MIXED, seed=seed) as proxy:
            outcomes = _run_connections(proxy, 50)
            decisions = proxy.decisions()
            stats = proxy.stats_snapshot()
        assert len(decisions) == 50
        assert [o == "ok" for o in outcomes] == [d == "pass" for d in decisions]
        for action in ACTIONS:
            assert stats[action] == decisions.count(action)
        runs.append(decisions)
    assert runs[0] == runs[1]
    assert runs[0] != runs[2]
    assert set(runs[0]) == set(ACTIONS)  # the mix really exercises every fault


def test_schedule_then_probabilities(upstream: _Upstream) -> None:
    schedule = ["reset", "pass", "drop_response", "truncate", "blackhole", "pass"]
    faults = Faults(blackhole_max_s=0.05)
    with _proxy(upstream, faults, schedule=schedule) as proxy:
        outcomes = _run_connections(proxy, 8)
        assert proxy.decisions() == [*schedule, "pass", "pass"]
    assert outcomes == ["error", "ok", "error", "error", "error", "ok", "ok", "ok"]
    # pass x4 + drop_response + truncate reached the hub; reset/blackhole did not.
    assert upstream.count == 6


def test_set_faults_at_runtime(upstream: _Upstream) -> None:
    with _proxy(upstream) as proxy:
        assert requests.get(proxy.url, timeout=CLIENT_TIMEOUT).ok
        proxy.set_faults(Faults(reset_prob=1))
        assert proxy.faults.reset_prob == 1
        with pytest.raises(requests.ConnectionError):
            requests.get(proxy.url, timeout=CLIENT_TIMEOUT)
        proxy.set_faults(Faults())
        assert requests.get(proxy.url, timeout=CLIENT_TIMEOUT).ok
        proxy.set_schedule(["reset"])
        with pytest.raises(requests.ConnectionError):
            requests.get(proxy.url, timeout=CLIENT_TIMEOUT)
    assert upstream.count == 2


def test_a_cut_with_drop_open_also_ends_the_connections_already_open(upstream: _Upstream) -> None:
    """New faults apply to new connections; a keep-alive connection opened before them
    goes on working unless ``drop_open`` (a cut cable) resets it too."""
    with _proxy(upstream) as proxy:
        for drop_open, survives in ((False, True), (True, False)):
            proxy.set_faults(NO_FAULTS)
            conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=CLIENT_TIMEOUT)
            try:
                conn.request("GET", "/before")
                assert conn.getresponse().read() == b"echo /before"
                proxy.set_faults(Faults(reset_prob=1), drop_open=drop_open)
                try:
                    conn.request("GET", "/after")  # the same connection (HTTP/1.1 keep-alive)
                    got: bytes | None = conn.getresponse().read()
                except (OSError, http.client.HTTPException):
                    got = None
                assert (got == b"echo /after") is survives, (drop_open, got)
            finally:
                conn.close()
        assert _wait_for(lambda: proxy.stats_snapshot()["active"] == 0)


def test_upstream_down_looks_like_dead_hub(upstream: _Upstream) -> None:
    dead_port = upstream.port
    upstream.shutdown()
    upstream.server_close()
    with FaultProxy("127.0.0.1", dead_port) as proxy:
        with pytest.raises(requests.ConnectionError):
            requests.get(proxy.url, timeout=CLIENT_TIMEOUT)
        assert _wait_for(lambda: proxy.stats_snapshot()["upstream_errors"] == 1)


def test_fixed_listen_port_and_restart(upstream: _Upstream) -> None:
    proxy = _proxy(upstream)
    proxy.start()
    port = proxy.port
    proxy.stop()
    # Restarting on the same port models the hub link coming back.
    restarted = _proxy(upstream, listen_port=port)
    with restarted:
        assert restarted.port == port
        assert requests.get(restarted.url, timeout=CLIENT_TIMEOUT).ok
    with pytest.raises(RuntimeError):
        _ = FaultProxy("127.0.0.1", 1).port  # never started


def test_validation() -> None:
    with pytest.raises(ValueError):
        Faults(reset_prob=1.5)
    with pytest.raises(ValueError):
        Faults(reset_prob=0.6, truncate_prob=0.6)
    with pytest.raises(ValueError):
        Faults(latency_ms=-1)
    with pytest.raises(ValueError):
        Faults(bandwidth_bps=0)
    with pytest.raises(ValueError):
        FaultProxy("127.0.0.1", 1, schedule=["pass", "explode"])


@pytest.mark.parametrize(
    ("raw", "head", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", False, (38, 41)),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nab", False, None),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n", True, (38, 38)),
        (b"HTTP/1.1 204 No Content\r\n\r\n", False, (27, 27)),
        (b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc", False, None),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n", False, None),
        (b"garbage\r\n\r\n", False, None),
    ],
)
def test_response_framing(raw: bytes, head: bool, expected: tuple[int, int] | None) -> None:
    assert _http_response_end(raw, head=head) == expected


def test_response_framing_chunked_and_continue() -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    body = b"3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n"
    full = head + body
    assert _http_response_end(full) == (len(head), len(full))
    for i in range(len(head), len(full)):
        assert _http_response_end(full[:i]) is None
    interim = b"HTTP/1.1 100 Continue\r\n\r\n"
    assert _http_response_end(interim) is None
    assert _http_response_end(interim + full) == (len(interim) + len(head), len(interim + full))


def test_drop_response_is_an_rst_not_a_clean_close(upstream: _Upstream) -> None:
    # A clean EOF and an RST surface differently in clients; the lost-ack case
    # must be the abrupt one.
    with (
        _proxy(upstream, Faults(drop_response_prob=1)) as proxy,
        socket.create_connection(("127.0.0.1", proxy.port), timeout=CLIENT_TIMEOUT) as sock,
    ):
        sock.sendall(b"GET /rst HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(ConnectionResetError):
            sock.recv(1024)
    assert upstream.count == 1
