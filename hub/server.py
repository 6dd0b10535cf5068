"""Running a hub in-process on a loopback port (tests, demos, the station's sync tests).

    with run_hub(HubSettings(database_url=...)) as hub:
        requests.get(hub.url + "/sync/v1/health")

Port 0 picks a free port; ``hub.url`` has the real one. With ``ssl_certfile``
and ``ssl_keyfile`` (PEM) the hub speaks HTTPS and ``hub.url`` starts with
``https://`` (the station's certificate tests).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

from hub.app import HubSettings, create_app
from hub.watch import ChangeWatch


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

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app = self.config.app
        watch = getattr(getattr(app, "state", None), "watch", None)
        if isinstance(watch, ChangeWatch):
            watch.release()
        await super().shutdown(sockets)


class _Server(HubServer):
    def install_signal_handlers(self) -> None:  # a thread cannot own signals
        pass


@contextmanager
def serve_app(
    app: FastAPI,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> Iterator[RunningHub]:
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning", lifespan="on", access_log=False,
        ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile,
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
    *,
    ssl_certfile: str | None = None,
    ssl_keyfile: str | None = None,
) -> Iterator[RunningHub]:
    """Create the app over ``settings`` (migrating) and serve it on a background thread."""
    with serve_app(create_app(settings), host, port,
                   ssl_certfile=ssl_certfile, ssl_keyfile=ssl_keyfile) as hub:
        yield hub
