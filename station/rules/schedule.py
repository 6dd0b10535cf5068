"""Next-dose suggestion and dose checks over the vaccine catalog.

Pure functions: the rules (doses per series, intervals, mixes, booster gaps) come
from :mod:`station.refdata` (``station/data/vaccines.json``).

Model
-----
* Voided doses are ignored everywhere.  Doses whose vaccine code is not in the
  catalog are ignored too (their disease is unknown).
* The *series vaccine* is the vaccine of the first primary dose of the disease; the
  primary series is complete after ``series.primary_doses`` primary doses (Janssen 1,
  Abdala 3).  Further doses are boosters (booster 1 at ``booster_min_days`` after the
  last primary/additional dose, booster 2 at ``booster2_min_days`` after booster 1);
  after booster 2 nothing more is due.  Additional doses (``additional``) are never
  suggested (they are for certain groups only) but are checked and counted.
* The dose ordinal is the count of valid doses of the disease + 1, across kinds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from station.errors import FieldIssue
from station.refdata import Vaccine, vaccines

__all__ = ["DOSE_KINDS", "MAX_DOSE_NUMBER", "PastDose", "Suggestion", "check_dose", "suggest_next"]

DOSE_KINDS = ("primary", "additional", "booster")
MAX_DOSE_NUMBER = 10
MAX_BOOSTERS = 2


@dataclass(frozen=True, slots=True)
class PastDose:
    vaccine_code: str
    dose_number: int
    kind: str  # "primary" | "additional" | "booster"
    given_on: date
    voided: bool = False


@dataclass(frozen=True, slots=True)
class Suggestion:
    dose_number: int
    kind: str
    vaccine_codes: tuple[str, ...]
    """Allowed choices, preferred first (empty when ``complete``)."""
    earliest: date | None
    latest: date | None
    series_vaccine: str | None
    complete: bool
    """True when nothing more is due (e.g. after booster 2, or a 1-dose routine vaccine)."""


@dataclass(frozen=True, slots=True)
class _State:
    doses: tuple[PastDose, ...]  # valid doses of one disease, chronological
    series: Vaccine | None
    primaries: tuple[PastDose, ...]
    boosters: tuple[PastDose, ...]

    @property
    def primary_complete(self) -> bool:
        return self.series is not None and len(self.primaries) >= self.series.primary_doses


def _state(history: Sequence[PastDose], disease: str, before: date | None = None) -> _State:
    catalog = vaccines()
    doses = tuple(
        sorted(
            (
                d
                for d in history
                if not d.voided
                and d.vaccine_code in catalog
                and catalog[d.vaccine_code].disease == disease
                and (before is None or d.given_on < before)
            ),
            key=lambda d: (d.given_on, d.dose_number),
        )
    )
    primaries = tuple(d for d in doses if d.kind == "primary")
    series = catalog[primaries[0].vaccine_code] if primaries else None
    if series is None and doses:  # history without a primary dose: use the first dose
        series = catalog[doses[0].vaccine_code]
    boosters = tuple(d for d in doses if d.kind == "booster")
    return _State(doses, series, primaries, boosters)


def _active(codes: Sequence[str]) -> tuple[str, ...]:
    catalog = vaccines()
    seen: list[str] = []
    for code in codes:
        if code in catalog and catalog[code].active and code not in seen:
            seen.append(code)
    return tuple(seen)


def _plus(day: date, days: int | None) -> date | None:
    return None if days is None else day + timedelta(days=days)


def _booster_rule(st: _State) -> tuple[int | None, date | None]:
    """(min_days, reference date) for the next booster, given a complete series."""
    assert st.series is not None
    if not st.boosters:
        return st.series.booster_min_days, st.doses[-1].given_on
    return st.series.booster2_min_days, st.boosters[-1].given_on


def suggest_next(history: Sequence[PastDose], disease: str = "covid19") -> Suggestion:
    """What the next dose of ``disease`` should be for a person with ``history``."""
    st = _state(history, disease)
    number = len(st.doses) + 1
    if st.series is None:
        codes = tuple(c for c, v in vaccines().items() if v.disease == disease and v.active)
        return Suggestion(number, "primary", codes, None, None, None, complete=not codes)
    series = st.series
    if not st.primary_complete:
        given = len(st.primaries)
        last = st.primaries[-1].given_on if st.primaries else st.doses[-1].given_on
        interval = series.intervals[given - 1] if 0 < given <= len(series.intervals) else None
        return Suggestion(
            number,
            "primary",
            _active((series.code, *series.mix_allowed)),
            _plus(last, interval.min_days) if interval else None,
            _plus(last, interval.max_days) if interval else None,
            series.code,
            complete=False,
        )
    min_days, ref = _booster_rule(st)
    if len(st.boosters) >= MAX_BOOSTERS or min_days is None or not series.booster_vaccines:
        return Suggestion(number, "booster", (), None, None, series.code, complete=True)
    return Suggestion(
        number,
        "booster",
        _active(series.booster_vaccines),
        _plus(ref, min_days) if ref else None,
        None,
        series.code,
        complete=False,
    )


def check_dose(
    history: Sequence[PastDose], vaccine_code: str, dose_number: int, kind: str, on: date
) -> list[FieldIssue]:
    """Problems with recording dose ``dose_number`` (``kind``) of ``vaccine_code`` on ``on``.

    Errors (``severity="error"``): ``dose.unknown_vaccine`` (field ``vaccine_code``),
    ``dose.bad_kind`` (``kind``), ``dose.number_invalid`` (``dose_number``),
    ``dose.same_day`` (``given_on``).  Warnings (the clerk must confirm them):
    ``dose.interval_too_short`` / ``dose.interval_too_long`` (``given_on``; params
    ``min_days``/``max_days`` and ``days``), ``dose.mix_not_allowed``
    (``vaccine_code``; params ``series_vaccine``, ``allowed``),
    ``dose.number_unexpected`` (``dose_number``; params ``expected``) and
    ``dose.kind_unexpected`` (``kind``; params ``expected``).

    Only doses given *before* ``on`` are used as context, so past doses can be
    entered late and out of order.
    """
    issues: list[FieldIssue] = []
    catalog = vaccines()
    vac = catalog.get(vaccine_code)
    if vac is None:
        issues.append(FieldIssue("vaccine_code", "dose.unknown_vaccine"))
    if kind not in DOSE_KINDS:
        issues.append(FieldIssue("kind", "dose.bad_kind", {"allowed": list(DOSE_KINDS)}))
    if (
        isinstance(dose_number, bool)
        or not isinstance(dose_number, int)
        or not (1 <= dose_number <= MAX_DOSE_NUMBER)
    ):
        issues.append(
            FieldIssue("dose_number", "dose.number_invalid", {"min": 1, "max": MAX_DOSE_NUMBER})
        )
    if vac is None:
        return issues
    for d in history:
        if (
            not d.voided
            and d.given_on == on
            and d.vaccine_code in catalog
            and catalog[d.vaccine_code].disease == vac.disease
        ):
            issues.append(FieldIssue("given_on", "dose.same_day"))
            break
    if any(i.is_error for i in issues):
        return issues

    def warn(field: str, code: str, **params: object) -> None:
        issues.append(FieldIssue(field, code, dict(params), severity="warning"))

    st = _state(history, vac.disease, before=on)
    expected_number = len(st.doses) + 1
    if dose_number != expected_number:
        warn("dose_number", "dose.number_unexpected", expected=expected_number)

    series = st.series
    if series is None:  # first dose of this disease
        if kind != "primary":
            warn("kind", "dose.kind_unexpected", expected="primary")
        return issues

    days_since = (on - st.doses[-1].given_on).days
    if kind == "primary":
        if st.primary_complete:
            warn("kind", "dose.kind_unexpected", expected="booster")
            return issues
        allowed = (series.code, *series.mix_allowed)
        if vaccine_code not in allowed:
            warn(
                "vaccine_code",
                "dose.mix_not_allowed",
                series_vaccine=series.code,
                allowed=list(allowed),
            )
        given = len(st.primaries)
        if 0 < given <= len(series.intervals):
            interval = series.intervals[given - 1]
            days = (on - st.primaries[-1].given_on).days
            if days < interval.min_days:
                warn("given_on", "dose.interval_too_short", min_days=interval.min_days, days=days)
            elif interval.max_days is not None and days > interval.max_days:
                warn("given_on", "dose.interval_too_long", max_days=interval.max_days, days=days)
        return issues

    if not st.primary_complete:
        warn("kind", "dose.kind_unexpected", expected="primary")
        return issues
    if kind == "additional":
        allowed = (series.code, *series.mix_allowed, *series.booster_vaccines)
        min_days = series.additional_min_days
    else:
        allowed = series.booster_vaccines
        min_days, _ = _booster_rule(st)
        if len(st.boosters) >= MAX_BOOSTERS:
            warn("kind", "dose.kind_unexpected", expected="none")
    if vaccine_code not in allowed:
        warn(
            "vaccine_code",
            "dose.mix_not_allowed",
            series_vaccine=series.code,
            allowed=list(dict.fromkeys(allowed)),
        )
    if kind == "booster" and st.boosters:
        days_since = (on - st.boosters[-1].given_on).days
    if min_days is not None and days_since < min_days:
        warn("given_on", "dose.interval_too_short", min_days=min_days, days=days_since)
    return issues
