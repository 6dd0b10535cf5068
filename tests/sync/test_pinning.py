"""The station trusts the site hub by its pin, or by the province's relay CA and its own site.

Real HTTPS hubs (uvicorn with TLS) on 127.0.0.1, certificates issued by a real relay CA
(hub.relay_pki) or made wrong on purpose (tests/sync/relay_certs.py). The same checks run
across a real LAN in tests/lan/test_trust.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from hub.app import HubSettings
from hub.server import run_hub
from sync.client import HubClient, HubTlsError
from sync.pinning import normalize_fingerprint, pinned_context
from tests.pg import migrated_hub_url
from tests.sync.relay_certs import Certs, Served, make_certs

SITE = "DN-0042"


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("relay-certs"), SITE)


@contextmanager
def hub_with(served: Served, tmp_path: Path) -> Iterator[str]:
    url = migrated_hub_url("sqlite", tmp_path, None, name=f"hub-{served.dir.name}")
    with run_hub(HubSettings(database_url=url), ssl_certfile=str(served.certfile),
                 ssl_keyfile=str(served.keyfile)) as hub:
        yield hub.url


def _health(url: str, **trust: str | None) -> str:
    """"ok", or the client's error code."""
    with HubClient(url, ssl_context=pinned_context(**trust), connect_timeout_s=5, read_timeout_s=10) as c:  # type: ignore[arg-type]
        try:
            return c.health().status
        except HubTlsError as exc:
            return exc.code


def test_the_site_hub_is_trusted_by_its_pin_or_by_the_relay_ca_and_site(certs: Certs, tmp_path: Path) -> None:
    fp = certs.good.fingerprint
    with hub_with(certs.good, tmp_path) as url:
        assert _health(url, fingerprint=fp) == "ok"
        colon_upper = ":".join(fp[i:i + 2] for i in range(0, 64, 2)).upper()  # as IT staff may type it
        assert _health(url, fingerprint=colon_upper) == "ok"
        assert _health(url, ca_pem=certs.ca_pem, site_code=SITE) == "ok"
        assert _health(url, fingerprint=fp, ca_pem=certs.ca_pem, site_code=SITE) == "ok"
        # Refused: another pin; the right CA for another site; the OS store (nobody else trusts it).
        assert _health(url, fingerprint=certs.other_site.fingerprint) == "hub.tls_site_hub"
        assert _health(url, ca_pem=certs.ca_pem, site_code="OTHER-SITE") == "hub.tls_site_hub"
        with HubClient(url, connect_timeout_s=5) as plain, pytest.raises(HubTlsError) as err:
            plain.health()
        assert err.value.code == "hub.tls_untrusted"


@pytest.mark.parametrize("which", ["other_site", "self_signed", "other_ca"])
def test_a_hub_with_any_other_certificate_is_refused(certs: Certs, tmp_path: Path, which: str) -> None:
    served: Served = getattr(certs, which)
    with hub_with(served, tmp_path) as url:
        assert _health(url, fingerprint=certs.good.fingerprint) == "hub.tls_site_hub"
        assert _health(url, ca_pem=certs.ca_pem, site_code=SITE) == "hub.tls_site_hub"
        assert _health(url, fingerprint=certs.good.fingerprint, ca_pem=certs.ca_pem, site_code=SITE) \
            == "hub.tls_site_hub"


def test_an_expired_site_hub_certificate_is_refused_as_expired(certs: Certs, tmp_path: Path) -> None:
    with hub_with(certs.expired, tmp_path) as url:
        assert _health(url, ca_pem=certs.ca_pem, site_code=SITE) == "hub.tls_expired"
        assert _health(url, fingerprint=certs.expired.fingerprint) == "hub.tls_expired"  # the pin matches


def test_a_context_without_an_identity_cannot_be_made() -> None:
    with pytest.raises(ValueError):
        pinned_context()
    with pytest.raises(ValueError):
        pinned_context(ca_pem="x")  # a chain alone would accept any site's hub
    with pytest.raises(ValueError):
        normalize_fingerprint("abc")
    with pytest.raises(ValueError):
        pinned_context(fingerprint="zz" * 32)
