"""The site hub certificates the province revoked, as this desk knows them (issue 14).

A desk trusts any certificate the province's relay CA issued for its site
(:mod:`sync.pinning`). When a site hub laptop is replaced, stolen or revoked, the province
revokes its certificates (``hub.relay``) and lists the revoked, unexpired fingerprints of
the site at ``GET /sync/v1/site/revoked-certs`` (:class:`sync.revoked_certs.RevokedCerts`,
station token, own site only).

The desk reads that list on its **direct** route to the province (never from a site hub:
the machine being revoked must not be the one that says so), after a successful cycle, at
most every :data:`REFRESH_S` seconds (:func:`refresh_due`, called by ``sync.engine``), and
keeps it in the station's meta (``replica.META_REVOKED_CERTS``). The site hub route's TLS
context reads it at each handshake (``sync.site_route.trust_context``), so a desk that has
learnt a revocation refuses that certificate from its next connection on, before a byte
is sent (``hub.tls_site_hub``).

Each read replaces the list with the province's answer (an expired certificate drops off
it and is refused for its dates anyway). A failed read keeps the last list: it never fails
the cycle and never empties the list.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING

import sqlcipher3.dbapi2 as sqlcipher

from kernel.errors import StoreError
from station import syncstate
from station.store import Station
from sync.client import HubClient, HubError

if TYPE_CHECKING:
    from sync.lean import LeanRevoked
    from sync.revoked_certs import RevokedCerts

log = logging.getLogger(__name__)

META_KEY = syncstate.META_REVOKED_CERTS
REFRESH_S = 180.0  # at most one read every 3 minutes on the direct route


def _load(st: Station) -> dict[str, object]:
    raw = syncstate.get_meta(st, META_KEY)
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def revoked_fingerprints(st: Station) -> frozenset[str]:
    """The fingerprints this desk refuses (lowercase hex SHA-256); empty if never read."""
    fps = _load(st).get("fingerprints")
    if not isinstance(fps, list):
        return frozenset()
    return frozenset(str(fp) for fp in fps if isinstance(fp, str))


def last_read(st: Station) -> float | None:
    """When the list was last read from the province (epoch seconds), None: never."""
    at = _load(st).get("read_at")
    return float(at) if isinstance(at, int | float) else None


def store(st: Station, answer: RevokedCerts | LeanRevoked, *, now: float | None = None) -> frozenset[str]:
    """Keep the province's answer (for this desk's own site only) and return the list."""
    if answer.site_code.upper() != st.site_code.upper():
        raise StoreError("site_hub.revocations_site")
    before = revoked_fingerprints(st)
    fresh = list(dict.fromkeys(answer.fingerprints))
    syncstate.set_meta(st, META_KEY, json.dumps(
        {"fingerprints": fresh, "read_at": time.time() if now is None else now,
         "server_time": answer.server_time},
        separators=(",", ":"),
    ))
    added = len(set(fresh) - before)
    if added:
        log.warning("the province revoked %d more site hub certificate(s) of this site", added)
    return frozenset(fresh)


def refresh(st: Station, client: HubClient, *, now: float | None = None) -> frozenset[str] | None:
    """Read the list from the province through ``client`` (the direct route) and keep it.

    None when the read failed (the last list stays); never raises a ``HubError``.
    """
    try:
        answer = client.revoked_site_certs()
    except HubError as exc:
        log.info("revoked site hub certificates not read: %s", exc.code)
        return None
    try:
        return store(st, answer, now=now)
    except (StoreError, sqlcipher.Error) as exc:  # a busy or closed store: read again next time
        log.warning("revoked site hub certificates not kept: %s", type(exc).__name__)
        return None


def refresh_due(st: Station, client: HubClient, *, now: float | None = None) -> frozenset[str] | None:
    """:func:`refresh` when the last read is :data:`REFRESH_S` old (or never happened)."""
    t = time.time() if now is None else now
    last = last_read(st)
    if last is not None and 0 <= t - last < REFRESH_S:
        return None
    return refresh(st, client, now=t)


__all__ = [
    "META_KEY",
    "REFRESH_S",
    "last_read",
    "refresh",
    "refresh_due",
    "revoked_fingerprints",
    "store",
]
