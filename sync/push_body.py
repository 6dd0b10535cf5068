"""The body of a push, spliced from the ops as stored (issue 15, phase 5).

Every op in ``sync_outbox`` was written by ``UnitOfWork.emit``: its envelope made by
the store (UUIDv7 id, ``op_seq``, HLC, timestamp) and its payload as canonical JSON
text. Sending it the old way read the text (``json.loads``), validated it as
``sync.protocol.Op`` and encoded it again (``model_dump_json``): a quarter of the
station's CPU per op. Here an op goes out as the bytes pydantic would write for its
envelope with the stored payload text in place of the re-encoded payload — but only
when a check proves the old way would have sent the same thing:

* every envelope field passes a check **at least as strict** as ``Op``'s (the same
  patterns matched over the whole string, the same ranges; the timestamp parsed as
  ``kernel.wire`` does, and made of the characters JSON never escapes), so pydantic
  would accept it and write it unescaped, byte for byte as spliced here;
* the payload text is a JSON object of at most 64 keys without ``NaN``/``Infinity``
  (pydantic would write ``null`` for them) and no ``\\uD800``-``\\uDFFF`` escape (a
  lone surrogate pydantic cannot write). Every payload ever stored was written by
  ``json.dumps`` of a mapping (``station.store._canonical``, the one writer of the
  column), so this is read off the text without parsing it when it has fewer than 64
  commas and no ``NaN``, ``Infinity`` or ``\\u``; otherwise ``json.loads`` decides.
  Then the hub parses the stored text to the same object pydantic's encoding of
  that object parses to: JSON text → ``json.loads`` → re-encode → parse is the
  identity on such objects, whatever the text's key order, spacing, escapes or float
  spelling (an op stored by an older version included).

An op that fails the check goes the old way (``Op.model_validate`` and its
``model_dump_json``): the same bytes as before, or the same local rejection.
``tests/sync/test_push_body.py`` compares both ways for every op type.
"""

from __future__ import annotations

import json
import re
from typing import get_args

from pydantic import ValidationError

from kernel.wire import MAX_INT, OpType, parse_timestamp
from station.ack import Ack
from station.outbox import OutboxOp
from sync.protocol import EntityType, Op, PushRequest

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")  # kernel.wire.ID_PATTERN
_HLC = re.compile(r"([0-9]{13}-[0-9]{5,9})?")
# What kernel.clock.iso writes; digits and ``-:.+TZ`` only (JSON escapes none of them).
_TS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})")
_SURROGATE = re.compile(r"\\u[dD][89abAB]")
_OP_TYPES = frozenset(get_args(OpType))
_ENTITY_TYPES = frozenset(get_args(EntityType))
MAX_PAYLOAD_KEYS = 64  # sync.protocol.Op.payload's max_length


class _NotPlain(ValueError):
    """The payload holds a value the plain splice does not carry (NaN, Infinity)."""


def _refuse_constant(name: str) -> object:
    raise _NotPlain(name)


def _ident(v: str | None, max_len: int) -> bool:
    return v is not None and 1 <= len(v) <= max_len and _ID.fullmatch(v) is not None


def _timestamp(v: str) -> bool:
    return _TS.fullmatch(v) is not None and parse_timestamp(v) is not None


def _plain_payload(text: str) -> bool:
    if (
        text.startswith("{") and text.endswith("}") and text.count(",") < MAX_PAYLOAD_KEYS
        and "NaN" not in text and "Infinity" not in text and "\\u" not in text
    ):
        # Text ``json.dumps`` wrote for a mapping (the only writer: ``UnitOfWork.emit``,
        # since the first schema; tests/sync/test_push_body.py keeps it so): a JSON
        # object, fewer than 64 commas so at most 64 keys, no NaN/Infinity, no escape
        # but of a quote, a backslash or a control character. No need to parse it.
        return True
    if _SURROGATE.search(text) is not None:
        return False
    try:
        obj = json.loads(text, parse_constant=_refuse_constant)
    except (ValueError, RecursionError):  # _NotPlain, not JSON at all, nested too deep
        return False
    return isinstance(obj, dict) and len(obj) <= MAX_PAYLOAD_KEYS


def plain(o: OutboxOp) -> bool:
    """Whether ``Op`` would take this stored op and the splice says what its encoding says."""
    return (
        len(o.op_id) == 36 and _UUID.fullmatch(o.op_id) is not None
        and 1 <= o.op_seq <= MAX_INT
        and o.op_type in _OP_TYPES
        and 1 <= o.op_version <= 1000
        and o.entity_type in _ENTITY_TYPES
        and _ident(o.entity_id, 64)
        and (o.base_version is None or 0 <= o.base_version <= 2**31 - 1)
        and len(o.hlc) <= 32 and _HLC.fullmatch(o.hlc) is not None
        and _timestamp(o.recorded_at)
        and (o.user_id is None or _ident(o.user_id, 36))
        and _plain_payload(o.payload_json)
    )


def spliced(o: OutboxOp) -> str:
    """The op's JSON as ``Op.model_dump_json`` writes it, with the stored payload text.

    Only for ops :func:`plain` accepted: their string fields need no escaping.
    """
    base = "null" if o.base_version is None else str(o.base_version)
    user = "null" if o.user_id is None else f'"{o.user_id}"'
    return (
        f'{{"op_id":"{o.op_id}","op_seq":{o.op_seq},"op_type":"{o.op_type}",'
        f'"op_version":{o.op_version},"entity_type":"{o.entity_type}","entity_id":"{o.entity_id}",'
        f'"base_version":{base},"payload":{o.payload_json},"hlc":"{o.hlc}",'
        f'"recorded_at":"{o.recorded_at}","user_id":{user}}}'
    )


def op_json(o: OutboxOp) -> str | None:
    """The op as it goes on the wire; None: the wire format cannot carry it."""
    if plain(o):
        return spliced(o)
    try:
        return Op.model_validate(o.wire()).model_dump_json()
    except ValidationError:
        return None


def body_json(header: PushRequest, ops_json: list[str]) -> str:
    """``header`` (a request with no ops) with the ops' JSON as its ``ops``."""
    head = header.model_dump_json()
    if not head.endswith('"ops":[]}'):  # ``ops`` is PushRequest's last field
        raise ValueError("push header does not end with its empty ops")
    return f"{head[:-3]}[{','.join(ops_json)}]}}"


def wire_ops(batch: list[OutboxOp]) -> tuple[list[OutboxOp], list[str], list[Ack]]:
    """The ops the wire format carries with their JSON, and rejections for those it cannot.

    Stored ops are spliced as stored when that provably says what their re-encoding
    would (``sync.push_body``), else validated and encoded as ``Op``.
    """
    ops: list[OutboxOp] = []
    texts: list[str] = []
    bad: list[Ack] = []
    for o in batch:
        text = op_json(o)
        if text is None:
            # An op the wire format cannot carry would block the queue forever.
            bad.append(Ack(o.op_id, "rejected", None, "station.invalid_op"))
        else:
            ops.append(o)
            texts.append(text)
    return ops, texts, bad


__all__ = [
    "MAX_PAYLOAD_KEYS",
    "body_json",
    "op_json",
    "plain",
    "spliced",
    "wire_ops",
]
