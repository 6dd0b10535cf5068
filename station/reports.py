"""The daily site report: pure queries over the station database, returned as frozen DTOs.

What the site hands in every evening (QĐ 43/QĐ-BYT replaced the daily report form
together with the certificate; the counts below are the ones the committee asks
for): doses by vaccine × dose number × kind × priority group, each lot's doses used
against doses received, screening outcomes and deferrals, adverse events by severity.

Counting rules, so the printed numbers and the Excel export always agree:

* a dose counts for the day it was **given** (``dose.day``), at this site, entered
  here (``source = 'site'``; past doses copied from paper certificates are not
  today's work) and **not voided**; voided doses are counted apart;
* a lot's "used to date" is every non-voided site dose of that lot given on or
  before the day, so a late entry of yesterday's dose moves yesterday's report;
* screening outcomes count each person once per day, by their *latest* screening
  (a re-screen after a deferral replaces the first decision);
* adverse events are those recorded on the day (site time) for doses given here.

No Qt here: the UI prints these DTOs (``ui/printing.py``) and
``station/reports_xlsx.py`` writes them to Excel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Row, text

from kernel import refdata
from kernel.clock import iso
from station import replica, stock
from station.dto import PersonDTO
from station.services import clinical, people
from station.store import Station

CLEARED = ("eligible", "caution")
SEVERITY_ORDER = ("none", "common", "severe", "other")
KIND_ORDER = ("primary", "additional", "booster")


@dataclass(frozen=True, slots=True)
class DoseCount:
    vaccine_code: str
    dose_number: int
    kind: str
    priority_group: int | None  # None: the person has no group recorded
    count: int
    volume_ml: float | None = None
    """The volume injected, when it is not the product's standard dose (a half-dose
    booster: 0.25 ml); None when standard or not recorded. Rows differ by it."""


@dataclass(frozen=True, slots=True)
class LotLine:
    lot_id: str
    vaccine_code: str
    lot_number: str
    expiry: str
    doses_received: int
    used_day: float
    used_to_date: float
    """Standard doses: a half-dose injection takes half a dose (``station.stock``)."""

    @property
    def remaining(self) -> float:
        return stock.round_doses(self.doses_received - self.used_to_date)


@dataclass(frozen=True, slots=True)
class OutcomeCount:
    outcome: str
    count: int


@dataclass(frozen=True, slots=True)
class SeverityCount:
    severity: str
    count: int


@dataclass(frozen=True, slots=True)
class ReportTotals:
    doses: int
    people_vaccinated: int
    doses_voided: int
    expected: int
    checked_in: int
    screened: int
    cleared: int
    deferred: int  # screened and not cleared (defer, hospital, contraindicated)
    adverse_events: int
    adverse_severe: int
    by_kind: tuple[tuple[str, int], ...]
    by_vaccine: tuple[tuple[str, int], ...]


@dataclass(frozen=True, slots=True)
class DailyReport:
    site_code: str
    day: str  # ISO
    generated_at: str
    doses: tuple[DoseCount, ...]
    lots: tuple[LotLine, ...]
    screening: tuple[OutcomeCount, ...]
    adverse: tuple[SeverityCount, ...]
    totals: ReportTotals
    site_name: str = ""  # from the hub at enrollment; "" on a station never enrolled


_DOSES_SQL = """
SELECT d.vaccine_code, d.dose_number, d.kind, p.priority_group, d.volume_ml, count(*)
FROM dose d JOIN person p ON p.id = d.person_id
WHERE d.site_code = :s AND d.day = :d AND d.source = 'site' AND d.voided = 0
GROUP BY d.vaccine_code, d.dose_number, d.kind, p.priority_group, d.volume_ml
"""

_LOTS_SQL = """
SELECT l.id, l.vaccine_code, l.lot_number, l.expiry, l.doses_received, l.active, l.received_on
FROM vaccine_lot l WHERE l.site_code = :s
ORDER BY l.vaccine_code, l.lot_number
"""


def _odd_volume(vaccine_code: str, volume: float | None) -> float | None:
    """``volume`` when it is not the product's standard dose, else None."""
    v = refdata.vaccines().get(vaccine_code)
    if volume is None or v is None or v.dose_volume_ml is None:
        return None
    return None if abs(volume - v.dose_volume_ml) < 1e-9 else float(volume)

# The latest screening of each person that day decides (window function: one pass).
_SCREENING_SQL = """
SELECT outcome, count(*) FROM (
  SELECT outcome, row_number() OVER (PARTITION BY person_id ORDER BY screened_at DESC, id DESC) AS rn
  FROM screening WHERE site_code = :s AND day = :d
) WHERE rn = 1 GROUP BY outcome
"""

