"""The Linux bundle: build it with packaging/build.py, then run its ``--selftest``.

This is the acceptance check "CI builds the Linux bundle and runs its
--selftest from the bundle". It takes one to three minutes, so a local run may
skip it with ``TRAMTIEM_SKIP_BUNDLE=1``; under CI (``CI=true``) it always runs
and a missing PyInstaller is a failure, not a skip.

The site bundle is station-only: no hub, no demo hub, no web server (FastAPI,
Starlette, uvicorn); its contents are checked module by module
(``site_forbidden_contents``), its ``tramtiem demo`` answers with a translated
message, and its selftest syncs with a hub this test starts from the source
tree on 127.0.0.1.

The figures (bundle size, selftest wall time, bare start-up time) are printed
to the terminal and written to ``build/bundle-report.json``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

sys.path.insert(0, str(ROOT / "packaging"))
import build as packaging_build  # noqa: E402 - packaging/ is not a package

sys.path.remove(str(ROOT / "packaging"))


def _skip_reason() -> str | None:
    if not sys.platform.startswith("linux"):
        # The Windows bundle is built, installed and selftested by windows-bundle.yml.
        return "the Linux bundle is built on Linux (Windows: .github/workflows/windows-bundle.yml)"
    if IN_CI:
        return None
    if os.environ.get("TRAMTIEM_SKIP_BUNDLE") == "1":
        return "TRAMTIEM_SKIP_BUNDLE=1"
    if importlib.util.find_spec("PyInstaller") is None:
        return "PyInstaller is not installed (pip install -e .[packaging])"
    return None


def _bundle_env(tmp: Path) -> dict[str, str]:
    """The bundle must not lean on this checkout or its venv: a bare environment."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "DISPLAY", "WAYLAND_DISPLAY",
                        "PYTHON_KEYRING_BACKEND")}
    env["HOME"] = str(tmp / "home")  # nothing written to the real user's dirs
    env["XDG_DATA_HOME"] = str(tmp / "home" / "data")
    env["TMPDIR"] = str(tmp / "tmp")
    (tmp / "home").mkdir(exist_ok=True)
    (tmp / "tmp").mkdir(exist_ok=True)
    return env


# What the site bundle must not carry (packaging/tramtiem.spec excludes them; this checks the result).
SITE_FORBIDDEN = ("hub", "demohub", "fastapi", "starlette", "uvicorn")


def bundle_contents(bundle: Path, exe: Path) -> tuple[list[str], list[str]]:
    """(modules in the executable's archive, files under the bundle folder, relative)."""
    from PyInstaller.archive.readers import pkg_archive_contents

    modules = pkg_archive_contents(str(exe), recursive=True)
    files = [p.relative_to(bundle).as_posix() for p in bundle.rglob("*") if p.is_file()]
    return modules, files


def site_forbidden_contents(bundle: Path, exe: Path) -> list[str]:
    """Modules and files of the bundle that belong to the hub, the demo hub or the web server."""
    modules, files = bundle_contents(bundle, exe)
    found = [m for m in modules if m.split(".")[0] in SITE_FORBIDDEN]
    for rel in files:
        parts = rel.split("/")
        if parts[0] == "_internal":
            parts = parts[1:]
        # a package folder (hub/migrations/env.py), an extension module, or its .dist-info
        top = parts[0].split(".")[0].split("-")[0].lower() if parts else ""
        if top in SITE_FORBIDDEN:
            found.append(rel)
    return found


@contextmanager
def _test_hub(tmp: Path, site: str) -> Iterator[tuple[str, str]]:
    """A hub from the source tree on 127.0.0.1 (SQLite) with ``site`` and a one-time code for it."""
    from hub import service
    from hub.app import HubSettings
    from hub.db import Database
    from hub.ingest import utc_now
    from hub.server import run_hub

    url = f"sqlite:///{tmp / 'hub.db'}"
    with run_hub(HubSettings(database_url=url)) as hub:
        db = Database(url)
        try:
            service.add_site(db, site, "Selftest site", "75", now=utc_now())
            code = service.new_enrollment_code(db, site, ttl_hours=1, now=utc_now())
        finally:
            db.dispose()
        yield hub.url, code


def _children_cpu_s() -> float:
    import resource  # POSIX only: this module is also collected by the Windows test job

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def test_stamped_rewrites_only_the_build_facts() -> None:
    source = (ROOT / "station" / "_build.py").read_text(encoding="utf-8")
    out = packaging_build.stamped(source, "2031-02-03", "9.8.7", "abc123def456")
    assert 'BUILD_DATE = "2031-02-03"' in out and 'VERSION = "9.8.7"' in out
    assert 'COMMIT = "abc123def456"' in out
    assert out.replace("2031-02-03", "X").replace("9.8.7", "Y").count("\n") == source.count("\n")
    assert packaging_build.stamped(out, *_current_facts()) == source


def _current_facts() -> tuple[str, str, str]:
    from station._build import BUILD_DATE, COMMIT, VERSION

    return BUILD_DATE, VERSION, COMMIT


