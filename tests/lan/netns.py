"""A real LAN for tests: Linux network namespaces joined by a bridge.

``with lan(3) as net:`` makes a switch namespace holding a bridge, and three host
namespaces, each with one veth leg (``eth0``, 10.77.0.1/24, .2, .3) plugged into the
bridge, ``lo`` up and a multicast route (224.0.0.0/4 on eth0), so mDNS and DNS-SD
cross the bridge as they cross a site's Wi-Fi switch. ``net.hosts[i].popen([...])``
and ``.run([...])`` start programs inside a namespace (``ip netns exec``).

Nothing touches the machine's own network: the bridge and every veth live inside
namespaces the test made (the switch namespace holds the bridge), so two LANs of
two xdist workers, both on 10.77.0.0/24, never meet. Names carry the pid and a
random tag (``tt<pid>x<tag>-sw``); teardown, also after a failed test, kills the
processes started in the LAN (by their pid), then deletes the namespaces, which
removes their interfaces. Namespaces left by a run that was SIGKILLed (its pid
gone) are deleted when the next LAN is made (what ran inside stops by itself).

Needs root and iproute2 (``ip``): CI runs as root (docs/security.md, "Testing on
a real LAN"). Elsewhere :func:`lan` skips the test with the reason, unless
``TRAMTIEM_REQUIRE_LAN=1``, which turns the skip into a failure (a CI machine that
should have a LAN must not pass by skipping).
"""

from __future__ import annotations

import collections
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUBNET = "10.77.0"
PREFIX = 24
IP_TIMEOUT_S = 10.0  # one `ip` command
STOP_TIMEOUT_S = 5.0  # a process asked to stop (SIGTERM) before it is killed
MAX_HOSTS = 50
_NAME = re.compile(r"^tt(\d+)x[0-9a-f]{6}-(sw|h\d+)$")
REQUIRE_ENV = "TRAMTIEM_REQUIRE_LAN"


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", *args], capture_output=True, text=True, timeout=IP_TIMEOUT_S, check=check
    )


def unavailable_reason() -> str | None:
    """Why no LAN can be made here, or None."""
    if sys.platform != "linux":
        return "network namespaces are Linux-only"
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs the tests as root)"
    if shutil.which("ip") is None:
        return "iproute2 (`ip`) is not installed (scripts/apt-packages-dev.txt)"
    return None