_ADVERSE_SQL = """
SELECT a.severity, count(*) FROM adverse_event a JOIN dose d ON d.id = a.dose_id
WHERE d.site_code = :s AND substr(a.recorded_at, 1, 10) = :d
GROUP BY a.severity
"""

_COUNTS_SQL = """
SELECT
  (SELECT count(DISTINCT person_id) FROM dose
     WHERE site_code = :s AND day = :d AND source = 'site' AND voided = 0),
  (SELECT count(*) FROM dose WHERE site_code = :s AND day = :d AND source = 'site' AND voided = 1),
  (SELECT count(*) FROM registration WHERE site_code = :s AND day = :d),
  (SELECT count(*) FROM registration WHERE site_code = :s AND day = :d AND status != 'expected')
"""


def _rank(order: tuple[str, ...], value: str) -> int:
    return order.index(value) if value in order else len(order)


def daily_report(st: Station, day: date, *, site_code: str | None = None) -> DailyReport:
    """The report of ``day`` for this station's site (one read transaction: a consistent view)."""
    site = site_code or st.site_code
    params = {"s": site, "d": day.isoformat()}
    with st.read() as conn:
        name = replica.site_name(conn) if site == st.site_code else ""
        dose_rows = conn.execute(text(_DOSES_SQL), params).all()
        lot_rows = conn.execute(text(_LOTS_SQL), params).all()
        site_doses = "AND d.source = 'site' AND "
        used_day = stock.lot_usage(conn, site, site_doses + "d.day = :d", d=params["d"])
        used_to_date = stock.lot_usage(conn, site, site_doses + "d.day <= :d", d=params["d"])
        scr_rows = conn.execute(text(_SCREENING_SQL), params).all()
        ae_rows = conn.execute(text(_ADVERSE_SQL), params).all()
        people_vacc, voided, expected, checked_in = conn.execute(text(_COUNTS_SQL), params).one()

    doses = _dose_counts(dose_rows)
    lots = tuple(
        LotLine(
            str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4]),
            used_day.get(str(r[0]), 0.0), used_to_date.get(str(r[0]), 0.0),
        )
        for r in lot_rows
        # A lot received after the day, or retired and untouched that day, is noise.
        if str(r[6]) <= day.isoformat() and (r[5] or used_day.get(str(r[0]), 0.0) > 0)
    )
    screening = tuple(
        sorted(
            (OutcomeCount(str(r[0]), int(r[1])) for r in scr_rows),
            key=lambda o: _rank(refdata.outcome_precedence(), o.outcome),
        )
    )
    adverse = tuple(
        sorted(
            (SeverityCount(str(r[0]), int(r[1])) for r in ae_rows),
            key=lambda a: _rank(SEVERITY_ORDER, a.severity),
        )
    )
    totals = _totals(doses, screening, adverse, people_vacc, voided, expected, checked_in)
    return DailyReport(
        site_code=site,
        day=day.isoformat(),
        generated_at=iso(st.clock()),
        doses=doses,
        lots=lots,
        screening=screening,
        adverse=adverse,
        totals=totals,
        site_name=name,
    )


# A row of _DOSES_SQL: vaccine, dose number, kind, priority group, volume (ml), doses.
_DoseCountRow = Row[str, int, str, int | None, float | None, int]


def _dose_counts(dose_rows: Sequence[_DoseCountRow]) -> tuple[DoseCount, ...]:
    """Doses per vaccine, kind, number, priority group and (unusual) volume, in report order."""
    merged: dict[tuple[str, int, str, int | None, float | None], int] = {}
    for r in dose_rows:
        # A standard volume and an unrecorded one (doses before schema 0004) are one row.
        key = (str(r[0]), int(r[1]), str(r[2]), r[3], _odd_volume(str(r[0]), r[4]))
        merged[key] = merged.get(key, 0) + int(r[5])
    return tuple(
        sorted(
            (DoseCount(k[0], k[1], k[2], k[3], n, k[4]) for k, n in merged.items()),
            key=lambda c: (
                c.vaccine_code,
                _rank(KIND_ORDER, c.kind),
                c.dose_number,
                c.priority_group if c.priority_group is not None else 99,
                c.volume_ml or 0.0,
            ),
        )
    )


