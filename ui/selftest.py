"""``tramtiem --selftest``: does this installation (a source checkout or the bundle) work?

IT staff run it after installing on a laptop, and CI runs it from the built
bundle. Each check exercises something a frozen bundle typically loses (data
files, entry-point metadata, native libraries, Qt plugins):

* ``store``: a new encrypted station in a temporary directory (its key in a
  process-local keyring chosen explicitly, never the OS keyring), the Alembic
  migrations to the head revision, demo data written through the services
  (argon2 included);
* ``sqlcipher``: SQLCipher's ``cipher_version`` and a working FTS5 index;
* ``keyring``: keyring's backends discoverable through their entry points
  (the metadata PyInstaller drops unless told), this platform's native one
  importable, and a round trip through the **OS keyring** the station will
  use: a throwaway test credential written, read back and deleted (on Windows:
  Credential Manager). Where a platform may lack a keyring service (Linux
  without a Secret Service, e.g. a CI box) that is reported as a warning; on
  Windows and macOS a failed round trip fails the check;
* ``translations``: every compiled ``.qm`` loads and translates;
* ``hub``: the embedded demo hub's migrations run (``tramtiem demo``); only where the
  demo hub is installed (a source checkout): the site bundle leaves it out;
* ``sync`` (only with ``--selftest-hub URL --selftest-code CODE``, for CI and test
  benches): the selftest station is enrolled with that throwaway hub (site
  ``SELFTEST-01``) and its demo people are synced there over HTTP, nothing left pending;
* ``window``: the real app logs in and renders the main window with the demo
  data to an image in memory (offscreen when there is no display).

Prints one JSON report on stdout and exits 0, or names the failed check on
stderr and exits 1. Nothing is written outside the temporary directory (and
the test credential, deleted again), and the report holds no demo names. The
report is ASCII (JSON escapes) and every line printed survives a Windows
console code page (cp437, cp1258): nothing can crash the report itself.
"""

from __future__ import annotations

import json
import os
import platform
import secrets
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

EXIT_OK, EXIT_FAILED = 0, 1
SITE = "SELFTEST-01"
PEOPLE = 30
WINDOW_SIZE = (1280, 800)
# Each platform's native keyring backend: the one the station will use there.
NATIVE_KEYRING = {
    "win32": "keyring.backends.Windows",
    "darwin": "keyring.backends.macOS",
    "linux": "keyring.backends.SecretService",
}


# What a check reports (JSON-ready: the selftest prints it).
CheckResult = dict[str, object]


class CheckFailed(Exception):
    """A check's own verdict (as opposed to an unexpected exception)."""


def _needs_offscreen(env: Mapping[str, str], plat: str) -> bool:
    """No display to draw on: only Linux/BSD without X11 or Wayland."""
    if env.get("QT_QPA_PLATFORM"):
        return False  # the caller chose
    if plat in ("win32", "darwin"):
        return False
    return not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


# ---- checks that need no Qt -------------------------------------------------------------


def check_sqlcipher() -> CheckResult:
    import sqlcipher3

    conn = sqlcipher3.connect(":memory:")
    try:
        conn.execute("PRAGMA key = 'selftest'")
        row = conn.execute("PRAGMA cipher_version").fetchone()
        if not row or not row[0]:
            raise CheckFailed("sqlcipher3 is plain SQLite here (no cipher_version)")
        conn.execute("CREATE VIRTUAL TABLE t USING fts5(name, tokenize='unicode61 remove_diacritics 2')")
        conn.execute("INSERT INTO t (name) VALUES ('nguyen thi dao')")
        hits = conn.execute("SELECT count(*) FROM t WHERE t MATCH 'dao'").fetchone()[0]
        if hits != 1:
            raise CheckFailed("FTS5 search returned no hit")
        sqlite_version = conn.execute("SELECT sqlite_version()").fetchone()[0]
        return {"cipher_version": str(row[0]), "sqlite_version": str(sqlite_version), "fts5": True}
    finally:
        conn.close()


# The throwaway credential of the round trip: never the station's own service.
TEST_SERVICE = "tramtiem-selftest"
# Platforms whose OS keyring always exists: a failed round trip there is a broken install.
KEYRING_REQUIRED = ("win32", "darwin")


