"""The site hub's identity: a certificate the province hub issues, and the files it serves with.

A site hub (relay) serves the site's stations over HTTPS on the LAN. Its identity
comes from the province hub, never from itself:

* the **province** keeps a small certificate authority of its own, the *relay CA*
  (an ECDSA P-256 key and a self-signed CA certificate), made at first use and kept
  in the hub database (``hub_meta``, key ``relay_ca``) so every hub process and every
  restart sign with the same one; two processes making it at once agree (the row's
  primary key lets one insert win, the other re-reads it). The key is never logged
  nor returned by any endpoint; ``TRAMTIEM_HUB_RELAY_CA_PASSPHRASE``, when set when
  the CA is made, encrypts it at rest (then it must stay set);
* the **relay** makes its own key pair (:func:`relay_key`, a file with mode 0600 in its
  data directory) and a certificate signing request (:func:`make_csr`); only the
  CSR travels: the relay's private key never leaves it;
* the province **signs** (:func:`issue_relay_certificate`) with a subject and SAN it
  decides from the site code of the relay's enrollment, whatever the CSR asks for:
  ``CN=Trạm Tiêm site hub <code>``, SAN ``URI:urn:tramtiem:site:<code>`` (and the
  DNS name ``<code>.site-hub.tramtiem.invalid`` for tools that want one), server
  authentication only, valid :data:`RELAY_CERT_DAYS` days;
* stations trust it by the SHA-256 fingerprint of the certificate, or by a chain to
  the province's relay CA with their own site code in the SAN (``kernel.relay_site``).

:func:`write_tls_files` writes the key and certificate for uvicorn's
``ssl_keyfile``/``ssl_certfile`` with mode 0600.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NamedTuple

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from sqlalchemy import text
from sqlalchemy.orm import Session

from hub.db import Database
from hub.errors import HubError
from kernel.relay_site import SITE_URI_PREFIX, certificate_site

log = logging.getLogger(__name__)

META_KEY = "relay_ca"
PASSPHRASE_ENV = "TRAMTIEM_HUB_RELAY_CA_PASSPHRASE"
CA_DAYS = 20 * 365  # the CA outlives any site hub; re-keying it means re-issuing every relay
RELAY_CERT_DAYS = 397  # a year and a month: renewed at each re-enrollment
MAX_RELAY_CERT_DAYS = 825
MAX_CSR_BYTES = 8192
DNS_SUFFIX = ".site-hub.tramtiem.invalid"
# The wire's SiteCode (kernel.wire): letters, digits, '-' and '_', at most 32.
_SITE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_BACKDATE = timedelta(minutes=5)  # a station whose clock is a little behind still accepts it


class RelayPkiError(HubError):
    """A CSR the province will not sign (400 ``relay.csr_invalid``, ``relay.site_code``...)."""


class IssuedCert(NamedTuple):
    """A relay certificate (PEM) and its SHA-256 fingerprint (lowercase hex of the DER)."""

    cert_pem: str
    fingerprint_sha256: str


@dataclass(frozen=True, slots=True)
class RelayCA:
    """The province's relay CA. ``repr`` shows no key."""

    cert: x509.Certificate
    _key: ec.EllipticCurvePrivateKey

    @property
    def cert_pem(self) -> str:
        return self.cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def fingerprint_sha256(self) -> str:
        return fingerprint(self.cert)

    def __repr__(self) -> str:
        return f"RelayCA(fingerprint={self.fingerprint_sha256[:16]}…)"


def fingerprint(cert: x509.Certificate | str | bytes) -> str:
    """SHA-256 of the certificate's DER, lowercase hex (64 characters): what stations pin."""
    if isinstance(cert, str):
        cert = x509.load_pem_x509_certificate(cert.encode("ascii"))
    elif isinstance(cert, bytes):
        cert = x509.load_der_x509_certificate(cert)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def not_after(cert_pem: str) -> datetime:
    """The certificate's end of validity (UTC)."""
    return x509.load_pem_x509_certificate(cert_pem.encode("ascii")).not_valid_after_utc


def check_site_code(site_code: str) -> str:
    if not isinstance(site_code, str) or not _SITE_CODE.match(site_code):
        raise RelayPkiError(400, "relay.site_code", "not a site code")
    return site_code


# ---- the province's CA -----------------------------------------------------------------


def _passphrase() -> bytes | None:
    raw = os.environ.get(PASSPHRASE_ENV, "")
    return raw.encode("utf-8") if raw else None


