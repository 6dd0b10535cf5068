"""The site-hub bundle (``packaging/build.py --target site-hub``), checked without building it.

A PyInstaller build takes minutes, so the fast lane checks what decides the bundle's
contents: the spec, run with PyInstaller's build steps recorded instead of executed (which
analyses, which entry points, which exclusions, which executables in which folder), for
both targets; the hub's entry point imported in a fresh interpreter (no station, Qt,
SQLCipher or keyring comes in); and how the station finds ``tramtiem-hub`` (beside its own
executable when frozen, ``python -m hub.cli`` from source, else a translated error). The
full build of the site-hub bundle is ``test_site_hub_bundle_builds`` (slow).
"""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from kernel.errors import StoreError
from station import replica
from station.store import init_station
from sync import site_hub_serve as shs
from ui import cli

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "packaging" / "tramtiem.spec"


class _Recorder:
    def __init__(self) -> None:
        self.analyses: list[dict[str, Any]] = []
        self.exes: list[dict[str, Any]] = []
        self.collect: dict[str, Any] = {}

    def globals(self, work: Path) -> dict[str, Any]:
        rec = self

        class Analysis:
            def __init__(self, scripts: list[str], **kw: Any) -> None:
                rec.analyses.append({"scripts": scripts, **kw})
                self.pure: list[tuple[str, str, str]] = []
                self.binaries: list[tuple[str, str, str]] = []
                self.datas: list[tuple[str, str, str]] = []
                self.scripts = scripts

        def exe(*parts: Any, **kw: Any) -> dict[str, Any]:
            rec.exes.append(kw)
            return {"exe": kw["name"]}

        def collect(*parts: Any, **kw: Any) -> None:
            rec.collect = {"parts": parts, **kw}

        return {"Analysis": Analysis, "PYZ": lambda *a, **k: object(), "EXE": exe, "COLLECT": collect,
                "SPECPATH": str(SPEC.parent), "workpath": str(work), "__file__": str(SPEC)}


def run_spec(target: str, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> _Recorder:
    import PyInstaller.utils.hooks as hooks

    # The real helpers import every package in a subprocess (seconds each): not the subject.
    monkeypatch.setattr(hooks, "collect_submodules", lambda package, filter=None: [package])
    monkeypatch.setattr(hooks, "copy_metadata", lambda package: [])
    monkeypatch.setenv("TRAMTIEM_BUNDLE", target)
    monkeypatch.setattr(sys, "path", list(sys.path))
    rec = _Recorder()
    exec(compile(SPEC.read_text("utf-8"), str(SPEC), "exec"), rec.globals(tmp))
    return rec


def test_the_site_bundle_is_unchanged_one_hub_free_analysis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("PyInstaller")
    rec = run_spec("site", tmp_path, monkeypatch)
    assert len(rec.analyses) == 1
    assert rec.analyses[0]["scripts"][0].endswith("launcher.py")
    assert {"hub", "demohub", "fastapi", "uvicorn"} <= set(rec.analyses[0]["excludes"])
    assert rec.collect["name"] == "tramtiem"
    assert "tramtiem-hub" not in [e["name"] for e in rec.exes]


def test_the_site_hub_bundle_adds_the_hub_executable_without_the_station(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("PyInstaller")
    site = run_spec("site", tmp_path, monkeypatch).analyses[0]
    rec = run_spec("site-hub", tmp_path, monkeypatch)
    station, hub = rec.analyses
    # The station's executable: the very same analysis as the site bundle's (hub excluded).
    assert station == site
    assert hub["scripts"][0].endswith("hub_launcher.py")
    assert {"PySide6", "sqlcipher3", "keyring", "station", "ui", "demohub", "psycopg"} <= set(hub["excludes"])
    assert {"hub", "kernel", "uvicorn", "zeroconf", "sync.protocol", "sync.discovery"} <= set(hub["hiddenimports"])
    assert any(src.endswith("hub/migrations/script.py.mako") for src, _dest in hub["datas"])
    assert any(src.endswith("dashboard/templates/dashboard.html") for src, _dest in hub["datas"])
    names = [e["name"] for e in rec.exes]
    assert "tramtiem" in names and "tramtiem-hub" in names
    assert rec.collect["name"] == "tramtiem-site-hub"  # its own folder: dist/tramtiem-site-hub/
    assert {"exe": "tramtiem-hub"} in rec.collect["parts"]


def test_a_wrong_target_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("PyInstaller")
    with pytest.raises(SystemExit, match="TRAMTIEM_BUNDLE"):
        run_spec("province", tmp_path, monkeypatch)


def test_the_hub_entry_point_brings_no_station_qt_or_keyring() -> None:
    code = (
        "import runpy, sys, json\n"
        "sys.argv = ['tramtiem-hub', '--help']\n"
        "try:\n    runpy.run_path('packaging/hub_launcher.py', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "import hub.app, hub.site_hub, hub.server\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         timeout=120, check=True).stdout
    modules = json.loads(out.strip().splitlines()[-1])
    tops = {m.split(".")[0] for m in modules}
    assert {"hub", "uvicorn", "fastapi"} <= tops
    assert not tops & {"station", "ui", "PySide6", "shiboken6", "sqlcipher3", "keyring", "demohub"}


# ---- how the station finds the hub -------------------------------------------------------


def test_a_frozen_station_runs_the_hub_beside_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "tramtiem").write_text("")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "tramtiem"))
    with pytest.raises(StoreError) as missing:
        shs.hub_command()  # the plain site bundle: no hub beside it
    assert missing.value.code == "site_hub.not_installed"
    (tmp_path / "tramtiem-hub").write_text("")
    assert shs.hub_command() == [str(tmp_path / "tramtiem-hub")]


