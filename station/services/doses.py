"""The parts of recording a dose: the checks, the rows and the op, in named steps.

``station.services.clinical.record_dose`` (a dose given here now) and
``record_past_dose`` (one from a paper certificate) run them in order; the shared
dose helpers (the DTO, the history, the person's clinical facts) live here too.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TypedDict

from sqlalchemy import Connection, RowMapping, text

from kernel import refdata
from kernel.clock import CLOCK_TOLERANCE, iso, parse_iso, to_site_time
from kernel.errors import (
    DomainError,
    FieldIssue,
    NeedsConfirmation,
    NeedsOverride,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from kernel.ids import uuid7
from kernel.ops import RecordDoseP, build, wire
from kernel.roles import can
from kernel.rules import schedule
from kernel.rules import screening as screening_rules
from kernel.rules import vietnam as vn
from station._build import BUILD_DATE
from station.db import RawConnection
from station.dto import DoseDTO, DoseInput, PastDoseInput
from station.services.common import check_text, load_person, require_reason
from station.store import Actor, Station, UnitOfWork

OBSERVATION = timedelta(minutes=30)
CLEARED_OUTCOMES = frozenset({"eligible", "caution"})
INJECTION_SITES = frozenset({"left_deltoid", "right_deltoid", "left_thigh", "right_thigh"})
EXPIRY_NEAR_DAYS = 7
# Clinical refusals a supervisor may override with a reason (issue 12): the catalog's
# age limits, and a contraindication found in today's screening.
OVERRIDABLE = frozenset({"dose.age_below_min", "dose.age_above_max", "dose.contraindicated"})
PROFILE_KEY = "interval_profile"
PAST_DOSE_MIN_YEAR = 1900

DOSE_COLUMNS = (
    "id, person_id, site_code, vaccine_code, lot_id, lot_number, dose_number, kind, "
    "administered_at, day, source, observe_until, observed_at, voided, void_reason, "
    "volume_ml, override_reason"
)


class DoseRow(TypedDict):
    """A new ``dose`` row, as the services write it (every column but ``rid``)."""

    id: str
    person_id: str
    site_code: str
    vaccine_code: str
    lot_id: str | None
    lot_number: str | None
    dose_number: int
    kind: str
    administered_at: str
    day: str
    recorded_at: str
    vaccinator_id: str | None
    screening_id: str | None
    injection_site: str | None
    source: str  # "site" (given here) or "history" (from a paper certificate)
    observe_until: str | None
    observed_at: str | None
    voided: int
    void_reason: str | None
    voided_by: str | None
    voided_at: str | None
    version: int
    volume_ml: float | None
    override_by: str | None
    override_reason: str | None
    origin_station: str


class PersonFacts(TypedDict):
    """What the clinical rules need of a person."""

    id: str  # after merge redirects
    birth: str
    sex: str | None
    status: str


def dose_dto(row: DoseRow | RowMapping, warnings: tuple[FieldIssue, ...] = ()) -> DoseDTO:
    """A dose as the UI sees it, from a row just written or one read (``DOSE_COLUMNS``)."""
    return DoseDTO(
        id=row["id"],
        person_id=row["person_id"],
        site_code=row["site_code"],
        vaccine_code=row["vaccine_code"],
        lot_id=row["lot_id"],
        lot_number=row["lot_number"],
        dose_number=row["dose_number"],
        kind=row["kind"],
        administered_at=row["administered_at"],
        day=row["day"],
        source=row["source"],
        observe_until=row["observe_until"],
        observed_at=row["observed_at"],
        voided=bool(row["voided"]),
        void_reason=row["void_reason"],
        warnings=warnings,
        volume_ml=row["volume_ml"],
        override_reason=row["override_reason"],
    )


def past_doses(conn: Connection, person_id: str) -> list[schedule.PastDose]:
    rows = conn.execute(
        text(
            "SELECT vaccine_code, dose_number, kind, day, voided FROM dose WHERE person_id = :p "
            "ORDER BY administered_at"
        ),
        {"p": person_id},
    ).all()
    return [
        schedule.PastDose(r[0], r[1], r[2], date.fromisoformat(r[3]), bool(r[4])) for r in rows
    ]


def current_profile(raw_conn: RawConnection) -> str:
    row = raw_conn.execute("SELECT value FROM meta WHERE key = ?", (PROFILE_KEY,)).fetchone()
    return refdata.province_profile(row[0] if row else None).id


def person_facts(conn: Connection, person_id: str) -> PersonFacts:
    """The person (after redirects) with the columns the clinical rules need."""
    pid = load_person(conn, person_id)["id"]
    row = conn.execute(
        text("SELECT id, birth, sex, status FROM person WHERE id = :p"), {"p": pid}
    ).mappings().one()
    return PersonFacts(id=row["id"], birth=row["birth"], sex=row["sex"], status=row["status"])


# ---- checks ------------------------------------------------------------------------


def parse_administered(raw: str | None, now: datetime) -> tuple[datetime | None, list[FieldIssue]]:
    if raw is None:
        return now, []
    try:
        when = parse_iso(raw)
    except (ValueError, TypeError):
        return None, [FieldIssue("administered_at", "administered_at.format")]
    if when > now + CLOCK_TOLERANCE:
        return None, [FieldIssue("administered_at", "administered_at.future")]
    if to_site_time(when).date() < date.fromisoformat(BUILD_DATE):
        return None, [
            FieldIssue("administered_at", "administered_at.before_build", {"build_date": BUILD_DATE})
        ]
    return when, []


def confirm(warnings: list[FieldIssue], confirmed: frozenset[str]) -> None:
    # Notes ("info") are shown with the result; only warnings need a confirmation.
    missing = [w for w in warnings if w.severity == "warning" and w.code not in confirmed]
    if missing:
        raise NeedsConfirmation(missing)


def contraindications(
    vaccine_code: str,
    screening_form_id: str | None,
    screening_answers: str | None,
    history: list[schedule.PastDose],
) -> list[FieldIssue]:
    """Contraindications found in today's screening for ``vaccine_code`` (errors).

    * the catalog lists ``pregnancy`` for the vaccine (Sputnik V, MR) and a pregnancy
      question was answered yes;
    * "anaphylaxis to a previous COVID-19 vaccine dose" was answered yes: contraindicated
      for the same vaccine type (vietnam.md §2.3: "chống chỉ định vắc xin cùng loại"),
      read as the platform of any earlier dose of the disease; with no earlier dose on
      record every vaccine of the disease is refused (the cause is unknown here).

    Each is ``dose.contraindicated`` (field ``vaccine_code``, param ``condition``),
    which a supervisor may override (the doctor may have decided a different type).
    """
    vac = refdata.vaccines().get(vaccine_code)
    form = refdata.screening_forms().get(screening_form_id or "")
    if vac is None or form is None or not screening_answers:
        return []
    try:
        stored = json.loads(screening_answers)
        answers = stored.get("answers", {}) if isinstance(stored, dict) else {}
    except ValueError:
        return []
    flags = screening_rules.flags_found(form, answers if isinstance(answers, dict) else {})
    issues: list[FieldIssue] = []
    for condition in vac.contraindications:
        if condition in flags:
            issues.append(FieldIssue("vaccine_code", "dose.contraindicated", {"condition": condition}))
    if "anaphylaxis_covid_vaccine" in flags and vac.disease == "covid19":
        catalog = refdata.vaccines()
        before = {
            catalog[d.vaccine_code].platform
            for d in history
            if not d.voided and d.vaccine_code in catalog and catalog[d.vaccine_code].disease == vac.disease
        }
        if not before or vac.platform in before:
            issues.append(
                FieldIssue(
                    "vaccine_code",
                    "dose.contraindicated",
                    {"condition": "anaphylaxis_covid_vaccine", "platform": vac.platform},
                )
            )
    return issues


def approve_override(
    refusals: list[FieldIssue], data: DoseInput, actor: Actor, supervisor: Actor | None
) -> tuple[str, Actor] | None:
    """None when nothing is refused; else (reason, approver) or an exception."""
    if not refusals:
        return None
    codes = {i.code for i in refusals}
    if not codes <= data.override:
        raise NeedsOverride(refusals)
    approver = supervisor or actor
    if not can(approver.role, "override_dose_rule") or approver.site_code != actor.site_code:
        raise PermissionDenied(action="override_dose_rule", role=approver.role)
    return require_reason(data.override_reason, "override_reason"), approver


_PERSON_SQL = (
    "SELECT id, status, birth FROM person WHERE id = "
    "coalesce((SELECT to_id FROM person_redirect WHERE from_id = ?), ?)"
)
_LOT_SQL = (
    "SELECT id, site_code, vaccine_code, lot_number, expiry, active FROM vaccine_lot WHERE id = ?"
)
_SCREENING_SQL = (
    "SELECT id, outcome, form_id, answers FROM screening WHERE person_id = ? AND site_code = ? "
    "AND day = ? ORDER BY screened_at DESC LIMIT 1"
)
_HISTORY_SQL = (
    "SELECT vaccine_code, dose_number, kind, day, voided FROM dose WHERE person_id = ? "
    "ORDER BY administered_at"
)
_PROFILE_SQL = "SELECT value FROM meta WHERE key = '" + PROFILE_KEY + "'"
_DOSE_FIELDS = (
    "id", "person_id", "site_code", "vaccine_code", "lot_id", "lot_number", "dose_number",
    "kind", "administered_at", "day", "recorded_at", "vaccinator_id", "screening_id",
    "injection_site", "source", "observe_until", "observed_at", "voided", "void_reason",
    "voided_by", "voided_at", "version", "volume_ml", "override_by", "override_reason",
    "origin_station",
)
_DOSE_INSERT_SQL = (
    f"INSERT INTO dose ({', '.join(_DOSE_FIELDS)}) VALUES ({', '.join('?' for _ in _DOSE_FIELDS)})"
)
_DOSE_REG_SQL = (
    "UPDATE registration SET status = 'vaccinated', updated_at = ? WHERE person_id = ? "
    "AND site_code = ? AND day = ?"
)
# The hub sets a dose's origin from the station that pushed it, never from the payload.
_NOT_IN_PAYLOAD = frozenset(
    {"version", "voided", "void_reason", "voided_by", "voided_at", "observed_at", "origin_station"}
)


def dose_payload(
    row: Mapping[str, object], confirmed: list[str] | None = None, overridden: list[str] | None = None
) -> dict[str, object]:
    """The ``record_dose`` payload: the dose row less what the hub sets itself, and (for
    a dose given here) the codes its user confirmed and a supervisor overrode."""
    extra: dict[str, list[str]] = {}
    if confirmed is not None:
        extra["confirmed"] = confirmed
    if overridden is not None:
        extra["overridden"] = overridden
    fields = {k: v for k, v in row.items() if k not in _NOT_IN_PAYLOAD}
    return wire(build(RecordDoseP, **fields, **extra))


# ---- a dose given here -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Lot:
    id: str
    vaccine_code: str
    number: str
    expiry: date
    expiry_iso: str


@dataclass(frozen=True, slots=True)
class _Screening:
    id: str
    form_id: str | None
    answers: str | None


@dataclass(frozen=True, slots=True)
class _Verdict:
    """What the rules decided for a dose: its number and kind, the refusals a supervisor
    must override and the warnings the user must confirm."""

    dose_number: int
    kind: str
    refusals: list[FieldIssue]
    warnings: list[FieldIssue]


def input_issues(data: DoseInput) -> list[FieldIssue]:
    issues: list[FieldIssue] = []
    if data.injection_site not in INJECTION_SITES:
        issues.append(FieldIssue("injection_site", "injection_site.invalid"))
    if data.kind is not None and data.kind not in ("primary", "additional", "booster"):
        issues.append(FieldIssue("kind", "dose.bad_kind"))
    if not data.lot_id:
        issues.append(FieldIssue("lot_id", "lot_id.required"))
    return issues


def active_person(uow: UnitOfWork, person_id: str) -> tuple[str, str]:
    """The person (after redirects): id and birth; refuses an unknown or inactive one."""
    raw = uow.raw
    found = raw.execute(_PERSON_SQL, (person_id, person_id)).fetchone()
    if found is not None and found[1] == "merged":
        pid = load_person(uow.conn, person_id)["id"]  # longer redirect chain
        found = raw.execute(_PERSON_SQL, (pid, pid)).fetchone()
    if found is None:
        raise NotFound("person.not_found")
    pid, status, birth = found
    if status != "active":
        raise DomainError("person.not_active", status=status)
    return pid, birth


def usable_lot(raw: RawConnection, lot_id: str | None, site_code: str, day: date) -> _Lot:
    """The site's lot, active and not expired on ``day``."""
    lot = raw.execute(_LOT_SQL, (lot_id,)).fetchone()
    if lot is None or lot[1] != site_code:
        raise ValidationError([FieldIssue("lot_id", "lot.not_found")])
    found_id, _site, lot_vaccine, lot_number, lot_expiry, lot_active = lot
    if not lot_active:
        raise ValidationError([FieldIssue("lot_id", "lot.inactive")])
    expiry = date.fromisoformat(lot_expiry)
    if expiry < day:
        raise ValidationError([FieldIssue("lot_id", "lot.expired", {"expiry": lot_expiry})])
    return _Lot(found_id, lot_vaccine, lot_number, expiry, lot_expiry)


