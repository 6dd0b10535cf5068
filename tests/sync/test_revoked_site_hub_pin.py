"""A site hub certificate on the province's revoked list is refused by the pinned context,
and the desk keeps that list (``sync.revocations``) from its direct route only.

Real HTTPS hubs (uvicorn with TLS) on 127.0.0.1 with certificates from a real relay CA
(tests/sync/relay_certs.py); a real province hub and a real encrypted station.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from hub import relay, relay_pki, service
from hub.ingest import utc_now
from kernel.errors import StoreError
from station.store import init_station
from sync import revocations
from sync.client import TLS_CODES, TLS_HINTS, HubClient, HubTlsError
from sync.pinning import pinned_context
from sync.protocol import EnrollRequest
from sync.revoked_certs import RevokedCerts
from tests.e2e.site_lan import site_lan
from tests.sync.relay_certs import Certs, make_certs
from tests.sync.test_pinning import SITE, _health, hub_with


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("relay-certs"), SITE)


def test_a_revoked_certificate_is_refused_whatever_else_holds(certs: Certs, tmp_path: Path) -> None:
    good = certs.good.fingerprint
    with hub_with(certs.good, tmp_path) as url:
        assert _health(url, ca_pem=certs.ca_pem, site_code=SITE,
                       revoked=[certs.other_site.fingerprint]) == "ok"  # type: ignore[arg-type]
        assert _health(url, ca_pem=certs.ca_pem, site_code=SITE, revoked=[good]) \
            == "hub.tls_site_hub_revoked"  # type: ignore[arg-type]
        assert _health(url, fingerprint=good, revoked=[good]) == "hub.tls_site_hub_revoked"  # type: ignore[arg-type]
        # A callable is read at each handshake: one context, the list learnt in between.
        known: list[str] = []
        ctx = pinned_context(ca_pem=certs.ca_pem, site_code=SITE, revoked=lambda: known)
        with HubClient(url, ssl_context=ctx, connect_timeout_s=5, read_timeout_s=10, keep_alive=False) as c:
            assert c.health().status == "ok"
        known.append(good)
        with HubClient(url, ssl_context=ctx, connect_timeout_s=5, read_timeout_s=10) as c:
            with pytest.raises(HubTlsError) as exc:
                c.health()
            assert exc.value.code == "hub.tls_site_hub_revoked"
    # Another site's hub stays "not your site's hub", whatever the list holds.
    with hub_with(certs.other_site, tmp_path / "other") as url:
        assert _health(url, ca_pem=certs.ca_pem, site_code=SITE, revoked=[good]) == "hub.tls_site_hub"  # type: ignore[arg-type]


def test_the_desk_reads_its_sites_list_from_the_province_at_most_every_few_minutes(tmp_path: Path) -> None:
    with site_lan(tmp_path) as lan:
        st = init_station(tmp_path / "desk", lan.site, station_letter="A")
        try:
            code = service.new_enrollment_code(lan.pdb, lan.site, ttl_hours=1, now=utc_now())
            with HubClient(lan.province.url) as c:
                token = c.enroll(EnrollRequest(code=code, station_id=st.install_id, station_name="a")).token
            code = relay.new_relay_code(lan.pdb, lan.site, ttl_hours=1, now=utc_now())
            csr = relay_pki.make_csr(relay_pki.relay_key(tmp_path / "sh"))
            tls = relay_pki.issue_for_enrollment(lan.pdb, code, csr, now=utc_now())
            assert tls is not None
            from sync.protocol import RelayEnrollRequest

            rid = "018f0000-0000-7000-8000-0000000000aa"
            relay.enroll_relay(lan.pdb, RelayEnrollRequest(code=code, relay_id=rid, csr=csr), now=utc_now(), tls=tls)

            with HubClient(lan.province.url, token) as c:
                assert revocations.refresh_due(st, c, now=1000.0) == frozenset()
                assert revocations.last_read(st) == 1000.0
                relay.revoke_relay(lan.pdb, rid, actor="it", reason="stolen", now=utc_now())
                # Read a minute ago: not again yet (no request), the old list stays.
                assert revocations.refresh_due(st, c, now=1060.0) is None
                assert revocations.revoked_fingerprints(st) == frozenset()
                later = 1000.0 + revocations.REFRESH_S + 1
                assert revocations.refresh_due(st, c, now=later) == {tls["fingerprint"]}
            # The province unreachable: the read fails quietly and the list stays.
            with HubClient("http://127.0.0.1:9", token, connect_timeout_s=1) as down:
                assert revocations.refresh(st, down) is None
            assert revocations.revoked_fingerprints(st) == {tls["fingerprint"]}
            # An answer for another site is never kept.
            with pytest.raises(StoreError):
                revocations.store(st, RevokedCerts(site_code="DN-OTHER", fingerprints=[], server_time="x"))
            assert revocations.revoked_fingerprints(st) == {tls["fingerprint"]}
        finally:
            st.close()


def test_the_revoked_code_is_a_certificate_problem_with_a_hint_for_it_staff() -> None:
    assert "hub.tls_site_hub_revoked" in TLS_CODES
    assert "revoked by the province" in TLS_HINTS["hub.tls_site_hub_revoked"]
