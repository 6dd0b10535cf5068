"""The site hub's identity, end to end on 127.0.0.1 (issue 14, "Discovery and trust").

The site hub enrolls with a CSR and serves HTTPS with the certificate the province signs
for its site; a desk learns the province's relay CA at its own enrollment and reaches
the site hub only through the pinned context (``sync.site_route``). The same exchanges
across a real LAN of namespaces, with DNS-SD, are in tests/lan/test_site_lan.py.
"""

from __future__ import annotations

import argparse
import json
import stat
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from sqlalchemy import text

from hub import cli as hub_cli
from hub import relay, relay_pki, service, site_hub
from hub.app import HubSettings
from hub.db import Database
from hub.errors import HubError
from hub.ingest import utc_now
from hub.server import run_hub
from kernel.relay_site import certificate_site
from station import replica
from station.store import open_station
from sync import cli as sync_cli
from sync.client import HubUnreachable
from sync.discovery import SiteHub
from sync.engine import SyncEngine, SyncSettings
from sync.protocol import RELAY_PREFIX
from sync.site_route import AUTO, SiteHubRoute
from tests.e2e.site_lan import run_site_hub, site_lan
from tests.pg import migrated_sqlite_url


def _desk(lan, name: str):  # type: ignore[no-untyped-def]
    """A desk enrolled the product's way (``tramtiem enroll``): token in the keyring, the
    province's relay CA in its data."""
    code = service.new_enrollment_code(lan.pdb, lan.site, ttl_hours=1, now=utc_now())
    sync_cli.enroll_station(lan.tmp / name, lan.province.url, code)
    return open_station(lan.tmp / name)


def _cli(ddir: Path, *argv: str) -> int:
    p = argparse.ArgumentParser()
    sync_cli.register(p.add_subparsers(dest="cmd"))
    args = p.parse_args([*argv, "--data-dir", str(ddir)])
    return int(args.func(args))


def test_relay_enroll_sends_a_csr_and_keeps_the_certificate_the_province_issued(tmp_path: Path) -> None:
    with site_lan(tmp_path) as lan:
        db = Database(migrated_sqlite_url(tmp_path / "sh" / "hub.db"))
        try:
            # A request that is not a CSR is refused, and the code is not spent on it.
            code = relay.new_relay_code(lan.pdb, lan.site, ttl_hours=1, now=utc_now())
            bad = httpx.post(lan.province.url + RELAY_PREFIX + "/enroll", json={
                "code": code, "relay_id": "018f0000-0000-7000-8000-000000000001", "csr": "not a csr"})
            assert bad.status_code == 400 and bad.json()["code"] == "relay.csr_invalid"
            resp = site_hub.enroll(db, lan.province.url, code, data_dir=tmp_path / "sh")
        finally:
            db.dispose()
        identity = site_hub.tls_identity(tmp_path / "sh")
        assert identity is not None
        certfile, keyfile, fp = identity
        cert = x509.load_pem_x509_certificate(certfile.read_bytes())
        assert certificate_site(cert) == lan.site
        assert resp.tls is not None and fp == resp.tls["fingerprint"]
        ca_pem = relay_pki.province_ca_pem(lan.pdb)
        assert resp.tls is not None and resp.tls["ca_pem"] == ca_pem
        assert cert.issuer == x509.load_pem_x509_certificate(ca_pem.encode()).subject
        assert stat.S_IMODE(keyfile.stat().st_mode) == 0o600
        assert "PRIVATE KEY" not in json.dumps(resp.model_dump())  # the key never travelled