def _totals(
    doses: tuple[DoseCount, ...],
    screening: tuple[OutcomeCount, ...],
    adverse: tuple[SeverityCount, ...],
    people_vacc: int,
    voided: int,
    expected: int,
    checked_in: int,
) -> ReportTotals:
    """The day's totals: doses by kind and vaccine, screened and cleared, adverse events."""
    by_kind: dict[str, int] = {}
    by_vaccine: dict[str, int] = {}
    for c in doses:
        by_kind[c.kind] = by_kind.get(c.kind, 0) + c.count
        by_vaccine[c.vaccine_code] = by_vaccine.get(c.vaccine_code, 0) + c.count
    screened = sum(o.count for o in screening)
    cleared = sum(o.count for o in screening if o.outcome in CLEARED)
    return ReportTotals(
        doses=sum(c.count for c in doses),
        people_vaccinated=int(people_vacc),
        doses_voided=int(voided),
        expected=int(expected),
        checked_in=int(checked_in),
        screened=screened,
        cleared=cleared,
        deferred=screened - cleared,
        adverse_events=sum(a.count for a in adverse),
        adverse_severe=sum(a.count for a in adverse if a.severity == "severe"),
        by_kind=tuple(sorted(by_kind.items(), key=lambda kv: _rank(KIND_ORDER, kv[0]))),
        by_vaccine=tuple(sorted(by_vaccine.items())),
    )


# ---- the confirmation slip --------------------------------------------------------

# QĐ 43/QĐ-BYT (7/1/2022): 3 primary, 1 additional and 3 booster rows (vietnam.md §2.8).
SLIP_ROWS: tuple[tuple[str, int], ...] = (
    ("primary", 1), ("primary", 2), ("primary", 3), ("additional", 1),
    ("booster", 1), ("booster", 2), ("booster", 3),
)  # fmt: skip
QR_PREFIX = "TT1:"


@dataclass(frozen=True, slots=True)
class SlipDose:
    kind: str
    number: int  # 1-based within the kind (booster 2 = "mũi nhắc lại lần 2")
    day: str  # ISO
    vaccine_code: str
    lot_number: str | None
    site_code: str
    dose_id: str
    elsewhere: bool = False  # copied from a paper certificate: the site is not known here


@dataclass(frozen=True, slots=True)
class SlipData:
    """What the paper certificate shows. The QR carries ``qr_payload`` only: a record
    reference, never personal data (what the official QR holds is unknown, §2.8)."""

    person: PersonDTO
    address: str
    doses: tuple[SlipDose, ...]
    rows: tuple[tuple[str, int, SlipDose | None], ...]  # the 7 printed rows, filled or blank
    site_code: str
    printed_on: str  # ISO day
    qr_payload: str
    site_name: str = ""  # from the hub at enrollment; "" on a station never enrolled


def qr_payload(person_id: str) -> str:
    """``TT1:<person uuid>``: looks the record up at a station or the hub, reveals nothing."""
    return QR_PREFIX + person_id


def _address(p: PersonDTO) -> str:
    parts = [p.address_line or ""]
    if p.ward_code:
        w = refdata.ward(p.ward_code)
        parts.append(w.name if w else "")
    if p.province_code:
        prov = refdata.provinces().get(p.province_code)
        parts.append(prov.name if prov else "")
    return ", ".join(x for x in parts if x)


def slip_data(st: Station, person_id: str) -> SlipData:
    """The certificate of a person: every valid dose (here and elsewhere), in slip rows."""
    person = people.get_person(st, person_id)
    history = [d for d in clinical.dose_history(st, person.id) if not d.voided]
    doses: list[SlipDose] = []
    seen: dict[str, int] = {}
    for d in sorted(history, key=lambda d: d.administered_at):
        # The primary series prints by its dose number; additional and booster doses
        # by their order (a booster's dose_number counts the whole history).
        n = d.dose_number if d.kind == "primary" else seen.get(d.kind, 0) + 1
        seen[d.kind] = n
        doses.append(SlipDose(d.kind, n, d.day, d.vaccine_code, d.lot_number, d.site_code, d.id,
                              elsewhere=d.source == "history"))
    by_slot = {(d.kind, d.number): d for d in doses}
    rows = tuple((kind, n, by_slot.get((kind, n))) for kind, n in SLIP_ROWS)
    return SlipData(
        person=person,
        address=_address(person),
        doses=tuple(doses),
        rows=rows,
        site_code=st.site_code,
        printed_on=st.today().isoformat(),
        qr_payload=qr_payload(person.id),
        site_name=_site_name(st),
    )


def _site_name(st: Station) -> str:
    with st.read() as conn:
        return replica.site_name(conn)


__all__ = [
    "QR_PREFIX",
    "SLIP_ROWS",
    "DailyReport",
    "DoseCount",
    "LotLine",
    "OutcomeCount",
    "ReportTotals",
    "SeverityCount",
    "SlipData",
    "SlipDose",
    "daily_report",
    "qr_payload",
    "slip_data",
]
