"""Site hub certificates for tests: issued by a province's relay CA (hub.relay_pki), and the bad ones.

``make_certs(dir, site)`` gives the province's CA (in a real hub database) and, each as
key+cert files for uvicorn with its SHA-256 fingerprint: ``good`` (this site, the
province's CA), ``other_site`` (the same CA, another site), ``self_signed`` (made by the
server itself, naming this site), ``other_ca`` (another province's CA, this site) and
``expired`` (the province's CA, this site, out of date).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from hub import relay_pki
from hub.db import Database
from tests.pg import migrated_hub_url


@dataclass(frozen=True)
class Served:
    certfile: Path
    keyfile: Path
    fingerprint: str

    @property
    def dir(self) -> Path:
        return self.certfile.parent


@dataclass(frozen=True)
class Certs:
    ca_pem: str
    ca_file: Path
    good: Served
    other_site: Served
    self_signed: Served
    other_ca: Served
    expired: Served


def _ca(path: Path) -> relay_pki.RelayCA:
    db = Database(migrated_hub_url("sqlite", path.parent, None, name=path.name))
    try:
        return relay_pki.relay_ca(db)
    finally:
        db.dispose()


def _issue(ca: relay_pki.RelayCA, d: Path, site: str, **kw: object) -> Served:
    key = relay_pki.relay_key(d)
    issued = relay_pki.issue_relay_certificate(ca, relay_pki.make_csr(key, site), site, **kw)  # type: ignore[arg-type]
    certfile, keyfile = relay_pki.write_tls_files(d, issued.cert_pem)
    return Served(certfile, keyfile, issued.fingerprint_sha256)


def _self_signed(d: Path, site: str) -> Served:
    key = relay_pki.relay_key(d)
    now = datetime.now(UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"Trạm Tiêm site hub {site}")])
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName(
            [x509.UniformResourceIdentifier(relay_pki.SITE_URI_PREFIX + site)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    certfile, keyfile = relay_pki.write_tls_files(d, pem)
    return Served(certfile, keyfile, relay_pki.fingerprint(cert))


def make_certs(root: Path, site: str, other_site: str = "OTHER-SITE") -> Certs:
    province = _ca(root / "province-hub")
    stranger = _ca(root / "other-province-hub")
    ca_file = root / "relay-ca.pem"
    ca_file.write_text(province.cert_pem)
    long_ago = datetime.now(UTC) - timedelta(days=60)
    return Certs(
        ca_pem=province.cert_pem,
        ca_file=ca_file,
        good=_issue(province, root / "good", site),
        other_site=_issue(province, root / "other-site", other_site),
        self_signed=_self_signed(root / "self-signed", site),
        other_ca=_issue(stranger, root / "other-ca", site),
        expired=_issue(province, root / "expired", site, now=long_ago, days=30),
    )


__all__ = ["Certs", "Served", "make_certs"]
