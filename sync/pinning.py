"""TLS to the site hub: trust one certificate (a pin), or the province's relay CA for this site.

A site hub on the LAN has no public name and an address DHCP may change, so the
usual check (a CA the OS trusts, the host name in the certificate) does not fit.
Its certificate is issued by the province hub (``hub.relay_pki``) instead, and a
station accepts the site hub only when, after the handshake and before a byte of
data is sent:

* **pin**: the SHA-256 fingerprint of the certificate the server presented equals
  the pinned one (``fingerprint=``), which the station learnt from a channel it
  trusts (the province at enrollment, or IT staff); the handshake itself proves the
  server holds that certificate's private key; and/or
* **chain**: the certificate chains to the province's relay CA (``ca_pem=``, the
  only root trusted; the OS store is not used) *and* names this station's own site
  (SAN ``URI:urn:tramtiem:site:<code>``, ``site_code=``). A laptop of another site
  has a valid certificate too, for its own site: refused.

Both given: both must hold. In every case the certificate must be within its
validity dates, and its fingerprint must not be on the province's list of revoked site
hub certificates (``revoked=``: a callable read at each handshake, so a revocation the
desk learns on its direct route holds from its next connection; ``sync.revocations``). The DNS-SD announcement's ``fp=`` is a hint, never a pin: anyone on
the Wi-Fi can announce anything. A refusal raises ``ssl.SSLCertVerificationError``
from ``wrap_socket``, marked ``site_hub`` (``sync.client`` reports it as
``hub.tls_site_hub``, ``hub.tls_site_hub_revoked`` for a revoked one, or
``hub.tls_expired`` for a certificate out of date), and the socket is closed.

The context is an ``ssl.SSLContext`` for blocking sockets (``wrap_socket``: what
``sync.client.HubClient`` and ``http.client`` use); ``wrap_bio`` (asyncio) is refused
rather than left unchecked.
"""

from __future__ import annotations

import hashlib
import re
import socket
import ssl
from collections.abc import Callable, Collection
from datetime import UTC, datetime

from cryptography import x509

from kernel.relay_site import SITE_URI_PREFIX, certificate_site
from sync.tls import SiteHubRefused

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
# The verify codes sync.client maps: OpenSSL's X509_V_ERR_CERT_HAS_EXPIRED / _NOT_YET_VALID.
_EXPIRED = 10
_NOT_YET_VALID = 9


def normalize_fingerprint(value: str) -> str:
    """``AB:CD:…`` or ``abcd…`` (SHA-256, 64 hex digits) -> lowercase hex; ValueError otherwise."""
    fp = value.strip().replace(":", "").replace(" ", "").lower()
    if not _HEX64.match(fp):
        raise ValueError("a SHA-256 fingerprint is 64 hexadecimal digits")
    return fp


def der_fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest()


RevokedSource = Callable[[], Collection[str]]


def _refuse(message: str, verify_code: int = 0, *, revoked: bool = False) -> SiteHubRefused:
    exc = SiteHubRefused(1, f"[CERTIFICATE_VERIFY_FAILED] certificate verify failed: {message}")
    exc.verify_code = verify_code
    exc.verify_message = message
    exc.reason = "CERTIFICATE_VERIFY_FAILED"
    exc.revoked = revoked
    return exc


class PinnedContext(ssl.SSLContext):
    """A client context that accepts the site hub only (see the module's docstring)."""

    _pin: str | None = None
    _site: str | None = None
    _revoked: RevokedSource | None = None

    def wrap_socket(
        self,
        sock: socket.socket,
        server_side: bool = False,
        do_handshake_on_connect: bool = True,
        suppress_ragged_eofs: bool = True,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLSocket:
        if not do_handshake_on_connect or server_side:
            raise ValueError("the pinned context is for clients, with the handshake in wrap_socket")
        try:
            tls = super().wrap_socket(
                sock, server_side, do_handshake_on_connect, suppress_ragged_eofs, server_hostname, session
            )
        except SiteHubRefused:
            raise
        except ssl.SSLCertVerificationError as exc:
            # OpenSSL's own refusal (no chain to the relay CA, out of date): still "not this
            # site's hub" for the client, not "install a CA in Windows".
            raise _refuse(str(exc.verify_message or exc), exc.verify_code) from exc
        try:
            self.check(tls.getpeercert(binary_form=True))
        except BaseException:
            tls.close()  # nothing was sent: the refusal happens before any request
            raise
        return tls

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        raise NotImplementedError("the pinned context checks on wrap_socket only (blocking sockets)")

    def check(self, der: bytes | None) -> None:
        """Raise ``ssl.SSLCertVerificationError`` unless ``der`` is the site hub's certificate."""
        if not der:
            raise _refuse("the server presented no certificate")
        fp = der_fingerprint(der)
        if self._revoked is not None and fp in self._revoked():
            raise _refuse("the province revoked this site hub certificate", revoked=True)
        if self._pin is not None and fp != self._pin:
            raise _refuse("not the pinned site hub certificate")
        cert = x509.load_der_x509_certificate(der)
        now = datetime.now(UTC)
        if now > cert.not_valid_after_utc:
            raise _refuse("certificate has expired", _EXPIRED)
        if now < cert.not_valid_before_utc:
            raise _refuse("certificate is not yet valid", _NOT_YET_VALID)
        # The chain itself was verified by OpenSSL (CERT_REQUIRED, the relay CA the only root).
        if self._site is not None and certificate_site(cert) != self._site:
            raise _refuse("the certificate is for another site")


def pinned_context(
    *,
    fingerprint: str | None = None,
    ca_pem: str | None = None,
    site_code: str | None = None,
    revoked: RevokedSource | Collection[str] = (),
) -> PinnedContext:
    """A client ``ssl.SSLContext`` for the site hub: a pin, a chain to the relay CA + site, or both.

    ``ca_pem`` needs ``site_code`` (a chain alone would accept any site's hub). Host names
    are not checked (a LAN address from DHCP): the pin or the site code is the identity.
    ``revoked``: fingerprints (lowercase hex) refused whatever else holds, or a callable
    returning them, called at each handshake.
    """
    if fingerprint is None and ca_pem is None:
        raise ValueError("a pinned context needs a fingerprint, or the relay CA and a site code")
    if ca_pem is not None and not site_code:
        raise ValueError("a chain to the relay CA is trusted only with this station's site code")
    ctx = PinnedContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False
    ctx._pin = normalize_fingerprint(fingerprint) if fingerprint is not None else None
    ctx._site = site_code if ca_pem is not None else None
    if callable(revoked):
        ctx._revoked = revoked
    else:
        fixed = frozenset(revoked)
        ctx._revoked = lambda: fixed
    if ca_pem is not None:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cadata=ca_pem)  # the only root: not the OS store, not certifi
    else:
        # A pin alone: OpenSSL has no root to build a chain to. The handshake still proves the
        # server owns the presented certificate's key; check() compares it with the pin.
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


__all__ = [
    "SITE_URI_PREFIX",
    "PinnedContext",
    "RevokedSource",
    "certificate_site",
    "der_fingerprint",
    "normalize_fingerprint",
    "pinned_context",
]
