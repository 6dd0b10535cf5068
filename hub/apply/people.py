"""The person ops through the ORM: walk-ins that merge or look like twins, edits, registrations.

A new walk-in with nothing to reconcile never reaches this module: the bulk
executor (:mod:`hub.apply.bulk`) writes it, alone or in a run. What comes here
is what needs the database's state: the same ID number as an earlier person (a
merge), a same-name-birth-and-phone twin (a review), a refusal with its exact
reason, and every ``update_person`` and ``add_registration``. The rows are
built by :mod:`hub.apply.rows`, as the bulk executor builds them.
"""

from __future__ import annotations

from sqlalchemy import select

from hub.apply.context import (
    Ctx,
    Outcome,
    id_key_holder,
    lock_person,
)
from hub.apply.rows import person_row, registration_row
from hub.effects import has_registration, merge_person, person_sites, resolve_person
from hub.errors import Rejected
from hub.models import FieldMeta, Person, Registration
from hub.payloads import (
    ID_SHAPES,
    AddRegistrationP,
    FieldChange,
    RegisterPersonP,
    RegP,
    UpdatePersonP,
    check_field_value,
    parse,
)
from hub.rowtypes import LwwVerdict
from kernel.ops import CONTACT_FIELDS, IDENTITY_FIELDS
from kernel.rules.vietnam import fold


def _add_registration(ctx: Ctx, reg: RegP, person_id: str) -> None:
    s = ctx.session
    if s.get(Registration, reg.id) is not None:
        raise Rejected("registration.exists")
    survivor = resolve_person(s, person_id)
    if survivor != person_id and has_registration(s, survivor, ctx.site, reg.day):
        survivor = person_id  # one registration per person, site and day: keep it on the merged one
    merged_from = person_id if survivor != person_id else None
    at = ctx.op.recorded_at
    s.add(Registration(**registration_row(reg, survivor, ctx.site, at, version=0, merged_from=merged_from)))
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
    person = Person(**person_row(pid, p.person, ctx.site, ctx.op.recorded_at, version=0))
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
    if earlier is not None:
        return "applied", _merge_same_number(ctx, pid, earlier.id)
    if not person.id_number and person.phone:
        return "applied", _flag_twins(ctx, person)
    return "applied", {}


def _merge_same_number(ctx: Ctx, pid: str, earlier: str) -> dict[str, object]:
    """Same ID number: the walk-in registered at two sites. Merge into the earlier
    person; the stations re-point on pull. Informational review (unmerge is an op)."""
    s = ctx.session
    merge_person(ctx.fx, pid, earlier)
    sites = set(person_sites(s, earlier)) | set(person_sites(s, pid))
    rid = ctx.fx.review(
        "merged_person",
        "low",
        "person",
        pid,
        sites,
        {"from_id": pid, "to_id": earlier, "reason": "same_id_number"},
    )
    return {"merged_into": earlier, "review_id": rid}


def _flag_twins(ctx: Ctx, person: Person) -> dict[str, object]:
    """No ID number, and an active person with the same folded name, birth and phone:
    a possible duplicate for a supervisor (nothing is merged on a guess)."""
    s = ctx.session
    twins = s.execute(
        select(Person.id).where(
            Person.name_fold == person.name_fold,
            Person.birth == person.birth,
            Person.phone == person.phone,
            Person.status == "active",
            Person.id != person.id,
        )
    ).scalars()
    others = sorted(twins)
    if not others:
        return {}
    sites = set(person_sites(s, person.id))
    for other in others:
        sites |= set(person_sites(s, other))
    rid = ctx.fx.review(
        "possible_duplicate_person",
        "low",
        "person",
        person.id,
        sites,
        {"person_ids": [*others, person.id], "match": ["name_fold", "birth", "phone"]},
    )
    return {"possible_duplicate_of": others, "review_id": rid}


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


def set_person_field(ctx: Ctx, person: Person, fld: str, value: object) -> None:
    """Set one person field to a value :func:`check_field_value` parsed."""
    stored: str | int | None
    if value is None:
        stored = None
    elif fld == "priority_group" and isinstance(value, int | str):
        stored = int(value)  # a number, or digits a station wrote as text
    else:
        stored = str(value)
    setattr(person, fld, stored)
    if fld == "id_number":
        # The number's key goes with it unless another active person holds it (a
        # supervisor's take_value keeps the two apart; the holder stays the key's).
        number = None if stored is None else str(stored)
        free = number is not None and id_key_holder(ctx.session, number, person.id) is None
        person.id_key = number if free and person.status == "active" else None
    if fld == "full_name" and stored:
        person.name_fold = fold(str(stored))
    if fld == "birth" and stored:
        person.birth_year = int(str(stored)[:4])
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


