"""The embedded demo hub: a station, the sync client and a hub composed in one process.

``tramtiem demo`` and ``tramtiem --selftest`` use it. It is the one place that
wires the station and the hub together (the hub never imports the station; the
UI never imports the hub), so a station-only build can leave this package, the
hub, FastAPI and uvicorn out together (import contracts in pyproject.toml).
"""

from __future__ import annotations

from demohub.embedded import DemoSetup, check_hub, demo_station

__all__ = ["DemoSetup", "check_hub", "demo_station"]
