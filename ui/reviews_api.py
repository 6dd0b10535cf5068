"""Review items (duplicates, conflicts) for the Sync workspace, through the station service.

One place that turns the service's DTOs into the bridge's ``ReviewItemView``
and knows which decisions each kind of item offers.
"""

from __future__ import annotations

from station.services import reviews
from station.store import Actor, Station
from ui.bridge import ReviewItemView

# The order buttons appear in: the usual decision first.
_ORDER = ("merge", "void_dose", "keep_both", "keep_current", "take_value", "unmerge")
ACTIONS_BY_KIND: dict[str, tuple[str, ...]] = {
    kind: tuple(a for a in _ORDER if a in allowed) for kind, allowed in reviews.ACTIONS.items()
}


def to_view(r: reviews.ReviewDTO) -> ReviewItemView:
    return ReviewItemView(
        id=r.id, kind=r.kind, priority=r.priority, status=r.status, entity_type=r.entity_type,
        entity_id=r.entity_id, candidates=dict(r.candidates), created_at=r.created_at,
    )


def list_open_reviews(st: Station) -> tuple[ReviewItemView, ...]:
    """Open items, high priority first, then oldest (the service's order)."""
    return tuple(to_view(r) for r in reviews.list_reviews(st, status="open"))


def resolve(st: Station, actor: Actor, review_id: str, action: str, **params: str) -> ReviewItemView:
    return to_view(reviews.resolve_review(st, actor, review_id, action, **params))
