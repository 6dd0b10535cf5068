"""Review resolutions: a supervisor's decision on a review item, applied as a ``resolve_review`` op."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from hub.apply.clinical import void
from hub.apply.context import Ctx, Outcome, lock_person
from hub.apply.people import set_person_field
from hub.effects import merge_person, person_sites, unmerge_person
from hub.errors import Rejected
from hub.models import Dose, Person, PersonRedirect, ReviewItem
from hub.payloads import ACTIONS_BY_KIND, ResolveP, check_field_value, parse, series
from kernel.ops import CONTACT_FIELDS, IDENTITY_FIELDS


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


# ``cand``: the item's candidates, JSON the hub wrote when it opened the item (narrowed
# where read); ``params``: the supervisor's choice, parsed (kernel.ops.ResolveP).


def _void_duplicate(ctx: Ctx, cand: dict[str, object], params: Mapping[str, str]) -> dict[str, object]:
    dose_id = params.get("dose_id")
    dose_ids = cand.get("dose_ids")
    if dose_id is None or not isinstance(dose_ids, list) or dose_id not in dose_ids:
        raise Rejected("review.bad_params", fields=["dose_id"])
    dose = ctx.session.get(Dose, dose_id)
    if dose is None:
        raise Rejected("dose.unknown")
    reason = params.get("reason")
    reason = reason if isinstance(reason, str) and 0 < len(reason) <= 500 else "duplicate entry"
    void(ctx, dose, reason, ctx.op.recorded_at)
    return {"voided": dose_id}


def _merge(ctx: Ctx, cand: dict[str, object], params: Mapping[str, str]) -> dict[str, object]:
    s = ctx.session
    listed = cand.get("person_ids")
    ids: list[object] = list(listed) if isinstance(listed, list) else []
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
        s.execute(select(Dose.id).where(Dose.person_id == from_id, Dose.voided == 0)).scalars()
    )
    merge_person(ctx.fx, from_id, to_id)
    effect: dict[str, object] = {"merged": from_id, "into": to_id}
    flagged = _flag_duplicate_doses_after_merge(ctx, to_id, moved)
    if flagged:
        effect["duplicate_dose_reviews"] = flagged
    return effect


def _unmerge(ctx: Ctx, cand: dict[str, object]) -> dict[str, object]:
    from_id = cand.get("from_id")
    if not isinstance(from_id, str) or ctx.session.get(PersonRedirect, from_id) is None:
        raise Rejected("review.stale")
    return {"unmerged": from_id, "from": unmerge_person(ctx.fx, from_id)}


def _take_value(ctx: Ctx, item: ReviewItem, cand: dict[str, object]) -> dict[str, object]:
    person = ctx.session.get(Person, item.entity_id)
    fld = cand.get("field")
    if person is None or not isinstance(fld, str) or fld not in IDENTITY_FIELDS | CONTACT_FIELDS:
        raise Rejected("review.stale")
    value = check_field_value(fld, cand.get("other"))
    set_person_field(ctx, person, fld, value)
    return {"field": fld}


def _effect(ctx: Ctx, item: ReviewItem, action: str, params: Mapping[str, str]) -> dict[str, object]:
    """Carry out the chosen action (``keep_*`` changes nothing but the item)."""
    cand = dict(item.candidates)
    if action == "void_dose":
        return _void_duplicate(ctx, cand, params)
    if action == "merge":
        return _merge(ctx, cand, params)
    if action == "unmerge":
        return _unmerge(ctx, cand)
    if action == "take_value":
        return _take_value(ctx, item, cand)
    return {}


def apply_resolve_review(ctx: Ctx) -> Outcome:
    p = parse(ResolveP, ctx.op.payload)
    ctx.require_role("resolve_review")
    item = ctx.session.get(ReviewItem, p.review_id)
    if item is None:
        raise Rejected("review.unknown")
    if ctx.site not in item.site_codes:
        raise Rejected("auth.cross_site")
    if item.status == "resolved":
        return "applied", {"noop": True, "already_resolved": True}
    if p.action not in ACTIONS_BY_KIND.get(item.kind, set()):
        raise Rejected("review.bad_action", kind=item.kind, action=p.action)
    effect = _effect(ctx, item, p.action, p.all_params())
    item.status = "resolved"
    item.resolution = {
        "action": p.action,
        "by": ctx.op.user_id,
        "op_id": ctx.op.op_id,
        "at": ctx.op.recorded_at,
        "site_code": ctx.site,
        "effect": effect,
    }
    ctx.fx.touch("review", item.id)
    return "applied", {"review_id": item.id, **effect}
