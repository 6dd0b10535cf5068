"""Serving the hub: uvicorn with read timeouts and connection limits (CLI, tests, demos).

    with run_hub(HubSettings(database_url=...)) as hub:
        requests.get(hub.url + "/sync/v1/health")

Port 0 picks a free port; ``hub.url`` has the real one. With ``ssl_certfile``
and ``ssl_keyfile`` (PEM) the hub speaks HTTPS and ``hub.url`` starts with
``https://`` (the station's certificate tests).

uvicorn on its own waits forever for a request's headers and body, so one
laptop on a dying line, or anyone trickling bytes, holds a connection (and,
past the concurrency limit, turns honest stations away). :class:`GuardedH11`
adds two deadlines to uvicorn's HTTP/1.1 protocol:

* **headers**: a request's line and headers must be in within
  ``header_timeout_s`` of the connection opening (or of the first byte of the
  next request on a kept-alive connection); otherwise ``408`` and the
  connection is closed;
* **body**: the whole body within ``body_timeout_s`` of the headers; otherwise
  the connection is closed (the app sees a disconnect and writes nothing).

:class:`ServerLimits` holds these with uvicorn's own connection limit and
keep-alive timeout; every value has a documented default and is settable on
the command line (``tramtiem-hub serve --help``) or through the environment
(``TRAMTIEM_HUB_HEADER_TIMEOUT_S`` …, docs/hub-deployment.md).
"""

from __future__ import annotations

import asyncio
import functools
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from typing import Any

import h11
import uvicorn
from fastapi import FastAPI
from uvicorn.protocols.http.h11_impl import H11Protocol

from hub.app import HubSettings, create_app, settle_heap
from hub.watch import ChangeWatch


@dataclass(frozen=True)
class ServerLimits:
    """Per worker process. Env: ``TRAMTIEM_HUB_<FIELD NAME IN CAPITALS>``."""

    header_timeout_s: float = 15.0  # request line and headers
    body_timeout_s: float = 120.0  # the whole body (a 256 KiB batch on a 2G line: ~30 s)
    keep_alive_s: float = 5.0  # an idle kept-alive connection is closed after this
    max_connections: int = 1000  # open connections; past it uvicorn answers 503

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **over: Any) -> ServerLimits:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"TRAMTIEM_HUB_{f.name.upper()}")
            if raw is not None:
                values[f.name] = int(raw) if f.type in ("int", int) else float(raw)
        values |= {k: v for k, v in over.items() if v is not None}
        limits = cls(**values)
        for f in fields(limits):
            if not getattr(limits, f.name) > 0:
                raise ValueError(f"{f.name} must be positive")
        return limits


class GuardedH11(H11Protocol):
    """uvicorn's HTTP/1.1 protocol with header and body read deadlines (see module doc)."""

    def __init__(self, *args: Any, header_timeout_s: float, body_timeout_s: float, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self._header_timeout_s = header_timeout_s
        self._body_timeout_s = body_timeout_s
        self._deadline: asyncio.TimerHandle | None = None
        self._waiting_for: str | None = None  # "headers" | "body"

    def _arm(self, what: str, seconds: float) -> None:
        self._disarm()
        self._waiting_for = what
        self._deadline = self.loop.call_later(seconds, self._timed_out)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline = None
        self._waiting_for = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm("headers", self._header_timeout_s)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._deadline is None and self.conn.their_state is h11.IDLE:
            # The first bytes of the next request on a kept-alive connection.
            self._arm("headers", self._header_timeout_s)
        super().data_received(data)
        self._follow()

    def handle_events(self) -> None:
        super().handle_events()
        self._follow()

    def _follow(self) -> None:
        """Move the deadline along with h11's view of the client's side."""
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            if self._waiting_for != "body":
                self._arm("body", self._body_timeout_s)
        elif state is not h11.IDLE:
            self._disarm()  # the request is in (or the connection is done)

    def _timed_out(self) -> None:
        what = self._waiting_for
        self._deadline = None
        self._waiting_for = None
        if self.transport.is_closing():
            return
        self.logger.info("closing a connection: the request's %s did not arrive in time", what)
        if what == "headers" and self.conn.our_state is h11.IDLE:
            body = b'{"code":"request.timeout","message":"the request did not arrive in time","detail":{}}'
            self.transport.write(
                b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\n"
                b"connection: close\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
            )
        self.transport.close()


def uvicorn_config(app: Any, host: str, port: int, limits: ServerLimits, **kw: Any) -> uvicorn.Config:
    """A uvicorn config serving ``app`` (an app or an import string) with ``limits``."""
    return uvicorn.Config(app, host=host, port=port, **uvicorn_options(limits), **kw)


def uvicorn_options(limits: ServerLimits) -> dict[str, Any]:
    """The uvicorn keyword arguments that apply ``limits`` (also for ``uvicorn.run``)."""
    return {
        "http": functools.partial(
            GuardedH11,
            header_timeout_s=limits.header_timeout_s,
            body_timeout_s=limits.body_timeout_s,
        ),
        "limit_concurrency": limits.max_connections,
        "timeout_keep_alive": limits.keep_alive_s,
    }


@dataclass(frozen=True)
class RunningHub:
    url: str  # e.g. "http://127.0.0.1:43817" (no trailing slash, no API prefix)
    port: int
    app: FastAPI


class HubServer(uvicorn.Server):
    """uvicorn's server, answering held long-poll pulls at once when it shuts down.

    uvicorn stops accepting connections, then waits for the requests in flight
    before the app's own shutdown runs: a pull held open (``wait=``, up to
    ``long_poll_max_s``) would keep a restart waiting that long.
    """

    #: Freeze the start-up heap once the server is up (:func:`hub.app.settle_heap`): the
    #: serving process only, not the in-thread servers tests start by the hundred.
    settle_heap_at_start = True

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.settle_heap_at_start and self.started:
            settle_heap()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = self.config.app
        watch = getattr(getattr(app, "state", None), "watch", None)
        if isinstance(watch, ChangeWatch):
            watch.release()
        await super().shutdown(sockets)


class _Server(HubServer):
    settle_heap_at_start = False  # a thread in someone else's process

    def install_signal_handlers(self) -> None:  # a thread cannot own signals
        pass


@contextmanager
def serve_app(
    app: FastAPI,
    host: str = "127.0.0.1",
    port: int = 0,
    limits: ServerLimits | None = None,
    *,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> Iterator[RunningHub]:
    config = uvicorn_config(
        app,
        host,
        port,
        limits or ServerLimits(),
        log_level="warning",
        lifespan="on",
        access_log=False,
        ssl_certfile=ssl_certfile,
        ssl_keyfile=ssl_keyfile,
    )
    scheme = "https" if ssl_certfile else "http"
    server = _Server(config)
    thread = threading.Thread(target=server.run, name="hub-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the hub server did not start")
        time.sleep(0.01)
    sock_port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield RunningHub(url=f"{scheme}://{host}:{sock_port}", port=int(sock_port), app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def run_hub(
    settings: HubSettings,
    host: str = "127.0.0.1",
    port: int = 0,
    limits: ServerLimits | None = None,
    *,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> Iterator[RunningHub]:
    """Create the app over ``settings`` (migrating) and serve it on a background thread."""
    with serve_app(
        create_app(settings), host, port, limits, ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile
    ) as hub:
        yield hub
