"""What an op did, turned into change-log rows for the sites that should see it.

An :class:`Effects` collects, during one op's transaction, the entities the op
touched, the (person, site) relations it created and the review items it
opened. :meth:`Effects.flush` then bumps each touched row's version, works out
the scope sites and hands the change rows to the transaction's
:class:`Numbering`.

**The clock is taken last.** A :class:`Numbering` gathers the change rows (and
ledger rows) of a whole write transaction and numbers them all at its very end
with a single ``UPDATE hub_clock SET seq = seq + n RETURNING seq``, then writes
them. That row lock is held until COMMIT, so a later transaction gets higher
numbers only after this one is visible: change-log order is commit order and a
puller reading below the committed head never skips a row. Because nothing is
locked after it, a transaction holding the clock never waits for another one
(which would be a deadlock: an earlier design numbered each op as it went, and
pushes touching the same persons in different orders deadlocked on PostgreSQL).

Scopes (DESIGN §5): registrations, screenings, lots and users go to their site;
persons, doses, adverse events and redirects go to every site in
``person_site`` for the person; review items to the sites they concern. When a
person becomes relevant to a new site, that site also gets the backlog: the
person row, merged persons' rows and redirects into it, all doses and adverse
events.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import FromClause, Table, select, text
from sqlalchemy.orm import Session

from hub.db import Statement, pipelined
from hub.models import (
    DOMAIN_MODELS,
    HUB_ONLY_COLUMNS,
    STATION_LACKS,
    AdverseEvent,
    AppliedOp,
    AppUser,
    Base,
    ChangeLog,
    Dose,
    Person,
    PersonRedirect,
    PersonSite,
    Registration,
    ReviewItem,
    ReviewSite,
    Screening,
    VaccineLot,
    table_of,
)
from hub.rowtypes import LedgerResult, LedgerRow
from hub.rowvalues import (
    copy_rows,
    json_text,
    result_text,
    row_values,
    shape,
    sqlite_dict_rows,
    sqlite_insert,
    sqlite_rows,
)
from kernel.ids import natural_id, uuid7

# Apply order at the station: parents before children (its foreign keys are on).
ENTITY_ORDER = (
    "person",
    "vaccine_lot",
    "app_user",
    "registration",
    "screening",
    "dose",
    "adverse_event",
    "person_redirect",
    "review",
)
SITE_SCOPED = frozenset({"registration", "screening", "vaccine_lot", "app_user"})
MAX_REDIRECT_HOPS = 16


def row_data(entity_type: str, row: Base) -> dict[str, object]:
    """The row as stations store it: station columns only."""
    return {c: getattr(row, c) for c in station_columns(entity_type, row.__table__)}


def station_columns(entity_type: str, table: FromClause) -> list[str]:
    """The columns of ``table`` a station stores for ``entity_type``, in table order."""
    skip = HUB_ONLY_COLUMNS | STATION_LACKS.get(entity_type, frozenset())
    return [c.key for c in table.columns if c.key not in skip]


def scoped_data(entity_type: str, data: dict[str, object], scope: str) -> dict[str, object]:
    """A row's change data as the station of site ``scope`` receives it.

    Lots and screenings are site-scoped: another site never receives the rows a
    dose points at, and the station's foreign keys would refuse them; the lot
    number stays on the dose for the record.
    """
    if entity_type == "dose" and data["site_code"] != scope:
        return data | {"lot_id": None, "screening_id": None}
    return data


def review_data(item: ReviewItem) -> dict[str, object]:
    return {
        "id": item.id,
        "kind": item.kind,
        "priority": item.priority,
        "status": item.status,
        "entity_type": item.entity_type,
        "entity_id": item.entity_id,
        "site_codes": list(item.site_codes),
        "candidates": dict(item.candidates),
        "created_at": item.created_at,
        "resolution": dict(item.resolution) if item.resolution is not None else None,
    }


def person_sites(session: Session, person_id: str) -> list[str]:
    rows = session.execute(
        select(PersonSite.site_code)
        .where(PersonSite.person_id == person_id)
        .order_by(PersonSite.site_code)
    ).scalars()
    return list(rows)


def resolve_person(session: Session, person_id: str) -> str:
    """Follow merge redirects (bounded: a chain never loops, and merges flatten chains)."""
    current = person_id
    for _ in range(MAX_REDIRECT_HOPS):
        nxt = session.execute(
            select(PersonRedirect.to_id).where(PersonRedirect.from_id == current)
        ).scalar()
        if nxt is None:
            return current
        current = nxt
    return current


def allocate_seqs(session: Session, n: int, before: Sequence[Statement] = ()) -> int:
    """Number ``n`` change rows; returns the first server_seq.

    The ``hub_clock`` row lock taken here is held until COMMIT: call it last
    (:meth:`Numbering.write`), see the module docstring. ``before`` (PostgreSQL): writes
    sent ahead of it in the same round trip (:func:`hub.db.pipelined`, run in order).
    """
    if before and session.get_bind().dialect.name == "postgresql":
        got = pipelined(session.connection(), [*before, ("UPDATE hub_clock SET seq = seq + %s WHERE id = 1 RETURNING seq", (n,))])
        return int(got[-1][0][0]) - n + 1
    run_before(session, before)
    last = int(
        session.execute(
            text("UPDATE hub_clock SET seq = seq + :n WHERE id = 1 RETURNING seq"), {"n": n}
        ).scalar_one()
    )
    return last - n + 1


def run_before(session: Session, statements: Sequence[Statement]) -> None:
    """The writes handed to :attr:`Numbering.before`, in order: PostgreSQL in one round trip
    (:func:`hub.db.pipelined`), SQLite one by one (their parameters already ``?``)."""
    if not statements:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        pipelined(conn, statements)
        return
    for sql, params in statements:
        conn.exec_driver_sql(sql, params)


_CHANGES = table_of(ChangeLog)
_LEDGER = table_of(AppliedOp)
_CHANGE_COLS = ["server_seq", "scope", "entity_type", "entity_id", "kind", "row_version", "data", "origin_op_id", "echo_for"]
assert [c.name for c in _CHANGES.columns] == _CHANGE_COLS, "Numbering.write lists change_log's columns"


@dataclass(slots=True)
class ChangeRow:
    """A change-log row waiting for its number."""

    scope: str
    entity_type: str
    entity_id: str
    kind: str
    row_version: int
    data: dict[str, object]
    origin_op_id: str | None
    echo_for: str | None = None


_LEDGER_COLS = ["op_id", "station_id", "replica_epoch", "op_seq", "op_type", "payload_sha256", "status", "result", "received_at"]
assert [c.name for c in _LEDGER.columns] == _LEDGER_COLS, "Numbering lists applied_op's columns"
_RESULT_AT = _LEDGER_COLS.index("result")
_LEDGER_VALUES = operator.itemgetter(*_LEDGER_COLS)  # a ledger row's values in that order


@dataclass
class Numbering:
    """The change rows and ledger rows of one write transaction, numbered at its end.

    Ops hand their change rows over as they apply (:meth:`add` returns where
    the op's rows start) and their ledger rows with the position of their first
    change row; :meth:`write` numbers everything with one ``hub_clock`` update,
    fills each ledger row's ``result.server_seq`` in place (so answers built
    from the same dicts see the number) and writes both tables in bulk.

    Both are kept as the tables' values, in their column order (issue 15, phase 8: the
    bulk executor builds them so, one list per row instead of a row object and a list):
    a change row's ``server_seq`` (its first value) is None until written.
    """

    changes: list[list[object]] = field(default_factory=list)
    ledger: list[tuple[list[object], LedgerResult, int | None]] = field(default_factory=list)
    base: int | None = None  # the first number, once written
    # PostgreSQL: writes to send with the clock's, just before it (hub.counters.flush)
    before: list[Statement] = field(default_factory=list)

    def add(self, rows: list[ChangeRow]) -> int | None:
        return self.add_values(
            [[None, c.scope, c.entity_type, c.entity_id, c.kind, c.row_version, c.data, c.origin_op_id, c.echo_for] for c in rows]
        )

    def add_values(self, rows: list[list[object]]) -> int | None:
        """Change rows as ``change_log``'s values (``_CHANGE_COLS``), server_seq None."""
        if not rows:
            return None
        offset = len(self.changes)
        self.changes.extend(rows)
        return offset

    def add_ledger(self, row: LedgerRow, offset: int | None) -> None:
        self.ledger.append((list(_LEDGER_VALUES(row)), row["result"], offset))

    def add_ledger_values(self, values: list[object], result: LedgerResult, offset: int | None) -> None:
        """A ledger row as ``applied_op``'s values (``_LEDGER_COLS``), ``result`` among them."""
        self.ledger.append((values, result, offset))

    def seq(self, offset: int | None) -> int | None:
        """The server_seq of the change row at ``offset`` (after :meth:`write`)."""
        if offset is None:
            return None
        assert self.base is not None, "numbered only once written"
        return self.base + offset

    def write(self, session: Session) -> None:
        """Number and insert everything: the last statements of the transaction."""
        session.flush()  # the ORM's pending rows first: nothing may lock after the clock
        before, self.before = self.before, []
        changes, self.changes = self.changes, []
        if before and not changes:
            run_before(session, before)
        if changes:
            self.base = base = allocate_seqs(session, len(changes), before)
            for i, values in enumerate(changes, base):
                values[0] = i
            insert_values(session, _CHANGES, changes)
        ledger, self.ledger = self.ledger, []
        first = self.base
        for values, result, offset in ledger:
            # self.seq(offset), without a call per op (issue 15, phase 10)
            if offset is None:
                result["server_seq"] = None
            else:
                assert first is not None, "numbered only once written"
                result["server_seq"] = first + offset
            values[_RESULT_AT] = result_text(result)
        if ledger:
            insert_values(session, _LEDGER, [values for values, _, _ in ledger], encoded=True)


