"""Reading the reference data files: one cached JSON load per file, and typed field checks.

Every check raises :class:`~kernel.refdata_types.RefDataError` naming the file and
entry (``where``): a malformed data file is a packaging bug, never a user error.
A loaded file is ``object`` (JSON of unknown shape): the checks below narrow each
value with ``isinstance`` to the type the caller asked for.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import TypeVar

from kernel.refdata_types import RefDataError

_PACKAGE = "kernel.data"

T = TypeVar("T")


@lru_cache(maxsize=8)
def load_json(filename: str) -> object:
    try:
        text = resources.files(_PACKAGE).joinpath(filename).read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise RefDataError(f"{filename}: missing from {_PACKAGE}") from exc
    try:
        parsed: object = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RefDataError(f"{filename}: invalid JSON ({exc})") from exc
    return parsed


def has(obj: object, key: str) -> bool:
    """Whether ``obj`` is a JSON object holding ``key``."""
    return isinstance(obj, dict) and key in obj


def get(obj: object, key: str, default: object = None) -> object:
    """``obj[key]`` when ``obj`` is a JSON object holding ``key``, else ``default`` (as ``dict.get``)."""
    if isinstance(obj, dict):
        value: object = obj.get(key, default)
        return value
    return default


def _present(obj: object, key: str, where: str) -> object:
    if not isinstance(obj, dict) or key not in obj:
        raise RefDataError(f"{where}: missing {key!r}")
    value: object = obj[key]
    return value


def req(obj: object, key: str, typ: type[T], where: str) -> T:
    value = _present(obj, key, where)
    if isinstance(value, bool) and typ is not bool:
        raise RefDataError(f"{where}: {key!r} must not be a boolean")
    if not isinstance(value, typ):
        raise RefDataError(f"{where}: {key!r} has type {type(value).__name__}")
    return value


def req_list(obj: object, key: str, where: str) -> list[object]:
    """A JSON array; its items are still of unknown shape (each is checked where it is read)."""
    return list(req(obj, key, list, where))


def opt_int(obj: object, key: str, where: str) -> int | None:
    if _present(obj, key, where) is None:
        return None
    value = req(obj, key, int, where)
    if value < 0:
        raise RefDataError(f"{where}: {key!r} must be >= 0")
    return value


def opt_float(obj: object, key: str, where: str) -> float | None:
    if not has(obj, key):
        return None
    value = _present(obj, key, where)
    if value is None:
        return None
    if isinstance(value, bool):
        raise RefDataError(f"{where}: {key!r} must not be a boolean")
    if not isinstance(value, int | float):
        raise RefDataError(f"{where}: {key!r} has type {type(value).__name__}")
    return float(value)


def str_tuple(obj: object, key: str, where: str, default: bool = False) -> tuple[str, ...]:
    if default and not has(obj, key):
        return ()
    values = req_list(obj, key, where)
    strings = tuple(v for v in values if isinstance(v, str))
    if len(strings) != len(values):
        raise RefDataError(f"{where}: {key!r} must be a list of strings")
    return strings


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def opt_day(obj: object, key: str, where: str) -> str | None:
    """An optional ISO day (``YYYY-MM-DD``): rules compare days as strings."""
    if get(obj, key) is None:
        return None
    value = req(obj, key, str, where)
    if not _ISO_DAY.match(value):
        raise RefDataError(f"{where}: {key!r} must be YYYY-MM-DD")
    return value


def opt_volume(obj: object, key: str, where: str) -> float | None:
    value = opt_float(obj, key, where)
    if value is not None and not 0 < value <= 5:
        raise RefDataError(f"{where}: {key!r} must be a volume in ml (0-5]")
    return value
