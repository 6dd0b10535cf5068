"""The hub client's exceptions (``sync.client`` re-exports them: import them from there).

Kept apart for ``sync.client``'s size. Every one carries a stable ``code``, never
personal data; the tree is in ``sync.client``'s docstring.
"""

from __future__ import annotations

from collections.abc import Mapping


class HubError(Exception):
    """Base of every client error: ``code`` is stable, ``status`` the HTTP status if any."""

    def __init__(self, code: str, message: str = "", *, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.status = status


class HubUnreachable(HubError):
    """Transient: network down, connection refused/reset, timeout, 5xx, garbled answer."""


class HubTimeout(HubUnreachable):
    """No complete answer in time; the request may have been applied."""


class HubTlsError(HubUnreachable):
    """The TLS handshake failed on the certificate: no data was exchanged.

    Codes (:data:`TLS_CODES`): ``hub.tls_untrusted`` (issued by a CA this laptop
    does not trust: a private CA or an HTTPS-scanning antivirus),
    ``hub.tls_expired``, ``hub.tls_hostname`` (issued for another name than the
    hub address), ``hub.tls_site_hub`` (a site hub refused by ``sync.pinning``: not
    the certificate the province issued for this site), ``hub.tls_site_hub_revoked`` (one
    the province revoked: a replaced or stolen site hub), ``hub.tls_error`` (any other
    handshake failure). The message
    tells IT staff what to do (``tramtiem sync`` and ``enroll`` print it; the
    window shows a translated text for the code).
    """


TLS_CODES = frozenset(
    {"hub.tls_untrusted", "hub.tls_expired", "hub.tls_hostname", "hub.tls_error", "hub.tls_site_hub",
     "hub.tls_site_hub_revoked"}
)

TLS_HINTS = {
    "hub.tls_untrusted": (
        "the hub's certificate is issued by an authority this computer does not trust "
        "(a private CA, or an antivirus that scans HTTPS). IT staff: install the CA "
        "certificate in the Windows certificate store (Trusted Root Certification "
        "Authorities), or point TRAMTIEM_CA_FILE at a PEM copy of it; see docs/it-guide.md"
    ),
    "hub.tls_expired": (
        "the hub's certificate has expired (or this computer's date is wrong): check the "
        "clock, then ask the hub's administrator to renew the certificate"
    ),
    "hub.tls_hostname": (
        "the hub's certificate is for another name than the address this station uses: "
        "enroll with the name written in the certificate, or ask for a certificate for this name"
    ),
    "hub.tls_error": (
        "the secure connection to the hub failed (TLS handshake): check the address "
        "(https:// for an https hub) and any proxy or antivirus between here and the hub"
    ),
    "hub.tls_site_hub": (
        "this is not the site hub of this station's site: its certificate is not the one the "
        "province issued for this site (another site's hub, or a stranger's machine). Nothing "
        "was sent to it; IT staff: check the site hub's address (docs/site-hub.md, Trust)"
    ),
    "hub.tls_site_hub_revoked": (
        "this site hub's certificate was revoked by the province (a replaced, lost or stolen "
        "site hub). Nothing was sent to it; records go by the province link. IT staff: turn "
        "that machine off, or set up the replacement (docs/site-hub.md, Replacing the site hub)"
    ),
}


def is_tls_code(code: str | None) -> bool:
    """True for the certificate codes: shown as a certificate problem, not as "offline"."""
    return code in TLS_CODES


class HubRejected(HubError):
    """The hub answered 4xx: the request as sent will not succeed by retrying."""

    def __init__(
        self,
        code: str,
        message: str = "",
        *,
        status: int | None = None,
        detail: Mapping[str, object] | None = None,
    ) -> None:
        super().__init__(code, message, status=status)
        self.detail: Mapping[str, object] = detail or {}


class ReplicaRegressed(HubRejected):
    """409 ``replica.regressed``: this replica's op_seq went backwards (restored backup)."""


__all__ = ["TLS_CODES", "TLS_HINTS", "HubError", "HubRejected", "HubTimeout", "HubTlsError", "HubUnreachable", "ReplicaRegressed", "is_tls_code"]
