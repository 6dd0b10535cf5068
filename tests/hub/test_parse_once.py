"""A push validates each op's payload once (issue 15).

The bulk planner parses a walk-in's, screening's or dose's payload to plan it; when
it declines the op (a merge, a redirect, a possible duplicate, a refusal) the op's
ORM applier needs the same model. Both read it from the push's memo
(``hub.payloads.parsed_once``) instead of validating the payload a second time.

The seeded op streams of ``test_bulk_entry_points`` (walk-ins with a CCCD already
registered, phone twins, same-day duplicate doses, doses of merged people, broken
payloads, retries) are pushed to a real SQLite hub; a spy counts pydantic validations
per payload. Without the memo the same streams validate payloads twice: the test
shows that too, so it can fail.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

import hub.ingest
from hub import payloads
from hub.errors import Rejected
from hub.ingest import process_push
from tests.hub.test_bulk_entry_points import _new_db, _schedule

_PAYLOAD_MODELS = {payloads.RegisterPersonP, payloads.ScreeningP, payloads.DoseP}


def _validations_per_payload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str) -> Counter[Any]:
    """Push the seeded streams; count validations per (push, payload, model)."""
    seen: Counter[Any] = Counter()
    push_no = [0]
    real = payloads.wire_fast.validate  # the one validation of a payload (its model's answer)

    def spy(cls: type[BaseModel], obj: Any) -> Any:
        if cls in _PAYLOAD_MODELS:
            seen[(push_no[0], id(obj), cls.__name__)] += 1
        return real(cls, obj)

    monkeypatch.setattr(payloads.wire_fast, "validate", spy)
    schedule, stations = _schedule(1)
    db = _new_db(f"sqlite:///{tmp_path / name}", stations)
    try:
        for station_id, req, now in schedule:
            push_no[0] += 1
            with contextlib.suppress(Exception):  # replica.regressed answers are part of the streams
                process_push(db, station_id, req, now=now)
    finally:
        db.dispose()
    return seen


def test_each_payload_is_validated_once_per_push(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _validations_per_payload(tmp_path, monkeypatch, "once.db")
    assert len(seen) > 200, "the streams validated (almost) no payload"
    twice = {k: n for k, n in seen.items() if n > 1}
    assert twice == {}


def test_without_the_memo_declined_ops_are_validated_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The control: the same streams without ``parsed_once`` validate some payloads
    twice (planner, then ORM applier), so the test above can fail."""
    monkeypatch.setattr(hub.ingest, "parsed_once", contextlib.nullcontext)
    seen = _validations_per_payload(tmp_path, monkeypatch, "twice.db")
    assert sum(1 for n in seen.values() if n > 1) >= 5


def test_the_memo_keeps_declined_payloads_and_refusals_per_push() -> None:
    good = {"person": {"full_name": "Nguyễn Văn An", "birth": "1990-01-02", "sex": "M"}}
    with payloads.parsed_once():
        first = payloads.parse(payloads.RegisterPersonP, good)
        assert payloads.parse(payloads.RegisterPersonP, good) is not first  # only a declined op is kept
        payloads.remember(good, payloads.RegisterPersonP, first)
        assert payloads.parse(payloads.RegisterPersonP, good) is first
        bad: dict[str, object] = {"person": {"full_name": ""}}
        refusals = []
        for _ in range(2):  # a refusal the planner declined on is refused again, the same way
            with pytest.raises(Rejected) as exc:
                payloads.parse(payloads.RegisterPersonP, bad)
            refusals.append((exc.value.reason, exc.value.detail))
            payloads.remember(bad, payloads.RegisterPersonP, exc.value)
        assert refusals[0] == refusals[1]
        assert refusals[0][0] == "payload.invalid" and "person.full_name" in refusals[0][1]["fields"]
    assert payloads.parse(payloads.RegisterPersonP, good) is not first  # outside a push: no memo
