"""The hub parses a push as before, only cheaper (issue 15, phase 8): the same inputs
accepted, the same refused, with the same answers.

Three layers, each against the old behaviour kept here as the reference:

* the fast validators (``kernel.wire_fast``): each pattern that stands in for a Python
  check of a timestamp, a day or a date of birth matches only values that check
  accepts, and a fast validator really runs no Python check of a value;
* every payload model through ``hub.payloads.parse`` (and the kernel's model itself, as
  a station validates it) against the model as it was
  (``PersonP._empty_is_none`` and ``DoseP._day_of_administration`` as first written),
  over a corpus of odd values: wrong types, too long, NaN, lone surrogates, injection
  strings, impossible, future and past dates, timestamps in every shape Python reads,
  extra keys, empty strings: the same model (values and fields given) or the same
  ``payload.invalid`` field list;
* whole request bodies through ``parse_body`` against its first definition: the same
  request, or the same 422 errors / 400.

And over real HTTP: a push mixing good ops and ops with bad payloads answers each bad
one ``rejected payload.invalid`` (its fields as the reference names them) and applies
the rest; a bad envelope value still refuses the whole request.
"""

from __future__ import annotations

import json
import math
import sys
import uuid
from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError, model_validator
from pydantic_core import SchemaValidator, core_schema

from hub.errors import HubError, Rejected
from hub.payloads import parse
from hub.routes.push import _body_errors, parse_body
from kernel import ops, wire, wire_fast
from kernel.clock import VN_TZ
from kernel.ops import (
    AddRegistrationP,
    AdverseP,
    CheckInP,
    DoseP,
    LotP,
    ObserveP,
    PersonP,
    RegisterPersonP,
    ResolveP,
    ScreeningP,
    UpdatePersonP,
    UserP,
    VoidP,
)
from sync.protocol import MAX_INT, PushRequest
from tests.hub.conftest import Hub
from tests.hub.ops import HASH, Desk, new_cccd

# ---- the reference: the models as they were -----------------------------------------


class RefPersonP(PersonP):
    @model_validator(mode="before")
    @classmethod
    def _empty_is_none(cls, data: object) -> object:
        if isinstance(data, dict):
            return {k: (None if v == "" and k != "full_name" else v) for k, v in data.items()}
        return data


class RefRegisterPersonP(RegisterPersonP):
    person: RefPersonP


class RefDoseP(DoseP):
    @model_validator(mode="after")
    def _day_of_administration(self) -> DoseP:
        at = datetime.fromisoformat(self.administered_at)
        if at.astimezone(VN_TZ).date().isoformat() != self.day:
            raise ValueError("day is not the site-local day of administered_at")
        if at.year < wire.MIN_YEAR and self.source != "history":
            raise ValueError("a dose before 2000 is only one copied from a paper certificate")
        if self.source == "site" and self.lot_id is None:
            raise ValueError("a dose given at the site names its lot")
        if (self.override_by is None) != (self.override_reason is None):
            raise ValueError("an override names its supervisor and its reason")
        return self


REFERENCE: dict[type[BaseModel], type[BaseModel]] = {DoseP: RefDoseP, RegisterPersonP: RefRegisterPersonP}


def _outcome(model: type[BaseModel], payload: object) -> tuple[str, object]:
    """``model.model_validate(payload)`` as an outcome: its values, or the fields refused."""
    try:
        got = model.model_validate(payload)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "payload" for e in exc.errors()})
        return "refused", fields[:20]
    return "parsed", (ops.wire(got), got.model_dump())  # type: ignore[arg-type]


def reference_parse(model: type[BaseModel], payload: object) -> tuple[str, object]:
    """What ``hub.payloads.parse`` answered before: the model's values, or the fields."""
    return _outcome(REFERENCE.get(model, model), payload)


def kernel_parse(model: type[BaseModel], payload: object) -> tuple[str, object]:
    """The kernel's model itself (what a station's ``model_validate`` answers)."""
    return _outcome(model, payload)