def insert_rows(s: Session, table: Table, rows: Sequence[Mapping[str, object]]) -> None:
    """``executemany`` straight to the driver: SQLAlchemy's per-row bind processing was
    most of the bulk writes' cost. JSON columns are encoded as ``hub.rowvalues`` says;
    PostgreSQL gets the rows with ``COPY``. A column a row lacks is written NULL."""
    if not rows:
        return
    conn = s.connection()
    if conn.dialect.name == "sqlite":
        picked = sqlite_dict_rows(table, rows)
        if picked is not None:  # the columns and values insert_values would send, in one pass
            sqlite_insert(conn, table.name, *picked)
            return
    insert_values(s, table, row_values(table, rows))


def insert_values(s: Session, table: Table, params: list[list[object]], *, encoded: bool = False) -> None:
    """:func:`insert_rows` of rows already in the table's column order. On SQLite the lists
    go to the DB-API connection of the transaction (issue 15: ``exec_driver_sql`` wanted
    tuples); a refusal is raised as SQLAlchemy raises it (``IntegrityError``, ``DataError``,
    ``OperationalError`` with ``.orig``): the bulk executor's fallback and
    ``Database.run_write``'s retries see what they saw before. SQLite's statement leaves
    out the nullable columns None in every row (:func:`hub.rowvalues.sqlite_rows`: the
    same NULL stored, half the cost of a dose row); ``COPY`` keeps every column.
    ``encoded``: the JSON columns hold their text already."""
    conn = s.connection()
    cols, json_at = shape(table)
    for i in () if encoded else json_at:
        for values in params:
            values[i] = json_text(values[i])
    if conn.dialect.name == "postgresql":
        copy_rows(conn, table.name, cols, params)
        return
    sqlite_insert(conn, table.name, *sqlite_rows(table, params))


