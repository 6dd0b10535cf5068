"""The province records every site hub certificate and revokes them one by one (issue 14).

Over real HTTP on 127.0.0.1, on SQLite and PostgreSQL (``hub`` fixture): a relay enrolled
again keeps only its newest certificate; ``relay revoke`` revokes them all (audited); a
station reads the revoked, unexpired fingerprints of **its own site** only, bounded.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hub import relay, relay_pki
from hub.errors import HubError
from hub.ingest import utc_now
from hub.models import HubAudit, RelayCert
from hub.timestamps import utc_iso_ms
from sync.protocol import API_PREFIX, RELAY_PREFIX
from sync.revoked_certs import MAX_REVOKED_CERTS, REVOKED_CERTS_PATH, RevokedCerts
from tests.hub.conftest import Hub
from tests.hub.ops import Desk

SITE, OTHER = "DN-RV-01", "DN-RV-02"


def enroll(hub: Hub, site: str, rid: str, key_dir: Path) -> tuple[str, str]:
    """Enroll relay ``rid`` for ``site`` with a CSR for the key in ``key_dir``: (token, fingerprint)."""
    if hub.scalar("SELECT count(*) FROM site WHERE code = :c", c=site) == 0:
        hub.add_site(site)
    code = relay.new_relay_code(hub.db, site, ttl_hours=1, now=utc_now())
    csr = relay_pki.make_csr(relay_pki.relay_key(key_dir))
    r = hub.client.post(hub.running.url + RELAY_PREFIX + "/enroll",
                        json={"code": code, "relay_id": rid, "csr": csr})
    assert r.status_code == 200, r.text
    body = r.json()
    return body["token"], body["tls"]["fingerprint"]


def revoked_list(hub: Hub, desk: Desk) -> RevokedCerts:
    r = hub.client.get(hub.api + REVOKED_CERTS_PATH, headers=desk.headers)
    assert r.status_code == 200, r.text
    return RevokedCerts.model_validate(r.json())


def certs(hub: Hub) -> dict[str, RelayCert]:
    with hub.db.read() as s:
        rows = s.execute(select(RelayCert)).scalars().all()
        s.expunge_all()
        return {r.fingerprint: r for r in rows}


def test_a_relay_enrolled_again_keeps_only_its_newest_certificate(hub: Hub, tmp_path: Path) -> None:
    rid = str(uuid.uuid4())
    desk, stranger = Desk.enroll(hub, SITE, setup=False), Desk.enroll(hub, OTHER, setup=False)
    token, fp1 = enroll(hub, SITE, rid, tmp_path / "first")
    assert revoked_list(hub, desk).fingerprints == []
    got = certs(hub)
    assert set(got) == {fp1} and got[fp1].relay_id == rid and got[fp1].site_code == SITE
    assert got[fp1].revoked_at is None and got[fp1].not_after > utc_iso_ms(utc_now() + timedelta(days=390))

    # The replacement laptop (the site hub's data restored, a new key) enrolls again.
    _, fp2 = enroll(hub, SITE, rid, tmp_path / "second")
    got = certs(hub)
    assert got[fp1].revoked_at is not None and got[fp2].revoked_at is None
    answer = revoked_list(hub, desk)
    assert answer.site_code == SITE and answer.fingerprints == [fp1]
    # Another site's desk never sees this site's list; a relay token opens no station door.
    other = revoked_list(hub, stranger)
    assert other.site_code == OTHER and other.fingerprints == []
    no = hub.client.get(hub.api + REVOKED_CERTS_PATH, headers={"Authorization": f"Bearer {token}"})
    assert no.status_code == 401
    assert hub.client.get(hub.api + REVOKED_CERTS_PATH).status_code == 401
    with hub.db.read() as s:
        audit = s.execute(select(HubAudit).where(HubAudit.action == "enroll_relay")
                          .order_by(HubAudit.id.desc())).scalars().first()
        assert audit is not None and audit.detail["certs_revoked"] == 1


def test_relay_revoke_revokes_every_certificate_and_is_audited(hub: Hub, tmp_path: Path) -> None:
    rid = str(uuid.uuid4())
    desk = Desk.enroll(hub, SITE, setup=False)
    _, fp1 = enroll(hub, SITE, rid, tmp_path / "first")
    _, fp2 = enroll(hub, SITE, rid, tmp_path / "second")
    _, keep = enroll(hub, SITE, str(uuid.uuid4()), tmp_path / "another")  # a second site hub
    assert relay.revoke_relay(hub.db, rid, actor="it  lead", reason="stolen", now=utc_now()) == 1
    assert set(revoked_list(hub, desk).fingerprints) == {fp1, fp2}
    assert keep not in revoked_list(hub, desk).fingerprints
    assert relay.revoke_relay(hub.db, rid, actor="it", reason="again", now=utc_now()) == 0
    with hub.db.read() as s:
        audit = s.execute(select(HubAudit).where(HubAudit.action == "revoke_relay")
                          .order_by(HubAudit.id)).scalars().first()
        assert audit is not None and audit.target == rid and audit.detail["certs_revoked"] == 1
    # A revoked relay cannot enroll again (there is no unrevoke): nothing new is recorded.
    code = relay.new_relay_code(hub.db, SITE, ttl_hours=1, now=utc_now())
    csr = relay_pki.make_csr(relay_pki.relay_key(tmp_path / "third"))
    r = hub.client.post(hub.running.url + RELAY_PREFIX + "/enroll",
                        json={"code": code, "relay_id": rid, "csr": csr})
    assert r.status_code == 403 and r.json()["code"] == "enroll.revoked"
    assert len(certs(hub)) == 3


def test_expired_certificates_drop_off_and_the_list_is_bounded(hub: Hub, tmp_path: Path) -> None:
    rid = str(uuid.uuid4())
    desk = Desk.enroll(hub, SITE, setup=False)
    _, fp = enroll(hub, SITE, rid, tmp_path / "first")
    relay.revoke_relay(hub.db, rid, actor="it", reason="lost", now=utc_now())
    assert relay.revoked_certs(hub.db, SITE, now=utc_now()) == [fp]
    # Past its end of validity pinning refuses it anyway: not listed.
    assert relay.revoked_certs(hub.db, SITE, now=utc_now() + timedelta(days=relay_pki.RELAY_CERT_DAYS + 1)) == []
    stamp, end = utc_iso_ms(utc_now()), utc_iso_ms(utc_now() + timedelta(days=30))
    with hub.db.write() as s:
        for i in range(MAX_REVOKED_CERTS + 5):
            s.add(RelayCert(fingerprint=f"{i:064x}", relay_id=rid, site_code=SITE, issued_at=stamp,
                            not_after=end, revoked_at=stamp))
    answer = revoked_list(hub, desk)
    assert len(answer.fingerprints) == MAX_REVOKED_CERTS
    assert API_PREFIX + REVOKED_CERTS_PATH == "/sync/v1/site/revoked-certs"


def test_a_code_that_replaces_a_relay_revokes_it_when_used(hub: Hub, tmp_path: Path) -> None:
    old, other = str(uuid.uuid4()), str(uuid.uuid4())
    desk = Desk.enroll(hub, SITE, setup=False)
    old_token, old_fp = enroll(hub, SITE, old, tmp_path / "old")
    enroll(hub, OTHER, other, tmp_path / "other")
    with pytest.raises(HubError) as exc:
        relay.new_relay_code(hub.db, SITE, ttl_hours=1, now=utc_now(), replaces=other)
    assert exc.value.code == "relay.other_site"
    with pytest.raises(HubError) as exc:
        relay.new_relay_code(hub.db, SITE, ttl_hours=1, now=utc_now(), replaces=str(uuid.uuid4()))
    assert exc.value.code == "relay.not_found"
    code = relay.new_relay_code(hub.db, SITE, ttl_hours=1, now=utc_now(), replaces=old)
    assert revoked_list(hub, desk).fingerprints == []  # the code alone revokes nothing
    new = str(uuid.uuid4())
    csr = relay_pki.make_csr(relay_pki.relay_key(tmp_path / "new"))
    r = hub.client.post(hub.running.url + RELAY_PREFIX + "/enroll", json={"code": code, "relay_id": new, "csr": csr})
    assert r.status_code == 200, r.text
    assert revoked_list(hub, desk).fingerprints == [old_fp]
    stations = hub.client.get(hub.running.url + RELAY_PREFIX + "/stations",
                              headers={"Authorization": f"Bearer {old_token}"})
    assert stations.status_code == 403 and stations.json()["code"] == "auth.revoked"
    assert hub.scalar("SELECT revoked FROM relay WHERE id = :i", i=other) == 0


def test_enrolling_again_without_a_certificate_still_revokes_the_old_one(hub: Hub, tmp_path: Path) -> None:
    rid = str(uuid.uuid4())
    desk = Desk.enroll(hub, SITE, setup=False)
    _, fp = enroll(hub, SITE, rid, tmp_path / "first")
    code = relay.new_relay_code(hub.db, SITE, ttl_hours=1, now=utc_now())
    r = hub.client.post(hub.running.url + RELAY_PREFIX + "/enroll", json={"code": code, "relay_id": rid})
    assert r.status_code == 200 and r.json()["tls"] is None
    assert revoked_list(hub, desk).fingerprints == [fp]


def test_relay_list_shows_the_certificate_the_desks_should_see(
    hub: Hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """IT staff compare the fingerprint a desk shows (or pin it) with the province's record."""
    import json

    from hub.cli import main as hub_main

    rid = str(uuid.uuid4())
    _, fp1 = enroll(hub, SITE, rid, tmp_path / "first")
    _, fp2 = enroll(hub, SITE, rid, tmp_path / "second")  # the replacement: fp1 revoked
    other = str(uuid.uuid4())
    enroll(hub, OTHER, other, tmp_path / "other")
    relay.revoke_relay(hub.db, other, actor="it", reason="lost", now=utc_now())
    listed = {r["id"]: r for r in relay.list_relays(hub.db)}
    assert listed[rid]["cert_fingerprint"] == fp2 != fp1
    assert (listed[rid]["cert_not_after"] or "") > utc_iso_ms(utc_now() + timedelta(days=390))
    # A revoked site hub has no certificate the desks should accept.
    assert listed[other]["cert_fingerprint"] is None and listed[other]["revoked"] is True
    assert hub_main(["relay", "list", "--json", "--database-url", hub.db.url]) == 0
    rows = {r["id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[rid]["cert_fingerprint"] == fp2
    assert hub_main(["relay", "list", "--database-url", hub.db.url]) == 0
    table = capsys.readouterr().out
    assert "cert_fingerprint" in table.splitlines()[0] and fp2 in table and fp1 not in table
