"""``HubClient``'s own HTTP transport (``http.client``, issue 15) against raw sockets on 127.0.0.1.

What the station relied on from requests stays true: a keep-alive connection the hub
closed while idle is replaced before a request goes out on it; proxies from the
environment are never used; gzip answers are inflated and a cut or damaged body is
"no answer" (``HubTimeout``: the request may have been applied). New: a redirect is
not followed (the token and data go to the enrolled address only).
"""

from __future__ import annotations

import gzip
import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sync.client import HubClient, HubRejected, HubTimeout, HubUnreachable
from sync.tls import CA_FILE_ENV
from tests.sync.pki import make_ca

HEALTH = json.dumps({"status": "ok", "hub_epoch": "h1", "server_time": "2026-12-01T02:00:00Z"}).encode()


def _answer(body: bytes, *, status: str = "200 OK", extra: str = "") -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"{extra}\r\n").encode() + body


def _read_request(conn: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return b""
        data += chunk
    return data


@contextmanager
def raw_server(handle: Callable[[socket.socket, int], None], connections: int) -> Iterator[tuple[str, list[bytes]]]:
    """A listening socket on 127.0.0.1 whose accepted connections ``handle`` serves (bounded)."""
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(10)
    port = srv.getsockname()[1]
    seen: list[bytes] = []

    def serve() -> None:
        for i in range(connections):
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(10)
                handle(_Recorder(conn, seen), i)  # type: ignore[arg-type]

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{port}", seen
    finally:
        _stop_listening(srv)
        t.join(timeout=10)


def _stop_listening(srv: socket.socket) -> None:
    # close() alone does not wake a thread blocked in accept(): it would sit out its 10 s
    # timeout. shutdown() makes accept() fail at once (Linux), so teardown takes no time.
    try:
        srv.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    srv.close()


class _Recorder:
    def __init__(self, conn: socket.socket, seen: list[bytes]) -> None:
        self.conn, self.seen = conn, seen

    def request(self) -> bytes:
        req = _read_request(self.conn)
        if req:
            self.seen.append(req)
        return req

    def sendall(self, data: bytes) -> None:
        self.conn.sendall(data)

    def shutdown(self) -> None:
        self.conn.shutdown(socket.SHUT_RDWR)


def _health_body() -> bytes:
    return HEALTH


def test_a_keep_alive_connection_closed_while_idle_is_replaced() -> None:
    def handle(c: _Recorder, i: int) -> None:
        c.request()
        c.sendall(_answer(_health_body()))
        if i == 0:
            c.shutdown()  # the hub's idle timeout: closed after one answer, without a word

    with raw_server(handle, connections=2) as (url, seen), HubClient(url) as client:
        assert client.health().hub_epoch == "h1"
        # The second request must go out on a new connection, not fail on the dead one.
        assert client.health().hub_epoch == "h1"
    assert len(seen) == 2


def test_a_get_on_a_connection_the_hub_closes_as_it_goes_out_is_sent_once_more() -> None:
    # The hub's idle timeout runs out just as the next request goes out on the kept connection:
    # it closes without an answer. A GET changes nothing at the hub: sent again, on a new one.
    def handle(c: _Recorder, i: int) -> None:
        c.request()
        c.sendall(_answer(_health_body()))
        if i == 0:
            c.request()  # arrives on the kept connection ...
            c.shutdown()  # ... and the hub closes it without a word

    with raw_server(handle, connections=2) as (url, seen), HubClient(url) as client:
        assert client.health().hub_epoch == "h1"
        assert client.health().hub_epoch == "h1"
    assert len(seen) == 3  # the first health, the lost one, the one sent again


def test_environment_proxies_are_never_used(monkeypatch: pytest.MonkeyPatch) -> None:
    def proxy(c: _Recorder, _i: int) -> None:
        c.request()
        c.sendall(_answer(b"{}", status="502 Bad Gateway"))

    def hub(c: _Recorder, _i: int) -> None:
        c.request()
        c.sendall(_answer(_health_body()))

    with raw_server(proxy, connections=1) as (proxy_url, via_proxy), raw_server(hub, connections=1) as (url, direct):
        for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
            monkeypatch.setenv(var, proxy_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with HubClient(url) as client:
            client.health()
    assert via_proxy == [] and len(direct) == 1


def test_gzip_answer_inflated_and_a_cut_body_is_no_answer() -> None:
    packed = gzip.compress(_health_body())

    def handle(c: _Recorder, i: int) -> None:
        c.request()
        if i == 0:
            c.sendall(_answer(packed, extra="Content-Encoding: gzip\r\n"))
        else:  # announces 1000 bytes, sends 10, then closes
            c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + packed[:10])
            c.shutdown()

    with raw_server(handle, connections=2) as (url, seen):
        with HubClient(url) as client:
            assert client.health().status == "ok"
        assert b"accept-encoding: gzip" in seen[0].lower()
        with HubClient(url) as client, pytest.raises(HubTimeout) as exc:
            client.health()
    assert exc.value.code == "hub.truncated"


def test_no_answer_after_the_request_went_out_may_have_been_applied() -> None:
    def handle(c: _Recorder, _i: int) -> None:
        c.request()
        c.shutdown()  # read the request, closed without answering: a lost ack

    with raw_server(handle, connections=1) as (url, _seen), HubClient(url) as client, \
            pytest.raises(HubTimeout) as exc:
        client.health()
    assert exc.value.code == "hub.connection_lost"


def test_a_redirect_is_not_followed() -> None:
    def handle(c: _Recorder, _i: int) -> None:
        c.request()
        c.sendall(_answer(b"", status="302 Found", extra="Location: http://127.0.0.1:9/elsewhere\r\n"))

    with raw_server(handle, connections=1) as (url, seen), HubClient(url, "tok") as client, \
            pytest.raises(HubRejected) as exc:
        client.reviews()
    assert exc.value.code == "http.302" and len(seen) == 1


def test_a_malformed_address_fails_the_request_not_the_constructor() -> None:
    client = HubClient("hub.example.vn:8443")  # no scheme
    with pytest.raises(HubUnreachable) as exc:
        client.health()
    assert exc.value.code == "hub.request_failed"
    client.close()


def test_path_prefix_and_query_reach_the_hub() -> None:
    def handle(c: _Recorder, _i: int) -> None:
        c.request()
        c.sendall(_answer(b'{"error": "x"}', status="404 Not Found"))

    with raw_server(handle, connections=1) as (url, seen), HubClient(url + "/tramtiem/", "tok") as client, \
            pytest.raises(HubRejected):
        client.pull(7, 100, replica_epoch="e1")
    first_line = seen[0].split(b"\r\n", 1)[0]
    assert first_line == b"GET /tramtiem/sync/v1/pull?cursor=7&limit=100&replica_epoch=e1 HTTP/1.1"
    assert b"\r\nauthorization: bearer tok\r\n" in seen[0].lower()


def test_https_keeps_one_connection_for_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A TLS 1.3 server sends its session tickets after the handshake: they must not make
    # the idle check take the connection for dead (a handshake per request on a slow line).
    ca = make_ca(tmp_path / "pki")
    cert = ca.issue("hub")
    monkeypatch.setenv(CA_FILE_ENV, str(ca.ca_pem))
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(str(cert.cert), str(cert.key))
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(10)
    port = srv.getsockname()[1]
    accepted: list[int] = []

    def serve() -> None:
        while True:
            try:
                raw, _ = srv.accept()
            except OSError:
                return
            accepted.append(1)
            try:
                with server_ctx.wrap_socket(raw, server_side=True) as conn:
                    conn.settimeout(10)
                    for _ in range(3):
                        if not _read_request(conn):  # type: ignore[arg-type]
                            break
                        conn.sendall(_answer(HEALTH))
            except OSError:
                continue

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        with HubClient(f"https://127.0.0.1:{port}") as client:
            for _ in range(3):
                assert client.health().hub_epoch == "h1"
                time.sleep(0.05)
    finally:
        _stop_listening(srv)
        t.join(timeout=10)
    assert accepted == [1]