def _new_ca(now: datetime) -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Trạm Tiêm"),
        x509.NameAttribute(NameOID.COMMON_NAME, "Trạm Tiêm province relay CA"),
    ])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _BACKDATE)
        .not_valid_after(now + timedelta(days=CA_DAYS))
        # pathlen 0: it signs site hubs only, never another CA.
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )
    secret = _passphrase()
    enc: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(secret) if secret else serialization.NoEncryption()
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, enc)
    return key_pem.decode("ascii"), cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _load(value: str) -> RelayCA:
    raw = json.loads(value)
    try:
        key = serialization.load_pem_private_key(raw["key"].encode("ascii"), password=_passphrase())
    except (TypeError, ValueError):
        # Wrong or missing passphrase: say which setting, never anything of the key.
        raise RelayPkiError(
            500, "relay.ca_locked", f"the relay CA key cannot be read: check {PASSPHRASE_ENV}"
        ) from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise RelayPkiError(500, "relay.ca_invalid", "the stored relay CA key is not an EC key")
    return RelayCA(x509.load_pem_x509_certificate(raw["cert"].encode("ascii")), key)


def _stored(s: Session) -> str | None:
    value = s.execute(text("SELECT value FROM hub_meta WHERE key = :k"), {"k": META_KEY}).scalar_one_or_none()
    return None if value is None else str(value)


def relay_ca(db: Database, *, now: datetime | None = None) -> RelayCA:
    """The province's relay CA, made and stored at first use (every process gets the same one)."""
    with db.read() as s:
        value = _stored(s)
    if value is None:
        key_pem, cert_pem = _new_ca(now or datetime.now(UTC))
        blob = json.dumps({"key": key_pem, "cert": cert_pem})

        def store(s: Session) -> str:
            current = _stored(s)
            if current is not None:
                return current  # another process made it first: use theirs
            # A racing insert of the same primary key fails one of the two; run_write re-runs
            # the loser, which then reads the winner's row above.
            s.execute(text("INSERT INTO hub_meta (key, value) VALUES (:k, :v)"), {"k": META_KEY, "v": blob})
            return blob

        value = db.run_write(store)
        if value == blob:
            log.info("made the province's relay CA (fingerprint %s)", fingerprint(cert_pem)[:16])
    return _load(value)


def province_ca_pem(db: Database) -> str:
    """The relay CA's certificate (PEM), for stations: they may trust a relay by a chain to it.

    Reads the certificate only: a station's enrollment never needs the CA's key (nor its
    passphrase) once the CA exists.
    """
    with db.read() as s:
        value = _stored(s)
    if value is None:
        return relay_ca(db).cert_pem
    cert = json.loads(value)["cert"]
    return str(cert)


def issue_relay_certificate(
    ca: RelayCA,
    csr_pem: str | bytes,
    site_code: str,
    *,
    now: datetime | None = None,
    days: int = RELAY_CERT_DAYS,
) -> IssuedCert:
    """Sign the relay's CSR for ``site_code`` (the site of its enrollment, not what the CSR says).

    Checks the CSR's own signature (the relay holds the key) and its key (EC P-256/P-384, or
    RSA of at least 2048 bits); takes nothing else from it. Raises :class:`RelayPkiError`
    (400) for a CSR that is too large, unreadable, badly signed or has a weak key.
    """
    check_site_code(site_code)
    if not 1 <= days <= MAX_RELAY_CERT_DAYS:
        raise RelayPkiError(400, "relay.validity", f"1..{MAX_RELAY_CERT_DAYS} days")
    data = csr_pem.encode("ascii", "replace") if isinstance(csr_pem, str) else csr_pem
    if len(data) > MAX_CSR_BYTES:
        raise RelayPkiError(400, "relay.csr_invalid", "the certificate request is too large")
    try:
        csr = x509.load_pem_x509_csr(data)
        signed = csr.is_signature_valid
        public_key = csr.public_key()
    except (ValueError, TypeError, InvalidSignature, x509.UnsupportedGeneralNameType):
        raise RelayPkiError(400, "relay.csr_invalid", "not a PEM certificate request") from None
    if not signed:
        raise RelayPkiError(400, "relay.csr_invalid", "the certificate request's signature is wrong")
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        if public_key.curve.name not in ("secp256r1", "secp384r1"):
            raise RelayPkiError(400, "relay.csr_key", "EC keys on P-256 or P-384 only")
    elif isinstance(public_key, rsa.RSAPublicKey):
        if public_key.key_size < 2048:
            raise RelayPkiError(400, "relay.csr_key", "RSA keys of 2048 bits or more only")
    else:
        raise RelayPkiError(400, "relay.csr_key", "EC or RSA keys only")
    when = now or datetime.now(UTC)
    not_after = min(when + timedelta(days=days), ca.cert.not_valid_after_utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Trạm Tiêm"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"site {site_code}"),
            x509.NameAttribute(NameOID.COMMON_NAME, f"Trạm Tiêm site hub {site_code}"),
        ]))
        .issuer_name(ca.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(when - _BACKDATE)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False,
                key_encipherment=isinstance(public_key, rsa.RSAPublicKey), data_encipherment=False,
                key_agreement=False, key_cert_sign=False, crl_sign=False,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([
                x509.UniformResourceIdentifier(SITE_URI_PREFIX + site_code),
                x509.DNSName(site_dns_name(site_code)),
            ]),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca._key.public_key()), critical=False
        )
        .sign(ca._key, hashes.SHA256())
    )
    fp = fingerprint(cert)
    log.info("issued a site hub certificate (fingerprint %s, valid to %s)", fp[:16], not_after.date())
    return IssuedCert(cert.public_bytes(serialization.Encoding.PEM).decode("ascii"), fp)


