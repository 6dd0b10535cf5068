"""``sync.lean`` reads and writes only what the protocol models would read and write alike.

Each answer it takes must be one the model takes, with the same values; everything else
goes to the model (None here). The tally bytes it writes must be the model's bytes, with
the model's signature, or None. Constants repeated there equal the protocol's.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from kernel import wire
from station.tally import Tally, TallyLine
from sync import lean, protocol, revoked_certs
from sync.protocol import (
    Health,
    PullResponse,
    TallyRequest,
    TallyResponse,
    TallyRow,
    tally_signature,
)

STATION = "0190a8c2-7d4e-7a10-8b1c-2f3e4d5c6b7a"
TOKEN = "t" * 43


def test_the_repeated_constants_are_the_protocols() -> None:
    assert lean.PROTOCOL_VERSION == protocol.PROTOCOL_VERSION
    assert lean.API_PREFIX == protocol.API_PREFIX
    assert lean.TOKEN_HEADER == protocol.TOKEN_HEADER
    assert lean.MAX_PULL_LIMIT == protocol.MAX_PULL_LIMIT
    assert lean.MAX_ANSWER_IDS == protocol.MAX_ANSWER_IDS
    assert lean.MAX_TALLY_COUNT == protocol.MAX_TALLY_COUNT
    assert lean.MAX_INT == wire.MAX_INT  # the years and their parses: kernel.bounds, one definition
    assert (lean.REVOKED_CERTS_PATH, lean.MAX_REVOKED_CERTS) == (
        revoked_certs.REVOKED_CERTS_PATH, revoked_certs.MAX_REVOKED_CERTS)
    rows = TallyRequest.model_fields["rows"].metadata
    assert any(getattr(m, "max_length", None) == lean.MAX_TALLY_ROWS for m in rows)
    count = [m for m in TallyRequest.model_fields["outbox_pending"].metadata if hasattr(m, "le")]
    assert count and count[0].le == lean.MAX_COUNT


def _same(fast: Any, model: type[BaseModel], body: bytes) -> None:
    """Taken by lean ⇒ taken by the model, field by field the same values."""
    if fast is None:
        return
    m = model.model_validate_json(body)
    for name in model.model_fields:
        got = getattr(fast, name)
        want = getattr(m, name)
        assert (list(got) if name == "changes" else got) == want, (name, body)


HEALTH = [
    b'{"status":"ok","protocol_version":1,"hub_epoch":"h1","server_time":"2026-12-04T10:00:00+00:00"}',
    b'{"hub_epoch":"h1","server_time":"x"}',
    b'  {"hub_epoch": "\\u0068\\u00e9", "server_time": "t"}  ',
]
PAGES = [
    b'{"protocol_version":1,"changes":[],"next_cursor":12,"has_more":false,"hub_epoch":"e","head_seq":12}',
    b'{"changes":[],"next_cursor":0,"has_more":true,"hub_epoch":"e","head_seq":0}',
]
ACKS = [
    b'{"protocol_version":1,"accepted":true,"server_time":"2026-12-04T10:00:00+00:00"}',
    b'{"accepted":false,"server_time":""}',
]
# Bodies the lean reader leaves to the model (which may take them or not).
ODD = [
    b"",
    b"[]",
    b"null",
    b'{"hub_epoch":"h1","server_time":"x","extra":1}',
    b'{"hub_epoch":"h1","hub_epoch":"h2","server_time":"x"}',
    b'{"hub_epoch":"h1","server_time":"x","status":"down"}',
    b'{"hub_epoch":"h1","server_time":"x","protocol_version":"1"}',
    b'{"hub_epoch":"h1","server_time":"x","protocol_version":1.0}',
    b'{"hub_epoch":"h1","server_time":"x","protocol_version":true}',
    b'{"hub_epoch":"h1","server_time":"x","protocol_version":NaN}',
    b'{"hub_epoch":"h1","server_time":"x","protocol_version":99999999999999999999}',
    b'{"hub_epoch":"\\ud800","server_time":"x"}',
    b'{"hub_epoch":1,"server_time":"x"}',
    b'{"hub_epoch":"' + b"e" * 300 + b'","server_time":"x"}',
    '{"hub_epoch":"h1","server_time":"x"}'.encode("utf-16"),
    b"\xef\xbb\xbf" + b'{"hub_epoch":"h1","server_time":"x"}',
    b'{"changes":[{}],"next_cursor":1,"has_more":false,"hub_epoch":"e","head_seq":1}',
    b'{"changes":{},"next_cursor":1,"has_more":false,"hub_epoch":"e","head_seq":1}',
    b'{"changes":[],"next_cursor":1,"has_more":1,"hub_epoch":"e","head_seq":1}',
    b'{"changes":[],"next_cursor":-1e3,"has_more":false,"hub_epoch":"e","head_seq":1}',
    b'{"changes":[],"next_cursor":1,"has_more":false,"hub_epoch":"e"}',
    b'{"accepted":"yes","server_time":"x"}',
    b'{"accepted":true,"server_time":null}',
]


@pytest.mark.parametrize("body", HEALTH + PAGES + ACKS + ODD)
def test_an_answer_lean_takes_is_one_the_model_takes_alike(body: bytes) -> None:
    _same(lean.health(body), Health, body)
    _same(lean.empty_page(body), PullResponse, body)
    _same(lean.tally_ack(body), TallyResponse, body)


def test_the_usual_answers_are_read_without_the_models() -> None:
    assert all(lean.health(b) is not None for b in HEALTH)
    assert all(lean.empty_page(b) is not None for b in PAGES)
    assert all(lean.tally_ack(b) is not None for b in ACKS)
    assert [b for b in ODD if lean.health(b) or lean.empty_page(b) or lean.tally_ack(b)] == []


def _line(**kw: Any) -> TallyLine:
    base: dict[str, Any] = dict(day="2026-12-04", vaccine_code="MR", lot_number="L-001/A", entered=3, pending=1,
                                acknowledged=2, all_entered=4, all_pending=1, all_acknowledged=3, voids_unsent=0)
    base.update(kw)
    return TallyLine(**base)


def _tally(*lines: TallyLine, **kw: Any) -> Tally:
    base: dict[str, Any] = dict(generated_at="2026-12-04T09:15:02.123+07:00", rows=lines, outbox_pending=1,
                                oldest_pending_at="2026-12-04T08:00:00+07:00", oldest_pending_age_s=1.0,
                                replica_epoch="0190a8c2-0000-7000-8000-000000000001")
    base.update(kw)
    return Tally(**base)


def _model_bytes(t: Tally, station: str = STATION) -> bytes | None:
    """What the engine sent before: the model's JSON, or None when the model refuses the values."""
    from station.tally import wire_rows

    try:
        rows = [TallyRow.model_validate(r) for r in wire_rows(t)]
        req = TallyRequest(station_id=station, generated_at=t.generated_at, rows=rows,
                           outbox_pending=t.outbox_pending, oldest_pending_at=t.oldest_pending_at,
                           replica_epoch=t.replica_epoch, signature=tally_signature(TOKEN, rows))
    except ValidationError:
        return None
    return req.model_dump_json().encode("utf-8")


