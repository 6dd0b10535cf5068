"""The site hub's link to its province (issue 14): its relay credential and its TLS identity.

``enroll`` exchanges a one-time relay code for the relay token and, with a data
directory, the certificate the province signs for this site hub's own key
(``hub.relay_pki``); both are kept here (the token in ``hub_meta``, the key and
certificate as files beside the database). :func:`tls_identity` gives the files to serve
HTTPS with. Split from ``hub.site_hub`` (which re-exports these names).
"""

from __future__ import annotations

import json
import logging
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509
from sqlalchemy.orm import Session

from hub import relay_pki
from hub.db import Database
from hub.models import HubMeta, Site
from hub.timestamps import utc_iso_ms
from hub.upstream import Upstream
from kernel.ids import uuid7
from sync.protocol import RELAY_PREFIX, RelayEnrollRequest, RelayEnrollResponse

log = logging.getLogger(__name__)

# hub_meta keys of the relay link (the site hub's own database).
META_URL = "relay.province_url"
META_ID = "relay.id"
META_TOKEN = "relay.token"
META_SITE = "relay.site_code"
META_SITE_NAME = "relay.site_name"
META_CURSOR = "relay.cursor"
META_PROVINCE_EPOCH = "relay.province_epoch"
META_TLS = "relay.tls"


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class RelayLink:
    """The site hub's credential at the province (kept in its own ``hub_meta``)."""

    province_url: str
    relay_id: str
    token: str
    site_code: str
    site_name: str


def _meta(s: Session, key: str) -> str | None:
    row = s.get(HubMeta, key)
    return None if row is None else row.value


def _set_meta(s: Session, key: str, value: str) -> None:
    row = s.get(HubMeta, key)
    if row is None:
        s.add(HubMeta(key=key, value=value))
    else:
        row.value = value


def load_link(db: Database) -> RelayLink | None:
    with db.read() as s:
        values = [_meta(s, k) for k in (META_URL, META_ID, META_TOKEN, META_SITE, META_SITE_NAME)]
    if any(v is None for v in values[:4]):
        return None
    url, rid, token, site, name = values
    assert url is not None and rid is not None and token is not None and site is not None
    return RelayLink(url, rid, token, site, name or site)


def set_province_url(db: Database, url: str) -> None:
    with db.write() as s:
        _set_meta(s, META_URL, url.rstrip("/"))


def enroll(
    db: Database,
    province_url: str,
    code: str,
    *,
    name: str = "",
    data_dir: Path | None = None,
    ssl_context: ssl.SSLContext | None = None,
    now: datetime | None = None,
) -> RelayEnrollResponse:
    """Enroll this hub as the site hub of the code's site (``tramtiem-hub relay enroll``).

    ``data_dir``: where the site hub keeps its TLS key (made here at first use, never sent)
    and the certificate the province signs for it (``hub.relay_pki``): the request carries
    a CSR, and the answer's certificate is checked (this key, this site) and stored. Without
    ``data_dir`` no certificate is asked for (a site hub for tests on loopback, plain HTTP).
    """
    with db.read() as s:
        relay_id = _meta(s, META_ID) or uuid7()
    csr = None
    if data_dir is not None:
        csr = relay_pki.make_csr(relay_pki.relay_key(data_dir))
    up = Upstream(province_url, ssl_context=ssl_context)
    try:
        resp = up.post(
            RELAY_PREFIX + "/enroll",
            RelayEnrollRequest(code=code, relay_id=relay_id, relay_name=name[:100], csr=csr),
            RelayEnrollResponse,
            auth=False,
        )
    finally:
        up.close()
    stamp = utc_iso_ms(now or _now())
    # The credential first: the code is spent now, whatever the certificate turns out to be.
    with db.write() as s:
        _set_meta(s, META_URL, province_url.rstrip("/"))
        _set_meta(s, META_ID, resp.relay_id)
        _set_meta(s, META_TOKEN, resp.token)
        _set_meta(s, META_SITE, resp.site_code)
        _set_meta(s, META_SITE_NAME, resp.site_name)
        if s.get(Site, resp.site_code) is None:
            s.add(Site(code=resp.site_code, name=resp.site_name, created_at=stamp))
    log.info("enrolled as the site hub of site %s", resp.site_code)
    if data_dir is not None:
        tls = _store_certificate(data_dir, resp)
        with db.write() as s:
            _set_meta(s, META_TLS, json.dumps(tls))
    return resp


def _store_certificate(data_dir: Path, resp: RelayEnrollResponse) -> dict[str, str]:
    """The province's certificate for this site hub, checked and written beside its key."""
    tls = resp.tls or {}
    cert_pem, ca_pem = tls.get("cert_pem"), tls.get("ca_pem")
    if not isinstance(cert_pem, str) or not isinstance(ca_pem, str):
        raise relay_pki.RelayPkiError(
            502, "relay.no_certificate", "the province sent no certificate for this site hub"
        )
    try:
        cert = x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    except ValueError:
        raise relay_pki.RelayPkiError(502, "relay.no_certificate", "the province's certificate is unreadable") from None
    if relay_pki.certificate_site(cert) != resp.site_code:
        raise relay_pki.RelayPkiError(502, "relay.cert_site", "the province's certificate names another site")
    relay_pki.write_tls_files(data_dir, cert_pem)  # refused if it is not for this site hub's key
    return {"fingerprint": relay_pki.fingerprint(cert), "ca_pem": ca_pem}


def tls_identity(data_dir: Path) -> tuple[Path, Path, str] | None:
    """The site hub's certificate and key files and the certificate's fingerprint, if issued."""
    cert = Path(data_dir) / relay_pki.RELAY_CERT_FILE
    key = Path(data_dir) / relay_pki.RELAY_KEY_FILE
    if not (cert.is_file() and key.is_file()):
        return None
    return cert, key, relay_pki.fingerprint(cert.read_text("ascii"))
