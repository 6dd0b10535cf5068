"""Sneakernet bundles, the file format: the ops a station has not delivered, as one encrypted, signed file.

For a site with no line at all: ``tramtiem export-bundle --to DIR`` writes the
unanswered ops (and the tally) to a USB stick; at the hub ``tramtiem-hub
import-bundle FILE`` applies them through the same ledger as a push, so
importing twice, or the station later pushing the same ops online, changes
nothing (``duplicate``).

File format (``*.ttbundle``, UTF-8 JSON, one object)::

    {"format": 1, "kind": "tramtiem-ops-bundle",
     "header": {"station_id", "site_code", "created_at", "ops", "first_op_seq",
                "last_op_seq", "nonce"},
     "ciphertext": base64(AES-256-GCM(gzip(JSON lines)))}

The JSON lines are one ``meta`` line (replica epoch, schema revision, the
tally) then one line per op in ``op_seq`` order, in the wire format of a push.
The ops hold personal data, so the body is encrypted; the header holds only
ids, counts and times.

Key: ``HKDF-SHA256(ikm = sha256(token) in hex, salt = nonce, info = "tramtiem
ops bundle v1")``. The station has its token; the hub stores only
``token_hash`` — the same secret that keys the tally HMAC — so no new key
needs distributing. The header is the AEAD's associated data: the GCM tag
signs header and body together, and any changed byte fails the import.

Trade-offs (see docs/keys.md): the "signature" is symmetric — whoever holds
the hub's ``station.token_hash`` column can also make a bundle, which is no
more than they could push already; a bundle exported under one token cannot
be imported after the station re-enrolled (new token): export again. An
Ed25519 station key would avoid the first point at the cost of key
distribution; not worth it while the hub is the only verifier.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
from collections.abc import Mapping
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kernel.errors import StoreError

BUNDLE_FORMAT = 1
BUNDLE_KIND = "tramtiem-ops-bundle"
SUFFIX = ".ttbundle"
_INFO = b"tramtiem ops bundle v1"
MAX_BUNDLE_OPS = 100_000  # a bound for both sides; a site exports long before this
MAX_PLAIN_BYTES = 512 * 1024 * 1024  # gunzip bomb guard


def token_hash(token: str) -> str:
    """Hex SHA-256 of the bearer token: what the hub stores (same as ``sync.protocol.token_hash``)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _key(token_hash_hex: str, nonce: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=nonce, info=_INFO).derive(
        token_hash_hex.encode("ascii")
    )


def canonical(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def seal(header: Mapping[str, object], lines: list[bytes], token: str, nonce: bytes) -> dict[str, object]:
    """The bundle document: ``lines`` gzipped and encrypted under ``token``, signed with ``header``."""
    plain = gzip.compress(b"\n".join(lines), compresslevel=6, mtime=0)
    cipher = AESGCM(_key(token_hash(token), nonce)).encrypt(nonce, plain, canonical(header))
    return {
        "format": BUNDLE_FORMAT,
        "kind": BUNDLE_KIND,
        "header": header,
        "ciphertext": base64.b64encode(cipher).decode("ascii"),
    }


# ---- reading (the hub side) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BundleHeader:
    station_id: str
    site_code: str
    created_at: str
    ops: int
    raw: dict[str, object]  # the whole clear header, as signed


@dataclass(frozen=True, slots=True)
class BundleContents:
    header: BundleHeader
    meta: dict[str, object]  # the first line: replica epoch, schema, export time, tally
    ops: list[dict[str, object]]  # each an op's fields (sync.protocol.Op validates them)


def _bad(code: str) -> StoreError:
    return StoreError(code)


def read_header(data: bytes) -> tuple[BundleHeader, dict[str, object]]:
    """Parse the clear part of a bundle (no key needed). Raises ``StoreError('bundle.malformed')``."""
    try:
        doc = json.loads(data)
        if not isinstance(doc, dict) or doc.get("kind") != BUNDLE_KIND:
            raise ValueError("kind")
        if int(doc.get("format", 0)) != BUNDLE_FORMAT:
            raise _bad("bundle.unsupported_format")
        h = doc["header"]
        if not isinstance(h, dict):
            raise ValueError("header")
        header = BundleHeader(
            station_id=str(h["station_id"]),
            site_code=str(h["site_code"]),
            created_at=str(h["created_at"]),
            ops=int(h["ops"]),
            raw=h,
        )
    except StoreError:
        raise
    except (ValueError, KeyError, TypeError):
        raise _bad("bundle.malformed") from None
    return header, doc


def open_bundle(data: bytes, token_hash_hex: str) -> BundleContents:
    """Verify and decrypt a bundle with the station's token hash.

    Raises ``StoreError`` ``bundle.malformed`` or ``bundle.bad_signature``
    (changed bytes, another station's file, or a token replaced since export).
    """
    header, doc = read_header(data)
    try:
        nonce = base64.b64decode(str(header.raw["nonce"]), validate=True)
        cipher = base64.b64decode(str(doc["ciphertext"]), validate=True)
    except (ValueError, KeyError):
        raise _bad("bundle.malformed") from None
    if len(nonce) != 12:
        raise _bad("bundle.malformed")
    try:
        plain = AESGCM(_key(token_hash_hex, nonce)).decrypt(nonce, cipher, canonical(header.raw))
    except InvalidTag:
        raise _bad("bundle.bad_signature") from None
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(plain)) as gz:
            body = gz.read(MAX_PLAIN_BYTES + 1)
        if len(body) > MAX_PLAIN_BYTES:
            raise ValueError("too large")
        lines = [json.loads(line) for line in body.split(b"\n") if line.strip()]
    except (OSError, ValueError, EOFError):
        raise _bad("bundle.malformed") from None
    if not lines or not isinstance(lines[0], dict) or lines[0].get("kind") != "meta":
        raise _bad("bundle.malformed")
    ops = [ln for ln in lines[1:] if isinstance(ln, dict) and ln.get("kind") == "op"]
    if len(ops) != len(lines) - 1 or len(ops) != header.ops or len(ops) > MAX_BUNDLE_OPS:
        raise _bad("bundle.malformed")
    for op in ops:
        op.pop("kind", None)
    return BundleContents(header, lines[0], ops)


__all__ = [
    "BUNDLE_FORMAT",
    "MAX_BUNDLE_OPS",
    "SUFFIX",
    "BundleContents",
    "BundleHeader",
    "canonical",
    "open_bundle",
    "read_header",
    "seal",
    "token_hash",
]