def _version(row: Base) -> int:
    return int(getattr(row, "version", 0) or 0)


@dataclass
class Effects:
    session: Session
    origin_op_id: str | None
    now: str
    numbering: Numbering
    touched: dict[tuple[str, str], None] = field(default_factory=dict)
    new_relations: list[tuple[str, str]] = field(default_factory=list)
    # Redirects removed by an unmerge: (from_id, old to_id, version).
    removed_redirects: list[tuple[str, str, int]] = field(default_factory=list)
    # Extra sites that must hear about a row whose person changed (re-pointing).
    extra_scopes: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    reviews_made: int = 0

    def touch(self, entity_type: str, entity_id: str, *, also: set[str] | None = None) -> None:
        self.touched[(entity_type, entity_id)] = None
        if also:
            self.extra_scopes.setdefault((entity_type, entity_id), set()).update(also)

    def relate(self, person_id: str, site_code: str) -> bool:
        """Make a person relevant to a site; a new relation sends that site the backlog."""
        if (person_id, site_code) in self.new_relations:
            return False
        exists = self.session.get(PersonSite, (person_id, site_code))
        if exists is not None:
            return False
        self.session.add(PersonSite(person_id=person_id, site_code=site_code))
        # The backlog sends the site the people merged into this one as well; they
        # become relevant to it too, or their later changes (an unmerge, say) would
        # never reach a station that holds them.
        for loser in self.session.execute(
            select(PersonRedirect.from_id).where(PersonRedirect.to_id == person_id)
        ).scalars():
            if self.session.get(PersonSite, (loser, site_code)) is None:
                self.session.add(PersonSite(person_id=loser, site_code=site_code))
        self.session.flush()
        self.new_relations.append((person_id, site_code))
        return True

    def review(
        self,
        kind: str,
        priority: str,
        entity_type: str,
        entity_id: str,
        site_codes: set[str] | list[str],
        candidates: dict[str, object],
    ) -> str:
        # The n-th review of an op has an id made from the op's id: a site hub applying the
        # op provisionally and the province applying it for good make the same review, so the
        # province's row replaces the site hub's at every desk instead of standing beside it.
        rid = natural_id("review", self.origin_op_id, str(self.reviews_made)) if self.origin_op_id else uuid7()
        self.reviews_made += 1
        sites = sorted(set(site_codes))
        self.session.add(
            ReviewItem(
                id=rid,
                kind=kind,
                priority=priority,
                status="open",
                entity_type=entity_type,
                entity_id=entity_id,
                site_codes=sites,
                candidates=candidates,
                created_at=self.now,
                resolution=None,
                origin_op_id=self.origin_op_id,
                version=0,
            )
        )
        for site in sites:
            self.session.add(ReviewSite(review_id=rid, site_code=site))
        self.session.flush()
        self.touch("review", rid)
        return rid

    # ---- flushing ------------------------------------------------------------------

    def _load(self, entity_type: str, entity_id: str) -> Base | None:
        if entity_type == "review":
            return self.session.get(ReviewItem, entity_id)
        return self.session.get(DOMAIN_MODELS[entity_type], entity_id)

    def _scopes(self, entity_type: str, row: Base) -> set[str]:
        if entity_type in SITE_SCOPED:
            assert isinstance(row, Registration | Screening | VaccineLot | AppUser)
            return {str(row.site_code)}
        if entity_type == "person":
            assert isinstance(row, Person)
            return set(person_sites(self.session, row.id))
        if entity_type in ("dose", "adverse_event"):
            assert isinstance(row, Dose | AdverseEvent)
            return set(person_sites(self.session, row.person_id))
        if entity_type == "person_redirect":
            assert isinstance(row, PersonRedirect)
            return set(person_sites(self.session, row.to_id)) | set(
                person_sites(self.session, row.from_id)
            )
        if entity_type == "review":
            assert isinstance(row, ReviewItem)
            return set(row.site_codes)
        raise AssertionError(entity_type)

    def _entry_data(self, entity_type: str, row: Base, scope: str) -> dict[str, object]:
        if entity_type == "review":
            assert isinstance(row, ReviewItem)
            return review_data(row)
        return scoped_data(entity_type, row_data(entity_type, row), scope)

    def _backlog(self, person_id: str) -> list[tuple[str, str, Base]]:
        """The rows a site newly relevant to the person gets: (entity type, id, row)."""
        s = self.session
        out: list[tuple[str, str, Base]] = []
        person = s.get(Person, person_id)
        if person is not None:
            out.append(("person", person.id, person))
        redirects = s.execute(
            select(PersonRedirect).where(PersonRedirect.to_id == person_id)
        ).scalars()
        for red in redirects:
            merged = s.get(Person, red.from_id)
            if merged is not None:
                out.append(("person", merged.id, merged))
            out.append(("person_redirect", red.from_id, red))
        for dose in s.execute(
            select(Dose).where(Dose.person_id == person_id).order_by(Dose.id)
        ).scalars():
            out.append(("dose", dose.id, dose))
        for ae in s.execute(
            select(AdverseEvent)
            .where(AdverseEvent.person_id == person_id)
            .order_by(AdverseEvent.id)
        ).scalars():
            out.append(("adverse_event", ae.id, ae))
        return out

    def flush(self) -> int | None:
        """Hand the change rows to the transaction's :class:`Numbering`.

        Returns the position of the op's first change row there (its server_seq
        once numbered), or None if nothing changed.
        """
        s = self.session
        s.flush()
        entries: list[ChangeRow] = []
        seen: set[tuple[str, str, str]] = set()
        rows: list[tuple[str, str, Base]] = []
        origin = self.origin_op_id

        def entry(scope: str, etype: str, eid: str, kind: str, version: int, data: dict[str, object]) -> None:
            entries.append(ChangeRow(scope, etype, eid, kind, version, data, origin))
            seen.add((scope, etype, eid))

        for etype, eid in self.touched:
            row = self._load(etype, eid)
            if row is None:
                continue
            setattr(row, "version", int(getattr(row, "version", 0) or 0) + 1)  # noqa: B010
            rows.append((etype, eid, row))
        s.flush()
        # A stable order by entity type keeps parents before children for every site.
        for etype in ENTITY_ORDER:
            kind = "redirect" if etype == "person_redirect" else "upsert"
            for rtype, eid, row in rows:
                if rtype != etype:
                    continue
                scopes = self._scopes(etype, row) | self.extra_scopes.get((etype, eid), set())
                for scope in sorted(scopes):
                    entry(scope, etype, eid, kind, _version(row), self._entry_data(etype, row, scope))
            if etype == "person_redirect":
                for from_id, to_id, version in self.removed_redirects:
                    scopes = set(person_sites(s, from_id)) | set(person_sites(s, to_id))
                    for scope in sorted(scopes):
                        # A redirect whose to_id is null is a removal (unmerge).
                        data: dict[str, object] = {"from_id": from_id, "to_id": None, "created_at": self.now}
                        entry(scope, etype, from_id, "redirect", version, data)
        for person_id, site in self.new_relations:
            for etype, eid, row in self._backlog(person_id):
                if (site, etype, eid) in seen:
                    continue
                kind = "redirect" if etype == "person_redirect" else "upsert"
                entry(site, etype, eid, kind, _version(row), self._entry_data(etype, row, site))
        return self.numbering.add(entries)


