"""Issue 11, per class: values bounded at the edge, readers that never fail, scope and privilege.

Real hub over real HTTP on 127.0.0.1, SQLite and PostgreSQL; stations played by
hand-made ops (tests/hub/ops.py) so each case says exactly what it sends.
"""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hub import service
from hub.app import HubSettings
from hub.cli import main as hub_main
from hub.dashboard import auth
from hub.db import Database
from hub.ingest import utc_now
from hub.server import run_hub
from sync.protocol import TallyRow, tally_signature
from tests.hub.conftest import Hub
from tests.hub.ops import DAY, Desk, new_cccd

SITE = "HD-A"
OTHER = "HD-B"


def rejected(results: list[dict[str, Any]]) -> list[str | None]:
    return [r["reason"] if r["status"] == "rejected" else r["status"] for r in results]


def tally_body(desk: Desk, rows: list[dict[str, Any]], **over: Any) -> dict[str, Any]:
    parsed = [TallyRow.model_validate(r) for r in rows]
    return {
        "station_id": desk.station_id,
        "generated_at": "2026-12-01T10:00:00+07:00",
        "rows": rows,
        "outbox_pending": 2,
        "oldest_pending_at": "2026-12-01T09:30:00+07:00",
        "signature": tally_signature(desk.token, parsed),
    } | over


ROW = {
    "day": DAY,
    "vaccine_code": "PFIZER",
    "lot_number": "FK1234",
    "entered": 3,
    "pending": 1,
    "acknowledged": 2,
}


# ---- class 3: timestamps and days --------------------------------------------------


def test_tally_timestamps_and_days_are_parsed_and_bounded(hub: Hub) -> None:
    desk = Desk.enroll(hub, SITE)
    url = hub.api + "/tally"
    for over in (
        {"oldest_pending_at": "0001-01-01T00:00:00+14:00"},  # the attack: overflowed readers
        {"oldest_pending_at": "9999-12-31T23:59:59-14:00"},
        {"oldest_pending_at": "2026-12-01T09:30:00"},  # no offset
        {"generated_at": "hôm nay"},
        {"signature": "x" * 64},
        {"outbox_pending": 10**12},
    ):
        r = hub.client.post(url, json=tally_body(desk, [ROW], **over), headers=desk.headers)
        assert r.status_code == 422 and r.json()["code"] == "request.invalid", (over, r.text)
        assert next(iter(over)) in str(r.json()["detail"]), r.json()
    for bad_row in ({"day": "2026-13-45"}, {"day": "0001-01-01"}, {"entered": -1}):
        body = tally_body(desk, [ROW])
        body["rows"] = [ROW | bad_row]
        r = hub.client.post(url, json=body, headers=desk.headers)
        assert r.status_code == 422, (bad_row, r.text)
    assert hub.count("station_tally") == 0
    ok = hub.client.post(url, json=tally_body(desk, [ROW]), headers=desk.headers)
    assert ok.status_code == 200, ok.text


def test_op_timestamps_and_days_are_parsed_and_bounded(hub: Hub) -> None:
    desk = Desk.enroll(hub, SITE)
    reg = desk.walk_in(new_cccd())
    assert rejected(desk.push([reg])) == ["applied"]
    pid = reg["entity_id"]
    cases: list[tuple[dict[str, Any], list[str]]] = [
        ({"administered_at": "9999-12-31T23:59:59+07:00"}, ["administered_at"]),
        ({"administered_at": "0001-01-01T00:00:00+14:00"}, ["administered_at"]),
        ({"administered_at": "sáng nay"}, ["administered_at"]),
        ({"day": "2026-13-45"}, ["day"]),
        ({"day": "2026-11-30"}, []),  # not the site-local day of administered_at
        ({"observe_until": "2026-12-01T25:00:00+07:00"}, ["observe_until"]),
        ({"kind": "sieu-lieu"}, ["kind"]),
        ({"dose_number": 0}, ["dose_number"]),
        ({"injection_site": "x" * 17}, ["injection_site"]),
    ]
    for over, fields in cases:
        [r] = desk.push([desk.dose(pid, **over)])
        assert r["status"] == "rejected" and r["reason"] == "payload.invalid", (over, r)
        for f in fields:
            assert f in r["detail"]["fields"], (over, r["detail"])
    born = desk.walk_in(new_cccd())
    born["payload"]["person"]["birth"] = "2026-13-45"
    late = desk.op("check_in", "registration", reg["payload"]["registration"]["id"],
                   {"queue_label": "A1", "checked_in_at": "31/12/9999"}, role="clerk")
    assert rejected(desk.push([born, late])) == ["payload.invalid", "payload.invalid"]
    assert hub.count("dose") == 0
    # An op's own recorded_at is the protocol's: a bad one refuses the whole request.
    bad = desk.dose(pid) | {"recorded_at": "0001-01-01T00:00:00+14:00"}
    r = desk.post([bad])
    assert r.status_code == 422 and r.json()["code"] == "request.invalid"


