"""What every applier shares: the op's context, the ledger hash and the PostgreSQL locks."""

from __future__ import annotations

import functools
import hashlib
import json
import json.encoder
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic_core import PydanticSerializationError, to_json
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub import authz
from hub.db import Statement, pipelined
from hub.effects import Effects, resolve_person
from hub.errors import Rejected
from hub.models import (
    EnrolledStation,
    Person,
    PersonSite,
)
from kernel.clock import CLOCK_TOLERANCE_MS
from sync.protocol import AckStatus, Op

SKEW_TOLERANCE_MS = CLOCK_TOLERANCE_MS

Outcome = tuple[AckStatus, dict[str, object]]  # (ack status, detail)


def _canonical_encoder() -> Callable[[object], str]:
    """``json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))``,
    without building a ``JSONEncoder`` (and its C encoder) on every call (issue 15).

    The same C encoder ``json.dumps`` uses, made once, with the same settings: the same
    text for every value (floats through ``float.__repr__``, NaN allowed, keys sorted,
    ``TypeError`` for a value JSON has no form for). No circular-reference check (a
    payload parsed from JSON cannot hold a cycle; one would raise ``RecursionError``
    instead of ``ValueError``). Where the C encoder is missing, ``json.dumps`` itself.
    """
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return functools.partial(json.dumps, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    enc = make(None, json.JSONEncoder().default, json.encoder.encode_basestring, None, ":", ",", True, False, True)

    def dumps(obj: object) -> str:
        return "".join(enc(obj, 0))

    return dumps


_canonical = _canonical_encoder()
_string = json.encoder.encode_basestring  # a str as JSON, ensure_ascii=False (C)


# What pydantic-core's ``to_json`` writes exactly as the canonical encoder does (checked
# over every code point, ints past 2**64, ``true``/``false``/``null``): not floats (it
# writes ``1e-5`` where Python writes ``1e-05``), nor tuples, subclasses or other types.
_PLAIN = frozenset({str, int, bool, type(None)})
_STR_ONLY = frozenset({str})
# Key sequences found sorted (a station writes the same few again and again): one look-up
# instead of a sort. Bounded: past that many, a payload's keys are compared each time.
_SORTED_KEYS: set[tuple[str, ...]] = set()
_MAX_SORTED_KEYS = 1024


def _plain_sorted(d: dict[str, object]) -> bool:
    """Every dict in ``d`` (``d`` too) has ``str`` keys in sorted order and every value is
    a plain ``str``/``int``/``bool``/``None`` or such a dict or list: then ``to_json``
    writes the canonical text (``sort_keys`` would not move a key). ``TypeError`` for
    keys that are not all ``str``."""
    keys = tuple(d)
    if keys not in _SORTED_KEYS:
        if list(keys) != sorted(keys):
            return False
        "".join(keys)  # TypeError unless every key is a str
        if len(_SORTED_KEYS) < _MAX_SORTED_KEYS:
            _SORTED_KEYS.add(keys)
    return _plain_values(d.values())


def _plain_values(values: Iterable[object]) -> bool:
    if _PLAIN.issuperset(map(type, values)):
        return True
    for v in values:
        t = type(v)
        if t is dict:
            if not _plain_sorted(v):  # type: ignore[arg-type]
                return False
        elif t is list:
            if not _plain_values(v):  # type: ignore[arg-type]
                return False
        elif t not in _PLAIN:
            return False
    return True


def _canonical_bytes(op: Op) -> bytes:
    """The canonical text of ``op`` (see :func:`payload_hash`) as UTF-8.

    A station writes its payloads with sorted keys and no floats: then pydantic-core's
    ``to_json`` of the envelope (its keys written in sorted order) is that text, ~40%
    of the C encoder's time (issue 15). Anything else (a key out of order, a float, a
    value of another type, a lone surrogate) takes the encoder, as before.
    """
    bv, ver, uid = op.base_version, op.op_version, op.user_id
    payload = op.payload
    strs = (op.entity_id, op.entity_type, op.hlc, op.op_id, op.op_type, op.recorded_at)
    if (
        type(ver) is int
        and (bv is None or type(bv) is int)
        and (uid is None or type(uid) is str)
        and _STR_ONLY.issuperset(map(type, strs))
        and type(payload) is dict
    ):
        try:
            plain = _plain_sorted(payload)
        except (TypeError, RecursionError):  # keys that do not compare; a deep nest
            plain = False
        if plain:
            try:
                return to_json(
                    {
                        "base_version": bv,
                        "entity_id": strs[0],
                        "entity_type": strs[1],
                        "hlc": strs[2],
                        "op_id": strs[3],
                        "op_type": strs[4],
                        "op_version": ver,
                        "payload": payload,
                        "recorded_at": strs[5],
                        "user_id": uid,
                    }
                )
            except (PydanticSerializationError, RecursionError):  # a lone surrogate: below
                pass
    return _canonical_text(op).encode("utf-8")


def _canonical_text(op: Op) -> str:
    bv, ver, uid = op.base_version, op.op_version, op.user_id
    try:
        if type(ver) is not int or not (bv is None or type(bv) is int):
            raise TypeError("not plain ints")
        return (
            '{"base_version":' + ("null" if bv is None else int.__repr__(bv))
            + ',"entity_id":' + _string(op.entity_id)
            + ',"entity_type":' + _string(op.entity_type)
            + ',"hlc":' + _string(op.hlc)
            + ',"op_id":' + _string(op.op_id)
            + ',"op_type":' + _string(op.op_type)
            + ',"op_version":' + int.__repr__(ver)
            + ',"payload":' + _canonical(op.payload)
            + ',"recorded_at":' + _string(op.recorded_at)
            + ',"user_id":' + ("null" if uid is None else _string(uid))
            + "}"
        )
    except TypeError:
        return _canonical(
            {
                "op_id": op.op_id,
                "op_type": op.op_type,
                "op_version": ver,
                "entity_type": op.entity_type,
                "entity_id": op.entity_id,
                "base_version": bv,
                "payload": op.payload,
                "hlc": op.hlc,
                "recorded_at": op.recorded_at,
                "user_id": uid,
            }
        )


def payload_hash(op: Op) -> str:
    """What makes two sends of an op "the same": everything but its position in a push.

    SHA-256 of ``json.dumps(op.model_dump(mode="json", exclude={"op_seq"}),
    ensure_ascii=False, sort_keys=True, separators=(",", ":"))`` — the ledger compares
    it with the hash stored when an op id comes again, so it never changes
    (``tests/hub/test_payload_hash.py`` holds that definition as the reference).
    The text is written by pydantic-core where that gives the same bytes
    (:func:`_canonical_bytes`), else the envelope's fields in their sorted order by
    hand and only the payload through the encoder; anything but a plain
    ``int``/``str``/``None`` where the model has one takes the encoder for the whole body.
    """
    return hashlib.sha256(_canonical_bytes(op)).hexdigest()


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Ctx:
    """One op applied through the ORM: its session, station, effects and clock trust."""

    session: Session
    station: EnrolledStation
    op: Op
    fx: Effects
    skewed: bool
    # Hub-origin ops the hub itself makes (imports from the hub CLI): no station user.
    trusted: bool = False

    @property
    def site(self) -> str:
        return self.station.site_code

    def require_role(self, *actions: str) -> None:
        """The op's user is a user of this site whose role may do one of ``actions``
        (any role when none is named)."""
        if not self.trusted:
            who = authz.actor(self.session, self.site, self.op.user_id)
            authz.check(who, self.op.recorded_at, actions)

    def require_person(self, person_id: str, reason: str) -> Person:
        pid = resolve_person(self.session, person_id)
        if pid != person_id:
            lock_person(self.session, pid)  # a merge survivor: its rules run alone too
        person = self.session.get(Person, pid)
        if person is None:
            raise Rejected(reason)
        return person

    def require_in_scope(self, person_id: str) -> None:
        if self.session.get(PersonSite, (person_id, self.site)) is None:
            raise Rejected("auth.cross_site")

    def require_own_site(self, site_code: str) -> None:
        if site_code != self.site:
            raise Rejected("auth.cross_site")

    def require_entity(self, value: str) -> None:
        if value != self.op.entity_id:
            raise Rejected("op.entity_mismatch")


def id_key_holder(s: Session, number: str, other_than: str) -> str | None:
    """The active person holding ``number``'s key, other than ``other_than``."""
    return s.execute(
        select(Person.id).where(Person.id_key == number, Person.id != other_than)
    ).scalar()


# ---- PostgreSQL locks ----------------------------------------------------------------


def _str(v: object) -> str | None:
    return v if isinstance(v, str) and 0 < len(v) <= 64 else None


@dataclass
class _LockTargets:
    """The ids a push's ops may change, by table (found before any row is locked)."""

    persons: set[str]
    regs: set[str]
    doses: set[str]
    lots: set[str]
    users: set[str]
    reviews: set[str]


def _lock_targets(ops: list[Op]) -> _LockTargets:
    t = _LockTargets(set(), set(), set(), set(), set(), set())
    for op in ops:
        pl = op.payload
        kind = op.op_type
        if kind == "update_person":
            t.persons.add(op.entity_id)
        elif kind in ("record_dose", "record_screening"):
            t.persons.add(_str(pl.get("person_id")) or "")
        elif kind == "add_registration":
            reg = pl.get("registration")
            t.persons.add((_str(reg.get("person_id")) if isinstance(reg, dict) else None) or "")
        elif kind == "check_in":
            t.regs.add(op.entity_id)
        elif kind in ("void_dose", "end_observation"):
            t.doses.add(op.entity_id)
        elif kind == "record_adverse_event":
            t.doses.add(_str(pl.get("dose_id")) or "")
        elif kind == "upsert_lot":
            t.lots.add(op.entity_id)
        elif kind == "upsert_user":
            t.users.add(op.entity_id)
        elif kind == "resolve_review":
            t.reviews.add(_str(pl.get("review_id")) or "")
    return t


# The persons a push's ops may change, locked in one statement (issue 15, branch pgwaits):
# those the ops name ($1), those of the registrations ($2) and doses ($3) they name, and the
# survivors those were merged into; locked in one sorted pass. The ids are gathered by an
# uncorrelated sub-select (an InitPlan: run once, before any row is locked, as the three
# look-ups that went before it were), then ``id = ANY(...)``: the primary key's index
# look-ups, as before. Only ``person`` rows are locked (``OF person``).
_LOCK_PERSONS = (
    "SELECT id FROM person WHERE id = ANY(ARRAY("
    "WITH p AS (SELECT unnest(%b::text[]) AS id"
    " UNION SELECT person_id FROM registration WHERE id = ANY(%b)"
    " UNION SELECT person_id FROM dose WHERE id = ANY(%b))"
    " SELECT id FROM p UNION SELECT to_id FROM person_redirect WHERE from_id = ANY(ARRAY(SELECT id FROM p))"
    ")) ORDER BY id FOR UPDATE OF person"
)

Rows = list[tuple[Any, ...]]


def lock_rows(
    s: Session, ops: list[Op], *, before: Sequence[Statement] = (), after: Sequence[Statement] = ()
) -> tuple[list[Rows], list[Rows]]:
    """Lock, in one global order, the existing rows the push's ops may change (PostgreSQL).

    Persons first (sorted by id, merge survivors included), then lots, users and
    review items; the hub clock is taken last of all (:class:`Numbering`). Two
    pushes touching the same people therefore queue instead of deadlocking
    whatever their op order, and every read-then-write rule on a person (the
    possible-duplicate dose check, merges) runs alone: two stations recording a
    dose for the same person at the same moment are applied one after the other,
    and the second sees the first. Registrations and doses change only under
    their person's lock. SQLite needs none of this: a write transaction there
    holds the whole database (``BEGIN IMMEDIATE``).

    PostgreSQL: one statement per table (the persons' ids gathered in the same
    statement, :data:`_LOCK_PERSONS`), sent in one round trip with the caller's
    ``before`` statements (the replica row's lock) ahead of them and its ``after``
    look-ups (the ledger) behind them (:func:`hub.db.pipelined`: run in that order,
    in this transaction); returns those statements' rows. SQLite: nothing is run,
    ``([], [])``.
    """
    if s.get_bind().dialect.name != "postgresql":
        return [], []
    t = _lock_targets(ops)

    def arr(values: set[str]) -> list[str]:
        return sorted(values - {""})

    persons, regs, doses = arr(t.persons), arr(t.regs), arr(t.doses)
    locks: list[Statement] = []
    if persons or regs or doses:
        locks.append((_LOCK_PERSONS, (persons, regs, doses)))
    for table, wanted in (("vaccine_lot", t.lots), ("app_user", t.users), ("review_item", t.reviews)):
        # ORDER BY with FOR UPDATE: PostgreSQL locks the rows in that order (one statement
        # per table, all its rows in one sorted pass: the same global order as before).
        if arr(wanted):
            locks.append((f"SELECT id FROM {table} WHERE id = ANY(%b) ORDER BY id FOR UPDATE", (arr(wanted),)))
    got = pipelined(s.connection(), [*before, *locks, *after])
    held = set(persons)
    if persons or regs or doses:
        held.update(str(r[0]) for r in got[len(before)])
    s.info.setdefault("locked_persons", set()).update(held)
    return got[: len(before)], got[len(before) + len(locks) :]


def lock_person(s: Session, person_id: str) -> None:
    """Lock one person row (a merge survivor found during an op) unless already held."""
    held: set[str] = s.info.setdefault("locked_persons", set())
    if person_id in held or s.get_bind().dialect.name != "postgresql":
        return
    s.execute(select(Person.id).where(Person.id == person_id).with_for_update()).all()
    held.add(person_id)
