"""The ops' payloads as the hub parses them: the models of ``kernel.ops``, and the refusal.

The models are defined once, in ``kernel.ops`` (the station services build their
payloads with them); this module keeps the names the appliers (hub/apply/)
import, and turns a payload that does not fit into ``rejected
payload.invalid`` with the failing fields (never their values). docs/protocol.md
lists the bounds.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import TypeVar

from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as PydanticValidationError

from hub.errors import Rejected
from kernel import wire_fast
from kernel.ops import (
    ACTIONS_BY_KIND,
    CONTACT_FIELDS,
    EDITABLE_FIELDS,
    ID_SHAPES,
    IDENTITY_FIELDS,
    REQUIRED_FIELDS,
    AddRegistrationP,
    AdverseP,
    CheckInP,
    DoseP,
    FieldChange,
    LotP,
    ObserveP,
    PersonP,
    RegisterPersonP,
    RegP,
    ResolveP,
    ResolveParamsP,
    ScreeningP,
    UpdatePersonP,
    UserP,
    VoidP,
    valid_birth,
)
from kernel.ops import series as _series

# The disease series of a vaccine code, remembered (issue 15: the planner asks it for
# every dose a person already has; ``kernel.ops.series`` imports and looks up the
# catalog, which is read once per process, each time). Bounded: codes come from ops.
series = lru_cache(maxsize=1024)(_series)

# The payload models' validators with the usual values checked in pydantic-core
# (kernel.wire_fast), built now, at import, before any push.
wire_fast.prepare(
    AddRegistrationP, AdverseP, CheckInP, DoseP, LotP, ObserveP, RegisterPersonP, ResolveP, ScreeningP,
    UpdatePersonP, UserP, VoidP,
)

_FIELD_ADAPTERS: dict[str, TypeAdapter[object]] = {k: TypeAdapter(t) for k, t in EDITABLE_FIELDS.items()}


def check_field_value(fld: str, value: object) -> object:
    """A new value for a person field, parsed (``Rejected`` if it does not fit)."""
    if fld not in EDITABLE_FIELDS:
        raise Rejected("field.not_editable", field=fld)
    if value is None:
        if fld in REQUIRED_FIELDS:
            raise Rejected("payload.invalid", fields=[f"fields.{fld}.new"])
        return None
    if fld == "priority_group" and isinstance(value, str) and value.isdigit() and len(value) <= 4:
        value = int(value)  # stations may write the group as text
    if isinstance(value, bool):
        raise Rejected("payload.invalid", fields=[f"fields.{fld}.new"])
    try:
        return _FIELD_ADAPTERS[fld].validate_python(value, strict=True)
    except PydanticValidationError:
        raise Rejected("payload.invalid", fields=[f"fields.{fld}.new"]) from None


M = TypeVar("M", bound=BaseModel)

# The payloads the bulk planner parsed and then declined, in the current push (issue 15):
# the op's ORM applier reads the planner's model (or its refusal, as its field list)
# instead of validating the payload again. Only declined ops are kept (a memo of every
# payload cost more than it saved: more live objects for the garbage collector). Keyed
# by the payload dict's identity; the memo holds the dict too, so no other dict can take
# its id while it is open. The models are frozen, so sharing one is safe.
_Memo = dict[tuple[int, type[BaseModel]], tuple[dict[str, object], BaseModel | list[str]]]
_PARSED: ContextVar[_Memo | None] = ContextVar("parsed", default=None)


@contextmanager
def parsed_once() -> Iterator[None]:
    """Within (a push): a payload the planner parsed is not validated again by its applier."""
    token = _PARSED.set({})
    try:
        yield
    finally:
        _PARSED.reset(token)


def remember(payload: dict[str, object], model: type[BaseModel], got: BaseModel | Rejected) -> None:
    """The planner parsed ``payload`` as ``model`` (or was refused) and declined the op."""
    memo = _PARSED.get()
    if memo is None:
        return
    value: BaseModel | list[str] = got if isinstance(got, BaseModel) else []
    if isinstance(got, Rejected):
        fields = got.detail.get("fields")  # parse's refusal always names its fields
        value = [str(f) for f in fields] if isinstance(fields, list) else []
    memo[(id(payload), model)] = (payload, value)


def parse(model: type[M], payload: dict[str, object]) -> M:
    """``payload`` as ``model``, or ``Rejected payload.invalid`` naming the failing fields."""
    memo = _PARSED.get()
    if memo:
        got = memo.get((id(payload), model))
        if got is not None and got[0] is payload:
            if isinstance(got[1], model):
                return got[1]
            if isinstance(got[1], list):  # refused before: refused again, the same way
                raise Rejected("payload.invalid", fields=list(got[1]))
    try:
        # The model's own answer; the usual values checked in pydantic-core alone (issue 15).
        return wire_fast.validate(model, payload)
    except PydanticValidationError as exc:
        # Locations and error types only: the inputs may be personal data.
        fields = sorted({".".join(str(p) for p in e["loc"]) or "payload" for e in exc.errors()})
        raise Rejected("payload.invalid", fields=fields[:20]) from None


__all__ = [
    "ACTIONS_BY_KIND",
    "CONTACT_FIELDS",
    "EDITABLE_FIELDS",
    "IDENTITY_FIELDS",
    "ID_SHAPES",
    "REQUIRED_FIELDS",
    "AddRegistrationP",
    "AdverseP",
    "CheckInP",
    "DoseP",
    "FieldChange",
    "LotP",
    "ObserveP",
    "PersonP",
    "RegP",
    "RegisterPersonP",
    "ResolveP",
    "ResolveParamsP",
    "ScreeningP",
    "UpdatePersonP",
    "UserP",
    "VoidP",
    "check_field_value",
    "parse",
    "parsed_once",
    "remember",
    "series",
    "valid_birth",
]
