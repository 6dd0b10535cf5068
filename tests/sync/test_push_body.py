"""A push spliced from the stored ops says what the old re-encoding said (sync.push_body).

The old way: ``json.loads`` of the stored payload, ``Op.model_validate``, then pydantic's
``model_dump_json`` of the whole request. The new way sends the stored payload text.
Byte for byte the same for what a station writes today (canonical JSON); parsed the same
for anything else (an older version's spacing and escapes, floats, big ints); and the old
way itself for what the splice cannot prove (NaN, lone surrogates, odd envelopes).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from pydantic import ValidationError

from kernel.ops import OP_MODELS
from station import outbox
from station.outbox import OutboxOp
from sync.protocol import Op, PushRequest
from sync.push_body import body_json, op_json, plain
from tests.hub.conftest import Hub, Sim, make_station, sqlite_hub  # noqa: F401 (fixtures)
from tests.hub.test_op_vocabulary import _station_day
from tests.hub.test_sync_flow import SITE_A


def _old(o: OutboxOp) -> str | None:
    try:
        return Op.model_validate(o.wire()).model_dump_json()
    except ValidationError:  # as sync.push.wire_ops did: rejected locally
        return None


def _header(ops: list[Op]) -> PushRequest:
    return PushRequest(
        station_id="01890a5d-ac96-774b-bcce-b302099a8057", replica_epoch="epoch-1",
        schema_version="0012_x", sent_at="2026-12-04T10:00:00.123+07:00", ops=ops,
    )


def test_every_op_type_a_station_writes_goes_out_byte_for_byte_as_before(
    sqlite_hub: Hub, make_station: Callable[..., Sim]  # noqa: F811
) -> None:
    a = make_station(sqlite_hub, SITE_A)
    _station_day(a)
    stored = outbox.next_batch(a.st, max_bytes=10**9, max_ops=1000, from_seq=1)
    assert {o.op_type for o in stored} == set(OP_MODELS) - {"resolve_review"}  # every type
    assert any("ễ" in o.payload_json or "ầ" in o.payload_json for o in stored)  # Vietnamese text
    for o in stored:
        assert plain(o), o.op_type
        assert op_json(o) == _old(o), o.op_type
    old_body = _header([Op.model_validate(o.wire()) for o in stored]).model_dump_json()
    new_body = body_json(_header([]), [t for o in stored if (t := op_json(o)) is not None])
    assert new_body == old_body


_BASE = OutboxOp(
    op_seq=7, op_id="01890a5d-ac96-774b-bcce-b302099a8057", op_type="update_person", op_version=1,
    entity_type="person", entity_id="p-1", base_version=3, payload_json="{}",
    hlc="1764842400000-00001", recorded_at="2026-12-04T10:00:00.123456+07:00", user_id="u-1",
    state="pending", attempts=0, size=0,
)

# Payload texts the splice sends as stored: they parse to what the old way sent.
PARSE_EQUAL = [
    json.dumps({"full_name": "Nguyễn Thị Ánh Tuyết", "note": "Sốt nhẹ 38,5°C"}, ensure_ascii=False,
               sort_keys=True, separators=(",", ":")),
    # an older version's encoding: ASCII escapes, spaces, keys unsorted
    json.dumps({"z": "Trần Văn Bình", "a": [1, 2, {"b": None}]}, ensure_ascii=True, indent=1),
    '{"q":"say \\"hi\\"\\\\ \\n\\t\\u0001\\u2028 😀 \\ud83d\\ude00"}'.replace("\\ud83d\\ude00", "x"),
    '{"f":[0.1,1e16,1e-07,-0.0,2.5e+300,123456789.123456789],"i":1180591620717411303424}',
    '{"empty":{},"list":[],"t":true,"f":false,"n":null,"deep":[[[["x"]]]]}',
    "{" + ",".join(f'"k{i}":{i}' for i in range(64)) + "}",
]


@pytest.mark.parametrize("text", PARSE_EQUAL)
def test_odd_payloads_are_spliced_and_parse_as_the_old_encoding(text: str) -> None:
    o = replace(_BASE, payload_json=text)
    assert plain(o)
    new, old = op_json(o), _old(o)
    assert new is not None and old is not None
    assert json.loads(new) == json.loads(old)
    # as the hub reads a push body: pydantic's own JSON parser
    assert Op.model_validate_json(new) == Op.model_validate_json(old)


# What the splice cannot prove goes the old way: the same text, or the same refusal.
NOT_PLAIN = [
    {"payload_json": '{"x":NaN,"y":Infinity}'},  # pydantic writes null
    {"payload_json": '{"x":"\\ud800"}'},  # a lone surrogate
    {"payload_json": "[1, 2]"},  # not an object: refused
    {"payload_json": "{" + ",".join(f'"k{i}":{i}' for i in range(65)) + "}"},  # too many keys
    {"entity_id": "p 1"},
    {"entity_id": "p-1\n"},
    {"op_type": "launch_rocket"},
    {"op_seq": 0},
    {"hlc": "17648424-1"},
    {"recorded_at": "2026-12-04 10:00:00+07:00"},  # pydantic takes it; the splice does not try
    {"recorded_at": "2026-12-04T10:00:00"},  # no offset: refused
    {"recorded_at": "2026-13-04T10:00:00+07:00"},
    {"user_id": 'u"1'},
    {"base_version": -1},
]


def _outcome(fn: Callable[[OutboxOp], str | None], o: OutboxOp) -> tuple[str, str | None]:
    try:
        return "sent", fn(o)
    except Exception as exc:  # a lone surrogate: pydantic cannot write it, either way
        return "raised", type(exc).__name__


@pytest.mark.parametrize("change", NOT_PLAIN)
def test_what_the_splice_cannot_prove_goes_the_old_way(change: dict[str, object]) -> None:
    o = replace(_BASE, **change)  # type: ignore[arg-type]
    assert not plain(o)
    assert _outcome(op_json, o) == _outcome(_old, o)


def test_the_old_way_still_sends_the_ones_pydantic_takes() -> None:
    """Not every fallback is a refusal: the station keeps sending what it always sent."""
    nan = op_json(replace(_BASE, payload_json='{"x":NaN}'))
    assert nan is not None and json.loads(nan)["payload"] == {"x": None}
    spaced = op_json(replace(_BASE, recorded_at="2026-12-04 10:00:00+07:00"))
    assert spaced is not None and json.loads(spaced)["recorded_at"] == "2026-12-04 10:00:00+07:00"


def test_the_one_writer_of_stored_payloads_is_json_dumps_of_a_mapping() -> None:
    """The splice reads a payload's shape off its text because only ``json.dumps`` of a
    mapping ever wrote one (``UnitOfWork.emit``): a second writer must be looked at."""
    root = Path(__file__).resolve().parents[2]
    writers, updates = [], []
    for pkg in ("kernel", "station", "sync", "ui", "demohub"):
        for f in (root / pkg).rglob("*.py"):
            src = f.read_text(encoding="utf-8")
            if re.search(r"INSERT\s+(OR\s+\w+\s+)?INTO\s+sync_outbox|(?<!class )SyncOutbox\(", src):
                writers.append(f.relative_to(root).as_posix())
            if re.search(r"UPDATE\s+sync_outbox\s+SET[^;]*?\bpayload\s*=", src):
                updates.append(f.relative_to(root).as_posix())
    assert writers == ["station/store.py"] and updates == []
    store = (root / "station/store.py").read_text(encoding="utf-8")
    assert "_canonical(payload)," in store
    assert 'json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))' in store


def test_a_payload_read_off_its_text_is_one_json_dumps_wrote() -> None:
    """The text-only proof agrees with parsing on what ``json.dumps`` writes."""
    for obj in ({}, {"a": "x,y,z" * 30}, {f"k{i}": [i, i] for i in range(40)}, {"n": "Ngô \\ \" \n"}):
        text = json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        o = replace(_BASE, payload_json=text)
        assert plain(o) and json.loads(op_json(o) or "")["payload"] == obj
