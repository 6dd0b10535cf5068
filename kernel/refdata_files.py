"""Reading the reference data files: one cached JSON load per file, and typed field checks.

Every check raises :class:`~kernel.refdata_types.RefDataError` naming the file and
entry (``where``): a malformed data file is a packaging bug, never a user error.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from kernel.refdata_types import RefDataError

_PACKAGE = "kernel.data"


@lru_cache(maxsize=8)
def load_json(filename: str) -> Any:
    try:
        text = resources.files(_PACKAGE).joinpath(filename).read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError) as exc:
        raise RefDataError(f"{filename}: missing from {_PACKAGE}") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RefDataError(f"{filename}: invalid JSON ({exc})") from exc


def req(obj: Any, key: str, typ: type | tuple[type, ...], where: str) -> Any:
    if not isinstance(obj, dict) or key not in obj:
        raise RefDataError(f"{where}: missing {key!r}")
    value = obj[key]
    if isinstance(value, bool) and typ is not bool and not (isinstance(typ, tuple) and bool in typ):
        raise RefDataError(f"{where}: {key!r} must not be a boolean")
    if not isinstance(value, typ):
        raise RefDataError(f"{where}: {key!r} has type {type(value).__name__}")
    return value


def opt_int(obj: Any, key: str, where: str) -> int | None:
    value = req(obj, key, (int, type(None)), where)
    if value is not None and value < 0:
        raise RefDataError(f"{where}: {key!r} must be >= 0")
    return value  # type: ignore[no-any-return]


def opt_float(obj: Any, key: str, where: str) -> float | None:
    if key not in obj:
        return None
    value = req(obj, key, (int, float, type(None)), where)
    return None if value is None else float(value)


def str_tuple(obj: Any, key: str, where: str, default: bool = False) -> tuple[str, ...]:
    if default and key not in obj:
        return ()
    values = req(obj, key, list, where)
    if not all(isinstance(v, str) for v in values):
        raise RefDataError(f"{where}: {key!r} must be a list of strings")
    return tuple(values)


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def opt_day(obj: Any, key: str, where: str) -> str | None:
    """An optional ISO day (``YYYY-MM-DD``): rules compare days as strings."""
    if key not in obj or obj[key] is None:
        return None
    value = req(obj, key, str, where)
    if not _ISO_DAY.match(value):
        raise RefDataError(f"{where}: {key!r} must be YYYY-MM-DD")
    return value  # type: ignore[no-any-return]


def opt_volume(obj: Any, key: str, where: str) -> float | None:
    value = opt_float(obj, key, where)
    if value is not None and not 0 < value <= 5:
        raise RefDataError(f"{where}: {key!r} must be a volume in ml (0-5]")
    return value