def hub_parse(model: type[BaseModel], payload: object) -> tuple[str, object]:
    try:
        got = parse(model, payload)  # type: ignore[arg-type]
    except Rejected as exc:
        assert exc.reason == "payload.invalid"
        return "refused", exc.detail["fields"]
    assert type(got) is model
    return "parsed", (ops.wire(got), got.model_dump())  # type: ignore[arg-type]


# ---- the corpus ------------------------------------------------------------------------

ID = "01a2410c-538b-73a5-8618-b4b95f7187ef"
TS = "2026-12-04T09:34:16+07:00"
TIMESTAMPS = [
    TS, "2026-12-04T02:34:16Z", "2026-12-04T02:34:16.123Z", "2026-12-04T09:34:16.123456+07:00",
    "2026-12-04T09:34:16.1234567+07:00", "2026-12-04T09:34:16.12+07:00", "2026-12-04 09:34:16+07:00",
    "2026-12-04T09:34+07:00", "2026-12-04T09+07:00", "20261204T093416+0700", "2026-W49-5T09:34:16+07:00",
    "2026-338T09:34:16+07:00", "2026-12-04T09:34:16", "2026-12-04", "2026-12-04T24:00:00Z",
    "2026-12-04T23:59:60Z", "2026-02-29T10:00:00Z", "2024-02-29T10:00:00Z", "2000-02-29T10:00:00Z",
    "1900-02-29T10:00:00Z", "1904-02-29T10:00:00Z", "2100-02-28T10:00:00Z", "2100-02-29T10:00:00Z",
    "2100-12-31T23:59:59-14:00", "2101-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "1999-12-31T16:59:59Z",
    "1900-01-01T00:00:00Z", "1899-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00",
    "2026-12-04T16:59:59Z", "2026-12-04T17:00:00Z", "2026-12-03T17:00:00Z", "2026-12-04T09:34:16+23:59",
    "2026-12-04T09:34:16-23:59", "2026-12-04T09:34:16+24:00", "2026-12-04T09:34:16+07:00:30",
    "2026-12-04T09:34:16+0700", "2026-12-04T09:34:16+07", "2026-12-04T09:34:16-00:00",
    "\uff12\uff10\uff12\uff16-12-04T09:34:16+07:00", "2026-12-04T09:34:16+07:00\n", " 2026-12-04T09:34:16+07:00",
    "2026-12-04t09:34:16+07:00", "2026-12-04T09:34:16z", "2026-12-04\"09:34:16+07:00", "sáng nay", "x" * 41,
    "2026-12-04T09:34:16.+07:00", "2026-12-04T9:34:16+07:00", "2026-1-04T09:34:16+07:00",
]
DAYS = [
    "2026-12-04", "2026-02-29", "2024-02-29", "2000-02-29", "1900-02-29", "1904-02-29", "2100-02-28",
    "2100-02-29", "2100-12-31", "2101-01-01", "1999-12-31", "1900-01-01", "1899-12-31", "2026-13-45",
    "2026-00-10", "2026-12-00", "2026-04-31", "2026-06-30", "2026-W49-5", "2026-338", "20261204", "2026-12-4",
    "\u0661\u0669\u0665\u0661-12-04", "2026-12-04\n", "2026/12/04", "0001-01-01", "9999-12-31",
]
BIRTHS = ["1951", "1900", "1899", "2100", "2101", "2099", "1951-12-04", "\u0661\u0669\u0665\u0661", "1951\n", "195", "19511", *DAYS]
ODD: list[object] = [
    None, "", " ", 0, 1, -1, 2, 21, 1000, 1001, 2**31, 2**63, 2**70, -(2**70), MAX_INT + 1, 1.0, 1.5, 0.25, 5.0,
    5.5, -0.0, math.nan, math.inf, -math.inf, True, False, [], {}, ["a"], {"a": 1}, "x" * 13, "x" * 33,
    "x" * 37, "x" * 201, "x" * 501, "x" * 1001, "x" * 2001, "x" * 5001, "x" * 20001, "\ud800", "a\x00b",
    "'; DROP TABLE person; --", "<script>alert(1)</script>", "Nguyễn Thị Đào", "0912345678", "091234567890123456",
    "001151345805", "123456789", "ABC123", "abc123", "cccd", "cmnd", "passport", "none", "F", "M", "history",
    "site", "primary", "booster", "left_deltoid", "eligible", "defer", "expected", "checked_in", "walk_in",
    "admin", "supervisor", "doctor_allowed", "merge", "keep_both", "severe", ID, "a-b", "-a", "a b", "75",
    "12345", "HEPB", "PEER-01", "peer_01", "dose.interval_short", HASH, "2026-12-04", TS, "1951",
]

