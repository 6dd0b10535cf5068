"""Sneakernet bundles: the ops a station has not delivered, as one encrypted, signed file.

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
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from station import keys, outbox, tally
from station.clock import iso, to_site_time
from station.errors import StoreError
from station.store import HEAD_REVISION, Station

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


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    ops: int
    first_op_seq: int | None
    last_op_seq: int | None


def _tally_dict(st: Station) -> dict[str, Any]:
    t = tally.compute(st)
    return {
        "generated_at": t.generated_at,
        "rows": tally.wire_rows(t),
        "outbox_pending": t.outbox_pending,
        "oldest_pending_at": t.oldest_pending_at,
        "replica_epoch": t.replica_epoch,
    }


def export_bundle(st: Station, dest_dir: Path, *, now: datetime | None = None) -> ExportResult:
    """Write every unanswered op of ``st`` to one bundle in ``dest_dir``.

    The ops stay ``pending`` here: the station cannot know whether or when the
    stick reaches the hub, and the next online sync gets ``duplicate`` for what
    was imported. Raises ``StoreError("sync.not_enrolled")`` without a token.
    """
    token = keys.load_token(st.install_id)
    if not token:
        raise StoreError("sync.not_enrolled")
    when = to_site_time(now or st.clock())
    state = st.sync_state()
    # One query, in op_seq order; bounded so a reader can hold it in memory.
    batch = outbox.next_batch(st, max_bytes=1 << 62, max_ops=MAX_BUNDLE_OPS)
    ops = [o.wire() for o in batch]
    first_seq = batch[0].op_seq if batch else None
    last_seq = batch[-1].op_seq if batch else None
    lines = [
        _canonical({
            "kind": "meta",
            "replica_epoch": str(state["replica_epoch"]),
            "schema_version": HEAD_REVISION,
            "exported_at": iso(when),
            "tally": _tally_dict(st),
        })
    ]
    lines += [_canonical({"kind": "op", **op}) for op in ops]
    plain = gzip.compress(b"\n".join(lines), compresslevel=6, mtime=0)
    nonce = secrets.token_bytes(12)
    header = {
        "station_id": st.install_id,
        "site_code": st.site_code,
        "created_at": iso(when),
        "ops": len(ops),
        "first_op_seq": first_seq,
        "last_op_seq": last_seq,
        "nonce": base64.b64encode(nonce).decode("ascii"),
    }
    cipher = AESGCM(_key(token_hash(token), nonce)).encrypt(nonce, plain, _canonical(header))
    doc = {
        "format": BUNDLE_FORMAT,
        "kind": BUNDLE_KIND,
        "header": header,
        "ciphertext": base64.b64encode(cipher).decode("ascii"),
    }
    dest_dir = Path(dest_dir)
    dest_dir.mkdir(parents=True, exist_ok=True)
    stem = f"tramtiem-ops-{st.site_code}-{st.install_id[-8:]}-{when:%Y%m%dT%H%M%S}-{last_seq or 0}"
    path = dest_dir / f"{stem}{SUFFIX}"
    n = 1
    while path.exists():  # never overwrite a bundle that may not have reached the hub yet
        path = dest_dir / f"{stem}-{n}{SUFFIX}"
        n += 1
    part = path.with_suffix(SUFFIX + ".part")
    with part.open("wb") as f:
        f.write(json.dumps(doc).encode("ascii"))
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, path)
    return ExportResult(path, len(ops), first_seq, last_seq)


# ---- reading (the hub side) -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BundleHeader:
    station_id: str
    site_code: str
    created_at: str
    ops: int
    raw: dict[str, Any]


@dataclass(frozen=True, slots=True)
class BundleContents:
    header: BundleHeader
    meta: dict[str, Any]
    ops: list[dict[str, Any]]


def _bad(code: str) -> StoreError:
    return StoreError(code)


def read_header(data: bytes) -> tuple[BundleHeader, dict[str, Any]]:
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
        plain = AESGCM(_key(token_hash_hex, nonce)).decrypt(nonce, cipher, _canonical(header.raw))
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
    "SUFFIX",
    "BundleContents",
    "BundleHeader",
    "ExportResult",
    "export_bundle",
    "open_bundle",
    "read_header",
    "token_hash",
]
