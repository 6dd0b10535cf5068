"""Writing the province's rows into a site hub's own tables (issue 14, "the province decides").

Split from ``hub.site_hub`` (which re-exports these names): the down task writes each
pulled page with :func:`write_live`, and the forwarder settles the rows kept provisional
while a desk's op was on its way (:func:`settle`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from hub.db import Database
from hub.effects import ENTITY_ORDER, ChangeRow, Numbering, row_data
from hub.models import (
    DOMAIN_MODELS,
    Person,
    PersonRedirect,
    PersonSite,
    RelayOp,
    RelayShadow,
    ReviewItem,
    ReviewSite,
)
from sync.protocol import OpResult

# ---- writing the province's rows into the site hub's tables --------------------------------

MAX_PENDING_PER_SETTLE = 5000
_ORDER = {etype: i for i, etype in enumerate(ENTITY_ORDER)}


def _blocked(etype: str, eid: str, data: dict[str, Any], waiting: set[str]) -> bool:
    """A desk's op touching this row is still on its way upstream (a registration: also any
    op on its person, e.g. a dose, which moves the registration on)."""
    return eid in waiting or (etype == "registration" and str(data.get("person_id")) in waiting)


def settle(s: Session, answered: list[tuple[OpResult, RelayOp]], site: str, numbering: Numbering) -> None:
    """The province answered ops: rows nothing waits on any more take the province's row.

    An op that had no effect there (refused, a losing edit) puts its entity back to the
    province's row at once. An op whose effect the site hub has not pulled yet leaves its
    entity alone: the newer row is on its way down and is written when it comes. Every
    other row kept provisional while ops were waiting (``relay_shadow.pending``) takes the
    province's row now, parents first.
    """
    on_way: set[tuple[str, str]] = set()
    persons: set[str] = set()
    for r, row in answered:
        own = (row.entity_type, row.entity_id)
        shadow = s.get(RelayShadow, own)
        if shadow is None:
            continue
        if r.status == "rejected" or not r.ack().entity_changed:
            if not _blocked(own[0], own[1], shadow.data, _waiting_entities(s, _ids_of(shadow))):
                shadow.pending = 0
                if write_live(s, own[0], own[1], shadow.kind, shadow.row_version, dict(shadow.data),
                              site, numbering) and own[0] == "person":
                    persons.add(own[1])
        elif r.server_seq is not None and shadow.server_seq < r.server_seq:
            on_way.add(own)
    pending = s.execute(
        select(RelayShadow).where(RelayShadow.pending == 1).limit(MAX_PENDING_PER_SETTLE)
    ).scalars().all()
    if pending:
        waiting = _waiting_entities(s, [i for sh in pending for i in _ids_of(sh)])
        for sh in sorted(pending, key=lambda x: (_ORDER.get(x.entity_type, 99), x.server_seq)):
            if (sh.entity_type, sh.entity_id) in on_way or _blocked(
                sh.entity_type, sh.entity_id, sh.data, waiting
            ):
                continue
            sh.pending = 0
            if write_live(s, sh.entity_type, sh.entity_id, sh.kind, sh.row_version, dict(sh.data),
                          site, numbering) and sh.entity_type == "person":
                persons.add(sh.entity_id)
    _claim_id_keys(s, persons)


def _ids_of(sh: RelayShadow) -> list[str]:
    ids = [sh.entity_id]
    if sh.entity_type == "registration" and sh.data.get("person_id"):
        ids.append(str(sh.data["person_id"]))
    return ids


def _waiting_entities(s: Session, ids: Iterable[str]) -> set[str]:
    """Of ``ids``, those a desk's op still on its way upstream touches."""
    want = sorted(set(ids))
    out: set[str] = set()
    for i in range(0, len(want), 500):
        chunk = want[i : i + 500]
        out.update(
            s.execute(
                select(RelayOp.entity_id).where(
                    RelayOp.province_status.is_(None), RelayOp.entity_id.in_(chunk)
                )
            ).scalars()
        )
        out.update(
            x for x in s.execute(
                select(RelayOp.extra_id).where(RelayOp.province_status.is_(None), RelayOp.extra_id.in_(chunk))
            ).scalars() if x
        )
    return out


