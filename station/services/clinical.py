"""Screening, doses, voids, adverse events and observation.

Recording a dose runs named steps kept in ``station.services.doses`` (checks,
rows, the op), so each function here reads as the order of those steps.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from typing import SupportsFloat, TypedDict

from sqlalchemy import Connection, RowMapping, text

from kernel import refdata
from kernel.clock import CLOCK_TOLERANCE, iso, parse_iso, to_site_time
from kernel.errors import DomainError, FieldIssue, NotFound, ValidationError
from kernel.ids import uuid7
from kernel.ops import EARLY_END_REASONS as EARLY_END_REASONS
from kernel.ops import AdverseP, ObserveP, ScreeningP, VoidP, build, wire
from kernel.roles import require
from kernel.rules import schedule
from kernel.rules import screening as screening_rules
from kernel.rules import vietnam as vn
from station.db import raw_connection
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
from station.services.doses import (
    CLEARED_OUTCOMES,
    DOSE_COLUMNS,
    EXPIRY_NEAR_DAYS,
    PROFILE_KEY,
    active_person,
    approve_override,
    cleared_screening,
    confirm,
    current_profile,
    dose_dto,
    dose_payload,
    input_issues,
    judge,
    parse_administered,
    past_dose_input,
    past_dose_row,
    past_dose_warnings,
    past_doses,
    person_facts,
    site_dose_row,
    usable_lot,
    write_site_dose,
)
from station.services.doses import contraindications as contraindications
from station.store import Actor, Station, UnitOfWork

SEVERITIES = ("none", "common", "severe", "other")


def dose_history(st: Station, person_id: str) -> list[DoseDTO]:
    with st.read() as conn:
        pid = load_person(conn, person_id)["id"]
        rows = conn.execute(
            text(f"SELECT {DOSE_COLUMNS} FROM dose WHERE person_id = :p ORDER BY administered_at"),
            {"p": pid},
        ).mappings().all()
    return [dose_dto(r) for r in rows]


# ---- interval profile (province decisions) ------------------------------------------


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
        before = current_profile(uow.raw)
        uow.raw.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (PROFILE_KEY, profile_id),
        )
        uow.audit("set_interval_profile", None, None, detail={"from": before, "to": profile_id})
    return profile_id


# ---- ages and forms --------------------------------------------------------------------



def screening_form_for(st: Station, person_id: str, day: date | None = None) -> ScreeningFormChoice:
    """The form to screen ``person_id`` with on ``day`` (today): by date and age."""
    on = day or st.today()
    with st.read() as conn:
        person = person_facts(conn, person_id)
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
        person = person_facts(conn, person_id)
        history = past_doses(conn, person["id"])
        profile = current_profile(raw_connection(conn))
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
        person = person_facts(uow.conn, person_id)
        day = uow.today.isoformat()
        form = _pick_form(form_id, day, schedule.age_range(person["birth"], uow.today))
        sex = person["sex"]
        issues = screening_rules.check_answers(form, answers, vitals, sex)
        clean_details, iss = _clean_details(details)
        issues += iss
        guardian, iss = _check_guardian(form, guardian_name, guardian_phone)
        issues += iss
        if [i for i in issues if i.is_error]:
            raise ValidationError([i for i in issues if i.is_error])
        asked = {item.id for item in screening_rules.applicable_items(form, sex)}
        bool_answers = {k: bool(v) for k, v in answers.items() if k in asked}
        num_vitals = {k: _vital(v) for k, v in (vitals or {}).items()}
        suggested = screening_rules.suggest_outcome(form, bool_answers, num_vitals, sex)
        reason: str | None = None
        if outcome != suggested:
            reason = require_reason(override_reason, "override_reason")
        reg = _screenable_registration(uow.conn, person["id"], actor.site_code, day)
        stored: dict[str, object] = {"answers": bool_answers, "details": clean_details}
        if guardian:
            stored["guardian"] = guardian
        row: ScreeningRow = {
            "id": uuid7(),
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
        _write_screening(uow, row, reg["id"], "cleared" if outcome in CLEARED_OUTCOMES else "deferred")
    return ScreeningDTO(
        id=row["id"],
        person_id=person["id"],
        registration_id=reg["id"],
        day=day,
        form_id=form.id,
        suggested_outcome=suggested,
        outcome=outcome,
        override_reason=reason,
        screened_at=row["screened_at"],
    )


def _vital(v: object) -> float | None:
    # The form's checks (screening_rules.check_answers) passed: a number, or none.
    return float(v) if isinstance(v, SupportsFloat | str) else None


def _clean_details(details: Mapping[str, str] | None) -> tuple[dict[str, str], list[FieldIssue]]:
    """The free-text details of yes-answers, each checked and bounded."""
    issues: list[FieldIssue] = []
    clean: dict[str, str] = {}
    for key, raw in (details or {}).items():
        val, iss = check_text(raw, field=f"details.{key}", max_len=200)
        issues += iss
        if val:
            clean[key] = val
    return clean, issues


def _screenable_registration(conn: Connection, pid: str, site_code: str, day: str) -> RowMapping:
    """Today's registration of the person here: checked in and not yet vaccinated."""
    reg = conn.execute(
        text(
            "SELECT id, status, version FROM registration WHERE person_id = :p "
            "AND site_code = :s AND day = :d"
        ),
        {"p": pid, "s": site_code, "d": day},
    ).mappings().first()
    if reg is None or reg["status"] == "expected":
        raise DomainError("screening.not_checked_in")
    if reg["status"] in ("vaccinated", "observed"):
        raise DomainError("screening.already_vaccinated")
    return reg


