"""Build the station bundle: ``python packaging/build.py [--target site|site-hub] [--dist DIR] [--work DIR]``.

``--target site`` (the default) builds ``dist/tramtiem/``, the site laptops' bundle, free of
the hub; ``--target site-hub`` builds ``dist/tramtiem-site-hub/``: the same station plus the
``tramtiem-hub`` executable, for the one laptop that serves its site's desks
(docs/site-hub.md; the spec reads ``TRAMTIEM_BUNDLE``).

Needs the packaging extra (``pip install -e .[packaging]``). Steps:

1. stamp ``station/_build.py`` with today's date, the project version and the
   git commit (a dose cannot predate the software that records it, so the
   build date is a floor for the station's clock checks; the commit tells
   support which code a laptop runs), then restore the file afterwards, even
   when the build fails;
2. run PyInstaller on ``packaging/tramtiem.spec`` (one folder);
3. print the bundle's path and size, and as the last line a JSON summary
   (``{"bundle": ..., "executable": ..., "bytes": ..., "files": ..., "seconds": ...}``).

PyInstaller builds for the platform it runs on: run this on Windows for the
site laptops' bundle (see docs/packaging.md).

Reproducible: ``--locked packaging/requirements-bundle.txt`` first checks that
every package of the lock (for this platform) is installed at exactly its
locked version, and refuses to build otherwise; install the lock with
``pip install --require-hashes --no-deps -r packaging/requirements-bundle.txt``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "packaging" / "tramtiem.spec"
BUILD_PY = ROOT / "station" / "_build.py"
LOCK = ROOT / "build" / "build.lock"
NAME = "tramtiem"
TARGETS = {"site": NAME, "site-hub": f"{NAME}-site-hub"}
HUB_NAME = "tramtiem-hub"


def project_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as fh:
        return str(tomllib.load(fh)["project"]["version"])


def stamped(source: str, build_date: str, version: str, commit: str = "") -> str:
    """``_build.py`` with BUILD_DATE, VERSION and COMMIT replaced (everything else kept)."""
    out, n_date = re.subn(r'^BUILD_DATE = ".*"$', f'BUILD_DATE = "{build_date}"', source, flags=re.M)
    out, n_ver = re.subn(r'^VERSION = ".*"$', f'VERSION = "{version}"', out, flags=re.M)
    out, n_commit = re.subn(r'^COMMIT = ".*"$', f'COMMIT = "{commit}"', out, flags=re.M)
    if n_date != 1 or n_ver != 1 or n_commit != 1:
        raise SystemExit(f"{BUILD_PY} no longer has one BUILD_DATE, one VERSION and one COMMIT line")
    return out


def git_commit() -> str:
    """The checked-out commit, with ``+dirty`` when tracked files differ from it ("" without git)."""
    env_sha = os.environ.get("GITHUB_SHA", "")
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return env_sha
    # station/_build.py itself is rewritten by this build: it does not make the tree dirty.
    changed = [line for line in dirty.splitlines() if not line.endswith("station/_build.py")]
    return sha + ("+dirty" if changed else "")


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?\s*$")


def locked_pins(lock_text: str) -> list[tuple[str, str, str | None]]:
    """(name, version, marker or None) of each pin of a pip-compile/uv lock file."""
    out = []
    for line in lock_text.splitlines():
        m = _PIN.match(line)
        if m:
            out.append((m.group(1), m.group(2), m.group(3)))
    return out


def lock_mismatches(lock_text: str) -> list[str]:
    """What differs between the lock and this environment (packages for this platform only)."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.markers import Marker
    from packaging.utils import canonicalize_name

    problems = []
    for name, want, marker in locked_pins(lock_text):
        if marker and not Marker(marker).evaluate():
            continue  # another platform's package (pywin32-ctypes on Linux, ...)
        try:
            have = version(canonicalize_name(name))
        except PackageNotFoundError:
            problems.append(f"{name}: locked {want}, not installed")
            continue
        if canonicalize_name(have) != canonicalize_name(want):
            problems.append(f"{name}: locked {want}, installed {have}")
    return problems


def executable(bundle: Path) -> Path:
    # On Windows the console twin answers --selftest (the windowed exe has no stdout).
    name = f"{NAME}-cli.exe" if sys.platform == "win32" else NAME
    return bundle / name


def dir_size(path: Path) -> tuple[int, int]:
    total = files = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
            files += 1
    return total, files