def write_live(
    s: Session,
    etype: str,
    eid: str,
    kind: str,
    row_version: int,
    data: dict[str, Any],
    site: str,
    numbering: Numbering,
) -> bool:
    """Set the site hub's row to the province's; logged for the desks. False: nothing changed."""
    if kind == "redirect" or etype == "person_redirect":
        return _write_redirect(s, eid, row_version, data, site, numbering)
    if etype == "review":
        return _write_review(s, eid, row_version, data, site, numbering)
    model = DOMAIN_MODELS.get(etype)
    if model is None:
        return False
    columns = set(model.__table__.columns.keys())
    values = {k: v for k, v in data.items() if k in columns and k != "version"}
    row = s.get(model, eid)
    if row is None:
        row = model(**values)
        row.version = row_version  # type: ignore[attr-defined]
        if etype == "person":
            row.id_key = None  # type: ignore[attr-defined]  # claimed after the page (_claim_id_keys)
        s.add(row)
    else:
        current = row_data(etype, row)
        differs = any(current.get(k) != v for k, v in values.items())
        local = int(row.version or 0)  # type: ignore[attr-defined]
        if not differs and local >= row_version:
            return False
        for k, v in values.items():
            setattr(row, k, v)
        # Numbered above what the desks hold, so they take the province's row.
        row.version = row_version if row_version > local else local + 1  # type: ignore[attr-defined]
        if etype == "person" and values.get("status") != "active":
            row.id_key = None  # type: ignore[attr-defined]
            s.flush()  # the number's key is free before another person claims it
    if etype == "person":
        _relate(s, eid, site)
    numbering.add([ChangeRow(site, etype, eid, "upsert", int(row.version), row_data(etype, row), None)])  # type: ignore[attr-defined]
    return True


def _preload(s: Session, changes: Iterable[Any]) -> None:
    """Load a page's existing rows in one query per table and 500 ids: the session then
    finds each without a query of its own (and without flushing the page row by row)."""
    by_type: dict[str, set[str]] = {}
    for c in changes:
        if c.entity_type in DOMAIN_MODELS and c.kind != "redirect":
            by_type.setdefault(c.entity_type, set()).add(c.entity_id)
    for etype, id_set in by_type.items():
        model = DOMAIN_MODELS[etype]
        ids = sorted(id_set)
        for i in range(0, len(ids), 500):
            s.execute(select(model).where(model.id.in_(ids[i : i + 500]))).scalars().all()  # type: ignore[attr-defined]


def _shadows(s: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], RelayShadow]:
    """The province rows kept for ``keys``, in one query per 500 ids."""
    out: dict[tuple[str, str], RelayShadow] = {}
    ids = sorted({k[1] for k in keys})
    for i in range(0, len(ids), 500):
        for sh in s.execute(select(RelayShadow).where(RelayShadow.entity_id.in_(ids[i : i + 500]))).scalars():
            out[(sh.entity_type, sh.entity_id)] = sh
    return out


def _relate(s: Session, person_id: str, site: str) -> None:
    if s.get(PersonSite, (person_id, site)) is None:
        s.add(PersonSite(person_id=person_id, site_code=site))


def _claim_id_keys(s: Session, persons: set[str]) -> None:
    """Active persons written down hold their ID number's key when nobody here holds it."""
    for pid in sorted(persons):
        p = s.get(Person, pid)
        if p is None or p.status != "active" or not p.id_number or p.id_key is not None:
            continue
        holder = s.execute(select(Person.id).where(Person.id_key == p.id_number)).scalar()
        if holder is None:
            p.id_key = p.id_number
            s.flush()


def _write_redirect(s: Session, eid: str, row_version: int, data: dict[str, Any], site: str,
                    numbering: Numbering) -> bool:
    to_id = data.get("to_id")
    row = s.get(PersonRedirect, eid)
    if to_id is None:
        if row is None:
            return False
        s.delete(row)
    elif row is None:
        s.add(PersonRedirect(from_id=eid, to_id=str(to_id), created_at=str(data.get("created_at") or ""),
                             version=row_version))
    else:
        if row.to_id == to_id:
            return False
        row.to_id = str(to_id)
        row.version = max(row.version + 1, row_version)
    s.flush()
    numbering.add([ChangeRow(site, "person_redirect", eid, "redirect", row_version, dict(data), None)])
    return True


_REVIEW_FIELDS = ("kind", "priority", "status", "entity_type", "entity_id", "site_codes", "candidates",
                  "created_at", "resolution")


def _write_review(s: Session, eid: str, row_version: int, data: dict[str, Any], site: str,
                  numbering: Numbering) -> bool:
    row = s.get(ReviewItem, eid)
    values = {k: data.get(k) for k in _REVIEW_FIELDS}
    if row is None:
        row = ReviewItem(id=eid, version=row_version, **values)
        s.add(row)
    else:
        if all(getattr(row, k) == v for k, v in values.items()) and row.version >= row_version:
            return False
        for k, v in values.items():
            setattr(row, k, v)
        row.version = row_version if row_version > row.version else row.version + 1
    for code in values.get("site_codes") or []:
        if isinstance(code, str) and s.get(ReviewSite, (eid, code)) is None:
            s.add(ReviewSite(review_id=eid, site_code=code))
    s.flush()
    numbering.add([ChangeRow(site, "review", eid, "upsert", int(row.version), dict(data), None)])
    return True


def waiting_ops(db: Database) -> int:
    """Ops the province has not answered yet (the site hub's backlog)."""
    with db.read() as s:
        return int(s.execute(text("SELECT count(*) FROM relay_op WHERE province_status IS NULL")).scalar_one())
