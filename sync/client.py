"""A small typed client for the hub's sync API (``sync.protocol.API_PREFIX``).

One keep-alive connection per client (``http.client``: a bad line pays the TCP
and TLS handshakes once; a connection the hub closed while idle is noticed before
it is reused), a short connect timeout and a separate read timeout, gzip request
bodies, and responses parsed into the protocol models. No proxy from the
environment ever sees station traffic (tokens, data), and redirects are not
followed (the station talks to the address it was enrolled with, nowhere else).

Exceptions (all subclasses of :class:`HubError`; every one carries a stable
``code``, never personal data)::

    HubError
    ├── HubUnreachable     network error, timeout, 5xx, unreadable answer: retry later
    │   ├── HubTimeout     the request was sent and no (complete) answer came in time:
    │   │                  the hub may have applied it (send the same op_ids again)
    │   └── HubTlsError    the hub's certificate is not trusted (``hub.tls_*``): IT staff
    │                      must act (install the CA); retried, but never shown as "offline";
    │                      ``hub.tls_site_hub``: a site hub refused by ``sync.pinning``
    ├── HubRejected        4xx with an ErrorBody: retrying the same request will not help
    │   └── ReplicaRegressed   409 ``replica.regressed``: rotate the replica epoch, re-push

HTTPS is verified against the operating system's trust store (``sync.tls``:
the Windows certificate store on site laptops, where IT staff put a private
CA), never against certifi's list alone, and never switched off.

Nothing is retried here: the engine owns the retry policy (backoff, batch
shrinking, the outbox). ``http.client`` rather than ``requests``: ``tramtiem sync``
starts at every cycle of a scheduled task, and requests with urllib3 cost about
8% of that start for features the station does not use (issue 15).
"""

from __future__ import annotations

import copy
import gzip
import http.client
import json
import logging
import select
import socket
import ssl
import threading
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar
from urllib.parse import urlencode, urlsplit

from sync import lean, tls

# The exceptions live in sync.client_errors (this module's size); they are this module's API.
from sync.client_errors import TLS_CODES as TLS_CODES
from sync.client_errors import TLS_HINTS as TLS_HINTS
from sync.client_errors import HubError as HubError
from sync.client_errors import HubRejected as HubRejected
from sync.client_errors import HubTimeout as HubTimeout
from sync.client_errors import HubTlsError as HubTlsError
from sync.client_errors import HubUnreachable as HubUnreachable
from sync.client_errors import ReplicaRegressed as ReplicaRegressed
from sync.client_errors import is_tls_code as is_tls_code
from sync.wire_constants import API_PREFIX, PUSH_WINDOW_HEADER, REVOKED_CERTS_PATH, TOKEN_HEADER

if TYPE_CHECKING:
    # The models are imported where an answer needs them: a cycle with nothing to send
    # reads its answers with ``sync.lean`` and never loads pydantic (issue 15).
    from pydantic import BaseModel

    from sync.protocol import (
        EnrollRequest,
        EnrollResponse,
        ErrorBody,
        Health,
        PersonLookupResponse,
        PullResponse,
        PushRequest,
        PushResponse,
        ReviewList,
        SiteAnswersRequest,
        SiteAnswersResponse,
        TallyRequest,
        TallyResponse,
    )
    from sync.revoked_certs import RevokedCerts
    from sync.site_hub_status import SiteHubStatus

log = logging.getLogger(__name__)

M = TypeVar("M", bound="BaseModel")
M2 = TypeVar("M2", bound="BaseModel")


@dataclass(frozen=True)
class Encoded(Generic[M2]):
    """A request body encoded ahead of its send (:meth:`HubClient.encode`)."""

    model: M2
    data: bytes
    gzipped: bool


@dataclass(frozen=True)
class Json:
    """A request body already written as JSON (the lean tally, ``sync.lean.tally_json``)."""

    data: bytes

DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_READ_TIMEOUT_S = 30.0
HEALTH_READ_TIMEOUT_S = 10.0
# Below this a gzip header costs more than it saves.
GZIP_MIN_BYTES = 1024
GZIP_LEVEL = 6


class ClientOptions(TypedDict, total=False):
    """:class:`HubClient`'s keyword options, for code that passes them on."""

    connect_timeout_s: float
    read_timeout_s: float
    gzip_requests: bool
    keep_alive: bool