TALLIES = [
    _tally(),
    _tally(_line()),
    _tally(_line(), _line(day="2026-11-30", vaccine_code="VEROCELL", lot_number=None),
           _line(lot_number="x" * 32, entered=1_000_000), oldest_pending_at=None, replica_epoch=None),
    _tally(_line(vaccine_code="a.b_c-D"), outbox_pending=0, generated_at="2026-12-04T02:15:02Z"),
    # values the lean writer leaves to the model (taken there or refused there)
    _tally(_line(lot_number="Lô-ệ")),
    _tally(_line(lot_number='L"1')),
    _tally(_line(lot_number="x" * 33)),
    _tally(_line(entered=1_000_001)),
    _tally(_line(pending=-1)),
    _tally(_line(day="1999-12-31")),
    _tally(_line(day="2026-02-30")),
    _tally(_line(vaccine_code="-MR")),
    _tally(_line(vaccine_code="M" * 17)),
    _tally(_line(), generated_at="2026-12-04T09:15:02"),
    _tally(_line(), oldest_pending_at="yesterday"),
    _tally(_line(), replica_epoch="bad epoch"),
    _tally(_line(), outbox_pending=10**10),
]


@pytest.mark.parametrize("t", TALLIES)
def test_the_lean_tally_is_the_models_bytes_or_none(t: Tally) -> None:
    from station.tally import wire_rows

    got = lean.tally_json(STATION, t, wire_rows(t), TOKEN)
    if got is not None:
        assert got == _model_bytes(t)
        # and the hub's check of its signature holds
        sent = TallyRequest.model_validate_json(got)
        assert sent.signature == tally_signature(TOKEN, sent.rows)