class ScreeningRow(TypedDict):
    """A new ``screening`` row (every column but ``rid``)."""

    id: str
    person_id: str
    registration_id: str
    site_code: str
    day: str
    form_id: str
    answers: str  # JSON: answers, details of yes-answers, guardian
    vitals: str  # JSON
    suggested_outcome: str
    outcome: str
    override_reason: str | None
    screener_id: str
    screened_at: str
    version: int


def _write_screening(uow: UnitOfWork, row: ScreeningRow, reg_id: str, new_status: str) -> None:
    """The op, the screening row and the registration's new status."""
    fields = {k: v for k, v in row.items() if k != "version"}
    uow.emit(
        "record_screening", "screening", row["id"],
        wire(build(ScreeningP, **fields, registration_status=new_status)),
    )
    cols = ", ".join(row)
    uow.conn.execute(
        text(f"INSERT INTO screening ({cols}) VALUES ({', '.join(':' + c for c in row)})"), row
    )
    uow.conn.execute(
        text("UPDATE registration SET status = :st, updated_at = :t WHERE id = :i"),
        {"st": new_status, "t": uow.now_iso, "i": reg_id},
    )


# ---- doses (the steps in station.services.doses) ---------------------------------------


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
    issues = input_issues(data)
    with st.unit_of_work(actor) as uow:
        raw = uow.raw
        when, iss = parse_administered(data.administered_at, uow.now)
        issues += iss
        if issues:
            raise ValidationError(issues)
        assert when is not None
        clock_warnings = st.clock_issues(uow.now, uow.clock_skew_ms)
        pid, birth = active_person(uow, data.person_id)
        day = to_site_time(when).date()
        ages = schedule.age_range(birth, day)
        lot = usable_lot(raw, data.lot_id, actor.site_code, day)
        vaccine_code = data.vaccine_code or schedule.choose_product(lot.vaccine_code, ages)
        if vaccine_code not in refdata.products_for_lot(lot.vaccine_code):
            raise ValidationError([FieldIssue("vaccine_code", "vaccine_code.lot_mismatch")])
        scr = cleared_screening(raw, pid, actor.site_code, day.isoformat())
        verdict = judge(raw, data, pid, vaccine_code, day, ages, scr, st.install_id)
        warnings = verdict.warnings + clock_warnings
        if (lot.expiry - day).days <= EXPIRY_NEAR_DAYS:
            warnings.append(FieldIssue("lot_id", "lot.expiry_near", {"expiry": lot.expiry_iso}, "warning"))
        if day != uow.today:
            warnings.append(FieldIssue("administered_at", "administered_at.late_entry", {}, "warning"))
        approved = approve_override(verdict.refusals, data, actor, supervisor)
        confirm(warnings, data.confirm)
        row = site_dose_row(st, uow, data, pid, vaccine_code, lot, scr, when, verdict, approved)
        write_site_dose(uow, row, warnings, verdict.refusals, approved)
    return dose_dto(row, tuple(warnings))


