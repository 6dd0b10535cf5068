"""UUIDv7 identifiers, made on the station with the data and never regenerated."""

from __future__ import annotations

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_seq = 0


def uuid7() -> str:
    """A time-ordered UUIDv7 (RFC 9562) string, monotonic within this process."""
    global _last_ms, _seq
    with _lock:
        ms = time.time_ns() // 1_000_000
        if ms <= _last_ms:
            # Same or earlier millisecond (clock step back): keep order by counting.
            _seq += 1
            ms = _last_ms
            if _seq > 0xFFF:
                ms += 1
                _seq = 0
        else:
            _seq = int.from_bytes(os.urandom(2), "big") & 0x3FF
        _last_ms = ms
        seq = _seq
    rand_b = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms & ((1 << 48) - 1)) << 80
    value |= 0x7 << 76
    value |= (seq & 0xFFF) << 64
    value |= 0b10 << 62
    value |= rand_b
    return str(uuid.UUID(int=value))


# Lots and users have natural keys at a site. Two offline stations of one site
# that add the same lot (or username) must make the *same* entity, or the hub
# would hold two rows that the stations' unique constraints cannot both accept.
_NATURAL_NS = uuid.UUID("6f1d2c1e-8b7a-4f5e-9c3d-2a1b0c9d8e7f")


def natural_id(kind: str, *parts: str) -> str:
    """A deterministic UUID (v5) for an entity identified by a natural key."""
    return str(uuid.uuid5(_NATURAL_NS, "|".join((kind, *parts))))
