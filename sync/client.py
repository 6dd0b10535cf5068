"""A small typed client for the hub's sync API (``sync.protocol.API_PREFIX``).

One ``requests.Session`` per client (keep-alive: a bad line pays the TCP and
TLS handshakes once), a short connect timeout and a separate read timeout,
gzip request bodies, and responses parsed into the protocol models.

Exceptions (all subclasses of :class:`HubError`; every one carries a stable
``code``, never personal data)::

    HubError
    ├── HubUnreachable     network error, timeout, 5xx, unreadable answer: retry later
    │   ├── HubTimeout     the request was sent and no (complete) answer came in time:
    │   │                  the hub may have applied it (send the same op_ids again)
    │   └── HubTlsError    the hub's certificate is not trusted (``hub.tls_*``): IT staff
    │                      must act (install the CA); retried, but never shown as "offline"
    ├── HubRejected        4xx with an ErrorBody: retrying the same request will not help
    │   └── ReplicaRegressed   409 ``replica.regressed``: rotate the replica epoch, re-push

HTTPS is verified against the operating system's trust store (``sync.tls``:
the Windows certificate store on site laptops, where IT staff put a private
CA), never against certifi's list alone, and never switched off.

urllib3's ``Retry`` is deliberately not used: it does not retry POST by default,
and the engine owns the retry policy (backoff, batch shrinking, the outbox).
"""

from __future__ import annotations

import gzip
import json
import logging
import ssl
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import requests
import urllib3
from pydantic import BaseModel, ValidationError
from requests.adapters import HTTPAdapter

from sync import tls
from sync.protocol import (
    API_PREFIX,
    TOKEN_HEADER,
    EnrollRequest,
    EnrollResponse,
    ErrorBody,
    Health,
    PersonLookupResponse,
    PullResponse,
    PushRequest,
    PushResponse,
    ReviewList,
    TallyRequest,
    TallyResponse,
)

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
M2 = TypeVar("M2", bound=BaseModel)


@dataclass(frozen=True)
class Encoded(Generic[M2]):
    """A request body encoded ahead of its send (:meth:`HubClient.encode`)."""

    model: M2
    data: bytes
    gzipped: bool

DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_READ_TIMEOUT_S = 30.0
HEALTH_READ_TIMEOUT_S = 10.0
# Below this a gzip header costs more than it saves.
GZIP_MIN_BYTES = 1024


