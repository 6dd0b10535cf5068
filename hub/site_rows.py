"""What a site hub writes into its own tables for the province (issue 14, hub/site_hub.py).

* :func:`record_ops` — a desk's pushed ops, kept to forward (``relay_op``), in the push's
  own transaction;
* :func:`store_answers` — the province's answers, and what they settle: rows kept
  provisional while ops were on their way take the province's row (:func:`settle`), and a
  walk-in the province refused is withdrawn (:func:`refuse_walk_ins`);
* :func:`write_page` — the province's changes for the site, pulled down.

Every function runs in the caller's write transaction; nothing here talks to the network.
Rows written are numbered above what the desks hold, so the desks take them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from hub.db import Database
from hub.effects import ENTITY_ORDER, ChangeRow, Numbering, row_data
from hub.models import (
    DOMAIN_MODELS,
    Person,
    PersonRedirect,
    PersonSite,
    Registration,
    RelayOp,
    RelayShadow,
    ReviewItem,
    ReviewSite,
    table_of,
)
from sync.protocol import Change, Op, OpResult, PushRequest


def touched(op: Op) -> tuple[str, str, str | None]:
    """The entity an op is about, and a second row it changes: the registration a walk-in
    creates or a screening moves on, or (a dose) its person, whose registration it moves."""
    extra: object = None
    if op.op_type == "register_person":
        reg = op.payload.get("registration")
        extra = reg.get("id") if isinstance(reg, dict) else None
    elif op.op_type == "record_screening":
        extra = op.payload.get("registration_id")
    elif op.op_type == "record_dose":
        extra = op.payload.get("person_id")
    return op.entity_type, op.entity_id, extra[:64] if isinstance(extra, str) and extra else None


def record_ops(s: Session, req: PushRequest, ops: Sequence[Op], stamp: str) -> int:
    """Keep a desk's answered ops to forward, in its push's transaction; returns how many
    were new (an op sent again is kept once)."""
    known = set(s.execute(select(RelayOp.op_id).where(RelayOp.op_id.in_([op.op_id for op in ops]))).scalars())
    # One writer at a time on the site hub's SQLite: max + 1 is this push's place.
    arrival = int(s.execute(select(func.coalesce(func.max(RelayOp.arrival), 0))).scalar_one())
    rows: list[dict[str, object]] = []
    for op in ops:
        if op.op_id in known:
            continue
        etype, eid, extra = touched(op)
        arrival += 1
        rows.append({
            "op_id": op.op_id, "arrival": arrival, "station_id": req.station_id,
            "replica_epoch": req.replica_epoch, "op_seq": op.op_seq, "entity_type": etype,
            "entity_id": eid, "extra_id": extra, "op": op.model_dump(mode="json"),
            "schema_version": req.schema_version, "received_at": stamp,
        })
        known.add(op.op_id)
    if rows:
        # One executemany, not an ORM object per op (a desk's batch is up to 1000 ops).
        s.execute(insert(RelayOp), rows)
    return len(rows)


def store_answers(
    s: Session,
    answers: Mapping[str, OpResult],
    site: str,
    stamp: str,
    touched: Mapping[str, tuple[str, str, str | None]] | None = None,
) -> None:
    """The province's answers to relayed ops (by op id), in one executemany; then the rows
    nothing waits on any more settle (:func:`settle`) and refused walk-ins are withdrawn.
    An op already answered (a resend) keeps its first answer. ``touched``: what each op
    touches, as the forwarder read it (else read here)."""
    numbering = Numbering()
    if touched is not None and all(oid in touched for oid in answers):
        ops = [(oid, *touched[oid]) for oid in answers]
    else:
        ops = _still_waiting(s, sorted(answers))
    if not ops:
        return
    t = table_of(RelayOp)
    s.connection().execute(
        update(t).where(t.c.op_id == bindparam("oid"), t.c.province_status.is_(None))
        .values(province_status=bindparam("st"), province_result=bindparam("res"),
                answered_at=bindparam("at")),
        [{"oid": oid, "st": answers[oid].status, "res": answers[oid].model_dump(mode="json"), "at": stamp}
         for oid, _, _, _ in ops],
    )
    # Settling is idempotent: an answer stored before (a resend) settles nothing new.
    settle(s, [(answers[oid], etype, eid, extra) for oid, etype, eid, extra in ops], site, numbering)
    refuse_walk_ins(s, [(etype, eid, extra) for oid, etype, eid, extra in ops
                        if answers[oid].status == "rejected"], site, numbering)
    numbering.write(s)


def write_page(s: Session, page: Sequence[Change], site: str) -> None:
    """A page of the province's changes into the site hub's tables (the caller's transaction,
    with the cursor). Each row is kept as the province sent it (``relay_shadow``); a row a
    desk's op still on its way touches stays provisional (``pending``), the others take the
    province's row, numbered above what the desks hold.

    Only each entity's last change in the page counts: a walk-in screened and vaccinated is
    three changes of its registration at the province, and writing the first two would set
    the site hub's row back to "registered" for a moment (and log it twice more for the desks).
    """
    last: dict[tuple[str, str], Change] = {}
    for c in page:
        last[(c.entity_type, c.entity_id)] = c
    changes = sorted(last.values(), key=lambda c: c.server_seq)
    numbering = Numbering()
    waiting = _waiting_entities(
        s,
        [c.entity_id for c in changes]
        + [str(c.data["person_id"]) for c in changes
           if c.entity_type == "registration" and c.data.get("person_id")],
    )
    persons: set[str] = set()
    shadows = _shadows(s, last)
    rows = _preload(s, [(c.entity_type, c.entity_id) for c in changes if c.kind != "redirect"])
    new: list[dict[str, object]] = []
    with s.no_autoflush:  # one flush at the end, not one per row looked up
        for ch in changes:
            shadow = shadows.get((ch.entity_type, ch.entity_id))
            if shadow is not None and shadow.server_seq >= ch.server_seq:
                continue
            blocked = _blocked(ch.entity_type, ch.entity_id, ch.data, waiting)
            if shadow is None:
                # Inserted together below (one executemany, not an ORM object per row).
                new.append({"entity_type": ch.entity_type, "entity_id": ch.entity_id,
                            "server_seq": ch.server_seq, "kind": ch.kind, "row_version": ch.row_version,
                            "data": dict(ch.data), "pending": int(blocked)})
            else:
                shadow.server_seq, shadow.kind = ch.server_seq, ch.kind
                shadow.row_version, shadow.data = ch.row_version, dict(ch.data)
                shadow.pending = int(blocked)
            if blocked:
                continue  # a desk's op on it is on its way: the provisional row stays
            if write_live(s, ch.entity_type, ch.entity_id, ch.kind, ch.row_version, dict(ch.data),
                          site, numbering) and ch.entity_type == "person":
                persons.add(ch.entity_id)
    del rows
    if new:
        s.execute(insert(RelayShadow), new)
    _claim_id_keys(s, persons)
    numbering.write(s)


MAX_PENDING_PER_SETTLE = 5000
_ORDER = {etype: i for i, etype in enumerate(ENTITY_ORDER)}


def _blocked(etype: str, eid: str, data: Mapping[str, object], waiting: set[str]) -> bool:
    """A desk's op touching this row is still on its way upstream (a registration: also any
    op on its person, e.g. a dose, which moves the registration on)."""
    return eid in waiting or (etype == "registration" and str(data.get("person_id")) in waiting)


def settle(
    s: Session, answered: Sequence[tuple[OpResult, str, str, str | None]], site: str, numbering: Numbering
) -> None:
    """The province answered ops (answer, entity type, entity id, second row): rows nothing
    waits on any more take the province's row.

    An op that had no effect there (refused, a losing edit) puts its entity back to the
    province's row at once. An op whose effect the site hub has not pulled yet leaves its
    entity alone: the newer row is on its way down and is written when it comes. Every
    other row these ops kept provisional (``relay_shadow.pending``) takes the province's row
    now, parents first — only those: a row is kept provisional by an op on its way, so only
    that op's answer can release it (all of them once nothing waits any more).
    """
    on_way: set[tuple[str, str]] = set()
    persons: set[str] = set()
    shadows = _shadows(s, [(etype, eid) for _, etype, eid, _ in answered])
    no_effect: list[RelayShadow] = []
    for r, etype, eid, _ in answered:
        shadow = shadows.get((etype, eid))
        if shadow is None:
            continue
        if r.status == "rejected" or not r.ack().entity_changed:
            no_effect.append(shadow)
        elif r.server_seq is not None and shadow.server_seq < r.server_seq:
            on_way.add((etype, eid))
    pending = [sh for sh in _pending_for(s, answered) if (sh.entity_type, sh.entity_id) not in on_way]
    todo = {(sh.entity_type, sh.entity_id): sh for sh in [*no_effect, *pending]}
    if not todo:
        return
    waiting = _waiting_entities(s, [i for sh in todo.values() for i in _ids_of(sh)])
    rows = _preload(s, [k for k, sh in todo.items() if sh.kind != "redirect"])
    with s.no_autoflush:
        for sh in sorted(todo.values(), key=lambda x: (_ORDER.get(x.entity_type, 99), x.server_seq)):
            if _blocked(sh.entity_type, sh.entity_id, sh.data, waiting):
                continue
            sh.pending = 0
            if write_live(s, sh.entity_type, sh.entity_id, sh.kind, sh.row_version, dict(sh.data),
                          site, numbering) and sh.entity_type == "person":
                persons.add(sh.entity_id)
    del rows
    _claim_id_keys(s, persons)


def _pending_for(s: Session, answered: Sequence[tuple[OpResult, str, str, str | None]]) -> list[RelayShadow]:
    """The provisional rows the answered ops may release: their entities, their second rows,
    and the registrations of persons they touched. Once no op waits, every provisional row."""
    if s.execute(select(RelayShadow.entity_id).where(RelayShadow.pending == 1).limit(1)).first() is None:
        return []  # nothing kept provisional (the usual case while forwarding a backlog)
    nothing_waits = s.execute(
        select(RelayOp.op_id).where(RelayOp.province_status.is_(None)).limit(1)
    ).first() is None
    if nothing_waits:
        return list(s.execute(
            select(RelayShadow).where(RelayShadow.pending == 1).limit(MAX_PENDING_PER_SETTLE)
        ).scalars())
    ids = {eid for _, _, eid, _ in answered} | {x for _, _, _, x in answered if x}
    ordered = sorted(ids)
    for i in range(0, len(ordered), 500):
        ids.update(s.execute(
            select(Registration.id).where(Registration.person_id.in_(ordered[i : i + 500]))
        ).scalars())
    out: list[RelayShadow] = []
    ordered = sorted(ids)
    for i in range(0, len(ordered), 500):
        out.extend(s.execute(select(RelayShadow).where(
            RelayShadow.pending == 1, RelayShadow.entity_id.in_(ordered[i : i + 500])
        )).scalars())
    return out


def refuse_walk_ins(
    s: Session, rejected: Sequence[tuple[str, str, str | None]], site: str, numbering: Numbering
) -> None:
    """Walk-ins the province refused do not stay at the site as if accepted.

    ``rejected``: what refused ops touched (entity type, id, second row). A person the site
    hub created from a desk's walk-in whose ``register_person`` the province refused, of
    which the province holds no row and on which no op is still on its way, is set to
    ``refused`` with its registrations here: the desks take the rows (numbered above theirs)
    and no longer find the person (search, queues and counts show active people only). Its
    own desk shows the refused op with the province's reason, as on the direct route.
    """
    candidates: set[str] = set()
    regs: set[str] = set()
    for etype, eid, extra in rejected:
        if etype == "person":
            candidates.add(eid)
            if extra:
                regs.add(extra)
        elif etype == "dose" and extra:
            candidates.add(extra)  # the dose's person: its walk-in may have been refused first
        elif etype == "screening" and extra:
            regs.add(extra)
    if regs:
        candidates.update(s.execute(
            select(Registration.person_id).where(Registration.id.in_(sorted(regs)[:500]))
        ).scalars())
    if not candidates:
        return
    waiting = _waiting_entities(s, candidates)
    known = _shadows(s, [("person", pid) for pid in candidates])
    for pid in sorted(candidates - waiting):
        if ("person", pid) in known:
            continue  # the province holds it (merged, say): its row decides
        walk_in_refused = s.execute(
            select(RelayOp.op_id).where(
                RelayOp.entity_type == "person", RelayOp.entity_id == pid,
                RelayOp.extra_id.is_not(None), RelayOp.province_status == "rejected",
            ).limit(1)
        ).first()
        person = s.get(Person, pid)
        if walk_in_refused is None or person is None or person.status != "active":
            continue
        person.status, person.id_key = "refused", None
        person.version += 1
        numbering.add([ChangeRow(site, "person", pid, "upsert", person.version, row_data("person", person), None)])
        for reg in s.execute(select(Registration).where(Registration.person_id == pid)).scalars():
            reg.status = "refused"
            reg.version += 1
            numbering.add([ChangeRow(site, "registration", reg.id, "upsert", reg.version,
                                     row_data("registration", reg), None)])
    s.flush()


def _still_waiting(s: Session, op_ids: list[str]) -> list[tuple[str, str, str, str | None]]:
    """Of ``op_ids``, those the province had not answered yet: (op id, entity type, entity
    id, second row it touches)."""
    out: list[tuple[str, str, str, str | None]] = []
    for i in range(0, len(op_ids), 500):
        rows = s.execute(
            select(RelayOp.op_id, RelayOp.entity_type, RelayOp.entity_id, RelayOp.extra_id).where(
                RelayOp.op_id.in_(op_ids[i : i + 500]), RelayOp.province_status.is_(None)
            )
        ).tuples()
        out.extend(rows)
    return out


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
    data: dict[str, object],
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
    columns = set(table_of(model).columns.keys())
    values = {k: v for k, v in data.items() if k in columns and k != "version"}
    row = s.get(model, eid)
    if row is None:
        row = model(**values)
        setattr(row, "version", row_version)  # noqa: B010 - every domain model has it; Base does not say so
        if isinstance(row, Person):
            row.id_key = None  # claimed after the page (_claim_id_keys)
        s.add(row)
        version = row_version
    else:
        current = row_data(etype, row)
        differs = any(current.get(k) != v for k, v in values.items())
        local = int(getattr(row, "version", 0) or 0)
        if not differs and local >= row_version:
            return False
        for k, v in values.items():
            setattr(row, k, v)
        # Numbered above what the desks hold, so they take the province's row.
        version = row_version if row_version > local else local + 1
        setattr(row, "version", version)  # noqa: B010
        if isinstance(row, Person) and values.get("status") != "active":
            row.id_key = None
            s.flush()  # the number's key is free before another person claims it
    if etype == "person":
        _relate(s, eid, site)
    numbering.add([ChangeRow(site, etype, eid, "upsert", version, row_data(etype, row), None)])
    return True


def _preload(s: Session, keys: Iterable[tuple[str, str]]) -> list[object]:
    """Load the site hub's rows for ``keys`` in one query per table and 500 ids. The caller
    keeps the list: the session holds rows weakly, and a row collected before
    :func:`write_live` reaches it would be read again, one query per row."""
    by_type: dict[str, set[str]] = {}
    for etype, eid in keys:
        if etype in DOMAIN_MODELS and etype != "person_redirect":
            by_type.setdefault(etype, set()).add(eid)
    held: list[object] = []
    for etype, id_set in by_type.items():
        model = DOMAIN_MODELS[etype]
        key = table_of(model).c.id
        ids = sorted(id_set)
        for i in range(0, len(ids), 500):
            held.extend(s.execute(select(model).where(key.in_(ids[i : i + 500]))).scalars().all())
    return held


def _shadows(s: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], RelayShadow]:
    """The province rows kept for ``keys``: one query per entity type and 500 ids, on the
    primary key (type first: a query on the id alone would read the whole table)."""
    by_type: dict[str, set[str]] = {}
    for etype, eid in keys:
        by_type.setdefault(etype, set()).add(eid)
    out: dict[tuple[str, str], RelayShadow] = {}
    for etype, id_set in by_type.items():
        ids = sorted(id_set)
        for i in range(0, len(ids), 500):
            for sh in s.execute(select(RelayShadow).where(
                RelayShadow.entity_type == etype, RelayShadow.entity_id.in_(ids[i : i + 500])
            )).scalars():
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


def _write_redirect(s: Session, eid: str, row_version: int, data: dict[str, object], site: str,
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


def _write_review(s: Session, eid: str, row_version: int, data: dict[str, object], site: str,
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
    codes = values.get("site_codes")
    for code in codes if isinstance(codes, list) else []:
        if isinstance(code, str) and s.get(ReviewSite, (eid, code)) is None:
            s.add(ReviewSite(review_id=eid, site_code=code))
    s.flush()
    numbering.add([ChangeRow(site, "review", eid, "upsert", int(row.version), dict(data), None)])
    return True


def waiting_counts(db: Database, station_id: str | None = None) -> tuple[int, int]:
    """Ops the province has not answered: all desks', and ``station_id``'s."""
    with db.read() as s:
        total = s.execute(
            select(func.count()).select_from(RelayOp).where(RelayOp.province_status.is_(None))
        ).scalar_one()
        mine = 0
        if station_id is not None:
            mine = s.execute(
                select(func.count()).select_from(RelayOp).where(
                    RelayOp.province_status.is_(None), RelayOp.station_id == station_id
                )
            ).scalar_one()
    return int(total), int(mine)


def waiting_ops(db: Database) -> int:
    """Ops the province has not answered yet (the site hub's backlog)."""
    return waiting_counts(db)[0]