class HubClient:
    """``HubClient(base_url, token)``; use as a context manager or call :meth:`close`."""

    gzip_level = GZIP_LEVEL  # of requests; the engine sets 1 on a fast link (sync.fastlink)

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        read_timeout_s: float = DEFAULT_READ_TIMEOUT_S,
        gzip_requests: bool = True,
        keep_alive: bool = True,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """``ssl_context``: for an https address, the context to verify the hub with instead
        of the OS trust store (the site hub: ``sync.pinning.pinned_context``)."""
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.gzip_requests = gzip_requests
        self.keep_alive = keep_alive
        self.trust: tls.TrustInfo | None = None
        self._ssl: ssl.SSLContext | None = None
        parts = urlsplit(self.base_url)
        scheme = parts.scheme.lower()
        try:
            port = parts.port
        except ValueError:
            port = -1
        # A malformed address fails each request (as before: "hub.request_failed"), not here.
        self._bad_url = scheme not in ("http", "https") or not parts.hostname or port == -1
        self._host = parts.hostname or ""
        self._port = port or (443 if scheme == "https" else 80)
        self._prefix = parts.path.rstrip("/")
        if scheme == "https" and ssl_context is not None:
            # The caller's trust (the site hub's pin or the province's relay CA), not the OS store.
            self._ssl, self.trust = ssl_context, tls.TrustInfo("pinned", None)
        elif scheme == "https":
            # The OS trust store (sync.tls), not certifi's list alone: site laptops trust the
            # province's private CA through the Windows certificate store.
            self._ssl, self.trust = tls.make_ssl_context()
        # One request at a time on the one connection (the engine's threads take turns).
        self._lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None
        self._reused = False  # the last _connect() handed out an open keep-alive connection
        self.push_window = 1  # push batches the hub's last answer let us keep in flight
        self._window_seen: str | None = None

    # ---- lifecycle ---------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._drop()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def twin(self) -> HubClient:
        """A client like this one with a connection of its own (a second push in flight:
        one request at a time goes on each connection). The caller closes it."""
        twin = copy.copy(self)
        twin._lock = threading.Lock()
        twin._conn, twin._reused, twin._window_seen = None, False, None
        return twin

    # ---- endpoints ---------------------------------------------------------------

    def health(self) -> Health | lean.LeanHealth:
        # A probe: a line that swallows packets must not hold it for the full read timeout.
        status, content = self._send(
            "GET", "/health", auth=False, read_timeout_s=min(self.read_timeout_s, HEALTH_READ_TIMEOUT_S)
        )
        fast = lean.health(content)
        if fast is not None:
            return fast
        from sync.protocol import Health

        return _validated(Health, status, content)

    def enroll(self, req: EnrollRequest) -> EnrollResponse:
        from sync.protocol import EnrollResponse

        return self._call("POST", "/enroll", EnrollResponse, body=req, auth=False)

    def encode(self, body: M2) -> Encoded[M2]:
        """A request body as it goes on the wire (JSON, gzip above GZIP_MIN_BYTES).

        The sync engine encodes the next push while the hub works on the current one,
        so the encoding is off the path between an answer and the next send.
        """
        data, gzipped = self._wire(body.model_dump_json().encode("utf-8"))
        return Encoded(body, data, gzipped)

    def _wire(self, data: bytes) -> tuple[bytes, bool]:
        """(the bytes to send, gzipped?) of a JSON body."""
        gzipped = self.gzip_requests and len(data) >= GZIP_MIN_BYTES
        if gzipped:
            # mtime=0: the same batch compresses to the same bytes (reproducible tests).
            data = gzip.compress(data, compresslevel=self.gzip_level, mtime=0)
        return data, gzipped

    def push(
        self, req: PushRequest | Encoded[PushRequest], *, read_timeout_s: float | None = None,
        follows: bool = False,
    ) -> PushResponse:
        """``follows``: sent while this station's batch before is still in flight (the hub
        then applies it after that one: ``hub.push_turns``). Sets :attr:`push_window`."""
        from sync.protocol import PUSH_FOLLOWS_HEADER, PushResponse

        extra = {PUSH_FOLLOWS_HEADER: "1"} if follows else None
        status, content = self._send(
            "POST", "/push", body=req, read_timeout_s=read_timeout_s, extra_headers=extra
        )
        resp = _validated(PushResponse, status, content)
        seen = self._window_seen
        self.push_window = int(seen) if seen is not None and seen.isdigit() and 0 < int(seen) <= 8 else 1
        return resp

    def pull(
        self, cursor: int, limit: int, replica_epoch: str | None = None, *, wait_s: float = 0
    ) -> PullResponse | lean.EmptyPage:
        """One page after ``cursor``; with ``wait_s`` a long-poll (the hub holds an empty answer
        until a change in scope is committed, or ``wait_s`` seconds pass). A page with no
        changes is read without the models (``sync.lean``), any other with them."""
        params: dict[str, str | int | float] = {"cursor": cursor, "limit": limit}
        if replica_epoch:
            params["replica_epoch"] = replica_epoch
        read_timeout = None
        if wait_s > 0:
            params["wait"] = round(wait_s, 3)
            read_timeout = wait_s + self.read_timeout_s
        status, content = self._send("GET", "/pull", params=params, read_timeout_s=read_timeout)
        fast = lean.empty_page(content)
        if fast is not None:
            return fast
        from sync.protocol import PullResponse

        return _validated(PullResponse, status, content)

    def tally(self, req: TallyRequest | Json) -> TallyResponse | lean.LeanTallyAck:
        """Send the signed tally: a model, or its JSON written by ``sync.lean.tally_json``."""
        status, content = self._send("POST", "/tally", body=req)
        fast = lean.tally_ack(content)
        if fast is not None:
            return fast
        from sync.protocol import TallyResponse

        return _validated(TallyResponse, status, content)

    def person_by_id_number(self, id_number: str) -> PersonLookupResponse:
        from sync.protocol import PersonLookupResponse

        # The ID number travels in the path (the API's shape); it is never logged here.
        return self._call("GET", f"/persons/by-id-number/{id_number}", PersonLookupResponse)

    def site_answers(self, req: SiteAnswersRequest) -> SiteAnswersResponse:
        """At a site hub: the province's answers to ops this station relayed through it."""
        from sync.protocol import SiteAnswersResponse

        return self._call("POST", "/site/answers", SiteAnswersResponse, body=req)

    def revoked_site_certs(self) -> RevokedCerts | lean.LeanRevoked:
        """At the province: the revoked site hub certificates of this station's site (sync.revocations)."""
        status, content = self._send("GET", REVOKED_CERTS_PATH)
        fast = lean.revoked_certs(content)
        if fast is not None:
            return fast
        from sync.revoked_certs import RevokedCerts

        return _validated(RevokedCerts, status, content)

    def site_hub_status(self) -> SiteHubStatus:
        """At a site hub: its link to the province as it sees it (sync.site_hub_status)."""
        from sync.site_hub_status import SITE_HUB_STATUS_PATH, SiteHubStatus

        return self._call("GET", SITE_HUB_STATUS_PATH, SiteHubStatus)

    def reviews(self) -> ReviewList:
        from sync.protocol import ReviewList

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

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connect(self) -> http.client.HTTPConnection:
        """The open connection, or a new one (TCP connect and TLS handshake under the connect timeout)."""
        if self._bad_url:
            raise HubUnreachable("hub.request_failed", "InvalidURL")
        conn = self._conn
        if conn is not None and (conn.sock is None or _dropped(conn.sock)):
            # Closed by the hub while idle (or after a `Connection: close` answer): a new one,
            # before anything is sent, so a request never goes out on a dead connection.
            self._drop()
            conn = None
        if conn is not None:
            self._reused = True
            return conn
        self._reused = False
        if self._ssl is not None:
            conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.connect_timeout_s,
                                               context=self._ssl)
        else:
            conn = http.client.HTTPConnection(self._host, self._port, timeout=self.connect_timeout_s)
        stage = "tcp"
        try:
            # http.client's own connect(), in two steps so a TLS failure is told from a TCP one.
            http.client.HTTPConnection.connect(conn)
            stage = "tls"
            if self._ssl is not None:
                conn.sock = self._ssl.wrap_socket(conn.sock, server_hostname=self._host)
        except ssl.SSLError as exc:  # the handshake: the certificate, or TLS itself
            conn.close()
            code = _tls_code(exc)
            log.warning("TLS handshake with the hub failed: %s", code)
            raise HubTlsError(code, TLS_HINTS[code]) from None
        except TimeoutError:
            conn.close()
            raise HubUnreachable("hub.connect_timeout") from None
        except OSError:
            conn.close()
            if stage == "tcp":  # refused, no route, name not found: nothing was sent
                raise HubUnreachable("hub.unreachable") from None
            raise HubTimeout("hub.connection_lost") from None
        self._conn = conn
        return conn

    def _exchange(
        self, method: str, target: str, data: bytes | None, headers: dict[str, str], read_timeout_s: float
    ) -> tuple[int, bytes]:
        """Send one request and read its whole answer: (status, decoded body).

        A GET that finds its reused keep-alive connection closed by the hub before any answer
        (the hub's idle timeout ran out just as the request went out) is sent once more on a
        new connection: nothing was read, and a GET changes nothing at the hub.
        """
        try:
            return self._exchange_once(method, target, data, headers, read_timeout_s)
        except _StaleConnection:
            return self._exchange_once(method, target, data, headers, read_timeout_s, retry=False)

    def _exchange_once(
        self, method: str, target: str, data: bytes | None, headers: dict[str, str], read_timeout_s: float,
        *, retry: bool = True,
    ) -> tuple[int, bytes]:
        conn = self._connect()
        reused = self._reused
        assert conn.sock is not None
        conn.sock.settimeout(read_timeout_s)
        headers.setdefault("User-Agent", "tramtiem-station")
        reading_body = False
        try:
            conn.request(method, target, body=data, headers=headers)
            resp = conn.getresponse()
            reading_body = True
            content = resp.read()  # the whole body here: a cut one raises inside the try
            status = resp.status
            encoding = (resp.getheader("Content-Encoding") or "").strip().lower()
            self._window_seen = resp.getheader(PUSH_WINDOW_HEADER)
            if resp.will_close:
                self._drop()
        except TimeoutError:
            self._drop()
            # Sent, and no complete answer in time: the hub may have applied it.
            raise (HubTimeout("hub.connection_lost") if reading_body else HubTimeout("hub.timeout")) from None
        except http.client.IncompleteRead:
            self._drop()
            raise HubTimeout("hub.truncated") from None
        except (OSError, http.client.HTTPException) as exc:
            # The connection broke after it was made (reset, closed without an answer,
            # garbled status line): the request may have been applied (a lost ack).
            self._drop()
            if retry and reused and method == "GET" and not reading_body and isinstance(exc, _CLOSED):
                raise _StaleConnection from None
            raise HubTimeout("hub.truncated" if reading_body else "hub.connection_lost") from None
        if encoding in ("gzip", "x-gzip", "deflate"):
            try:
                content = gzip.decompress(content) if encoding != "deflate" else _inflate(content)
            except (OSError, EOFError, zlib.error):
                raise HubTimeout("hub.truncated") from None
        return status, content

    def _call(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        body: BaseModel | Encoded[Any] | None = None,
        params: Mapping[str, str | int | float] | None = None,
        auth: bool = True,
        read_timeout_s: float | None = None,
    ) -> M:
        status, content = self._send(method, path, body=body, params=params, auth=auth, read_timeout_s=read_timeout_s)
        return _validated(model, status, content)

    def _send(
        self,
        method: str,
        path: str,
        *,
        body: BaseModel | Encoded[Any] | Json | None = None,
        params: Mapping[str, str | int | float] | None = None,
        auth: bool = True,
        read_timeout_s: float | None = None,
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """One request; (status, body) of a 2xx answer, else the error it means."""
        headers = self._headers(auth)
        if extra_headers:
            headers.update(extra_headers)
        data: bytes | None = None
        if body is not None:
            if isinstance(body, Json):
                data, gzipped = self._wire(body.data)
            else:
                wire = body if isinstance(body, Encoded) else self.encode(body)
                data, gzipped = wire.data, wire.gzipped
            headers["Content-Type"] = "application/json"
            if gzipped:
                headers["Content-Encoding"] = "gzip"
        target = f"{self._prefix}{API_PREFIX}{path}"
        if params:
            target += "?" + urlencode(params)
        with self._lock:
            status, content = self._exchange(method, target, data, headers, read_timeout_s or self.read_timeout_s)
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
        if status >= 300:
            # Not followed: the station sends its token and data to its enrolled address only.
            raise HubRejected(f"http.{status}", "the hub answered with a redirect", status=status)
        return status, content


def _validated(model: type[M], status: int, content: bytes) -> M:
    """The answer as ``model``; a body it does not take is no answer (``hub.bad_response``)."""
    from pydantic import ValidationError

    try:
        return model.model_validate_json(content)
    except ValidationError:
        # A cut or garbled body (proxy, captive portal): treat as no answer.
        raise HubTimeout("hub.bad_response", "", status=status) from None


def _causes(exc: BaseException) -> list[BaseException]:
    """The exception and what it wraps (cause, context, a ``reason`` attribute, args[0]), bounded."""
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
            if isinstance(cur, tls.SiteHubRefused):  # sync.pinning refused it: not our site hub
                return "hub.tls_site_hub_revoked" if cur.revoked else "hub.tls_site_hub"
            if verify_code in _X509_HOSTNAME or "mismatch" in text or "hostname" in text \
                    or "host name" in text or "does not match" in text:
                return "hub.tls_hostname"
            return "hub.tls_untrusted"
    for cur in _causes(exc):
        text = str(cur).lower()
        if "certificate verify failed" in text:
            return "hub.tls_untrusted"
    return "hub.tls_error"


class _StaleConnection(Exception):
    """A reused connection the hub had closed: the request never reached it."""


# What a keep-alive connection closed by the other end looks like when a request is sent on it.
_CLOSED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def _dropped(sock: socket.socket) -> bool:
    """True when an idle keep-alive socket has been closed (or written to) by the other end."""
    try:
        readable, _, _ = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)  # nothing is due on an idle connection: EOF, a reset or junk


def _inflate(data: bytes) -> bytes:
    """``Content-Encoding: deflate``: zlib-wrapped as the RFC says, or raw as some servers send."""
    try:
        return zlib.decompress(data)
    except zlib.error:
        return zlib.decompress(data, -zlib.MAX_WBITS)


def _error_body(content: bytes) -> ErrorBody | None:
    from pydantic import ValidationError

    from sync.protocol import ErrorBody

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
