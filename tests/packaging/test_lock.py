"""The bundle's lock file: every dependency pinned with hashes, in step with pyproject.toml.

The Windows workflow installs it with ``pip install --require-hashes`` and builds with
``packaging/build.py --locked``; these checks run everywhere, fast, so a dependency
added to pyproject.toml without re-locking fails here rather than on the Windows runner.
"""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
LOCK = ROOT / "packaging" / "requirements-bundle.txt"
SOURCE = ROOT / "packaging" / "requirements-bundle.in"
# Left out of the bundle on purpose (docs/packaging.md): the hub's PostgreSQL driver.
NOT_BUNDLED = {"psycopg"}

sys.path.insert(0, str(ROOT / "packaging"))
import build as packaging_build  # noqa: E402 - packaging/ is not a package

sys.path.remove(str(ROOT / "packaging"))


def _blocks(text: str) -> dict[str, list[str]]:
    """name -> the hash lines of its pin."""
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==", line)
        if m:
            current = canonicalize_name(m.group(1))
            out[current] = []
        elif current and line.strip().startswith("--hash=sha256:"):
            out[current].append(line.strip())
    return out


def test_every_pin_of_the_lock_has_hashes() -> None:
    blocks = _blocks(LOCK.read_text(encoding="utf-8"))
    assert len(blocks) > 30
    assert not [n for n, hashes in blocks.items() if not hashes], "a pin without --hash"
    assert all(re.fullmatch(r"--hash=sha256:[0-9a-f]{64}( \\)?", h) for hs in blocks.values() for h in hs)
    # Windows' keyring backend needs pywin32-ctypes: the lock is universal, not Linux-only.
    assert "pywin32-ctypes" in blocks and "truststore" in blocks and "pyinstaller" in blocks


def test_the_lock_covers_every_runtime_dependency_of_pyproject() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    wanted = {canonicalize_name(Requirement(d).name) for d in deps} - NOT_BUNDLED
    source = {canonicalize_name(Requirement(line).name) for line in SOURCE.read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.startswith("#")}
    assert wanted <= source, f"add to {SOURCE.name} and re-run scripts/lock_bundle.py: {wanted - source}"
    locked = set(_blocks(LOCK.read_text(encoding="utf-8")))
    assert source <= locked, f"re-run scripts/lock_bundle.py: {source - locked}"


def test_build_locked_refuses_an_environment_that_differs() -> None:
    from importlib.metadata import version

    here = version("requests")
    lock = (f"requests=={here} \\\n    --hash=sha256:{'0' * 64}\n"
            "pywin32-ctypes==0.0.1 ; sys_platform == 'plan9' \\\n    --hash=sha256:" + "1" * 64 + "\n")
    # Matches, and another platform's pin is not this build's concern.
    assert packaging_build.lock_mismatches(lock) == []
    wrong = lock.replace(f"requests=={here}", "requests==0.0.1")
    assert any(p.startswith("requests: locked 0.0.1, installed") for p in packaging_build.lock_mismatches(wrong))
    missing = "not-a-real-package-xyz==1.0 \\\n    --hash=sha256:" + "2" * 64 + "\n"
    assert packaging_build.lock_mismatches(missing) == ["not-a-real-package-xyz: locked 1.0, not installed"]