def test_the_usual_tallies_are_written_without_the_model() -> None:
    from station.tally import wire_rows

    assert all(lean.tally_json(STATION, t, wire_rows(t), TOKEN) for t in TALLIES[:4])
    assert [t for t in TALLIES[4:] if lean.tally_json(STATION, t, wire_rows(t), TOKEN)] == []
    assert lean.tally_json("not-a-uuid", TALLIES[1], wire_rows(TALLIES[1]), TOKEN) is None


def test_a_pull_page_with_changes_goes_to_the_model() -> None:
    page = {"changes": [{"server_seq": 1, "entity_type": "person", "entity_id": "p", "kind": "upsert",
                         "row_version": 1, "data": {}}],
            "next_cursor": 1, "has_more": False, "hub_epoch": "e", "head_seq": 1}
    assert lean.empty_page(json.dumps(page).encode()) is None


FP = "ab" * 32
REVOKED = [
    b'{"protocol_version":1,"site_code":"DN-01","fingerprints":[],"server_time":"2026-12-04T10:00:00+00:00"}',
    ('{"site_code":"DN-01","fingerprints":["' + FP + '","' + "0" * 64 + '"],"server_time":"x"}').encode(),
    b'{"site_code":"DN-01","server_time":"x"}',
]
REVOKED_ODD = [
    ('{"site_code":"DN-01","fingerprints":["' + FP.upper() + '"],"server_time":"x"}').encode(),
    ('{"site_code":"DN-01","fingerprints":["' + FP + '0"],"server_time":"x"}').encode(),
    ('{"site_code":"DN-01","fingerprints":["' + FP + '\\n"],"server_time":"x"}').encode(),
    b'{"site_code":"' + b"S" * 33 + b'","server_time":"x"}',
    b'{"site_code":"DN-01","server_time":"' + b"t" * 41 + b'"}',
    b'{"site_code":"DN-01","server_time":"x","protocol_version":1001}',
    b'{"site_code":"DN-01","server_time":"x","fingerprints":null}',
    b'{"site_code":"DN-01","server_time":"x","extra":[]}',
    ('{"site_code":"DN-01","server_time":"x","fingerprints":[' + ",".join(['"' + FP + '"'] * 1001) + "]}").encode(),
]


@pytest.mark.parametrize("body", REVOKED + REVOKED_ODD + ODD)
def test_a_revoked_list_lean_takes_is_one_the_model_takes_alike(body: bytes) -> None:
    fast = lean.revoked_certs(body)
    if fast is not None:
        m = revoked_certs.RevokedCerts.model_validate_json(body)
        assert (fast.site_code, fast.server_time, list(fast.fingerprints), fast.protocol_version) == (
            m.site_code, m.server_time, m.fingerprints, m.protocol_version)


def test_the_usual_revoked_lists_are_read_without_the_model() -> None:
    assert all(lean.revoked_certs(b) is not None for b in REVOKED)
    assert [b for b in REVOKED_ODD if lean.revoked_certs(b) is not None] == []