def cleared_screening(raw: RawConnection, pid: str, site_code: str, day_iso: str) -> _Screening:
    """Today's latest screening of the person here, which must have cleared them."""
    scr = raw.execute(_SCREENING_SQL, (pid, site_code, day_iso)).fetchone()
    if scr is None:
        raise DomainError("dose.screening_required")
    if scr[1] not in CLEARED_OUTCOMES:
        raise DomainError("dose.screening_not_cleared", outcome=scr[1])
    return _Screening(scr[0], scr[2], scr[3])


_SAME_DAY_SQL = (
    "SELECT vaccine_code, administered_at, origin_station FROM dose "
    "WHERE person_id = ? AND day = ? AND voided = 0 ORDER BY administered_at DESC"
)


def same_day_issue(raw: RawConnection, pid: str, vaccine_code: str, day: date, me: str | None) -> FieldIssue:
    """``dose.same_day`` naming the dose already given: when, which vaccine, and whether
    another desk of the site gave it (a dose pulled from the site hub since this desk
    opened the person: two injection desks, seconds apart).

    Read in the saving transaction, so a dose that arrived by pull after the form was
    opened is the one named. Codes, an ISO time and the other desk's short id only.
    """
    disease = refdata.vaccine(vaccine_code).disease
    for other_vaccine, at, origin in raw.execute(_SAME_DAY_SQL, (pid, day.isoformat())):
        v = refdata.vaccines().get(str(other_vaccine))
        if v is None or v.disease != disease:
            continue
        params: dict[str, object] = {"vaccine": str(other_vaccine), "given_at": str(at)}
        if me is not None and origin and origin != me:
            params["desk"] = str(origin)[-4:]
            return FieldIssue("given_on", "dose.same_day_other_desk", params)
        return FieldIssue("given_on", "dose.same_day", params)
    return FieldIssue("given_on", "dose.same_day")


