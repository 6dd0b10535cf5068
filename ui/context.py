"""What every window and workspace is handed (injected, never global).

``AppContext`` lives as long as the open station; ``Session`` as long as one
login (the current lot is remembered per session, DESIGN "current lot
remembered for the session").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from kernel.roles import can
from station.store import Actor, Station
from ui.bridge import SyncBridge
from ui.settings import UiSettings
from ui.tasks import TaskManager

if TYPE_CHECKING:
    from ui.site_hub_host import SiteHubHost


@dataclass
class AppContext:
    station: Station
    tasks: TaskManager
    bridge: SyncBridge
    data_dir: Path
    settings: UiSettings
    save_settings: Callable[[UiSettings], None]
    # From the hub at enrollment (replica meta), empty on a station never enrolled.
    hub_site_name: str = ""
    enrolled_hub_url: str = ""
    # "This laptop is the site hub" (Admin): its child process, and how to restart sync
    # when this desk's own route to a site hub changed.
    site_hub: SiteHubHost | None = None
    restart_sync: Callable[[], None] = lambda: None

    def site_name(self) -> str:
        """The site as people know it, "Điểm tiêm Biên Hòa (DN-01)"; "" when the hub never said."""
        return f"{self.hub_site_name} ({self.station.site_code})" if self.hub_site_name else ""

    def now(self) -> datetime:
        """The station's clock (injectable in tests), for countdowns and ages."""
        return self.station.clock()


@dataclass
class Session:
    actor: Actor
    lot_id: str | None = None
    injection_site: str | None = None
    """Chosen once by the clerk and kept for the session, like the lot."""
    extra: dict[str, object] = field(default_factory=dict)

    def can(self, action: str) -> bool:
        return can(self.actor.role, action)
