"""The ledger's payload hash never changes (issue 15 made it faster, not different).

The ledger answers a re-sent op ``duplicate`` when the hash of what came again equals
the hash stored the first time, ``rejected op.id_reused`` otherwise: a hub whose hash
moved by one byte would turn every retry of an op sent before its upgrade into a
refusal. ``reference_hash`` is the definition as it stood before (``json.dumps`` of
the op's fields but ``op_seq``); the hub's ``payload_hash`` must give the same digest
for every op, whatever its payload holds.
"""

from __future__ import annotations

import hashlib
import json
import math

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hub.apply.context import payload_hash
from sync.protocol import Op


def reference_hash(op: Op) -> str:
    """The ledger hash as first defined: kept here, verbatim, as the reference."""
    body = {
        "op_id": op.op_id,
        "op_type": op.op_type,
        "op_version": op.op_version,
        "entity_type": op.entity_type,
        "entity_id": op.entity_id,
        "base_version": op.base_version,
        "payload": op.payload,
        "hlc": op.hlc,
        "recorded_at": op.recorded_at,
        "user_id": op.user_id,
    }
    raw = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


VIETNAMESE = "Nguyễn Thị Hồng Nhung Đặng Văn Ưng Phạm Quỳnh Anh ờ ữ ỹ Ỷ Đồng Nai"
_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(VIETNAMESE),
        st.characters(codec="utf-8"),  # control characters, quotes, backslashes, emoji
    ),
    max_size=40,
)
_floats = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.5, -0.0, 1e-05, 1e16, 1.5e300, 5e-324, 0.1 + 0.2, 123456789.125, 1e22]),
)
_ints = st.one_of(st.integers(), st.integers(min_value=2**62, max_value=2**80), st.sampled_from([0, -1, 2**63 - 1]))
_scalars = st.one_of(st.none(), st.booleans(), _ints, _floats, _text)
_json = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(_text, inner, max_size=6),
    ),
    max_leaves=30,
)
_payloads = st.dictionaries(_text, _json, max_size=20)
_ids = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,35}", fullmatch=True)


@st.composite
def _ops(draw: st.DrawFn) -> Op:
    return Op(
        op_id=str(draw(st.uuids())),
        op_seq=draw(st.integers(min_value=1, max_value=2**40)),
        op_type=draw(st.sampled_from(["register_person", "record_dose", "record_screening", "update_person"])),
        op_version=draw(st.integers(min_value=1, max_value=1000)),
        entity_type=draw(st.sampled_from(["person", "dose", "screening"])),
        entity_id=draw(_ids),
        base_version=draw(st.one_of(st.none(), st.integers(min_value=0, max_value=2**31 - 1))),
        payload=draw(_payloads),
        hlc=draw(st.sampled_from(["", "1733300000000-00001", "1733300000000-123456789"])),
        recorded_at=draw(st.sampled_from(["2026-12-04T02:12:33.123Z", "2026-12-04T09:12:33+07:00"])),
        user_id=draw(st.one_of(st.none(), _ids)),
    )


def _same(op: Op) -> None:
    try:
        want: str | type[BaseException] = reference_hash(op)
    except (UnicodeEncodeError, ValueError, TypeError) as exc:  # lone surrogates
        want = type(exc)
    if isinstance(want, str):
        assert payload_hash(op) == want
    else:
        with pytest.raises(want):
            payload_hash(op)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_ops())
@example(
    Op(
        op_id="0190f3a2-1111-7222-8333-444455556666",
        op_seq=5,
        op_type="record_dose",
        entity_type="dose",
        entity_id="d-1",
        payload={"z": 0.5, "a": {"ư": [1e-05, -0.0, 1e16, None, True]}, "Đ": VIETNAMESE, "q": "\"\\\n\x00\u2028"},
        hlc="1733300000000-00001",
        recorded_at="2026-12-04T02:12:33.123Z",
        user_id="u1",
    )
)
def test_the_hash_of_any_op_is_the_reference_hash(op: Op) -> None:
    _same(op)


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, -math.inf, 2**100, "\ud800", {"b": 1, "a": [{"d": 2, "c": 3}]}, [[[[["deep"]]]]]],
)
def test_odd_values_hash_or_fail_as_before(value: object) -> None:
    """NaN and infinities (``json.dumps`` writes them), huge ints, a lone surrogate
    (unencodable: both raise), key order deep inside."""
    op = Op.model_construct(
        op_id="0190f3a2-1111-7222-8333-444455556666", op_seq=1, op_type="record_dose", op_version=1,
        entity_type="dose", entity_id="d-1", base_version=None, payload={"v": value},
        hlc="", recorded_at="2026-12-04T02:12:33.123Z", user_id=None,
    )
    _same(op)


def test_fields_of_other_types_take_the_whole_body_path() -> None:
    """An op built without validation (``model_construct``) may hold a bool or a float
    where the model has an int: the digest is still ``json.dumps``'s (``true``, ``2.0``)."""
    for ver, base, user in [(True, None, None), (1, 2.0, "u"), (1, False, 7)]:
        op = Op.model_construct(
            op_id="0190f3a2-1111-7222-8333-444455556666", op_seq=1, op_type="record_dose", op_version=ver,
            entity_type="dose", entity_id="d-1", base_version=base, payload={"a": 1},
            hlc="", recorded_at="2026-12-04T02:12:33.123Z", user_id=user,
        )
        _same(op)
