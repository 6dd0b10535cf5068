"""Hub changes the station holds instead of applying them now (tables ``sync_parked``, ``sync_deferred``).

* **Parked**: a change that could not be applied (a parent row outside this
  station's scope, a malformed row). It is retried after every pulled page
  (oldest first) so one bad row never stalls the cursor.
* **Deferred**: a hub row that arrived while unanswered local ops had changed
  the same row. The local edit stays visible; the hub row is kept here with the
  ids of those ops and settled when they are answered (``station.answers``).
  One row per entity: the newest hub row wins, the op ids accumulate.

Until schema revision 0006 both lived as JSON strings under key prefixes in
``meta``; the migration moved them here. All functions take the caller's
connection (the sync writer's transaction). Nothing here logs row contents.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection, RowMapping, text

from station.db import RawConnection
from station.store import Station


class ChangeLike(Protocol):
    """A pulled change, duck-typed (``station`` never imports ``sync``)."""

    @property
    def server_seq(self) -> int: ...
    @property
    def entity_type(self) -> str: ...
    @property
    def entity_id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def row_version(self) -> int: ...
    @property
    def data(self) -> Mapping[str, object]: ...


@dataclass(frozen=True, slots=True)
class Change:
    """A change as the station holds it (its own copy of the hub's row)."""

    server_seq: int
    entity_type: str
    entity_id: str
    kind: str
    row_version: int
    data: dict[str, object]  # the hub's row: JSON values, read column by column

    @classmethod
    def of(cls, ch: ChangeLike) -> Change:
        return cls(ch.server_seq, ch.entity_type, ch.entity_id, ch.kind, ch.row_version, dict(ch.data))

    @classmethod
    def from_row(cls, r: RowMapping) -> Change:
        return cls(
            int(r["server_seq"]), str(r["entity_type"]), str(r["entity_id"]), str(r["kind"]),
            int(r["row_version"]), dict(json.loads(r["data"])),
        )

    def params(self) -> dict[str, object]:
        return {
            "server_seq": self.server_seq,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "kind": self.kind,
            "row_version": self.row_version,
            "data": json.dumps(self.data, ensure_ascii=False, sort_keys=True),
        }


_CHANGE_COLS = "server_seq, entity_type, entity_id, kind, row_version, data"


# ---- parked ------------------------------------------------------------------------------


def park(conn: Connection, ch: Change, code: str) -> None:
    """Hold a change that could not be applied, with the error code (no message: it could quote data)."""
    conn.execute(
        text(
            f"INSERT OR REPLACE INTO sync_parked ({_CHANGE_COLS}, error) VALUES "
            "(:server_seq, :entity_type, :entity_id, :kind, :row_version, :data, :error)"
        ),
        ch.params() | {"error": code[:64]},
    )


def parked(conn: Connection, *, limit: int) -> list[Change]:
    """The oldest parked changes first (the order the hub made them)."""
    rows = conn.execute(
        text(f"SELECT {_CHANGE_COLS} FROM sync_parked ORDER BY server_seq LIMIT :n"), {"n": limit}
    ).mappings()
    return [Change.from_row(r) for r in rows]


def unpark(conn: Connection, server_seq: int) -> None:
    conn.execute(text("DELETE FROM sync_parked WHERE server_seq = :s"), {"s": server_seq})


def parked_count(st: Station) -> int:
    with st.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM sync_parked")).scalar_one())


def parked_error(st: Station, server_seq: int) -> str | None:
    """Why the change ``server_seq`` is parked (None: it is not)."""
    with st.read() as conn:
        v = conn.execute(text("SELECT error FROM sync_parked WHERE server_seq = :s"), {"s": server_seq}).scalar()
    return None if v is None else str(v)


# ---- deferred ----------------------------------------------------------------------------


def defer(conn: Connection, ch: Change, ops: set[str]) -> None:
    """Keep the hub's row aside until ``ops`` (the local ops that changed it) are answered."""
    old = conn.execute(
        text("SELECT row_version, ops FROM sync_deferred WHERE entity_type = :t AND entity_id = :i"),
        {"t": ch.entity_type, "i": ch.entity_id},
    ).first()
    if old is not None:
        ops = ops | set(json.loads(old[1]))
        if int(old[0]) > ch.row_version:
            set_deferred_ops(conn, ch.entity_type, ch.entity_id, ops)  # keep the newer hub row
            return
    conn.execute(
        text(
            f"INSERT OR REPLACE INTO sync_deferred ({_CHANGE_COLS}, ops) VALUES "
            "(:server_seq, :entity_type, :entity_id, :kind, :row_version, :data, :ops)"
        ),
        ch.params() | {"ops": json.dumps(sorted(ops))},
    )


def set_deferred_ops(conn: Connection, etype: str, eid: str, ops: set[str]) -> None:
    conn.execute(
        text("UPDATE sync_deferred SET ops = :o WHERE entity_type = :t AND entity_id = :i"),
        {"o": json.dumps(sorted(ops)), "t": etype, "i": eid},
    )


def drop_deferred(conn: Connection, etype: str, eid: str) -> None:
    conn.execute(
        text("DELETE FROM sync_deferred WHERE entity_type = :t AND entity_id = :i"), {"t": etype, "i": eid}
    )


def is_deferred(conn: Connection, etype: str, eid: str) -> bool:
    return (
        conn.execute(
            text("SELECT 1 FROM sync_deferred WHERE entity_type = :t AND entity_id = :i"),
            {"t": etype, "i": eid},
        ).scalar()
        is not None
    )


def deferred_keys(raw: RawConnection) -> frozenset[tuple[str, str]]:
    """Every deferred (entity_type, entity_id), on a raw DB-API connection (the bulk pull path)."""
    return frozenset((str(t), str(i)) for t, i in raw.execute("SELECT entity_type, entity_id FROM sync_deferred"))


def deferred(conn: Connection, *, limit: int) -> list[tuple[Change, set[str]]]:
    """Deferred hub rows with the ids of the local ops they wait for."""
    rows = conn.execute(
        text(f"SELECT {_CHANGE_COLS}, ops FROM sync_deferred ORDER BY entity_type, entity_id LIMIT :n"),
        {"n": limit},
    ).mappings()
    return [(Change.from_row(r), set(json.loads(r["ops"]))) for r in rows]


def deferred_change(st: Station, etype: str, eid: str) -> Change | None:
    """The hub row kept aside for this entity (None: none)."""
    with st.read() as conn:
        r = conn.execute(
            text(f"SELECT {_CHANGE_COLS} FROM sync_deferred WHERE entity_type = :t AND entity_id = :i"),
            {"t": etype, "i": eid},
        ).mappings().first()
    return None if r is None else Change.from_row(r)


def forget_all(conn: Connection) -> None:
    """A refetch from 0 (new hub epoch): whatever was held is pulled again."""
    conn.execute(text("DELETE FROM sync_parked"))
    conn.execute(text("DELETE FROM sync_deferred"))


__all__ = [
    "Change",
    "ChangeLike",
    "defer",
    "deferred",
    "deferred_change",
    "deferred_keys",
    "drop_deferred",
    "forget_all",
    "is_deferred",
    "park",
    "parked",
    "parked_count",
    "parked_error",
    "set_deferred_ops",
    "unpark",
]
