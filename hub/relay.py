"""The province's side of relaying (issue 14): site hubs' credentials and what they may do.

A site hub gets a **relay credential** for one site (``tramtiem-hub relay code --site S``
→ ``POST /relay/enroll`` → a relay id and token; the province keeps only the token's
hash). With it the site hub may:

* read the site's station roster (:func:`site_stations`: id, name, token hash, revoked
  — never a token), so it authenticates the site's desks itself;
* forward the desks' ops (:func:`relay_push`): each group (one station's replica) runs
  through exactly the path a station's own ``/push`` takes (``hub.ingest.process_push``:
  the same ledger, op_seq order and appliers), so an op that already came by the direct
  route is a ``duplicate`` with its stored answer. A group of another site's station, or
  of a revoked one, is refused whole (``auth.cross_site`` / ``auth.revoked``) and nothing
  of it applied;
* forward the desks' signed tallies unchanged (:func:`relay_tally`): verified with the
  station's own token hash, exactly as if the station had sent them;
* pull the site's scope (the same ``service.pull`` as a station, without echo filter).

A revoked relay is refused at once (``403 auth.revoked``); revoking it does not touch the
stations. Every certificate the province issues a relay is recorded (``relay_cert``): its
older ones are revoked when it enrolls again, all of them when it is revoked, and the
site's desks read the revoked fingerprints (:func:`revoked_certs`) to refuse them on the
LAN (``sync.revocations``). Nothing here logs personal data.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta
from typing import TypedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import counters, relay_pki, service
from hub.db import Database, hub_epoch
from hub.errors import HubError
from hub.ingest import process_push
from hub.models import EnrolledStation, Relay, RelayCert, RelayCode, Site
from hub.service import CODE_ALPHABET
from hub.timestamps import utc_iso_ms
from sync.protocol import (
    ErrorBody,
    RelayEnrollRequest,
    RelayEnrollResponse,
    RelayGroupResult,
    RelayStation,
    RelayStations,
    RelayTallyResult,
    TallyRequest,
    token_hash,
)
from sync.protocol import PushRequest as _PushRequest
from sync.revoked_certs import MAX_REVOKED_CERTS

log = logging.getLogger(__name__)


def new_relay_code(
    db: Database, site_code: str, *, ttl_hours: float, now: datetime, replaces: str | None = None
) -> str:
    """A one-time code for a site hub of ``site_code`` (stored hashed, single use, expiring).

    ``replaces``: the relay id of the site hub the new one replaces (a laptop replaced,
    lost or stolen): when the code is used, that relay is revoked, its token and every
    certificate it was issued, in the enrollment's transaction (audited).
    """
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    with db.write() as s:
        if s.get(Site, site_code) is None:
            raise HubError(404, "site.not_found", "no such site")
        if replaces is not None:
            old = s.get(Relay, replaces)
            if old is None:
                raise HubError(404, "relay.not_found", "no such relay to replace")
            if old.site_code != site_code:
                raise HubError(409, "relay.other_site", "the relay to replace is of another site")
        s.add(
            RelayCode(
                code_hash=token_hash(raw),
                site_code=site_code,
                created_at=utc_iso_ms(now),
                expires_at=utc_iso_ms(now + timedelta(hours=ttl_hours)),
                replaces=replaces,
            )
        )
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def enroll_relay(
    db: Database, req: RelayEnrollRequest, *, now: datetime, tls: dict[str, str] | None = None
) -> RelayEnrollResponse:
    """Exchange a relay code for the relay's token (``tls``: its identity, when issued)."""
    token = secrets.token_urlsafe(32)
    with db.write() as s:
        code, site = service.take_code(s, RelayCode, req.code, now=now, what="relay code")
        existing = s.get(Relay, req.relay_id)
        if existing is not None and existing.site_code != site.code:
            raise HubError(409, "enroll.other_site", "this relay is enrolled for another site")
        if existing is not None and existing.revoked:
            raise HubError(403, "enroll.revoked", "this relay was revoked at the hub")
        code.used_at = utc_iso_ms(now)
        code.used_by = req.relay_id
        if existing is None:
            s.add(
                Relay(
                    id=req.relay_id,
                    site_code=site.code,
                    name=req.relay_name,
                    token_hash=token_hash(token),
                    revoked=0,
                    enrolled_at=utc_iso_ms(now),
                )
            )
        else:
            existing.token_hash = token_hash(token)  # a reinstalled site hub: a new token
            existing.name = req.relay_name or existing.name
        detail: dict[str, object] = {"site_code": site.code}
        if tls and tls.get("cert_pem"):
            detail["certificate"] = tls.get("fingerprint", "")[:16]
            detail["certs_revoked"] = _record_cert(s, req.relay_id, site.code, tls["cert_pem"], now)
        else:  # enrolled again without a certificate: the older ones are not this install's
            detail["certs_revoked"] = _revoke_certs(s, req.relay_id, utc_iso_ms(now))
        counters.audit(s, "relay", "enroll_relay", req.relay_id, detail, now)
        if code.replaces and code.replaces != req.relay_id:
            _revoke(s, code.replaces, actor="relay", reason=f"replaced by site hub {req.relay_id}", now=now)
        epoch = hub_epoch(s)
    log.info("site hub enrolled for site %s", site.code)
    return RelayEnrollResponse(
        relay_id=req.relay_id,
        site_code=site.code,
        site_name=site.name,
        token=token,
        hub_epoch=epoch,
        tls=tls,
    )


