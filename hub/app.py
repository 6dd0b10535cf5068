"""The hub's HTTP API (FastAPI). ``create_app(settings)`` builds one; ``tramtiem-hub serve`` runs it.

Every endpoint but health needs ``Authorization: Bearer <station token>``. Every
error is a JSON :class:`~sync.protocol.ErrorBody` with a stable code: request
validation, malformed JSON, oversize bodies, auth failures and even unexpected
exceptions (a catch-all answers 500 with no detail and logs only the exception
type, since database messages can quote personal data).

The parts: :mod:`hub.settings` (limits), :mod:`hub.middleware` (what a request
meets before a route: catch-all, requests in flight, request line, body reader),
:mod:`hub.hygiene` (values refused at the edge), :mod:`hub.http_errors` (the
ErrorBody answers) and :mod:`hub.routes` (one module per group of endpoints).
"""

from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from pydantic import BaseModel

from hub.dashboard import web as dashboard
from hub.db import Database, hub_epoch, migrate
from hub.http_errors import ERRORS, install_error_handlers
from hub.hygiene import check_safe
from hub.middleware import (
    BodyMiddleware,
    CatchAllMiddleware,
    ConcurrencyMiddleware,
    RequestLineMiddleware,
)
from hub.routes.context import Auth, HubContext, get_caller
from hub.routes.meta import add_meta_routes
from hub.routes.pull import add_pull_route
from hub.routes.push import (
    ANSWER_GZIP_LEVEL,
    ANSWER_GZIP_MIN_BYTES,
    add_push_route,
    with_components,
)
from hub.routes.relay import add_relay_routes
from hub.routes.site import add_site_routes
from hub.routes.site_certs import add_revoked_certs_route
from hub.routes.site_status import add_site_status_route
from hub.settings import (
    MAX_CONCURRENT_REQUESTS,
    MAX_PREAUTH_BODY_BYTES,
    MAX_WAITS_PER_STATION,
    HubSettings,
)
from hub.watch import ChangeWatch
from kernel import ops
from sync import protocol, revoked_certs
from sync.protocol import PushRequest

# Importable from here as before (the CLI, the embedded hub, the bundle importer, tests).
__all__ = [
    "MAX_CONCURRENT_REQUESTS",
    "MAX_PREAUTH_BODY_BYTES",
    "MAX_WAITS_PER_STATION",
    "Auth",
    "HubSettings",
    "app_from_env",
    "build_models",
    "check_safe",
    "create_app",
    "get_caller",
]


def create_app(settings: HubSettings, *, ctx_hook: Callable[[HubContext], None] | None = None) -> FastAPI:
    """Build the hub app over ``settings.database_url`` (migrating it first unless told not to).

    ``ctx_hook`` may fill the context's relay fields before the routes are built (a site
    hub: ``hub.site_hub``).
    """
    build_models()
    if settings.migrate_on_start:
        migrate(settings.database_url)
    db = Database(settings.database_url)
    with db.read() as s:
        epoch = hub_epoch(s)
    watch = ChangeWatch(db, poll_s=settings.watch_poll_s)
    ctx = HubContext(db=db, settings=settings, watch=watch, epoch=epoch)
    if ctx_hook is not None:
        ctx_hook(ctx)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await watch.close()
        db.dispose()

    app = FastAPI(
        title="Trạm Tiêm hub",
        version="1",
        description="Sync hub for Trạm Tiêm stations. See docs/protocol.md.",
        lifespan=lifespan,
        responses=ERRORS,
    )
    app.state.db = db
    app.state.settings = settings
    app.state.watch = watch
    app.state.ctx = ctx
    app.state.refresh_roster = ctx.refresh_roster

    install_error_handlers(app)
    # In the order the OpenAPI document lists them.
    add_meta_routes(app, ctx)
    add_push_route(app, ctx)
    add_pull_route(app, ctx)
    add_site_routes(app, ctx)
    add_relay_routes(app, ctx)
    add_revoked_certs_route(app, ctx)
    add_site_status_route(app, ctx)
    dashboard.install(app, db, settings)  # HTML for the committee, its own login
    with_components(app, PushRequest)  # /push parses its body itself; its schema is shown still
    _add_middlewares(app, settings, db, ctx)
    return app


def build_models() -> None:
    """Build the validator of every wire model now, at the hub's start (issue 15, phase 10).

    The models of ``sync.protocol``, ``kernel.ops`` and ``sync.revoked_certs`` are built on
    first use (``defer_build``: a station's sync builds only its push's); a hub answers any
    of them, and its first request of each kind is on some station's way. Each is built
    once per process, from the same definition as on first use: the same validation.
    """
    for module in (protocol, ops, revoked_certs):
        for value in vars(module).values():
            if (
                isinstance(value, type) and issubclass(value, BaseModel)
                and value.__module__ == module.__name__ and not value.__pydantic_complete__
            ):
                value.model_rebuild()


def _add_middlewares(app: FastAPI, settings: HubSettings, db: Database, ctx: HubContext) -> None:
    # Innermost first: the last one added sees a request first.
    # Level 6: the same bytes within 0.5% as the default 9, in a third of the time. The push
    # route gzips its own answer with the same two settings (hub.routes.push.answer_response).
    app.add_middleware(GZipMiddleware, minimum_size=ANSWER_GZIP_MIN_BYTES, compresslevel=ANSWER_GZIP_LEVEL)
    app.add_middleware(
        BodyMiddleware,
        max_bytes=settings.max_body_bytes,
        preauth_bytes=settings.max_preauth_body_bytes,
        db=db,
        refresh=lambda: ctx.refresh_roster,
    )
    app.add_middleware(RequestLineMiddleware)
    app.add_middleware(ConcurrencyMiddleware, limit=settings.max_concurrent_requests)
    app.add_middleware(CatchAllMiddleware)


#: The serving process's first-generation threshold (CPython's default: 700). 50,000
#: (issue 15, phase 9; 20,000 before): a push of 1,000 ops holds up to ~30,000-45,000 new
#: container objects at once until its COMMIT, so 20,000 set off ~7 young collections over
#: the peer's 17 pushes (~1.2 µs of the hub's ~100 µs an op); 50,000, none.
GC_GEN0_THRESHOLD = 50_000


def settle_heap() -> None:
    """Keep the garbage collector off the start-up heap and a push's live rows (issue 15).

    After its imports a server process holds ~140,000 long-lived container objects
    (modules, classes, SQLAlchemy's and pydantic's schemas); every full collection walked
    all of them, and a push's thousands of rows set off several: a fifth of the hub's CPU
    per pushed op (``bench/hub_replay.py``). ``gc.freeze()`` moves everything alive now to
    the permanent generation, which the collector skips (reference counting still frees
    those objects; only a cycle among them that became garbage later would stay).
    The youngest generation is then collected every :data:`GC_GEN0_THRESHOLD` new
    container objects instead of every 700: a push keeps tens of thousands of rows, models
    and dicts alive until its COMMIT, and each young collection walked them again (a
    further ~5%); at most that many objects of cyclic garbage wait for a collection
    (5-10 MB at most; the hub makes little cyclic garbage).
    Called once, by the serving process after start-up (:class:`hub.server.HubServer`,
    :func:`app_from_env`), never by an app a test builds and throws away.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` with several workers (the CLI migrates first)."""
    url = os.environ["TRAMTIEM_HUB_DATABASE_URL"]
    app = create_app(HubSettings.from_env(url, migrate_on_start=False))
    settle_heap()  # in the worker process, once its app is built
    return app