def judge(
    raw: RawConnection,
    data: DoseInput,
    pid: str,
    vaccine_code: str,
    day: date,
    ages: schedule.Ages | None,
    scr: _Screening,
    me: str | None = None,
) -> _Verdict:
    """The schedule's and the catalog's rules for this dose (errors raise here).

    ``me``: this station's install id, to tell a same-day dose another desk gave."""
    history = [
        schedule.PastDose(r[0], r[1], r[2], date.fromisoformat(r[3]), bool(r[4]))
        for r in raw.execute(_HISTORY_SQL, (pid,))
    ]
    profile_row = raw.execute(_PROFILE_SQL).fetchone()
    profile = refdata.province_profile(profile_row[0] if profile_row else None).id
    suggestion = schedule.suggest_next(history, refdata.vaccine(vaccine_code).disease)
    dose_number = data.dose_number if data.dose_number is not None else suggestion.dose_number
    kind = data.kind or suggestion.kind
    checks = schedule.check_dose(
        history, vaccine_code, dose_number, kind, day, ages=ages, profile=profile
    )
    checks += schedule.check_age(vaccine_code, ages)
    errors = [c for c in checks if c.is_error and c.code not in OVERRIDABLE]
    if errors:
        raise ValidationError([
            same_day_issue(raw, pid, vaccine_code, day, me) if e.code == "dose.same_day" else e for e in errors
        ])
    refusals = [c for c in checks if c.code in OVERRIDABLE]
    refusals += contraindications(vaccine_code, scr.form_id, scr.answers, history)
    warnings = [c for c in checks if not c.is_error]
    return _Verdict(dose_number, kind, refusals, warnings)


