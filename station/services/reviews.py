"""Review items (the hub's conflict queue, mirrored locally) and their resolution.

The hub opens review items (possible duplicate person or dose, field conflicts,
edits after a void, clock skew, merges); the station mirrors the ones that
concern its site into the local ``conflict`` table when it pulls. A supervisor
resolves one here: the resolution is an op (``resolve_review``) that syncs and
is audited like every other write, and the local mirror is marked at once so
the list reflects the decision while offline. The hub's answer arrives with a
later pull.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import RowMapping, text

from kernel.errors import DomainError, FieldIssue, NotFound, ValidationError
from kernel.ops import ACTIONS_BY_KIND, ResolveP, build, wire
from kernel.roles import require
from station.store import Actor, Station

# Actions a supervisor may take per kind (kernel.ops: the hub checks the same table).
ACTIONS = ACTIONS_BY_KIND
_RESERVED = frozenset({"review_id", "action"})
_MAX_PARAM_LEN = 500


@dataclass(frozen=True, slots=True)
class ReviewDTO:
    id: str
    kind: str
    priority: str
    status: str  # open | resolved
    entity_type: str
    entity_id: str
    candidates: dict[str, object]  # JSON from the hub: read with isinstance
    created_at: str
    resolution: dict[str, object] | None
    pending: bool  # resolved here, not yet confirmed by the hub


def _loads(raw: str | None) -> object:
    if raw is None:
        return None
    try:
        value: object = json.loads(raw)
        return value
    except ValueError:
        return None


def _dto(row: RowMapping) -> ReviewDTO:
    resolution = _loads(row["resolution"])
    candidates = _loads(row["candidates"])
    return ReviewDTO(
        id=row["id"],
        kind=row["kind"],
        priority=row["priority"],
        status=row["status"],
        entity_type=row["entity_type"],
        entity_id=row["entity_id"],
        candidates=candidates if isinstance(candidates, dict) else {},
        created_at=row["created_at"],
        resolution=resolution if isinstance(resolution, dict) else None,
        pending=bool(isinstance(resolution, dict) and resolution.get("pending")),
    )


def list_reviews(st: Station, *, status: str | None = "open", limit: int = 1000) -> list[ReviewDTO]:
    """Review items, high priority first, then oldest first (``status=None``: all)."""
    sql = (
        "SELECT id, kind, priority, status, entity_type, entity_id, candidates, created_at, "
        "resolution FROM conflict"
    )
    params: dict[str, object] = {"n": limit}
    if status is not None:
        sql += " WHERE status = :st"
        params["st"] = status
    sql += " ORDER BY priority = 'high' DESC, created_at, id LIMIT :n"
    with st.read() as conn:
        rows = conn.execute(text(sql), params).mappings().all()
    return [_dto(r) for r in rows]


def _check_params(params: Mapping[str, object]) -> dict[str, object]:
    issues: list[FieldIssue] = []
    clean: dict[str, object] = {}
    for key, value in params.items():
        if key in _RESERVED or not key.isidentifier() or (value is not None and not isinstance(value, str | int | bool)):
            issues.append(FieldIssue(key, "param.invalid"))
        elif isinstance(value, str) and len(value) > _MAX_PARAM_LEN:
            issues.append(FieldIssue(key, "param.too_long", {"max": _MAX_PARAM_LEN}))
        else:
            clean[key] = value
    if issues:
        raise ValidationError(issues)
    return clean


def resolve_review(st: Station, actor: Actor, review_id: str, action: str, **params: object) -> ReviewDTO:
    """Resolve a review item: emits ``resolve_review`` {"review_id", "action", **params}.

    Refuses: unknown item (``review.not_found``), one already resolved
    (``review.not_open``), an action that does not fit the kind
    (``review.bad_action``).
    """
    require(actor.role, "resolve_review")
    clean = _check_params(params)
    with st.unit_of_work(actor) as uow:
        row = uow.conn.execute(
            text(
                "SELECT id, kind, priority, status, entity_type, entity_id, candidates, created_at, "
                "resolution FROM conflict WHERE id = :i"
            ),
            {"i": review_id},
        ).mappings().first()
        if row is None:
            raise NotFound("review.not_found")
        if row["status"] != "open":
            raise DomainError("review.not_open", status=row["status"])
        allowed = ACTIONS.get(row["kind"])
        if allowed is not None and action not in allowed:
            raise ValidationError(
                [FieldIssue("action", "review.bad_action", {"allowed": sorted(allowed)})]
            )
        op_id = uow.emit(
            "resolve_review",
            "review",
            review_id,
            wire(build(ResolveP, review_id=review_id, action=action, **clean)),
        )
        resolution = {
            "action": action,
            "params": clean,
            "by": actor.user_id,
            "at": uow.now_iso,
            "op_id": op_id,
            "pending": True,
        }
        uow.conn.execute(
            text("UPDATE conflict SET status = 'resolved', resolution = :r WHERE id = :i"),
            {"r": json.dumps(resolution, ensure_ascii=False, sort_keys=True), "i": review_id},
        )
        new = uow.conn.execute(
            text(
                "SELECT id, kind, priority, status, entity_type, entity_id, candidates, created_at, "
                "resolution FROM conflict WHERE id = :i"
            ),
            {"i": review_id},
        ).mappings().one()
    return _dto(new)


__all__ = ["ACTIONS", "ReviewDTO", "list_reviews", "resolve_review"]
