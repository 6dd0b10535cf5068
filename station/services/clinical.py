"""Screening, doses, voids, adverse events and observation."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from station import refdata
from station._build import BUILD_DATE
from station.clock import iso, parse_iso, to_site_time
from station.dto import (
    AdverseEventDTO,
    DoseDTO,
    DoseInput,
    DoseSuggestionDTO,
    PastDoseInput,
    ScreeningDTO,
)
from station.errors import (
    DomainError,
    FieldIssue,
    NeedsConfirmation,
    NotFound,
    ValidationError,
)
from station.ids import uuid7
from station.roles import require
from station.rules import schedule
from station.rules import screening as screening_rules
from station.rules import vietnam as vn
from station.services.common import check_text, load_person, require_reason
from station.store import Actor, Station

OBSERVATION = timedelta(minutes=30)
FUTURE_TOLERANCE = timedelta(minutes=5)
CLEARED_OUTCOMES = frozenset({"eligible", "caution"})
INJECTION_SITES = frozenset({"left_deltoid", "right_deltoid", "left_thigh", "right_thigh"})
SEVERITIES = ("none", "common", "severe", "other")
# Why a 30-minute observation ends before its time (a code: no free text, no personal data).
EARLY_END_REASONS = ("doctor_allowed", "left_against_advice", "transferred_for_care", "other")
EXPIRY_NEAR_DAYS = 7

DOSE_COLUMNS = (
    "id, person_id, site_code, vaccine_code, lot_id, lot_number, dose_number, kind, "
    "administered_at, day, source, observe_until, observed_at, voided, void_reason"
)


def _dose_dto(row: Mapping[Any, Any], warnings: tuple[FieldIssue, ...] = ()) -> DoseDTO:
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
    )


def _history(conn: Connection, person_id: str) -> list[schedule.PastDose]:
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


def dose_history(st: Station, person_id: str) -> list[DoseDTO]:
    with st.read() as conn:
        pid = load_person(conn, person_id)["id"]
        rows = conn.execute(
            text(f"SELECT {DOSE_COLUMNS} FROM dose WHERE person_id = :p ORDER BY administered_at"),
            {"p": pid},
        ).mappings().all()
    return [_dose_dto(r) for r in rows]


def suggest_dose(st: Station, person_id: str) -> DoseSuggestionDTO:
    with st.read() as conn:
        pid = load_person(conn, person_id)["id"]
        s = schedule.suggest_next(_history(conn, pid))
    return DoseSuggestionDTO(
        dose_number=s.dose_number,
        kind=s.kind,
        vaccine_codes=s.vaccine_codes,
        earliest=s.earliest.isoformat() if s.earliest else None,
        latest=s.latest.isoformat() if s.latest else None,
        complete=s.complete,
    )


# ---- screening ---------------------------------------------------------------------


def record_screening(
    st: Station,
    actor: Actor,
    person_id: str,
    *,
    answers: Mapping[str, object],
    outcome: str,
    vitals: Mapping[str, object] | None = None,
    form_id: str | None = None,
    override_reason: str | None = None,
    details: Mapping[str, str] | None = None,
) -> ScreeningDTO:
    """Record the screening form. The software suggests; the screener's ``outcome`` decides.

    An outcome that differs from the suggestion needs ``override_reason``.
    """
    require(actor.role, "record_screening")
    forms = refdata.screening_forms()
    form = forms.get(form_id) if form_id else refdata.default_screening_form()
    if form is None:
        raise ValidationError([FieldIssue("form_id", "form_id.unknown")])
    issues = screening_rules.check_answers(form, answers, vitals)
    if outcome not in screening_rules.OUTCOMES:
        issues.append(FieldIssue("outcome", "outcome.invalid"))
    clean_details: dict[str, str] = {}
    for key, raw in (details or {}).items():
        val, iss = check_text(raw, field=f"details.{key}", max_len=200)
        issues += iss
        if val:
            clean_details[key] = val
    if [i for i in issues if i.is_error]:
        raise ValidationError([i for i in issues if i.is_error])
    bool_answers = {k: bool(v) for k, v in answers.items()}
    num_vitals = {k: (float(v) if v is not None else None) for k, v in (vitals or {}).items()}  # type: ignore[arg-type]
    suggested = screening_rules.suggest_outcome(form, bool_answers, num_vitals)
    reason: str | None = None
    if outcome != suggested:
        reason = require_reason(override_reason, "override_reason")
    with st.unit_of_work(actor) as uow:
        person = load_person(uow.conn, person_id)
        day = uow.today.isoformat()
        reg = uow.conn.execute(
            text(
                "SELECT id, status, version FROM registration WHERE person_id = :p "
                "AND site_code = :s AND day = :d"
            ),
            {"p": person["id"], "s": actor.site_code, "d": day},
        ).mappings().first()
        if reg is None or reg["status"] == "expected":
            raise DomainError("screening.not_checked_in")
        if reg["status"] in ("vaccinated", "observed"):
            raise DomainError("screening.already_vaccinated")
        sid = uuid7()
        row = {
            "id": sid,
            "person_id": person["id"],
            "registration_id": reg["id"],
            "site_code": actor.site_code,
            "day": day,
            "form_id": form.id,
            "answers": json.dumps({"answers": bool_answers, "details": clean_details}, ensure_ascii=False, sort_keys=True),
            "vitals": json.dumps(num_vitals, sort_keys=True),
            "suggested_outcome": suggested,
            "outcome": outcome,
            "override_reason": reason,
            "screener_id": actor.user_id or "",
            "screened_at": uow.now_iso,
            "version": 0,
        }
        new_status = "cleared" if outcome in CLEARED_OUTCOMES else "deferred"
        uow.emit(
            "record_screening",
            "screening",
            sid,
            {k: v for k, v in row.items() if k != "version"} | {"registration_status": new_status},
        )
        cols = ", ".join(row)
        uow.conn.execute(
            text(f"INSERT INTO screening ({cols}) VALUES ({', '.join(':' + c for c in row)})"), row
        )
        uow.conn.execute(
            text("UPDATE registration SET status = :st, updated_at = :t WHERE id = :i"),
            {"st": new_status, "t": uow.now_iso, "i": reg["id"]},
        )
    return ScreeningDTO(
        id=sid,
        person_id=person["id"],
        registration_id=reg["id"],
        day=day,
        form_id=form.id,
        suggested_outcome=suggested,
        outcome=outcome,
        override_reason=reason,
        screened_at=row["screened_at"],
    )


# ---- doses -------------------------------------------------------------------------


def _parse_administered(raw: str | None, now: datetime) -> tuple[datetime | None, list[FieldIssue]]:
    if raw is None:
        return now, []
    try:
        when = parse_iso(raw)
    except (ValueError, TypeError):
        return None, [FieldIssue("administered_at", "administered_at.format")]
    if when > now + FUTURE_TOLERANCE:
        return None, [FieldIssue("administered_at", "administered_at.future")]
    if to_site_time(when).date() < date.fromisoformat(BUILD_DATE):
        return None, [
            FieldIssue("administered_at", "administered_at.before_build", {"build_date": BUILD_DATE})
        ]
    return when, []


def _confirm(warnings: list[FieldIssue], confirmed: frozenset[str]) -> None:
    missing = [w for w in warnings if w.code not in confirmed]
    if missing:
        raise NeedsConfirmation(missing)


_PERSON_SQL = (
    "SELECT id, status FROM person WHERE id = "
    "coalesce((SELECT to_id FROM person_redirect WHERE from_id = ?), ?)"
)
_LOT_SQL = (
    "SELECT id, site_code, vaccine_code, lot_number, expiry, active FROM vaccine_lot WHERE id = ?"
)
_SCREENING_SQL = (
    "SELECT id, outcome FROM screening WHERE person_id = ? AND site_code = ? AND day = ? "
    "ORDER BY screened_at DESC LIMIT 1"
)
_HISTORY_SQL = (
    "SELECT vaccine_code, dose_number, kind, day, voided FROM dose WHERE person_id = ? "
    "ORDER BY administered_at"
)
_DOSE_FIELDS = (
    "id", "person_id", "site_code", "vaccine_code", "lot_id", "lot_number", "dose_number",
    "kind", "administered_at", "day", "recorded_at", "vaccinator_id", "screening_id",
    "injection_site", "source", "observe_until", "observed_at", "voided", "void_reason",
    "voided_by", "voided_at", "version",
)
_DOSE_INSERT_SQL = (
    f"INSERT INTO dose ({', '.join(_DOSE_FIELDS)}) VALUES ({', '.join('?' for _ in _DOSE_FIELDS)})"
)
_DOSE_REG_SQL = (
    "UPDATE registration SET status = 'vaccinated', updated_at = ? WHERE person_id = ? "
    "AND site_code = ? AND day = ?"
)
_NOT_IN_PAYLOAD = frozenset({"version", "voided", "void_reason", "voided_by", "voided_at", "observed_at"})


def record_dose(st: Station, actor: Actor, data: DoseInput) -> DoseDTO:
    """Record a dose given here now (or earlier today, confirmed by the clerk).

    Refuses (errors): unknown person, no cleared screening today, unknown, expired,
    inactive or other-site lot, vaccine not matching the lot, future or pre-build
    ``administered_at``. Asks for confirmation (warnings, codes in
    ``data.confirm``): interval too short/long, mixing not allowed, unexpected
    dose number, lot expiring soon, late entry, a wall clock that looks wrong.

    The clinic's hottest path: statements run on the transaction's raw DB-API
    connection (``uow.raw``), each one prepared once by SQLite's statement cache.
    """
    require(actor.role, "record_dose")
    issues: list[FieldIssue] = []
    if data.injection_site not in INJECTION_SITES:
        issues.append(FieldIssue("injection_site", "injection_site.invalid"))
    if data.kind is not None and data.kind not in ("primary", "additional", "booster"):
        issues.append(FieldIssue("kind", "dose.bad_kind"))
    if not data.lot_id:
        issues.append(FieldIssue("lot_id", "lot_id.required"))
    with st.unit_of_work(actor) as uow:
        raw = uow.raw
        when, iss = _parse_administered(data.administered_at, uow.now)
        issues += iss
        if issues:
            raise ValidationError(issues)
        assert when is not None
        clock_warnings = st.clock_issues(uow.now, uow.clock_skew_ms)
        found = raw.execute(_PERSON_SQL, (data.person_id, data.person_id)).fetchone()
        if found is not None and found[1] == "merged":
            found = (load_person(uow.conn, data.person_id)["id"], "active")  # longer redirect chain
        if found is None:
            raise NotFound("person.not_found")
        pid = found[0]
        if found[1] != "active":
            raise DomainError("person.not_active", status=found[1])
        day = to_site_time(when).date()
        day_iso = day.isoformat()
        lot = raw.execute(_LOT_SQL, (data.lot_id,)).fetchone()
        if lot is None or lot[1] != actor.site_code:
            raise ValidationError([FieldIssue("lot_id", "lot.not_found")])
        lot_id, _site, lot_vaccine, lot_number, lot_expiry, lot_active = lot
        if not lot_active:
            raise ValidationError([FieldIssue("lot_id", "lot.inactive")])
        expiry = date.fromisoformat(lot_expiry)
        if expiry < day:
            raise ValidationError([FieldIssue("lot_id", "lot.expired", {"expiry": lot_expiry})])
        vaccine_code = data.vaccine_code or lot_vaccine
        if vaccine_code != lot_vaccine:
            raise ValidationError([FieldIssue("vaccine_code", "vaccine_code.lot_mismatch")])
        scr = raw.execute(_SCREENING_SQL, (pid, actor.site_code, day_iso)).fetchone()
        if scr is None:
            raise DomainError("dose.screening_required")
        if scr[1] not in CLEARED_OUTCOMES:
            raise DomainError("dose.screening_not_cleared", outcome=scr[1])
        history = [
            schedule.PastDose(r[0], r[1], r[2], date.fromisoformat(r[3]), bool(r[4]))
            for r in raw.execute(_HISTORY_SQL, (pid,))
        ]
        suggestion = schedule.suggest_next(history, refdata.vaccine(vaccine_code).disease)
        dose_number = data.dose_number if data.dose_number is not None else suggestion.dose_number
        kind = data.kind or suggestion.kind
        checks = schedule.check_dose(history, vaccine_code, dose_number, kind, day)
        errors = [c for c in checks if c.is_error]
        if errors:
            raise ValidationError(errors)
        warnings = [c for c in checks if not c.is_error] + clock_warnings
        if (expiry - day).days <= EXPIRY_NEAR_DAYS:
            warnings.append(FieldIssue("lot_id", "lot.expiry_near", {"expiry": lot_expiry}, "warning"))
        if day != uow.today:
            warnings.append(FieldIssue("administered_at", "administered_at.late_entry", {}, "warning"))
        _confirm(warnings, data.confirm)
        row: dict[str, Any] = {
            "id": uuid7(),
            "person_id": pid,
            "site_code": actor.site_code,
            "vaccine_code": vaccine_code,
            "lot_id": lot_id,
            "lot_number": lot_number,
            "dose_number": dose_number,
            "kind": kind,
            "administered_at": iso(when),
            "day": day_iso,
            "recorded_at": uow.now_iso,
            "vaccinator_id": actor.user_id,
            "screening_id": scr[0],
            "injection_site": data.injection_site,
            "source": "site",
            "observe_until": iso(when + OBSERVATION),
            "observed_at": None,
            "voided": 0,
            "void_reason": None,
            "voided_by": None,
            "voided_at": None,
            "version": 0,
        }
        payload = {k: v for k, v in row.items() if k not in _NOT_IN_PAYLOAD}
        payload["confirmed"] = sorted(w.code for w in warnings)
        uow.emit("record_dose", "dose", row["id"], payload)
        raw.execute(_DOSE_INSERT_SQL, tuple(row[f] for f in _DOSE_FIELDS))
        raw.execute(_DOSE_REG_SQL, (uow.now_iso, pid, actor.site_code, day_iso))
    return _dose_dto(row, tuple(warnings))


def record_past_dose(st: Station, actor: Actor, data: PastDoseInput) -> DoseDTO:
    """Enter a dose given elsewhere (from the paper certificate) so the next dose is right."""
    require(actor.role, "record_past_dose")
    with st.unit_of_work(actor) as uow:
        given, iss = vn.parse_date(
            data.given_on, field="given_on", today=uow.today, min_year=2021
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
        person = load_person(uow.conn, data.person_id)
        history = _history(uow.conn, person["id"])
        checks = schedule.check_dose(history, data.vaccine_code, data.dose_number, data.kind, given_day)
        errors = [c for c in checks if c.is_error]
        if errors:
            raise ValidationError(errors)
        warnings = [c for c in checks if not c.is_error]
        _confirm(warnings, data.confirm)
        dose_id = uuid7()
        noon = datetime(given_day.year, given_day.month, given_day.day, 12, 0, tzinfo=uow.now.tzinfo)
        row = {
            "id": dose_id,
            "person_id": person["id"],
            "site_code": actor.site_code,
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
        }
        uow.emit(
            "record_dose",
            "dose",
            dose_id,
            {k: row[k] for k in row if k not in ("version", "voided", "void_reason", "voided_by", "voided_at", "observed_at")},
        )
        uow.conn.execute(
            text(f"INSERT INTO dose ({', '.join(row)}) VALUES ({', '.join(':' + c for c in row)})"),
            row,
        )
    return _dose_dto(row, tuple(warnings))


def _load_dose(conn: Connection, dose_id: str) -> dict[str, Any]:
    row = conn.execute(
        text(f"SELECT {DOSE_COLUMNS}, version FROM dose WHERE id = :i"), {"i": dose_id}
    ).mappings().first()
    if row is None:
        raise NotFound("dose.not_found")
    return dict(row)


def void_dose(st: Station, actor: Actor, dose_id: str, reason: str | None) -> DoseDTO:
    """Void a dose entered by mistake (supervisor; reason required). Doses are never deleted."""
    require(actor.role, "void_dose")
    clean = require_reason(reason)
    with st.unit_of_work(actor) as uow:
        dose = _load_dose(uow.conn, dose_id)
        if dose["voided"]:
            raise DomainError("dose.already_voided")
        uow.emit("void_dose", "dose", dose_id, {"reason": clean, "voided_at": uow.now_iso}, base_version=dose["version"])
        uow.conn.execute(
            text(
                "UPDATE dose SET voided = 1, void_reason = :r, voided_by = :u, voided_at = :t "
                "WHERE id = :i"
            ),
            {"r": clean, "u": actor.user_id, "t": uow.now_iso, "i": dose_id},
        )
        return _dose_dto(_load_dose(uow.conn, dose_id))


def end_observation(
    st: Station, actor: Actor, dose_id: str, *, early_reason: str | None = None
) -> DoseDTO:
    """Mark the 30-minute observation of a dose as done (the slip may then be handed over).

    Before the time is up this needs ``early_reason`` (one of ``EARLY_END_REASONS``): ending
    early is a decision, recorded with the op and in the audit log, never a stray Enter.
    """
    require(actor.role, "end_observation")
    if early_reason is not None and early_reason not in EARLY_END_REASONS:
        raise ValidationError([FieldIssue("early_reason", "early_reason.invalid",
                                          {"allowed": list(EARLY_END_REASONS)})])
    with st.unit_of_work(actor) as uow:
        dose = _load_dose(uow.conn, dose_id)
        if dose["voided"]:
            raise DomainError("dose.voided")
        if dose["observed_at"]:
            raise DomainError("dose.already_observed")
        left = _observation_left_s(dose["observe_until"], uow.now)
        payload: dict[str, Any] = {"observed_at": uow.now_iso}
        if left > 0:
            if early_reason is None:
                raise ValidationError([FieldIssue("early_reason", "early_reason.required",
                                                  {"minutes_left": math.ceil(left / 60)})])
            payload["early_reason"] = early_reason
        uow.emit("end_observation", "dose", dose_id, payload, base_version=dose["version"])
        if left > 0:
            uow.audit("end_observation_early", "dose", dose_id,
                      detail={"early_reason": early_reason, "minutes_left": math.ceil(left / 60)})
        uow.conn.execute(
            text("UPDATE dose SET observed_at = :t WHERE id = :i"), {"t": uow.now_iso, "i": dose_id}
        )
        uow.conn.execute(
            text(
                "UPDATE registration SET status = 'observed', updated_at = :t WHERE person_id = :p "
                "AND site_code = :s AND day = :d AND status = 'vaccinated'"
            ),
            {"t": uow.now_iso, "p": dose["person_id"], "s": dose["site_code"], "d": dose["day"]},
        )
        return _dose_dto(_load_dose(uow.conn, dose_id))


def _observation_left_s(observe_until: str | None, now: datetime) -> float:
    if not observe_until:
        return 0.0
    try:
        return (parse_iso(observe_until) - now).total_seconds()
    except ValueError:
        return 0.0


def record_adverse_event(
    st: Station,
    actor: Actor,
    dose_id: str,
    *,
    severity: str,
    description: str | None,
    onset_at: str | None = None,
) -> AdverseEventDTO:
    """Record an adverse event following immunisation (AEFI) against a dose."""
    require(actor.role, "record_adverse_event")
    issues: list[FieldIssue] = []
    if severity not in SEVERITIES:
        issues.append(FieldIssue("severity", "severity.invalid", {"allowed": list(SEVERITIES)}))
    desc, iss = check_text(description, field="description", max_len=1000, required=True, min_len=3)
    issues += iss
    if issues:
        raise ValidationError(issues)
    with st.unit_of_work(actor) as uow:
        dose = _load_dose(uow.conn, dose_id)
        if onset_at is None:
            onset = uow.now
        else:
            try:
                onset = parse_iso(onset_at)
            except (ValueError, TypeError):
                raise ValidationError([FieldIssue("onset_at", "onset_at.format")]) from None
        if onset > uow.now + FUTURE_TOLERANCE:
            raise ValidationError([FieldIssue("onset_at", "onset_at.future")])
        # Onsets are entered to the minute: a reaction in the same minute as the dose
        # (anaphylaxis can be that fast) must not read as "before the dose".
        given = parse_iso(dose["administered_at"]).replace(second=0, microsecond=0)
        if onset < given:
            raise ValidationError([FieldIssue("onset_at", "onset_at.before_dose")])
        ae_id = uuid7()
        row = {
            "id": ae_id,
            "dose_id": dose_id,
            "person_id": dose["person_id"],
            "severity": severity,
            "description": desc,
            "onset_at": iso(onset),
            "recorded_by": actor.user_id or "",
            "recorded_at": uow.now_iso,
            "version": 0,
        }
        uow.emit("record_adverse_event", "adverse_event", ae_id, {k: v for k, v in row.items() if k != "version"})
        uow.conn.execute(
            text(
                f"INSERT INTO adverse_event ({', '.join(row)}) VALUES ({', '.join(':' + c for c in row)})"
            ),
            row,
        )
    return AdverseEventDTO(ae_id, dose_id, dose["person_id"], severity, row["onset_at"], row["recorded_at"])
