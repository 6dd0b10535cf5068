"""What unanswered local ops changed: the fields a pulled hub row must not overwrite yet.

Local state = last hub state + pending local ops (DESIGN §5). While an op is
unanswered by the province — pending, in flight, or held by a site hub
(``relay_accepted``: the province may still refuse or overrule it; see
:func:`compute_protection` for the site hub's own rows) — the fields it changed stay
as edited; the hub row that arrives
meanwhile is kept aside (``station.held_changes``) and settled when the op is
answered (``station.answers.settle``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, text

ALL = "*"  # protection marker: the whole row is local (its creating op is unanswered)


@dataclass(slots=True)
class Protection:
    """Fields kept local because unanswered ops changed them, with those ops' ids."""

    fields: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    ops: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    # Registration status changes as a side effect of screening/dose ops on the person.
    reg_status_persons: dict[str, set[str]] = field(default_factory=dict)

    def add(self, key: tuple[str, str], fields: Iterable[str], op_id: str) -> None:
        self.fields.setdefault(key, set()).update(fields)
        self.ops.setdefault(key, set()).add(op_id)

    def touches(self, etype: str, eid: str, person_id: str | None) -> bool:
        """Whether :meth:`for_row` may keep anything of this row (cheap: no sets built)."""
        if (etype, eid) in self.fields:
            return True
        return etype == "registration" and bool(person_id) and person_id in self.reg_status_persons

    def for_row(self, etype: str, eid: str, person_id: str | None) -> tuple[set[str], set[str]]:
        key = (etype, eid)
        fields = set(self.fields.get(key, ()))
        ops = set(self.ops.get(key, ()))
        if etype == "registration" and person_id and person_id in self.reg_status_persons:
            fields |= {"status", "updated_at"}
            ops |= self.reg_status_persons[person_id]
        return fields, ops


def compute_protection(conn: Connection, *, route: str = "province") -> Protection:
    """Scan unanswered ops (bounded by the outbox size, typically small).

    ``route``: where the rows to protect against come from. The province's rows do not
    include an op the site hub holds (``relay_accepted``), so such an op protects them;
    the site hub's rows already include it (it applied the op before answering), so on
    that route only ops no hub holds yet protect.
    """
    prot = Protection()
    states = "'pending', 'inflight'" + (", 'relay_accepted'" if route == "province" else "")
    rows = conn.execute(
        text(
            "SELECT op_id, op_type, entity_type, entity_id, base_version, payload FROM sync_outbox "
            f"WHERE state IN ({states}) ORDER BY op_seq"
        )
    ).mappings()
    dose_ops: list[tuple[str, str]] = []
    for r in rows:
        op_id, op_type, eid = r["op_id"], r["op_type"], r["entity_id"]
        key = (r["entity_type"], eid)
        try:
            payload = json.loads(r["payload"])
        except ValueError:  # pragma: no cover - services always write JSON
            payload = {}
        if op_type == "register_person":
            prot.add(("person", eid), {ALL}, op_id)
            reg = payload.get("registration") or {}
            if reg.get("id"):
                prot.add(("registration", str(reg["id"])), {ALL}, op_id)
        elif op_type == "update_person":
            flds = set((payload.get("fields") or {}).keys())
            if "full_name" in flds:
                flds.add("name_fold")
            if "birth" in flds:
                flds.add("birth_year")
            prot.add(key, flds | {"updated_at"}, op_id)
        elif op_type == "check_in":
            prot.add(key, {"status", "queue_label", "checked_in_at", "updated_at"}, op_id)
        elif op_type in ("add_registration", "record_adverse_event"):
            prot.add(key, {ALL}, op_id)
        elif op_type in ("record_screening", "record_dose"):
            prot.add(key, {ALL}, op_id)
            if payload.get("person_id"):
                prot.reg_status_persons.setdefault(str(payload["person_id"]), set()).add(op_id)
        elif op_type == "void_dose":
            prot.add(key, {"voided", "void_reason", "voided_by", "voided_at"}, op_id)
        elif op_type == "end_observation":
            prot.add(key, {"observed_at"}, op_id)
            dose_ops.append((eid, op_id))
        elif op_type in ("upsert_lot", "upsert_user"):
            # The payload carries the whole row as edited.
            prot.add(key, {ALL} if r["base_version"] is None else set(payload) - {"id"}, op_id)
        elif op_type == "resolve_review":
            prot.add(("review", eid), {"status", "resolution"}, op_id)
    for dose_id, op_id in dose_ops:
        pid = conn.execute(text("SELECT person_id FROM dose WHERE id = :i"), {"i": dose_id}).scalar()
        if pid:
            prot.reg_status_persons.setdefault(str(pid), set()).add(op_id)
    return prot


__all__ = ["ALL", "Protection", "compute_protection"]