PERSON = {
    "full_name": "Trần Kim Hồng Ngọc", "birth": "1951-12-04", "sex": "F", "id_type": "cccd",
    "id_number": "001151345805", "old_id_number": None, "phone": "0845203427", "province_code": "75",
    "ward_code": None, "address_line": "Số 12", "priority_group": 9, "occupation": None, "bhyt": None,
    "consent": True,
}
REG = {"id": ID, "person_id": None, "day": "2026-12-05", "source": "import", "status": "expected",
       "queue_label": None, "import_ref": None}
DOSE = {
    "id": ID, "person_id": ID, "site_code": "PEER-01", "vaccine_code": "HEPB", "lot_id": ID,
    "lot_number": "TE3128X", "dose_number": 1, "kind": "primary", "administered_at": TS, "day": "2026-12-04",
    "recorded_at": TS, "vaccinator_id": ID, "screening_id": None, "injection_site": "left_deltoid",
    "source": "site", "observe_until": TS, "volume_ml": 0.5, "override_by": None, "override_reason": None,
    "confirmed": [], "overridden": None,
}
BASES: list[tuple[type[BaseModel], dict[str, Any]]] = [
    (DoseP, DOSE),
    (DoseP, DOSE | {"administered_at": "2023-05-17T07:44:00Z", "day": "2023-05-17", "source": "history",
                    "lot_id": None, "volume_ml": None, "observe_until": None}),
    (RegisterPersonP, {"person": PERSON, "registration": REG}),
    (RegisterPersonP, {"person": PERSON | {"id_type": "none", "id_number": None, "birth": "1951"}, "registration": None}),
    (AddRegistrationP, {"registration": REG | {"person_id": ID}}),
    (UpdatePersonP, {"fields": {"phone": {"old": "0845203427", "new": "0912345678"}, "priority_group": {"old": None, "new": 3}}}),
    (CheckInP, {"queue_label": "A1", "checked_in_at": TS}),
    (ScreeningP, {"id": ID, "person_id": ID, "registration_id": None, "site_code": "PEER-01", "day": "2026-12-04",
                  "form_id": "4355-2021-09", "answers": "{}", "vitals": "{}", "suggested_outcome": "eligible",
                  "outcome": "eligible", "override_reason": None, "screener_id": ID, "screened_at": TS,
                  "registration_status": "cleared"}),
    (VoidP, {"reason": "nhầm", "voided_at": TS}),
    (ObserveP, {"observed_at": TS, "early_reason": None}),
    (AdverseP, {"id": ID, "dose_id": ID, "person_id": ID, "severity": "common", "description": "sốt nhẹ",
                "onset_at": TS, "recorded_by": ID, "recorded_at": TS}),
    (LotP, {"id": ID, "site_code": "PEER-01", "vaccine_code": "HEPB", "lot_number": "TE3128X",
            "expiry": "2027-06-30", "doses_received": 500, "received_on": "2026-11-30", "active": 1, "updated_at": TS}),
    (UserP, {"id": ID, "site_code": "PEER-01", "username": "admin", "display_name": "Quản trị viên", "role": "admin",
             "password_hash": HASH, "active": 1, "created_at": TS, "updated_at": TS}),
    (ResolveP, {"review_id": ID, "action": "merge", "params": {"from_id": ID, "to_id": ID}, "reason": "trùng"}),
]


def _values_for(field: str) -> list[object]:
    if field in ("birth",):
        return [*ODD, *BIRTHS]
    if field == "day" or field.endswith(("_on", "expiry")):
        return [*ODD, *DAYS]
    return [*ODD, *TIMESTAMPS, *DAYS[:6]]


