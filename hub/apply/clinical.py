"""The clinical ops through the ORM: check-ins, screenings, doses, voids, observation, adverse events.

A screening or dose for a person known at this site, with nothing to
reconcile, is written by the bulk executor (:mod:`hub.apply.bulk`). What
comes here needs the database's state: a person reached through a merge
redirect, a possible duplicate dose (a review), a supervisor's override, a
refusal with its exact reason; and the ops that change existing rows.
"""

from __future__ import annotations

from sqlalchemy import select

from hub import authz, counters
from hub.apply.context import Ctx, Outcome
from hub.apply.rows import dose_row, screening_row
from hub.effects import person_sites
from hub.errors import Rejected
from hub.models import AdverseEvent, Dose, Person, Registration, Screening, VaccineLot
from hub.payloads import AdverseP, CheckInP, DoseP, ObserveP, ScreeningP, VoidP, parse, series


def apply_check_in(ctx: Ctx) -> Outcome:
    p = parse(CheckInP, ctx.op.payload)
    ctx.require_role("check_in")
    reg = ctx.session.get(Registration, ctx.op.entity_id)
    if reg is None:
        raise Rejected("registration.unknown")
    ctx.require_own_site(reg.site_code)
    if reg.status != "expected":
        return "applied", {"noop": True, "status": reg.status}
    reg.status = "checked_in"
    reg.queue_label = p.queue_label
    reg.checked_in_at = p.checked_in_at
    reg.updated_at = p.checked_in_at
    ctx.fx.touch("registration", reg.id)
    return "applied", {}


def apply_record_screening(ctx: Ctx) -> Outcome:
    p = parse(ScreeningP, ctx.op.payload)
    ctx.require_role("record_screening")
    ctx.require_entity(p.id)
    ctx.require_own_site(p.site_code)
    authz.same_actor("screener_id", p.screener_id, ctx.op.user_id or "")
    s = ctx.session
    if s.get(Screening, p.id) is not None:
        raise Rejected("screening.exists")
    person = ctx.require_person(p.person_id, "screening.person_unknown")
    ctx.require_in_scope(person.id)
    merged_from = p.person_id if person.id != p.person_id else None
    s.add(Screening(**screening_row(p, person.id, version=0, merged_from=merged_from)))
    ctx.fx.touch("screening", p.id)
    if p.registration_id and p.registration_status:
        reg = s.get(Registration, p.registration_id)
        if (
            reg is not None
            and reg.site_code == ctx.site
            and reg.status not in ("vaccinated", "observed")
        ):
            reg.status = p.registration_status
            reg.updated_at = p.screened_at
            ctx.fx.touch("registration", reg.id)
    ctx.fx.relate(person.id, ctx.site)
    return "applied", {}


def _check_dose_rights(ctx: Ctx, p: DoseP) -> None:
    ctx.require_role("record_past_dose" if p.source == "history" else "record_dose")
    ctx.require_entity(p.id)
    ctx.require_own_site(p.site_code)
    authz.same_actor("vaccinator_id", p.vaccinator_id, ctx.op.user_id, None)
    if p.override_by is not None and not ctx.trusted:
        # The supervisor who let an age limit or contraindication pass (issue 12): named by
        # the station, so held to the same rule as the op's own user.
        authz.approver(
            ctx.session, ctx.site, "override_by", p.override_by, p.recorded_at, "override_dose_rule"
        )


def _check_lot(ctx: Ctx, p: DoseP) -> None:
    if p.lot_id is None:
        return
    lot = ctx.session.get(VaccineLot, p.lot_id)
    if lot is None:
        raise Rejected("dose.lot_unknown")
    if lot.site_code != ctx.site:
        raise Rejected("auth.cross_site")
    if lot.vaccine_code != p.vaccine_code:
        raise Rejected("dose.lot_mismatch")


def _rival_doses(ctx: Ctx, person: Person, p: DoseP) -> list[str]:
    """Possible duplicates: another valid dose, same series and number, or the same day."""
    want = series(p.vaccine_code)
    return [
        d.id
        for d in ctx.session.execute(
            select(Dose)
            .where(Dose.person_id == person.id, Dose.voided == 0, Dose.id != p.id)
            .order_by(Dose.id)
        ).scalars()
        if (d.dose_number == p.dose_number and series(d.vaccine_code) == want) or d.day == p.day
    ]


