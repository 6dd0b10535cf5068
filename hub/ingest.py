"""Applying pushed ops: the ledger, per-replica order, domain rules and DESIGN §6 conflicts.

Each op runs in its own write transaction: ledger check, order check, the
effect (inside a savepoint, so a rejection or a database refusal undoes only the
effect), the ``applied_op`` row and the change-log rows commit together. A
retried op therefore answers exactly what the first attempt committed.

Rules as implemented (docs/protocol.md has the full table):

* known ``op_id`` + same payload hash → ``duplicate`` with the stored result;
  different hash → ``rejected`` ``op.id_reused``;
* ``op_seq`` below the replica's next with an unknown ``op_id`` → HTTP 409
  ``replica.regressed``; above it → stop and answer ``expected_next_op_seq``;
* a rejected op is recorded and the replica moves on (the queue never blocks).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from hub import authz, counters
from hub.db import Database
from hub.effects import (
    Effects,
    Numbering,
    has_registration,
    merge_person,
    person_sites,
    resolve_person,
    unmerge_person,
)
from hub.errors import HubError, Rejected
from hub.fastpath import FastPathRefused, FastRun, Ledgered, fast_runs
from hub.models import (
    AdverseEvent,
    AppliedOp,
    AppUser,
    Dose,
    FieldMeta,
    Person,
    PersonRedirect,
    PersonSite,
    Registration,
    Replica,
    ReviewItem,
    Screening,
    Station,
    VaccineLot,
)
from hub.payloads import (
    ACTIONS_BY_KIND,
    CONTACT_FIELDS,
    ID_SHAPES,
    IDENTITY_FIELDS,
    AddRegistrationP,
    AdverseP,
    CheckInP,
    DoseP,
    LotP,
    ObserveP,
    RegisterPersonP,
    RegP,
    ResolveP,
    ScreeningP,
    UpdatePersonP,
    UserP,
    VoidP,
    check_field_value,
    parse,
    series,
)
from kernel.chunks import in_chunks
from kernel.clock import CLOCK_TOLERANCE_MS as SKEW_TOLERANCE_MS
from kernel.ids import uuid7
from kernel.rules.vietnam import fold
from sync.protocol import Op, OpResult, PushRequest

log = logging.getLogger(__name__)

def payload_hash(op: Op) -> str:
    """What makes two sends of an op "the same": everything but its position in a push."""
    # The fields of ``op.model_dump(mode="json", exclude={"op_seq"})``, built by hand:
    # the same JSON (the payload arrived as JSON), a fifth of the time.
    body = {
        "op_id": op.op_id,
        "op_type": op.op_type,
        "op_version": op.op_version,
        "entity_type": op.entity_type,
        "entity_id": op.entity_id,
        "base_version": op.base_version,
        "payload": op.payload,
        "hlc": op.hlc,
        "recorded_at": op.recorded_at,
        "user_id": op.user_id,
    }
    raw = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_now(now: datetime) -> str:
    return now.astimezone(UTC).isoformat(timespec="milliseconds")


# ---- the op context ------------------------------------------------------------------


@dataclass
class Ctx:
    session: Session
    station: Station
    op: Op
    fx: Effects
    skewed: bool
    # Hub-origin ops the hub itself makes (imports from the hub CLI): no station user.
    trusted: bool = False

    @property
    def site(self) -> str:
        return self.station.site_code

    def require_role(self, *actions: str) -> None:
        """The op's user is a user of this site whose role may do one of ``actions``
        (any role when none is named)."""
        if not self.trusted:
            who = authz.actor(self.session, self.site, self.op.user_id)
            authz.check(who, self.op.recorded_at, actions)

    def require_person(self, person_id: str, reason: str) -> Person:
        pid = resolve_person(self.session, person_id)
        if pid != person_id:
            lock_person(self.session, pid)  # a merge survivor: its rules run alone too
        person = self.session.get(Person, pid)
        if person is None:
            raise Rejected(reason)
        return person

    def require_in_scope(self, person_id: str) -> None:
        if self.session.get(PersonSite, (person_id, self.site)) is None:
            raise Rejected("auth.cross_site")

    def require_own_site(self, site_code: str) -> None:
        if site_code != self.site:
            raise Rejected("auth.cross_site")

    def require_entity(self, value: str) -> None:
        if value != self.op.entity_id:
            raise Rejected("op.entity_mismatch")


Outcome = tuple[str, dict[str, Any]]  # (ack status, detail)


# ---- person ops ----------------------------------------------------------------------


def _registration_row(ctx: Ctx, reg: RegP, person_id: str) -> Registration:
    status = reg.status
    return Registration(
        id=reg.id,
        person_id=person_id,
        site_code=ctx.site,
        day=reg.day,
        source=reg.source,
        status=status,
        queue_label=reg.queue_label,
        checked_in_at=ctx.op.recorded_at if status == "checked_in" else None,
        import_ref=reg.import_ref,
        version=0,
        created_at=ctx.op.recorded_at,
        updated_at=ctx.op.recorded_at,
    )


def _add_registration(ctx: Ctx, reg: RegP, person_id: str) -> None:
    s = ctx.session
    if s.get(Registration, reg.id) is not None:
        raise Rejected("registration.exists")
    survivor = resolve_person(s, person_id)
    if survivor != person_id and has_registration(s, survivor, ctx.site, reg.day):
        survivor = person_id  # one registration per person, site and day: keep it on the merged one
    row = _registration_row(ctx, reg, survivor)
    if survivor != person_id:
        row.merged_from = person_id
    s.add(row)
    s.flush()
    ctx.fx.touch("registration", reg.id)
    ctx.fx.relate(survivor, ctx.site)


def apply_register_person(ctx: Ctx) -> Outcome:
    p = parse(RegisterPersonP, ctx.op.payload)
    ctx.require_role("register", "add_expected")
    s, pid, fx = ctx.session, ctx.op.entity_id, ctx.fx
    if len(pid) > 36:
        raise Rejected("payload.invalid", fields=["entity_id"])
    if s.get(Person, pid) is not None:
        raise Rejected("person.exists")
    if p.registration is not None and s.get(Registration, p.registration.id) is not None:
        raise Rejected("registration.exists")
    v = p.person
    birth_year = int(v.birth[:4])
    person = Person(
        id=pid,
        full_name=v.full_name,
        name_fold=fold(v.full_name),
        birth=v.birth,
        birth_year=birth_year,
        sex=v.sex,
        id_type=v.id_type or "none",
        id_number=v.id_number or None,
        id_key=v.id_number or None,
        old_id_number=v.old_id_number,
        phone=v.phone,
        province_code=v.province_code,
        ward_code=v.ward_code,
        address_line=v.address_line,
        priority_group=v.priority_group,
        occupation=v.occupation,
        bhyt=v.bhyt,
        status="active",
        consent_at=ctx.op.recorded_at if v.consent else None,
        origin_site=ctx.site,
        version=0,
        created_at=ctx.op.recorded_at,
        updated_at=ctx.op.recorded_at,
    )
    # Look for an earlier person before inserting this one: the holder of the number's
    # key. Two pushes racing with the same new number both find none; the unique key
    # makes the second insert fail, and its retry finds the first and merges.
    earlier: Person | None = None
    if person.id_number:
        earlier = s.execute(select(Person).where(Person.id_key == person.id_number)).scalar()
        if earlier is not None:
            lock_person(s, earlier.id)
            person.id_key = None
    s.add(person)
    s.flush()
    fx.touch("person", pid)
    fx.relate(pid, ctx.site)
    if p.registration is not None:
        _add_registration(ctx, p.registration, pid)
    detail: dict[str, Any] = {}
    if earlier is not None:
        # Same ID number: the walk-in registered at two sites. Merge into the earlier
        # person; the stations re-point on pull. Informational review (unmerge is an op).
        merge_person(fx, pid, earlier.id)
        sites = set(person_sites(s, earlier.id)) | set(person_sites(s, pid))
        rid = fx.review(
            "merged_person",
            "low",
            "person",
            pid,
            sites,
            {"from_id": pid, "to_id": earlier.id, "reason": "same_id_number"},
        )
        detail = {"merged_into": earlier.id, "review_id": rid}
    elif not person.id_number and person.phone:
        twins = s.execute(
            select(Person.id).where(
                Person.name_fold == person.name_fold,
                Person.birth == person.birth,
                Person.phone == person.phone,
                Person.status == "active",
                Person.id != pid,
            )
        ).scalars()
        others = sorted(twins)
        if others:
            sites = set(person_sites(s, pid))
            for other in others:
                sites |= set(person_sites(s, other))
            rid = fx.review(
                "possible_duplicate_person",
                "low",
                "person",
                pid,
                sites,
                {"person_ids": [*others, pid], "match": ["name_fold", "birth", "phone"]},
            )
            detail = {"possible_duplicate_of": others, "review_id": rid}
    return "applied", detail


def apply_add_registration(ctx: Ctx) -> Outcome:
    p = parse(AddRegistrationP, ctx.op.payload)
    ctx.require_role("register", "add_expected")
    ctx.require_entity(p.registration.id)
    if not p.registration.person_id:
        raise Rejected("payload.invalid", fields=["registration.person_id"])
    person = ctx.require_person(p.registration.person_id, "registration.person_unknown")
    ctx.require_in_scope(person.id)
    _add_registration(ctx, p.registration, p.registration.person_id)
    return "applied", {}


def _set_person_field(ctx: Ctx, person: Person, fld: str, value: Any) -> None:
    if fld == "priority_group" and value is not None:
        value = int(value)
    elif value is not None:
        value = str(value)
    setattr(person, fld, value)
    if fld == "id_number":
        # The number's key goes with it unless another active person holds it (a
        # supervisor's take_value keeps the two apart; the holder stays the key's).
        free = value is not None and id_key_holder(ctx.session, str(value), person.id) is None
        person.id_key = value if free and person.status == "active" else None
    if fld == "full_name" and value:
        person.name_fold = fold(str(value))
    if fld == "birth" and value:
        person.birth_year = int(str(value)[:4])
    person.updated_at = ctx.op.recorded_at
    meta = ctx.session.get(FieldMeta, (person.id, fld))
    if meta is None:
        meta = FieldMeta(entity_id=person.id, field=fld)
        ctx.session.add(meta)
    meta.hlc = ctx.op.hlc
    meta.op_id = ctx.op.op_id
    meta.site_code = ctx.site
    meta.skewed = 1 if ctx.skewed else 0
    ctx.fx.touch("person", person.id)


def id_key_holder(s: Session, number: str, other_than: str) -> str | None:
    """The active person holding ``number``'s key, other than ``other_than``."""
    return s.execute(
        select(Person.id).where(Person.id_key == number, Person.id != other_than)
    ).scalar()