def _mutations(base: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [base, {}, {k: v for k, v in base.items() if v is not None}]
    for field in [*base, "extra_key", "Person", "id_number"]:
        out.append({k: v for k, v in base.items() if k != field})
        for value in _values_for(field):
            out.append(base | {field: value})
    for field, inner in base.items():
        if isinstance(inner, dict):
            for sub in [*inner, "extra_key"]:
                out.append(base | {field: {k: v for k, v in inner.items() if k != sub}})
                for value in _values_for(sub):
                    out.append(base | {field: inner | {sub: value}})
    return out


def _coherent_doses() -> list[dict[str, Any]]:
    """Doses whose ``day`` is the local day of each timestamp shape Python reads."""
    out = []
    for ts in TIMESTAMPS:
        try:
            at = datetime.fromisoformat(ts)
        except ValueError:
            continue
        try:
            day = at.astimezone(VN_TZ).date().isoformat()
        except (OverflowError, ValueError):  # year 1 or 9999 pushed past the calendar
            continue
        for source in ("site", "history"):
            out.append(DOSE | {"administered_at": ts, "day": day, "source": source})
    return out


# ---- the fast validators -------------------------------------------------------------


def _rust_match(pattern: str, value: str) -> bool:
    v = SchemaValidator(core_schema.str_schema(pattern=pattern))
    try:
        v.validate_python(value)
    except ValidationError:
        return False
    return True


def _python_accepts(check: Any, value: str) -> bool:
    try:
        check(value)
    except ValueError:
        return False
    return True


def test_each_pattern_matches_only_what_its_python_check_accepts() -> None:
    """Every calendar day 1890..2110 (and impossible ones), in every shape of the corpus:
    a value a pattern matches is one its Python check accepts; and the usual values match."""
    validators = {check: SchemaValidator(core_schema.str_schema(pattern=p)) for check, p in wire_fast.FAST_PATTERNS.items()}
    days = []
    d = date(1890, 1, 1)
    while d <= date(2110, 12, 31):
        days.append(d.isoformat())
        d += timedelta(days=1)
    days += [f"{y}-{m:02d}-{dd:02d}" for y in (1900, 1999, 2000, 2023, 2024, 2100) for m in (0, 2, 4, 13) for dd in (0, 29, 30, 31, 32)]
    stamps = [f"{day}T{t}" for day in days[::7] for t in ("09:34:16+07:00", "23:59:59.999Z", "00:00:00-23:59")]
    values = days + stamps + TIMESTAMPS + DAYS + BIRTHS + [str(y) for y in range(1890, 2111)]
    matched: Counter[str] = Counter()
    for check, validator in validators.items():
        for value in values:
            try:
                validator.validate_python(value)
            except ValidationError:
                continue
            matched[check.__name__] += 1
            assert _python_accepts(check, value), (check.__name__, value)
    # The usual shapes do take the fast path.
    for check, value in [(wire._timestamp, TS), (wire._timestamp, "2026-12-04T02:34:16.123Z"),
                         (wire._history_timestamp, "1995-06-01T08:00:00Z"), (wire._day, "2024-02-29"),
                         (wire._history_day, "1995-06-01"), (ops._birth, "1951"), (ops._birth, "1951-12-04")]:
        assert _rust_match(wire_fast.FAST_PATTERNS[check], value), (check.__name__, value)
    assert min(matched.values()) > 100, matched


@pytest.mark.parametrize("model", [m for m, _ in BASES] + [PushRequest])
def test_a_fast_validator_calls_no_python_check_of_a_value(model: type[BaseModel]) -> None:
    """pydantic-core would reuse a nested model's own validator (its Python checks): the
    fast one is built from the swapped schema all the way down."""
    fast = wire_fast.fast_validator(model)
    if fast is None:  # a model without such checks (update_person, resolve_review) keeps its own
        assert model in (UpdatePersonP, ResolveP)
        fast = model.__pydantic_validator__  # type: ignore[assignment]
    assert fast is not None
    data: object
    if model is PushRequest:
        data = json.dumps(_body([_op("record_dose", DOSE), _op("register_person", {"person": PERSON, "registration": REG})]))
    else:
        data = next(b for m, b in BASES if m is model)
    calls: Counter[str] = Counter()

    def profile(frame: Any, event: str, _arg: Any) -> None:
        if event == "call":
            calls[frame.f_code.co_name] += 1

    sys.setprofile(profile)
    try:
        got = fast.validate_json(data) if isinstance(data, str) else fast.validate_python(data)
    finally:
        sys.setprofile(None)
    assert type(got) is model
    checks = {f.__name__ for f in wire_fast.FAST_PATTERNS} | {"valid_birth", "parse_day"}
    assert not checks & set(calls), calls


def test_the_sites_day_of_a_timestamp_read_off_the_text_is_the_datetimes() -> None:
    for day in range(0, 800, 3):
        base = datetime(2023, 1, 1, tzinfo=VN_TZ) + timedelta(days=day, minutes=day * 37)
        for at in (base, base.astimezone(datetime.now().astimezone().tzinfo), base.replace(tzinfo=None)):
            if at.tzinfo is None:
                at = at.replace(tzinfo=VN_TZ)
            for text in (at.isoformat(timespec="seconds"), at.astimezone(VN_TZ).isoformat(timespec="seconds"),
                         at.astimezone(VN_TZ).isoformat(timespec="seconds")[:19] + "Z"):
                try:
                    ref = datetime.fromisoformat(text)
                except ValueError:
                    continue
                want = (ref.astimezone(VN_TZ).date().isoformat(), ref.year)
                assert ops._site_day(text) == want, text
    for hour in range(24):
        text = f"2026-12-04T{hour:02d}:30:00Z"
        assert ops._site_day(text) == ("2026-12-04" if hour < 17 else "2026-12-05", 2026), text
    for text in ("2026-W49-5T10:00:00+07:00", "2026-12-04 10:00:00+07:00", "2026-12-04T10:00:00.5+07:00"):
        ref = datetime.fromisoformat(text)
        assert ops._site_day(text) == (ref.astimezone(VN_TZ).date().isoformat(), ref.year), text


# ---- payloads: hub.payloads.parse against the models as they were --------------------


@pytest.mark.parametrize("model,base", BASES, ids=[f"{m.__name__}-{i}" for i, (m, _) in enumerate(BASES)])
def test_every_payload_parses_or_is_refused_as_before(model: type[BaseModel], base: dict[str, Any]) -> None:
    corpus = _mutations(base)
    if model is DoseP:
        corpus += _coherent_doses()
    outcomes: Counter[str] = Counter()
    for payload in corpus:
        want = reference_parse(model, payload)
        got = hub_parse(model, payload)
        assert got == want, (model.__name__, payload)
        assert kernel_parse(model, payload) == want, (model.__name__, payload)
        outcomes[want[0]] += 1
    assert outcomes["parsed"] >= 20 and outcomes["refused"] >= 50, outcomes


def test_a_payload_the_fast_validator_refuses_gets_the_models_own_answer() -> None:
    """Values the patterns leave to Python (a paper certificate's 1995 dose, a week date,
    microseconds of seven digits) are accepted as before; wrong ones name their field."""
    history = DOSE | {"administered_at": "1995-06-01T08:00:00Z", "day": "1995-06-01", "source": "history"}
    assert hub_parse(DoseP, history) == reference_parse(DoseP, history)
    assert hub_parse(DoseP, history)[0] == "parsed"
    week = DOSE | {"administered_at": "2026-W49-5T09:34:16+07:00", "recorded_at": "2026-12-04T09:34:16.1234567+07:00"}
    assert hub_parse(DoseP, week)[0] == "parsed"
    assert hub_parse(DoseP, DOSE | {"day": "2026-02-30"}) == ("refused", ["day"])
    assert hub_parse(DoseP, DOSE | {"day": "2026-12-05"}) == ("refused", ["payload"])
    person = {"person": PERSON | {"birth": "1951\n"}, "registration": REG}
    assert hub_parse(RegisterPersonP, person) == reference_parse(RegisterPersonP, person)


# ---- whole bodies: parse_body against its first definition ---------------------------


def reference_parse_body(body: bytes) -> tuple[str, object]:
    """``parse_body`` as it stood before phase 8 (pydantic's JSON parser, then json.loads)."""
    try:
        return "parsed", repr(PushRequest.model_validate_json(body).model_dump())
    except ValidationError as exc:
        if not any(e["type"] == "json_invalid" for e in exc.errors(include_url=False)):
            return "422", _body_errors(exc)
    try:
        obj = json.loads(body)
    except ValueError:
        return "400", "request.malformed_json"
    try:
        return "parsed", repr(PushRequest.model_validate(obj).model_dump())
    except ValidationError as exc2:
        return "422", _body_errors(exc2)


def hub_parse_body(body: bytes) -> tuple[str, object]:
    try:
        return "parsed", repr(parse_body(PushRequest, body).model_dump())
    except RequestValidationError as exc:
        return "422", list(exc.errors())
    except HubError as exc:
        assert exc.status == 400
        return "400", exc.code


def _op(op_type: str, payload: dict[str, Any], **over: Any) -> dict[str, Any]:
    return {
        "op_id": str(uuid.UUID(int=len(payload) * 7919 + 1, version=4)), "op_seq": 1, "op_type": op_type,
        "op_version": 1, "entity_type": "dose", "entity_id": ID, "base_version": None, "payload": payload,
        "hlc": "1796387656437-00000", "recorded_at": TS, "user_id": ID,
    } | over


def _body(ops_: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    return {"protocol_version": 1, "station_id": ID, "replica_epoch": ID, "schema_version": "0007",
            "sent_at": TS, "ops": ops_} | over


def _bodies() -> list[bytes]:
    good = [_op("record_dose", DOSE), _op("register_person", {"person": PERSON, "registration": REG}, op_seq=2)]
    out: list[bytes] = []
    for value in [*TIMESTAMPS, *ODD[:30], "x" * 65]:
        if isinstance(value, float) and not math.isfinite(value):
            continue
        for key in ("recorded_at", "op_seq", "hlc", "user_id", "entity_id", "op_type", "base_version", "op_id"):
            out.append(json.dumps(_body([good[0] | {key: value}, good[1]])).encode())
        for key in ("sent_at", "station_id", "replica_epoch", "schema_version", "protocol_version"):
            out.append(json.dumps(_body(good, **{key: value})).encode())
    out.append(json.dumps(_body([_op("record_dose", {f"k{i}": i for i in range(65)})])).encode())
    out.append(json.dumps(_body([_op("not_an_op", DOSE)])).encode())
    out.append(json.dumps(_body([good[0] | {"extra": 1}])).encode())
    out.append(json.dumps(_body([], extra=1)).encode())
    out.append(json.dumps(_body([good[0]] * 1001)).encode())
    raw = json.dumps(_body(good))
    for marker in ("NaN", "Infinity", "-Infinity", "1e400", str(2**70), '"\\ud800"', '"a\\u0000b"', '"\\b"'):
        out.append(raw.replace('"TE3128X"', marker).encode())
        out.append(raw.replace('"hlc": "1796387656437-00000"', f'"hlc": {marker}', 1).encode())
    out += [raw.encode(), b"{not json", b"[1, 2", b"", b"null", b"[]", b'{"station_id": 5}', raw[:-1].encode()]
    return out


def test_every_body_parses_or_is_refused_as_before() -> None:
    outcomes: Counter[str] = Counter()
    for body in _bodies():
        want = reference_parse_body(body)
        assert hub_parse_body(body) == want, body[:300]
        outcomes[want[0]] += 1
    assert outcomes["parsed"] >= 30 and outcomes["422"] >= 100 and outcomes["400"] >= 2, outcomes


# ---- over real HTTP ----------------------------------------------------------------------


def test_bad_payloads_are_refused_op_by_op_and_the_push_goes_on(hub: Hub) -> None:
    desk = Desk.enroll(hub, "PE-A")
    walk_in = desk.walk_in(new_cccd())
    assert [r["status"] for r in desk.push([walk_in])] == ["applied"]
    pid = walk_in["entity_id"]
    bad: list[dict[str, Any]] = [
        {"administered_at": "2026-12-01T09:00:00+24:00"}, {"administered_at": "2026-W49-5T09:00:00+07:00"},
        {"day": "2026-02-29"}, {"day": "2100-02-29"}, {"recorded_at": "2101-01-01T00:00:00Z"},
        {"dose_number": "một"}, {"dose_number": 21}, {"vaccine_code": "'; DROP TABLE dose; --"},
        {"lot_number": "x" * 33}, {"kind": None}, {"volume_ml": 7}, {"override_by": "a b"},
        {"observe_until": "1999-12-31T23:59:59Z"}, {"injection_site": "<script>"},
    ]
    ops_, expect = [], []
    for over in bad:
        good = desk.dose(pid, dose_number=len(ops_) // 2 + 1)
        ops_.append(good)
        expect.append(("applied", None))
        op = desk.dose(pid, **over)
        ops_.append(op)
        kind, fields = reference_parse(DoseP, op["payload"])
        assert kind == "refused", over
        expect.append(("rejected", fields))
    results = desk.push(ops_)
    got = [(r["status"], r["detail"].get("fields") if r["status"] == "rejected" else None) for r in results]
    assert got == expect
    assert all(r["reason"] == "payload.invalid" for r in results if r["status"] == "rejected")
    assert hub.count("dose") == len(bad)
    # A person whose birth or registration day does not fit: refused alone, named.
    born = desk.walk_in(new_cccd())
    born["payload"]["person"]["birth"] = "1900-02-29"
    late = desk.walk_in(new_cccd())
    late["payload"]["registration"]["day"] = "2026-04-31"
    empty = desk.walk_in(new_cccd())
    empty["payload"]["person"] |= {"phone": "", "sex": "", "address_line": ""}  # "" is None
    results = desk.push([born, late, empty])
    assert [(r["status"], r["detail"].get("fields")) for r in results[:2]] == [
        ("rejected", ["person.birth"]), ("rejected", ["registration.day"])]
    assert results[2]["status"] == "applied"
    # An op's own values are the protocol's: one bad one refuses the whole request.
    before = hub.count("applied_op")
    for over in ({"recorded_at": "2026-12-01T09:00:00+24:00"}, {"op_type": "record_vaccine"}, {"op_seq": 2**70}):
        r = desk.post([desk.dose(pid, dose_number=9) | over])
        assert r.status_code == 422 and r.json()["code"] == "request.invalid", (over, r.text)
        assert next(iter(over)) == r.json()["detail"]["errors"][0]["loc"][-1]
    # What no database should see, anywhere in the body, refuses it whole too (check_safe).
    # (``\b`` and ``\f``, JSON's short escapes of two control characters, went unchecked
    # before phase 8: the quick scan of the body looked for ``\u00…`` escapes only.)
    for value in (2**70, "a\x00b", "\ud800", "a\bb", "a\fb"):
        op = desk.dose(pid, dose_number=9)
        op["payload"]["lot_number"] = value
        raw = json.dumps(desk.body([op])).encode()  # ASCII: the surrogate as its escape
        r = hub.client.post(hub.api + "/push", content=raw, headers=desk.headers | {"Content-Type": "application/json"})
        assert r.status_code == 422 and r.json()["code"] == "request.invalid", (value, r.text)
    # A number past a float's range (read as infinity) under a key no payload model reads:
    # the quick scan let it through unchecked before (phase 8's note), it would have
    # reached the ledger's hash and a site hub's forwarded copy.
    for number in ("1e400", "-2E+999", "9.5e0400"):
        op = desk.dose(pid, dose_number=9)
        op["payload"]["figure"] = 12345
        raw = json.dumps(desk.body([op])).replace('"figure": 12345', f'"figure": {number}').encode()
        r = hub.client.post(hub.api + "/push", content=raw, headers=desk.headers | {"Content-Type": "application/json"})
        assert r.status_code == 422 and r.json()["code"] == "request.invalid", (number, r.text)
    assert hub.count("applied_op") == before