def site_dns_name(site_code: str) -> str:
    """The DNS name in a relay certificate: ``<code>.site-hub.tramtiem.invalid`` (lowercase, '_' as '-')."""
    return site_code.lower().replace("_", "-") + DNS_SUFFIX


def issue_for_enrollment(db: Database, code: str, csr_pem: str, *, now: datetime) -> dict[str, str] | None:
    """The ``tls`` of a relay enrollment answer: the CSR signed for the relay code's site.

    None when the code is unknown, used or expired (the enrollment itself then refuses it
    with its own error; nothing is signed for a code that will not enroll). A bad CSR is
    refused (400 ``relay.csr_invalid``/``relay.csr_key``) *before* the code is spent.
    """
    from hub.models import RelayCode
    from hub.service import normalise_code
    from hub.timestamps import parse_ts
    from sync.protocol import token_hash

    with db.read() as s:
        row = s.get(RelayCode, token_hash(normalise_code(code)))
        site = None
        if row is not None and row.used_at is None:
            expires = parse_ts(row.expires_at)
            if expires is not None and expires > now:
                site = row.site_code
    if site is None:
        return None
    ca = relay_ca(db, now=now)
    issued = issue_relay_certificate(ca, csr_pem, site, now=now)
    return {"cert_pem": issued.cert_pem, "fingerprint": issued.fingerprint_sha256, "ca_pem": ca.cert_pem}


# ---- the relay's side ------------------------------------------------------------------

RELAY_KEY_FILE = "relay.key"
RELAY_CERT_FILE = "relay.crt"


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600 from the first byte (replacing it atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def relay_key(data_dir: Path) -> ec.EllipticCurvePrivateKey:
    """The relay's private key (``data_dir/relay.key``, mode 0600), made at first use."""
    path = Path(data_dir) / RELAY_KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise RelayPkiError(500, "relay.key_invalid", f"{RELAY_KEY_FILE} is not an EC key")
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    _write_private(path, key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ))
    return key


def make_csr(key: ec.EllipticCurvePrivateKey, site_code: str | None = None) -> str:
    """A CSR (PEM) for ``key``; the province decides the certificate's names anyway.

    ``site_code`` may be unknown (a site hub enrolling learns its site from the answer).
    """
    cn = "Trạm Tiêm site hub"
    if site_code is not None:
        cn += " " + check_site_code(site_code)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode("ascii")


def write_tls_files(data_dir: Path, cert_pem: str, key: ec.EllipticCurvePrivateKey | None = None) -> tuple[Path, Path]:
    """Store the issued certificate next to the relay key: (certfile, keyfile), both 0600.

    ``key`` given (a fresh key): it is written too. The certificate must be for the key
    (a certificate for another key would serve nothing but handshake failures).
    """
    d = Path(data_dir)
    if key is not None:
        _write_private(d / RELAY_KEY_FILE, key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ))
    key = relay_key(d)
    cert = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    if cert.public_key() != key.public_key():
        raise RelayPkiError(400, "relay.cert_mismatch", "the certificate is not for this relay's key")
    _write_private(d / RELAY_CERT_FILE, cert_pem.encode("ascii"))
    return d / RELAY_CERT_FILE, d / RELAY_KEY_FILE


__all__ = [
    "MAX_RELAY_CERT_DAYS",
    "PASSPHRASE_ENV",
    "RELAY_CERT_DAYS",
    "SITE_URI_PREFIX",
    "IssuedCert",
    "RelayCA",
    "RelayPkiError",
    "certificate_site",
    "check_site_code",
    "fingerprint",
    "issue_for_enrollment",
    "issue_relay_certificate",
    "make_csr",
    "not_after",
    "province_ca_pem",
    "relay_ca",
    "relay_key",
    "site_dns_name",
    "write_tls_files",
]
