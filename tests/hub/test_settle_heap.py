"""The serving hub process keeps the garbage collector off its start-up heap (issue 15):
``tramtiem-hub serve``'s server freezes what start-up built and raises the first
generation's threshold once it is up; a server a test starts in its own process does not.

The served process is a real one (a subprocess serving on 127.0.0.1), asked over HTTP.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from hub.app import GC_GEN0_THRESHOLD, HubSettings
from hub.db import migrate
from hub.server import run_hub

ROOT = Path(__file__).resolve().parents[2]

# A served HubServer (the CLI's, minus argument parsing) in its own process; after a
# request has been answered it prints the collector's state and stops.
_SERVE = """
import gc, json, sys, threading, time
import httpx
from hub.app import HubSettings, create_app
from hub.server import HubServer, ServerLimits, uvicorn_config

app = create_app(HubSettings(database_url=sys.argv[1]))
before = gc.get_freeze_count()
server = HubServer(uvicorn_config(app, "127.0.0.1", 0, ServerLimits(), log_level="warning"))
thread = threading.Thread(target=server.run, daemon=True)
thread.start()
deadline = time.monotonic() + 30
while not server.started and time.monotonic() < deadline:
    time.sleep(0.01)
port = server.servers[0].sockets[0].getsockname()[1]
status = httpx.get(f"http://127.0.0.1:{port}/sync/v1/health", timeout=30).status_code
print(json.dumps({"before": before, "frozen": gc.get_freeze_count(),
                  "threshold": gc.get_threshold()[0], "health": status}))
server.should_exit = True
thread.join(30)
"""

_FACTORY = """
import gc, json
from hub.app import app_from_env
app = app_from_env()
print(json.dumps({"frozen": gc.get_freeze_count(), "threshold": gc.get_threshold()[0]}))
"""


def _run(script: str, *args: str, env: dict[str, str] | None = None) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got: dict[str, int] = json.loads(done.stdout.strip().splitlines()[-1])
    return got


def test_the_serving_process_freezes_its_start_up_heap_once_up(tmp_path: Path) -> None:
    got = _run(_SERVE, f"sqlite:///{tmp_path / 'hub.db'}")
    assert got["health"] == 200
    assert got["before"] == 0  # building the app does not freeze anything
    assert got["frozen"] > 50_000  # the imports, the app, SQLAlchemy's and pydantic's schemas
    assert got["threshold"] == GC_GEN0_THRESHOLD


def test_a_worker_built_by_the_factory_freezes_its_heap(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    migrate(url)  # as the CLI does before it starts the workers
    got = _run(_FACTORY, env={"TRAMTIEM_HUB_DATABASE_URL": url})
    assert got["frozen"] > 50_000
    assert got["threshold"] == GC_GEN0_THRESHOLD


def test_a_hub_served_in_a_test_process_leaves_its_collector_alone(tmp_path: Path) -> None:
    frozen, threshold = gc.get_freeze_count(), gc.get_threshold()
    with run_hub(HubSettings(database_url=f"sqlite:///{tmp_path / 'hub.db'}")) as hub:
        assert httpx.get(hub.url + "/sync/v1/health", timeout=30).status_code == 200
        assert (gc.get_freeze_count(), gc.get_threshold()) == (frozen, threshold)
