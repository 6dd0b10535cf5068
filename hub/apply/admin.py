"""The site's own records through the ORM: vaccine lots and users."""

from __future__ import annotations

from hub import authz
from hub.apply.context import Ctx, Outcome
from hub.models import AppUser, VaccineLot
from hub.payloads import LotP, UserP, parse

ELEVATED_ROLES = frozenset({"admin", "supervisor"})


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