def test_readers_never_fail_on_stored_values(hub: Hub, tmp_path: Path) -> None:
    """Values stored before the edge was bounded (written straight into the database here):
    the site summary, the dashboard, its JSON, `tramtiem-hub report`, reviews and pull all answer."""
    desk = Desk.enroll(hub, SITE)
    desk.push([desk.walk_in(new_cccd())])
    junk_tally = {
        "generated_at": "hôm qua",
        "oldest_pending_at": "0001-01-01T00:00:00+14:00",
        "outbox_pending": "nhiều",
        "rows": [
            {"day": "2026-13-45", "entered": "ba", "pending": None},
            {"day": DAY, "entered": 2**70, "pending": -5},
            "not a row",
        ],
    }
    year1 = "0001-01-01T00:00:00+14:00"
    with hub.db.write() as s:
        # Issue 10's receipt columns and counters, as junk as their types allow (counts
        # far past what a tally can carry: ≤ 5000 rows of ≤ 10^6 a day).
        s.execute(
            text(
                "INSERT INTO station_tally (station_id, tally, received_at, generated_at, "
                "oldest_pending_at, replica_epoch, outbox_pending, ops_since, mismatch, legacy, "
                "carried_cut) VALUES (:s, :t, :r, 'hôm qua', :y, 'x', :big, -5, :big, 7, 'sáng')"
            ),
            {"s": desk.station_id, "t": json.dumps(junk_tally), "r": "9999-12-31T23:59:59-14:00",
             "y": year1, "big": 2**40},
        )
        for day, n in (("2026-13-45", 2**40), ("hôm nay", -7), (DAY, 2**40), ("0001-01-01", 3)):
            s.execute(
                text(
                    "INSERT INTO station_day (site_code, station_id, day, held_all, held_valid, "
                    "t_entered, t_pending, t_acked, t_all_entered, t_all_pending, t_all_acked, "
                    "t_voids_unsent, carried, written_off) VALUES (:site, :st, :d, :n, -:n, :n, "
                    ":n, -:n, :n, :n, 0, :n, :n, :n)"
                ),
                {"site": SITE, "st": desk.station_id, "d": day, "n": n},
            )
        s.execute(
            text("INSERT INTO station_total (site_code, station_id, held_all, held_valid) "
                 "VALUES (:site, 'ghost', -3, :big)"),
            {"site": SITE, "big": 2**40},
        )
        s.execute(
            text(
                "INSERT INTO write_off (id, station_id, site_code, doses, days, reason, actor, "
                "created_at) VALUES ('w1', :st, :site, -4, :days, :reason, 'x', :y)"
            ),
            {"st": desk.station_id, "site": SITE, "days": json.dumps({"hôm nay": "ba", "x": [1]}),
             "reason": "a\x07b" * 300, "y": year1},
        )
        s.execute(
            text("INSERT INTO hub_audit (at, actor, action, target, detail) VALUES "
                 "(:y, 'x', 'revoke_station', 'ghost', :d)"),
            {"y": year1, "d": json.dumps(["not", "a", {"dict": None}])},
        )
        s.execute(
            text("UPDATE station SET last_seen = :l, clock_skew_ms = :k, revoked_at = :l WHERE id = :s"),
            {"l": year1, "k": 2**62, "s": desk.station_id},
        )
    r = hub.client.get(hub.api + f"/sites/{SITE}/summary", headers=desk.headers)
    assert r.status_code == 200, r.text
    summary = r.json()
    assert summary["oldest_pending_at"] is None and summary["last_contact"] is None
    assert hub.client.get(hub.api + "/reviews", headers=desk.headers).status_code == 200
    assert hub.client.get(hub.api + "/pull", headers=desk.headers).status_code == 200
    # The committee's dashboard, page and JSON.
    auth.add_user(hub.db, "tinh75", "mat-khau-dai-du", auth.parse_scope("province:75"), now=utc_now())
    with httpx.Client(base_url=hub.running.url, timeout=30) as browser:
        form = browser.get("/dashboard/login")
        csrf = form.text.split('name="csrf" value="')[1].split('"')[0]
        r = browser.post(
            "/dashboard/login",
            data={"csrf": csrf, "username": "tinh75", "password": "mat-khau-dai-du"},
        )
        assert r.status_code == 303, r.text[:300]
        for path in (
            "/dashboard",
            "/dashboard/fragment",
            "/dashboard/data.json",
            # issue 10's drill-downs: the site's per-station rows, days and write-offs
            f"/dashboard/site/{SITE}",
            "/dashboard/province/75",
            f"/dashboard/fragment?view=site:{SITE}",
            f"/dashboard/data.json?view=site:{SITE}",
        ):
            page = browser.get(path)
            assert page.status_code == 200, (path, page.text[:300])
    base = ["--database-url", hub.db.url]
    for cmd in (["report", "--json"], ["station", "list", "--json"], ["audit", "list", "--json"],
                ["audit", "list"], ["station", "list"]):
        assert hub_main([*cmd, *base]) == 0, cmd