# ---- merges --------------------------------------------------------------------------

REPOINTED: tuple[type[Registration] | type[Screening] | type[Dose] | type[AdverseEvent], ...] = (
    Registration,
    Screening,
    Dose,
    AdverseEvent,
)
_ETYPE = {
    Registration: "registration",
    Screening: "screening",
    Dose: "dose",
    AdverseEvent: "adverse_event",
}


def has_registration(s: Session, person_id: str, site_code: str, day: str) -> bool:
    found = s.execute(
        select(Registration.id).where(
            Registration.person_id == person_id,
            Registration.site_code == site_code,
            Registration.day == day,
        )
    ).first()
    return found is not None


def merge_person(fx: Effects, from_id: str, to_id: str) -> None:
    """Merge ``from_id`` into ``to_id``: redirect, status 'merged', rows re-pointed, scopes joined."""
    s = fx.session
    loser = s.get(Person, from_id)
    assert loser is not None
    loser.status = "merged"
    loser.id_key = None  # the survivor (or nobody) holds the number from now on
    loser.updated_at = fx.now
    fx.touch("person", from_id)
    s.add(PersonRedirect(from_id=from_id, to_id=to_id, created_at=fx.now, version=0))
    s.flush()
    fx.touch("person_redirect", from_id)
    # Flatten chains so every redirect points at a survivor in one hop.
    for red in s.execute(select(PersonRedirect).where(PersonRedirect.to_id == from_id)).scalars():
        red.to_id = to_id
        fx.touch("person_redirect", red.from_id)
    for model in REPOINTED:
        # select() over the union of models types its rows as Base: each is one of them.
        for row in list(s.execute(select(model).where(model.person_id == from_id)).scalars()):
            assert isinstance(row, REPOINTED)
            if isinstance(row, Registration) and has_registration(s, to_id, row.site_code, row.day):
                # The survivor is already registered there that day (two laptops of one
                # site registered the same walk-in): this visit stays on the merged
                # person, as stations require one registration per person, site and day.
                continue
            row.person_id = to_id
            row.merged_from = row.merged_from or from_id
            fx.touch(_ETYPE[model], row.id)
    for site in person_sites(s, from_id):
        fx.relate(to_id, site)


