"""The shapes of the rows the hub writes as plain dicts, and of the JSON it stores.

The bulk executor (:mod:`hub.apply.bulk`) and the :class:`hub.effects.Numbering`
write rows as dicts straight to the driver (``hub.effects.insert_rows``); the
ORM appliers build their models from the same dicts. Each row shape is one
``TypedDict`` here, column for column as in :mod:`hub.models`, so a column
added to a table and forgotten in its row builder is a type error, not a NULL.

Values a station sent are typed as the payload models parsed them; a JSON
value the hub stores and reads back is ``object`` and narrowed where it is read.
"""

from __future__ import annotations

from typing import TypedDict


class PersonRow(TypedDict):
    """A ``person`` row (:func:`hub.apply.rows.person_row`)."""

    id: str
    full_name: str
    name_fold: str
    birth: str
    birth_year: int
    sex: str | None
    id_type: str
    id_number: str | None
    id_key: str | None
    old_id_number: str | None
    phone: str | None
    province_code: str | None
    ward_code: str | None
    address_line: str | None
    priority_group: int | None
    occupation: str | None
    bhyt: str | None
    status: str
    consent_at: str | None
    origin_site: str
    version: int
    created_at: str
    updated_at: str


class RegistrationRow(TypedDict):
    """A ``registration`` row (:func:`hub.apply.rows.registration_row`, or read back whole)."""

    id: str
    person_id: str
    site_code: str
    day: str
    source: str
    status: str
    queue_label: str | None
    checked_in_at: str | None
    import_ref: str | None
    version: int
    created_at: str
    updated_at: str
    merged_from: str | None


class ScreeningRow(TypedDict):
    """A ``screening`` row (:func:`hub.apply.rows.screening_row`)."""

    id: str
    person_id: str
    registration_id: str | None
    site_code: str
    day: str
    form_id: str
    answers: str
    vitals: str
    suggested_outcome: str
    outcome: str
    override_reason: str | None
    screener_id: str
    screened_at: str
    version: int
    merged_from: str | None


class DoseRow(TypedDict):
    """A ``dose`` row (:func:`hub.apply.rows.dose_row`)."""

    id: str
    person_id: str
    site_code: str
    vaccine_code: str
    lot_id: str | None
    lot_number: str | None
    dose_number: int
    kind: str
    administered_at: str
    day: str
    recorded_at: str
    vaccinator_id: str | None
    screening_id: str | None
    injection_site: str | None
    source: str
    observe_until: str | None
    observed_at: str | None
    voided: int
    void_reason: str | None
    voided_by: str | None
    voided_at: str | None
    version: int
    merged_from: str | None
    volume_ml: float | None
    override_by: str | None
    override_reason: str | None
    origin_station: str | None


class PersonSiteRow(TypedDict):
    """A ``person_site`` row: the person is relevant to the site."""

    person_id: str
    site_code: str


class LedgerResult(TypedDict):
    """``applied_op.result``: the answer a retried op gets again (its ``server_seq`` is
    filled in when the transaction's Numbering is written)."""

    server_seq: int | None
    reason: str | None
    detail: dict[str, object]


class LedgerRow(TypedDict):
    """An ``applied_op`` row (:func:`hub.apply.orm.ledger_row`)."""

    op_id: str
    station_id: str
    replica_epoch: str
    op_seq: int
    op_type: str
    payload_sha256: str
    status: str
    result: LedgerResult
    received_at: str


class ChangeLogRow(TypedDict):
    """A ``change_log`` row as :meth:`hub.effects.Numbering.write` inserts it."""

    server_seq: int
    scope: str
    entity_type: str
    entity_id: str
    kind: str
    row_version: int
    data: dict[str, object]
    origin_op_id: str | None
    echo_for: str | None


class LwwVerdict(TypedDict):
    """One contact field of an ``update_person`` decided by last-writer-wins (ack detail ``lww``)."""

    field: str
    won: bool
