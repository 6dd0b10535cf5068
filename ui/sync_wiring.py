"""Starting the real sync engine for an enrolled station.

(The embedded demo hub is composed in :mod:`demohub`, outside ``ui``.)

A station is enrolled when its data holds a hub URL and the keyring holds its
token (``tramtiem enroll``). Then the app starts a :class:`sync.engine.SyncEngine`
on its own thread and the UI follows it through :class:`ui.bridge.EngineController`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from kernel.errors import StationError
from station import replica
from station.store import Station
from sync import cli as sync_cli
from sync.engine import SyncEngine, SyncSettings
from ui.bridge import EngineController, SiteHubController

log = logging.getLogger(__name__)


@dataclass
class RunningSync:
    engine: SyncEngine
    controller: EngineController
    # The site hub route (docs/site-hub.md), when the desk has a site hub address.
    relay: SyncEngine | None = None
    relay_controller: SiteHubController | None = None

    def stop(self) -> None:
        if self.relay is not None:
            self.relay.stop(timeout=10.0)
        self.engine.stop(timeout=10.0)


def start_sync(st: Station, *, settings: SyncSettings | None = None) -> RunningSync | None:
    """Start the engine if the station is enrolled; None (and a log line) otherwise."""
    try:
        factory = sync_cli.client_factory_for(st)
    except StationError as exc:
        log.info("sync not started: %s", exc.code)
        return None
    engine = SyncEngine(st, factory, settings=settings or SyncSettings())
    controller = EngineController(engine, st.clock)
    engine.start()
    # Both routes run side by side: the site hub when the LAN reaches it, the province
    # when this desk's own line is up; the province's ledger applies an op once.
    # Its address is typed or found by DNS-SD, its certificate pinned (sync.site_route).
    relay: SyncEngine | None = None
    if replica.site_hub_url(st):
        try:
            factory = sync_cli.site_hub_factory(st)
        except StationError as exc:
            log.warning("site hub route not started: %s", exc.code)
        else:
            relay = SyncEngine(st, factory, settings=settings or SyncSettings(), route="site_hub")
            relay.start()
    return RunningSync(engine, controller, relay, None if relay is None else SiteHubController(relay))
