"""A vaccination site on a real LAN (tests/lan/netns.py): the province, a site hub, desks.

Every machine is its own network namespace on one bridge; each runs the product's own
programs: the province is ``tramtiem-hub serve`` (plain HTTP: in the field it is HTTPS
over the Internet, not on the site's LAN), the site hub is ``tramtiem-hub relay enroll``
then ``tramtiem-hub serve --relay-to … --announce`` (HTTPS with the certificate the
province issued, announced by DNS-SD), and each desk is a real station
(``tests.lan.desk_agent``) whose site hub route finds the hub by DNS-SD and pins it.

"The line" is the route between the site hub and the province: cutting it installs an
``unreachable`` route on both sides (packets neither leave nor come back), so the
province is unreachable at once, including a long-poll already open.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text

from hub import relay, service
from hub.db import Database, migrate, sqlite_url
from hub.ingest import utc_now
from tests.lan.netns import Host, Lan, Lines, lan

PROVINCE_PORT = 8765
SITE_HUB_PORT = 8443
SITE = "DN-LAN-07"
AGENT = "tests.lan.agents"
ROSTER_S = "2"  # the site hub reads its roster every 2 s here (a revocation shows soon)


def wait_until(cond: Callable[[], bool], *, timeout_s: float = 60.0, what: str = "condition",
               every_s: float = 0.1) -> None:
    """Poll ``cond`` (bounded in time and rounds); fail the test if it never holds."""
    deadline = time.monotonic() + timeout_s
    for _ in range(100_000):
        if cond():
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(every_s)
    raise AssertionError(f"gave up waiting for {what}")


def wait_port(host: Host, address: str, port: int, *, timeout_s: float = 60.0) -> None:
    """From inside ``host``: until ``address:port`` accepts a TCP connection."""
    code = (
        "import socket,sys,time\n"
        f"end=time.monotonic()+{timeout_s}\n"
        "while time.monotonic()<end:\n"
        "    try:\n"
        f"        socket.create_connection(('{address}',{port}),timeout=1).close(); sys.exit(0)\n"
        "    except OSError: time.sleep(0.1)\n"
        "sys.exit(1)\n"
    )
    r = host.run([sys.executable, "-c", code], timeout=timeout_s + 10)
    assert r.returncode == 0, f"{address}:{port} never answered from {host.ns}"


def _route(host: Host, verb: str, other: Host) -> None:
    r = host.run(["ip", "route", verb, "unreachable", f"{other.address}/32"], timeout=10)
    assert r.returncode == 0 or verb == "del", r.stderr


def cut(a: Host, b: Host) -> None:
    _route(a, "add", b)
    _route(b, "add", a)


def join(a: Host, b: Host) -> None:
    _route(a, "del", b)
    _route(b, "del", a)


class DeskProc:
    """A desk agent in its namespace, driven by JSON lines."""

    def __init__(self, host: Host, ddir: Path, province_url: str, code: str, letter: str,
                 installer: bool = False) -> None:
        argv = host.python("tests.lan.desk_agent", str(ddir), province_url, code, letter,
                           *(["--installer"] if installer else []))
        self.host = host
        self.letter = letter
        self.proc = host.popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        self.lines = Lines(self.proc)
        self.install_id = json.loads(self.lines.wait("ready ", timeout=120)[len("ready "):])

    def call(self, cmd: str, *, timeout: float = 60.0, **kw: Any) -> Any:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, **kw}) + "\n")
        self.proc.stdin.flush()
        line = self.lines.wait("", timeout=timeout)
        kind, _, body = line.partition(" ")
        value = json.loads(body)
        if kind != "ok":
            raise DeskFailed(cmd, value)
        return value

    def attempt(self, cmd: str, **kw: Any) -> Any:
        """``call`` that answers None when the desk refuses (e.g. the row is not here yet)."""
        try:
            return self.call(cmd, **kw)
        except DeskFailed:
            return None


class DeskFailed(AssertionError):
    def __init__(self, cmd: str, value: Any) -> None:
        super().__init__(f"desk command {cmd} failed: {value}")
        self.value = value


@dataclass
class Site:
    net: Lan
    tmp: Path
    province: Host
    hub_host: Host
    pdb: Database
    site_dir: Path
    site: str = SITE
    hub_lines: Lines | None = None
    desks: list[DeskProc] = field(default_factory=list)

    @property
    def province_url(self) -> str:
        return f"http://{self.province.address}:{PROVINCE_PORT}"

    @property
    def site_hub_url(self) -> str:
        return f"https://{self.hub_host.address}:{SITE_HUB_PORT}"

    def code(self, site: str | None = None) -> str:
        return service.new_enrollment_code(self.pdb, site or self.site, ttl_hours=1, now=utc_now())

    def desk(self, host: Host, letter: str, *, installer: bool = False, site: str | None = None) -> DeskProc:
        d = DeskProc(host, self.tmp / f"desk-{letter}", self.province_url, self.code(site), letter, installer)
        self.desks.append(d)
        return d

    def start_site_hub(self) -> None:
        """``relay enroll`` (a CSR, the province's certificate kept), then ``serve --relay-to``
        over HTTPS, announced on the LAN."""
        code = relay.new_relay_code(self.pdb, self.site, ttl_hours=1, now=utc_now())
        h = self.hub_host
        r = h.run(h.python("hub.cli", "relay", "enroll", "--code", code, "--province", self.province_url,
                           "--data-dir", str(self.site_dir)), timeout=120)
        assert r.returncode == 0, r.stderr[-2000:]
        env = {**os.environ, "TRAMTIEM_HUB_RELAY_ROSTER_S": ROSTER_S}
        proc = h.popen(
            h.python("hub.cli", "serve", "--relay-to", self.province_url, "--host", "0.0.0.0",
                     "--port", str(SITE_HUB_PORT), "--data-dir", str(self.site_dir),
                     "--announce", "--announce-address", h.address),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        )
        self.hub_lines = Lines(proc)
        wait_port(h, h.address, SITE_HUB_PORT, timeout_s=120)

    def sh_scalar(self, sql: str, **params: Any) -> Any:
        db = Database(sqlite_url(self.site_dir / "hub.db"))
        try:
            with db.read() as s:
                return s.execute(text(sql), params).scalar()
        finally:
            db.dispose()

    def pscalar(self, sql: str, **params: Any) -> Any:
        with self.pdb.read() as s:
            return s.execute(text(sql), params).scalar()

    def line_down(self) -> None:
        cut(self.hub_host, self.province)

    def line_up(self) -> None:
        join(self.hub_host, self.province)


@contextmanager
def site_on_lan(tmp: Path, n_desks: int, *, tap: Path | None = None) -> Iterator[tuple[Site, list[Host]]]:
    """The province (host 0), the site hub (host 1) and ``n_desks`` desk hosts on one bridge."""
    with lan(2 + n_desks) as net:
        if tap is not None:
            Lines(net.switch.popen(net.switch.python(AGENT, "--life", "900", "sniff", "br0", str(tap)),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)).wait("ready")
        pdir = tmp / "province"
        pdir.mkdir()
        url = sqlite_url(pdir / "hub.db")
        migrate(url)
        pdb = Database(url)
        service.add_site(pdb, SITE, "Trạm Y tế Phường 7", "75", now=utc_now())
        province = net[0]
        province.popen(province.python("hub.cli", "serve", "--host", province.address,
                                       "--port", str(PROVINCE_PORT), "--data-dir", str(pdir)),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        site = Site(net, tmp, province, net[1], pdb, tmp / "site-hub")
        try:
            wait_port(net[1], province.address, PROVINCE_PORT, timeout_s=120)
            yield site, net.hosts[2:]
        finally:
            for d in site.desks:
                if d.proc.poll() is None:
                    try:
                        d.call("stop", timeout=20)
                    except (AssertionError, OSError):
                        pass
            pdb.dispose()
