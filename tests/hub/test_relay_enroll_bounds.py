"""A site hub enrolling with a province that answers too much (issue 14: nothing on the wire is trusted).

The province's answer to ``relay enroll`` carries the site hub's certificate in ``tls``; the
site hub parses it with bounds like every value it reads (sync.protocol.RelayEnrollResponse).
A real HTTP server on 127.0.0.1 plays a broken or hostile province.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from sqlalchemy import text

from hub import site_link
from hub.db import Database
from hub.relay_pki import RelayPkiError
from hub.upstream import UpstreamError
from tests.pg import migrated_sqlite_url


def _answer(tls: object) -> bytes:
    return json.dumps(
        {
            "protocol_version": 1,
            "relay_id": str(uuid.uuid4()),
            "site_code": "DN-BD-01",
            "site_name": "Trạm y tế",
            "token": "t" * 43,
            "hub_epoch": "e" * 32,
            "tls": tls,
        }
    ).encode()


@pytest.fixture
def province() -> Iterator[tuple[str, list[bytes]]]:
    answers: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            body = answers.pop(0)
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", answers
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _token(db: Database) -> object:
    with db.read() as s:
        return s.execute(text("SELECT value FROM hub_meta WHERE key = :k"), {"k": site_link.META_TOKEN}).scalar()


@pytest.mark.parametrize(
    "tls",
    [
        {"cert_pem": "x" * 9000},  # a value over 8 KB
        {f"k{i}": "v" for i in range(9)},  # more than 8 keys
        {"k" * 33: "v"},  # a key over 32 characters
        {"cert_pem": 7},  # not text
    ],
    ids=["long-value", "many-keys", "long-key", "not-text"],
)
def test_an_oversized_certificate_answer_is_refused_and_nothing_kept(
    tmp_path: Path, province: tuple[str, list[bytes]], tls: object
) -> None:
    url, answers = province
    db = Database(migrated_sqlite_url(tmp_path / "site-hub.db"))
    try:
        answers.append(_answer(tls))
        with pytest.raises(UpstreamError) as exc:
            site_link.enroll(db, url, "ABCD-EFGH-JKMN", data_dir=tmp_path / "data")
        assert exc.value.code == "province.bad_response"
        assert _token(db) is None  # no credential half-kept
    finally:
        db.dispose()


def test_a_bounded_answer_is_read_and_then_checked(tmp_path: Path, province: tuple[str, list[bytes]]) -> None:
    """Within the bounds the answer is parsed; a certificate that is not one is refused next."""
    url, answers = province
    db = Database(migrated_sqlite_url(tmp_path / "site-hub.db"))
    try:
        answers.append(_answer({"cert_pem": "x" * 8192, "ca_pem": "y", "fingerprint": "f" * 64}))
        with pytest.raises(RelayPkiError) as exc:
            site_link.enroll(db, url, "ABCD-EFGH-JKMN", data_dir=tmp_path / "data")
        assert exc.value.code == "relay.no_certificate"
    finally:
        db.dispose()