def apply_record_dose(ctx: Ctx) -> Outcome:
    p = parse(DoseP, ctx.op.payload)
    _check_dose_rights(ctx, p)
    s, fx = ctx.session, ctx.fx
    if s.get(Dose, p.id) is not None:
        raise Rejected("dose.exists")
    person = ctx.require_person(p.person_id, "dose.person_unknown")
    # A person known only at other sites is not this station's to vaccinate by id: a
    # walk-in from elsewhere is registered here first (same ID number: merged).
    ctx.require_in_scope(person.id)
    _check_lot(ctx, p)
    merged_from = p.person_id if person.id != p.person_id else None
    row = Dose(**dose_row(p, person.id, ctx.station.id, version=0, merged_from=merged_from))
    others = _rival_doses(ctx, person, p)
    s.add(row)
    s.flush()
    counters.note_new_dose(
        s,
        dose_id=p.id,
        site=ctx.site,
        origin=ctx.station.id,
        day=p.day,
        source=p.source,
        recorded_at=p.recorded_at,
    )
    fx.touch("dose", p.id)
    fx.relate(person.id, ctx.site)
    for reg in s.execute(
        select(Registration).where(
            Registration.person_id == person.id,
            Registration.site_code == ctx.site,
            Registration.day == p.day,
        )
    ).scalars():
        if reg.status != "vaccinated":
            reg.status = "vaccinated"
            reg.updated_at = p.recorded_at
            fx.touch("registration", reg.id)
    detail: dict[str, object] = {}
    if person.id != p.person_id:
        detail["person_id"] = person.id
    if others:
        rid = fx.review(
            "possible_duplicate_dose",
            "high",
            "dose",
            p.id,
            set(person_sites(s, person.id)),
            {"person_id": person.id, "dose_ids": [*others, p.id]},
        )
        detail |= {"possible_duplicate_of": others, "review_id": rid}
    return "applied", detail


def _require_dose(ctx: Ctx, reason: str = "dose.unknown") -> Dose:
    dose = ctx.session.get(Dose, ctx.op.entity_id)
    if dose is None:
        raise Rejected(reason)
    ctx.require_in_scope(dose.person_id)
    return dose


def void(ctx: Ctx, dose: Dose, reason: str, voided_at: str, *, by_station_op: bool = False) -> bool:
    if dose.voided:
        return False
    dose.voided = 1
    dose.void_reason = reason
    dose.voided_by = ctx.op.user_id
    dose.voided_at = voided_at
    counters.note_void(ctx.session, dose, by_station=ctx.station.id if by_station_op else None)
    ctx.fx.touch("dose", dose.id)
    return True


def apply_void_dose(ctx: Ctx) -> Outcome:
    p = parse(VoidP, ctx.op.payload)
    ctx.require_role("void_dose")
    dose = _require_dose(ctx)
    if not void(ctx, dose, p.reason, p.voided_at, by_station_op=True):
        return "applied", {"noop": True, "already_voided": True}
    return "applied", {}


def _flag_after_void(ctx: Ctx, dose: Dose, what: str, priority: str) -> str:
    return ctx.fx.review(
        "edit_after_void",
        priority,
        "dose",
        dose.id,
        set(person_sites(ctx.session, dose.person_id)),
        {"dose_id": dose.id, "op_type": what, "op_id": ctx.op.op_id},
    )


def apply_end_observation(ctx: Ctx) -> Outcome:
    p = parse(ObserveP, ctx.op.payload)
    ctx.require_role("end_observation")
    dose = _require_dose(ctx)
    if dose.observed_at:
        return "applied", {"noop": True}
    dose.observed_at = p.observed_at
    ctx.fx.touch("dose", dose.id)
    for reg in ctx.session.execute(
        select(Registration).where(
            Registration.person_id == dose.person_id,
            Registration.site_code == dose.site_code,
            Registration.day == dose.day,
            Registration.status == "vaccinated",
        )
    ).scalars():
        reg.status = "observed"
        reg.updated_at = p.observed_at
        ctx.fx.touch("registration", reg.id)
    if dose.voided:
        # Void wins for status; the edit is kept and a supervisor looks at it.
        return "applied", {"review_id": _flag_after_void(ctx, dose, "end_observation", "low")}
    return "applied", {}


def apply_record_adverse_event(ctx: Ctx) -> Outcome:
    p = parse(AdverseP, ctx.op.payload)
    ctx.require_role("record_adverse_event")
    ctx.require_entity(p.id)
    s = ctx.session
    if s.get(AdverseEvent, p.id) is not None:
        raise Rejected("adverse_event.exists")
    dose = s.get(Dose, p.dose_id)
    if dose is None:
        raise Rejected("adverse_event.dose_unknown")
    ctx.require_in_scope(dose.person_id)
    authz.same_actor("recorded_by", p.recorded_by, ctx.op.user_id or "")
    s.add(
        AdverseEvent(
            **p.model_dump(exclude={"person_id"}),
            person_id=dose.person_id,
            version=0,
            merged_from=p.person_id if p.person_id and p.person_id != dose.person_id else None,
        )
    )
    s.flush()
    ctx.fx.touch("adverse_event", p.id)
    if dose.voided:
        # An adverse event matters clinically even on a voided dose: high priority.
        return "applied", {"review_id": _flag_after_void(ctx, dose, "record_adverse_event", "high")}
    return "applied", {}
