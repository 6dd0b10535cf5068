"""Lot stock in doses: a half dose takes half a dose from its lot.

A lot's ``doses_received`` counts standard doses of the lot's product (Moderna
0.5 ml). An injection takes ``volume_ml / standard`` of them: a Moderna booster or
a Moderna 6-11 dose (0.25 ml) takes half. A dose recorded before volumes existed
(schema 0004), or of a product with no known volume, takes one.
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from kernel import refdata

__all__ = ["doses_taken", "lot_usage", "round_doses"]


def round_doses(value: float) -> float:
    """Two decimals: sums of 0.3 ml steps must not print as 11.999999."""
    return round(value + 0.0, 2)


def doses_taken(lot_vaccine: str, volume_ml: float | None) -> float:
    """Standard doses of a ``lot_vaccine`` lot that one injection of ``volume_ml`` takes."""
    v = refdata.vaccines().get(lot_vaccine)
    standard = v.dose_volume_ml if v else None
    if volume_ml is None or not standard:
        return 1.0
    return volume_ml / standard


_USAGE_SQL = """
SELECT d.lot_id, l.vaccine_code, d.volume_ml, count(*)
FROM dose d JOIN vaccine_lot l ON l.id = d.lot_id
WHERE l.site_code = :s AND d.voided = 0 {where}
GROUP BY d.lot_id, l.vaccine_code, d.volume_ml
"""


def lot_usage(conn: Connection, site_code: str, where: str = "", **params: object) -> dict[str, float]:
    """Standard doses used per lot id of ``site_code`` (valid doses only).

    ``where`` adds conditions on ``d`` (e.g. ``"AND d.day <= :d"``) with ``params``.
    """
    rows = conn.execute(text(_USAGE_SQL.format(where=where)), {"s": site_code, **params}).all()
    used: dict[str, float] = {}
    for lot_id, lot_vaccine, volume, count in rows:
        used[lot_id] = used.get(lot_id, 0.0) + doses_taken(lot_vaccine, volume) * int(count)
    return {k: round_doses(v) for k, v in used.items()}
