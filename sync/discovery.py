"""Finding the site hub on the LAN: DNS-SD over multicast DNS (python-zeroconf), or a typed address.

The site hub announces one service of type ``_tramtiem._tcp.local.`` with its port, its
LAN addresses and a TXT record::

    v=1             this format
    site=<code>     the site it serves (kernel.wire's SiteCode)
    fp=<sha256>     the SHA-256 fingerprint of its certificate (hub.relay_pki), 64 hex digits

A station browses for the service with a bounded timeout and keeps the records of **its
own site** only (another site's hub on the same Wi-Fi, a record of another version or a
malformed one are ignored). The TXT ``fp`` is a hint to show and compare, never a reason
to trust: anyone on the Wi-Fi can announce anything, so the station connects with
``sync.pinning`` (its pin from enrollment, or the province's relay CA and its site code)
and a fake announcement gets a refused handshake, not data.

Where multicast does not cross the network (client isolation on the Wi-Fi, two VLANs,
a firewall) IT staff type the address: :func:`site_hub_from_address` parses it without
any mDNS. :func:`locate_site_hub` takes the typed address first, then browses.

Only IPv4 is announced and browsed: site LANs are IPv4, and one family keeps the
answer small. Nothing here logs or handles personal data.
"""

from __future__ import annotations

import ipaddress
import logging
import queue
import re
import secrets
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

SERVICE_TYPE = "_tramtiem._tcp.local."
TXT_VERSION = "1"
DEFAULT_PORT = 8765  # `tramtiem-hub serve`'s default
DEFAULT_BROWSE_TIMEOUT_S = 3.0
MAX_BROWSE_TIMEOUT_S = 30.0
MAX_ADDRESSES = 8  # of one record: a hub has a LAN address or two
_SITE_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class DiscoveryError(ValueError):
    """A value that cannot be announced or an address that cannot be used; ``code`` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass(frozen=True, slots=True)
class SiteHub:
    """Where a site hub is: its site, LAN addresses, port, certificate fingerprint (if known)."""

    site_code: str
    addresses: tuple[str, ...]
    port: int
    fingerprint: str | None
    source: str  # "mdns" or "typed"
    name: str = ""

    @property
    def url(self) -> str:
        """``https://<first address>:<port>`` (the site hub serves HTTPS only)."""
        return f"https://{self.addresses[0]}:{self.port}"

    def as_dict(self) -> dict[str, object]:
        return {"site_code": self.site_code, "addresses": list(self.addresses), "port": self.port,
                "fingerprint": self.fingerprint, "source": self.source, "name": self.name}


def _check_site(site_code: str) -> str:
    if not isinstance(site_code, str) or not _SITE_CODE.match(site_code):
        raise DiscoveryError("discovery.site_code", "not a site code")
    return site_code


def _fingerprint(value: str) -> str:
    fp = value.strip().replace(":", "").lower()
    if not _HEX64.match(fp):
        raise DiscoveryError("discovery.fingerprint", "a SHA-256 fingerprint is 64 hexadecimal digits")
    return fp


