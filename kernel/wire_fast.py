"""Validators of the wire's models with the common values checked in pydantic-core alone.

The bounded values of ``kernel.wire`` and ``kernel.ops`` (timestamps, days, dates of
birth) are checked by Python functions (``datetime.fromisoformat``, ``date.fromisoformat``):
a call from pydantic-core into Python for every one, three or four per op (issue 15: half
of a dose payload's validation). :func:`fast_validator` builds, from a model's own core
schema, a validator in which each such check is a regular expression instead, one that
matches only values the Python function accepts (the usual shapes: ``2026-12-04T19:34:16
+07:00``, ``…Z``, milliseconds; real calendar days, leap years included). Everything else
in the schema (lengths, patterns, enumerations, the model's own validators) is the model's.

So a value the fast validator accepts, the model accepts, and parses to the same instance
(the checks return the text unchanged); a value it refuses may still be one the model
accepts (a timestamp written another way, a year before 2000 of a paper certificate):
:func:`validate` then asks the model itself, whose answer (the instance, or its errors)
is the answer. ``tests/hub/test_parse_edge.py`` holds both to the same outcome.

Pure (pydantic only), like ``kernel.wire``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic._internal._config import ConfigWrapper
from pydantic_core import SchemaValidator

from kernel import ops, wire

# Rust's regex syntax (no look-arounds): ``[0-9]``, not ``\d`` (which is Unicode there).
_MD = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
# 29 February of the leap years 1904..2096 (2000 is one; 1900 and 2100 are not).
_LEAP_20 = r"20(?:0[048]|[2468][048]|[13579][26])-02-29"
_LEAP_19 = r"19(?:0[48]|[2468][048]|[13579][26])-02-29"
# Calendar days of the years 2000..2099 and 1900..2099 (2100 is left to the model).
_DATE_2000 = rf"(?:20[0-9]{{2}}-{_MD}|{_LEAP_20})"
_DATE_1900 = rf"(?:(?:19|20)[0-9]{{2}}-{_MD}|{_LEAP_20}|{_LEAP_19})"
_TIME = r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]{3}|\.[0-9]{6})?"
_OFFSET = r"(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])"

# The keys of a core schema node whose values are not schemas (a walk does not enter them).
_OPAQUE = frozenset({"metadata", "function", "cls", "config"})

# Each Python check of a value, and a pattern that matches only values it accepts.
FAST_PATTERNS: dict[Callable[..., Any], str] = {
    wire._timestamp: rf"^{_DATE_2000}T{_TIME}{_OFFSET}$",
    wire._history_timestamp: rf"^{_DATE_1900}T{_TIME}{_OFFSET}$",
    wire._day: rf"^{_DATE_2000}$",
    wire._history_day: rf"^{_DATE_1900}$",
    ops._birth: rf"^(?:(?:19|20)[0-9]{{2}}|{_DATE_1900})$",
}


def _swap(node: Any) -> tuple[Any, int]:
    """``node`` (a core schema, or part of one) with each Python check of
    :data:`FAST_PATTERNS` on a plain string replaced by its pattern; and how many."""
    if isinstance(node, list):
        out_list, total = [], 0
        for item in node:
            new, n = _swap(item)
            out_list.append(new)
            total += n
        return out_list, total
    if not isinstance(node, dict):
        return node, 0
    if node.get("type") == "function-after":
        fn = node.get("function", {}).get("function")
        inner = node.get("schema", {})
        if fn in FAST_PATTERNS and inner.get("type") == "str" and "pattern" not in inner:
            return {**inner, "pattern": FAST_PATTERNS[fn]}, 1
    out: dict[str, Any] = {}
    total = 0
    for key, value in node.items():
        if key in _OPAQUE:
            out[key] = value
            continue
        new, n = _swap(value)
        out[key] = new
        total += n
    return out, total


M = TypeVar("M", bound=BaseModel)


def _classes(node: Any, found: set[type]) -> set[type]:
    """The model classes a core schema builds instances of."""
    if isinstance(node, list):
        for item in node:
            _classes(item, found)
    elif isinstance(node, dict):
        if node.get("type") == "model" and isinstance(node.get("cls"), type):
            found.add(node["cls"])
        for key, value in node.items():
            if key not in _OPAQUE:
                _classes(value, found)
    return found


_BUILD = threading.RLock()
_FAST: dict[type[BaseModel], SchemaValidator | None] = {}


def fast_validator(model: type[BaseModel]) -> SchemaValidator | None:
    """The model's validator with its value checks as patterns (None: it has none)."""
    with _BUILD:
        model.model_rebuild()  # a deferred model builds its schema now
        schema, swapped = _swap(model.__pydantic_core_schema__)
        if not swapped:
            return None
        config = ConfigWrapper(model.model_config).core_config(title=model.__name__)
        # pydantic-core builds a nested model whose class is complete with that class's
        # own validator (its Python checks): while this one is built, the classes say they
        # are not, so every model in it is built from the schema given here. Under the
        # lock, and done once per model (:func:`prepare` at the hub's import).
        classes = _classes(schema, set())
        saved = {cls: cls.__dict__.get("__pydantic_complete__", False) for cls in classes}
        try:
            for cls in classes:
                type.__setattr__(cls, "__pydantic_complete__", False)
            return SchemaValidator(schema, config)
        finally:
            for cls, was in saved.items():
                type.__setattr__(cls, "__pydantic_complete__", was)


def _fast(model: type[BaseModel]) -> SchemaValidator | None:
    try:
        return _FAST[model]
    except KeyError:
        with _BUILD:
            if model not in _FAST:
                _FAST[model] = fast_validator(model)
            return _FAST[model]


def prepare(*models: type[BaseModel]) -> None:
    """Build the fast validators of ``models`` now (at import, before any request)."""
    for model in models:
        _fast(model)


def validate(model: type[M], data: object) -> M:
    """``model.model_validate(data)``: the same instance, or the same ``ValidationError``."""
    fast = _fast(model)
    if fast is not None:
        try:
            got = fast.validate_python(data)
        except ValidationError:
            pass  # the model decides (a value written another way, or a refusal)
        else:
            assert type(got) is model
            return got
    return model.model_validate(data)


def validate_json(model: type[M], data: bytes) -> M:
    """``model.model_validate_json(data)``: the same instance, or the same ``ValidationError``."""
    fast = _fast(model)
    if fast is not None:
        try:
            got = fast.validate_json(data)
        except ValidationError:
            pass
        else:
            assert type(got) is model
            return got
    return model.model_validate_json(data)