def _same(a: Any, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return str(a) == str(b)


def apply_update_person(ctx: Ctx) -> Outcome:
    p = parse(UpdatePersonP, ctx.op.payload)
    new = {fld: check_field_value(fld, ch.new) for fld, ch in p.fields.items()}
    for action in sorted(
        {"update_identity" if fld in IDENTITY_FIELDS else "update_contact" for fld in new}
    ):
        ctx.require_role(action)
    s, fx = ctx.session, ctx.fx
    person = ctx.require_person(ctx.op.entity_id, "person.unknown")
    ctx.require_in_scope(person.id)
    number = new.get("id_number")
    if number is not None:
        shape = ID_SHAPES.get(str(new.get("id_type") or person.id_type))
        if shape is None or not shape.match(str(number)):
            raise Rejected("payload.invalid", fields=["fields.id_number.new"])
    applied: list[str] = []
    noop: list[str] = []
    lww: list[dict[str, Any]] = []
    queued: list[str] = []
    sites = set(person_sites(s, person.id))
    for fld, ch in sorted(p.fields.items()):
        ch = ch.model_copy(update={"new": new[fld]})
        current = getattr(person, fld)
        if _same(current, ch.new):
            noop.append(fld)
            continue
        if fld == "id_number" and ch.new:
            holder = id_key_holder(s, str(ch.new), person.id)
            if holder is not None:
                # Never move an ID number onto a second person silently: a supervisor decides.
                fx.review(
                    "field_conflict",
                    "high",
                    "person",
                    person.id,
                    sites | set(person_sites(s, holder)),
                    {
                        "field": fld,
                        "current": current,
                        "other": ch.new,
                        "held_by": holder,
                        "op_id": ctx.op.op_id,
                    },
                )
                queued.append(fld)
                continue
        if _same(current, ch.old):
            _set_person_field(ctx, person, fld, ch.new)
            applied.append(fld)
            continue
        # Concurrent edit of the same field (the base differs from what the hub holds).
        if fld in CONTACT_FIELDS:
            meta = s.get(FieldMeta, (person.id, fld))
            if ctx.skewed or meta is None or meta.skewed:
                incoming_wins = True  # clock not trusted (or no rival write known): receive order
            else:
                incoming_wins = ctx.op.hlc > meta.hlc
            kept, other = (ch.new, current) if incoming_wins else (current, ch.new)
            if incoming_wins:
                _set_person_field(ctx, person, fld, ch.new)
            fx.review(
                "field_conflict",
                "low",
                "person",
                person.id,
                sites,
                {
                    "field": fld,
                    "current": kept,
                    "other": other,
                    "base": ch.old,
                    "op_id": ctx.op.op_id,
                    "rule": "lww_receive_order"
                    if (ctx.skewed or meta is None or (meta and meta.skewed))
                    else "lww_hlc",
                },
            )
            lww.append({"field": fld, "won": incoming_wins})
        else:
            fx.review(
                "field_conflict",
                "high",
                "person",
                person.id,
                sites,
                {
                    "field": fld,
                    "current": current,
                    "other": ch.new,
                    "base": ch.old,
                    "op_id": ctx.op.op_id,
                },
            )
            queued.append(fld)
    detail: dict[str, Any] = {"applied": applied, "noop": noop, "lww": lww, "queued": queued}
    if person.id != ctx.op.entity_id:
        detail["person_id"] = person.id
    return ("conflict_queued" if queued else "applied"), detail


# ---- registration and screening ------------------------------------------------------


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
    row = Screening(
        **p.model_dump(exclude={"registration_status", "person_id"}),
        person_id=person.id,
        version=0,
        merged_from=p.person_id if person.id != p.person_id else None,
    )
    s.add(row)
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


# ---- doses ---------------------------------------------------------------------------


def apply_record_dose(ctx: Ctx) -> Outcome:
    p = parse(DoseP, ctx.op.payload)
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
    s, fx = ctx.session, ctx.fx
    if s.get(Dose, p.id) is not None:
        raise Rejected("dose.exists")
    person = ctx.require_person(p.person_id, "dose.person_unknown")
    # A person known only at other sites is not this station's to vaccinate by id: a
    # walk-in from elsewhere is registered here first (same ID number: merged).
    ctx.require_in_scope(person.id)
    if p.lot_id is not None:
        lot = s.get(VaccineLot, p.lot_id)
        if lot is None:
            raise Rejected("dose.lot_unknown")
        if lot.site_code != ctx.site:
            raise Rejected("auth.cross_site")
        if lot.vaccine_code != p.vaccine_code:
            raise Rejected("dose.lot_mismatch")
    row = Dose(
        **p.model_dump(exclude={"person_id"}),
        person_id=person.id,
        observed_at=None,
        voided=0,
        void_reason=None,
        voided_by=None,
        voided_at=None,
        version=0,
        merged_from=p.person_id if person.id != p.person_id else None,
        origin_station=ctx.station.id,
    )
    # Possible duplicates: another valid dose, same series and number, or the same day.
    want = series(p.vaccine_code)
    others = [
        d.id
        for d in s.execute(
            select(Dose)
            .where(Dose.person_id == person.id, Dose.voided == 0, Dose.id != p.id)
            .order_by(Dose.id)
        ).scalars()
        if (d.dose_number == p.dose_number and series(d.vaccine_code) == want) or d.day == p.day
    ]
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
    detail: dict[str, Any] = {}
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


def _flag_duplicate_doses_after_merge(ctx: Ctx, person_id: str, moved: set[str]) -> list[str]:
    """After a supervisor merge: doses that now collide (DESIGN §6) get a review.

    Doses recorded after a merge are checked as they arrive (apply_record_dose);
    a merge of two people who were both vaccinated must check what it brings
    together: same series and dose number, or the same day, across the two.
    """
    s = ctx.session
    doses = list(
        s.execute(
            select(Dose).where(Dose.person_id == person_id, Dose.voided == 0).order_by(Dose.id)
        ).scalars()
    )
    groups: dict[tuple[str, str], list[str]] = {}
    for d in doses:
        groups.setdefault(("number", f"{series(d.vaccine_code)}:{d.dose_number}"), []).append(d.id)
        groups.setdefault(("day", d.day), []).append(d.id)
    seen: set[tuple[str, ...]] = set()
    out: list[str] = []
    for ids in groups.values():
        key = tuple(sorted(set(ids)))
        mixes = any(i in moved for i in key) and any(i not in moved for i in key)
        if len(key) < 2 or not mixes or key in seen:
            continue
        seen.add(key)
        out.append(
            ctx.fx.review(
                "possible_duplicate_dose",
                "high",
                "dose",
                key[-1],
                set(person_sites(s, person_id)),
                {"person_id": person_id, "dose_ids": list(key)},
            )
        )
    return out


def _require_dose(ctx: Ctx, reason: str = "dose.unknown") -> Dose:
    dose = ctx.session.get(Dose, ctx.op.entity_id)
    if dose is None:
        raise Rejected(reason)
    ctx.require_in_scope(dose.person_id)
    return dose


def _void(ctx: Ctx, dose: Dose, reason: str, voided_at: str, *, by_station_op: bool = False) -> bool:
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
    if not _void(ctx, dose, p.reason, p.voided_at, by_station_op=True):
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


# ---- lots and users ------------------------------------------------------------------


def apply_upsert_lot(ctx: Ctx) -> Outcome:
    p = parse(LotP, ctx.op.payload)
    ctx.require_role("manage_lots")
    ctx.require_entity(p.id)
    ctx.require_own_site(p.site_code)
    lot = ctx.session.get(VaccineLot, p.id)
    if lot is None:
        ctx.session.add(VaccineLot(**p.model_dump(), version=0))
    else:
        ctx.require_own_site(lot.site_code)
        for k, v in p.model_dump().items():
            setattr(lot, k, v)
    ctx.session.flush()
    ctx.fx.touch("vaccine_lot", p.id)
    return "applied", {}


ELEVATED_ROLES = frozenset({"admin", "supervisor"})


def apply_upsert_user(ctx: Ctx) -> Outcome:
    p = parse(UserP, ctx.op.payload)
    ctx.require_entity(p.id)
    ctx.require_own_site(p.site_code)
    s = ctx.session
    user = s.get(AppUser, p.id)
    if user is not None:
        ctx.require_own_site(user.site_code)
    # A user changing only their own password needs no staff right (the station's
    # change_password); anything else is staff management, and touching an admin
    # or a supervisor (before or after) needs the right to manage those.
    own_password = (
        user is not None
        and ctx.op.user_id == p.id
        and (user.username, user.display_name, user.role, user.active)
        == (p.username, p.display_name, p.role, p.active)
    )
    if own_password:
        ctx.require_role()  # any role: an active user of this site
    else:
        ctx.require_role("manage_staff")
        if p.role in ELEVATED_ROLES or (user is not None and user.role in ELEVATED_ROLES):
            ctx.require_role("manage_admins")
    values = p.model_dump()
    if user is None:
        values["created_at"] = values["created_at"] or p.updated_at
        s.add(AppUser(**values, version=0))
    else:
        values.pop("created_at")
        # The password hash travels so every station of the site can log the user in offline.
        for k, v in values.items():
            setattr(user, k, v)
    s.flush()
    authz.forget(s, p.id)
    ctx.fx.touch("app_user", p.id)
    return "applied", {}


# ---- review resolutions --------------------------------------------------------------



def apply_resolve_review(ctx: Ctx) -> Outcome:
    p = parse(ResolveP, ctx.op.payload)
    ctx.require_role("resolve_review")
    s, fx = ctx.session, ctx.fx
    params = p.all_params()
    item = s.get(ReviewItem, p.review_id)
    if item is None:
        raise Rejected("review.unknown")
    if ctx.site not in item.site_codes:
        raise Rejected("auth.cross_site")
    if item.status == "resolved":
        return "applied", {"noop": True, "already_resolved": True}
    if p.action not in ACTIONS_BY_KIND.get(item.kind, set()):
        raise Rejected("review.bad_action", kind=item.kind, action=p.action)
    cand = dict(item.candidates)
    effect: dict[str, Any] = {}
    if p.action == "void_dose":
        dose_id = params.get("dose_id")
        if not isinstance(dose_id, str) or dose_id not in cand.get("dose_ids", []):
            raise Rejected("review.bad_params", fields=["dose_id"])
        dose = s.get(Dose, dose_id)
        if dose is None:
            raise Rejected("dose.unknown")
        reason = params.get("reason")
        reason = reason if isinstance(reason, str) and 0 < len(reason) <= 500 else "duplicate entry"
        _void(ctx, dose, reason, ctx.op.recorded_at)
        effect = {"voided": dose_id}
    elif p.action == "merge":
        ids = list(cand.get("person_ids", []))
        from_id = params.get("from_id", ids[-1] if ids else None)
        to_id = params.get("to_id", ids[0] if ids else None)
        if (
            not (isinstance(from_id, str) and isinstance(to_id, str))
            or from_id == to_id
            or from_id not in ids
            or to_id not in ids
        ):
            raise Rejected("review.bad_params", fields=["from_id", "to_id"])
        for pid in sorted((from_id, to_id)):
            lock_person(s, pid)
        src, dst = s.get(Person, from_id), s.get(Person, to_id)
        if src is None or dst is None or src.status != "active" or dst.status != "active":
            raise Rejected("review.stale")
        moved = set(
            s.execute(
                select(Dose.id).where(Dose.person_id == from_id, Dose.voided == 0)
            ).scalars()
        )
        merge_person(fx, from_id, to_id)
        effect = {"merged": from_id, "into": to_id}
        flagged = _flag_duplicate_doses_after_merge(ctx, to_id, moved)
        if flagged:
            effect["duplicate_dose_reviews"] = flagged
    elif p.action == "unmerge":
        from_id = cand.get("from_id")
        if not isinstance(from_id, str) or s.get(PersonRedirect, from_id) is None:
            raise Rejected("review.stale")
        effect = {"unmerged": from_id, "from": unmerge_person(fx, from_id)}
    elif p.action == "take_value":
        person = s.get(Person, item.entity_id)
        fld = cand.get("field")
        if (
            person is None
            or not isinstance(fld, str)
            or fld not in IDENTITY_FIELDS | CONTACT_FIELDS
        ):
            raise Rejected("review.stale")
        value = check_field_value(fld, cand.get("other"))
        _set_person_field(ctx, person, fld, value)
        effect = {"field": fld}
    item.status = "resolved"
    item.resolution = {
        "action": p.action,
        "by": ctx.op.user_id,
        "op_id": ctx.op.op_id,
        "at": ctx.op.recorded_at,
        "site_code": ctx.site,
        "effect": effect,
    }
    fx.touch("review", item.id)
    return "applied", {"review_id": item.id, **effect}


APPLIERS: dict[str, Callable[[Ctx], Outcome]] = {
    "register_person": apply_register_person,
    "add_registration": apply_add_registration,
    "update_person": apply_update_person,
    "check_in": apply_check_in,
    "record_screening": apply_record_screening,
    "record_dose": apply_record_dose,
    "void_dose": apply_void_dose,
    "end_observation": apply_end_observation,
    "record_adverse_event": apply_record_adverse_event,
    "upsert_lot": apply_upsert_lot,
    "upsert_user": apply_upsert_user,
    "resolve_review": apply_resolve_review,
}


# ---- the push ------------------------------------------------------------------------


def _stored(led: Ledgered) -> OpResult:
    """The answer to a retried op: the stored result, never a different verdict.

    An op applied the first time is answered ``duplicate``; one refused or queued
    for review keeps that status, or a lost answer would turn a refusal into an
    acknowledgement at the station (and hide it from the supervisor).
    """
    r = dict(led.result)
    return OpResult(
        op_id=led.op_id,
        status="duplicate" if led.status in ("applied", "duplicate") else led.status,  # type: ignore[arg-type]
        server_seq=r.get("server_seq"),
        reason=r.get("reason"),
        detail=dict(r.get("detail") or {}) | {"original_status": led.status},
    )


def apply_op(
    session: Session,
    station: Station,
    op: Op,
    *,
    now: str,
    skewed: bool,
    numbering: Numbering,
    trusted: bool = False,
) -> tuple[OpResult, int | None]:
    """Apply one op's effect (no ledger or order checks): its answer and first change row.

    The effect runs in a savepoint: a rejection, or a value the database refuses,
    undoes the effect alone and the op is acked ``rejected``. The answer's
    ``server_seq`` is filled in once the transaction's :class:`Numbering` is written.
    ``trusted``: an op the hub makes itself (an import at the hub's CLI), no user checks.
    """
    fx = Effects(session, op.op_id, now, numbering)
    ctx = Ctx(session, station, op, fx, skewed, trusted)
    mark = len(numbering.changes)
    noted = counters.mark(session)  # the dose counters this op changes, undone with it
    try:
        with session.begin_nested():
            status, detail = APPLIERS[op.op_type](ctx)
            first = fx.flush()
    except Rejected as rej:
        del numbering.changes[mark:]  # nothing of a refused op is numbered
        counters.rollback_to(session, noted)
        return OpResult(op_id=op.op_id, status="rejected", reason=rej.reason, detail=rej.detail), None
    except DataError:
        del numbering.changes[mark:]
        counters.rollback_to(session, noted)
        return OpResult(op_id=op.op_id, status="rejected", reason="payload.invalid", detail={}), None
    # Did the op change its own entity? A losing edit (LWW lost, identity held) only
    # opens a review; the station must then keep the hub's row it already holds
    # rather than wait for a newer one that will never come.
    detail = dict(detail) | {"entity_changed": (op.entity_type, op.entity_id) in set(fx.touched)}
    return OpResult(op_id=op.op_id, status=status, detail=detail), first  # type: ignore[arg-type]


def record_applied(
    numbering: Numbering,
    station: Station,
    epoch: str,
    op: Op,
    digest: str,
    res: OpResult,
    first: int | None,
    now: str,
) -> Ledgered:
    """The op's ``applied_op`` ledger row, written with the transaction's Numbering (pushes,
    hub-origin ops, imports); its ``server_seq`` is filled in then."""
    result = {"server_seq": None, "reason": res.reason, "detail": res.detail}
    numbering.add_ledger(
        {
            "op_id": op.op_id,
            "station_id": station.id,
            "replica_epoch": epoch,
            "op_seq": op.op_seq,
            "op_type": op.op_type,
            "payload_sha256": digest,
            "status": res.status,
            "result": result,
            "received_at": now,
        },
        first,
    )
    return Ledgered(op.op_id, station.id, digest, res.status, result)


def _ledger_rows(session: Session, op_ids: list[str]) -> dict[str, Ledgered]:
    """The ledger rows of a push's op ids: one ``IN (...)`` query per 500."""
    found: dict[str, Ledgered] = {}
    for chunk in in_chunks(sorted(set(op_ids))):
        for row in session.execute(
            select(
                AppliedOp.op_id,
                AppliedOp.station_id,
                AppliedOp.payload_sha256,
                AppliedOp.status,
                AppliedOp.result,
            ).where(AppliedOp.op_id.in_(chunk))
        ):
            found[row[0]] = Ledgered(row[0], row[1], row[2], row[3], dict(row[4]))
    return found


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and 0 < len(v) <= 64 else None


def lock_rows(s: Session, ops: list[Op]) -> None:
    """Lock, in one global order, the existing rows the push's ops may change (PostgreSQL).

    Persons first (sorted by id, merge survivors included), then lots, users and
    review items; the hub clock is taken last of all (:class:`Numbering`). Two
    pushes touching the same people therefore queue instead of deadlocking
    whatever their op order, and every read-then-write rule on a person (the
    possible-duplicate dose check, merges) runs alone: two stations recording a
    dose for the same person at the same moment are applied one after the other,
    and the second sees the first. Registrations and doses change only under
    their person's lock. SQLite needs none of this: a write transaction there
    holds the whole database (``BEGIN IMMEDIATE``).
    """
    if s.get_bind().dialect.name != "postgresql":
        return
    persons: set[str] = set()
    regs: set[str] = set()
    doses: set[str] = set()
    lots: set[str] = set()
    users: set[str] = set()
    reviews: set[str] = set()
    for op in ops:
        pl = op.payload
        t = op.op_type
        if t == "update_person":
            persons.add(op.entity_id)
        elif t in ("record_dose", "record_screening"):
            persons.add(_str(pl.get("person_id")) or "")
        elif t == "add_registration":
            reg = pl.get("registration")
            persons.add((_str(reg.get("person_id")) if isinstance(reg, dict) else None) or "")
        elif t == "check_in":
            regs.add(op.entity_id)
        elif t in ("void_dose", "end_observation"):
            doses.add(op.entity_id)
        elif t == "record_adverse_event":
            doses.add(_str(pl.get("dose_id")) or "")
        elif t == "upsert_lot":
            lots.add(op.entity_id)
        elif t == "upsert_user":
            users.add(op.entity_id)
        elif t == "resolve_review":
            reviews.add(_str(pl.get("review_id")) or "")
    for ids, owned in ((regs, Registration), (doses, Dose)):
        for chunk in in_chunks(sorted(ids - {""})):
            persons.update(
                s.execute(select(owned.person_id).where(owned.id.in_(chunk))).scalars()
            )
    persons.discard("")
    for chunk in in_chunks(sorted(persons)):
        persons.update(
            s.execute(
                select(PersonRedirect.to_id).where(PersonRedirect.from_id.in_(chunk))
            ).scalars()
        )
    for column, ids in (
        (Person.id, persons),
        (VaccineLot.id, lots),
        (AppUser.id, users),
        (ReviewItem.id, reviews),
    ):
        for chunk in in_chunks(sorted(ids - {""})):
            # ORDER BY with FOR UPDATE: PostgreSQL locks the rows in that order.
            s.execute(select(column).where(column.in_(chunk)).order_by(column).with_for_update()).all()
    s.info.setdefault("locked_persons", set()).update(persons)


def lock_person(s: Session, person_id: str) -> None:
    """Lock one person row (a merge survivor found during an op) unless already held."""
    held: set[str] = s.info.setdefault("locked_persons", set())
    if person_id in held or s.get_bind().dialect.name != "postgresql":
        return
    s.execute(select(Person.id).where(Person.id == person_id).with_for_update()).all()
    held.add(person_id)


# An op's answer until the push is numbered: an applier's result and its first change
# row; a fast-path op's fresh ledger row; or a ledger row answering a retried op.
Answer = tuple[OpResult, int | None] | tuple[str, Ledgered] | Ledgered


def _run_push(
    s: Session,
    station_id: str,
    req: PushRequest,
    ops: list[Op],
    now: str,
    *,
    fast: bool,
    skew_ms: int | None,
) -> tuple[list[OpResult], int]:
    """The push in one transaction: ledger and order checks per op, effects fast or op by op.

    Ops in runs of new walk-ins, screenings and doses go through the batched
    fast path (hub/fastpath.py) when their outcome is certain; every other op,
    and every op of a run the fast path declines, through :func:`apply_op` in
    its own savepoint after the buffered rows are written. Answers keep the ops'
    order either way. Locks are taken in one order: the station row, the
    replica row, the rows the ops touch (:func:`lock_rows`), the hub clock last
    (:meth:`Numbering.write`).
    """
    s.info["locked_persons"] = set()
    numbering = Numbering()
    station = s.get(Station, station_id)
    assert station is not None
    if skew_ms is not None:
        note_clock_skew(s, station, skew_ms, now=now, numbering=numbering)
    skewed = station.clock_skew_ms is not None and abs(station.clock_skew_ms) > SKEW_TOLERANCE_MS
    epoch = req.replica_epoch
    # Lock the replica row so two pushes of one replica take turns (PostgreSQL).
    rep = s.get(Replica, (station_id, epoch), with_for_update=True)
    lock_rows(s, ops)
    ledger = _ledger_rows(s, [op.op_id for op in ops])
    runs = fast_runs(ops) if fast else [False] * len(ops)
    results: list[Answer | None] = []
    run: FastRun | None = None  # the look-ups and buffers of the current run

    def flush_run() -> None:
        nonlocal run
        if run is not None:
            for index, _first, led in run.flush():
                results[index] = ("fresh", led)
                ledger[led.op_id] = led
            run = None

    for i, op in enumerate(ops):
        digest = payload_hash(op)
        if run is not None and op.op_id in run.pending_ids:
            flush_run()  # the same op id twice in one push: answer from its ledger row
        led = ledger.get(op.op_id)
        if led is not None:
            if rep is None:
                rep = Replica(station_id=station_id, epoch=epoch, next_op_seq=op.op_seq + 1, created_at=now)
                s.add(rep)
            elif op.op_seq == rep.next_op_seq:
                rep.next_op_seq += 1
            if led.payload_sha256 != digest or led.station_id != station_id:
                # An op id belongs to the station that made it, with the payload it had.
                results.append((OpResult(op_id=op.op_id, status="rejected", reason="op.id_reused"), None))
            else:
                results.append(led)
            continue
        if rep is None:
            # A new replica (first contact, or a restored backup's new epoch) starts where it starts.
            rep = Replica(station_id=station_id, epoch=epoch, next_op_seq=op.op_seq, created_at=now)
            s.add(rep)
        if op.op_seq < rep.next_op_seq:
            raise HubError(
                409,
                "replica.regressed",
                "op_seq went backwards with a new op id: rotate the replica epoch",
                expected_next_op_seq=rep.next_op_seq,
            )
        if op.op_seq > rep.next_op_seq:
            break  # a gap: answer what came before and the next expected op_seq
        results.append(None)
        done = False
        if runs[i]:
            if run is None:
                end = i
                while end < len(ops) and runs[end]:
                    end += 1
                run = FastRun(s, station.site_code, station_id, epoch, now, numbering)
                run.load(ops[i:end])
            done = run.try_apply(i, op, digest)
        if not done:
            flush_run()
            res, first = apply_op(s, station, op, now=now, skewed=skewed, numbering=numbering)
            ledger[op.op_id] = record_applied(numbering, station, epoch, op, digest, res, first, now)
            results[i] = (res, first)
        rep.next_op_seq = op.op_seq + 1
        if run is not None and (i + 1 >= len(ops) or not runs[i + 1]):
            flush_run()  # the run ends here
    flush_run()
    # The dose counters move in this same transaction (hub/counters.py), before the
    # clock: their rows are taken in sorted order, the hub clock after everything.
    counters.flush(s, station_id=station_id, answered=len(results))
    numbering.write(s)  # the hub clock: the transaction's last lock
    answered = [_answer(r, numbering) for r in results if r is not None]
    assert len(answered) == len(results)
    expected = rep.next_op_seq if rep is not None else (ops[0].op_seq if ops else 1)
    return answered, expected


def _answer(a: Answer, numbering: Numbering) -> OpResult:
    if isinstance(a, Ledgered):
        return _stored(a)
    first_item, second = a
    if isinstance(first_item, str):  # ("fresh", led): a fast-path op, its ledger row numbered
        assert isinstance(second, Ledgered)
        r = second.result
        return OpResult.model_construct(
            op_id=second.op_id, status="applied", server_seq=r["server_seq"], reason=None, detail=r["detail"]
        )
    assert isinstance(first_item, OpResult) and not isinstance(second, Ledgered)
    if second is None:
        return first_item
    # Built without validating again: the fields are the validated result's.
    return OpResult.model_construct(
        op_id=first_item.op_id,
        status=first_item.status,
        server_seq=numbering.seq(second),
        reason=first_item.reason,
        detail=first_item.detail,
    )


def process_push(
    db: Database,
    station_id: str,
    req: PushRequest,
    *,
    now: str,
    fast: bool = True,
    skew_ms: int | None = None,
) -> tuple[list[OpResult], int]:
    """Apply a push in one transaction (one COMMIT per batch, not per op).

    Every answer describes committed work: the results are returned only after
    the batch commits; a transient conflict re-runs the whole batch, and an error
    (e.g. ``replica.regressed``) leaves none of it applied, so the station simply
    sends the same op ids again. If the database refuses a row the fast path
    buffered, the whole push runs again op by op (``fast=False``), where each
    op's savepoint turns such a refusal into that op's rejection; a person
    inserted with an ID number another push has just committed (the unique
    ``person.id_key``) comes back here too, and the op-by-op run merges it.

    ``skew_ms`` (station clock minus hub clock, measured on this request) is
    stored in the same transaction (:func:`note_clock_skew`).
    """
    ops = sorted(req.ops, key=lambda o: o.op_seq)
    try:
        results, expected = db.run_write(
            lambda s: _run_push(s, station_id, req, ops, now, fast=fast, skew_ms=skew_ms)
        )
    except FastPathRefused:
        log.info("push: the fast path was refused by the database; applying op by op")
        results, expected = db.run_write(
            lambda s: _run_push(s, station_id, req, ops, now, fast=False, skew_ms=skew_ms)
        )
    for res, op in zip(results, ops, strict=False):
        if res.status == "rejected":
            log.info("op rejected: type=%s reason=%s", op.op_type, res.reason)
    return results, expected


def hub_origin_op(
    db: Database,
    station_id: str,
    review_id: str,
    action: str,
    params: dict[str, Any],
    user_id: str | None,
    *,
    now: str,
) -> OpResult:
    """A resolution made through the hub API: a ``resolve_review`` op of hub origin, ledgered."""
    op = Op(
        op_id=uuid7(),
        op_seq=1,
        op_type="resolve_review",
        entity_type="review",
        entity_id=review_id,
        payload={"review_id": review_id, "action": action, "params": params},
        hlc="",
        recorded_at=now,
        user_id=user_id,
    )

    def run(s: Session) -> OpResult:
        s.info["locked_persons"] = set()
        numbering = Numbering()
        station = s.get(Station, station_id)
        assert station is not None
        lock_rows(s, [op])
        item = s.get(ReviewItem, review_id)
        if item is None or station.site_code not in item.site_codes:
            raise HubError(404, "review.not_found", "no such review item for this site")
        res, first = apply_op(s, station, op, now=now, skewed=False, numbering=numbering)
        record_applied(numbering, station, "hub", op, payload_hash(op), res, first, now)
        counters.flush(s)  # the dose counters, before the clock: the clock is the last lock
        numbering.write(s)
        return _answer((res, first), numbering)

    return db.run_write(run)


def note_clock_skew(
    s: Session, station: Station, skew_ms: int, *, now: str, numbering: Numbering
) -> None:
    """Store the measured skew; open one ``clock_skew`` review the first time it is too large."""
    station.clock_skew_ms = skew_ms
    station.last_seen = now
    if abs(skew_ms) > SKEW_TOLERANCE_MS and not station.skew_flagged:
        station.skew_flagged = 1
        fx = Effects(s, None, now, numbering)
        fx.review(
            "clock_skew",
            "low",
            "station",
            station.id,
            [station.site_code],
            {"station_id": station.id, "clock_skew_ms": skew_ms},
        )
        fx.flush()
