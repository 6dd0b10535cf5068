"""Trust on the site's LAN: a station reaches its site hub over TLS with the pinned identity only.

Three hosts on a real bridge (tests/lan/netns.py): a station (10.77.0.1), a machine
running real hubs over TLS (10.77.0.2; the hub app on SQLite under uvicorn, as a site
hub serves), and a tap in the bridge's own namespace that records every frame of the
LAN. Certificates come from a real province relay CA (hub.relay_pki), or are wrong on
purpose (another site's, self-signed, another province's).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.lan.agents import PERSON
from tests.lan.capture import frame_count, tcp_streams
from tests.lan.netns import Host, Lines, lan
from tests.sync.relay_certs import Served, make_certs

pytestmark = pytest.mark.lan

AGENT = "tests.lan.agents"
SITE = "DN-0042"


def _start_hub(host: Host, data: Path, port: int, served: Served | None) -> Lines:
    data.mkdir(parents=True)
    args = ["hub-https", str(data), host.address, str(port), SITE]
    if served is not None:
        args += ["--cert", str(served.certfile), "--key", str(served.keyfile)]
    return Lines(host.popen(host.python(AGENT, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))


def _station(host: Host, url: str, code: str, *extra: str) -> dict[str, Any]:
    r = host.run(host.python(AGENT, "station", url, code, *extra), timeout=60)
    out = [line for line in r.stdout.splitlines() if line.startswith("result ")]
    assert out, (r.stdout, r.stderr[-2000:])
    result: dict[str, Any] = json.loads(out[0][len("result "):])
    return result


def _stations_enrolled(data: Path) -> int:
    conn = sqlite3.connect(data / "hub.db")
    try:
        return int(conn.execute("SELECT count(*) FROM station").fetchone()[0])
    finally:
        conn.close()


def _needles() -> list[bytes]:
    name = PERSON["name"]
    return [
        name.encode("utf-8"),
        json.dumps(name).encode("ascii")[1:-1],  # as an ASCII-escaped JSON string
        PERSON["phone"].encode(),
        PERSON["cccd"].encode(),
    ]


@pytest.mark.slow
def test_station_and_site_hub_on_a_lan_pinned_tls_and_nothing_readable_on_the_wire(tmp_path: Path) -> None:
    certs = make_certs(tmp_path / "certs", SITE)
    capture = tmp_path / "lan.capture"
    with lan(2) as net:
        station, hub_host = net[0], net[1]
        tap = Lines(net.switch.popen(net.switch.python(AGENT, "sniff", "br0", str(capture)),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        tap.wait("ready")
        plan: dict[str, tuple[int, Served | None]] = {
            "good": (8443, certs.good),
            "other_site": (8444, certs.other_site),
            "self_signed": (8445, certs.self_signed),
            "other_ca": (8446, certs.other_ca),
            "plain": (8080, None),
        }
        hubs = {name: _start_hub(hub_host, tmp_path / name, port, served) for name, (port, served) in plan.items()}
        codes = {name: lines.wait("ready", timeout=60).split()[2:] for name, lines in hubs.items()}

        def url(name: str) -> str:
            scheme = "http" if name == "plain" else "https"
            return f"{scheme}://{hub_host.address}:{plan[name][0]}"

        pin = ["--fp", certs.good.fingerprint]
        chain = ["--ca", str(certs.ca_file), "--site", SITE]

        # The right site hub: by the pin, and by the province's CA with this site's code.
        for trust, code in ((pin, codes["good"][0]), (chain, codes["good"][1])):
            got = _station(station, url("good"), code, *trust)
            assert got == {"ok": True, "push": ["applied"], "found": True}, got
        assert _stations_enrolled(tmp_path / "good") == 2

        # Any other certificate: refused in the handshake, before a byte of data (no enrollment).
        for name in ("other_site", "self_signed", "other_ca"):
            for trust in (pin, chain):
                got = _station(station, url(name), codes[name][0], *trust)
                assert got == {"ok": False, "code": "hub.tls_site_hub"}, (name, trust, got)
            assert _stations_enrolled(tmp_path / name) == 0

        seen = frame_count(capture)
        streams = tcp_streams(capture)
        to_good = [b for (_, _, dst, dport), b in streams.items() if (dst, dport) == (hub_host.address, 8443)]
        from_good = [b for (src, sport, _, _), b in streams.items() if (src, sport) == (hub_host.address, 8443)]
        # The tap saw both exchanges with the good hub whole: TLS records each way, pushes and answers.
        assert len(to_good) >= 2 and len(from_good) >= 2  # one connection per station run
        assert all(b.startswith(b"\x16\x03") for b in to_good + from_good)  # TLS handshake records
        assert sum(map(len, to_good)) > 3000
        leaked = [n for b in streams.values() for n in _needles() if n in b]
        assert leaked == [], "personal data in clear on the LAN"

        # The same exchange over plain HTTP: the tap reads it all (so the check above can fail).
        got = _station(station, url("plain"), codes["plain"][0], "--plain")
        assert got == {"ok": True, "push": ["applied"], "found": True}, got
        clear = b"".join(tcp_streams(capture, skip_frames=seen).values())
        assert all(n in clear for n in _needles()[:1] + _needles()[2:]), "the tap misses plaintext"


@pytest.mark.slow
def test_a_stranger_announcing_our_site_gets_a_refused_handshake(tmp_path: Path) -> None:
    """Discovery is a hint: a laptop on the Wi-Fi announcing this site (with its own, self-signed
    certificate) is found, tried and refused; the province-issued site hub is the one used."""
    certs = make_certs(tmp_path / "certs", SITE)
    with lan(3) as net:
        station, real, stranger = net[0], net[1], net[2]
        hubs = [_start_hub(real, tmp_path / "real", 8443, certs.good),
                _start_hub(stranger, tmp_path / "stranger", 8443, certs.self_signed)]
        for lines in hubs:
            lines.wait("ready", timeout=60)
        for host, served in ((real, certs.good), (stranger, certs.self_signed)):
            Lines(host.popen(host.python(AGENT, "announce", SITE, "8443", served.fingerprint),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)).wait("ready")
        for trust in (["--fp", certs.good.fingerprint], ["--ca", str(certs.ca_file)]):
            r = station.run(station.python(AGENT, "find-and-connect", SITE, "--timeout", "6", *trust), timeout=90)
            out = [line for line in r.stdout.splitlines() if line.startswith("result ")]
            assert out, (r.stdout, r.stderr[-2000:])
            got = json.loads(out[0][len("result "):])
            assert got["announced"] == {real.address: certs.good.fingerprint,
                                        stranger.address: certs.self_signed.fingerprint}
            assert got["tried"] == {real.address: "ok", stranger.address: "hub.tls_site_hub"}, trust