# ---- class 4: bytes no database can store ------------------------------------------


def test_raw_surrogates_control_characters_and_nul_in_queries(hub: Hub) -> None:
    desk = Desk.enroll(hub, SITE)
    h = desk.headers | {"Content-Type": "application/json"}
    raw = json.dumps(desk.body([desk.walk_in(new_cccd(), name="Nguyễn Văn @")]), ensure_ascii=False)
    for bad in (b"\xed\xa0\x80", b"\xff", b"\xc3"):  # a raw surrogate, and bytes that are not UTF-8
        body = raw.encode().replace(b"@", bad)
        for content, extra in ((body, {}), (gzip.compress(body), {"Content-Encoding": "gzip"})):
            r = hub.client.post(hub.api + "/push", content=content, headers=h | extra)
            assert r.status_code == 422 and r.json()["code"] == "request.invalid", (bad, r.text)
    for escaped in ("\\u0007", "\\u001b[31m", "\\u0000"):
        r = hub.client.post(
            hub.api + "/push", content=raw.replace("@", escaped).encode(), headers=h
        )
        assert r.status_code == 422, (escaped, r.text)
    assert hub.count("person") == 0
    for query in ("replica_epoch=%00", "replica_epoch=a%01b", "cursor=0&replica_epoch=%7f"):
        r = hub.client.get(hub.api + "/pull?" + query, headers=desk.headers)
        assert r.status_code == 422 and r.json()["code"] == "request.invalid", (query, r.text)
    for path in ("/persons/by-id-number/0753%0000001", "/sites/HD%00A/summary"):
        r = hub.client.get(hub.api + path, headers=desk.headers)
        assert r.status_code == 422, (path, r.text)


# ---- class 5: accepted but must be refused -----------------------------------------


def test_a_dose_names_a_lot_of_its_own_site(hub: Hub) -> None:
    a = Desk.enroll(hub, SITE)
    b = Desk.enroll(hub, OTHER)
    reg = a.walk_in(new_cccd())
    moderna = a.lot("MODERNA")
    assert rejected(a.push([reg, moderna])) == ["applied", "applied"]
    pid = reg["entity_id"]
    ops = [
        a.dose(pid, lot_id=b.lot_id),  # another site's lot
        a.dose(pid, lot_id=str(uuid.uuid4())),  # a lot nobody has
        a.dose(pid, lot_id=moderna["entity_id"]),  # a lot of another vaccine
        a.dose(pid, lot_id=None),  # a dose given here names its lot
    ]
    assert rejected(a.push(ops)) == [
        "auth.cross_site",
        "dose.lot_unknown",
        "dose.lot_mismatch",
        "payload.invalid",
    ]
    assert hub.count("dose") == 0
    # History doses (copied from a paper certificate) have no lot.
    past = a.dose(pid, lot_id=None, source="history", vaccinator_id=None, injection_site=None)
    assert rejected(a.push([past, a.dose(pid)])) == ["applied", "applied"]


