"""The test LAN itself: hosts reach each other over the bridge, and nothing else.

Marked ``lan``: it needs root and iproute2 (tests/lan/netns.py skips otherwise).
"""

from __future__ import annotations

import socket
import subprocess

import pytest

from tests.lan import netns
from tests.lan.netns import Lines, lan, namespaces_of

pytestmark = pytest.mark.lan

AGENT = "tests.lan.agents"


def test_a_reaches_b_over_the_bridge_but_not_its_loopback() -> None:
    with lan(2) as net:
        a, b = net[0], net[1]
        on_lan = Lines(b.popen(b.python(AGENT, "tcp-echo", "0.0.0.0", "7001"), stdout=-1, stderr=-1, text=True))
        on_lo = Lines(b.popen(b.python(AGENT, "tcp-echo", "127.0.0.1", "7002"), stdout=-1, stderr=-1, text=True))
        on_lan.wait("ready")
        on_lo.wait("ready")

        r = a.run(a.python(AGENT, "tcp-send", b.address, "7001", "xin chao"))
        assert r.stdout.strip() == "reply xin chao", r.stderr
        # B's loopback service is B's alone: not at B's LAN address, not at A's 127.0.0.1.
        r = a.run(a.python(AGENT, "tcp-send", b.address, "7002", "x"))
        assert r.stdout.strip() == "error ConnectionRefusedError", r.stderr
        r = a.run(a.python(AGENT, "tcp-send", "127.0.0.1", "7002", "x"))
        assert r.stdout.strip() == "error ConnectionRefusedError", r.stderr
        # B itself does reach it (the service runs: the refusals above are the isolation).
        r = b.run(b.python(AGENT, "tcp-send", "127.0.0.1", "7002", "ici"))
        assert r.stdout.strip() == "reply ici", r.stderr


def test_the_machine_s_own_loopback_is_out_of_reach() -> None:
    with socket.create_server(("127.0.0.1", 0)) as srv, lan(1) as net:
        port = srv.getsockname()[1]
        r = net[0].run(net[0].python(AGENT, "tcp-send", "127.0.0.1", str(port), "x"))
        assert r.stdout.strip() == "error ConnectionRefusedError", r.stderr


def test_teardown_removes_the_namespaces_and_stops_what_ran_there_even_on_failure() -> None:
    tag = ""
    proc = None
    with pytest.raises(RuntimeError, match="boom"), lan(2) as net:
        tag = net.tag
        proc = net[1].popen(net[1].python(AGENT, "tcp-echo", "0.0.0.0", "7003"), stdout=-1, text=True)
        Lines(proc).wait("ready")
        assert len(namespaces_of(tag)) == 3  # the switch and two hosts
        raise RuntimeError("boom")
    assert proc is not None and proc.poll() is not None
    assert namespaces_of(tag) == []


def test_without_root_the_lan_tests_skip_with_the_reason_or_fail_when_required(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(netns.os, "geteuid", lambda: 1000)
    assert netns.unavailable_reason() == "network namespaces need root (CI runs the tests as root)"
    monkeypatch.delenv(netns.REQUIRE_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="no real LAN: network namespaces need root"), lan(1):
        pass
    monkeypatch.setenv(netns.REQUIRE_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="TRAMTIEM_REQUIRE_LAN=1"), lan(1):
        pass


def test_namespaces_of_a_killed_run_are_swept_by_the_next_lan() -> None:
    if netns.unavailable_reason() is not None:
        netns.skip_or_fail(netns.unavailable_reason() or "")
    gone = subprocess.Popen(["true"])
    gone.wait()  # reaped: its pid names no process
    stale = f"tt{gone.pid}x{'0' * 6}-h1"
    subprocess.run(["ip", "netns", "add", stale], check=True, timeout=10)
    try:
        with lan(1):
            assert stale not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                               timeout=10).stdout
    finally:
        subprocess.run(["ip", "netns", "del", stale], capture_output=True, timeout=10)