def authenticate_relay(db: Database, authorization: str | None) -> service.Caller:
    """The relay behind a bearer token, as a caller of its site (401 unknown, 403 revoked).

    The caller's ``station_id`` is the relay's id: pulls by a relay name no replica (no
    echo filter), and its long-polls are counted under it.
    """
    if not authorization:
        raise HubError(401, "auth.missing_token", "Authorization: Bearer <token> is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HubError(401, "auth.invalid_token", "malformed Authorization header")
    digest = token_hash(token.strip())
    with db.read() as s:
        relay = s.execute(select(Relay).where(Relay.token_hash == digest)).scalar()
        if relay is None:
            raise HubError(401, "auth.invalid_token", "unknown relay token")
        if relay.revoked:
            raise HubError(403, "auth.revoked", "this relay's access was revoked")
        return service.Caller(relay.id, relay.site_code, digest)


def _record_cert(s: Session, relay_id: str, site_code: str, cert_pem: str, now: datetime) -> int:
    """Record the certificate just issued to ``relay_id``; revoke its older ones (how many).

    A relay enrolling again is a renewed or replaced site hub: only its newest certificate
    stays trusted by the site's desks (a laptop that was replaced keeps its old one).
    """
    fp = relay_pki.fingerprint(cert_pem)
    stamp = utc_iso_ms(now)
    revoked = _revoke_certs(s, relay_id, stamp, keep=fp)
    if s.get(RelayCert, fp) is None:
        s.add(RelayCert(
            fingerprint=fp, relay_id=relay_id, site_code=site_code, issued_at=stamp,
            not_after=utc_iso_ms(relay_pki.not_after(cert_pem)), revoked_at=None,
        ))
    return revoked


def _revoke_certs(s: Session, relay_id: str, stamp: str, *, keep: str | None = None) -> int:
    rows = s.execute(
        select(RelayCert).where(RelayCert.relay_id == relay_id, RelayCert.revoked_at.is_(None))
    ).scalars()
    n = 0
    for cert in rows:
        if cert.fingerprint != keep:
            cert.revoked_at = stamp
            n += 1
    return n


def revoke_relay(db: Database, relay_id: str, *, actor: str, reason: str, now: datetime) -> int:
    """Refuse the relay's token from now on and revoke every certificate it was issued
    (audited; the number of certificates revoked now). Its site's stations are untouched.
    There is no unrevoke: a site hub set up again enrolls as a new relay (a new certificate)."""
    with db.write() as s:
        return _revoke(s, relay_id, actor=actor, reason=reason, now=now)


def _revoke(s: Session, relay_id: str, *, actor: str, reason: str, now: datetime) -> int:
    relay = s.get(Relay, relay_id)
    if relay is None:
        raise HubError(404, "relay.not_found", "no such relay")
    if not relay.revoked:
        relay.revoked = 1
        relay.revoked_at = utc_iso_ms(now)
    certs = _revoke_certs(s, relay.id, utc_iso_ms(now))
    counters.audit(
        s, counters.clean_actor(actor), "revoke_relay", relay.id,
        {"site_code": relay.site_code, "reason": reason[:500], "certs_revoked": certs}, now,
    )
    log.info("site hub of site %s revoked (%d certificate(s))", relay.site_code, certs)
    return certs


def revoked_certs(db: Database, site_code: str, *, now: datetime) -> list[str]:
    """The revoked, not yet expired certificate fingerprints of ``site_code``'s site hubs,
    the most recently revoked first (at most ``MAX_REVOKED_CERTS``)."""
    with db.read() as s:
        rows = s.execute(
            select(RelayCert.fingerprint)
            .where(
                RelayCert.site_code == site_code,
                RelayCert.revoked_at.is_not(None),
                RelayCert.not_after > utc_iso_ms(now),
            )
            .order_by(RelayCert.revoked_at.desc(), RelayCert.fingerprint)
            .limit(MAX_REVOKED_CERTS)
        ).scalars()
        return [str(fp) for fp in rows]


class RelayInfo(TypedDict):
    """One site hub as ``tramtiem-hub relay list`` shows it."""

    id: str
    site_code: str
    name: str
    revoked: bool
    revoked_at: str | None
    enrolled_at: str
    last_seen: str | None
    # The certificate the desks should see on the LAN (the newest one not revoked), to
    # compare with the fingerprint a desk shows or to pin it (`tramtiem site-hub set …
    # --fingerprint`); None when none is recorded (certificates issued before 0008).
    cert_fingerprint: str | None
    cert_not_after: str | None


def list_relays(db: Database) -> list[RelayInfo]:
    with db.read() as s:
        current: dict[str, RelayCert] = {}
        for cert in s.execute(
            select(RelayCert).where(RelayCert.revoked_at.is_(None)).order_by(RelayCert.issued_at)
        ).scalars():
            current[cert.relay_id] = cert  # the newest wins
        rows = s.execute(select(Relay).order_by(Relay.site_code, Relay.enrolled_at)).scalars()
        out: list[RelayInfo] = []
        for r in rows:
            got = current.get(r.id)
            out.append(RelayInfo(
                id=r.id, site_code=r.site_code, name=r.name, revoked=bool(r.revoked),
                revoked_at=r.revoked_at, enrolled_at=r.enrolled_at, last_seen=r.last_seen,
                cert_fingerprint=None if got is None else got.fingerprint,
                cert_not_after=None if got is None else got.not_after,
            ))
        return out


def touch_relay(db: Database, relay_id: str, *, now: datetime) -> None:
    """Note when the relay was last seen (at most every 10 s: a relay push is not a write
    transaction more than the station's own push is)."""
    stale = utc_iso_ms(now - timedelta(seconds=10))
    with db.read() as s:
        seen = s.execute(select(Relay.last_seen).where(Relay.id == relay_id)).scalar()
    if seen is not None and seen >= stale:
        return
    with db.write() as s:
        relay = s.get(Relay, relay_id)
        if relay is not None and (relay.last_seen is None or relay.last_seen < stale):
            relay.last_seen = utc_iso_ms(now)


def site_stations(db: Database, relay: service.Caller) -> RelayStations:
    """The relay's site's stations: what the site hub needs to authenticate them itself."""
    with db.read() as s:
        site = s.get(Site, relay.site_code)
        rows = s.execute(
            select(EnrolledStation)
            .where(EnrolledStation.site_code == relay.site_code)
            .order_by(EnrolledStation.id)
        ).scalars()
        stations = [
            RelayStation(station_id=r.id, name=r.name, token_hash=r.token_hash, revoked=bool(r.revoked))
            for r in rows
        ]
        epoch = hub_epoch(s)
    return RelayStations(
        site_code=relay.site_code,
        site_name=site.name if site is not None else relay.site_code,
        stations=stations,
        hub_epoch=epoch,
    )


def _group_station(s: Session, relay: service.Caller, station_id: str) -> EnrolledStation:
    st = s.get(EnrolledStation, station_id)
    if st is None:
        raise HubError(403, "auth.unknown_station", "no such station")
    if st.site_code != relay.site_code:
        raise HubError(403, "auth.cross_site", "this station is not of the relay's site")
    if st.revoked:
        raise HubError(403, "auth.revoked", "this station's access was revoked")
    return st


def _error(exc: HubError) -> ErrorBody:
    return ErrorBody(code=exc.code, message=exc.message, detail=dict(exc.detail))


def relay_push(
    db: Database, relay: service.Caller, groups: list[_PushRequest], *, now: str
) -> list[RelayGroupResult]:
    """Each group through the station's own push path, one transaction per group."""
    out: list[RelayGroupResult] = []
    for req in groups:
        try:
            with db.read() as s:
                _group_station(s, relay, req.station_id)
            # No skew measurement: sent_at is when the desk sent it to the site hub.
            results, expected = process_push(db, req.station_id, req, now=now)
        except HubError as exc:
            out.append(
                RelayGroupResult(
                    station_id=req.station_id,
                    replica_epoch=req.replica_epoch,
                    error=_error(exc),
                    expected_next_op_seq=_int_or_none(exc.detail.get("expected_next_op_seq")),
                )
            )
            continue
        out.append(
            RelayGroupResult(
                station_id=req.station_id,
                replica_epoch=req.replica_epoch,
                results=results,
                expected_next_op_seq=expected,
            )
        )
    return out


def relay_tally(
    db: Database, relay: service.Caller, tallies: list[TallyRequest], *, now: datetime
) -> list[RelayTallyResult]:
    """Each station's signed tally, verified with that station's own token hash."""
    out: list[RelayTallyResult] = []
    for req in tallies:
        try:
            with db.read() as s:
                st = _group_station(s, relay, req.station_id)
                caller = service.Caller(st.id, st.site_code, st.token_hash)
            service.record_tally(db, caller, req, now=now)
        except HubError as exc:
            out.append(RelayTallyResult(station_id=req.station_id, accepted=False, error=_error(exc)))
            continue
        out.append(RelayTallyResult(station_id=req.station_id, accepted=True))
    return out



def _int_or_none(v: object) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) else None
