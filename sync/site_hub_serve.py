"""This laptop as its site's hub (issue 14): ``tramtiem site-hub serve`` and the Admin setting.

A site hub is a hub process (``tramtiem-hub serve --relay-to PROVINCE``): FastAPI and
uvicorn, which the station and the window never import. So this module runs it as a
**child process** and talks to it only through its command line and its HTTPS port:

* :func:`hub_command` finds the hub's executable: the ``tramtiem-hub`` beside this
  executable in a frozen site-hub bundle, else ``python -m hub.cli`` from a source install,
  else ``site_hub.not_installed`` (IT staff install the site-hub package);
* :func:`enroll` exchanges a relay code for the site hub's credential and certificate with
  the province this desk is enrolled with (``tramtiem-hub relay enroll``), into a scratch
  folder renamed to ``DATA/site-hub`` only when everything worked: a wrong, used or expired
  code leaves nothing behind;
* :class:`SiteHubProcess` starts ``serve --relay-to … --announce`` (HTTPS with the
  province's certificate), waits until it accepts connections, and stops it by closing its
  stdin (``--exit-with-parent``: the child also ends when this process dies, however it
  dies), then SIGTERM, then a kill — never an orphan;
* :func:`point_desk` sets this desk's own site hub route to it (``https://127.0.0.1:PORT``;
  the desk trusts it like any desk of the site: the province's relay CA and the site code,
  host names are not checked, :mod:`sync.pinning`) and :func:`unpoint_desk` gives the desk
  its previous setting back.

Errors are :class:`kernel.errors.StationError` codes the window and the CLI translate:
relay code problems as a ``ValidationError`` on the field ``relay_code``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from kernel.errors import FieldIssue, StoreError, ValidationError
from station import replica
from station.store import Station

SUBDIR = "site-hub"
DEFAULT_PORT = 8765
INFO_FILE = "site-hub.json"  # written last by enroll: its presence means "enrolled"
LOG_FILE = "site-hub.log"
CERT_FILE = "relay.crt"  # hub.relay_pki.RELAY_CERT_FILE (the station cannot import hub)
META_SERVE = "site_hub_serve"  # JSON: this laptop serves the site hub (the Admin setting)
HUB_URL_KEY = "hub_url"  # sync.cli.HUB_URL_KEY (sync.cli imports this module)
ENROLL_TIMEOUT_S = 120.0
START_TIMEOUT_S = 60.0
STOP_GRACE_S = 15.0
LOG_MAX_BYTES = 5_000_000

# The province's refusals of a relay code, as problems of the field the user typed.
_CODE_PROBLEMS = {
    "enroll.invalid_code": "relay_code.invalid",
    "enroll.code_used": "relay_code.used",
    "enroll.code_expired": "relay_code.expired",
    "enroll.other_site": "relay_code.other_site",
    "enroll.revoked": "relay_code.revoked",
}
_ERROR_LINE = re.compile(r"^error: ([a-z0-9_]+(?:\.[a-z0-9_]+)+): ", re.MULTILINE)


def hub_dir(ddir: Path) -> Path:
    return Path(ddir) / SUBDIR


def hub_command() -> list[str]:
    """How to run ``tramtiem-hub`` here; ``StoreError("site_hub.not_installed")`` if it is not."""
    if getattr(sys, "frozen", False):
        here = Path(sys.executable).resolve().parent
        for name in ("tramtiem-hub.exe", "tramtiem-hub") if os.name == "nt" else ("tramtiem-hub",):
            if (here / name).is_file():
                return [str(here / name)]
        raise StoreError("site_hub.not_installed")
    spec = importlib.util.find_spec("hub")  # finds the package without importing it
    origin = Path(spec.origin).parent if spec is not None and spec.origin else None
    if (origin is not None and (origin / "cli.py").is_file()
            and all(importlib.util.find_spec(m) is not None for m in ("fastapi", "uvicorn"))):
        return [sys.executable, "-m", "hub.cli"]
    raise StoreError("site_hub.not_installed")


def normalise_relay_code(text: str) -> str:
    """``abcd efgh-jkmn`` → ``ABCD-EFGH-JKMN``; a ValidationError on ``relay_code`` otherwise."""
    raw = re.sub(r"[\s\-]", "", text or "").upper()
    if not raw:
        raise ValidationError([FieldIssue("relay_code", "relay_code.required")])
    if not re.fullmatch(r"[A-Z0-9]{12}", raw):
        raise ValidationError([FieldIssue("relay_code", "relay_code.format")])
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


@dataclass(frozen=True)
class SiteHubInfo:
    """What this laptop's site hub is (``DATA/site-hub/site-hub.json``)."""

    site_code: str
    province_url: str
    fingerprint: str

    @classmethod
    def load(cls, ddir: Path) -> SiteHubInfo | None:
        path = hub_dir(ddir) / INFO_FILE
        try:
            data = json.loads(path.read_text("utf-8"))
            return cls(str(data["site_code"]), str(data["province_url"]), str(data["fingerprint"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None


def _fingerprint(cert_file: Path) -> str:
    der = ssl.PEM_cert_to_DER_cert(cert_file.read_text("ascii"))
    return hashlib.sha256(der).hexdigest()


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _refusal(stderr: str) -> str:
    found = _ERROR_LINE.findall(stderr or "")
    return found[-1] if found else ""


def province_url(st: Station) -> str:
    url = replica.get_meta(st, HUB_URL_KEY)
    if not url:
        raise StoreError("site_hub.desk_not_enrolled")
    return url.rstrip("/")


def enroll(ddir: Path, st: Station, code_text: str, *, name: str = "") -> SiteHubInfo:
    """Enroll this laptop's site hub with the desk's province (once; later calls return it)."""
    have = SiteHubInfo.load(ddir)
    if have is not None:
        return have
    code = normalise_relay_code(code_text)
    province = province_url(st)
    command = hub_command()
    target, scratch = hub_dir(ddir), Path(ddir) / (SUBDIR + ".enrolling")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        try:
            done = subprocess.run(
                [*command, "relay", "enroll", "--code", code, "--province", province,
                 "--data-dir", str(scratch), "--name", name[:100]],
                capture_output=True, text=True, timeout=ENROLL_TIMEOUT_S, env=_child_env(),
                stdin=subprocess.DEVNULL, check=False,
            )
        except subprocess.TimeoutExpired:
            raise StoreError("site_hub.province_unreachable") from None
        if done.returncode != 0:
            refused = _refusal(done.stderr)
            if refused in _CODE_PROBLEMS:
                raise ValidationError([FieldIssue("relay_code", _CODE_PROBLEMS[refused])])
            if refused == "province.unreachable":
                raise StoreError("site_hub.province_unreachable")
            raise StoreError("site_hub.enroll_failed", reason=refused or f"exit {done.returncode}")
        site = re.search(r"site hub of (\S+) ", done.stdout or "")
        if site is None or site.group(1).upper() != st.site_code.upper():
            raise ValidationError([FieldIssue("relay_code", "relay_code.other_site")])
        info = SiteHubInfo(st.site_code, province, _fingerprint(scratch / CERT_FILE))
        (scratch / INFO_FILE).write_text(json.dumps(info.__dict__), "utf-8")
        shutil.rmtree(target, ignore_errors=True)  # a folder left by an older failed attempt
        os.replace(scratch, target)
        return info
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        if os.name != "nt":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class SiteHubProcess:
    """The site hub as a child process of this one (the CLI's or the window's)."""

    def __init__(self, ddir: Path, *, port: int = DEFAULT_PORT, host: str = "0.0.0.0",
                 announce: bool = True) -> None:
        self.ddir = Path(ddir)
        self.port = port
        self.host = host
        self.announce = announce
        self.proc: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def info(self) -> SiteHubInfo:
        info = SiteHubInfo.load(self.ddir)
        if info is None:
            raise StoreError("site_hub.not_enrolled_here")
        return info

    @property
    def local_url(self) -> str:
        """The address this laptop's own desk uses (loopback; other desks use the LAN's)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"https://{host}:{self.port}"

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, *, timeout_s: float = START_TIMEOUT_S) -> None:
        """Start it and wait until its port accepts connections (raises ``site_hub.*``)."""
        info = self.info
        command = hub_command()
        if not _port_free(self.host, self.port):
            raise StoreError("site_hub.port_in_use", port=self.port)
        folder = hub_dir(self.ddir)
        log_path = folder / LOG_FILE
        if log_path.exists() and log_path.stat().st_size > LOG_MAX_BYTES:
            os.replace(log_path, log_path.with_suffix(".log.1"))
        self._log = open(log_path, "ab")  # noqa: SIM115 - kept open while the child runs
        args = [*command, "serve", "--relay-to", info.province_url, "--host", self.host,
                "--port", str(self.port), "--data-dir", str(folder), "--exit-with-parent"]
        if self.announce:
            args.append("--announce")
        # Its own process group: Ctrl+C reaches this process only, which stops the child.
        flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) if os.name == "nt" else 0
        child = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=self._log, stderr=subprocess.STDOUT,
            env=_child_env(), creationflags=flags, start_new_session=os.name != "nt",
        )
        self.proc = child
        deadline = time.monotonic() + timeout_s
        while not accepts(self.port):
            if child.poll() is not None or self.proc is not child or time.monotonic() > deadline:
                self.stop()
                child.wait()  # stopped by stop() (from another thread) or by itself
                code = child.poll()
                raise StoreError("site_hub.start_failed", reason=f"exit {code}" if code is not None
                                 else "timeout", log=str(log_path))
            time.sleep(0.1)

    def stop(self, *, grace_s: float = STOP_GRACE_S) -> int | None:
        """Stop the child: stdin closed (it shuts down cleanly), then SIGTERM, then kill."""
        proc, self.proc = self.proc, None
        rc: int | None = None
        if proc is not None:
            if proc.stdin is not None:
                try:
                    proc.stdin.close()
                except OSError:
                    pass
            for step in ("wait", "term", "kill"):
                try:
                    rc = proc.wait(timeout=grace_s if step != "kill" else 10.0)
                    break
                except subprocess.TimeoutExpired:
                    if step == "wait":
                        proc.send_signal(signal.SIGTERM) if os.name != "nt" else proc.terminate()
                    elif step == "term":
                        proc.kill()
        if self._log is not None:
            self._log.close()
            self._log = None
        return rc

    def wait(self) -> int:
        assert self.proc is not None
        return self.proc.wait()


# ---- this desk's own route to it ------------------------------------------------------


def serve_setting(st: Station) -> dict[str, object] | None:
    """The Admin setting: ``{"port": P, "host": H, "previous": …}`` while this laptop serves."""
    raw = replica.get_meta(st, META_SERVE)
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def point_desk(st: Station, proc: SiteHubProcess, *, app: bool | None = None) -> None:
    """This desk syncs through its own site hub; its previous setting is kept to give back.

    ``app``: the window starts the site hub at each start (the Admin setting); None keeps
    what was set (``tramtiem site-hub serve`` does not change it)."""
    from sync.site_route import META_PIN

    current = serve_setting(st)
    previous = current.get("previous") if current else {
        "address": replica.site_hub_url(st), "pin": replica.get_meta(st, META_PIN) or "",
    }
    # The province's relay CA with the site code is the trust; without it (a desk enrolled
    # before site hub certificates) the fingerprint of the certificate this laptop holds.
    pin = "" if replica.get_meta(st, replica.META_RELAY_CA) else proc.info.fingerprint
    starts = bool(current.get("app")) if app is None and current else bool(app)
    replica.set_meta(st, META_SERVE, json.dumps(
        {"port": proc.port, "host": proc.host, "app": starts, "previous": previous}))
    if replica.site_hub_url(st) != proc.local_url:
        replica.set_site_hub_url(st, proc.local_url)
    replica.set_meta(st, META_PIN, pin)


def unpoint_desk(st: Station) -> None:
    """The setting is off: the desk's site hub route is what it was before."""
    from sync.site_route import META_PIN

    current = serve_setting(st)
    if current is None:
        return
    previous = current.get("previous")
    prev = previous if isinstance(previous, dict) else {}
    address = prev.get("address")
    replica.set_site_hub_url(st, address if isinstance(address, str) and address else None)
    pin = prev.get("pin")
    replica.set_meta(st, META_PIN, pin if isinstance(pin, str) else "")
    replica.set_meta(st, META_SERVE, "")


__all__ = [
    "DEFAULT_PORT",
    "META_SERVE",
    "SUBDIR",
    "SiteHubInfo",
    "SiteHubProcess",
    "accepts",
    "enroll",
    "hub_command",
    "hub_dir",
    "normalise_relay_code",
    "point_desk",
    "province_url",
    "serve_setting",
    "unpoint_desk",
]
