"""A site hub's HTTP client to its province hub (relay token; JSON, gzip, bounded timeouts).

The hub may not import the station's client (``sync.client``, import contracts), and a
site hub needs only four calls, so this is a small ``http.client`` wrapper. One request
at a time per client; one keep-alive connection. ``ssl_context`` (optional) is how the
site hub trusts the province over HTTPS; none given and an ``https://`` address, the
default context (system CAs) is used.

Errors: :class:`UpstreamError` with a stable ``code`` and the HTTP ``status`` (None: no
answer — the line is down, a timeout); never personal data in a message.
"""

from __future__ import annotations

import gzip
import http.client
import json
import ssl
import threading
from collections.abc import Mapping
from typing import TypeVar
from urllib.parse import urlencode, urlsplit

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 60.0


class UpstreamError(Exception):
    def __init__(self, code: str, status: int | None = None, detail: dict[str, object] | None = None) -> None:
        super().__init__(code)
        self.code = code
        self.status = status
        self.detail = detail or {}

    @property
    def unreachable(self) -> bool:
        """No answer, or a 5xx: the province may be fine later (retry)."""
        return self.status is None or self.status >= 500


class Upstream:
    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        ssl_context: ssl.SSLContext | None = None,
        connect_timeout_s: float = CONNECT_TIMEOUT_S,
        read_timeout_s: float = READ_TIMEOUT_S,
    ) -> None:
        parts = urlsplit(base_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("the province address must be http(s)://host[:port]")
        self.token = token
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._prefix = parts.path.rstrip("/")
        self._ssl = ssl_context if ssl_context is not None else (
            ssl.create_default_context() if self._https else None
        )
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self._lock = threading.Lock()
        self._conn: http.client.HTTPConnection | None = None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def get(self, path: str, model: type[M], params: Mapping[str, str | int | float] | None = None,
            *, read_timeout_s: float | None = None) -> M:
        target = path + ("?" + urlencode(params) if params else "")
        return self._call("GET", target, model, None, read_timeout_s)

    def post(self, path: str, body: BaseModel, model: type[M], *, auth: bool = True) -> M:
        return self._call("POST", path, model, body.model_dump_json().encode("utf-8"), None, auth=auth)

    def post_json(self, path: str, body: bytes, model: type[M]) -> M:
        """POST a JSON body already encoded (the forwarder passes the desks' ops through)."""
        return self._call("POST", path, model, body, None)

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self.connect_timeout_s, context=self._ssl
                )
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port, timeout=self.connect_timeout_s)
        return self._conn

    def _call(self, method: str, path: str, model: type[M], body: bytes | None,
              read_timeout_s: float | None, *, auth: bool = True) -> M:
        headers = {"Accept": "application/json", "Accept-Encoding": "gzip", "User-Agent": "tramtiem-site-hub"}
        if auth and self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        data: bytes | None = None
        if body is not None:
            data = body
            headers["Content-Type"] = "application/json"
            if len(data) >= 1024:
                data = gzip.compress(data, compresslevel=6, mtime=0)
                headers["Content-Encoding"] = "gzip"
        with self._lock:
            conn = self._connection()
            try:
                if conn.sock is None:
                    conn.connect()
                assert conn.sock is not None
                conn.sock.settimeout(read_timeout_s or self.read_timeout_s)
                conn.request(method, self._prefix + path, body=data, headers=headers)
                resp = conn.getresponse()
                content = resp.read()
                status = resp.status
                if (resp.getheader("Content-Encoding") or "").lower() == "gzip":
                    content = gzip.decompress(content)
                if resp.will_close:
                    conn.close()
                    self._conn = None
            except (OSError, http.client.HTTPException, EOFError):
                conn.close()
                self._conn = None
                raise UpstreamError("province.unreachable") from None
        if status >= 400:
            code = f"http.{status}"
            detail: dict[str, object] = {}
            try:
                err: object = json.loads(content)
            except ValueError:
                err = None
            if isinstance(err, dict):
                code = str(err.get("code") or code)
                got = err.get("detail")
                detail = {str(k): v for k, v in got.items()} if isinstance(got, dict) else {}
            raise UpstreamError(code, status, detail)
        try:
            return model.model_validate_json(content)
        except ValidationError:
            raise UpstreamError("province.bad_response", status) from None