def test_a_source_install_runs_the_hub_module(monkeypatch: pytest.MonkeyPatch) -> None:
    assert shs.hub_command() == [sys.executable, "-m", "hub.cli"]
    real = shs.importlib.util.find_spec
    monkeypatch.setattr(shs.importlib.util, "find_spec", lambda name: None if name == "uvicorn" else real(name))
    with pytest.raises(StoreError) as missing:
        shs.hub_command()
    assert missing.value.code == "site_hub.not_installed"


def test_without_the_hub_serve_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    st = init_station(tmp_path / "d", "DN-PKG-01")
    replica.set_meta(st, shs.HUB_URL_KEY, "https://hub.example.vn")
    st.close()
    real = shs.importlib.util.find_spec
    monkeypatch.setattr(shs.importlib.util, "find_spec", lambda name: None if name == "fastapi" else real(name))
    rc = cli.main(["site-hub", "serve", "--data-dir", str(tmp_path / "d"), "--code", "ABCD-EFGH-JKMN",
                   "--host", "127.0.0.1", "--no-announce"])
    err = capsys.readouterr().err
    assert rc == 2 and "[site_hub.not_installed]" in err and "Traceback" not in err
    # The window's translation (vi or en, by the system's language), never the bare code.
    assert "máy chủ điểm" in err or "site hub edition" in err
    assert not (tmp_path / "d" / shs.SUBDIR).exists()


