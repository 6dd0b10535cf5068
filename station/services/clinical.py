"""Screening, doses, voids, adverse events and observation."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from kernel import refdata
from kernel.clock import iso, parse_iso, to_site_time
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
from kernel.roles import can, require
from kernel.rules import schedule
from kernel.rules import screening as screening_rules
from kernel.rules import vietnam as vn
from station._build import BUILD_DATE
from station.dto import (
    AdverseEventDTO,
    DoseDTO,
    DoseInput,
    DoseSuggestionDTO,
    PastDoseInput,
    ScreeningDTO,
    ScreeningFormChoice,
)
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
# Clinical refusals a supervisor may override with a reason (issue 12): the catalog's
# age limits, and a contraindication found in today's screening.
OVERRIDABLE = frozenset({"dose.age_below_min", "dose.age_above_max", "dose.contraindicated"})
PROFILE_KEY = "interval_profile"

DOSE_COLUMNS = (
    "id, person_id, site_code, vaccine_code, lot_id, lot_number, dose_number, kind, "
    "administered_at, day, source, observe_until, observed_at, voided, void_reason, "
    "volume_ml, override_reason"
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
        volume_ml=row["volume_ml"],
        override_reason=row["override_reason"],
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


# ---- interval profile (province decisions) ------------------------------------------


def _profile_id(raw_conn: Any) -> str:
    row = raw_conn.execute("SELECT value FROM meta WHERE key = ?", (PROFILE_KEY,)).fetchone()
    return refdata.province_profile(row[0] if row else None).id


def interval_profile(st: Station) -> str:
    """The interval profile this station applies (``national`` unless set)."""
    with st.read() as conn:
        value = conn.execute(
            text("SELECT value FROM meta WHERE key = :k"), {"k": PROFILE_KEY}
        ).scalar()
    return refdata.province_profile(value).id


def set_interval_profile(st: Station, actor: Actor, profile_id: str) -> str:
    """Apply a province's interval decisions at this station (supervisor or IT; audited).

    Every station of a site must use the same profile: set it on each desk.
    """
    require(actor.role, "set_interval_profile")
    if profile_id not in refdata.province_profiles():
        raise ValidationError([FieldIssue("profile", "profile.unknown")])
    with st.unit_of_work(actor, min_ops=0) as uow:
        before = _profile_id(uow.raw)
        uow.raw.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (PROFILE_KEY, profile_id),
        )
        uow.audit("set_interval_profile", None, None, detail={"from": before, "to": profile_id})
    return profile_id


# ---- ages and forms --------------------------------------------------------------------


def _person_facts(conn: Connection, person_id: str) -> dict[str, Any]:
    """The person (after redirects) with the columns the clinical rules need."""
    pid = load_person(conn, person_id)["id"]
    row = conn.execute(
        text("SELECT id, birth, sex, status FROM person WHERE id = :p"), {"p": pid}
    ).mappings().one()
    return dict(row)


def screening_form_for(st: Station, person_id: str, day: date | None = None) -> ScreeningFormChoice:
    """The form to screen ``person_id`` with on ``day`` (today): by date and age."""
    on = day or st.today()
    with st.read() as conn:
        person = _person_facts(conn, person_id)
    ages = schedule.age_range(person["birth"], on)
    form = refdata.screening_form_for(
        on.isoformat(), ages[0] if ages else None, ages[1] if ages else None
    )
    return ScreeningFormChoice(
        form_id=form.id if form else None,
        day=on.isoformat(),
        age_min=ages[0] if ages else None,
        age_max=ages[1] if ages else None,
        sex=person["sex"],
        guardian=bool(form and form.guardian),
    )


def suggest_dose(st: Station, person_id: str) -> DoseSuggestionDTO:
    """The next dose for ``person_id`` today: products licensed for their age, mixes
    valid today, the station's interval profile."""
    today = st.today()
    with st.read() as conn:
        person = _person_facts(conn, person_id)
        history = _history(conn, person["id"])
        profile = _profile_id(conn.connection.driver_connection)
    s = schedule.suggest_next(
        history, on=today, ages=schedule.age_range(person["birth"], today), profile=profile
    )
    return DoseSuggestionDTO(
        dose_number=s.dose_number,
        kind=s.kind,
        vaccine_codes=s.vaccine_codes,
        earliest=s.earliest.isoformat() if s.earliest else None,
        latest=s.latest.isoformat() if s.latest else None,
        complete=s.complete,
        recommended=s.recommended.isoformat() if s.recommended else None,
        profile=profile,
    )


# ---- screening ---------------------------------------------------------------------


def _pick_form(form_id: str | None, day: str, ages: schedule.Ages | None) -> refdata.ScreeningForm:
    """The form a new screening uses: the one chosen by date and age, or an explicit one
    that must be current and fit the person."""
    if form_id is None:
        form = refdata.screening_form_for(day, ages[0] if ages else None, ages[1] if ages else None)
        if form is None:
            raise DomainError("screening.no_form")
        return form
    form = refdata.screening_forms().get(form_id)
    if form is None:
        raise ValidationError([FieldIssue("form_id", "form_id.unknown")])
    if not form.selectable or not form.valid_on(day):
        raise ValidationError([FieldIssue("form_id", "form_id.not_current")])
    if ages is not None and not (form.fits_age(ages[0]) or form.fits_age(ages[1])):
        raise ValidationError(
            [FieldIssue("form_id", "form_id.wrong_age",
                        {"min_age": form.min_age_years, "max_age": form.max_age_years})]
        )
    return form