def hub_executable(bundle: Path) -> Path:
    """The site hub's executable in a site-hub bundle (beside the station's)."""
    return bundle / (f"{HUB_NAME}.exe" if sys.platform == "win32" else HUB_NAME)


@contextmanager
def one_build_at_a_time() -> Iterator[None]:
    """Builds of one checkout take turns: each stamps ``station/_build.py`` and puts it back,
    so two at once (the site and site-hub bundles, tests in parallel) would restore each
    other's stamp. POSIX only (``fcntl``); a Windows machine builds one bundle at a time."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with open(LOCK, "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build(dist: Path, work: Path, build_date: str, version: str, *, quiet: bool, commit: str = "",
          target: str = "site") -> Path:
    with one_build_at_a_time():
        return _build(dist, work, build_date, version, quiet=quiet, commit=commit, target=target)


def _build(dist: Path, work: Path, build_date: str, version: str, *, quiet: bool, commit: str,
           target: str) -> Path:
    work.mkdir(parents=True, exist_ok=True)
    saved = work / "_build.py.orig"
    if saved.exists():
        # A previous build was killed before it could restore the file.
        BUILD_PY.write_text(saved.read_text(encoding="utf-8"), encoding="utf-8")
    original = BUILD_PY.read_text(encoding="utf-8")
    saved.write_text(original, encoding="utf-8")
    try:
        new = stamped(original, build_date, version, commit)
        if new != original:  # an unchanged file is not rewritten: other runs may be reading it
            BUILD_PY.write_text(new, encoding="utf-8")
        cmd = [
            sys.executable, "-m", "PyInstaller", "--noconfirm", "--clean",
            "--distpath", str(dist), "--workpath", str(work),
            "--log-level", "WARN" if quiet else "INFO",
            str(SPEC),
        ]
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", TRAMTIEM_BUNDLE=target)
        proc = subprocess.run(cmd, cwd=ROOT, env=env, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"PyInstaller failed (exit {proc.returncode})")
    finally:
        if BUILD_PY.read_text(encoding="utf-8") != original:
            BUILD_PY.write_text(original, encoding="utf-8")
        saved.unlink(missing_ok=True)
    return dist / TARGETS[target]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=sorted(TARGETS), default="site",
                        help="site: the desks' bundle (default); site-hub: also tramtiem-hub, "
                        "for the laptop that serves its site")
    parser.add_argument("--dist", type=Path, default=ROOT / "dist", help="output folder (default dist/)")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "pyinstaller",
                        help="PyInstaller's work folder (default build/pyinstaller)")
    parser.add_argument("--build-date", default=datetime.now(UTC).date().isoformat(),
                        help="date stamped into the bundle (default: today, UTC)")
    parser.add_argument("--version", default=None, help="version (default: pyproject.toml)")
    parser.add_argument("--commit", default=None, help="commit stamped into the bundle (default: git)")
    parser.add_argument("--quiet", action="store_true", help="PyInstaller warnings only")
    parser.add_argument("--locked", type=Path, default=None,
                        help="refuse to build unless this environment matches the lock file exactly")
    args = parser.parse_args(argv)
    started = time.monotonic()
    if args.locked is not None:
        problems = lock_mismatches(args.locked.read_text(encoding="utf-8"))
        if problems:
            raise SystemExit("the environment differs from " + str(args.locked) + ":\n  "
                             + "\n  ".join(problems))
        print(f"environment matches {args.locked}")
    commit = args.commit if args.commit is not None else git_commit()
    bundle = build(args.dist.resolve(), args.work.resolve(), args.build_date,
                   args.version or project_version(), quiet=args.quiet, commit=commit,
                   target=args.target)
    exe = executable(bundle)
    for need in [exe] + ([hub_executable(bundle)] if args.target == "site-hub" else []):
        if not need.exists():
            raise SystemExit(f"the build finished but {need} is missing")
    size, files = dir_size(bundle)
    seconds = time.monotonic() - started
    print(f"bundle: {bundle} ({size / 1e6:.0f} MB in {files} files, built in {seconds:.0f}s)")
    print(f"run:    {exe} --selftest")
    print(json.dumps({"bundle": str(bundle), "executable": str(exe), "target": args.target, "bytes": size,
                      "files": files, "seconds": round(seconds, 1), "commit": commit}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
