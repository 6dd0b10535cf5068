"""The true count: per station and day, what the hub holds and what the station claims.

Kept in ``station_day`` (hub/models.py), one row per (site, station, day):

* ``held_all`` / ``held_valid``: doses (``source = 'site'``) the hub holds whose
  origin is that station, all of them / not voided. Written in the SAME
  transaction as the op that changes them (:func:`note_new_dose`,
  :func:`note_void`, then :func:`flush` at the end of the push), with atomic
  upserts (``INSERT … ON CONFLICT DO UPDATE SET n = n + excluded.n``), so two
  pushes at once on PostgreSQL never lose an increment and the dashboard never
  counts doses. Station '' holds doses whose origin is unknown (older rows).
* ``t_*``: the station's latest tally for that day (:func:`record_tally`),
  counted over the doses it entered itself (``station/tally.py``).
* ``carried``: doses an earlier replica epoch of the station claimed and the
  hub did not hold when a restored backup (a new epoch) sent its first tally;
  paid off as doses recorded before that point arrive.
* ``written_off``: what a supervisor wrote off (:func:`write_off`).

``station_total`` keeps ``held_*`` per station over all days (same upserts), so a
dashboard sums one row per station for "received"; the per-day arithmetic below is
needed only on the rows where something may still be owed (``OPEN_ROWS_SQL``, a
partial index): recent days, pending doses, carried doses.

The arithmetic, per row (all counts for one station and day):

* not at the hub: ``miss_all = max(0, t_all_entered − held_all)``. Exact when
  everything the hub holds from the station is in the station's database,
  which holds at every tally (the engine tallies before pushing, and pushes in
  op order); it needs no trust in the station's "pending" (a lost answer leaves
  an op "pending" at the station that the hub holds already);
* of which voided at the station: ``vnh = max(0, (t_all_entered − t_entered) −
  (t_all_acked − t_acked))`` (voided doses whose record the hub did not accept);
* missing = ``max(0, miss_all − vnh) + carried``; written off (effective) =
  ``min(written_off, missing)``, so doses that arrive after a write-off move
  from "written off" to "received" and are counted once;
* voids the station holds for doses the hub counts as valid: ``t_voids_unsent``.

For a site: received = Σ ``held_valid``; given = received + Σ missing − Σ
voids_unsent; gap = given − received − written off (open); a revoked station's
rows keep counting, marked. Cross-check at each tally, per day: the hub must
hold at least what the station says was acknowledged and at most that plus
what it says is pending (``t_all_acked ≤ held_all ≤ t_all_acked +
t_all_pending``); the doses outside that range are the station's ``mismatch``
(an alert on the dashboard).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from hub.counters_push import (
    flush,
    mark,
    note_new_dose,
    note_void,
    rollback_to,
)
from hub.counters_repair import rebuild, recount, verify
from hub.db import Database
from hub.errors import HubError
from hub.models import EnrolledStation, HubAudit, StationTally, WriteOff
from hub.timestamps import utc_iso_ms
from kernel.chunks import in_chunks
from kernel.ids import uuid7
from sync.protocol import TallyRequest

log = logging.getLogger(__name__)

# Times outside this window are not believed (a station clock set to year 1 or 9999).
EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)
MAX_REASON = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _pos(expr: str) -> str:
    return f"(CASE WHEN ({expr}) > 0 THEN ({expr}) ELSE 0 END)"


# Per-row SQL of the arithmetic above (plain CASE: the same on SQLite and PostgreSQL).
MISS_ALL_SQL = _pos("t_all_entered - held_all")
VOIDED_NOT_HELD_SQL = _pos("(t_all_entered - t_entered) - (t_all_acked - t_acked)")
CURRENT_MISSING_SQL = _pos(f"{MISS_ALL_SQL} - {VOIDED_NOT_HELD_SQL}")
MISSING_SQL = f"({CURRENT_MISSING_SQL} + carried)"
WRITTEN_OFF_SQL = f"(CASE WHEN written_off < {MISSING_SQL} THEN written_off ELSE {MISSING_SQL} END)"


# ---- times ---------------------------------------------------------------------------


def bounded_time(raw: object, now: datetime) -> datetime | None:
    """A station-supplied timestamp as UTC, or None when absent, naive or not believable."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    try:
        dt = datetime.fromisoformat(raw)
        if dt.tzinfo is None:
            return None
        utc = dt.astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    if utc < EARLIEST or utc > now.astimezone(UTC) + FUTURE_SLACK:
        return None
    return utc