def keyring_roundtrip(plat: str = sys.platform) -> CheckResult:
    """Write, read back and delete a test credential in the OS keyring the station uses."""
    import keyring
    import keyring.errors

    from kernel.errors import KeyringUnavailable
    from station import keys

    try:
        keys.check_backend()
    except KeyringUnavailable as exc:
        if plat in KEYRING_REQUIRED:
            raise CheckFailed(f"no usable OS keyring ({exc.params.get('backend', '?')})") from None
        return {"roundtrip": False, "backend": keys.backend_name(),
                "warning": "no keyring service on this machine (Linux: start a Secret Service); "
                           "the station cannot store its key here"}
    user = f"selftest-{secrets.token_hex(6)}"
    # Non-ASCII on purpose: Credential Manager stores UTF-16; a codec bug shows here.
    secret = f"{secrets.token_hex(16)}-Trạm-Tiêm"
    backend = keys.backend_name()
    try:
        keyring.set_password(TEST_SERVICE, user, secret)
        try:
            read = keyring.get_password(TEST_SERVICE, user)
        finally:
            keyring.delete_password(TEST_SERVICE, user)
        gone = keyring.get_password(TEST_SERVICE, user)
    except keyring.errors.KeyringError as exc:
        raise CheckFailed(f"the OS keyring {backend} refused the test credential ({type(exc).__name__})") from None
    if read != secret:
        raise CheckFailed(f"the OS keyring {backend} returned another value than was written")
    if gone is not None:
        raise CheckFailed(f"the OS keyring {backend} did not delete the test credential")
    return {"roundtrip": True, "backend": backend}


def check_keyring(plat: str = sys.platform) -> CheckResult:
    """Entry points present, the native backend importable (the PyInstaller trap), a round trip."""
    import importlib
    from importlib.metadata import entry_points

    eps = entry_points(group="keyring.backends")
    names = sorted({ep.value for ep in eps})
    if not names:
        raise CheckFailed("no keyring backend entry points (package metadata missing from the bundle)")
    plat = "linux" if sys.platform.startswith("linux") else sys.platform
    native = NATIVE_KEYRING.get(plat)
    if native is not None:
        if native not in names:
            raise CheckFailed(f"no entry point for the native keyring backend {native}")
        importlib.import_module(native)
    # The plaintext backend of keyrings.alt must never ride along in a bundle:
    # the station refuses it implicitly, and a site laptop should not carry it.
    alt = [n for n in names if n.startswith("keyrings.alt")]
    return {"entry_points": names, "native": native, "keyrings_alt": bool(alt), **keyring_roundtrip(plat)}


def check_store(tmp: Path) -> CheckResult:
    import keyring

    from station.demo import generate
    from station.memkeyring import ProcessKeyring
    from station.store import HEAD_REVISION, current_revision, init_station

    keyring.set_keyring(ProcessKeyring())  # explicit choice: the key dies with this process
    st = init_station(tmp / "station", SITE)
    try:
        with st.read() as conn:
            rev = current_revision(conn)
            journal = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
        if rev != HEAD_REVISION:
            raise CheckFailed(f"migrations stopped at {rev}, head is {HEAD_REVISION}")
        summary = generate(st, people_count=PEOPLE, seed=1)
        with st.read() as conn:
            fts = conn.exec_driver_sql("SELECT count(*) FROM person_fts").scalar()
        if summary.people != PEOPLE or not fts:
            raise CheckFailed("demo data was not written or not indexed")
    finally:
        st.close()
    header = (tmp / "station" / "station.db").read_bytes()[:16]
    if header.startswith(b"SQLite format 3"):
        raise CheckFailed("the station database is not encrypted")
    return {"schema_revision": rev, "journal_mode": str(journal), "people": summary.people}


