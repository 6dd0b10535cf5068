"""Who may push what: the op's user, its role at the station's site, and the actor fields.

A station token speaks for one site; inside that site the hub holds every op
to the same rules the station's services apply (``kernel.roles``): the op's
``user_id`` must be a user *of that site* whose role allows the op, and the
actor fields a station copies from its logged-in user (a dose's
``vaccinator_id``, a screening's ``screener_id``, an adverse event's
``recorded_by``) must name that same user. ``voided_by`` and a review's
``resolution.by`` are the op's user, so they are checked by the same rule. A
dose's ``override_by`` (the supervisor who let a clinical refusal pass) is
another user: one of the site, active then, whose role may override.

An op without a user is the installer's ``system`` actor (creating the first
users and lots at a new station): it may do what ``system`` may, nothing else.

A user deactivated at the site may still have work waiting in a station's
outbox from before: such an op is accepted when it was recorded no later than
the deactivation (the user row's ``updated_at``), refused after.

Reasons (``rejected``, never personal data in the detail): ``auth.user_unknown``,
``auth.user_inactive``, ``auth.forbidden`` (``detail.action``, ``detail.role``),
``auth.actor_mismatch`` (``detail.field``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.errors import Rejected
from hub.models import AppUser
from kernel.chunks import in_chunks
from kernel.roles import PERMISSIONS
from sync.protocol import parse_timestamp

SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    user_id: str | None
    role: str
    active: bool
    changed_at: datetime | None  # the user row's updated_at (deactivation time when inactive)


SYSTEM_ACTOR = Actor(None, SYSTEM, True, None)


def _cache(s: Session) -> dict[tuple[str, str], Actor | None]:
    cache: dict[tuple[str, str], Actor | None] = s.info.setdefault("actors", {})
    return cache


def forget(s: Session, user_id: str) -> None:
    """Drop a cached user (an upsert_user op changed it)."""
    cache = _cache(s)
    for key in [k for k in cache if k[1] == user_id]:
        del cache[key]


def load_actors(s: Session, site: str, user_ids: set[str]) -> None:
    """Fetch the users of ``site`` among ``user_ids`` in one query per 500 (the fast path)."""
    for chunk in in_chunks(actors_wanted(s, site, user_ids)):
        found = select(AppUser.id, AppUser.site_code, AppUser.role, AppUser.active, AppUser.updated_at)
        keep_actors(s, site, chunk, [tuple(r) for r in s.execute(found.where(AppUser.id.in_(chunk), AppUser.site_code == site))])


# The same look-up as a plain statement (``IN :ids``: :func:`hub.apply.bulk.ids_in_all`);
# rows of another site are left out by :func:`keep_actors`.
ACTORS_SQL = "SELECT id, site_code, role, active, updated_at FROM app_user WHERE id IN :ids"


def actors_wanted(s: Session, site: str, user_ids: set[str]) -> list[str]:
    """The users among ``user_ids`` not yet known in this session, sorted."""
    cache = _cache(s)
    return sorted(u for u in user_ids if (site, u) not in cache)


def keep_actors(s: Session, site: str, wanted: list[str], rows: list[tuple[object, ...]]) -> None:
    """Remember what was found for ``wanted`` at ``site`` (rows of :data:`ACTORS_SQL`)."""
    found = {str(r[0]): r for r in rows if r[1] == site}
    cache = _cache(s)
    for uid in wanted:
        row = found.get(uid)
        cache[(site, uid)] = (
            Actor(uid, str(row[2]), bool(row[3]), parse_timestamp(row[4] if isinstance(row[4], str) else ""))
            if row is not None
            else None
        )


def actor(s: Session, site: str, user_id: str | None) -> Actor | None:
    """The op's actor at ``site``: the system actor, a user of the site, or None (unknown)."""
    if user_id is None:
        return SYSTEM_ACTOR
    if (site, user_id) not in _cache(s):
        load_actors(s, site, {user_id})
    return _cache(s)[(site, user_id)]


def check(who: Actor | None, recorded_at: str, actions: tuple[str, ...]) -> None:
    """Refuse unless ``who`` exists, was active when the op was recorded, and may do one of
    ``actions`` (any, when empty) (``Rejected``)."""
    if who is None:
        raise Rejected("auth.user_unknown")
    if not who.active:
        at = parse_timestamp(recorded_at)
        if at is None or who.changed_at is None or at > who.changed_at:
            raise Rejected("auth.user_inactive")
    if actions and PERMISSIONS.get(who.role, _NONE).isdisjoint(actions):
        raise Rejected("auth.forbidden", action=actions[0], role=who.role)


def allows(who: Actor | None, recorded_at: str, actions: tuple[str, ...]) -> bool:
    """:func:`check` as a yes/no (the fast path asks it for every op: kept cheap)."""
    if who is None:
        return False
    if who.active:
        return not actions or not PERMISSIONS.get(who.role, _NONE).isdisjoint(actions)
    try:
        check(who, recorded_at, actions)
    except Rejected:
        return False
    return True


_NONE: frozenset[str] = frozenset()


def same_actor(field: str, value: str | None, *allowed: str | None) -> None:
    """An actor field the station copies from its logged-in user must name the op's user
    (``allowed``: that user's id, and what the station writes when there is none)."""
    if value not in allowed:
        raise Rejected("auth.actor_mismatch", field=field)


def approver(s: Session, site: str, field: str, user_id: str, recorded_at: str, action: str) -> None:
    """A second user an op names in ``field`` as approving it (``override_by``) is a user of
    ``site``, active when the op was recorded, whose role may do ``action``."""
    if not allows(actor(s, site, user_id), recorded_at, (action,)):
        raise Rejected("auth.actor_mismatch", field=field)