# ---- tallies -------------------------------------------------------------------------

_CLAIMS = ("t_entered", "t_pending", "t_acked", "t_all_entered", "t_all_pending", "t_all_acked", "t_voids_unsent")

_UPSERT_CLAIMS = text(
    "INSERT INTO station_day (site_code, station_id, day, "
    + ", ".join(_CLAIMS)
    + ") VALUES (:site, :st, :day, "
    + ", ".join(f":{c}" for c in _CLAIMS)
    + ") ON CONFLICT (site_code, station_id, day) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in _CLAIMS)
)


@dataclass(frozen=True, slots=True)
class TallyOutcome:
    legacy: bool
    mismatch: int
    froze_epoch: bool


def record_tally(
    session: Session, station: EnrolledStation, req: TallyRequest, *, now: datetime
) -> TallyOutcome:
    """Store a (verified) tally: its claims per day, the cross-check, its receipt fields.

    A tally from a new replica epoch (a restored backup) first freezes what the
    previous epoch still owed into ``carried``: the restored database may no
    longer hold doses the lost laptop had reported, and they must not vanish.
    """
    now_iso = utc_iso_ms(now)
    # The station row first, as a push takes it (one lock order for both).
    station.last_seen = now_iso
    session.flush()
    row = session.get(StationTally, station.id, with_for_update=True)
    legacy = any(
        r.all_entered is None or r.all_pending is None or r.all_acknowledged is None
        for r in req.rows
    )
    generated = bounded_time(req.generated_at, now)
    froze = False
    if (
        row is not None
        and not legacy
        and req.replica_epoch
        and row.replica_epoch
        and req.replica_epoch != row.replica_epoch
    ):
        cut = row.generated_at or row.received_at
        _freeze(session, station)
        row.carried_cut = max(row.carried_cut or "", cut)
        froze = True
        log.info("station %s: new replica epoch; what the previous one owed is carried", station.id)
    by_day = _claims_by_day(req)
    if legacy and by_day:
        _claim_what_is_held(session, station, by_day)
    if by_day:
        session.execute(
            _UPSERT_CLAIMS,
            [
                {"site": station.site_code, "st": station.id, "day": day, **by_day[day]}
                for day in sorted(by_day)
            ],
        )
    if not legacy and len(req.rows) < _TALLY_ROWS_MAX:
        _clear_absent_voids(session, station, set(by_day))
    mismatch = 0 if legacy else _cross_check(session, station, by_day)
    oldest = bounded_time(req.oldest_pending_at, now)
    values: dict[str, object] = {
        "tally": req.model_dump(mode="json"),
        "received_at": now_iso,
        "generated_at": utc_iso_ms(generated) if generated else None,
        "oldest_pending_at": utc_iso_ms(oldest) if oldest else None,
        "replica_epoch": req.replica_epoch,
        "outbox_pending": req.outbox_pending,
        "ops_since": 0,
        "mismatch": mismatch,
        "legacy": 1 if legacy else 0,
    }
    if row is None:
        session.add(StationTally(station_id=station.id, **values))
    else:
        for k, v in values.items():
            setattr(row, k, v)
    if mismatch:
        log.warning("station %s: tally disagrees with the hub by %d dose(s)", station.id, mismatch)
    return TallyOutcome(legacy=legacy, mismatch=mismatch, froze_epoch=froze)


_TALLY_ROWS_MAX = 5000  # sync.protocol.TallyRequest.rows: a tally this long may be cut short


