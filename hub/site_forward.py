"""The site hub's forwarder batches (issue 14, hub/site_hub.py): what goes upstream next.

A batch is the next waiting ops in ``relay_op`` (up to 1000), as runs of one replica's ops in
the order the site hub applied them across its desks: each run one group of
``POST /relay/push``, applied by the province in turn, so the causal order across desks is
kept (a dose of a person another desk registered reaches the province after the walk-in).

The ops go out as the desk sent them: their JSON is passed through as stored, not parsed
into models and written again (the province validates every op as for a station's push).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from sqlalchemy import Text, cast, select

from hub.db import Database
from hub.models import RelayOp
from sync.protocol import (
    MAX_OPS_PER_PUSH,
    MAX_RELAY_GROUPS,
    PROTOCOL_VERSION,
    OpResult,
    RelayPushResponse,
)

log = logging.getLogger(__name__)

SKIP_GROUP_S = 30.0  # a group the province refused whole is tried again after this


@dataclass(frozen=True)
class RelayBatch:
    body: bytes  # the ``RelayPushRequest`` JSON
    # What each op touches (entity type, id, second row), for settling its answer.
    touched: dict[str, tuple[str, str, str | None]]


def next_batch(
    db: Database, relay_id: str, sent_at: str, *, unstored: set[str], skip: dict[tuple[str, str], float]
) -> RelayBatch | None:
    """The next waiting ops; ``unstored``: answered ops not written yet (left out);
    ``skip``: replicas the province refused a moment ago."""
    with db.read() as s:
        rows = s.execute(
            select(RelayOp.station_id, RelayOp.replica_epoch, RelayOp.schema_version, RelayOp.op_id,
                   RelayOp.entity_type, RelayOp.entity_id, RelayOp.extra_id,
                   cast(RelayOp.op, Text))  # the stored JSON text, not parsed
            .where(RelayOp.province_status.is_(None))
            .order_by(RelayOp.arrival)
            .limit(MAX_OPS_PER_PUSH + len(unstored))
        ).tuples().all()
    runs: list[tuple[tuple[str, str], str, list[str]]] = []
    touched: dict[str, tuple[str, str, str | None]] = {}
    for station_id, epoch, schema, op_id, etype, eid, extra, op in rows:
        key = (station_id, epoch)
        if key in skip or op_id in unstored:
            continue
        if len(touched) >= MAX_OPS_PER_PUSH:
            break
        if "\\u" in op:
            # Stored with non-ASCII letters escaped: sent as UTF-8, as a desk sends them (an
            # escaped "à" would make the province walk the whole body for unsafe values).
            op = json.dumps(json.loads(op), ensure_ascii=False)
        if runs and runs[-1][0] == key:
            runs[-1][2].append(op)
        elif len(runs) >= MAX_RELAY_GROUPS:
            break
        else:
            runs.append((key, schema, [op]))
        touched[op_id] = (etype, eid, extra)
    if not runs:
        return None
    groups = []
    for (station_id, epoch), schema, ops in runs:
        head = json.dumps({"protocol_version": PROTOCOL_VERSION, "station_id": station_id,
                           "replica_epoch": epoch, "schema_version": schema, "sent_at": sent_at})
        groups.append(head[:-1] + ', "ops": [' + ", ".join(ops) + "]}")
    body = (
        f'{{"protocol_version": {PROTOCOL_VERSION}, "relay_id": {json.dumps(relay_id)}, '
        f'"groups": [{", ".join(groups)}]}}'
    )
    return RelayBatch(body.encode("utf-8"), touched)


def answers_of(resp: RelayPushResponse, skip: dict[tuple[str, str], float]) -> list[OpResult]:
    """The per-op answers of a relay push; a group refused whole, or answered with a gap,
    puts its replica in ``skip`` for a while."""
    answers: list[OpResult] = []
    for g in resp.groups:
        if g.error is not None:
            # Refused whole (a revoked desk, a regressed replica): logged by code, tried later.
            log.warning("province refused a relayed group: %s", g.error.code)
            skip[(g.station_id, g.replica_epoch)] = time.monotonic() + SKIP_GROUP_S
            continue
        if not g.results:
            # A gap: the province expects ops this site hub never received (the desk sent
            # them by the other route, or to a site hub before this one). The desk fills
            # it; this replica waits a while rather than being sent again at once.
            log.info("province expects an earlier op of a relayed replica; waiting")
            skip[(g.station_id, g.replica_epoch)] = time.monotonic() + SKIP_GROUP_S
        answers.extend(g.results)
    return answers
