"""The province's relay endpoints (issue 14): a site hub's credential, roster, push, tally, pull.

Over real HTTP on 127.0.0.1, on SQLite and PostgreSQL (``hub`` fixture). A relay speaks
for one site: another site's station, a revoked station or a revoked relay get nothing;
a relayed op runs through the station's own push path, so the same op by both routes
is applied once.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from hub import relay, service
from hub.ingest import utc_now
from sync.protocol import RELAY_PREFIX, TallyRow, tally_signature, token_hash
from tests.hub.conftest import Hub
from tests.hub.ops import DAY, Desk, new_cccd

SITE, OTHER = "DN-RL-01", "DN-RL-02"


def enroll_relay(hub: Hub, site: str) -> tuple[str, str]:
    if hub.scalar("SELECT count(*) FROM site WHERE code = :c", c=site) == 0:
        hub.add_site(site)
    code = relay.new_relay_code(hub.db, site, ttl_hours=1, now=utc_now())
    rid = str(uuid.uuid4())
    r = hub.client.post(hub.running.url + RELAY_PREFIX + "/enroll", json={"code": code, "relay_id": rid})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["site_code"] == site and body["relay_id"] == rid and body["tls"] is None
    # Single use.
    again = hub.client.post(hub.running.url + RELAY_PREFIX + "/enroll", json={"code": code, "relay_id": rid})
    assert again.status_code == 403 and again.json()["code"] == "enroll.code_used"
    return rid, body["token"]


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def group(desk: Desk, ops: list[dict[str, Any]]) -> dict[str, Any]:
    return desk.body(ops)


def relay_push(hub: Hub, rid: str, token: str, groups: list[dict[str, Any]]) -> httpx.Response:
    return hub.client.post(
        hub.running.url + RELAY_PREFIX + "/push",
        json={"relay_id": rid, "groups": groups},
        headers=auth(token),
    )


def test_roster_lists_the_sites_stations_by_token_hash_only(hub: Hub) -> None:
    rid, token = enroll_relay(hub, SITE)
    a, b = Desk.enroll(hub, SITE, setup=False), Desk.enroll(hub, SITE, setup=False)
    Desk.enroll(hub, OTHER, setup=False)
    r = hub.client.get(hub.running.url + RELAY_PREFIX + "/stations", headers=auth(token))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["site_code"] == SITE
    got = {s["station_id"]: s for s in body["stations"]}
    assert set(got) == {a.station_id, b.station_id}  # never another site's
    assert got[a.station_id]["token_hash"] == token_hash(a.token)
    assert a.token not in r.text and b.token not in r.text  # never a token
    # A station token opens no relay door, a relay token no station door.
    assert hub.client.get(hub.running.url + RELAY_PREFIX + "/stations", headers=a.headers).status_code == 401
    assert hub.client.get(hub.api + "/pull", headers=auth(token)).status_code == 401
    assert relay_push(hub, rid, a.token, []).status_code == 401


def test_relayed_op_takes_the_stations_path_and_both_routes_apply_it_once(hub: Hub) -> None:
    rid, token = enroll_relay(hub, SITE)
    desk = Desk.enroll(hub, SITE)  # users and lot pushed directly
    walk_in = desk.walk_in(new_cccd())
    dose = desk.dose(walk_in["entity_id"])
    # The walk-in came directly first; then the site hub forwards both, unchanged.
    direct = desk.push([walk_in])[0]
    r = relay_push(hub, rid, token, [group(desk, [walk_in, dose])])
    assert r.status_code == 200, r.text
    (g,) = r.json()["groups"]
    assert g["error"] is None and g["expected_next_op_seq"] == dose["op_seq"] + 1
    res = {x["op_id"]: x for x in g["results"]}
    assert res[walk_in["op_id"]]["status"] == "duplicate"
    assert res[walk_in["op_id"]]["server_seq"] == direct["server_seq"]  # the stored answer
    assert res[dose["op_id"]]["status"] == "applied"
    # The desk sends both again directly (its own line came back): duplicates.
    assert {x["status"] for x in desk.push([walk_in, dose])} == {"duplicate"}
    assert hub.scalar("SELECT count(*) FROM person WHERE id = :i", i=walk_in["entity_id"]) == 1
    assert hub.scalar("SELECT count(*) FROM dose") == 1
    assert hub.scalar("SELECT count(*) FROM applied_op WHERE station_id = :s", s=desk.station_id) == 6
    # Counted once, for the desk that entered it (not for the relay).
    assert hub.scalar("SELECT sum(held_all) FROM station_day WHERE station_id = :s", s=desk.station_id) == 1
    assert hub.scalar("SELECT count(*) FROM station_day WHERE station_id = :s", s=rid) == 0


def test_another_sites_or_revoked_station_and_a_revoked_relay_are_refused(hub: Hub) -> None:
    rid, token = enroll_relay(hub, SITE)
    ours = Desk.enroll(hub, SITE)
    theirs = Desk.enroll(hub, OTHER)
    gone = Desk.enroll(hub, SITE)
    service.revoke_station(hub.db, gone.station_id, now=utc_now())
    foreign = theirs.walk_in(new_cccd())
    late = gone.walk_in(new_cccd())
    mine = ours.walk_in(new_cccd())
    r = relay_push(hub, rid, token, [group(theirs, [foreign]), group(gone, [late]), group(ours, [mine])])
    assert r.status_code == 200, r.text
    g = {x["station_id"]: x for x in r.json()["groups"]}
    assert g[theirs.station_id]["error"]["code"] == "auth.cross_site"
    assert g[gone.station_id]["error"]["code"] == "auth.revoked"
    assert [x["status"] for x in g[ours.station_id]["results"]] == ["applied"]
    for op in (foreign, late):
        assert hub.scalar("SELECT count(*) FROM applied_op WHERE op_id = :o", o=op["op_id"]) == 0
        assert hub.scalar("SELECT count(*) FROM person WHERE id = :i", i=op["entity_id"]) == 0
    # Revoked relay: refused at once, before its body is read, on every relay path.
    relay.revoke_relay(hub.db, rid, actor="test", reason="laptop stolen", now=utc_now())
    again = ours.walk_in(new_cccd())
    r = relay_push(hub, rid, token, [group(ours, [again])])
    assert r.status_code == 403 and r.json()["code"] == "auth.revoked"
    assert hub.client.get(hub.running.url + RELAY_PREFIX + "/stations", headers=auth(token)).status_code == 403
    assert hub.client.get(hub.running.url + RELAY_PREFIX + "/pull", headers=auth(token)).status_code == 403
    assert hub.scalar("SELECT count(*) FROM applied_op WHERE op_id = :o", o=again["op_id"]) == 0
    # The site's stations themselves are untouched.
    assert ours.push([again])[0]["status"] == "applied"
    assert hub.scalar("SELECT count(*) FROM hub_audit WHERE action = 'revoke_relay'") == 1


def test_relay_mismatch_and_oversize_group_count(hub: Hub) -> None:
    rid, token = enroll_relay(hub, SITE)
    desk = Desk.enroll(hub, SITE, setup=False)
    r = relay_push(hub, str(uuid.uuid4()), token, [group(desk, [])])
    assert r.status_code == 403 and r.json()["code"] == "auth.relay_mismatch"
    r = relay_push(hub, rid, token, [group(desk, [])] * 201)
    assert r.status_code == 422


@pytest.mark.parametrize("tamper", [False, True])
def test_forwarded_tallies_verify_as_the_stations_own(sqlite_hub: Hub, tamper: bool) -> None:
    hub = sqlite_hub
    rid, token = enroll_relay(hub, SITE)
    desk = Desk.enroll(hub, SITE, setup=False)
    theirs = Desk.enroll(hub, OTHER, setup=False)
    rows = [TallyRow(day=DAY, vaccine_code="PFIZER", lot_number="FK1234", entered=3, pending=3, acknowledged=0)]

    def tally(d: Desk) -> dict[str, Any]:
        sig = tally_signature(d.token, rows)
        if tamper:
            sig = ("0" if sig[0] != "0" else "1") + sig[1:]
        return {"station_id": d.station_id, "generated_at": f"{DAY}T10:00:00+07:00",
                "rows": [r.model_dump() for r in rows], "outbox_pending": 3, "signature": sig}

    r = hub.client.post(
        hub.running.url + RELAY_PREFIX + "/tally",
        json={"relay_id": rid, "tallies": [tally(desk), tally(theirs)]},
        headers=auth(token),
    )
    assert r.status_code == 200, r.text
    res = {x["station_id"]: x for x in r.json()["results"]}
    assert res[theirs.station_id]["error"]["code"] == "auth.cross_site"
    if tamper:
        assert res[desk.station_id]["error"]["code"] == "tally.bad_signature"
        assert hub.count("station_tally") == 0
    else:
        assert res[desk.station_id]["accepted"] is True
        assert hub.scalar("SELECT station_id FROM station_tally") == desk.station_id


def test_relay_pull_is_the_sites_scope_with_every_row(sqlite_hub: Hub) -> None:
    hub = sqlite_hub
    _rid, token = enroll_relay(hub, SITE)
    desk = Desk.enroll(hub, SITE)
    other = Desk.enroll(hub, OTHER)
    walk_in = desk.walk_in(new_cccd())
    assert desk.push([walk_in])[0]["detail"].get("no_echo") is True
    other.push([other.walk_in(new_cccd())])
    r = hub.client.get(hub.running.url + RELAY_PREFIX + "/pull", params={"cursor": 0, "limit": 2000},
                       headers=auth(token))
    assert r.status_code == 200, r.text
    changes = r.json()["changes"]
    persons = {c["entity_id"] for c in changes if c["entity_type"] == "person"}
    assert persons == {walk_in["entity_id"]}  # the echo the desk skips reaches the relay; no other site
    assert {c["entity_type"] for c in changes} >= {"app_user", "vaccine_lot", "registration"}