def _clear_absent_voids(session: Session, station: EnrolledStation, days: set[str]) -> None:
    """Days the tally leaves out have no void waiting at the station (a day with one is always
    in its tally, whatever its age: station/tally.py). An older tally that said otherwise —
    one a site hub forwarded after the void itself — must not keep counting it."""
    sql = (
        "UPDATE station_day SET t_voids_unsent = 0 WHERE site_code = :site AND station_id = :st "
        "AND t_voids_unsent <> 0"
    )
    params: dict[str, object] = {"site": station.site_code, "st": station.id}
    stmt = text(sql)
    if days:
        stmt = text(sql + " AND day NOT IN :days").bindparams(bindparam("days", expanding=True))
        params["days"] = sorted(days)
    session.execute(stmt, params)


def _claims_by_day(req: TallyRequest) -> dict[str, dict[str, int]]:
    """The tally's claims summed per day (a station sends one row per day and kind)."""
    by_day: dict[str, dict[str, int]] = {}
    for r in req.rows:
        d = by_day.setdefault(r.day, dict.fromkeys(_CLAIMS, 0))
        d["t_entered"] += r.entered
        d["t_pending"] += r.pending
        d["t_acked"] += r.acknowledged
        d["t_all_entered"] += r.entered if r.all_entered is None else r.all_entered
        d["t_all_pending"] += r.pending if r.all_pending is None else r.all_pending
        d["t_all_acked"] += r.acknowledged if r.all_acknowledged is None else r.all_acknowledged
        d["t_voids_unsent"] += r.voids_unsent or 0
    return by_day


def _claim_what_is_held(session: Session, station: EnrolledStation, by_day: dict[str, dict[str, int]]) -> None:
    """A station from before per-station counting counts every dose of its site it
    holds (its siblings' too); only its "pending" is its own (its outbox). Claim
    what the hub holds from it plus that pending, so it owes exactly its pending."""
    held_now = _held(session, station, sorted(by_day))
    for day, d in by_day.items():
        h_all, h_valid = held_now.get(day, (0, 0))
        d.update(
            t_entered=h_valid + d["t_pending"],
            t_acked=h_valid,
            t_all_entered=h_all + d["t_pending"],
            t_all_pending=d["t_pending"],
            t_all_acked=h_all,
            t_voids_unsent=0,
        )


def _freeze(session: Session, station: EnrolledStation) -> None:
    session.execute(
        text(
            f"UPDATE station_day SET carried = carried + {CURRENT_MISSING_SQL}, "
            + ", ".join(f"{c} = 0" for c in _CLAIMS)
            + " WHERE site_code = :site AND station_id = :st"
        ),
        {"site": station.site_code, "st": station.id},
    )


def _held(session: Session, station: EnrolledStation, days: list[str]) -> dict[str, tuple[int, int]]:
    """(held_all, held_valid) per day of ``station`` (rows locked for this transaction)."""
    held: dict[str, tuple[int, int]] = {}
    for chunk in in_chunks(days):
        for day, a, v in session.execute(
            text(
                "SELECT day, held_all, held_valid FROM station_day WHERE site_code = :site "
                "AND station_id = :st AND day IN :days"
            ).bindparams(bindparam("days", expanding=True)),
            {"site": station.site_code, "st": station.id, "days": chunk},
        ):
            held[str(day)] = (int(a), int(v))
    return held


def _cross_check(session: Session, station: EnrolledStation, by_day: dict[str, dict[str, int]]) -> int:
    held = {d: a for d, (a, _v) in _held(session, station, sorted(by_day)).items()}
    off = 0
    for day, c in by_day.items():
        h = held.get(day, 0)
        low, high = c["t_all_acked"], c["t_all_acked"] + c["t_all_pending"]
        off += max(0, low - h) + max(0, h - high)
    return off


# ---- write-offs and the audit log ----------------------------------------------------


