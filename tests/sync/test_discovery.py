"""What a station takes from a DNS-SD record or a typed address (sync/discovery.py), no network.

The announcement and browse across a real LAN: tests/lan/test_discovery.py.
"""

from __future__ import annotations

import pytest

from sync.discovery import (
    DEFAULT_PORT,
    DiscoveryError,
    locate_site_hub,
    parse_record,
    site_hub_from_address,
)

FP = "ab" * 32
GOOD = {b"v": b"1", b"site": b"DN-0042", b"fp": FP.encode()}


def test_a_well_formed_record_is_read() -> None:
    hub = parse_record("x._tramtiem._tcp.local.", GOOD, ["10.0.0.5"], 8765)
    assert hub is not None
    assert (hub.site_code, hub.addresses, hub.port, hub.fingerprint) == ("DN-0042", ("10.0.0.5",), 8765, FP)
    assert hub.url == "https://10.0.0.5:8765"


@pytest.mark.parametrize(
    ("props", "addresses", "port"),
    [
        ({**GOOD, b"v": b"2"}, ["10.0.0.5"], 8765),  # a later format
        ({k: v for k, v in GOOD.items() if k != b"v"}, ["10.0.0.5"], 8765),
        ({**GOOD, b"site": b"bad site!"}, ["10.0.0.5"], 8765),
        ({**GOOD, b"fp": b"1234"}, ["10.0.0.5"], 8765),
        ({**GOOD, b"fp": "é".encode() * 32}, ["10.0.0.5"], 8765),
        (GOOD, [], 8765),
        (GOOD, ["127.0.0.1", "224.0.0.251"], 8765),  # nothing a station should dial
        (GOOD, ["10.0.0.5"], 0),
        (GOOD, ["10.0.0.5"], None),
        ({**GOOD, b"site": b"x" * 200}, ["10.0.0.5"], 8765),
    ],
)
def test_malformed_records_are_ignored(props: dict[bytes, bytes | None], addresses: list[str], port: int | None) -> None:
    assert parse_record("x", props, addresses, port) is None


def test_typed_addresses() -> None:
    assert site_hub_from_address("192.168.1.20", "DN-0042").url == f"https://192.168.1.20:{DEFAULT_PORT}"
    assert site_hub_from_address(" 192.168.1.20:9443 ", "DN-0042").port == 9443
    hub = site_hub_from_address("https://hub-lan.local:8766/", "DN-0042", FP.upper())
    assert (hub.addresses, hub.port, hub.fingerprint, hub.source) == (("hub-lan.local",), 8766, FP, "typed")
    # A typed address wins without any browsing (no multicast needed).
    assert locate_site_hub("DN-0042", "10.1.2.3:8765", timeout_s=0.1) == site_hub_from_address("10.1.2.3", "DN-0042")
    for bad in ("", "http://10.0.0.5", "10.0.0.5:99999", "10.0.0.5/api", "user@10.0.0.5", "a b", "x" * 400):
        with pytest.raises(DiscoveryError):
            site_hub_from_address(bad, "DN-0042")
    with pytest.raises(DiscoveryError):
        site_hub_from_address("10.0.0.5", "bad site!")