def site_dose_row(
    st: Station,
    uow: UnitOfWork,
    data: DoseInput,
    pid: str,
    vaccine_code: str,
    lot: _Lot,
    scr: _Screening,
    when: datetime,
    verdict: _Verdict,
    approved: tuple[str, Actor] | None,
) -> DoseRow:
    return {
        "id": uuid7(),
        "person_id": pid,
        "site_code": uow.actor.site_code,
        "vaccine_code": vaccine_code,
        "lot_id": lot.id,
        "lot_number": lot.number,
        "dose_number": verdict.dose_number,
        "kind": verdict.kind,
        "administered_at": iso(when),
        "day": to_site_time(when).date().isoformat(),
        "recorded_at": uow.now_iso,
        "vaccinator_id": uow.actor.user_id,
        "screening_id": scr.id,
        "injection_site": data.injection_site,
        "source": "site",
        "observe_until": iso(when + OBSERVATION),
        "observed_at": None,
        "voided": 0,
        "void_reason": None,
        "voided_by": None,
        "voided_at": None,
        "version": 0,
        "volume_ml": refdata.vaccine(vaccine_code).volume_for(verdict.kind),
        "override_by": approved[1].user_id if approved else None,
        "override_reason": approved[0] if approved else None,
        "origin_station": st.install_id,
    }


