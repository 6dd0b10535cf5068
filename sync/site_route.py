"""The desk's route to its site hub: where it is, and why the desk trusts it (issue 14).

Where (``tramtiem site-hub set ADDRESS | auto``):

* an address IT staff typed (``192.168.1.20``, ``192.168.1.20:8765``,
  ``https://hub-lan.local:8765``) is used as it is: **the typed address wins**;
* ``auto``: the desk browses the LAN for its own site's hub (DNS-SD/mDNS,
  :mod:`sync.discovery`) when it needs one, and keeps what it found for
  :data:`REBROWSE_S` seconds. Nothing found: the route is offline this cycle
  (``site_hub.not_found``), the desk's records wait, nothing is lost.

Why trusted (:func:`trust_context`, :mod:`sync.pinning`): the province's relay CA,
which the desk received with its own enrollment (``EnrollResponse.relay_ca_pem``),
plus the desk's own site code: only a certificate the province issued **for this
site** is accepted; and/or a SHA-256 fingerprint IT staff typed
(``--fingerprint``). The fingerprint an mDNS announcement carries is never a pin. A
certificate the province revoked (``sync.revocations``, read on the direct route) is
refused whatever else holds.
A desk with neither refuses to use a site hub (``site_hub.no_trust``).

Plain HTTP to a site hub only with ``--insecure-http`` (tests and development): it is
stored with the address and shown by ``site-hub show``.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from kernel.errors import StoreError
from station import replica
from station.store import Station
from sync.client import HubClient, HubUnreachable
from sync.discovery import (
    DEFAULT_BROWSE_TIMEOUT_S,
    DiscoveryError,
    SiteHub,
    find_site_hub,
    site_hub_from_address,
)
from sync.protocol import Health, PullResponse

log = logging.getLogger(__name__)

AUTO = "auto"
META_RELAY_CA = replica.META_RELAY_CA  # the province's relay CA, from enrollment
META_PIN = "site_hub_fingerprint"  # a fingerprint IT staff typed (optional)
INSECURE_PREFIX = "http://"  # stored only with --insecure-http
REBROWSE_S = 30.0


@dataclass(frozen=True, slots=True)
class SiteHubSetting:
    """What the desk holds about its site hub (``site-hub show``)."""

    address: str | None  # the typed address, "auto", or None (no site hub route)
    pin: str | None
    has_relay_ca: bool
    insecure_http: bool

    @property
    def auto(self) -> bool:
        return self.address == AUTO


def setting(st: Station) -> SiteHubSetting:
    address = replica.site_hub_url(st)
    return SiteHubSetting(
        address=address,
        pin=replica.get_meta(st, META_PIN) or None,
        has_relay_ca=bool(replica.get_meta(st, META_RELAY_CA)),
        insecure_http=bool(address and address.startswith(INSECURE_PREFIX)),
    )


def normalise_address(text: str, site_code: str, *, insecure_http: bool = False) -> str:
    """``auto``, an ``https://host:port`` the desk will use, or (``insecure_http``) ``http://host:port``.

    Raises :class:`sync.discovery.DiscoveryError` for an address that cannot be used.
    """
    raw = (text or "").strip()
    if raw.lower() == AUTO:
        return AUTO
    if insecure_http:
        parts = urlsplit(raw if "://" in raw else f"http://{raw}")
        if parts.scheme != "http" or not parts.hostname:
            raise DiscoveryError("discovery.address", "--insecure-http takes http://host:port")
        return f"http://{parts.hostname}:{parts.port or 8765}"
    hub = site_hub_from_address(raw, site_code)
    return hub.url


def trust_context(st: Station) -> ssl.SSLContext:
    """The pinned TLS context for this desk's site hub (raises ``StoreError("site_hub.no_trust")``)."""
    from sync.pinning import pinned_context
    from sync.revocations import revoked_fingerprints

    ca = replica.get_meta(st, META_RELAY_CA) or None
    pin = replica.get_meta(st, META_PIN) or None
    if ca is None and pin is None:
        raise StoreError("site_hub.no_trust")
    return pinned_context(
        fingerprint=pin, ca_pem=ca, site_code=st.site_code if ca else None,
        revoked=lambda: revoked_fingerprints(st),  # read at each handshake: learnt mid-run holds
    )


class _NoSiteHub(HubClient):
    """The route's client while no site hub is found: every cycle is offline, nothing is sent."""

    def health(self) -> Health:
        raise HubUnreachable("site_hub.not_found", "no site hub of this site answered on the LAN")

    def pull(self, *args: object, **kw: object) -> PullResponse:
        raise HubUnreachable("site_hub.not_found", "no site hub of this site answered on the LAN")


class SiteHubRoute:
    """Resolves the site hub's address (typed, or by DNS-SD, cached) and makes its clients."""

    def __init__(
        self,
        st: Station,
        token: str,
        *,
        browse_timeout_s: float = DEFAULT_BROWSE_TIMEOUT_S,
        rebrowse_s: float = REBROWSE_S,
        finder: Callable[..., SiteHub | None] = find_site_hub,
        **client_kw: object,
    ) -> None:
        self.st = st
        self.token = token
        self.site_code = st.site_code
        self.browse_timeout_s = browse_timeout_s
        self.rebrowse_s = rebrowse_s
        self._finder = finder
        self._client_kw = client_kw
        self._lock = threading.Lock()
        self._found: str | None = None
        self._found_at = -1e9
        cfg = setting(st)
        if cfg.address is None:
            raise StoreError("site_hub.not_set")
        self.address = cfg.address
        self.context = None if cfg.insecure_http else trust_context(st)

    def url(self) -> str | None:
        """The address to use now: the typed one, or the last one found (browsing when stale)."""
        if self.address != AUTO:
            return self.address
        with self._lock:
            if self._found is None or time.monotonic() - self._found_at > self.rebrowse_s:
                hub = self._finder(self.site_code, timeout_s=self.browse_timeout_s)
                if hub is not None:
                    log.info("site hub found on the LAN by DNS-SD")
                    self._found = hub.url
                    self._found_at = time.monotonic()
                elif self._found is not None:
                    self._found_at = time.monotonic() - self.rebrowse_s / 2  # try again soon
            return self._found

    def client(self) -> HubClient:
        url = self.url()
        if url is None:
            return _NoSiteHub("https://site-hub.invalid", self.token, ssl_context=self.context)
        return HubClient(url, self.token, ssl_context=self.context, **self._client_kw)  # type: ignore[arg-type]


__all__ = [
    "AUTO",
    "META_PIN",
    "META_RELAY_CA",
    "SiteHubRoute",
    "SiteHubSetting",
    "normalise_address",
    "setting",
    "trust_context",
]
