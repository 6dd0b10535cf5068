"""The answers and the tally of a sync cycle with nothing to do, read and written without pydantic.

``tramtiem sync`` with nothing to send still asks the hub three things: ``/health``, the
signed tally, one pull page with no changes. Reading those answers with the protocol
models costs the import of pydantic and of ``sync.protocol`` (~90–120 ms of the start,
issue 15). Here each is checked by hand **only within a domain where the model would
take it and give the same values**: a JSON object (UTF-8, no duplicate key) whose keys
are the model's fields, every field of the expected JSON type and bounded (integers as
JSON integers within ±2**62, booleans as JSON booleans, strings of bounded length and
valid Unicode), a pull page only with ``"changes": []``. Anything else returns None and
the caller validates the same bytes with the model (``sync.client``), which then
decides exactly as before: accept, or ``hub.bad_response``.

The tally goes out the same way: :func:`tally_json` writes the bytes
``TallyRequest.model_dump_json()`` writes, signed as ``sync.protocol.tally_signature``
signs, only when every value passes a check at least as strict as the model's
(same patterns over the whole string, same bounds, dates and timestamps parsed as
``kernel.wire`` parses them, strings of characters JSON never escapes); otherwise None,
and the engine builds the model. ``tests/sync/test_lean_answers.py`` holds both sides
against the models.

The protocol's constants come from ``sync.wire_constants`` (pydantic-free), as
``sync.protocol``'s do: one definition.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kernel.bounds import MAX_INT, parse_day, parse_timestamp
from sync.wire_constants import (
    API_PREFIX,
    MAX_ANSWER_IDS,
    MAX_PULL_LIMIT,
    MAX_REVOKED_CERTS,
    MAX_TALLY_COUNT,
    PROTOCOL_VERSION,
    REVOKED_CERTS_PATH,
    TOKEN_HEADER,
)

if TYPE_CHECKING:
    from station.tally import Tally

MAX_COUNT = 1_000_000_000  # kernel.wire.Count
MAX_TALLY_ROWS = 5000  # TallyRequest.rows

# kernel.bounds.MAX_INT: an answer's integers beyond it go to the model
MAX_TEXT = 256  # an answer's strings longer than this go to the model


# ---- answers ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LeanHealth:
    """``sync.protocol.Health``'s values."""

    hub_epoch: str
    server_time: str
    status: str = "ok"
    protocol_version: int = PROTOCOL_VERSION


@dataclass(frozen=True, slots=True)
class LeanTallyAck:
    """``sync.protocol.TallyResponse``'s values."""

    accepted: bool
    server_time: str
    protocol_version: int = PROTOCOL_VERSION


@dataclass(frozen=True, slots=True)
class EmptyPage:
    """A ``sync.protocol.PullResponse`` with no changes (what ends nearly every cycle)."""

    next_cursor: int
    has_more: bool
    hub_epoch: str
    head_seq: int
    protocol_version: int = PROTOCOL_VERSION
    changes: tuple[()] = ()


class _Dup(ValueError):
    pass


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise _Dup("duplicate key")
    return out


