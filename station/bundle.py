"""Sneakernet bundles: the station writes the ops it has not delivered to one file.

The file format, its encryption and the reader the hub uses live in
:mod:`kernel.bundle`; this is the half that reads the station's outbox.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kernel.bundle import MAX_BUNDLE_OPS, SUFFIX, canonical, seal
from kernel.clock import iso, to_site_time
from kernel.errors import StoreError
from station import keys, outbox, tally
from station.store import HEAD_REVISION, Station


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    ops: int
    first_op_seq: int | None
    last_op_seq: int | None


def _tally_dict(st: Station) -> dict[str, object]:
    t = tally.compute(st)
    return {
        "generated_at": t.generated_at,
        "rows": tally.wire_rows(t),
        "outbox_pending": t.outbox_pending,
        "oldest_pending_at": t.oldest_pending_at,
        "replica_epoch": t.replica_epoch,
    }


def export_bundle(st: Station, dest_dir: Path, *, now: datetime | None = None) -> ExportResult:
    """Write every unanswered op of ``st`` to one bundle in ``dest_dir``.

    The ops stay ``pending`` here: the station cannot know whether or when the
    stick reaches the hub, and the next online sync gets ``duplicate`` for what
    was imported. Raises ``StoreError("sync.not_enrolled")`` without a token.
    """
    token = keys.load_token(st.install_id)
    if not token:
        raise StoreError("sync.not_enrolled")
    when = to_site_time(now or st.clock())
    state = st.sync_state()
    # One query, in op_seq order; bounded so a reader can hold it in memory.
    batch = outbox.next_batch(st, max_bytes=1 << 62, max_ops=MAX_BUNDLE_OPS)
    ops = [o.wire() for o in batch]
    first_seq = batch[0].op_seq if batch else None
    last_seq = batch[-1].op_seq if batch else None
    lines = [
        canonical({
            "kind": "meta",
            "replica_epoch": str(state["replica_epoch"]),
            "schema_version": HEAD_REVISION,
            "exported_at": iso(when),
            "tally": _tally_dict(st),
        })
    ]
    lines += [canonical({"kind": "op", **op}) for op in ops]
    nonce = secrets.token_bytes(12)
    header = {
        "station_id": st.install_id,
        "site_code": st.site_code,
        "created_at": iso(when),
        "ops": len(ops),
        "first_op_seq": first_seq,
        "last_op_seq": last_seq,
        "nonce": base64.b64encode(nonce).decode("ascii"),
    }
    doc = seal(header, lines, token, nonce)
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    stem = f"tramtiem-ops-{st.site_code}-{st.install_id[-8:]}-{when:%Y%m%dT%H%M%S}-{last_seq or 0}"
    path = dest_dir / f"{stem}{SUFFIX}"
    n = 1
    while path.exists():  # never overwrite a bundle that may not have reached the hub yet
        path = dest_dir / f"{stem}-{n}{SUFFIX}"
        n += 1
    part = path.with_suffix(SUFFIX + ".part")
    with part.open("wb") as f:
        f.write(json.dumps(doc).encode("ascii"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, path)
    return ExportResult(path, len(ops), first_seq, last_seq)


__all__ = ["ExportResult", "export_bundle"]