def test_strings_copied_into_reviews_are_bounded(hub: Hub) -> None:
    desk = Desk.enroll(hub, SITE)
    reg = desk.walk_in(new_cccd())
    desk.push([reg])
    pid = reg["entity_id"]
    huge = desk.update(pid, {"phone": ("0" * 1_000_000, "0922222222")})
    big_new = desk.update(pid, {"address_line": (None, "x" * 1001)})
    assert rejected(desk.push([huge, big_new])) == ["payload.invalid", "payload.invalid"]
    assert hub.count("review_item") == 0
    r = hub.client.post(
        hub.api + f"/reviews/{uuid.uuid4()}/resolve",
        json={"action": "void_dose", "params": {"reason": "x" * 501}},
        headers=desk.headers,
    )
    assert r.status_code == 422


def test_pull_pages_are_bounded_by_bytes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    with run_hub(HubSettings(database_url=url, max_pull_bytes=4000)) as running, httpx.Client(
        timeout=30
    ) as client:
        db = Database(url)
        try:
            hub = Hub(running, db, "sqlite", client)
            desk = Desk.enroll(hub, SITE)
            regs = [desk.walk_in(new_cccd()) for _ in range(20)]
            for r in regs:
                r["payload"]["person"]["address_line"] = "Số nhà " + "9" * 900
            desk.push(regs)
            pages, cursor = [], 0
            while True:
                page = client.get(
                    hub.api + "/pull", params={"cursor": cursor, "limit": 2000}, headers=desk.headers
                ).json()
                pages.append(page["changes"])
                cursor = page["next_cursor"]
                if not page["has_more"]:
                    break
            sizes = [sum(len(json.dumps(c["data"], ensure_ascii=False)) for c in p) for p in pages]
            assert len(pages) > 3 and all(len(p) >= 1 for p in pages)
            # A page stops at the bound (one row may carry it over: a row is never split).
            assert all(s <= 4000 + 1500 for s in sizes), sizes
            persons = {c["entity_id"] for p in pages for c in p if c["entity_type"] == "person"}
            assert len(persons) == 20
        finally:
            db.dispose()


# ---- class 6: scope and privilege --------------------------------------------------


def test_cross_site_dose_screening_and_registration_are_refused(hub: Hub) -> None:
    a = Desk.enroll(hub, SITE)
    b = Desk.enroll(hub, OTHER)
    reg = a.walk_in(new_cccd())
    a.push([reg])
    pid = reg["entity_id"]
    rid = str(uuid.uuid4())
    add = b.op(
        "add_registration",
        "registration",
        rid,
        {"registration": {"id": rid, "person_id": pid, "day": DAY, "source": "app", "status": "expected"}},
        role="clerk",
    )
    assert rejected(b.push([b.dose(pid), b.screening(pid), add])) == ["auth.cross_site"] * 3
    assert hub.scalar("SELECT count(*) FROM person_site WHERE site_code = :s", s=OTHER) == 0
    changes = hub.client.get(hub.api + "/pull", headers=b.headers).json()["changes"]
    assert not [c for c in changes if c["entity_type"] in ("person", "dose")]


