"""The province's relay CA and the site hub certificates it issues (hub/relay_pki.py)."""

from __future__ import annotations

import base64
import logging
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from sqlalchemy import text

from hub import relay_pki
from hub.db import Database
from hub.relay_pki import RelayPkiError, issue_relay_certificate, make_csr, relay_ca, relay_key
from sync.pinning import certificate_site
from tests.pg import PgCluster, migrated_hub_url


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    d = Database(migrated_hub_url("sqlite", tmp_path, None))
    yield d
    d.dispose()


def _csr_for(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, *, san_site: str | None = None) -> str:
    b = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "whatever the relay asks")])
    )
    if san_site:
        b = b.add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"urn:tramtiem:site:{san_site}")]),
            critical=False,
        )
    return b.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def test_the_ca_is_made_once_and_survives_a_restart(tmp_path: Path) -> None:
    url = migrated_hub_url("sqlite", tmp_path, None)
    first = Database(url)
    ca = relay_ca(first)
    first.dispose()
    again = Database(url)  # a new process, in effect
    try:
        assert relay_ca(again).fingerprint_sha256 == ca.fingerprint_sha256
        assert relay_pki.province_ca_pem(again) == ca.cert_pem
    finally:
        again.dispose()
    cert = ca.cert
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert "PRIVATE" not in repr(ca)


def test_a_relay_certificate_names_the_enrolled_site_whatever_the_csr_asks(db: Database, tmp_path: Path) -> None:
    ca = relay_ca(db)
    key = relay_key(tmp_path / "relay")
    # The CSR asks for another site: the province signs for the site of the enrollment only.
    issued = issue_relay_certificate(ca, _csr_for(key, san_site="OTHER"), "DN-0042")
    cert = x509.load_pem_x509_certificate(issued.cert_pem.encode())
    assert certificate_site(cert) == "DN-0042"
    assert issued.fingerprint_sha256 == relay_pki.fingerprint(cert) and len(issued.fingerprint_sha256) == 64
    assert cert.public_key() == key.public_key()  # the relay's own key: it never left the relay
    assert cert.issuer == ca.cert.subject
    ca.cert.public_key().verify(  # type: ignore[union-attr]
        cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm)  # type: ignore[arg-type]
    )
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert relay_pki.RELAY_CERT_DAYS <= days <= relay_pki.RELAY_CERT_DAYS + 1
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_bad_requests_are_refused_with_a_code(db: Database, tmp_path: Path) -> None:
    ca = relay_ca(db)
    key = relay_key(tmp_path / "relay")
    good = make_csr(key, "DN-0042")
    cases = {
        "relay.csr_invalid": [("not a csr", "DN-0042"), ("-" * 9000, "DN-0042")],
        "relay.site_code": [(good, "bad code!"), (good, ""), (good, "x" * 33)],
        "relay.csr_key": [(_csr_for(rsa.generate_private_key(65537, 1024)), "DN-0042"),
                          (_csr_for(ec.generate_private_key(ec.SECP256K1())), "DN-0042")],
    }
    for code, inputs in cases.items():
        for csr, site in inputs:
            with pytest.raises(RelayPkiError) as err:
                issue_relay_certificate(ca, csr, site)
            assert err.value.code == code and err.value.status == 400
    # A CSR whose signature does not match its key (tampered in transit): refused.
    other = ec.generate_private_key(ec.SECP256R1())
    csr = x509.load_pem_x509_csr(good.encode())
    forged = (
        x509.CertificateSigningRequestBuilder().subject_name(csr.subject).sign(other, hashes.SHA256())
    )
    der = bytearray(forged.public_bytes(serialization.Encoding.DER))
    der[-5] ^= 0xFF  # break the signature
    pem = ("-----BEGIN CERTIFICATE REQUEST-----\n" + base64.encodebytes(bytes(der)).decode()
           + "-----END CERTIFICATE REQUEST-----\n")
    with pytest.raises(RelayPkiError) as err:
        issue_relay_certificate(ca, pem, "DN-0042")
    assert err.value.code == "relay.csr_invalid"
    with pytest.raises(RelayPkiError):
        issue_relay_certificate(ca, good, "DN-0042", days=10_000)


def test_the_validity_is_bounded_by_the_ca(db: Database, tmp_path: Path) -> None:
    ca = relay_ca(db)
    late = ca.cert.not_valid_after_utc - timedelta(days=3)
    issued = issue_relay_certificate(ca, make_csr(relay_key(tmp_path), "S1"), "S1", now=late)
    cert = x509.load_pem_x509_certificate(issued.cert_pem.encode())
    assert cert.not_valid_after_utc <= ca.cert.not_valid_after_utc


def test_tls_files_are_private_and_match_the_key(db: Database, tmp_path: Path) -> None:
    d = tmp_path / "relay"
    key = relay_key(d)
    assert stat.S_IMODE((d / "relay.key").stat().st_mode) == 0o600
    assert relay_key(d).private_numbers() == key.private_numbers()  # kept, not remade
    issued = issue_relay_certificate(relay_ca(db), make_csr(key, "S1"), "S1")
    certfile, keyfile = relay_pki.write_tls_files(d, issued.cert_pem)
    for f in (certfile, keyfile):
        assert stat.S_IMODE(f.stat().st_mode) == 0o600
    other = issue_relay_certificate(relay_ca(db), make_csr(ec.generate_private_key(ec.SECP256R1()), "S1"), "S1")
    with pytest.raises(RelayPkiError) as err:
        relay_pki.write_tls_files(d, other.cert_pem)
    assert err.value.code == "relay.cert_mismatch"


def test_no_key_material_in_the_logs(db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    ca = relay_ca(db)
    issue_relay_certificate(ca, make_csr(relay_key(tmp_path), "S1"), "S1")
    text = caplog.text
    assert "made the province's relay CA" in text and "issued a site hub certificate" in text
    assert "PRIVATE KEY" not in text and "BEGIN" not in text


def test_a_passphrase_encrypts_the_stored_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(relay_pki.PASSPHRASE_ENV, "mật khẩu của tỉnh")
    db = Database(migrated_hub_url("sqlite", tmp_path, None))
    try:
        ca = relay_ca(db)
        with db.read() as s:
            stored = s.execute(text("SELECT value FROM hub_meta WHERE key = 'relay_ca'")).scalar_one()
        assert "ENCRYPTED PRIVATE KEY" in stored
        assert relay_ca(db).fingerprint_sha256 == ca.fingerprint_sha256
        monkeypatch.setenv(relay_pki.PASSPHRASE_ENV, "wrong")
        with pytest.raises(RelayPkiError) as err:
            relay_ca(db)
        assert err.value.code == "relay.ca_locked" and "wrong" not in err.value.message
    finally:
        db.dispose()


@pytest.mark.parametrize("trial", range(5))
def test_processes_racing_to_make_the_ca_on_postgresql_agree(pg: PgCluster | None, tmp_path: Path, trial: int) -> None:
    """Read-then-write at first use: eight hub processes (own engines) asking at once get one CA."""
    if pg is None:
        pytest.skip("PostgreSQL is not installed")
    url = pg.create_migrated_database()
    dbs = [Database(url) for _ in range(8)]
    barrier = threading.Barrier(len(dbs))
    got: list[str] = []
    errors: list[BaseException] = []

    def ask(d: Database) -> None:
        try:
            barrier.wait(timeout=30)
            got.append(relay_ca(d, now=datetime.now(UTC)).fingerprint_sha256)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(d,)) for d in dbs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    for d in dbs:
        d.dispose()
    assert not errors, errors
    assert len(got) == len(dbs) and len(set(got)) == 1
