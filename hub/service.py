"""Hub operations behind the API and the CLI: enrollment, auth, pull, tally, lookups, reports.

Tokens and enrollment codes are stored as SHA-256 hashes only. Nothing here
logs personal data: persons are referred to by id, never by name or number.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pydantic import ValidationError
from sqlalchemy import Text, cast, func, or_, select, text
from sqlalchemy.orm import Session

from hub import counters
from hub.apply.rows import replica_key
from hub.dashboard.auth import Scope
from hub.dashboard.data import build
from hub.db import Database, hub_epoch
from hub.effects import review_data
from hub.errors import HubError
from hub.models import (
    ChangeLog,
    Dose,
    EnrolledStation,
    EnrollmentCode,
    HubAudit,
    LookupAudit,
    Person,
    RelayCode,
    ReviewItem,
    ReviewSite,
    Site,
)
from hub.timestamps import parse_ts, utc_iso_ms
from sync.protocol import (
    MAX_PULL_BYTES,
    Change,
    EnrollRequest,
    EnrollResponse,
    LookupDose,
    LookupPerson,
    PersonLookupResponse,
    PullResponse,
    SiteSummary,
    TallyRequest,
    tally_signature_with_key,
    token_hash,
)
from sync.protocol import (
    ReviewItem as ReviewItemModel,
)

log = logging.getLogger(__name__)

# Enrollment codes: no look-alike characters (0/O, 1/I/L), read aloud over a phone line.
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


# ---- sites, codes and stations (CLI) -------------------------------------------------


def add_site(db: Database, code: str, name: str, province: str | None, *, now: datetime) -> None:
    with db.write() as s:
        if s.get(Site, code) is not None:
            raise HubError(409, "site.exists", "a site with this code exists")
        s.add(Site(code=code, name=name, province_code=province, created_at=utc_iso_ms(now)))


def new_enrollment_code(db: Database, site_code: str, *, ttl_hours: float, now: datetime) -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))
    with db.write() as s:
        if s.get(Site, site_code) is None:
            raise HubError(404, "site.not_found", "no such site")
        s.add(
            EnrollmentCode(
                code_hash=token_hash(raw),
                site_code=site_code,
                created_at=utc_iso_ms(now),
                expires_at=utc_iso_ms(now + timedelta(hours=ttl_hours)),
            )
        )
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def list_stations(db: Database) -> list[dict[str, object]]:
    with db.read() as s:
        rows = s.execute(select(EnrolledStation).order_by(EnrolledStation.site_code, EnrolledStation.enrolled_at)).scalars()
        return [
            {
                "id": r.id,
                "site_code": r.site_code,
                "name": r.name,
                "revoked": bool(r.revoked),
                "revoked_at": r.revoked_at,
                "enrolled_at": r.enrolled_at,
                "last_seen": r.last_seen,
                "clock_skew_ms": r.clock_skew_ms,
            }
            for r in rows
        ]


def revoke_station(
    db: Database, station_id: str, *, actor: str = "cli", reason: str | None = None, now: datetime | None = None
) -> None:
    """Revoke a lost or stolen laptop: its token is refused from now on, and re-enrolling
    does not lift it (only :func:`unrevoke_station`). Its last tally keeps counting,
    marked revoked, until its doses arrive or a supervisor writes them off
    (hub/counters.py); audited."""
    when = now or datetime.now(UTC)
    who = counters.clean_actor(actor)
    with db.write() as s:
        st = s.get(EnrolledStation, station_id)
        if st is None:
            raise HubError(404, "station.not_found", "no such station")
        if not st.revoked:
            st.revoked = 1
            st.revoked_at = utc_iso_ms(when)
        counters.audit(
            s,
            who,
            "revoke_station",
            st.id,
            {"site_code": st.site_code, "reason": (reason or "")[:500]},
            when,
        )


def unrevoke_station(
    db: Database, station_id: str, *, actor: str = "cli", now: datetime | None = None
) -> None:
    """Lift a revocation (an administrator's explicit decision, audited): the station may
    enroll again with a fresh one-time code. Its old token stays dead: the laptop was
    revoked for a reason (stolen, lost, misused), so whoever held that token keeps nothing."""
    when = now or datetime.now(UTC)
    with db.write() as s:
        st = s.get(EnrolledStation, station_id)
        if st is None:
            raise HubError(404, "station.not_found", "no such station")
        if st.revoked:
            st.revoked = 0
            st.revoked_at = None
            st.token_hash = token_hash(secrets.token_urlsafe(32))  # nobody holds this one
            counters.audit(
                s, counters.clean_actor(actor), "unrevoke_station", st.id,
                {"site_code": st.site_code}, when,
            )


# ---- enrollment and auth -------------------------------------------------------------


_Code = TypeVar("_Code", EnrollmentCode, RelayCode)


def take_code(
    s: Session, model: type[_Code], text_code: str, *, now: datetime, what: str
) -> tuple[_Code, Site]:
    """A one-time code (a station's or a site hub's), locked, checked unused and unexpired,
    and its site; ``what`` names it in the refusal ("enrollment code", "relay code")."""
    code = s.get(model, token_hash(normalise_code(text_code)), with_for_update=True)
    if code is None:
        raise HubError(403, "enroll.invalid_code", f"unknown {what}")
    if code.used_at is not None:
        raise HubError(403, "enroll.code_used", f"this {what} was already used")
    expires = parse_ts(code.expires_at)
    if expires is None or expires <= now:
        raise HubError(403, "enroll.code_expired", f"this {what} has expired")
    site = s.get(Site, code.site_code)
    assert site is not None
    return code, site


def enroll(db: Database, req: EnrollRequest, *, now: datetime) -> EnrollResponse:
    token = secrets.token_urlsafe(32)
    with db.write() as s:
        code, site = take_code(s, EnrollmentCode, req.code, now=now, what="enrollment code")
        existing = s.get(EnrolledStation, req.station_id)
        if existing is not None and existing.site_code != site.code:
            # A laptop moves between sites only by a fresh install: its data belong to one site.
            raise HubError(409, "enroll.other_site", "this station is enrolled at another site")
        if existing is not None and existing.revoked:
            # A revocation is permanent until an administrator lifts it (station unrevoke);
            # the code is not used up.
            raise HubError(403, "enroll.revoked", "this station was revoked at the hub")
        code.used_at = utc_iso_ms(now)
        code.used_by = req.station_id
        if existing is None:
            s.add(
                EnrolledStation(
                    id=req.station_id,
                    site_code=site.code,
                    name=req.station_name,
                    token_hash=token_hash(token),
                    revoked=0,
                    enrolled_at=utc_iso_ms(now),
                    skew_flagged=0,
                )
            )
        else:
            # Re-enrolling (a reinstalled laptop) replaces the token.
            existing.token_hash = token_hash(token)
            existing.name = req.station_name or existing.name
        epoch = hub_epoch(s)
    log.info("station enrolled at site %s", site.code)
    return EnrollResponse(
        station_id=req.station_id,
        site_code=site.code,
        site_name=site.name,
        token=token,
        hub_epoch=epoch,
    )


@dataclass(frozen=True)
class Caller:
    station_id: str
    site_code: str
    token_hash: str


def authenticate(db: Database, authorization: str | None) -> Caller:
    if not authorization:
        raise HubError(401, "auth.missing_token", "Authorization: Bearer <token> is required")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise HubError(401, "auth.invalid_token", "malformed Authorization header")
    digest = token_hash(token.strip())
    with db.read(single=True) as s:  # one statement: one round trip on PostgreSQL
        st = s.execute(select(EnrolledStation).where(EnrolledStation.token_hash == digest)).scalar()
        if st is None:
            raise HubError(401, "auth.invalid_token", "unknown token")
        if st.revoked:
            raise HubError(403, "auth.revoked", "this station's access was revoked")
        return Caller(st.id, st.site_code, digest)


# A station's "last contact" needs no finer grain than this; every long-poll pull
# would otherwise be a write.
TOUCH_GRAIN_S = 10


def touch_station(db: Database, station_id: str, *, now: datetime) -> None:
    stamp = utc_iso_ms(now)
    with db.write() as s:
        s.execute(
            text(
                "UPDATE station SET last_seen = :t WHERE id = :i "
                "AND (last_seen IS NULL OR last_seen < :before)"
            ),
            {"t": stamp, "i": station_id, "before": utc_iso_ms(now - timedelta(seconds=TOUCH_GRAIN_S))},
        )


# ---- pull ----------------------------------------------------------------------------


def pull(
    db: Database,
    caller: Caller,
    cursor: int,
    limit: int,
    replica_epoch: str | None = None,
    *,
    max_bytes: int = MAX_PULL_BYTES,
) -> PullResponse:
    with db.read() as s:
        # The committed head first, then rows at or below it: every number below the
        # head belongs to a committed transaction (hub_clock's row lock), so
        # answering `next_cursor = head` when the page is short skips nothing.
        head = int(s.execute(text("SELECT seq FROM hub_clock WHERE id = 1")).scalar_one())
        epoch = hub_epoch(s)
        # Rows that only echo what this replica sent (it holds them already) are skipped.
        echo_filter = (
            [
                or_(
                    ChangeLog.echo_for.is_(None),
                    ChangeLog.echo_for != replica_key(caller.station_id, replica_epoch),
                )
            ]
            if replica_epoch
            else []
        )
        found = s.execute(
            select(ChangeLog, func.length(cast(ChangeLog.data, Text)))
            .where(
                ChangeLog.scope == caller.site_code,
                ChangeLog.server_seq > cursor,
                ChangeLog.server_seq <= head,
                *echo_filter,
            )
            .order_by(ChangeLog.server_seq)
            .limit(limit + 1)
        ).all()
    # The page ends at ``limit`` rows or once the rows' data reach max_bytes (at
    # least one row: a single large row still moves the cursor).
    rows: list[ChangeLog] = []
    size = 0
    for row, length in found:
        if len(rows) >= limit or (rows and size + int(length or 0) > max_bytes):
            break
        rows.append(row)
        size += int(length or 0)
    has_more = len(found) > len(rows)
    changes = [
        Change(
            server_seq=r.server_seq,
            entity_type=r.entity_type,
            entity_id=r.entity_id,
            kind=r.kind,
            row_version=r.row_version,
            data=r.data,
        )
        for r in rows
    ]
    if has_more:
        next_cursor = rows[-1].server_seq
    else:
        # A cursor beyond the head means the hub was restored: stations refetch (see docs).
        next_cursor = max(cursor, head) if cursor <= head else cursor
    return PullResponse(
        changes=changes, next_cursor=next_cursor, has_more=has_more, hub_epoch=epoch, head_seq=head
    )


# ---- tally and summary ---------------------------------------------------------------


def record_tally(db: Database, caller: Caller, req: TallyRequest, *, now: datetime) -> None:
    """Verify a station's tally and store it with its per-day claims (hub/counters.py)."""
    if req.station_id != caller.station_id:
        raise HubError(403, "auth.station_mismatch", "station_id does not match the token")
    expected = tally_signature_with_key(caller.token_hash, req.rows)
    # Compare bytes: compare_digest refuses non-ASCII str (a garbage signature is just wrong).
    if not hmac.compare_digest(expected.encode(), req.signature.lower().encode("utf-8")):
        raise HubError(403, "tally.bad_signature", "the tally signature does not verify")

    def run(s: Session) -> None:
        st = s.get(EnrolledStation, caller.station_id)
        if st is None:
            raise HubError(401, "auth.invalid_token", "unknown station")
        counters.record_tally(s, st, req, now=now)

    db.run_write(run)


def site_summary(db: Database, site_code: str, *, now: datetime | None = None) -> SiteSummary:
    """Given against received for one site: the dashboard's own numbers.

    One computation serves the dashboard, ``tramtiem-hub report`` and the
    station API, so they never disagree.
    """
    with db.read() as s:
        if s.get(Site, site_code) is None:
            raise HubError(404, "site.not_found", "no such site")
    board = build(db, Scope("site", site_code), now=now or datetime.now(UTC))
    rows = board.sites()
    if not rows:
        raise HubError(404, "site.not_found", "no such site")
    n = rows[0].n
    return SiteSummary(
        site_code=site_code,
        given=n.given,
        received=n.received,
        gap=n.gap,
        pending_at_stations=n.pending_doses,
        oldest_pending_at=utc_iso_ms(n.oldest_pending_at) if n.oldest_pending_at else None,
        last_contact=utc_iso_ms(n.last_contact) if n.last_contact else None,
        stations=n.stations,
        written_off=n.written_off,
        revoked_gap=n.revoked_gap,
        revoked_stations=n.revoked_stations,
    )


def audit_log(db: Database, *, limit: int = 200) -> list[dict[str, object]]:
    """The newest audited admin actions (revocations, write-offs), newest first."""
    with db.read() as s:
        rows = s.execute(select(HubAudit).order_by(HubAudit.id.desc()).limit(limit)).scalars()
        return [
            {"id": r.id, "at": r.at, "actor": r.actor, "action": r.action, "target": r.target,
             "detail": r.detail}
            for r in rows
        ]


def all_site_codes(db: Database) -> list[str]:
    with db.read() as s:
        sites = set(s.execute(select(Site.code)).scalars()) | set(
            s.execute(select(EnrolledStation.site_code)).scalars()
        )
    return sorted(sites)


# ---- lookups and reviews -------------------------------------------------------------


# Person look-ups by ID number: per station, at most LOOKUP_LIMIT in any LOOKUP_WINDOW_S.
# A reception desk checks one walk-in at a time (a busy one: a couple a minute);
# three times that still lets a desk work, and stops a station from walking the
# province's ID numbers.
LOOKUP_LIMIT = 60
LOOKUP_WINDOW_S = 600


def _found_person(s: Session, audit: LookupAudit, id_number: str) -> PersonLookupResponse:
    """The answer to a look-up within the limit, its outcome noted on its audit row."""
    person = s.execute(select(Person).where(Person.id_key == id_number)).scalar()
    if person is None:
        audit.outcome = "not_found"
        return PersonLookupResponse(found=False)
    audit.outcome = "found"
    audit.person_id = person.id
    doses = s.execute(
        select(Dose).where(Dose.person_id == person.id, Dose.voided == 0).order_by(Dose.day, Dose.id)
    ).scalars()
    return PersonLookupResponse(
        found=True,
        person=LookupPerson(full_name=person.full_name, birth_year=person.birth_year, sex=person.sex),
        doses=[
            LookupDose(
                vaccine_code=d.vaccine_code,
                dose_number=d.dose_number,
                kind=d.kind,
                day=d.day,
                site_code=d.site_code,
                source=d.source,
            )
            for d in doses
        ],
    )


def lookup_by_id_number(
    db: Database,
    caller: Caller,
    id_number: str,
    *,
    now: datetime,
    limit: int = LOOKUP_LIMIT,
    window_s: int = LOOKUP_WINDOW_S,
) -> PersonLookupResponse:
    """The active person holding ``id_number`` anywhere, as much as a desk needs, audited.

    Rate-limited per station (``429 lookup.rate_limited``); every look-up, served or
    refused, is written to ``lookup_audit`` with the station, the time and the person
    found (never the number). The answer holds the name, birth year and sex (to tell
    whether it is the person at the desk) and the valid doses (vaccine, number, kind,
    day, site: to give the right next dose). No contact data, address, ID numbers,
    lots or staff.
    """

    def run(s: Session) -> PersonLookupResponse | int:
        # The station row's lock makes one station's look-ups take turns, so the count
        # below is exact under concurrency (a read-then-write rule).
        s.execute(select(EnrolledStation.id).where(EnrolledStation.id == caller.station_id).with_for_update()).all()
        since = utc_iso_ms(now - timedelta(seconds=window_s))
        used = int(
            s.execute(
                select(func.count())
                .select_from(LookupAudit)
                .where(
                    LookupAudit.station_id == caller.station_id,
                    LookupAudit.at > since,
                    LookupAudit.outcome != "limited",
                )
            ).scalar_one()
        )
        audit = LookupAudit(
            station_id=caller.station_id, site_code=caller.site_code, at=utc_iso_ms(now), outcome="limited"
        )
        s.add(audit)
        if used >= limit:
            return window_s
        return _found_person(s, audit, id_number)

    out = db.run_write(run)
    if isinstance(out, int):
        log.warning("person look-ups of a station at site %s over the limit", caller.site_code)
        raise HubError(
            429,
            "lookup.rate_limited",
            f"at most {limit} look-ups per {window_s} s per station",
            limit=limit,
            window_s=window_s,
            retry_after_s=max(1, window_s // 10),
        )
    return out


def list_reviews(db: Database, site_code: str | None, status: str | None) -> list[ReviewItemModel]:
    with db.read() as s:
        q = select(ReviewItem).order_by(ReviewItem.created_at, ReviewItem.id)
        if site_code is not None:
            q = q.join(ReviewSite, ReviewSite.review_id == ReviewItem.id).where(
                ReviewSite.site_code == site_code
            )
        if status is not None:
            q = q.where(ReviewItem.status == status)
        out: list[ReviewItemModel] = []
        for r in s.execute(q).scalars():
            try:
                out.append(ReviewItemModel.model_validate(review_data(r)))
            except (ValidationError, TypeError, ValueError):
                # A row no reader can show (stored by an older hub): listed by id alone in the
                # log rather than failing the whole list.
                log.warning("review item %s cannot be listed", r.id)
        return out