def test_roles_and_actors_are_checked_for_every_op(hub: Hub) -> None:
    a = Desk.enroll(hub, SITE)
    b = Desk.enroll(hub, OTHER)
    vol = a.user("volunteer")
    adm = a.user("admin")
    assert rejected(a.push([vol, adm])) == ["applied", "applied"]
    a.users["volunteer"], a.users["admin"] = vol["entity_id"], adm["entity_id"]
    reg = a.walk_in(new_cccd())
    a.push([reg])
    pid = reg["entity_id"]

    def as_(op: dict[str, Any], role: str | None = None, user: str | None = None) -> dict[str, Any]:
        return op | {"user_id": user if user is not None else a.users[role or "supervisor"]}

    superuser = a.user("clerk")
    superuser["payload"]["role"] = "superuser"
    plain_hash = a.user("clerk", password_hash="mat-khau-123")
    cases = [
        (as_(a.dose(pid), "volunteer"), "auth.forbidden"),  # a volunteer does not vaccinate
        (as_(a.user("clerk"), "clerk"), "auth.forbidden"),  # a clerk does not manage staff
        (as_(a.user("admin"), "supervisor"), "auth.forbidden"),  # nor a supervisor admins
        (as_(a.user("supervisor"), "admin"), "applied"),
        (superuser, "payload.invalid"),
        (plain_hash, "payload.invalid"),
        (as_(a.dose(pid), user=b.users["clerk"]), "auth.user_unknown"),  # a user of site B
        (as_(a.dose(pid), user="0190aaaa-0000-7000-8000-00000000dead"), "auth.user_unknown"),
        (a.dose(pid, vaccinator_id=a.users["supervisor"]), "auth.actor_mismatch"),
        # Issue 12's override names a supervisor of the site, with a reason.
        (a.dose(pid, override_by=a.users["clerk"], override_reason="đã hỏi bác sĩ"), "auth.actor_mismatch"),
        (a.dose(pid, override_by=b.users["supervisor"], override_reason="đã hỏi bác sĩ"), "auth.actor_mismatch"),
        (a.dose(pid, override_by=a.users["volunteer"], override_reason="đã hỏi bác sĩ"), "auth.actor_mismatch"),
        (a.dose(pid, override_by=a.users["supervisor"]), "payload.invalid"),
        (a.dose(pid, override_by=a.users["supervisor"], override_reason="đã hỏi bác sĩ"), "applied"),
        (as_(a.screening(pid) | {}, "clerk"), "auth.forbidden"),
        (as_(a.update(pid, {"full_name": ("Nguyễn Thị Đào", "Nguyễn Thị Đảo")}), "volunteer"), "auth.forbidden"),
        (as_(a.update(pid, {"phone": ("0912345678", "0987654321")}), "volunteer"), "applied"),
    ]
    res = {r["op_id"]: r for r in a.push([op for op, _ in cases])}  # answered in op_seq order
    got = [rejected([res[op["op_id"]]])[0] for op, _ in cases]
    assert got == [want for _, want in cases], list(zip(got, [w for _, w in cases], strict=True))
    # A void records who voided it: the op's user, checked like any other.
    dose = a.dose(pid)
    a.push([dose])
    void = a.op("void_dose", "dose", dose["entity_id"], {"reason": "nhập nhầm", "voided_at": a.at()}, role="clerk")
    assert rejected(a.push([void])) == ["auth.forbidden"]
    void = a.op("void_dose", "dose", dose["entity_id"], {"reason": "nhập nhầm", "voided_at": a.at()})
    assert rejected(a.push([void])) == ["applied"]
    assert hub.scalar("SELECT voided_by FROM dose WHERE id = :i", i=dose["entity_id"]) == a.users["supervisor"]
    # A resolution through the API names a supervisor of the site, else it is refused.
    a.push([a.dose(pid), a.dose(pid)])
    review = hub.scalar("SELECT id FROM review_item WHERE kind = 'possible_duplicate_dose'")
    for user, want in ((None, "auth.forbidden"), (a.users["clerk"], "auth.forbidden"), (b.users["supervisor"], "auth.user_unknown")):
        r = hub.client.post(
            hub.api + f"/reviews/{review}/resolve",
            json={"action": "keep_both", "user_id": user},
            headers=a.headers,
        ).json()
        assert (r["status"], r["reason"]) == ("rejected", want), r


def clerk_row(hub: Hub, a: Desk, site: str, *, active: int, updated_at: str) -> dict[str, Any]:
    """The desk's clerk as an ``upsert_user`` payload (a known password hash)."""
    clerk = a.users["clerk"]
    return {
        "id": clerk,
        "site_code": site,
        "username": hub.scalar("SELECT username FROM app_user WHERE id = :i", i=clerk),
        "display_name": "Người dùng clerk",
        "role": "clerk",
        "password_hash": "$argon2id$v=19$m=1024,t=1,p=1$bmV3c2FsdHNhbHQ$3oYrHJaC7g1Ha1dTeVKsHPPsyKWHoX7Jm1wK7vPl8Dg",
        "active": active,
        "updated_at": updated_at,
    }


def test_own_password_and_deactivated_users(hub: Hub) -> None:
    a = Desk.enroll(hub, SITE)
    clerk = a.users["clerk"]
    row = clerk_row(hub, a, SITE, active=1, updated_at=a.at())
    own = a.op("upsert_user", "app_user", clerk, row, role="clerk")
    promote = a.op("upsert_user", "app_user", clerk, row | {"role": "supervisor"}, role="clerk")
    assert rejected(a.push([own, promote])) == ["applied", "auth.forbidden"]
    # Deactivated at 10:00: work recorded before still lands, work after does not.
    off = a.op("upsert_user", "app_user", clerk, row | {"active": 0, "updated_at": "2026-12-01T10:00:00+07:00"})
    assert rejected(a.push([off])) == ["applied"]
    reg = a.walk_in(new_cccd())
    before = reg | {"recorded_at": "2026-12-01T09:59:00+07:00"}
    after = a.walk_in(new_cccd()) | {"recorded_at": "2026-12-01T10:01:00+07:00"}
    assert rejected(a.push([before, after])) == ["applied", "auth.user_inactive"]


