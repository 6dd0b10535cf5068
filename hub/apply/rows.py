"""The row-building description of the ops that create rows: one definition per row.

What a ``register_person``, ``record_screening`` or ``record_dose`` op writes
(the person, registration, screening and dose rows, column by column) is
defined here once. The bulk executor (:mod:`hub.apply.bulk`) inserts these
dicts as they are, numbered version 1; the special-case appliers
(:mod:`hub.apply.people`, :mod:`hub.apply.clinical`: merges, redirects,
possible duplicates, refusals) build their ORM rows from the same dicts at
version 0, which :class:`hub.effects.Effects` bumps to 1 when it writes the
change rows. A column added to a table is added here, and both paths write it.

:func:`planned_change` is a change-log row the bulk executor will hand to the
transaction's :class:`hub.effects.Numbering`, with the one rule deciding which of
them merely echo what the pushing replica already holds.
"""

from __future__ import annotations

from collections.abc import Mapping

from hub.effects import station_columns
from hub.models import (
    Dose,
    Person,
    PersonRedirect,
    PersonSite,
    Registration,
    Screening,
    VaccineLot,
    table_of,
)
from hub.payloads import DoseP, PersonP, RegP, ScreeningP
from hub.rowtypes import DoseRow, PersonRow, RegistrationRow, ScreeningRow
from kernel.rules.vietnam import fold

PERSON = table_of(Person)
REGISTRATION = table_of(Registration)
SCREENING = table_of(Screening)
DOSE = table_of(Dose)
PERSON_SITE = table_of(PersonSite)
REDIRECT = table_of(PersonRedirect)
LOT = table_of(VaccineLot)

# Station columns of each table, in table order (hub-only columns never leave).
_COLS = {
    name: station_columns(name, t)
    for name, t in (("person", PERSON), ("registration", REGISTRATION), ("screening", SCREENING), ("dose", DOSE))
}


def person_row(pid: str, v: PersonP, site: str, at: str, *, version: int) -> PersonRow:
    """A new person, as ``register_person`` creates it at ``site``."""
    number = v.id_number or None
    return {
        "id": pid,
        "full_name": v.full_name,
        "name_fold": fold(v.full_name),
        "birth": v.birth,
        "birth_year": int(v.birth[:4]),
        "sex": v.sex,
        "id_type": v.id_type or "none",
        "id_number": number,
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
        "origin_site": site,
        # The number's key: the caller clears it when an earlier person holds the number.
        "id_key": number,
        "version": version,
        "created_at": at,
        "updated_at": at,
    }


def registration_row(
    reg: RegP, person_id: str, site: str, at: str, *, version: int, merged_from: str | None = None
) -> RegistrationRow:
    """A new registration (with a walk-in, or added for a known person)."""
    return {
        "id": reg.id,
        "person_id": person_id,
        "site_code": site,
        "day": reg.day,
        "source": reg.source,
        "status": reg.status,
        "queue_label": reg.queue_label,
        "checked_in_at": at if reg.status == "checked_in" else None,
        "import_ref": reg.import_ref,
        "version": version,
        "created_at": at,
        "updated_at": at,
        "merged_from": merged_from,
    }


def screening_row(
    p: ScreeningP, person_id: str, *, version: int, merged_from: str | None = None
) -> ScreeningRow:
    """A new screening; ``person_id`` is the survivor when the sent person was merged."""
    return {
        "id": p.id,
        "person_id": person_id,
        "registration_id": p.registration_id,
        "site_code": p.site_code,
        "day": p.day,
        "form_id": p.form_id,
        "answers": p.answers,
        "vitals": p.vitals,
        "suggested_outcome": p.suggested_outcome,
        "outcome": p.outcome,
        "override_reason": p.override_reason,
        "screener_id": p.screener_id,
        "screened_at": p.screened_at,
        "version": version,
        "merged_from": merged_from,
    }


def dose_row(
    p: DoseP, person_id: str, station_id: str, *, version: int, merged_from: str | None = None
) -> DoseRow:
    """A new dose, recorded by ``station_id`` (the given-vs-received counters' origin)."""
    return {
        "id": p.id,
        "person_id": person_id,
        "site_code": p.site_code,
        "vaccine_code": p.vaccine_code,
        "lot_id": p.lot_id,
        "lot_number": p.lot_number,
        "dose_number": p.dose_number,
        "kind": p.kind,
        "administered_at": p.administered_at,
        "day": p.day,
        "recorded_at": p.recorded_at,
        "vaccinator_id": p.vaccinator_id,
        "screening_id": p.screening_id,
        "injection_site": p.injection_site,
        "source": p.source,
        "observe_until": p.observe_until,
        "observed_at": None,
        "voided": 0,
        "void_reason": None,
        "voided_by": None,
        "voided_at": None,
        "version": version,
        "merged_from": merged_from,
        "volume_ml": p.volume_ml,
        "override_by": p.override_by,
        "override_reason": p.override_reason,
        "origin_station": station_id,
    }


# Each table's columns in order, and those among them a station lacks: a row built by the
# functions above has its keys in that order (the tests hold them to it).
_ROW_KEYS = {
    name: (tuple(c.key for c in t.columns), tuple(c.key for c in t.columns if c.key not in _COLS[name]))
    for name, t in (("person", PERSON), ("registration", REGISTRATION), ("screening", SCREENING), ("dose", DOSE))
}


def change_data(entity_type: str, row: Mapping[str, object]) -> dict[str, object]:
    """A change row's ``data``: the station columns, as ``effects.row_data`` gives them.

    A row whose keys are its table's columns in order (every row built here) is copied
    whole and its hub-only keys dropped, at C speed (issue 15, phase 9: ~0.2 against
    ~0.9-1.7 µs a row for the comprehension, and a push writes ~1.4 change rows an op);
    the same keys in the same order with the same values. Any other row, key by key.
    """
    keys, hub_only = _ROW_KEYS[entity_type]
    if type(row) is dict and tuple(row) == keys:
        data: dict[str, object] = row.copy()
        for k in hub_only:
            del data[k]
        return data
    return {c: row.get(c) for c in _COLS[entity_type]}


def planned_change(
    scope: str, entity_type: str, entity_id: str, row_version: int, data: dict[str, object],
    op_id: str, site: str, replica: str | None,
) -> list[object]:
    """A change-log row a planned op will write, as ``change_log``'s values in its column
    order (what :meth:`hub.effects.Numbering.add_values` takes; its ``server_seq`` None
    until numbered), marked ``echo_for`` the replica that already holds it.

    A row at version 1 in the op's own site is the row as the station wrote it: that
    replica skips it on pull (and numbers it version 1 itself when the answer says
    ``no_echo``). ``replica`` None: no echo marks (the hub's own imports).
    """
    echo = replica if replica is not None and row_version == 1 and scope == site else None
    return [None, scope, entity_type, entity_id, "upsert", row_version, data, op_id, echo]


def replica_key(station_id: str, epoch: str) -> str:
    """The replica a change row merely echoes (``change_log.echo_for``)."""
    return f"{station_id}:{epoch}"