def audit(session: Session, actor: str, action: str, target: str, detail: dict[str, object], now: datetime) -> None:
    session.add(HubAudit(at=utc_iso_ms(now), actor=actor, action=action, target=target, detail=detail))


def clean_actor(raw: str) -> str:
    actor = " ".join((raw or "").split())
    if not 1 <= len(actor) <= 64 or _CONTROL.search(actor):
        raise HubError(400, "audit.bad_actor", "--by: who does this (1 to 64 characters)")
    return actor


def clean_reason(raw: str) -> str:
    reason = " ".join((raw or "").split())
    if not 3 <= len(reason) <= MAX_REASON or _CONTROL.search(raw or ""):
        raise HubError(
            400, "write_off.bad_reason", f"--reason: 3 to {MAX_REASON} characters, why the doses are written off"
        )
    return reason


@dataclass(frozen=True, slots=True)
class WriteOffResult:
    id: str
    station_id: str
    site_code: str
    doses: int
    days: dict[str, int]


def write_off(db: Database, station_id: str, *, reason: str, actor: str, now: datetime) -> WriteOffResult:
    """Write off what a station still owes (its open gap), with a reason: audited, shown apart.

    Doses that arrive later (a restored backup, a bundle) still count once: the
    effective write-off is capped by what is still missing (see the module doc).
    """
    reason = clean_reason(reason)
    actor = clean_actor(actor)

    def run(s: Session) -> WriteOffResult:
        st = s.get(EnrolledStation, station_id)
        if st is None:
            raise HubError(404, "station.not_found", "no such station")
        rows = s.execute(
            text(
                f"SELECT day, {MISSING_SQL} - {WRITTEN_OFF_SQL} AS open_gap, {MISSING_SQL} AS missing "
                "FROM station_day WHERE site_code = :site AND station_id = :st ORDER BY day"
                + ("" if db.sqlite else " FOR UPDATE")
            ),
            {"site": st.site_code, "st": st.id},
        ).all()
        days = {str(d): int(o) for d, o, _m in rows if int(o) > 0}
        if not days:
            raise HubError(409, "write_off.nothing_open", "this station owes no doses")
        s.execute(
            text(
                "UPDATE station_day SET written_off = :m WHERE site_code = :site "
                "AND station_id = :st AND day = :d"
            ),
            [
                {"m": int(m), "site": st.site_code, "st": st.id, "d": str(d)}
                for d, o, m in rows
                if int(o) > 0
            ],
        )
        wid = uuid7()
        total = sum(days.values())
        s.add(
            WriteOff(
                id=wid,
                station_id=st.id,
                site_code=st.site_code,
                doses=total,
                days=days,
                reason=reason,
                actor=actor,
                created_at=utc_iso_ms(now),
            )
        )
        audit(
            s,
            actor,
            "write_off",
            st.id,
            {"site_code": st.site_code, "doses": total, "days": days, "reason": reason, "write_off_id": wid},
            now,
        )
        return WriteOffResult(wid, st.id, st.site_code, total, days)

    result = db.run_write(run)
    log.info("write-off of %d dose(s) for station %s", result.doses, result.station_id)
    return result


def write_offs(session: Session, site_codes: Iterable[str]) -> list[WriteOff]:
    out: list[WriteOff] = []
    for chunk in in_chunks(sorted(set(site_codes))):
        out += list(
            session.execute(
                select(WriteOff).where(WriteOff.site_code.in_(chunk)).order_by(WriteOff.created_at)
            ).scalars()
        )
    return out


__all__ = [
    "CURRENT_MISSING_SQL",
    "MISSING_SQL",
    "WRITTEN_OFF_SQL",
    "TallyOutcome",
    "WriteOffResult",
    "audit",
    "bounded_time",
    "clean_actor",
    "clean_reason",
    "flush",
    "mark",
    "note_new_dose",
    "note_void",
    "rebuild",
    "record_tally",
    "recount",
    "rollback_to",
    "verify",
    "write_off",
    "write_offs",
]
