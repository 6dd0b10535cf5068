"""Importing a sneakernet bundle (``tramtiem-hub import-bundle FILE``).

The bundle (``kernel.bundle``) carries a station's unanswered ops and its
tally. Import goes through exactly the path a push takes —
:func:`hub.ingest.process_push`: the ``applied_op`` ledger in the same
transaction as each effect, per-replica ``op_seq`` order — so importing the
same file twice, or the station later pushing the same ops online, answers
``duplicate`` and applies nothing twice.

The bundle is verified (AES-GCM tag over header and body, keyed from the
station's ``token_hash``) before anything is read from its body. The tally is
recorded only when newer than the one the hub holds: a stick carried for a
week must not roll back the count a later online sync reported.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import select

from hub import service, timestamps
from hub.app import check_safe
from hub.db import Database
from hub.errors import HubError
from hub.ingest import process_push, utc_now
from hub.models import EnrolledStation, StationTally
from kernel.bundle import open_bundle, read_header
from kernel.errors import StoreError
from sync.protocol import (
    MAX_OPS_PER_PUSH,
    Op,
    PushRequest,
    TallyRequest,
    tally_signature_with_key,
)

log = logging.getLogger(__name__)

MAX_BUNDLE_BYTES = 256 * 1024 * 1024


@dataclass
class ImportSummary:
    station_id: str
    site_code: str
    ops: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    stopped_at_gap: int | None = None  # the op_seq the hub expected when the bundle skipped ahead
    tally_recorded: bool = False

    def as_dict(self) -> dict[str, object]:
        return {
            "station_id": self.station_id,
            "site_code": self.site_code,
            "ops": self.ops,
            "applied": self.statuses.get("applied", 0),
            "duplicate": self.statuses.get("duplicate", 0),
            "rejected": self.statuses.get("rejected", 0),
            "conflict_queued": self.statuses.get("conflict_queued", 0),
            "stopped_at_gap": self.stopped_at_gap,
            "tally_recorded": self.tally_recorded,
        }


def _station(db: Database, station_id: str) -> tuple[str, str]:
    with db.read() as s:
        st = s.execute(select(EnrolledStation).where(EnrolledStation.id == station_id)).scalar()
        if st is None:
            raise HubError(404, "bundle.unknown_station", "no enrolled station has this id")
        if st.revoked:
            raise HubError(403, "bundle.station_revoked", "this station's access was revoked")
        return st.site_code, st.token_hash


def import_bundle(db: Database, data: bytes) -> ImportSummary:
    """Verify and apply a bundle; raises ``HubError`` (``bundle.*``) when it cannot be trusted."""
    if len(data) > MAX_BUNDLE_BYTES:
        raise HubError(413, "bundle.too_large", "the bundle is larger than the import limit")
    try:
        header, _doc = read_header(data)
        site_code, digest = _station(db, header.station_id)
        contents = open_bundle(data, digest)
    except StoreError as exc:
        raise HubError(400, exc.code, "the bundle cannot be verified or read") from None
    if header.site_code != site_code:
        raise HubError(409, "bundle.site_mismatch", "the bundle names another site than the station's")
    meta = contents.meta
    now = utc_now()
    summary = ImportSummary(station_id=header.station_id, site_code=site_code)
    try:
        ops = [Op.model_validate(o) for o in contents.ops]
    except PydanticValidationError:
        raise HubError(422, "bundle.invalid_op", "an op in the bundle is not valid") from None
    ops.sort(key=lambda o: o.op_seq)
    for i in range(0, len(ops), MAX_OPS_PER_PUSH):
        chunk = ops[i : i + MAX_OPS_PER_PUSH]
        try:
            req = PushRequest(
                station_id=header.station_id,
                replica_epoch=str(meta.get("replica_epoch", "")),
                schema_version=str(meta.get("schema_version", ""))[:16],
                sent_at=str(meta.get("exported_at", "")),
                ops=chunk,
            )
        except PydanticValidationError:
            raise HubError(422, "bundle.invalid_op", "the bundle's push fields are not valid") from None
        if not 1 <= len(req.replica_epoch) <= 64:
            raise HubError(422, "bundle.invalid_op", "replica_epoch must be 1 to 64 characters")
        check_safe(req.model_dump(), "bundle")
        results, expected = process_push(db, header.station_id, req, now=timestamps.utc_iso_ms(now))
        summary.ops += len(results)
        summary.statuses.update(r.status for r in results)
        if len(results) < len(chunk):
            # The bundle starts after ops the hub never saw (an older stick not yet
            # imported): stop, like a push answering expected_next_op_seq.
            summary.stopped_at_gap = expected
            break
    summary.tally_recorded = _record_tally(db, header.station_id, site_code, digest, meta)
    service.touch_station(db, header.station_id, now=now)
    log.info(
        "bundle imported: ops=%d applied=%d duplicate=%d rejected=%d",
        summary.ops, summary.statuses.get("applied", 0), summary.statuses.get("duplicate", 0),
        summary.statuses.get("rejected", 0),
    )
    return summary


def _record_tally(db: Database, station_id: str, site_code: str, digest: str, meta: Mapping[str, object]) -> bool:
    raw = meta.get("tally")
    if not isinstance(raw, dict):
        return False
    try:
        rows = TallyRequest.model_validate(
            {"station_id": station_id, "signature": "0" * 64, **raw}
        ).rows
        req = TallyRequest.model_validate(
            {"station_id": station_id, **raw, "signature": tally_signature_with_key(digest, rows)}
        )
    except PydanticValidationError:
        return False
    with db.read() as s:
        held = s.get(StationTally, station_id)
        held_at = str(held.tally.get("generated_at", "")) if held is not None else ""
    if held_at and held_at >= req.generated_at:
        return False
    caller = service.Caller(station_id, site_code, digest)
    service.record_tally(db, caller, req, now=utc_now())
    return True


def import_bundle_file(db: Database, path: Path) -> ImportSummary:
    return import_bundle(db, Path(path).read_bytes())


__all__ = ["ImportSummary", "import_bundle", "import_bundle_file"]
