"""Input hygiene at the hub's edge: what no honest client sends and a database would choke on."""

from __future__ import annotations

import math
import re

from hub.errors import HubError
from sync.protocol import MAX_INT, MIN_PROTOCOL_VERSION, PROTOCOL_VERSION

_TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def check_safe(obj: object, where: str = "body") -> None:
    """Refuse what no honest client sends and a database would choke on (→ 422, never 500).

    Control characters in text (NUL and the rest of C0 but tab, line feed and
    carriage return), lone surrogates, non-finite floats, integers beyond BIGINT.
    """
    if isinstance(obj, str):
        if _TEXT_CONTROL.search(obj):
            raise HubError(
                422, "request.invalid", "text contains a control character", location=where
            )
        try:
            obj.encode("utf-8")
        except UnicodeEncodeError:
            raise HubError(
                422, "request.invalid", "text is not valid Unicode", location=where
            ) from None
    elif isinstance(obj, bool):
        return
    elif isinstance(obj, int):
        if abs(obj) > MAX_INT:
            raise HubError(422, "request.invalid", "integer out of range", location=where)
    elif isinstance(obj, float):
        if not math.isfinite(obj):
            raise HubError(422, "request.invalid", "number is not finite", location=where)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            check_safe(k, where)
            check_safe(v, f"{where}.{k}" if isinstance(k, str) and len(where) < 200 else where)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            check_safe(v, where)


def check_version(v: int) -> None:
    if not MIN_PROTOCOL_VERSION <= v <= PROTOCOL_VERSION:
        raise HubError(
            400,
            "protocol.unsupported",
            "unsupported protocol version",
            min=MIN_PROTOCOL_VERSION,
            max=PROTOCOL_VERSION,
        )