# ---- the full build (slow) ------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.timeout(1500)
def test_site_hub_bundle_builds(tmp_path: Path) -> None:
    from tests.packaging.test_bundle import (
        SITE_FORBIDDEN,
        _bundle_env,
        _skip_reason,
        bundle_contents,
    )

    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    proc = subprocess.run(
        [sys.executable, str(ROOT / "packaging" / "build.py"), "--quiet", "--target", "site-hub",
         "--dist", str(tmp_path / "dist"), "--work", str(tmp_path / "work")],
        cwd=ROOT, capture_output=True, text=True, timeout=1400, check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    bundle = Path(summary["bundle"])
    assert bundle.name == "tramtiem-site-hub" and summary["target"] == "site-hub"
    station_exe, hub_exe = bundle / "tramtiem", bundle / "tramtiem-hub"
    # Each executable carries its own modules: the station none of the hub, the hub none of the desk.
    station_modules, _files = bundle_contents(bundle, station_exe)
    assert "ui.app" in station_modules
    assert not [m for m in station_modules if m.split(".")[0] in SITE_FORBIDDEN]
    hub_modules, _files = bundle_contents(bundle, hub_exe)
    assert {"hub.cli", "hub.site_hub", "uvicorn", "fastapi"} <= set(hub_modules)
    assert not [m for m in hub_modules if m.split(".")[0] in ("PySide6", "station", "ui", "sqlcipher3", "keyring")]

    env = _bundle_env(tmp_path)
    helped = subprocess.run([str(hub_exe), "serve", "--help"], env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert helped.returncode == 0 and "--exit-with-parent" in helped.stdout
    station_help = subprocess.run([str(station_exe), "site-hub", "--help"], env=env, capture_output=True,
                                  text=True, timeout=120, check=False)
    assert station_help.returncode == 0 and "serve" in station_help.stdout
    # The bundled hub enrolls as a site hub with a province (from the source tree, 127.0.0.1):
    # its migrations, its TLS key and the province's certificate all work frozen.
    from hub import relay
    from hub.db import Database
    from hub.ingest import utc_now
    from tests.packaging.test_bundle import _test_hub

    (tmp_path / "province").mkdir()
    with _test_hub(tmp_path / "province", "DN-PKG-02") as (url, _code):
        db = Database(f"sqlite:///{tmp_path / 'province' / 'hub.db'}")
        try:
            code = relay.new_relay_code(db, "DN-PKG-02", ttl_hours=1, now=utc_now())
        finally:
            db.dispose()
        enrolled = subprocess.run(
            [str(hub_exe), "relay", "enroll", "--code", code, "--province", url, "--data-dir",
             str(tmp_path / "site-hub")], env=env, capture_output=True, text=True, timeout=300, check=False)
        assert enrolled.returncode == 0, enrolled.stdout[-3000:] + enrolled.stderr[-3000:]
        assert "site hub of DN-PKG-02" in enrolled.stdout
        assert (tmp_path / "site-hub" / "relay.crt").is_file()
        # And serves HTTPS with it, as the station runs it: a child that ends when stdin closes.
        port = _free_port()
        with open(tmp_path / "serve.log", "wb") as log:
            served = subprocess.Popen(
                [str(hub_exe), "serve", "--relay-to", url, "--host", "127.0.0.1", "--port", str(port),
                 "--data-dir", str(tmp_path / "site-hub"), "--exit-with-parent"],
                env=env, stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + 120
                while not shs.accepts(port):
                    assert served.poll() is None and time.monotonic() < deadline, "the bundled hub did not serve"
                    time.sleep(0.2)
                ctx = ssl.create_default_context()
                ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE  # the pinning has its own tests
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/sync/v1/health", context=ctx,
                                            timeout=10) as answer:
                    assert json.loads(answer.read())["status"] == "ok"
                assert served.stdin is not None
                served.stdin.close()
                assert served.wait(timeout=60) == 0
            finally:
                if served.poll() is None:
                    served.kill()
                    served.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_builds_of_one_checkout_take_turns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two builds at once (the site and the site-hub bundle in parallel test workers) would
    put back each other's stamp of station/_build.py: the second waits for the first."""
    import threading

    fcntl = pytest.importorskip("fcntl")
    from tests.packaging.test_bundle import packaging_build

    monkeypatch.setattr(packaging_build, "LOCK", tmp_path / "build.lock")
    entered = threading.Event()

    def second() -> None:
        with packaging_build.one_build_at_a_time():
            entered.set()

    with open(tmp_path / "build.lock", "w") as first:
        fcntl.flock(first, fcntl.LOCK_EX)  # a build under way
        waiter = threading.Thread(target=second)
        waiter.start()
        assert not entered.wait(0.5)  # still waiting
        fcntl.flock(first, fcntl.LOCK_UN)
    waiter.join(10)
    assert entered.is_set()