def _check_guardian(
    form: refdata.ScreeningForm, name: str | None, phone: str | None
) -> tuple[dict[str, str], list[FieldIssue]]:
    """A children's checklist records the parent's or guardian's name and phone."""
    if not form.guardian:
        return {}, []
    clean_name, issues = vn.check_full_name(name, field="guardian_name")
    clean_phone, phone_issues = vn.check_phone(phone, field="guardian_phone", required=True)
    issues += phone_issues
    out = {}
    if clean_name:
        out["name"] = clean_name
    if clean_phone:
        out["phone"] = clean_phone
    return out, issues


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
    guardian_name: str | None = None,
    guardian_phone: str | None = None,
) -> ScreeningDTO:
    """Record the screening form. The software suggests; the screener's ``outcome`` decides.

    The form is the one for the person's age on today's date (``form_id`` may name it;
    it must then be current and fit the age). Questions that do not apply to the
    person's sex (pregnancy, for a man) are not asked. A children's checklist needs
    the guardian's name and phone. An outcome that differs from the suggestion needs
    ``override_reason``.
    """
    require(actor.role, "record_screening")
    if outcome not in screening_rules.OUTCOMES:
        raise ValidationError([FieldIssue("outcome", "outcome.invalid")])
    with st.unit_of_work(actor) as uow:
        person = _person_facts(uow.conn, person_id)
        day = uow.today.isoformat()
        ages = schedule.age_range(person["birth"], uow.today)
        form = _pick_form(form_id, day, ages)
        sex = person["sex"]
        issues = screening_rules.check_answers(form, answers, vitals, sex)
        clean_details: dict[str, str] = {}
        for key, raw in (details or {}).items():
            val, iss = check_text(raw, field=f"details.{key}", max_len=200)
            issues += iss
            if val:
                clean_details[key] = val
        guardian, iss = _check_guardian(form, guardian_name, guardian_phone)
        issues += iss
        if [i for i in issues if i.is_error]:
            raise ValidationError([i for i in issues if i.is_error])
        asked = {item.id for item in screening_rules.applicable_items(form, sex)}
        bool_answers = {k: bool(v) for k, v in answers.items() if k in asked}
        num_vitals = {k: (float(v) if v is not None else None) for k, v in (vitals or {}).items()}  # type: ignore[arg-type]
        suggested = screening_rules.suggest_outcome(form, bool_answers, num_vitals, sex)
        reason: str | None = None
        if outcome != suggested:
            reason = require_reason(override_reason, "override_reason")
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
        stored: dict[str, Any] = {"answers": bool_answers, "details": clean_details}
        if guardian:
            stored["guardian"] = guardian
        row = {
            "id": sid,
            "person_id": person["id"],
            "registration_id": reg["id"],
            "site_code": actor.site_code,
            "day": day,
            "form_id": form.id,
            "answers": json.dumps(stored, ensure_ascii=False, sort_keys=True),
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


def _approve_override(
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


def record_dose(
    st: Station, actor: Actor, data: DoseInput, *, supervisor: Actor | None = None
) -> DoseDTO:
    """Record a dose given here now (or earlier today, confirmed by the clerk).

    Refuses (errors): unknown person, no cleared screening today, unknown, expired,
    inactive or other-site lot, vaccine not matching the lot, future or pre-build
    ``administered_at``, unknown injection site. Refuses unless a supervisor
    overrides (``NeedsOverride``; codes in ``data.override``, a reason, and the
    supervisor as ``supervisor`` or as the actor; audited): an age outside the
    vaccine's licensed ages, a contraindication found in today's screening. Asks for
    confirmation (warnings, codes in ``data.confirm``): interval too short/long,
    mixing not allowed or only when the first vaccine is unavailable, an uncertain
    age, unexpected dose number, lot expiring soon, late entry, a wall clock that
    looks wrong.

    The product follows the lot and the person's age (a Moderna lot gives the 6-11
    half dose to a child); the volume injected is recorded on the dose.

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
            pid = load_person(uow.conn, data.person_id)["id"]  # longer redirect chain
            found = raw.execute(_PERSON_SQL, (pid, pid)).fetchone()
        if found is None:
            raise NotFound("person.not_found")
        pid, status, birth = found
        if status != "active":
            raise DomainError("person.not_active", status=status)
        day = to_site_time(when).date()
        day_iso = day.isoformat()
        ages = schedule.age_range(birth, day)
        lot = raw.execute(_LOT_SQL, (data.lot_id,)).fetchone()
        if lot is None or lot[1] != actor.site_code:
            raise ValidationError([FieldIssue("lot_id", "lot.not_found")])
        lot_id, _site, lot_vaccine, lot_number, lot_expiry, lot_active = lot
        if not lot_active:
            raise ValidationError([FieldIssue("lot_id", "lot.inactive")])
        expiry = date.fromisoformat(lot_expiry)
        if expiry < day:
            raise ValidationError([FieldIssue("lot_id", "lot.expired", {"expiry": lot_expiry})])
        vaccine_code = data.vaccine_code or schedule.choose_product(lot_vaccine, ages)
        if vaccine_code not in refdata.products_for_lot(lot_vaccine):
            raise ValidationError([FieldIssue("vaccine_code", "vaccine_code.lot_mismatch")])
        vac = refdata.vaccine(vaccine_code)
        scr = raw.execute(_SCREENING_SQL, (pid, actor.site_code, day_iso)).fetchone()
        if scr is None:
            raise DomainError("dose.screening_required")
        if scr[1] not in CLEARED_OUTCOMES:
            raise DomainError("dose.screening_not_cleared", outcome=scr[1])
        history = [
            schedule.PastDose(r[0], r[1], r[2], date.fromisoformat(r[3]), bool(r[4]))
            for r in raw.execute(_HISTORY_SQL, (pid,))
        ]
        profile_row = raw.execute(_PROFILE_SQL).fetchone()
        profile = refdata.province_profile(profile_row[0] if profile_row else None).id
        suggestion = schedule.suggest_next(history, vac.disease)
        dose_number = data.dose_number if data.dose_number is not None else suggestion.dose_number
        kind = data.kind or suggestion.kind
        checks = schedule.check_dose(
            history, vaccine_code, dose_number, kind, day, ages=ages, profile=profile
        )
        checks += schedule.check_age(vaccine_code, ages)
        errors = [c for c in checks if c.is_error and c.code not in OVERRIDABLE]
        if errors:
            raise ValidationError(errors)
        refusals = [c for c in checks if c.code in OVERRIDABLE]
        refusals += contraindications(vaccine_code, scr[2], scr[3], history)
        warnings = [c for c in checks if not c.is_error] + clock_warnings
        if (expiry - day).days <= EXPIRY_NEAR_DAYS:
            warnings.append(FieldIssue("lot_id", "lot.expiry_near", {"expiry": lot_expiry}, "warning"))
        if day != uow.today:
            warnings.append(FieldIssue("administered_at", "administered_at.late_entry", {}, "warning"))
        approved = _approve_override(refusals, data, actor, supervisor)
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
            "volume_ml": vac.volume_for(kind),
            "override_by": approved[1].user_id if approved else None,
            "override_reason": approved[0] if approved else None,
            "origin_station": st.install_id,
        }
        payload = {k: v for k, v in row.items() if k not in _NOT_IN_PAYLOAD}
        payload["confirmed"] = sorted(w.code for w in warnings if w.severity == "warning")
        if approved:
            payload["overridden"] = sorted({i.code for i in refusals})
        uow.emit("record_dose", "dose", row["id"], payload)
        if approved:
            # Who approved what, in the hash-chained audit (codes only: no personal data;
            # the reason is on the dose row).
            uow.audit(
                "override_dose_rule",
                "dose",
                row["id"],
                detail={
                    "codes": sorted({i.code for i in refusals}),
                    "approved_by": approved[1].user_id,
                    "vaccine_code": vaccine_code,
                },
            )
        raw.execute(_DOSE_INSERT_SQL, tuple(row[f] for f in _DOSE_FIELDS))
        raw.execute(_DOSE_REG_SQL, (uow.now_iso, pid, actor.site_code, day_iso))
    return _dose_dto(row, tuple(warnings))


PAST_DOSE_MIN_YEAR = 1900


def record_past_dose(st: Station, actor: Actor, data: PastDoseInput) -> DoseDTO:
    """Enter a dose given elsewhere (from the paper certificate) so the next dose is right.

    Any date from the person's birth to today: paper histories go back before 2021
    (routine vaccines; trial doses). Asks for confirmation when the day is before the
    vaccine was in use (``dose.before_in_use``), or the person's age then was outside
    the vaccine's ages (the age limits are warnings here: the dose was given).
    """
    require(actor.role, "record_past_dose")
    with st.unit_of_work(actor) as uow:
        given, iss = vn.parse_date(
            data.given_on, field="given_on", today=uow.today, min_year=PAST_DOSE_MIN_YEAR
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
        person = _person_facts(uow.conn, data.person_id)
        ages = schedule.age_range(person["birth"], given_day)
        if ages is None and person["birth"]:
            raise ValidationError([FieldIssue("given_on", "given_on.before_birth")])
        history = _history(uow.conn, person["id"])
        checks = schedule.check_dose(
            history, data.vaccine_code, data.dose_number, data.kind, given_day, ages=ages,
            profile=_profile_id(uow.raw),
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
            "volume_ml": None,  # the paper certificate does not say
            "override_by": None,
            "override_reason": None,
            "origin_station": st.install_id,
        }
        uow.emit(
            "record_dose", "dose", dose_id, {k: row[k] for k in row if k not in _NOT_IN_PAYLOAD}
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
