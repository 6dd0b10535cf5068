"""HTTPS to the hub: a private CA made here, a real HTTPS hub on 127.0.0.1 (uvicorn with TLS).

Site laptops trust a province's private CA (or an HTTPS-scanning antivirus)
through the Windows certificate store. The station verifies with the OS store
(``sync.tls``, truststore); until the CA is trusted, every failure says
"certificate" with what IT staff must do — never "offline" — and once it is
trusted (``TRAMTIEM_CA_FILE`` anywhere; ``SSL_CERT_FILE`` where OpenSSL is
the OS store, i.e. Linux) the station enrolls and syncs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub import service
from hub.app import HubSettings
from hub.db import Database
from hub.ingest import utc_now
from hub.server import run_hub
from station.store import Station
from sync.client import HubClient, HubTlsError, HubUnreachable
from sync.engine import SyncEngine, SyncEvent, SyncSettings
from sync.tls import CA_FILE_ENV
from tests.sync.builders import HubFixture, walk_in_with_dose
from tests.sync.pki import PrivateCA, ServerCert, make_ca
from ui import cli
from ui.bridge import LineStateChanged, from_engine_event

SITE = "DN-TEST-01"


@pytest.fixture(autouse=True)
def no_ambient_trust(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only what a test sets is trusted beyond the OS store and certifi."""
    for var in ("SSL_CERT_FILE", "SSL_CERT_DIR", CA_FILE_ENV):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def ca(tmp_path: Path) -> PrivateCA:
    return make_ca(tmp_path / "pki")


@contextmanager
def https_hub(tmp_path: Path, cert: ServerCert) -> Iterator[HubFixture]:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with run_hub(HubSettings(database_url=url), ssl_certfile=str(cert.cert), ssl_keyfile=str(cert.key)) as running:
        db = Database(url)
        service.add_site(db, SITE, "Điểm tiêm thử", "75", now=utc_now())
        try:
            yield HubFixture(running, db)
        finally:
            db.dispose()


def health_error(url: str) -> HubTlsError:
    with HubClient(url, connect_timeout_s=5.0, read_timeout_s=10.0) as client, \
            pytest.raises(HubTlsError) as info:
        client.health()
    return info.value


def test_untrusted_private_ca_is_a_certificate_error_and_trusting_it_syncs(
    tmp_path: Path, ca: PrivateCA, st: Station, staff, lot_id: str, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    with https_hub(tmp_path, ca.issue("hub")) as hub:
        url = hub.running.url
        assert url.startswith("https://127.0.0.1:")

        # 1. Not trusted: its own code (a HubUnreachable, so the engine retries), not "offline".
        err = health_error(url)
        assert err.code == "hub.tls_untrusted"
        assert isinstance(err, HubUnreachable)
        assert "Trusted Root Certification Authorities" in err.message

        # 2. Enrolling says so, and the one-time code is not spent (nothing reached the hub).
        code = service.new_enrollment_code(hub.db, SITE, ttl_hours=1, now=utc_now())
        ddir = str(st.data_dir)
        assert cli.main(["enroll", "--hub", url, "--code", code, "--data-dir", ddir]) == 5
        out = capsys.readouterr()
        assert "[hub.tls_untrusted]" in out.err and "TRAMTIEM_CA_FILE" in out.err

        # 3. IT staff trust the CA: the same code enrolls, and records sync over HTTPS.
        monkeypatch.setenv(CA_FILE_ENV, str(ca.ca_pem))
        assert cli.main(["enroll", "--hub", url, "--code", code, "--data-dir", ddir]) == 0
        walk_in_with_dose(st, staff, lot_id, id_number="075185000001", phone="0912300001")
        capsys.readouterr()
        assert cli.main(["sync", "--once", "--data-dir", ddir]) == 0, capsys.readouterr()
        assert "sync ok" in capsys.readouterr().out
        assert int(hub.scalar("SELECT count(*) FROM dose")) == 1  # type: ignore[arg-type]

        # 4. Trust withdrawn (e.g. an antivirus starts re-signing HTTPS): `tramtiem sync` tells
        #    IT staff what to do, and the window's line shows a certificate problem, not offline.
        monkeypatch.delenv(CA_FILE_ENV)
        walk_in_with_dose(st, staff, lot_id, id_number="075185000002", phone="0912300002")
        assert cli.main(["sync", "--once", "--data-dir", ddir]) == 5
        out = capsys.readouterr().out
        assert "FAILED [hub.tls_untrusted]" in out
        assert "certificate problem:" in out and "Trusted Root Certification Authorities" in out

        from sync import cli as sync_cli

        events: list[SyncEvent] = []
        engine = SyncEngine(st, sync_cli.client_factory_for(st), events=events.append,
                            settings=SyncSettings(seed=1))
        report = engine.run_once()
        assert not report.ok and report.error == "hub.tls_untrusted"
        assert report.pending_left >= 1  # the record waits; nothing is lost
        lines = [e for ev in events for e in from_engine_event(ev, datetime.now(UTC))
                 if isinstance(e, LineStateChanged)]
        assert lines[-1] == LineStateChanged("certificate", "hub.tls_untrusted")


@pytest.mark.skipif(sys.platform == "win32", reason="Windows verifies with its certificate store, "
                    "not OpenSSL's SSL_CERT_FILE (the Windows CI uses TRAMTIEM_CA_FILE, above)")
def test_the_os_store_is_used_ssl_cert_file_on_linux(tmp_path: Path, ca: PrivateCA, monkeypatch) -> None:
    """On Linux the OS store is OpenSSL's default paths: SSL_CERT_FILE makes the CA trusted.

    (certifi alone, as plain ``requests`` uses, ignores SSL_CERT_FILE: this fails without truststore.)
    """
    with https_hub(tmp_path, ca.issue("hub")) as hub:
        assert health_error(hub.running.url).code == "hub.tls_untrusted"
        monkeypatch.setenv("SSL_CERT_FILE", str(ca.ca_pem))
        with HubClient(hub.running.url) as client:
            assert client.health().status == "ok"
            assert client.trust is not None and client.trust.source == "os"


def test_expired_and_wrong_name_certificates_have_their_own_codes(tmp_path: Path, ca: PrivateCA, monkeypatch) -> None:
    monkeypatch.setenv(CA_FILE_ENV, str(ca.ca_pem))  # trusted CA: only the certificate itself is wrong
    with https_hub(tmp_path / "a", ca.issue("expired", expired=True)) as hub:
        err = health_error(hub.running.url)
        assert err.code == "hub.tls_expired" and "clock" in err.message
    with https_hub(tmp_path / "b", ca.issue("other-name", ip=None, dns="hub.tinh.example")) as hub:
        err = health_error(hub.running.url)
        assert err.code == "hub.tls_hostname"


def test_plain_http_to_an_https_hub_is_not_a_certificate_error(tmp_path: Path, ca: PrivateCA) -> None:
    """An http:// address for an https hub: the answer is garbage, reported as such (not TLS)."""
    with https_hub(tmp_path, ca.issue("hub")) as hub:
        plain = hub.running.url.replace("https://", "http://")
        with HubClient(plain, connect_timeout_s=5.0, read_timeout_s=5.0) as client, \
                pytest.raises(HubUnreachable) as info:
            client.health()
        assert not isinstance(info.value, HubTlsError)