def _port(value: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 65535:
        raise DiscoveryError("discovery.port", "a port is 1..65535")
    return value


# ---- the site hub's side ---------------------------------------------------------------


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses other than loopback and link-local (what to announce)."""
    import ifaddr

    out: list[str] = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if not isinstance(ip.ip, str):
                continue  # IPv6
            addr = ipaddress.IPv4Address(ip.ip)
            if not (addr.is_loopback or addr.is_link_local or addr.is_unspecified):
                out.append(str(addr))
    return sorted(set(out))


@dataclass(frozen=True, slots=True)
class Announcement:
    name: str  # the DNS-SD instance name actually registered (renamed on a conflict)
    addresses: tuple[str, ...]
    port: int


@contextmanager
def announce(
    site_code: str, port: int, fingerprint: str, *, address: str | None = None
) -> Iterator[Announcement]:
    """Announce the site hub while the block runs (``zeroconf``: probes, answers, goodbyes).

    ``address``: the one LAN address to announce (default: every IPv4 address of the
    machine but loopback). Raises :class:`DiscoveryError` for a bad value or no address.
    """
    from zeroconf import IPVersion, ServiceInfo, Zeroconf

    _check_site(site_code)
    _port(port)
    fp = _fingerprint(fingerprint)
    if address is not None:
        try:
            addresses = [str(ipaddress.IPv4Address(address))]
        except ValueError:
            raise DiscoveryError("discovery.address", "not an IPv4 address") from None
    else:
        addresses = lan_addresses()[:MAX_ADDRESSES]
    if not addresses:
        raise DiscoveryError("discovery.no_address", "this machine has no LAN address to announce")
    # One instance per site hub; the random part keeps two hubs of one site (a replacement
    # started before the old one is gone) from fighting over a name.
    instance = f"Tram Tiem site hub {site_code} {secrets.token_hex(2)}"
    info = ServiceInfo(
        SERVICE_TYPE,
        f"{instance}.{SERVICE_TYPE}",
        addresses=[socket.inet_aton(a) for a in addresses],
        port=port,
        properties={"v": TXT_VERSION, "site": site_code, "fp": fp},
        server=f"tramtiem-{site_code.lower().replace('_', '-')}-{secrets.token_hex(2)}.local.",
    )
    zc = Zeroconf(ip_version=IPVersion.V4Only)
    try:
        zc.register_service(info, allow_name_change=True)
        log.info("announcing the site hub on the LAN (%d address(es), port %d)", len(addresses), port)
        try:
            yield Announcement(info.name, tuple(addresses), port)
        finally:
            zc.unregister_service(info)
    finally:
        zc.close()


# ---- the station's side ----------------------------------------------------------------


def _txt(properties: dict[bytes, bytes | None]) -> dict[str, str]:
    out: dict[str, str] = {}
    for k, v in properties.items():
        if isinstance(k, bytes) and isinstance(v, bytes) and len(k) <= 16 and len(v) <= 128:
            try:
                out[k.decode("ascii")] = v.decode("ascii")
            except UnicodeDecodeError:
                continue
    return out


def parse_record(
    name: str, properties: dict[bytes, bytes | None], addresses: list[str], port: int | None
) -> SiteHub | None:
    """A browsed record as a :class:`SiteHub`, or None when it is not a well-formed v1 record."""
    txt = _txt(properties)
    if txt.get("v") != TXT_VERSION:
        return None
    site = txt.get("site", "")
    if not _SITE_CODE.match(site):
        return None
    try:
        fp = _fingerprint(txt.get("fp", ""))
        p = _port(port or 0)
    except DiscoveryError:
        return None
    good: list[str] = []
    for a in addresses[:MAX_ADDRESSES]:
        try:
            ip = ipaddress.IPv4Address(a)
        except ValueError:
            continue
        if not (ip.is_loopback or ip.is_multicast or ip.is_unspecified):
            good.append(str(ip))
    if not good:
        return None
    return SiteHub(site, tuple(good), p, fp, "mdns", name[:200])


def browse(site_code: str, *, timeout_s: float = DEFAULT_BROWSE_TIMEOUT_S, first: bool = True) -> list[SiteHub]:
    """The site hubs of ``site_code`` announced on the LAN within ``timeout_s`` seconds.

    ``first``: return as soon as one is found (else wait the whole timeout and return all).
    Records of other sites and malformed ones are skipped. Never raises for the network:
    no multicast (no interface, a firewall) gives an empty list.
    """
    from zeroconf import IPVersion, ServiceBrowser, ServiceStateChange, Zeroconf

    _check_site(site_code)
    timeout_s = max(0.1, min(float(timeout_s), MAX_BROWSE_TIMEOUT_S))
    deadline = time.monotonic() + timeout_s
    names: queue.Queue[str] = queue.Queue(maxsize=256)

    def on_change(zeroconf: Zeroconf, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        # Runs on zeroconf's thread: only note the name; it is resolved below.
        if state_change in (ServiceStateChange.Added, ServiceStateChange.Updated):
            try:
                names.put_nowait(name)
            except queue.Full:
                pass  # a flood of announcements: the first 256 are plenty

    found: dict[str, SiteHub] = {}
    try:
        zc = Zeroconf(ip_version=IPVersion.V4Only)
    except OSError:
        log.info("multicast DNS is not available here; no site hub found by browsing")
        return []
    try:
        browser = ServiceBrowser(zc, SERVICE_TYPE, handlers=[on_change])
        try:
            seen: set[str] = set()
            while (left := deadline - time.monotonic()) > 0:
                try:
                    name = names.get(timeout=min(left, 0.25))
                except queue.Empty:
                    continue
                if name in seen and name in found:
                    continue
                seen.add(name)
                info = zc.get_service_info(SERVICE_TYPE, name, timeout=max(1, int(min(left, 3.0) * 1000)))
                if info is None:
                    continue
                hub = parse_record(name, dict(info.properties),
                                   info.parsed_addresses(IPVersion.V4Only), info.port)
                if hub is None or hub.site_code != site_code:
                    continue  # another site's hub, or not one of ours: ignored
                found[name] = hub
                if first:
                    break
        finally:
            browser.cancel()
    finally:
        zc.close()
    return sorted(found.values(), key=lambda h: h.name)


def find_site_hub(site_code: str, *, timeout_s: float = DEFAULT_BROWSE_TIMEOUT_S) -> SiteHub | None:
    """The first site hub of ``site_code`` found by browsing within ``timeout_s``, or None."""
    hubs = browse(site_code, timeout_s=timeout_s, first=True)
    return hubs[0] if hubs else None


def site_hub_from_address(text: str, site_code: str, fingerprint: str | None = None) -> SiteHub:
    """An address IT staff typed: ``10.0.0.5``, ``10.0.0.5:8766``, ``hub.lan`` or
    ``https://10.0.0.5:8766`` (no mDNS involved). Raises :class:`DiscoveryError`."""
    _check_site(site_code)
    raw = (text or "").strip()
    if not raw or len(raw) > 300:
        raise DiscoveryError("discovery.address", "type the site hub's address, e.g. 192.168.1.20:8765")
    parts = urlsplit(raw if "://" in raw else f"https://{raw}")
    if parts.scheme.lower() != "https":
        raise DiscoveryError("discovery.address", "the site hub is reached over https only")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise DiscoveryError("discovery.address", "an address and a port only")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise DiscoveryError("discovery.port", "a port is 1..65535") from None
    host = parts.hostname or ""
    if not host or not re.fullmatch(r"[A-Za-z0-9.\-]{1,253}", host):
        raise DiscoveryError("discovery.address", "not an address or a host name")
    return SiteHub(
        site_code, (host,), _port(port), _fingerprint(fingerprint) if fingerprint else None, "typed"
    )


def locate_site_hub(
    site_code: str, typed: str | None = None, *, timeout_s: float = DEFAULT_BROWSE_TIMEOUT_S
) -> SiteHub | None:
    """The typed address when there is one (no mDNS), else the first one browsing finds."""
    if typed and typed.strip():
        return site_hub_from_address(typed, site_code)
    return find_site_hub(site_code, timeout_s=timeout_s)


__all__ = [
    "DEFAULT_BROWSE_TIMEOUT_S",
    "DEFAULT_PORT",
    "SERVICE_TYPE",
    "Announcement",
    "DiscoveryError",
    "SiteHub",
    "announce",
    "browse",
    "find_site_hub",
    "lan_addresses",
    "locate_site_hub",
    "parse_record",
    "site_hub_from_address",
]