def unmerge_person(fx: Effects, from_id: str) -> str | None:
    """Undo a merge: remove the redirect, reactivate, move the re-pointed rows back."""
    s = fx.session
    red = s.get(PersonRedirect, from_id)
    if red is None:
        return None
    to_id = red.to_id
    fx.removed_redirects.append((from_id, to_id, int(red.version) + 1))
    s.delete(red)
    person = s.get(Person, from_id)
    assert person is not None
    person.status = "active"
    if person.id_number:
        # Kept apart by a supervisor: the number's key stays with its holder, if any.
        holder = s.execute(select(Person.id).where(Person.id_key == person.id_number)).scalar()
        person.id_key = person.id_number if holder is None else None
    person.updated_at = fx.now
    fx.touch("person", from_id)
    survivor_sites = set(person_sites(s, to_id))
    for model in REPOINTED:
        moved = list(s.execute(select(model).where(model.merged_from == from_id)).scalars())
        for row in moved:
            assert isinstance(row, REPOINTED)
            row.person_id = from_id
            row.merged_from = None
            # Sites that saw the row under the survivor must see it move back.
            fx.touch(
                _ETYPE[model],
                row.id,
                also=survivor_sites if model in (Dose, AdverseEvent) else None,
            )
    for site in survivor_sites:
        fx.relate(from_id, site)
    s.flush()
    return to_id