def record_past_dose(st: Station, actor: Actor, data: PastDoseInput) -> DoseDTO:
    """Enter a dose given elsewhere (from the paper certificate) so the next dose is right.

    Any date from the person's birth to today: paper histories go back before 2021
    (routine vaccines; trial doses). Asks for confirmation when the day is before the
    vaccine was in use (``dose.before_in_use``), or the person's age then was outside
    the vaccine's ages (the age limits are warnings here: the dose was given).
    """
    require(actor.role, "record_past_dose")
    with st.unit_of_work(actor) as uow:
        given_day, lot_number = past_dose_input(data, uow.today)
        person = person_facts(uow.conn, data.person_id)
        ages = schedule.age_range(person["birth"], given_day)
        if ages is None and person["birth"]:
            raise ValidationError([FieldIssue("given_on", "given_on.before_birth")])
        warnings = past_dose_warnings(uow, data, person["id"], given_day, ages)
        confirm(warnings, data.confirm)
        row = past_dose_row(st, uow, data, person["id"], given_day, lot_number)
        uow.emit("record_dose", "dose", row["id"], dose_payload(row))
        uow.conn.execute(
            text(f"INSERT INTO dose ({', '.join(row)}) VALUES ({', '.join(':' + c for c in row)})"),
            row,
        )
    return dose_dto(row, tuple(warnings))


def _load_dose(conn: Connection, dose_id: str) -> RowMapping:
    row = conn.execute(
        text(f"SELECT {DOSE_COLUMNS}, version FROM dose WHERE id = :i"), {"i": dose_id}
    ).mappings().first()
    if row is None:
        raise NotFound("dose.not_found")
    return row


def void_dose(st: Station, actor: Actor, dose_id: str, reason: str | None) -> DoseDTO:
    """Void a dose entered by mistake (supervisor; reason required). Doses are never deleted."""
    require(actor.role, "void_dose")
    clean = require_reason(reason)
    with st.unit_of_work(actor) as uow:
        dose = _load_dose(uow.conn, dose_id)
        if dose["voided"]:
            raise DomainError("dose.already_voided")
        uow.emit(
            "void_dose", "dose", dose_id, wire(build(VoidP, reason=clean, voided_at=uow.now_iso)),
            base_version=dose["version"],
        )
        uow.conn.execute(
            text(
                "UPDATE dose SET voided = 1, void_reason = :r, voided_by = :u, voided_at = :t "
                "WHERE id = :i"
            ),
            {"r": clean, "u": actor.user_id, "t": uow.now_iso, "i": dose_id},
        )
        return dose_dto(_load_dose(uow.conn, dose_id))


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
        payload = build(ObserveP, observed_at=uow.now_iso)
        if left > 0:
            if early_reason is None:
                raise ValidationError([FieldIssue("early_reason", "early_reason.required",
                                                  {"minutes_left": math.ceil(left / 60)})])
            payload = build(ObserveP, observed_at=uow.now_iso, early_reason=early_reason)
        uow.emit("end_observation", "dose", dose_id, wire(payload), base_version=dose["version"])
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
        return dose_dto(_load_dose(uow.conn, dose_id))


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
        if onset > uow.now + CLOCK_TOLERANCE:
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
        uow.emit(
            "record_adverse_event", "adverse_event", ae_id,
            wire(build(AdverseP, **{k: v for k, v in row.items() if k != "version"})),
        )
        uow.conn.execute(
            text(
                f"INSERT INTO adverse_event ({', '.join(row)}) VALUES ({', '.join(':' + c for c in row)})"
            ),
            row,
        )
    return AdverseEventDTO(ae_id, dose_id, dose["person_id"], severity, row["onset_at"], row["recorded_at"])
