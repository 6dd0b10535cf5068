"""The dose counters' side of a push (split from :mod:`hub.counters`, whose docstring has the
arithmetic): notes taken while ops apply, written at the push's end in the same transaction."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hub.db import pipelined
from hub.effects import Numbering
from hub.models import Dose, StationTally
from kernel.chunks import in_chunks

NOTES_KEY = "tt_dose_notes"
UNKNOWN_STATION = ""


def parse_time(raw: object) -> datetime | None:
    """An aware timestamp as UTC (no plausibility window: for comparisons between a
    station's own times, such as a dose's recorded_at against its tally's)."""
    if not isinstance(raw, str) or len(raw) > 40:
        return None
    try:
        dt = datetime.fromisoformat(raw)
        return dt.astimezone(UTC) if dt.tzinfo is not None else None
    except (ValueError, OverflowError):
        return None


# ---- notes taken during a push -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Note:
    kind: str  # "new" | "void"
    site: str
    station: str
    day: str
    dose_id: str
    recorded_at: str | None
    voided_by: str | None = None  # the station whose void op this is (None: a hub resolution)


@dataclass(slots=True)
class _Delta:
    """What one (site, station, day) gains in this transaction."""

    held_all: int = 0
    held_valid: int = 0
    arrivals: list[str | None] = field(default_factory=list)  # recorded_at of new doses not voided
    sent_voids: int = 0  # voids sent of doses the hub already held


def _notes(session: Session) -> list[_Note]:
    notes: list[_Note] = session.info.setdefault(NOTES_KEY, [])
    return notes


def note_new_dose(
    session: Session,
    *,
    dose_id: str,
    site: str,
    origin: str | None,
    day: str,
    source: str,
    recorded_at: str | None,
) -> None:
    """A dose row was created in this transaction (counted at :func:`flush`)."""
    if source != "site":
        return  # copied from a paper certificate: not given here
    _notes(session).append(_Note("new", site, origin or UNKNOWN_STATION, day, dose_id, recorded_at))


def note_void(session: Session, dose: Dose, *, by_station: str | None = None) -> None:
    """A valid dose was voided in this transaction (``by_station``: by that station's void op).

    A station's tally counts the voids it has not sent yet (``t_voids_unsent``);
    each one that arrives pays one of them off, so the count is right before the
    station's next tally.
    """
    if dose.source != "site":
        return
    _notes(session).append(
        _Note(
            "void",
            dose.site_code,
            dose.origin_station or UNKNOWN_STATION,
            dose.day,
            dose.id,
            None,
            by_station,
        )
    )


def mark(session: Session) -> int:
    """Where the notes stand before an op's savepoint (see :func:`rollback_to`)."""
    return len(_notes(session))


def rollback_to(session: Session, n: int) -> None:
    """The op's savepoint was rolled back: forget what it noted."""
    del _notes(session)[n:]


_UPSERT_HELD = text(
    "INSERT INTO station_day (site_code, station_id, day, held_all, held_valid) "
    "VALUES (:site, :st, :day, :a, :v) "
    "ON CONFLICT (site_code, station_id, day) DO UPDATE SET "
    "held_all = station_day.held_all + excluded.held_all, "
    "held_valid = station_day.held_valid + excluded.held_valid, "
    "carried = CASE WHEN station_day.carried > :c THEN station_day.carried - :c ELSE 0 END, "
    "t_voids_unsent = CASE WHEN station_day.t_voids_unsent > :u "
    "THEN station_day.t_voids_unsent - :u ELSE 0 END"
)


_UPSERT_TOTAL = text(
    "INSERT INTO station_total (site_code, station_id, held_all, held_valid) "
    "VALUES (:site, :st, :a, :v) ON CONFLICT (site_code, station_id) DO UPDATE SET "
    "held_all = station_total.held_all + excluded.held_all, "
    "held_valid = station_total.held_valid + excluded.held_valid"
)


_OPS_SINCE = "UPDATE station_tally SET ops_since = ops_since + :n WHERE station_id = :s"


def _pg(sql: str) -> str:
    """A statement's ``:name`` parameters as psycopg's ``%(name)s``."""
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql)


_PG = {sql: _pg(sql) for sql in (_OPS_SINCE, _UPSERT_HELD.text, _UPSERT_TOTAL.text)}


