"""Which certificates the station trusts when it talks to the hub over HTTPS.

Site laptops run Windows, where IT staff install a private CA (the province's
own, or the one an HTTPS-scanning antivirus re-signs traffic with) into the
**Windows certificate store**. ``requests`` on its own trusts only certifi's
copy of Mozilla's list, so such a hub would never be trusted. The station
therefore verifies with the operating system's trust store through
``truststore`` (Windows: CryptoAPI and the Windows store; macOS: the
Keychain; Linux: OpenSSL's default paths, which honour ``SSL_CERT_FILE`` and
``SSL_CERT_DIR``), with two additions loaded into the same context:

* certifi's bundle, as a fallback where the OS store is missing or empty (a
  minimal Linux box): truststore then also accepts a chain to one of those
  roots (on Windows through a second chain engine that trusts exactly them);
* ``TRAMTIEM_CA_FILE`` (a PEM file with one or more CA certificates), for a
  laptop whose store IT staff cannot change: works on every platform.

When ``truststore`` cannot be imported (it needs Python >= 3.10) the station
falls back to certifi plus ``TRAMTIEM_CA_FILE``: it still verifies, it only
misses the OS store. Verification is never switched off.
"""

from __future__ import annotations

import logging
import os
import ssl
from dataclasses import dataclass

import certifi

log = logging.getLogger(__name__)

CA_FILE_ENV = "TRAMTIEM_CA_FILE"


class SiteHubRefused(ssl.SSLCertVerificationError):
    """``sync.pinning`` refused the server: not this site's hub (``hub.tls_site_hub``).

    Defined here, not in ``sync.pinning``, so the client can tell it apart without importing
    the certificate parser on every start. ``revoked``: the certificate is on the province's
    list of revoked site hub certificates (``hub.tls_site_hub_revoked``).
    """

    revoked: bool = False


@dataclass(frozen=True, slots=True)
class TrustInfo:
    """What a context trusts, for ``--selftest`` and the logs (no secrets in it)."""

    source: str  # "os" (truststore), "certifi" (the fallback) or "pinned" (sync.pinning, the site hub)
    extra_ca_file: str | None


def extra_ca_file() -> str | None:
    """``TRAMTIEM_CA_FILE`` when it names a readable file, else None (a typo is logged)."""
    path = os.environ.get(CA_FILE_ENV, "").strip()
    if not path:
        return None
    if not os.path.isfile(path):
        log.warning("%s names no file; it is ignored", CA_FILE_ENV)
        return None
    return path


def make_ssl_context() -> tuple[ssl.SSLContext, TrustInfo]:
    """A client context that verifies the hub against the OS store (+ certifi, + the extra CA)."""
    extra = extra_ca_file()
    ctx: ssl.SSLContext
    try:
        import truststore

        ctx = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        source = "os"
    except ImportError:  # pragma: no cover - truststore is a dependency; kept for odd builds
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
        source = "certifi"
    ctx.load_verify_locations(cafile=certifi.where())
    if extra is not None:
        try:
            ctx.load_verify_locations(cafile=extra)
        except (ssl.SSLError, OSError, ValueError):
            # A file that is not PEM must not stop the station: say so in the log and go on
            # with the OS store (the hub then shows the certificate error, with its hint).
            log.warning("%s could not be read as PEM certificates; it is ignored", CA_FILE_ENV)
            extra = None
    return ctx, TrustInfo(source, extra)


__all__ = ["CA_FILE_ENV", "TrustInfo", "extra_ca_file", "make_ssl_context"]