def skip_or_fail(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but no LAN can be made: {reason}")
    pytest.skip(f"no real LAN: {reason}")


@dataclass(eq=False)
class Host:
    """One machine on the LAN: a namespace with ``eth0`` at ``address``."""

    ns: str
    address: str
    # Shared by every host of the LAN: what the teardown stops.
    _procs: list[subprocess.Popen[Any]] = field(default_factory=list, repr=False)

    def argv(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns, *argv]

    def run(self, argv: Sequence[str], *, timeout: float = 60.0, **kw: Any) -> subprocess.CompletedProcess[str]:
        """Run ``argv`` in this namespace to its end (bounded by ``timeout``)."""
        kw.setdefault("capture_output", True)
        kw.setdefault("text", True)
        kw.setdefault("cwd", ROOT)
        return subprocess.run(self.argv(argv), timeout=timeout, check=False, **kw)

    def popen(self, argv: Sequence[str], **kw: Any) -> subprocess.Popen[Any]:
        """Start ``argv`` in this namespace; it is stopped when the LAN is torn down."""
        kw.setdefault("cwd", ROOT)
        proc: subprocess.Popen[Any] = subprocess.Popen(self.argv(argv), **kw)
        self._procs.append(proc)
        return proc

    def python(self, module: str, *args: str) -> list[str]:
        """The argv of ``python -m module args`` with this interpreter (for run/popen)."""
        return [sys.executable, "-m", module, *args]


@dataclass
class Lan:
    tag: str
    switch: Host  # the namespace of the bridge ``br0`` (a tap there sees every frame)
    hosts: list[Host]
    procs: list[subprocess.Popen[Any]]

    def __getitem__(self, i: int) -> Host:
        return self.hosts[i]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _sweep_stale() -> None:
    """Delete the namespaces of test runs that died without tearing down (their pid is gone)."""
    out = _ip("netns", "list", check=False).stdout
    for line in out.splitlines():
        name = line.split(" ", 1)[0]
        m = _NAME.match(name)
        if m and not _alive(int(m.group(1))):
            # Only the name goes: processes a dead run left inside are not ours to kill
            # (every agent stops by itself, tests/lan/agents.py MAX_LIFE_S).
            _ip("netns", "del", name, check=False)


def _ns_pids(ns: str) -> list[int]:
    out = _ip("netns", "pids", ns, check=False).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def _delete_ns(ns: str) -> None:
    # Processes still inside keep the namespace (and its addresses) alive after `ip netns
    # del`: they are ours (only our tests start processes in our namespaces), so kill them.
    for pid in _ns_pids(ns):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _ip("netns", "del", ns, check=False)


def _stop(procs: list[subprocess.Popen[Any]]) -> None:
    for p in procs:
        if p.poll() is None:
            with suppress(ProcessLookupError):
                p.terminate()
    for p in procs:
        try:
            p.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            p.kill()
            with suppress(subprocess.TimeoutExpired):
                p.wait(timeout=STOP_TIMEOUT_S)


def _build(tag: str, n: int) -> Lan:
    switch = f"{tag}-sw"
    procs: list[subprocess.Popen[Any]] = []
    _ip("netns", "add", switch)
    lan = Lan(tag, Host(switch, "", procs), [], procs)
    sw = ("-n", switch)
    _ip(*sw, "link", "set", "lo", "up")
    _ip(*sw, "link", "add", "br0", "type", "bridge", "stp_state", "0", "mcast_snooping", "0")
    # Promiscuous: the bridge device gets a copy of every frame it forwards between its
    # ports, so a tap on br0 sees the whole LAN (tests/lan/agents.py sniff).
    _ip(*sw, "link", "set", "br0", "promisc", "on")
    _ip(*sw, "link", "set", "br0", "up")
    for i in range(n):
        ns = f"{tag}-h{i + 1}"
        address = f"{SUBNET}.{i + 1}"
        _ip("netns", "add", ns)
        lan.hosts.append(Host(ns, address, procs))
        port = f"p{i + 1}"
        # The host end is made inside the switch namespace, its peer straight in the host's.
        _ip(*sw, "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns)
        _ip(*sw, "link", "set", port, "master", "br0")
        _ip(*sw, "link", "set", port, "up")
        h = ("-n", ns)
        _ip(*h, "link", "set", "lo", "up")
        _ip(*h, "addr", "add", f"{address}/{PREFIX}", "dev", "eth0")
        _ip(*h, "link", "set", "eth0", "up")
        # mDNS sends to 224.0.0.251: without this route the kernel has no way to it.
        _ip(*h, "route", "add", "224.0.0.0/4", "dev", "eth0")
    return lan


@contextmanager
def lan(n: int = 2) -> Iterator[Lan]:
    """``n`` hosts (10.77.0.1 ... .n) on one bridge; skips when namespaces cannot be made."""
    if not 1 <= n <= MAX_HOSTS:
        raise ValueError(f"1..{MAX_HOSTS} hosts")
    reason = unavailable_reason()
    if reason is not None:
        skip_or_fail(reason)
    tag = f"tt{os.getpid()}x{secrets.token_hex(3)}"
    net: Lan | None = None
    try:
        _sweep_stale()
        try:
            net = _build(tag, n)
        except (subprocess.CalledProcessError, OSError) as exc:
            err = getattr(exc, "stderr", "") or str(exc)
            skip_or_fail(f"`ip netns` failed: {err.strip()[:200]}")
        assert net is not None
        yield net
    finally:
        if net is not None:
            _stop(net.procs)
        out = _ip("netns", "list", check=False).stdout
        for line in out.splitlines():
            name = line.split(" ", 1)[0]
            if name.startswith(tag + "-"):
                _delete_ns(name)


def namespaces_of(tag: str) -> list[str]:
    """The namespaces of a LAN still present (for the teardown test)."""
    out = _ip("netns", "list", check=False).stdout
    return [line.split(" ", 1)[0] for line in out.splitlines() if line.startswith(tag + "-")]


class Lines:
    """A process's output lines, read by threads so a wait for one is bounded (and a full
    stderr pipe never blocks the process)."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        self.proc = proc
        self.seen: list[str] = []
        self.errors: collections.deque[str] = collections.deque(maxlen=200)
        self._q: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(proc.stdout,), daemon=True).start()
        if proc.stderr is not None:
            threading.Thread(target=self._drain, args=(proc.stderr,), daemon=True).start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self._q.put(line.rstrip("\n"))
        self._q.put(None)

    def _drain(self, stream: Any) -> None:
        for line in stream:
            self.errors.append(line.rstrip("\n"))

    def wait(self, prefix: str, *, timeout: float = 30.0) -> str:
        """The next line starting with ``prefix`` (bounded by ``timeout``)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._q.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                self._q.put(None)
                break
            self.seen.append(line)
            if line.startswith(prefix):
                return line
        raise AssertionError(
            f"no {prefix!r} line from {self.proc.args!r} (exit {self.proc.poll()}): "
            f"{self.seen[-5:]} {list(self.errors)[-20:]}"
        )


__all__ = [
    "REQUIRE_ENV",
    "SUBNET",
    "Host",
    "Lan",
    "Lines",
    "lan",
    "namespaces_of",
    "skip_or_fail",
    "unavailable_reason",
]