def _same(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return str(a) == str(b)


class _Edit:
    """One ``update_person`` op's verdicts, field by field (the answer's detail)."""

    def __init__(self, ctx: Ctx, person: Person) -> None:
        self.ctx, self.person = ctx, person
        self.sites = set(person_sites(ctx.session, person.id))
        self.applied: list[str] = []
        self.noop: list[str] = []
        self.lww: list[LwwVerdict] = []
        self.queued: list[str] = []

    def field(self, fld: str, ch: FieldChange) -> None:
        ctx, person = self.ctx, self.person
        current = getattr(person, fld)
        if _same(current, ch.new):
            self.noop.append(fld)
            return
        if fld == "id_number" and ch.new:
            holder = id_key_holder(ctx.session, str(ch.new), person.id)
            if holder is not None:
                # Never move an ID number onto a second person silently: a supervisor decides.
                candidates = {"field": fld, "current": current, "other": ch.new, "held_by": holder}
                sites = self.sites | set(person_sites(ctx.session, holder))
                self._queue("high", sites, candidates | {"op_id": ctx.op.op_id})
                self.queued.append(fld)
                return
        if _same(current, ch.old):
            set_person_field(ctx, person, fld, ch.new)
            self.applied.append(fld)
            return
        # Concurrent edit of the same field (the base differs from what the hub holds).
        if fld in CONTACT_FIELDS:
            self._last_writer_wins(fld, ch, current)
        else:
            candidates = {"field": fld, "current": current, "other": ch.new, "base": ch.old}
            self._queue("high", self.sites, candidates | {"op_id": ctx.op.op_id})
            self.queued.append(fld)

    def _last_writer_wins(self, fld: str, ch: FieldChange, current: object) -> None:
        ctx, person = self.ctx, self.person
        meta = ctx.session.get(FieldMeta, (person.id, fld))
        by_receive_order = ctx.skewed or meta is None or bool(meta.skewed)
        # Clock not trusted (or no rival write known): receive order.
        incoming_wins = True if by_receive_order or meta is None else ctx.op.hlc > meta.hlc
        kept, other = (ch.new, current) if incoming_wins else (current, ch.new)
        if incoming_wins:
            set_person_field(ctx, person, fld, ch.new)
        candidates = {"field": fld, "current": kept, "other": other, "base": ch.old, "op_id": ctx.op.op_id}
        rule = "lww_receive_order" if by_receive_order else "lww_hlc"
        self._queue("low", self.sites, candidates | {"rule": rule})
        self.lww.append({"field": fld, "won": incoming_wins})

    def _queue(self, priority: str, sites: set[str], candidates: dict[str, object]) -> None:
        self.ctx.fx.review("field_conflict", priority, "person", self.person.id, sites, candidates)


def apply_update_person(ctx: Ctx) -> Outcome:
    p = parse(UpdatePersonP, ctx.op.payload)
    new = {fld: check_field_value(fld, ch.new) for fld, ch in p.fields.items()}
    for action in sorted(
        {"update_identity" if fld in IDENTITY_FIELDS else "update_contact" for fld in new}
    ):
        ctx.require_role(action)
    person = ctx.require_person(ctx.op.entity_id, "person.unknown")
    ctx.require_in_scope(person.id)
    number = new.get("id_number")
    if number is not None:
        shape = ID_SHAPES.get(str(new.get("id_type") or person.id_type))
        if shape is None or not shape.match(str(number)):
            raise Rejected("payload.invalid", fields=["fields.id_number.new"])
    edit = _Edit(ctx, person)
    for fld, ch in sorted(p.fields.items()):
        edit.field(fld, ch.model_copy(update={"new": new[fld]}))
    detail: dict[str, object] = {
        "applied": edit.applied,
        "noop": edit.noop,
        "lww": edit.lww,
        "queued": edit.queued,
    }
    if person.id != ctx.op.entity_id:
        detail["person_id"] = person.id
    return ("conflict_queued" if edit.queued else "applied"), detail
