"""Recovery codes: the 32-byte database key written for humans.

A recovery code is shown (and printable) at setup and by ``tramtiem key
recovery`` for an admin. On a new laptop, ``tramtiem key restore`` (or
``tramtiem restore --recovery-code``) turns it back into the key, checks that
it opens the database and puts it into this machine's keyring.

Format: the key plus a 3-byte checksum (35 bytes = 280 bits) in Crockford
base32 — 56 characters from ``0-9 A-Z`` without I, L, O, U — in 14 groups of
four: ``7K3M-…``. Crockford's alphabet is read aloud and typed without the usual
confusions: decoding is case-insensitive, ignores spaces and dashes, and
reads ``I``/``L`` as ``1`` and ``O`` as ``0``. The checksum (a domain-separated
SHA-256 prefix) catches a mistyped character with odds of 1 in 16 million of
missing it, so a typo is reported as a typo instead of as "wrong key".

Nothing here logs the code or the key.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from kernel.errors import FieldIssue, PermissionDenied, StoreError, ValidationError, WrongKey
from kernel.roles import can
from station import keys
from station.db import open_raw
from station.store import Actor, Station, _read_meta, db_path

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DECODE = {ch: i for i, ch in enumerate(ALPHABET)}
_DECODE.update({"I": 1, "L": 1, "O": 0})
KEY_BYTES = 32
CHECK_BYTES = 3
CODE_CHARS = (KEY_BYTES + CHECK_BYTES) * 8 // 5  # 56
GROUP = 4
_DOMAIN = b"tramtiem-recovery-code-v1"


def _checksum(key: bytes) -> bytes:
    return hashlib.sha256(_DOMAIN + key).digest()[:CHECK_BYTES]


def encode(key: bytes) -> str:
    """The recovery code of a 32-byte key, grouped ``XXXX-XXXX-…``."""
    if len(key) != KEY_BYTES:
        raise ValueError("a database key has 32 bytes")
    n = int.from_bytes(key + _checksum(key), "big")
    chars = [ALPHABET[(n >> (5 * (CODE_CHARS - 1 - i))) & 31] for i in range(CODE_CHARS)]
    return "-".join("".join(chars[i : i + GROUP]) for i in range(0, CODE_CHARS, GROUP))


def _issue(code: str, **params: object) -> ValidationError:
    return ValidationError([FieldIssue("recovery_code", code, dict(params))])


def decode(code: str) -> bytes:
    """The key a recovery code stands for.

    Raises ``ValidationError`` (field ``recovery_code``) with ``recovery_code.length``,
    ``recovery_code.chars`` or ``recovery_code.checksum`` (a typo somewhere).
    """
    cleaned = "".join(ch for ch in (code or "").upper() if not ch.isspace() and ch not in "-_.")
    if len(cleaned) != CODE_CHARS:
        raise _issue("recovery_code.length", expected=CODE_CHARS, got=len(cleaned))
    bad = sorted({i + 1 for i, ch in enumerate(cleaned) if ch not in _DECODE})
    if bad:
        # Positions only: they help find the typo without echoing the code.
        raise _issue("recovery_code.chars", positions=bad[:5])
    n = 0
    for ch in cleaned:
        n = (n << 5) | _DECODE[ch]
    raw = n.to_bytes(KEY_BYTES + CHECK_BYTES, "big")
    key, check = raw[:KEY_BYTES], raw[KEY_BYTES:]
    if _checksum(key) != check:
        raise _issue("recovery_code.checksum")
    return key


def recovery_code(st: Station, actor: Actor) -> str:
    """The station's recovery code, for an admin (or the installer); leaves an audit entry.

    Only the fact that the code was shown is audited, never the code.
    """
    if not can(actor.role, "view_recovery_code"):
        raise PermissionDenied(action="view_recovery_code", role=actor.role)
    key = keys.load_key(st.install_id)
    with st.unit_of_work(actor, min_ops=0) as uow:
        uow.audit("recovery_code_shown", "station", st.install_id)
    return encode(key)


def key_opens(path: Path, key: bytes) -> bool:
    """True if ``key`` opens the SQLCipher file at ``path``."""
    try:
        conn = open_raw(path, key)
    except WrongKey:
        return False
    conn.close()
    return True


def restore_key(data_dir: Path, code: str) -> str:
    """Put the key of ``code`` into this machine's keyring after checking it opens the data.

    Returns the install id. Refuses (``recovery_code.wrong_station``) a valid
    code of another station: it would make the keyring hold a key that opens nothing.
    """
    meta = _read_meta(Path(data_dir))
    key = decode(code)
    path = db_path(Path(data_dir))
    if not path.exists():
        raise StoreError("store.db_missing", data_dir=str(data_dir))
    if not key_opens(path, key):
        raise _issue("recovery_code.wrong_station")
    keys.store_key(meta["install_id"], key)
    return str(meta["install_id"])


__all__ = ["CODE_CHARS", "decode", "encode", "key_opens", "recovery_code", "restore_key"]