@pytest.mark.slow
@pytest.mark.timeout(1200)
def test_linux_bundle_builds_and_passes_its_selftest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    build_date, version, _commit = _current_facts()
    build_py = ROOT / "station" / "_build.py"
    before = build_py.read_bytes()
    # The date and version stamped are the ones already in the file; the commit is the
    # checkout's (git), stamped for the build and the file put back byte for byte after.
    proc = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "build.py"), "--quiet",
         "--dist", str(tmp_path / "dist"), "--work", str(tmp_path / "work"),
         "--build-date", build_date, "--version", version],
        cwd=ROOT, capture_output=True, text=True, timeout=1100, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    assert build_py.read_bytes() == before
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    exe = Path(summary["executable"])
    assert exe.is_file() and os.access(exe, os.X_OK)
    bundle = Path(summary["bundle"])
    # Nothing of the checkout's sources rides along beyond what the spec lists.
    internal = bundle / "_internal"
    # Compiled catalogs only (ours, and Qt's own dialogs in Vietnamese), no .ts sources.
    assert sorted(p.name for p in (internal / "ui" / "i18n").iterdir()) == [
        "qt_vi.qm", "tramtiem_en.qm", "tramtiem_vi.qm"]
    assert (internal / "station" / "migrations" / "env.py").is_file()
    # Station-only: nothing of the hub, the demo hub or a web server, module by module.
    modules, _files = bundle_contents(bundle, exe)
    assert {"sync.engine", "station.store", "ui.app", "pydantic"} <= set(modules)  # the listing is real
    assert site_forbidden_contents(bundle, exe) == []
    assert not list(internal.glob("keyrings*")), "keyrings.alt must not be bundled"
    assert list(internal.glob("keyring-*.dist-info")), "keyring's entry points need its metadata"
    assert not list(internal.glob("psycopg*"))

    env = _bundle_env(tmp_path)
    run_dir = tmp_path / "cwd"
    run_dir.mkdir()

    # Wall time depends on what else the machine runs; CPU time much less so.
    cpu0, t0 = _children_cpu_s(), time.perf_counter()
    help_proc = subprocess.run([str(exe), "--help"], cwd=run_dir, env=env, capture_output=True,
                               text=True, timeout=120, check=False)
    help_s, help_cpu = time.perf_counter() - t0, _children_cpu_s() - cpu0
    assert help_proc.returncode == 0 and "--selftest" in help_proc.stdout

    # A sync round trip from the bundle: against a hub started here from the source tree.
    from ui.selftest import SITE

    with _test_hub(tmp_path, SITE) as (hub_url, code):
        cpu0, t0 = _children_cpu_s(), time.perf_counter()
        st = subprocess.run([str(exe), "--selftest", "--selftest-hub", hub_url, "--selftest-code", code],
                            cwd=run_dir, env=env, capture_output=True, text=True, timeout=300, check=False)
        selftest_s, selftest_cpu = time.perf_counter() - t0, _children_cpu_s() - cpu0
    assert st.returncode == 0, st.stdout[-4000:] + st.stderr[-4000:]
    report: dict[str, Any] = json.loads(st.stdout)
    assert report["ok"] and report["frozen"]
    checks = report["checks"]
    assert all(c["ok"] for c in checks.values()), checks
    assert checks["window"]["png_bytes"] > 10_000
    assert checks["window"]["today_rows"] > 0
    assert checks["keyring"]["native"] == "keyring.backends.SecretService"
    # No Secret Service in this bare environment: the round trip is reported, not faked.
    assert checks["keyring"]["roundtrip"] is True or "Secret Service" in checks["keyring"]["warning"]
    assert checks["tls"]["source"] == "os"  # truststore made it into the bundle
    assert report["commit"] == summary["commit"] and report["commit"]  # stamped by build.py
    assert st.stdout.isascii()
    assert not checks["keyring"]["keyrings_alt"]
    assert checks["sqlcipher"]["cipher_version"]
    assert not list((tmp_path / "tmp").iterdir()), "the selftest left files behind"
    # Site build: no demo hub check; the round trip went through (enrolled, pushed, nothing left).
    assert report["demo_hub"] is False and "hub" not in checks
    assert checks["sync"]["site"] == SITE and checks["sync"]["pushed"] > 0
    assert checks["sync"]["pending_left"] == 0

    # Demo mode is not in the site build: a translated answer, not a traceback.
    demo_dir = tmp_path / "demo"
    for lang, words in (("en_US.UTF-8", "source checkout"), ("vi_VN.UTF-8", "mã nguồn")):
        demo = subprocess.run([str(exe), "demo", "--headless", "--people", "10", "--data-dir",
                               str(demo_dir)], cwd=run_dir, env={**env, "LANG": lang, "LC_ALL": lang},
                              capture_output=True, text=True, timeout=120, check=False)
        assert demo.returncode == 2, demo.stdout[-3000:] + demo.stderr[-3000:]
        assert words in demo.stderr and "./dev demo" in demo.stderr and "Traceback" not in demo.stderr
    assert not demo_dir.exists()

    figures = {
        "bundle_mb": round(summary["bytes"] / 1e6, 1),
        "bundle_files": summary["files"],
        "build_s": summary["seconds"],
        "start_help_s": round(help_s, 2),
        "start_help_cpu_s": round(help_cpu, 2),
        "selftest_wall_s": round(selftest_s, 2),
        "selftest_cpu_s": round(selftest_cpu, 2),
        "load_avg_1m": round(os.getloadavg()[0], 2),
        "selftest_checks_ms": {k: v["ms"] for k, v in checks.items()},
    }
    out = ROOT / "build" / "bundle-report.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    with capsys.disabled():
        print(
            f"\nLinux bundle: {figures['bundle_mb']} MB in {figures['bundle_files']} files "
            f"(built in {figures['build_s']:.0f}s); start to --help {help_s:.2f}s "
            f"({help_cpu:.2f}s CPU); --selftest {selftest_s:.2f}s wall ({selftest_cpu:.2f}s CPU)"
        )
    shutil.rmtree(tmp_path / "work", ignore_errors=True)  # PyInstaller's cache is large
