"""The site a site hub's certificate is for: the one format the province and the stations share.

The province writes the site code into the certificate it issues to a site hub
(``hub.relay_pki``); a station checks it before it trusts the site hub (``sync.pinning``).
"""

from __future__ import annotations

from cryptography import x509

SITE_URI_PREFIX = "urn:tramtiem:site:"

__all__ = ["SITE_URI_PREFIX", "certificate_site"]


def certificate_site(cert: x509.Certificate) -> str | None:
    """The one site code in the SAN (``urn:tramtiem:site:<code>``), or None."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return None
    uris = [u for u in san.get_values_for_type(x509.UniformResourceIdentifier) if u.startswith(SITE_URI_PREFIX)]
    return uris[0][len(SITE_URI_PREFIX):] if len(uris) == 1 else None
