"""The station picks the keyring backend keyring itself would pick, with less work (issue 15).

``station.keys.keyring_backend`` names the OS backend directly on Windows and macOS
instead of keyring's detection (every backend module imported and probed at each
start). These tests run in subprocesses with a clean keyring configuration (no
``PYTHON_KEYRING_BACKEND`` unless given, an empty config directory unless a
``keyringrc.cfg`` is written), so the test session's own in-memory keyring does not
count, and compare the station's choice with keyring's own ``_detect_backend``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = """
import json, sys
import keyring.core
from station import keys
chosen = keys.keyring_backend()
mine = type(chosen).__module__ + "." + type(chosen).__qualname__
detected = keyring.core._detect_backend()
theirs = type(detected).__module__ + "." + type(detected).__qualname__
print(json.dumps({"mine": mine, "theirs": theirs, "modules": sorted(sys.modules)}))
"""


def _probe(tmp_path: Path, *, env_backend: str | None = None, config: str | None = None,
           code: str = PROBE) -> dict[str, object]:
    cfg = tmp_path / "config"
    (cfg / "python_keyring").mkdir(parents=True, exist_ok=True)
    if config is not None:
        (cfg / "python_keyring" / "keyringrc.cfg").write_text(config, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env.update(XDG_CONFIG_HOME=str(cfg), XDG_DATA_HOME=str(tmp_path / "data"))
    if env_backend:
        env["PYTHON_KEYRING_BACKEND"] = env_backend
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=True)
    out: dict[str, object] = json.loads(res.stdout.strip().splitlines()[-1])
    return out


NULL = "keyring.backends.null.Keyring"


@pytest.mark.parametrize(
    ("env_backend", "config", "expected"),
    [
        (NULL, None, NULL),  # PYTHON_KEYRING_BACKEND wins
        (None, f"[backend]\ndefault-keyring={NULL}\n", NULL),  # then keyring's config file
        (NULL, "[backend]\ndefault-keyring=keyring.backends.fail.Keyring\n", NULL),  # env before file
        (None, None, None),  # nothing configured: whatever keyring detects on this machine
    ],
)
def test_same_backend_as_keyrings_own_detection(
    tmp_path: Path, env_backend: str | None, config: str | None, expected: str | None
) -> None:
    got = _probe(tmp_path, env_backend=env_backend, config=config)
    assert got["mine"] == got["theirs"]
    if expected is not None:
        assert got["mine"] == expected


def test_configured_backend_is_loaded_without_the_others(tmp_path: Path) -> None:
    code = """
import json, sys
from station import keys
keys.check_backend()
print(json.dumps({"modules": sorted(sys.modules)}))
"""
    got = _probe(tmp_path, config=f"[backend]\ndefault-keyring={NULL}\n", code=code)
    loaded = set(got["modules"])  # type: ignore[arg-type]
    others = {"keyring.backends.SecretService", "keyring.backends.kwallet", "keyring.backends.libsecret",
              "keyring.backends.Windows", "keyring.backends.chainer", "keyrings.alt"}
    assert sorted(loaded & others) == []


WINDOWS_PROBE = """
import json, sys
import keyring.backends.Windows as win
from station import keys
sys.frozen = True  # the bundle: keyring's own backends only, no metadata scan
unusable = keys._platform_backend("win32")  # this Linux machine has no Windows API
# Make WinVault usable as far as keyring can tell, to see what a site laptop would open.
win.WinVaultKeyring.priority = 5
kr = keys._platform_backend("win32")
print(json.dumps({"unusable": repr(unusable),
                  "win": None if kr is None else type(kr).__module__ + "." + type(kr).__qualname__,
                  "linux": keys._platform_backend("linux")}))
"""


def test_windows_bundle_names_winvault_directly(tmp_path: Path) -> None:
    got = _probe(tmp_path, code=WINDOWS_PROBE)
    assert got["unusable"] == "None"  # not usable: keyring's own detection decides
    assert got["win"] == "keyring.backends.Windows.WinVaultKeyring"
    assert got["linux"] is None  # Linux: Secret Service, KWallet or libsecret: keyring detects


def test_a_third_party_backend_leaves_the_choice_to_keyring(tmp_path: Path) -> None:
    # keyrings.alt (a dev extra) registers backends: keyring's detection must then run,
    # as it may prefer a chainer over the platform backend.
    code = """
import json, sys
from station import keys
print(json.dumps({"third": keys._third_party_backends(), "win": repr(keys._platform_backend("win32"))}))
"""
    pytest.importorskip("keyrings.alt")
    got = _probe(tmp_path, code=code)
    assert got == {"third": True, "win": "None"}
