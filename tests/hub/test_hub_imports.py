"""The hub runs without the station: no station module, no SQLCipher, no keyring, no Qt.

The import contracts in pyproject.toml say it statically; this loads every hub entry
point in a fresh interpreter and looks at what actually came in.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
import hub.app, hub.cli, hub.importer, hub.bundles, hub.server, hub.dashboard.web
print(json.dumps(sorted(sys.modules)))
"""


@pytest.mark.slow  # fresh interpreters importing each entry point; lint-imports checks the contracts in the fast lane
def test_hub_entry_points_load_no_station_module() -> None:
    res = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True)
    loaded = json.loads(res.stdout.strip().splitlines()[-1])
    top = {m.split(".")[0] for m in loaded}
    assert sorted(top & {"station", "sqlcipher3", "keyring", "PySide6", "ui", "demohub"}) == []
    assert "kernel" in top  # what the hub shares with the station comes from the kernel