def test_a_desk_reaches_its_site_hub_over_pinned_tls_only(tmp_path: Path) -> None:
    with site_lan(tmp_path) as lan, run_site_hub(lan, tls_dir=tmp_path / "sh") as sh:
        assert sh.url.startswith("https://")
        st = _desk(lan, "a")
        try:
            assert replica.get_meta(st, "relay_ca_pem") == relay_pki.province_ca_pem(lan.pdb)
            port = sh.url.rsplit(":", 1)[1]
            st.close()
            assert _cli(lan.tmp / "a", "site-hub", "set", f"127.0.0.1:{port}") == 0
            st = open_station(lan.tmp / "a")
            assert replica.site_hub_url(st) == f"https://127.0.0.1:{port}"
            engine = SyncEngine(st, sync_cli.site_hub_factory(st), settings=SyncSettings(seed=1, long_poll_s=0),
                                route="site_hub")
            report = engine.run_once()
            assert report.ok, report.error
            assert sh.scalar("SELECT count(*) FROM station_tally") == 1  # the desk's tally arrived

            # Another site's hub, with a certificate from the same province for its own site:
            # refused in the handshake, before the desk sends anything.
            other = tmp_path / "other-site"
            issued = relay_pki.issue_relay_certificate(
                relay_pki.relay_ca(lan.pdb), relay_pki.make_csr(relay_pki.relay_key(other)), "DN-OTHER-02")
            certfile, keyfile = relay_pki.write_tls_files(other, issued.cert_pem)
            fake_url = migrated_sqlite_url(tmp_path / "fake.db")
            with run_hub(HubSettings(database_url=fake_url),
                         ssl_certfile=str(certfile), ssl_keyfile=str(keyfile)) as fake:
                replica.set_site_hub_url(st, fake.url)
                engine = SyncEngine(st, sync_cli.site_hub_factory(st),
                                    settings=SyncSettings(seed=1, long_poll_s=0), route="site_hub")
                assert engine.run_once().error == "hub.tls_site_hub"
                fake_db = Database(fake_url)
                try:
                    with fake_db.read() as s:
                        assert s.execute(text("SELECT count(*) FROM station_tally")).scalar() == 0
                finally:
                    fake_db.dispose()
        finally:
            st.close()


def test_site_hub_cli_typed_address_auto_and_the_insecure_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with site_lan(tmp_path) as lan:
        _desk(lan, "a").close()
        d = lan.tmp / "a"
        assert _cli(d, "site-hub", "set", "http://192.168.1.10:8765") == 2  # plain HTTP: refused
        assert "https only" in capsys.readouterr().err
        assert _cli(d, "site-hub", "set", "auto") == 0
        assert _cli(d, "site-hub", "show") == 0
        out = capsys.readouterr().out
        assert "DNS-SD" in out and f"relay CA for site {lan.site}" in out
        assert _cli(d, "site-hub", "set", "http://192.168.1.10:8765", "--insecure-http") == 0
        assert _cli(d, "site-hub", "show") == 0
        assert "NONE: plain HTTP" in capsys.readouterr().out
        assert _cli(d, "site-hub", "set", "192.168.1.20", "--fingerprint", "AB" * 32) == 0
        st = open_station(d)
        try:
            assert replica.site_hub_url(st) == "https://192.168.1.20:8765"
            assert replica.get_meta(st, "site_hub_fingerprint") == "ab" * 32
            # A desk that never received the relay CA and has no pin: refused, with the way out.
            replica.set_meta(st, "relay_ca_pem", "")
            replica.set_meta(st, "site_hub_fingerprint", "")
        finally:
            st.close()
        assert _cli(d, "site-hub", "set", "192.168.1.20") == 2
        assert "enroll it again" in capsys.readouterr().err


def test_the_typed_address_wins_and_auto_browses(tmp_path: Path) -> None:
    with site_lan(tmp_path) as lan:
        st = _desk(lan, "a")
        try:
            asked: list[str] = []

            def finder(site: str, *, timeout_s: float) -> SiteHub | None:
                asked.append(site)
                return found[0]

            found: list[SiteHub | None] = [SiteHub(lan.site, ("10.0.0.9",), 8766, None, "mdns")]
            replica.set_site_hub_url(st, "https://10.0.0.5:8765")
            assert SiteHubRoute(st, "t", finder=finder).url() == "https://10.0.0.5:8765"
            assert asked == []  # a typed address: no browsing at all
            replica.set_site_hub_url(st, AUTO)
            route = SiteHubRoute(st, "t", finder=finder)
            assert route.url() == "https://10.0.0.9:8766" and asked == [lan.site]
            assert route.url() == "https://10.0.0.9:8766" and len(asked) == 1  # kept a while
            found[0] = None
            nothing = SiteHubRoute(st, "t", finder=finder).client()
            with pytest.raises(HubUnreachable) as exc:
                nothing.health()
            assert exc.value.code == "site_hub.not_found"
        finally:
            st.close()


def test_serve_relay_to_refuses_plain_http_without_the_insecure_flag(tmp_path: Path) -> None:
    with site_lan(tmp_path) as lan:
        d = tmp_path / "sh"
        db = Database(migrated_sqlite_url(d / "hub.db"))
        try:
            site_hub.enroll(db, lan.province.url, relay.new_relay_code(lan.pdb, lan.site, ttl_hours=1, now=utc_now()))
        finally:
            db.dispose()
        args = hub_cli._parser().parse_args(
            ["serve", "--relay-to", lan.province.url, "--data-dir", str(d), "--port", "0"])
        with pytest.raises(HubError) as exc:
            hub_cli.run(args)
        assert exc.value.code == "relay.no_certificate"