def flush(
    session: Session, *, station_id: str | None = None, answered: int = 0, numbering: Numbering | None = None
) -> None:
    """Write this transaction's counter changes: one atomic upsert per (site, station, day).

    Keys are written in sorted order, so two transactions never take the same
    rows in opposite orders. ``answered`` ops of ``station_id`` count against the
    pending ops of its latest tally.

    ``numbering`` (PostgreSQL; issue 15, branch pgwaits): the writes are handed to it
    instead, to go out with the hub clock's update in one round trip
    (:meth:`hub.effects.Numbering.write`: in this order, just before the clock, in this
    transaction); only the read of the carried cuts, when one is needed, waits here, sent
    with the ``ops_since`` update before it.
    """
    pg = numbering is not None and session.get_bind().dialect.name == "postgresql"
    writes: list[tuple[str, list[dict[str, str | int]]]] = []
    if station_id is not None and answered:
        writes.append((_OPS_SINCE, [{"n": answered, "s": station_id}]))
    notes: list[_Note] = session.info.pop(NOTES_KEY, [])
    session.flush()  # the ORM's own writes of this transaction go first
    deltas = _deltas(notes)
    stations = {k[1] for k, d in deltas.items() if d.arrivals}
    if pg and stations:
        # the ops_since update first, then the read, as one at a time did: one round trip
        conn = session.connection()
        before = [(_PG[sql], p) for sql, rows in writes for p in rows]
        got = pipelined(conn, [*before, (_CUTS_PG, (sorted(stations),))])
        cuts = _parsed_cuts(got[-1])
        writes = []
    else:
        if writes and not pg:
            session.execute(text(_OPS_SINCE), writes.pop()[1])
        cuts = _carried_cuts(session, stations)
    writes += _upserts(deltas, cuts)
    if pg:
        assert numbering is not None
        numbering.before += [(_PG[sql], p) for sql, rows in writes for p in rows]
        return
    for sql, rows in writes:
        session.execute(text(sql), rows)


def _deltas(notes: list[_Note]) -> dict[tuple[str, str, str], _Delta]:
    voided = {n.dose_id for n in notes if n.kind == "void"}
    created = {n.dose_id for n in notes if n.kind == "new"}
    deltas: dict[tuple[str, str, str], _Delta] = {}
    for n in notes:
        d = deltas.setdefault((n.site, n.station, n.day), _Delta())
        if n.kind == "new":
            d.held_all += 1
            d.held_valid += 1
            if n.dose_id not in voided:
                d.arrivals.append(n.recorded_at)
        else:
            d.held_valid -= 1
            if n.voided_by is not None and n.dose_id not in created:
                # A void of a dose the hub already held: one the station's tally counted
                # as not sent yet (a dose sent with its void was never in that count).
                deltas.setdefault((n.site, n.voided_by, n.day), _Delta()).sent_voids += 1
    return deltas


def _upserts(
    deltas: dict[tuple[str, str, str], _Delta], cuts: dict[str, datetime]
) -> list[tuple[str, list[dict[str, str | int]]]]:
    """The upserts of ``station_day`` (sorted by key) and of ``station_total`` (sorted)."""
    if not deltas:
        return []
    params: list[dict[str, str | int]] = []
    totals: dict[tuple[str, str], list[int]] = {}
    for key in sorted(deltas):
        site, st, day = key
        d = deltas[key]
        paid = 0
        cut = cuts.get(st)
        if cut is not None:
            for at in d.arrivals:
                when = parse_time(at)
                if when is not None and when <= cut:
                    paid += 1
        params.append(
            {"site": site, "st": st, "day": day, "a": d.held_all, "v": d.held_valid, "c": paid, "u": d.sent_voids}
        )
        t = totals.setdefault((site, st), [0, 0])
        t[0] += d.held_all
        t[1] += d.held_valid
    out: list[tuple[str, list[dict[str, str | int]]]] = [(_UPSERT_HELD.text, params)]
    changed: list[dict[str, str | int]] = [
        {"site": k[0], "st": k[1], "a": v[0], "v": v[1]} for k, v in sorted(totals.items()) if v != [0, 0]
    ]
    if changed:
        out.append((_UPSERT_TOTAL.text, changed))
    return out


_CUTS_PG = "SELECT station_id, carried_cut FROM station_tally WHERE station_id = ANY(%b) AND carried_cut IS NOT NULL"


def _parsed_cuts(rows: Iterable[Sequence[object]]) -> dict[str, datetime]:
    out: dict[str, datetime] = {}
    for sid, cut in rows:
        parsed = parse_time(cut)
        if parsed is not None:
            out[str(sid)] = parsed
    return out


def _carried_cuts(session: Session, stations: set[str]) -> dict[str, datetime]:
    if not stations:
        return {}
    out: dict[str, datetime] = {}
    for chunk in in_chunks(sorted(stations)):
        out.update(
            _parsed_cuts(
                session.execute(
                    select(StationTally.station_id, StationTally.carried_cut).where(
                        StationTally.station_id.in_(chunk), StationTally.carried_cut.is_not(None)
                    )
                )
            )
        )
    return out
