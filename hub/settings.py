"""The hub's settings: limits and knobs read from ``TRAMTIEM_HUB_<FIELD>`` variables."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from hub import service
from hub.ingest import utc_now
from hub.watch import DEFAULT_POLL_S
from sync.protocol import MAX_BODY_BYTES, MAX_PULL_BYTES, MAX_PULL_WAIT_S

MAX_PREAUTH_BODY_BYTES = 64 * 1024  # enrollment and the dashboard login need a few hundred
MAX_CONCURRENT_REQUESTS = 64  # per process; the database pool holds 30 connections
# Long-polls one station holds open at once (per process): its engine keeps one; a
# second covers a reconnect racing the first's end. More answer at once.
MAX_WAITS_PER_STATION = 2


@dataclass(frozen=True)
class HubSettings:
    database_url: str
    migrate_on_start: bool = True
    max_body_bytes: int = MAX_BODY_BYTES
    # A request that carries no station token (enroll, dashboard login) may send this much.
    max_preauth_body_bytes: int = MAX_PREAUTH_BODY_BYTES
    # Requests in flight per process; more get 503 server.busy with Retry-After.
    max_concurrent_requests: int = MAX_CONCURRENT_REQUESTS
    clock: Callable[[], datetime] = field(default=utc_now)
    dashboard_refresh_s: int = 30  # how often the dashboard page refetches its figures
    lookup_limit: int = service.LOOKUP_LIMIT  # person look-ups per station per window
    lookup_window_s: int = service.LOOKUP_WINDOW_S
    max_pull_bytes: int = MAX_PULL_BYTES
    watch_poll_s: float = DEFAULT_POLL_S  # long-poll pulls: how often commits of other processes are looked for
    # The longest a pull may wait for a change (0: no long-polls; the station then syncs on
    # its own schedule). A station's ``wait`` is cut to this.
    long_poll_max_s: float = MAX_PULL_WAIT_S
    # Long-polls one station may hold open at once (per process); more answer at once.
    max_waits_per_station: int = MAX_WAITS_PER_STATION

    @classmethod
    def from_env(cls, database_url: str, environ: dict[str, str] | None = None, **over: Any) -> HubSettings:
        """Settings from ``TRAMTIEM_HUB_<FIELD>`` variables (integers), then ``over``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in (
            "max_body_bytes",
            "max_preauth_body_bytes",
            "max_concurrent_requests",
            "lookup_limit",
            "lookup_window_s",
            "max_pull_bytes",
            "max_waits_per_station",
        ):
            raw = env.get(f"TRAMTIEM_HUB_{name.upper()}")
            if raw is not None:
                values[name] = int(raw)
        values |= {k: v for k, v in over.items() if v is not None}
        for name, value in values.items():
            if isinstance(value, int) and not isinstance(value, bool) and value <= 0:
                raise ValueError(f"{name} must be positive")
        return cls(database_url=database_url, **values)