def check_sync(tmp: Path, hub: str, code: str) -> CheckResult:
    """Enroll the selftest station with a throwaway hub and push its demo data there."""
    from station.store import open_station
    from sync import cli as sync_cli
    from sync.engine import SyncEngine

    try:
        enrolled = sync_cli.enroll_station(tmp / "station", hub, code, name="selftest")
    except sync_cli.EnrollFailed as exc:
        raise CheckFailed(f"enrollment with {hub} failed [{exc.code}]") from None
    st = open_station(tmp / "station")
    try:
        report = SyncEngine(st, sync_cli.client_factory_for(st)).run_once()
    finally:
        st.close()
    if not report.ok or report.pending_left:
        raise CheckFailed(f"sync with {hub} did not finish: {sync_cli.format_report(report)}")
    return {"site": enrolled.site_code, "pushed": report.pushed, "pending_left": report.pending_left}


def check_hub(tmp: Path) -> CheckResult:
    # The embedded demo hub is composed outside ui/ (demohub): ui never imports the hub.
    from demohub import check_hub as run_check

    return run_check(tmp)


# ---- checks with Qt ---------------------------------------------------------------------


def _qapp() -> QApplication:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    return QApplication([sys.argv[0] if sys.argv else "tramtiem"])


def check_translations() -> CheckResult:
    from PySide6.QtCore import QTranslator

    from ui import i18n

    qapp = _qapp()
    loaded = {}
    for lang in i18n.LANGUAGES:
        path = i18n.qm_path(lang)
        tr = QTranslator(qapp)
        if not path.exists() or not tr.load(str(path)) or tr.isEmpty():
            raise CheckFailed(f"translation {path.name} is missing or empty")
        loaded[lang] = path.stat().st_size
    # One string known to be translated: the login button.
    tr = QTranslator(qapp)
    tr.load(str(i18n.qm_path("vi")))
    vi = tr.translate("LoginPanel", "Log in (Enter)")
    if not vi or vi == "Log in (Enter)":
        raise CheckFailed("the Vietnamese translation does not translate the login button")
    return {"qm_bytes": loaded}


