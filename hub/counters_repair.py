"""Rebuilding and checking the held counters from the doses (repair, tests and benchmarks).

A full scan of ``dose``: never on a request's path. ``hub.counters`` keeps the
counters current in every push; this is how ``tramtiem-hub counters verify`` and
``counters rebuild`` compare them with, or rebuild them from, the doses.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

_HELD_FROM_DOSES = (
    "SELECT site_code, coalesce(origin_station, '') AS station_id, day, count(*) AS held_all, "
    "sum(CASE WHEN voided = 0 THEN 1 ELSE 0 END) AS held_valid FROM dose WHERE source = 'site' "
    "GROUP BY site_code, coalesce(origin_station, ''), day"
)


def recount(session: Session) -> dict[tuple[str, str, str], tuple[int, int]]:
    """What the counters should say, counted from the doses (repair and tests only: a full scan)."""
    return {
        (str(a), str(b), str(c)): (int(d), int(e))
        for a, b, c, d, e in session.execute(text(_HELD_FROM_DOSES))
    }


def held(session: Session) -> dict[tuple[str, str, str], tuple[int, int]]:
    """The held counters as stored (rows with nothing held left out)."""
    return {
        (str(a), str(b), str(c)): (int(d), int(e))
        for a, b, c, d, e in session.execute(
            text(
                "SELECT site_code, station_id, day, held_all, held_valid FROM station_day "
                "WHERE held_all <> 0 OR held_valid <> 0"
            )
        )
    }


def verify(session: Session) -> list[str]:
    """Differences between the stored held counters and a recount ([] when they agree)."""
    want, have = recount(session), held(session)
    out = [
        f"{k}: counters {have.get(k, (0, 0))} doses {want.get(k, (0, 0))}"
        for k in sorted(set(want) | set(have))
        if want.get(k, (0, 0)) != have.get(k, (0, 0))
    ]
    per_station: dict[tuple[str, str], tuple[int, int]] = {}
    for (site, st, _day), (a, v) in want.items():
        x = per_station.get((site, st), (0, 0))
        per_station[(site, st)] = (x[0] + a, x[1] + v)
    stored = {
        (str(a), str(b)): (int(c), int(d))
        for a, b, c, d in session.execute(
            text(
                "SELECT site_code, station_id, held_all, held_valid FROM station_total "
                "WHERE held_all <> 0 OR held_valid <> 0"
            )
        )
    }
    out += [
        f"{k}: total {stored.get(k, (0, 0))} doses {per_station.get(k, (0, 0))}"
        for k in sorted(set(per_station) | set(stored))
        if per_station.get(k, (0, 0)) != stored.get(k, (0, 0))
    ]
    return out


def rebuild(session: Session) -> int:
    """Recount the held counters from the doses (claims, carried and write-offs are kept)."""
    session.execute(text("UPDATE station_day SET held_all = 0, held_valid = 0"))
    rows = [
        {"site": k[0], "st": k[1], "day": k[2], "a": v[0], "v": v[1]}
        for k, v in sorted(recount(session).items())
    ]
    if rows:
        session.execute(
            text(
                "INSERT INTO station_day (site_code, station_id, day, held_all, held_valid) "
                "VALUES (:site, :st, :day, :a, :v) ON CONFLICT (site_code, station_id, day) "
                "DO UPDATE SET held_all = excluded.held_all, held_valid = excluded.held_valid"
            ),
            rows,
        )
    session.execute(text("DELETE FROM station_total"))
    session.execute(
        text(
            "INSERT INTO station_total (site_code, station_id, held_all, held_valid) "
            "SELECT site_code, station_id, sum(held_all), sum(held_valid) FROM station_day "
            "GROUP BY site_code, station_id"
        )
    )
    return len(rows)
