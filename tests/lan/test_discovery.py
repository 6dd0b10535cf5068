"""DNS-SD discovery across a real bridge: a site hub announces, a station of its site finds it.

Each side is its own process in its own namespace (tests/lan/netns.py), so the
announcement travels as multicast DNS over the bridge, as on a site's Wi-Fi.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest

from tests.lan.netns import Host, Lines, lan

pytestmark = pytest.mark.lan

AGENT = "tests.lan.agents"
FP_A = "a1" * 32
FP_B = "b2" * 32


def _announce(host: Host, site: str, port: int, fp: str) -> Lines:
    proc = host.popen(host.python(AGENT, "announce", site, str(port), fp),
                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return Lines(proc)


def _browse(host: Host, site: str, timeout: float) -> Any:
    r = host.run(host.python(AGENT, "browse", site, "--timeout", str(timeout)), timeout=timeout + 30)
    out = [line for line in r.stdout.splitlines() if line.startswith("result ")]
    assert out, (r.stdout, r.stderr[-2000:])
    return json.loads(out[0][len("result "):])


def test_a_station_finds_its_own_site_hub_across_the_bridge_and_ignores_another_site() -> None:
    with lan(3) as net:
        station, hub_a, hub_b = net[0], net[1], net[2]
        # Another site's hub on the same LAN (a neighbour's laptop on the shared Wi-Fi).
        ours, theirs = _announce(hub_a, "DN-0042", 8765, FP_A), _announce(hub_b, "DN-0099", 9443, FP_B)
        ours.wait("ready", timeout=30)
        theirs.wait("ready", timeout=30)

        got = _browse(station, "DN-0042", timeout=10)
        assert got is not None
        assert got["site_code"] == "DN-0042" and got["addresses"] == [hub_a.address]
        assert got["port"] == 8765 and got["fingerprint"] == FP_A and got["source"] == "mdns"

        got = _browse(station, "DN-0099", timeout=10)
        assert got["addresses"] == [hub_b.address] and got["fingerprint"] == FP_B

        # A site with no hub on this LAN: nothing, within the bound (the others are not taken).
        assert _browse(station, "DN-0001", timeout=2) is None


def test_no_hub_when_the_announcer_is_on_another_lan() -> None:
    """Two bridges: the announcement does not leak out of its LAN (so the test above can fail)."""
    with lan(1) as one, lan(1) as other:
        _announce(one[0], "DN-0042", 8765, FP_A).wait("ready", timeout=30)
        assert _browse(other[0], "DN-0042", timeout=2) is None