def check_window(tmp: Path, timeout_s: float = 60.0) -> CheckResult:
    """The real app over the demo station: log in, show Reception, grab it as an image."""
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    from station.demo import DEMO_PASSWORD
    from ui.app import StationApp
    from ui.workspaces.reception import ReceptionWorkspace

    qapp = _qapp()
    app = StationApp(qapp, tmp / "station", start_engine=False)

    def wait(pred: Callable[[], bool], what: str) -> None:
        end = time.monotonic() + timeout_s
        while not pred():
            qapp.processEvents()
            if time.monotonic() > end:
                raise CheckFailed(f"timed out waiting for {what}")
            time.sleep(0.005)

    try:
        app.start()
        panel = app.login.panel
        wait(panel.username.isEnabled, "the station to open")
        panel.username.setText("giamsat")
        panel.password.setText(DEMO_PASSWORD)
        panel.submit()
        wait(lambda: app.main is not None and app.main.isVisible(), "the main window after login")
        wait(lambda: app.tasks.in_flight() == 0, "the workspaces to load")
        main = app.main
        assert main is not None
        main.resize(*WINDOW_SIZE)
        qapp.processEvents()
        image = main.grab().toImage()
        if image.isNull() or image.width() < 100 or image.height() < 100:
            raise CheckFailed("the main window rendered to an empty image")
        # A blank (single-colour) frame means nothing was painted.
        colours = {
            image.pixel(x, y)
            for x in range(0, image.width(), max(1, image.width() // 40))
            for y in range(0, image.height(), max(1, image.height() // 40))
        }
        if len(colours) < 3:
            raise CheckFailed("the main window rendered blank")
        data = QByteArray()
        buf = QBuffer(data)
        buf.open(QIODevice.OpenModeFlag.WriteOnly)
        # PySide6 takes the format as str at run time; its stubs say bytes.
        image.save(buf, "PNG")  # type: ignore[call-overload]
        buf.close()
        reception = main.workspaces["reception"]
        if not isinstance(reception, ReceptionWorkspace):
            raise CheckFailed("the supervisor has no Reception workspace")
        today_rows = reception.today_model.rowCount()
        return {
            "platform": qapp.platformName(),
            "size": [image.width(), image.height()],
            "png_bytes": data.size(),
            "colours_sampled": len(colours),
            "today_rows": today_rows,
        }
    finally:
        app.shutdown()


# ---- running ----------------------------------------------------------------------------


def run_checks(tmp: Path, sync_hub: str | None = None, sync_code: str | None = None,
               ) -> tuple[bool, dict[str, CheckResult]]:
    from ui.cli import demo_hub_available

    checks: dict[str, CheckResult] = {}
    plan: list[tuple[str, Callable[[], CheckResult]]] = [
        ("sqlcipher", check_sqlcipher),
        ("keyring", check_keyring),
        ("tls", check_tls),
        ("store", lambda: check_store(tmp)),
    ]
    if demo_hub_available():  # the site bundle carries no hub (packaging/tramtiem.spec)
        plan.append(("hub", lambda: check_hub(tmp)))
    if sync_hub:
        plan.append(("sync", lambda: check_sync(tmp, sync_hub, sync_code or "")))
    plan += [
        ("translations", check_translations),
        ("window", lambda: check_window(tmp)),
    ]
    ok = True
    for name, fn in plan:
        t0 = time.perf_counter()
        try:
            result = {"ok": True, **fn()}
        except Exception as exc:  # a selftest reports every failure, whatever its kind
            ok = False
            message = str(exc) if isinstance(exc, CheckFailed) else f"{type(exc).__name__}: {exc}"
            result = {"ok": False, "error": message}
            if not isinstance(exc, CheckFailed):
                result["traceback"] = traceback.format_exc(limit=8)
        result["ms"] = round((time.perf_counter() - t0) * 1000, 1)
        checks[name] = result
        if not ok and name in ("store",):
            break  # the window needs the station: stop at the first structural failure
    return ok, checks


def check_tls() -> CheckResult:
    """The HTTPS trust the station uses for the hub (sync.tls): the OS store through truststore."""
    from sync.tls import make_ssl_context

    _ctx, info = make_ssl_context()
    if info.source != "os":
        raise CheckFailed("truststore is missing: the OS certificate store is not used for the hub")
    return {"source": info.source, "extra_ca_file": bool(info.extra_ca_file)}


def _print_safe(text: str, stream: TextIO | None) -> None:
    """Print whatever the console's code page can show ("?" for the rest): never a crash."""
    # No stream at all in a windowed (no console) bundle: print() then writes nowhere.
    encoding = (stream.encoding if stream is not None else None) or "ascii"
    try:
        safe = text.encode(encoding, errors="replace").decode(encoding, errors="replace")
    except LookupError:
        safe = text.encode("ascii", errors="replace").decode("ascii")
    print(safe, file=stream, flush=True)


def main(sync_hub: str | None = None, sync_code: str | None = None) -> int:
    t0 = time.perf_counter()
    if _needs_offscreen(os.environ, sys.platform):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from station._build import BUILD_DATE, COMMIT, VERSION

    with tempfile.TemporaryDirectory(prefix="tramtiem-selftest-") as tmp:
        ok, checks = run_checks(Path(tmp), sync_hub, sync_code)
    total_ms = round((time.perf_counter() - t0) * 1000, 1)
    report = {
        "ok": ok,
        "version": VERSION,
        "commit": COMMIT or "source checkout",
        "build_date": BUILD_DATE,
        "frozen": bool(getattr(sys, "frozen", False)),
        "demo_hub": "hub" in checks,  # false in the site bundle: no demo hub, no web server
        "python": platform.python_version(),
        "os": f"{platform.system()} {platform.release()}",
        "total_ms": total_ms,
        "checks": checks,
    }
    warnings = [f"{n}: {c['warning']}" for n, c in checks.items() if c.get("warning")]
    if warnings:
        report["warnings"] = warnings
    # ASCII JSON (escapes): a Windows console (cp437, cp1258) prints it as is.
    _print_safe(json.dumps(report, ensure_ascii=True, indent=2), sys.stdout)
    if not ok:
        failed = [f"{n}: {c['error']}" for n, c in checks.items() if not c["ok"]]
        _print_safe("selftest FAILED: " + "; ".join(failed), sys.stderr)
        return EXIT_FAILED
    _print_safe(f"selftest ok in {total_ms / 1000:.1f}s"
                + (" (warnings: " + "; ".join(warnings) + ")" if warnings else ""), sys.stderr)
    return EXIT_OK