def write_site_dose(
    uow: UnitOfWork,
    row: DoseRow,
    warnings: list[FieldIssue],
    refusals: list[FieldIssue],
    approved: tuple[str, Actor] | None,
) -> None:
    """The op, the override's audit entry, the dose row and the registration's status."""
    overridden = sorted({i.code for i in refusals})
    confirmed = sorted(w.code for w in warnings if w.severity == "warning")
    uow.emit(
        "record_dose", "dose", row["id"],
        dose_payload(row, confirmed, overridden if approved else None),
    )
    if approved:
        # Who approved what, in the hash-chained audit (codes only: no personal data;
        # the reason is on the dose row).
        uow.audit(
            "override_dose_rule",
            "dose",
            row["id"],
            detail={
                "codes": overridden,
                "approved_by": approved[1].user_id,
                "vaccine_code": row["vaccine_code"],
            },
        )
    columns: Mapping[str, object] = row
    uow.raw.execute(_DOSE_INSERT_SQL, tuple(columns[f] for f in _DOSE_FIELDS))
    uow.raw.execute(_DOSE_REG_SQL, (uow.now_iso, row["person_id"], row["site_code"], row["day"]))


# ---- a dose from a paper certificate ---------------------------------------------------


def past_dose_input(data: PastDoseInput, today: date) -> tuple[date, str | None]:
    """The day it was given and the lot number, checked (every issue at once)."""
    given, iss = vn.parse_date(
        data.given_on, field="given_on", today=today, min_year=PAST_DOSE_MIN_YEAR
    )
    issues = list(iss)
    if data.vaccine_code not in refdata.vaccines():
        issues.append(FieldIssue("vaccine_code", "dose.unknown_vaccine"))
    lot_number, iss = check_text(data.lot_number, field="lot_number", max_len=32)
    issues += iss
    if [i for i in issues if i.is_error]:
        raise ValidationError([i for i in issues if i.is_error])
    assert given is not None and given.as_date() is not None
    given_day = given.as_date()
    assert given_day is not None
    return given_day, lot_number


def past_dose_warnings(
    uow: UnitOfWork, data: PastDoseInput, pid: str, given_day: date, ages: schedule.Ages | None
) -> list[FieldIssue]:
    history = past_doses(uow.conn, pid)
    checks = schedule.check_dose(
        history, data.vaccine_code, data.dose_number, data.kind, given_day, ages=ages,
        profile=current_profile(uow.raw),
    )
    errors = [c for c in checks if c.is_error]
    if errors:
        raise ValidationError(errors)
    warnings = [c for c in checks if not c.is_error]
    warnings += [
        FieldIssue(i.field, i.code, i.params, "warning")
        for i in schedule.check_age(data.vaccine_code, ages)
    ]
    in_use = refdata.vaccine(data.vaccine_code).in_use_from
    if in_use is not None and given_day.isoformat() < in_use:
        warnings.append(
            FieldIssue("given_on", "dose.before_in_use", {"in_use_from": in_use}, "warning")
        )
    return warnings


def past_dose_row(
    st: Station, uow: UnitOfWork, data: PastDoseInput, pid: str, given_day: date, lot_number: str | None
) -> DoseRow:
    noon = datetime(given_day.year, given_day.month, given_day.day, 12, 0, tzinfo=uow.now.tzinfo)
    return {
        "id": uuid7(),
        "person_id": pid,
        "site_code": uow.actor.site_code,
        "vaccine_code": data.vaccine_code,
        "lot_id": None,
        "lot_number": lot_number,
        "dose_number": data.dose_number,
        "kind": data.kind,
        "administered_at": iso(noon),
        "day": given_day.isoformat(),
        "recorded_at": uow.now_iso,
        "vaccinator_id": None,
        "screening_id": None,
        "injection_site": None,
        "source": "history",
        "observe_until": None,
        "observed_at": None,
        "voided": 0,
        "void_reason": None,
        "voided_by": None,
        "voided_at": None,
        "version": 0,
        "volume_ml": None,  # the paper certificate does not say
        "override_by": None,
        "override_reason": None,
        "origin_station": st.install_id,
    }