def test_revocation_is_permanent_until_unrevoked(hub: Hub, capsys: pytest.CaptureFixture[str]) -> None:
    a = Desk.enroll(hub, SITE, setup=False)
    base = ["--database-url", hub.db.url]
    assert hub_main(["station", "revoke", a.station_id, *base]) == 0
    pull = hub.client.get(hub.api + "/pull", headers=a.headers)
    assert pull.status_code == 403 and pull.json()["code"] == "auth.revoked"
    code = hub.code(SITE)
    again = hub.client.post(hub.api + "/enroll", json={"code": code, "station_id": a.station_id})
    assert again.status_code == 403 and again.json()["code"] == "enroll.revoked"
    assert hub.scalar("SELECT revoked FROM station WHERE id = :i", i=a.station_id) == 1
    # The refused attempt did not use the code up.
    other = hub.client.post(hub.api + "/enroll", json={"code": code, "station_id": str(uuid.uuid4())})
    assert other.status_code == 200
    assert hub_main(["station", "unrevoke", a.station_id, *base]) == 0
    assert "old token stays refused" in capsys.readouterr().out
    assert hub.client.get(hub.api + "/pull", headers=a.headers).status_code == 401
    fresh = hub.client.post(
        hub.api + "/enroll", json={"code": hub.code(SITE), "station_id": a.station_id}
    )
    assert fresh.status_code == 200
    token = fresh.json()["token"]
    assert hub.client.get(
        hub.api + "/pull", headers={"Authorization": f"Bearer {token}"}
    ).status_code == 200


def test_lookup_is_rate_limited_and_audited(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    settings = HubSettings(database_url=url, lookup_limit=3, lookup_window_s=600)
    with run_hub(settings) as running, httpx.Client(timeout=30) as client:
        db = Database(url)
        try:
            hub = Hub(running, db, "sqlite", client)
            a = Desk.enroll(hub, SITE)
            b = Desk.enroll(hub, OTHER, setup=False)
            number = new_cccd()
            a.push([a.walk_in(number)])
            codes = [
                client.get(hub.api + f"/persons/by-id-number/{number}", headers=b.headers)
                for _ in range(5)
            ]
            assert [r.status_code for r in codes] == [200, 200, 200, 429, 429]
            assert codes[3].json()["code"] == "lookup.rate_limited"
            assert int(codes[3].headers["Retry-After"]) > 0
            # Another station has its own allowance.
            assert client.get(hub.api + f"/persons/by-id-number/{number}", headers=a.headers).status_code == 200
            with db.read() as s:
                outcomes = [
                    tuple(r)
                    for r in s.execute(text("SELECT site_code, outcome FROM lookup_audit ORDER BY id"))
                ]
            assert outcomes == [(OTHER, "found")] * 3 + [(OTHER, "limited")] * 2 + [(SITE, "found")]
        finally:
            db.dispose()


def test_lookup_refuses_what_is_not_an_id_number(hub: Hub) -> None:
    desk = Desk.enroll(hub, SITE, setup=False)
    for bad in ("abc", "0" * 13, "07518500123%C3%A9"):
        r = hub.client.get(hub.api + f"/persons/by-id-number/{bad}", headers=desk.headers)
        assert r.status_code == 422, (bad, r.text)
    assert hub.count("lookup_audit") == 0


def test_settings_from_the_environment() -> None:
    s = HubSettings.from_env(
        "sqlite://",
        {"TRAMTIEM_HUB_MAX_CONCURRENT_REQUESTS": "7", "TRAMTIEM_HUB_LOOKUP_LIMIT": "9"},
        max_body_bytes=1000,
    )
    assert (s.max_concurrent_requests, s.lookup_limit, s.max_body_bytes) == (7, 9, 1000)
    with pytest.raises(ValueError):
        HubSettings.from_env("sqlite://", {"TRAMTIEM_HUB_MAX_PULL_BYTES": "0"})
    assert HubSettings("x").lookup_limit == service.LOOKUP_LIMIT