class HubError(Exception):
    """Base of every client error: ``code`` is stable, ``status`` the HTTP status if any."""

    def __init__(self, code: str, message: str = "", *, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code
        self.message = message
        self.status = status


class HubUnreachable(HubError):
    """Transient: network down, connection refused/reset, timeout, 5xx, garbled answer."""


class HubTimeout(HubUnreachable):
    """No complete answer in time; the request may have been applied."""


class HubTlsError(HubUnreachable):
    """The TLS handshake failed on the certificate: no data was exchanged.

    Codes (:data:`TLS_CODES`): ``hub.tls_untrusted`` (issued by a CA this laptop
    does not trust: a private CA or an HTTPS-scanning antivirus),
    ``hub.tls_expired``, ``hub.tls_hostname`` (issued for another name than the
    hub address), ``hub.tls_error`` (any other handshake failure). The message
    tells IT staff what to do (``tramtiem sync`` and ``enroll`` print it; the
    window shows a translated text for the code).
    """


TLS_CODES = frozenset({"hub.tls_untrusted", "hub.tls_expired", "hub.tls_hostname", "hub.tls_error"})

TLS_HINTS = {
    "hub.tls_untrusted": (
        "the hub's certificate is issued by an authority this computer does not trust "
        "(a private CA, or an antivirus that scans HTTPS). IT staff: install the CA "
        "certificate in the Windows certificate store (Trusted Root Certification "
        "Authorities), or point TRAMTIEM_CA_FILE at a PEM copy of it; see docs/it-guide.md"
    ),
    "hub.tls_expired": (
        "the hub's certificate has expired (or this computer's date is wrong): check the "
        "clock, then ask the hub's administrator to renew the certificate"
    ),
    "hub.tls_hostname": (
        "the hub's certificate is for another name than the address this station uses: "
        "enroll with the name written in the certificate, or ask for a certificate for this name"
    ),
    "hub.tls_error": (
        "the secure connection to the hub failed (TLS handshake): check the address "
        "(https:// for an https hub) and any proxy or antivirus between here and the hub"
    ),
}


def is_tls_code(code: str | None) -> bool:
    """True for the certificate codes: shown as a certificate problem, not as "offline"."""
    return code in TLS_CODES


class HubRejected(HubError):
    """The hub answered 4xx: the request as sent will not succeed by retrying."""

    def __init__(
        self, code: str, message: str = "", *, status: int | None = None, detail: dict[str, Any] | None = None
    ) -> None:
        super().__init__(code, message, status=status)
        self.detail = detail or {}


class ReplicaRegressed(HubRejected):
    """409 ``replica.regressed``: this replica's op_seq went backwards (restored backup)."""


class HubClient:
    """``HubClient(base_url, token)``; use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
        gzip_requests: bool = True,
        keep_alive: bool = True,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.gzip_requests = gzip_requests
        self.keep_alive = keep_alive
        self._session = session or requests.Session()
        # Proxies from the environment must never see station traffic (tokens, data).
        self._session.trust_env = False
        self.trust: tls.TrustInfo | None = None
        if self.base_url.lower().startswith("https://"):
            # The OS trust store (sync.tls), not certifi's list alone: site laptops trust the
            # province's private CA through the Windows certificate store.
            ctx, self.trust = tls.make_ssl_context()
            self._session.mount("https://", _ContextAdapter(ctx))

    # ---- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- endpoints ---------------------------------------------------------------

    def health(self) -> Health:
        # A probe: a line that swallows packets must not hold it for the full read timeout.
        return self._call(
            "GET", "/health", Health, auth=False, read_timeout_s=min(self.read_timeout_s, HEALTH_READ_TIMEOUT_S)
        )

    def enroll(self, req: EnrollRequest) -> EnrollResponse:
        return self._call("POST", "/enroll", EnrollResponse, body=req, auth=False)

    def encode(self, body: M2) -> Encoded[M2]:
        """A request body as it goes on the wire (JSON, gzip above GZIP_MIN_BYTES).

        The sync engine encodes the next push while the hub works on the current one,
        so the encoding is off the path between an answer and the next send.
        """
        data = body.model_dump_json().encode("utf-8")
        gzipped = self.gzip_requests and len(data) >= GZIP_MIN_BYTES
        if gzipped:
            # mtime=0: the same batch compresses to the same bytes (reproducible tests).
            data = gzip.compress(data, compresslevel=6, mtime=0)
        return Encoded(body, data, gzipped)

    def push(
        self, req: PushRequest | Encoded[PushRequest], *, read_timeout_s: float | None = None
    ) -> PushResponse:
        return self._call("POST", "/push", PushResponse, body=req, read_timeout_s=read_timeout_s)

    def pull(
        self, cursor: int, limit: int, replica_epoch: str | None = None, *, wait_s: float = 0
    ) -> PullResponse:
        """One page after ``cursor``; with ``wait_s`` a long-poll (the hub holds an empty answer
        until a change in scope is committed, or ``wait_s`` seconds pass)."""
        params: dict[str, Any] = {"cursor": cursor, "limit": limit}
        if replica_epoch:
            params["replica_epoch"] = replica_epoch
        read_timeout = None
        if wait_s > 0:
            params["wait"] = round(wait_s, 3)
            read_timeout = wait_s + self.read_timeout_s
        return self._call("GET", "/pull", PullResponse, params=params, read_timeout_s=read_timeout)

    def tally(self, req: TallyRequest) -> TallyResponse:
        return self._call("POST", "/tally", TallyResponse, body=req)

    def person_by_id_number(self, id_number: str) -> PersonLookupResponse:
        # The ID number travels in the path (the API's shape); it is never logged here.
        return self._call("GET", f"/persons/by-id-number/{id_number}", PersonLookupResponse)

    def reviews(self) -> ReviewList:
        return self._call("GET", "/reviews", ReviewList)

    # ---- plumbing ----------------------------------------------------------------

    def _headers(self, auth: bool) -> dict[str, str]:
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip"}
        if auth:
            if not self.token:
                raise HubRejected("auth.no_token", "this station has no hub token; enroll first")
            headers[TOKEN_HEADER] = f"Bearer {self.token}"
        if not self.keep_alive:
            headers["Connection"] = "close"
        return headers

    def _call(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        body: BaseModel | Encoded[Any] | None = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
        read_timeout_s: float | None = None,
    ) -> M:
        url = f"{self.base_url}{API_PREFIX}{path}"
        headers = self._headers(auth)
        data: bytes | None = None
        if body is not None:
            wire = body if isinstance(body, Encoded) else self.encode(body)
            data = wire.data
            headers["Content-Type"] = "application/json"
            if wire.gzipped:
                headers["Content-Encoding"] = "gzip"
        timeout = (self.connect_timeout_s, read_timeout_s or self.read_timeout_s)
        try:
            resp = self._session.request(
                method, url, data=data, params=params, headers=headers, timeout=timeout
            )
            content = resp.content  # read fully here: a cut body raises inside the try
        except requests.exceptions.SSLError as exc:
            code = _tls_code(exc)
            log.warning("TLS handshake with the hub failed: %s", code)
            raise HubTlsError(code, TLS_HINTS[code]) from None
        except requests.exceptions.ConnectTimeout:
            raise HubUnreachable("hub.connect_timeout") from None
        except requests.exceptions.ReadTimeout:
            raise HubTimeout("hub.timeout") from None
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                raise HubUnreachable("hub.unreachable") from None
            # The connection broke after it was made: the request may have been applied
            # (a lost ack), so callers treat it like a timeout.
            raise HubTimeout("hub.connection_lost") from None
        except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError):
            raise HubTimeout("hub.truncated") from None
        except requests.exceptions.RequestException as exc:
            raise HubUnreachable("hub.request_failed", type(exc).__name__) from None
        status = resp.status_code
        if status >= 500:
            err = _error_body(content)
            raise HubUnreachable(err.code if err else "hub.server_error", "", status=status)
        if status >= 400:
            err = _error_body(content)
            code = err.code if err else f"http.{status}"
            message = err.message if err else ""
            detail = err.detail if err else {}
            cls = ReplicaRegressed if (status == 409 and code == "replica.regressed") else HubRejected
            raise cls(code, message, status=status, detail=detail)
        try:
            return model.model_validate_json(content)
        except ValidationError:
            # A cut or garbled body (proxy, captive portal): treat as no answer.
            raise HubTimeout("hub.bad_response", "", status=status) from None


class _ContextAdapter(HTTPAdapter):
    """An adapter whose connection pools verify with the given SSL context (sync.tls)."""

    def __init__(self, ctx: ssl.SSLContext) -> None:
        self._ctx = ctx
        super().__init__()

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ssl_context"] = self._ctx
        super().init_poolmanager(*args, **kwargs)


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (cause, context, urllib3's ``reason``, args[0]), bounded."""
    out: list[BaseException] = []
    cur: BaseException | None = exc
    for _ in range(8):
        if cur is None or any(cur is seen for seen in out):
            break
        out.append(cur)
        reason = getattr(cur, "reason", None)
        nxt = reason if isinstance(reason, BaseException) else None
        if nxt is None and cur.args and isinstance(cur.args[0], BaseException):
            nxt = cur.args[0]
        cur = nxt or cur.__cause__ or cur.__context__
    return out


# The verify codes of the cases IT staff fix differently: OpenSSL's X509_V_ERR_* (Linux),
# Windows' CERT_E_* (truststore passes CertVerifyCertificateChainPolicy's dwError) and
# macOS' errSec* numbers. Windows' messages do not all say "expired", hence the numbers.
_X509_EXPIRED = {10, 0x800B0101, -67818}  # CERT_HAS_EXPIRED, CERT_E_EXPIRED, errSecCertificateExpired
_X509_HOSTNAME = {62, 64, 0x800B010F, -67602}  # HOSTNAME/IP_ADDRESS_MISMATCH, CERT_E_CN_NO_MATCH, errSecHostNameMismatch


def _tls_code(exc: BaseException) -> str:
    """``hub.tls_*`` for an SSL failure (see :class:`HubTlsError`)."""
    for cur in _causes(exc):
        if isinstance(cur, ssl.SSLCertVerificationError):
            verify_code = getattr(cur, "verify_code", None)
            text = f"{getattr(cur, 'verify_message', '') or ''} {cur}".lower()
            if verify_code in _X509_EXPIRED or "expired" in text:
                return "hub.tls_expired"
            if verify_code in _X509_HOSTNAME or "mismatch" in text or "hostname" in text \
                    or "host name" in text or "does not match" in text:
                return "hub.tls_hostname"
            return "hub.tls_untrusted"
    for cur in _causes(exc):
        text = str(cur).lower()
        if "certificate verify failed" in text:
            return "hub.tls_untrusted"
    return "hub.tls_error"


def _never_connected(exc: BaseException) -> bool:
    """True when the TCP connection was never established (refused, DNS, no route)."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    for _ in range(8):  # walk the cause/args chain, bounded
        if cur is None or id(cur) in seen:
            return False
        seen.add(id(cur))
        if isinstance(cur, urllib3.exceptions.NewConnectionError | ConnectionRefusedError):
            return True
        reason = getattr(cur, "reason", None)
        nxt = reason if isinstance(reason, BaseException) else None
        if nxt is None and cur.args and isinstance(cur.args[0], BaseException):
            nxt = cur.args[0]
        cur = nxt or cur.__cause__ or cur.__context__
    return False


def _error_body(content: bytes) -> ErrorBody | None:
    try:
        raw = json.loads(content)
    except ValueError:
        return None
    if isinstance(raw, dict) and "detail" in raw and isinstance(raw["detail"], dict) and "code" in raw["detail"]:
        raw = raw["detail"]  # FastAPI's HTTPException wrapping
    try:
        return ErrorBody.model_validate(raw)
    except ValidationError:
        return None


__all__ = [
    "TLS_CODES",
    "TLS_HINTS",
    "HubClient",
    "HubError",
    "HubRejected",
    "HubTimeout",
    "HubTlsError",
    "HubUnreachable",
    "ReplicaRegressed",
    "is_tls_code",
]
