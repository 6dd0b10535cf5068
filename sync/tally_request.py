"""The signed tally the engine sends first in every cycle (counts of the station's own doses)."""

from __future__ import annotations

from station import tally
from station.store import Station
from sync.protocol import TallyRequest, TallyRow, tally_signature


def build_tally_request(st: Station, token: str) -> TallyRequest:
    """The station's signed tally as the engine sends it (counts of its own doses only)."""
    t = tally.compute(st)
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


__all__ = ["build_tally_request"]