def _object(
    content: bytes, required: frozenset[str], optional: frozenset[str], *, max_bytes: int = 4096
) -> dict[str, Any] | None:
    """The answer as a dict when it is one JSON object with exactly these keys; else None."""
    if len(content) > max_bytes:
        return None
    try:
        text = content.decode("utf-8")
        obj = json.loads(text, object_pairs_hook=_pairs, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(obj, dict):
        return None
    keys = set(obj)
    if not required <= keys or not keys <= required | optional:
        return None
    return obj


def _no_constant(name: str) -> None:
    raise ValueError(name)  # NaN, Infinity: not JSON


def _int(v: object) -> bool:
    return type(v) is int and -MAX_INT <= v <= MAX_INT


def _text(v: object) -> bool:
    if type(v) is not str or len(v) > MAX_TEXT:
        return False
    try:
        v.encode("utf-8")  # a lone surrogate escape: the model's parser decides
    except UnicodeEncodeError:
        return False
    return True


def _version(obj: dict[str, Any]) -> int | None:
    v = obj.get("protocol_version", PROTOCOL_VERSION)
    return v if _int(v) else None


_HEALTH = (frozenset({"hub_epoch", "server_time"}), frozenset({"status", "protocol_version"}))


def health(content: bytes) -> LeanHealth | None:
    obj = _object(content, *_HEALTH)
    if obj is None or obj.get("status", "ok") != "ok" or (version := _version(obj)) is None:
        return None
    epoch, at = obj["hub_epoch"], obj["server_time"]
    if not (_text(epoch) and _text(at)):
        return None
    return LeanHealth(hub_epoch=epoch, server_time=at, protocol_version=version)


_TALLY_ACK = (frozenset({"accepted", "server_time"}), frozenset({"protocol_version"}))


def tally_ack(content: bytes) -> LeanTallyAck | None:
    obj = _object(content, *_TALLY_ACK)
    if obj is None or (version := _version(obj)) is None:
        return None
    accepted, at = obj["accepted"], obj["server_time"]
    if type(accepted) is not bool or not _text(at):
        return None
    return LeanTallyAck(accepted=accepted, server_time=at, protocol_version=version)


_PAGE = (
    frozenset({"changes", "next_cursor", "has_more", "hub_epoch", "head_seq"}),
    frozenset({"protocol_version"}),
)


def empty_page(content: bytes) -> EmptyPage | None:
    obj = _object(content, *_PAGE)
    if obj is None or obj["changes"] != [] or type(obj["changes"]) is not list:
        return None
    version = _version(obj)
    cursor, more, epoch, head = obj["next_cursor"], obj["has_more"], obj["hub_epoch"], obj["head_seq"]
    if version is None or not (_int(cursor) and _int(head) and type(more) is bool and _text(epoch)):
        return None
    return EmptyPage(next_cursor=cursor, has_more=more, hub_epoch=epoch, head_seq=head, protocol_version=version)


@dataclass(frozen=True, slots=True)
class LeanRevoked:
    """``sync.revoked_certs.RevokedCerts``'s values (read by ``sync.revocations`` every few minutes)."""

    site_code: str
    server_time: str
    fingerprints: tuple[str, ...] = ()
    protocol_version: int = PROTOCOL_VERSION


_FINGERPRINT = re.compile(r"[0-9a-f]{64}")
_REVOKED = (frozenset({"site_code", "server_time"}), frozenset({"protocol_version", "fingerprints"}))


def revoked_certs(content: bytes) -> LeanRevoked | None:
    obj = _object(content, *_REVOKED, max_bytes=80_000)
    if obj is None or (version := _version(obj)) is None or not 0 <= version <= 1000:
        return None
    site, at, fps = obj["site_code"], obj["server_time"], obj.get("fingerprints", [])
    if not (_text(site) and len(site) <= 32 and _text(at) and len(at) <= 40):
        return None
    if type(fps) is not list or len(fps) > MAX_REVOKED_CERTS:
        return None
    if not all(type(fp) is str and _FINGERPRINT.fullmatch(fp) for fp in fps):
        return None
    return LeanRevoked(site_code=site, server_time=at, fingerprints=tuple(fps), protocol_version=version)


# ---- the tally ----------------------------------------------------------------------------

_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")
_VACCINE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,15}")
# Printable ASCII without '"' and '\\': written alike by json.dumps and by pydantic.
_PLAIN = re.compile(r"[\x20\x21\x23-\x5b\x5d-\x7e]*")
_ROW_COUNTS = (
    "entered", "pending", "acknowledged", "all_entered", "all_pending", "all_acknowledged", "voids_unsent",
)


def _day(v: object) -> bool:
    return type(v) is str and v.isascii() and parse_day(v) is not None


def _timestamp(v: object) -> bool:
    # kernel.bounds' parse also refuses an offset that pushes a boundary year out of
    # range, which the model lets through: stricter, so such a value goes to the model.
    return type(v) is str and _PLAIN.fullmatch(v) is not None and parse_timestamp(v) is not None


def _count(v: object, top: int) -> bool:
    return type(v) is int and 0 <= v <= top


def _row_ok(r: dict[str, object]) -> bool:
    lot = r["lot_number"]
    return (
        _day(r["day"])
        and type(r["vaccine_code"]) is str
        and _VACCINE.fullmatch(r["vaccine_code"]) is not None
        and (lot is None or (type(lot) is str and len(lot) <= 32 and _PLAIN.fullmatch(lot) is not None))
        and all(_count(r[k], MAX_TALLY_COUNT) for k in _ROW_COUNTS)
    )


def _signature(token: str, rows: Sequence[dict[str, object]]) -> str:
    """``sync.protocol.tally_signature`` of rows with every field set (none is dropped)."""
    canonical = json.dumps(list(rows), ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")
    key_hex = hashlib.sha256(token.encode("utf-8")).hexdigest()
    return hmac.new(key_hex.encode("ascii"), canonical, hashlib.sha256).hexdigest()


def tally_json(station_id: str, t: Tally, rows: list[dict[str, object]], token: str) -> bytes | None:
    """``TallyRequest(...).model_dump_json()`` of the engine's tally, or None (build the model)."""
    if not (
        type(station_id) is str
        and _UUID.fullmatch(station_id)
        and _timestamp(t.generated_at)
        and len(rows) <= MAX_TALLY_ROWS
        and all(_row_ok(r) for r in rows)
        and _count(t.outbox_pending, MAX_COUNT)
        and (t.oldest_pending_at is None or _timestamp(t.oldest_pending_at))
        and (t.replica_epoch is None or (type(t.replica_epoch) is str and _ID.fullmatch(t.replica_epoch)))
    ):
        return None
    body = {
        "protocol_version": PROTOCOL_VERSION,
        "station_id": station_id,
        "generated_at": t.generated_at,
        "rows": rows,
        "outbox_pending": t.outbox_pending,
        "oldest_pending_at": t.oldest_pending_at,
        "replica_epoch": t.replica_epoch,
        "signature": _signature(token, rows),
    }
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


__all__ = [
    "API_PREFIX",
    "MAX_ANSWER_IDS",
    "MAX_PULL_LIMIT",
    "PROTOCOL_VERSION",
    "REVOKED_CERTS_PATH",
    "TOKEN_HEADER",
    "EmptyPage",
    "LeanHealth",
    "LeanRevoked",
    "LeanTallyAck",
    "empty_page",
    "health",
    "revoked_certs",
    "tally_ack",
    "tally_json",
]
