"""The fast path of a push: runs of new walk-ins, screenings and doses applied in bulk.

A campaign day's outbox is almost all ``register_person``, ``record_screening``
and ``record_dose`` ops for new rows with nothing to reconcile. Applied one by
one through the ORM (hub/ingest.py) each costs a dozen statements; here a run
of them costs a handful of ``IN (...)`` look-ups, then one multi-row INSERT
per table; the run's change rows and ledger rows go to the transaction's
:class:`hub.effects.Numbering`, which numbers and writes them with the rest of
the push at its end.

The op-by-op appliers stay the reference. An op takes the fast path only when
its outcome is certain from what was looked up and involves none of the
reconciling rules: no redirect to follow, no merge, no possible duplicate, no
new person-site relation with a backlog, nothing to refuse. Anything else goes
to the appliers (the caller writes the buffered rows first, and reloads the
look-ups after). The change rows, versions, answers and ledger rows the fast
path writes are exactly those the appliers would write: the equivalence test
(tests/hub/test_fastpath.py) runs the same pushes both ways and compares the
databases.

The rows an op created exactly as sent (version 1, at the op's own site) are
marked ``echo_for`` that replica, and the answer says ``no_echo``: the station
already holds them, so its pull skips them (half the pull-back of a campaign
day) and it numbers them version 1 itself when the answer arrives.

If the database still refuses a buffered write (a value it finds too long, a
concurrent insert of the same key), :class:`FastPathRefused` is raised; the
caller rolls the transaction back and runs the whole push op by op.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Table, bindparam, or_, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from hub import authz, counters
from hub.effects import ChangeRow, Numbering, insert_rows, scoped_data, station_columns
from hub.errors import Rejected
from hub.models import (
    Dose,
    Person,
    PersonRedirect,
    PersonSite,
    Registration,
    Screening,
    VaccineLot,
)
from hub.payloads import DoseP, RegisterPersonP, ScreeningP, parse, series
from kernel.chunks import in_chunks
from kernel.rules.vietnam import fold
from sync.protocol import Op

FAST_TYPES = frozenset({"register_person", "record_screening", "record_dose"})
# Shorter runs are not worth the look-ups: the appliers take them.
MIN_RUN = 2

_PERSON: Table = Person.__table__  # type: ignore[assignment]
_REG: Table = Registration.__table__  # type: ignore[assignment]
_SCR: Table = Screening.__table__  # type: ignore[assignment]
_DOSE: Table = Dose.__table__  # type: ignore[assignment]
_SITE: Table = PersonSite.__table__  # type: ignore[assignment]
_REDIRECT: Table = PersonRedirect.__table__  # type: ignore[assignment]
_LOT: Table = VaccineLot.__table__  # type: ignore[assignment]

# Station columns of each table, in table order (hub-only columns never leave).
_COLS = {
    name: station_columns(name, t)
    for name, t in (("person", _PERSON), ("registration", _REG), ("screening", _SCR), ("dose", _DOSE))
}


def echo_key(station_id: str, epoch: str) -> str:
    """The replica a change row merely echoes (``change_log.echo_for``)."""
    return f"{station_id}:{epoch}"


class FastPathRefused(Exception):
    """The database refused a buffered write: run the push op by op instead."""


def fast_runs(ops: Sequence[Op]) -> list[bool]:
    """For each op: does it sit in a run of fast-path op types long enough to batch?"""
    out = [False] * len(ops)
    i = 0
    while i < len(ops):
        j = i
        while j < len(ops) and ops[j].op_type in FAST_TYPES:
            j += 1
        if j - i >= MIN_RUN:
            out[i:j] = [True] * (j - i)
        i = max(j, i + 1)
    return out


@dataclass
class _Entry:
    scope: str
    entity_type: str
    entity_id: str
    row_version: int
    data: dict[str, Any]


@dataclass
class _Pending:
    """An op applied by the fast path, answered once its change rows are numbered."""

    index: int
    op: Op
    digest: str
    entries: list[_Entry]


@dataclass
class Ledgered:
    """A ledger row as the push loop needs it (looked up, or written by this push)."""

    op_id: str
    station_id: str
    payload_sha256: str
    status: str
    result: dict[str, Any]


@dataclass
class FastRun:
    """What the fast path knows about the rows a run of ops touches, and what it buffered."""

    session: Session
    site: str
    station_id: str
    epoch: str
    now: str
    numbering: Numbering
    # Mark rows that only echo the pushing replica's own ops (off for hub-origin ops).
    echo: bool = True
    # Ops the hub makes itself (imports at its command line): no station user to check.
    trusted: bool = False
    persons: set[str] = field(default_factory=set)
    redirected: set[str] = field(default_factory=set)  # persons with a redirect out
    merged_into: set[str] = field(default_factory=set)  # persons with redirects in
    sites: dict[str, set[str]] = field(default_factory=dict)
    regs: dict[str, dict[str, Any]] = field(default_factory=dict)
    regs_of: dict[str, list[str]] = field(default_factory=dict)
    screenings: set[str] = field(default_factory=set)
    doses: dict[str, tuple[str, str, int, str, int]] = field(default_factory=dict)
    doses_of: dict[str, list[str]] = field(default_factory=dict)
    id_numbers: set[str] = field(default_factory=set)  # held by active persons (id_key)
    twins: set[tuple[str, str, str]] = field(default_factory=set)  # (name_fold, birth, phone)
    lots: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (site, vaccine)
    # Buffers.
    new_persons: list[dict[str, Any]] = field(default_factory=list)
    new_regs: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed_regs: dict[str, dict[str, Any]] = field(default_factory=dict)
    new_screenings: list[dict[str, Any]] = field(default_factory=list)
    new_doses: list[dict[str, Any]] = field(default_factory=list)
    new_sites: list[dict[str, str]] = field(default_factory=list)
    pending: list[_Pending] = field(default_factory=list)
    pending_ids: set[str] = field(default_factory=set)

    # ---- look-ups --------------------------------------------------------------------

    def load(self, ops: Sequence[Op]) -> None:
        """One ``IN (...)`` query per table for everything these ops can touch."""
        s = self.session
        pids: set[str] = set()
        rids: set[str] = set()
        sids: set[str] = set()
        dids: set[str] = set()
        numbers: set[str] = set()
        phones: set[str] = set()
        lots: set[str] = set()
        users: set[str] = {op.user_id for op in ops if op.user_id is not None}
        for op in ops:
            pl = op.payload
            if op.op_type == "register_person":
                pids.add(op.entity_id)
                person = _dict(pl.get("person"))
                reg = _dict(pl.get("registration"))
                if isinstance(reg.get("id"), str):
                    rids.add(reg["id"])
                if isinstance(person.get("id_number"), str) and person["id_number"]:
                    numbers.add(person["id_number"])
                elif isinstance(person.get("phone"), str) and person["phone"]:
                    phones.add(person["phone"])
            else:
                if isinstance(pl.get("person_id"), str):
                    pids.add(pl["person_id"])
                if op.op_type == "record_screening":
                    sids.add(op.entity_id)
                    if isinstance(pl.get("registration_id"), str):
                        rids.add(pl["registration_id"])
                else:
                    dids.add(op.entity_id)
                    if isinstance(pl.get("lot_id"), str):
                        lots.add(pl["lot_id"])
        for chunk in in_chunks(sorted(pids)):
            self.persons.update(s.execute(select(_PERSON.c.id).where(_PERSON.c.id.in_(chunk))).scalars())
            for frm, to in s.execute(
                select(_REDIRECT.c.from_id, _REDIRECT.c.to_id).where(
                    or_(_REDIRECT.c.from_id.in_(chunk), _REDIRECT.c.to_id.in_(chunk))
                )
            ):
                self.redirected.add(frm)
                self.merged_into.add(to)
            for pid, site in s.execute(
                select(_SITE.c.person_id, _SITE.c.site_code).where(_SITE.c.person_id.in_(chunk))
            ):
                self.sites.setdefault(pid, set()).add(site)
            for m in s.execute(select(_REG).where(_REG.c.person_id.in_(chunk))).mappings():
                self._keep_reg(dict(m))
            self._load_doses(_DOSE.c.person_id.in_(chunk))
        for chunk in in_chunks(sorted(rids)):
            for m in s.execute(select(_REG).where(_REG.c.id.in_(chunk))).mappings():
                self._keep_reg(dict(m))
        for chunk in in_chunks(sorted(sids)):
            self.screenings.update(s.execute(select(_SCR.c.id).where(_SCR.c.id.in_(chunk))).scalars())
        for chunk in in_chunks(sorted(dids)):
            self._load_doses(_DOSE.c.id.in_(chunk))
        for chunk in in_chunks(sorted(numbers)):
            self.id_numbers.update(
                s.execute(
                    select(_PERSON.c.id_key).where(_PERSON.c.id_key.in_(chunk))
                ).scalars()
            )
        for chunk in in_chunks(sorted(lots)):
            for lid, site, vaccine in s.execute(
                select(_LOT.c.id, _LOT.c.site_code, _LOT.c.vaccine_code).where(_LOT.c.id.in_(chunk))
            ):
                self.lots[lid] = (site, vaccine)
        authz.load_actors(s, self.site, users)
        for chunk in in_chunks(sorted(phones)):
            for nf, birth, phone in s.execute(
                select(_PERSON.c.name_fold, _PERSON.c.birth, _PERSON.c.phone).where(
                    _PERSON.c.phone.in_(chunk), _PERSON.c.status == "active"
                )
            ):
                self.twins.add((nf, birth, phone))

    def _load_doses(self, where: ColumnElement[bool]) -> None:
        cols = (_DOSE.c.id, _DOSE.c.person_id, _DOSE.c.vaccine_code, _DOSE.c.dose_number, _DOSE.c.day, _DOSE.c.voided)
        for did, pid, vaccine, number, day, voided in self.session.execute(select(*cols).where(where)):
            self._keep_dose(did, pid, vaccine, number, day, voided)

    def _keep_reg(self, row: dict[str, Any]) -> None:
        if row["id"] in self.regs:
            return
        self.regs[row["id"]] = row
        self.regs_of.setdefault(row["person_id"], []).append(row["id"])

    def _keep_dose(self, did: str, pid: str, vaccine: str, number: int, day: str, voided: int) -> None:
        if did in self.doses:
            return
        self.doses[did] = (pid, vaccine, int(number), day, int(voided))
        self.doses_of.setdefault(pid, []).append(did)

    # ---- the ops ---------------------------------------------------------------------

    def try_apply(self, index: int, op: Op, digest: str) -> bool:
        """Apply ``op`` into the buffers if its outcome is certain; False leaves nothing changed."""
        try:
            if op.op_type == "register_person":
                entries = self._register_person(op)
            elif op.op_type == "record_screening":
                entries = self._record_screening(op)
            elif op.op_type == "record_dose":
                entries = self._record_dose(op)
            else:
                return False
        except Rejected:
            return False  # the appliers refuse it, with their exact reason
        if entries is None:
            return False
        self.pending.append(_Pending(index, op, digest, entries))
        self.pending_ids.add(op.op_id)
        return True

    def _allowed(self, op: Op, *actions: str) -> bool:
        """The op's user may do this at the site (the hub's own imports need no user)."""
        if self.trusted:
            return True
        return authz.allows(authz.actor(self.session, self.site, op.user_id), op.recorded_at, actions)

    def _known_person(self, pid: str) -> bool:
        """A person the ops may refer to directly: exists, no redirect, already at this site."""
        return (
            pid in self.persons
            and pid not in self.redirected
            and self.site in self.sites.get(pid, ())
        )

    def _register_person(self, op: Op) -> list[_Entry] | None:
        p = parse(RegisterPersonP, op.payload)
        pid, v, at = op.entity_id, p.person, op.recorded_at
        if (
            not self._allowed(op, "register", "add_expected")
            or len(pid) > 36
            or pid in self.persons
            or pid in self.redirected
            or pid in self.merged_into
            or self.doses_of.get(pid)
            or self.regs_of.get(pid)
        ):
            return None
        reg = p.registration
        if reg is not None and reg.id in self.regs:
            return None
        number = v.id_number or None
        folded = fold(v.full_name)
        if number is not None:
            if number in self.id_numbers:
                return None  # same ID number: a merge (the appliers)
        elif v.phone and (folded, v.birth, v.phone) in self.twins:
            return None  # a possible duplicate: a review (the appliers)
        person = {
            "id": pid,
            "full_name": v.full_name,
            "name_fold": folded,
            "birth": v.birth,
            "birth_year": int(v.birth[:4]),
            "sex": v.sex,
            "id_type": v.id_type or "none",
            "id_number": number,
            "id_key": number,
            "old_id_number": v.old_id_number,
            "phone": v.phone,
            "province_code": v.province_code,
            "ward_code": v.ward_code,
            "address_line": v.address_line,
            "priority_group": v.priority_group,
            "occupation": v.occupation,
            "bhyt": v.bhyt,
            "status": "active",
            "consent_at": at if v.consent else None,
            "origin_site": self.site,
            "version": 1,
            "created_at": at,
            "updated_at": at,
        }
        # Certain now: buffer it.
        self.persons.add(pid)
        self.new_persons.append(person)
        if number is not None:
            self.id_numbers.add(number)
        if v.phone:
            self.twins.add((folded, v.birth, v.phone))
        scopes = self.sites.setdefault(pid, set())
        if self.site not in scopes:
            scopes.add(self.site)
            self.new_sites.append({"person_id": pid, "site_code": self.site})
        entries = [_Entry(sc, "person", pid, 1, _data("person", person)) for sc in sorted(scopes)]
        if reg is not None:
            row = {
                "id": reg.id,
                "person_id": pid,
                "site_code": self.site,
                "day": reg.day,
                "source": reg.source,
                "status": reg.status,
                "queue_label": reg.queue_label,
                "checked_in_at": at if reg.status == "checked_in" else None,
                "import_ref": reg.import_ref,
                "version": 1,
                "created_at": at,
                "updated_at": at,
                "merged_from": None,
            }
            self._keep_reg(row)
            self.new_regs[reg.id] = row
            entries.append(_Entry(self.site, "registration", reg.id, 1, _data("registration", row)))
        return entries

    def _record_screening(self, op: Op) -> list[_Entry] | None:
        p = parse(ScreeningP, op.payload)
        if (
            not self._allowed(op, "record_screening")
            or p.screener_id != (op.user_id or "")
            or p.id != op.entity_id
            or p.site_code != self.site
            or p.id in self.screenings
            or not self._known_person(p.person_id)
        ):
            return None
        entries: list[_Entry] = []
        if p.registration_id and p.registration_status:
            reg = self.regs.get(p.registration_id)
            if (
                reg is not None
                and reg["site_code"] == self.site
                and reg["status"] not in ("vaccinated", "observed")
            ):
                entries.append(self._move_registration(reg, p.registration_status, p.screened_at))
        row = p.model_dump(exclude={"registration_status", "person_id"}) | {
            "person_id": p.person_id,
            "version": 1,
            "merged_from": None,
        }
        self.screenings.add(p.id)
        self.new_screenings.append(row)
        entries.append(_Entry(self.site, "screening", p.id, 1, _data("screening", row)))
        return entries

    def _record_dose(self, op: Op) -> list[_Entry] | None:
        p = parse(DoseP, op.payload)
        pid = p.person_id
        lot = self.lots.get(p.lot_id) if p.lot_id is not None else None
        if (
            not self._allowed(op, "record_past_dose" if p.source == "history" else "record_dose")
            or p.vaccinator_id not in (op.user_id, None)
            or p.override_by is not None  # rare: the appliers check the supervisor
            or (p.lot_id is not None and lot != (self.site, p.vaccine_code))
            or p.id != op.entity_id
            or p.site_code != self.site
            or p.id in self.doses
            or not self._known_person(pid)
        ):
            return None
        want = series(p.vaccine_code)
        for did in self.doses_of.get(pid, ()):
            _, vaccine, number, day, voided = self.doses[did]
            if not voided and ((number == p.dose_number and series(vaccine) == want) or day == p.day):
                return None  # a possible duplicate dose: a review (the appliers)
        regs = [
            self.regs[r]
            for r in self.regs_of.get(pid, ())
            if self.regs[r]["site_code"] == self.site and self.regs[r]["day"] == p.day
        ]
        if len(regs) > 1:
            return None  # the appliers' order of several registrations decides
        entries: list[_Entry] = []
        for reg in regs:
            if reg["status"] != "vaccinated":
                entries.append(self._move_registration(reg, "vaccinated", p.recorded_at))
        row = p.model_dump(exclude={"person_id"}) | {
            "person_id": pid,
            "observed_at": None,
            "voided": 0,
            "void_reason": None,
            "voided_by": None,
            "voided_at": None,
            "version": 1,
            "merged_from": None,
            "origin_station": self.station_id,
        }
        self._keep_dose(p.id, pid, p.vaccine_code, p.dose_number, p.day, 0)
        self.new_doses.append(row)
        data = _data("dose", row)
        for scope in sorted(self.sites.get(pid, ())):
            entries.append(_Entry(scope, "dose", p.id, 1, scoped_data("dose", data, scope)))
        return entries

    def _move_registration(self, reg: dict[str, Any], status: str, at: str) -> _Entry:
        """A registration's status changed by a screening or a dose: a new version."""
        reg["status"] = status
        reg["updated_at"] = at
        reg["version"] = int(reg["version"] or 0) + 1
        if reg["id"] not in self.new_regs:
            self.changed_regs[reg["id"]] = reg
        return _Entry(self.site, "registration", reg["id"], reg["version"], _data("registration", reg))

    # ---- writing ---------------------------------------------------------------------

    def flush(self) -> list[tuple[int, int | None, Ledgered]]:
        """Write the buffered rows; returns (op index, first change row, ledger row) per
        fast-path op: the answer is the ledger row's (``applied``), its ``server_seq`` the
        Numbering's once written."""
        if not self.pending:
            return []
        s = self.session
        s.flush()  # the ORM's own pending writes (the replica row) go first
        try:
            insert_rows(s, _PERSON, self.new_persons)
            insert_rows(s, _SITE, self.new_sites)
            insert_rows(s, _REG, list(self.new_regs.values()))
            if self.changed_regs:
                s.execute(
                    update(_REG)
                    .where(_REG.c.id == bindparam("b_id"))
                    .values(
                        status=bindparam("b_status"),
                        updated_at=bindparam("b_updated_at"),
                        version=bindparam("b_version"),
                    ),
                    [
                        {
                            "b_id": r["id"],
                            "b_status": r["status"],
                            "b_updated_at": r["updated_at"],
                            "b_version": r["version"],
                        }
                        for r in self.changed_regs.values()
                    ],
                )
            insert_rows(s, _SCR, self.new_screenings)
            insert_rows(s, _DOSE, self.new_doses)
            for d in self.new_doses:
                counters.note_new_dose(
                    s,
                    dose_id=d["id"],
                    site=self.site,
                    origin=self.station_id,
                    day=d["day"],
                    source=d["source"],
                    recorded_at=d["recorded_at"],
                )
        except (IntegrityError, DataError) as exc:
            raise FastPathRefused(type(exc).__name__) from None
        out: list[tuple[int, int | None, Ledgered]] = []
        echo = echo_key(self.station_id, self.epoch)
        for p in self.pending:
            offset = self.numbering.add(
                [
                    ChangeRow(
                        e.scope,
                        e.entity_type,
                        e.entity_id,
                        "upsert",
                        e.row_version,
                        e.data,
                        p.op.op_id,
                        # Version 1 at the op's own site: the row as the station wrote it.
                        echo if self.echo and e.row_version == 1 and e.scope == self.site else None,
                    )
                    for e in p.entries
                ]
            )
            detail: dict[str, Any] = {"entity_changed": True} | ({"no_echo": True} if self.echo else {})
            result = {"server_seq": None, "reason": None, "detail": detail}
            self.numbering.add_ledger(
                {
                    "op_id": p.op.op_id,
                    "station_id": self.station_id,
                    "replica_epoch": self.epoch,
                    "op_seq": p.op.op_seq,
                    "op_type": p.op.op_type,
                    "payload_sha256": p.digest,
                    "status": "applied",
                    "result": result,
                    "received_at": self.now,
                },
                offset,
            )
            out.append((p.index, offset, Ledgered(p.op.op_id, self.station_id, p.digest, "applied", result)))
        # Rows the appliers may read next were written behind the ORM's back.
        s.expire_all()
        self._clear_buffers()
        return out

    def _clear_buffers(self) -> None:
        self.new_persons.clear()
        self.new_regs.clear()
        self.changed_regs.clear()
        self.new_screenings.clear()
        self.new_doses.clear()
        self.new_sites.clear()
        self.pending.clear()
        self.pending_ids.clear()


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _data(entity_type: str, row: dict[str, Any]) -> dict[str, Any]:
    """The change row's ``data``: the station columns, as ``effects.row_data`` gives them."""
    return {c: row.get(c) for c in _COLS[entity_type]}
