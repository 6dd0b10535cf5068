"""The signed tally the engine sends first in every cycle (counts of the station's own doses)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from station import tally
from station.store import Station
from sync import lean
from sync.client import Json

if TYPE_CHECKING:
    from sync.protocol import TallyRequest


def build_tally_request(st: Station, token: str) -> TallyRequest:
    """The station's signed tally as the engine sends it (counts of its own doses only)."""
    return _model(st, tally.compute(st), token)


def _model(st: Station, t: tally.Tally, token: str) -> TallyRequest:
    from sync.protocol import TallyRequest, TallyRow, tally_signature

    rows = [TallyRow.model_validate(r) for r in tally.wire_rows(t)]
    return TallyRequest(
        station_id=st.install_id,
        generated_at=t.generated_at,
        rows=rows,
        outbox_pending=t.outbox_pending,
        oldest_pending_at=t.oldest_pending_at,
        replica_epoch=t.replica_epoch,
        signature=tally_signature(token, rows),
    )


def tally_body(st: Station, token: str) -> TallyRequest | Json:
    """What the engine sends: the request's JSON written by ``sync.lean.tally_json`` (the same
    bytes, no pydantic) when every value is within its checks, else the model."""
    t = tally.compute(st)
    data = lean.tally_json(st.install_id, t, tally.wire_rows(t), token)
    return Json(data) if data is not None else _model(st, t, token)


__all__ = ["build_tally_request", "tally_body"]
