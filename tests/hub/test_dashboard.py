"""The committee dashboard over real HTTP (SQLite and PostgreSQL), and end to end in Chromium.

Unit level: pages need the dashboard login (not a station token, and the
dashboard cookie opens no station endpoint); the login form is CSRF-guarded;
wrong passwords lock the account; a user sees only their province or area;
every figure equals what the database holds; no personal data on the page.

End to end (headless Debian Chromium through Playwright, never a downloaded
browser): a real station records doses and sends only its signed tally, the
page shows a gap equal to its pending doses; the real SyncEngine then syncs and
the page, refreshing itself, reads a gap of zero. Screenshots are kept in
docs/screenshots/. In CI the browser test must run: it fails if Chromium is missing.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hub import service
from hub.app import HubSettings
from hub.cli import main as hub_main
from hub.dashboard import auth, view
from hub.db import Database
from hub.ingest import utc_now
from hub.server import run_hub
from station.dto import DoseInput, PastDoseInput
from station.services import clinical, people
from sync.client import HubClient
from sync.engine import SyncEngine, SyncSettings, build_tally_request
from tests.conftest import FakeClock
from tests.hub.conftest import Hub, Sim
from tests.pg import PgCluster, hub_database_url, in_ci
from tests.station.helpers import ELIGIBLE_4355, person

PASSWORD = "mat-khau-dashboard-1"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class OffsetClock:
    """The real clock, movable forward (lockout expiry) without sleeping."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utc_now() + self.offset


@dataclass
class Dash:
    hub: Hub
    clock: OffsetClock

    @property
    def url(self) -> str:
        return self.hub.running.url + "/dashboard"


@pytest.fixture(autouse=True)
def fast_dashboard_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id with cheap parameters (like the station's fixture)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(
        auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )
    monkeypatch.setattr(auth, "_dummy_hash", None)


def _dash(url: str, backend: str, refresh_s: int) -> Iterator[Dash]:
    clock = OffsetClock()
    settings = HubSettings(database_url=url, clock=clock, dashboard_refresh_s=refresh_s)
    with run_hub(settings) as running, httpx.Client(timeout=30) as client:
        db = Database(url)
        try:
            yield Dash(Hub(running, db, backend, client), clock)
        finally:
            db.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def dash(request: pytest.FixtureRequest, tmp_path: Path, pg: PgCluster | None) -> Iterator[Dash]:
    yield from _dash(hub_database_url(request.param, tmp_path, pg), request.param, 30)


# ---- helpers -------------------------------------------------------------------------


def add_site(
    d: Dash,
    code: str,
    name: str,
    province: str = "75",
    area: str | None = None,
    area_name: str | None = None,
) -> None:
    service.add_site(d.hub.db, code, name, province, now=utc_now())
    if area:
        from hub.dashboard import data

        data.assign_area(d.hub.db, [code], area, area_name)


def allocate(d: Dash, level: str, code: str, doses: int) -> None:
    """Through the CLI, as IT staff would: tramtiem-hub allocation set --site CODE --doses N."""
    argv = ["allocation", "set", f"--{level}", code, "--doses", str(doses)]
    assert hub_main([*argv, "--database-url", d.hub.db.url]) == 0


def add_user(d: Dash, username: str, scope: str) -> None:
    auth.add_user(d.hub.db, username, PASSWORD, auth.parse_scope(scope), now=utc_now())


def login_form(client: httpx.Client, d: Dash) -> str:
    r = client.get(d.url + "/login")
    assert r.status_code == 200
    m = re.search(r'name="csrf" value="([^"]+)"', r.text)
    assert m
    return m.group(1)


def login(client: httpx.Client, d: Dash, username: str, password: str = PASSWORD) -> httpx.Response:
    csrf = login_form(client, d)
    return client.post(
        d.url + "/login", data={"csrf": csrf, "username": username, "password": password}
    )


@pytest.fixture
def browser_client() -> Iterator[Callable[[], httpx.Client]]:
    """Fresh cookie jars (one per 'browser'); closed at the end."""
    made: list[httpx.Client] = []

    def make() -> httpx.Client:
        c = httpx.Client(timeout=30, follow_redirects=False)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


GIVEN_NAMES = ("An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Khánh", "Lan", "Minh", "Nam")


def person_name(i: int) -> str:
    """A distinct, valid name per number (names take no digits); "Thử" marks test people."""
    return f"Thử {GIVEN_NAMES[(i // 10) % 10]} {GIVEN_NAMES[i % 10]}"


def vaccinate(sim: Sim, i: int) -> str:
    """A walk-in, screened and vaccinated at this station; returns the dose id."""
    res = people.register_walk_in(
        sim.st,
        sim.staff.clerk,
        person(id_number=f"075185{i:06d}", phone=f"0912{i:06d}", full_name=person_name(i)),
    )
    clinical.record_screening(
        sim.st, sim.staff.screener, res.person.id, answers=ELIGIBLE_4355, outcome="eligible"
    )
    # Back-dated station clocks (earlier days for the chart) predate this build's date:
    # the clerk's confirmation of that warning is part of the real flow.
    dose = DoseInput(res.person.id, sim.lot_id, confirm=frozenset({"clock.before_build"}))
    return clinical.record_dose(sim.st, sim.staff.clerk, dose).id


def send_tally(sim: Sim) -> dict[str, Any]:
    """What the engine sends first in every cycle: the station's signed tally (counts only)."""
    req = build_tally_request(sim.st, sim.token)
    with HubClient(sim.hub.running.url, sim.token) as c:
        c.tally(req)
    return {
        "pending": sum(r.pending for r in req.rows),
        "entered": sum(r.entered for r in req.rows),
        "ops": req.outbox_pending,
    }


def push_all(sim: Sim, now: datetime) -> None:
    """Push every op not yet pushed, stamped with ``now`` (the skew the hub measures)."""
    ops = sim.outbox()
    r = sim.post_push(ops, sent_at=now.isoformat())
    assert r.status_code == 200, r.text
    done = {res["op_id"] for res in r.json()["results"]}
    assert len(done) == len(ops)
    sim.pushed_upto = ops[-1]["op_seq"] if ops else sim.pushed_upto


def cell(html: str, site: str, key: str) -> str:
    """The text of one table cell (tags stripped) of a site row."""
    row = re.search(rf'<tr class="site" data-site="{re.escape(site)}">(.*?)</tr>', html, re.S)
    assert row, f"no row for {site}"
    m = re.search(rf'<td data-k="{key}"[^>]*>(.*?)</td>', row.group(1), re.S)
    assert m
    return re.sub(r"<[^>]+>", " ", m.group(1)).split()[0] if m.group(1).strip() else ""


def station_clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


# ---- access --------------------------------------------------------------------------


def test_pages_require_the_dashboard_login(
    dash: Dash, make_station: Callable[..., Sim], browser_client: Callable[[], httpx.Client]
) -> None:
    add_site(dash, "DN-A", "Điểm tiêm A")
    add_user(dash, "tinh75", "province:75")
    sim = make_station(dash.hub, "DN-A", clock=station_clock())
    c = browser_client()
    r = c.get(dash.url)
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/login"
    assert c.get(dash.url + "?lang=en").headers["location"] == "/dashboard/login?lang=en"
    assert c.get(dash.url + "/fragment").status_code == 401
    assert c.get(dash.url + "/data.json").status_code == 401
    # A station's bearer token is no dashboard credential.
    assert c.get(dash.url + "/data.json", headers=sim.headers).status_code == 401
    # A forged or tampered session cookie is ignored.
    c.cookies.set("tt_dash", "abc.def", domain="127.0.0.1", path="/dashboard")
    assert c.get(dash.url).status_code == 303
    c.cookies.clear()

    r = login(c, dash, "tinh75")
    assert r.status_code == 303 and r.headers["location"] == "/dashboard"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/dashboard" in cookie
    page = c.get(dash.url)
    assert page.status_code == 200 and 'data-site="DN-A"' in page.text
    assert "'unsafe-inline'" not in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    # The session value is stored hashed: the cookie's id is not in the database.
    raw = c.cookies["tt_dash"].rsplit(".", 1)[0]
    assert dash.hub.scalar("SELECT count(*) FROM dashboard_session WHERE id_hash = :h", h=raw) == 0
    # The dashboard cookie opens no station endpoint (the station API is unaffected).
    for path in ("/reviews", "/sites/DN-A/summary"):
        r = c.get(dash.hub.api + path, headers={"Cookie": f"tt_dash={c.cookies['tt_dash']}"})
        assert r.status_code == 401 and r.json()["code"] == "auth.missing_token"
    # The station API keeps working for the station, and the dashboard is not in its schema.
    assert c.get(dash.hub.api + "/reviews", headers=sim.headers).status_code == 200
    schema = c.get(dash.hub.running.url + "/openapi.json").json()
    assert not [p for p in schema["paths"] if p.startswith("/dashboard")]


def test_login_form_is_csrf_guarded(dash: Dash, browser_client: Callable[[], httpx.Client]) -> None:
    add_user(dash, "tinh75", "province:75")
    c = browser_client()
    csrf = login_form(c, dash)
    good = {"csrf": csrf, "username": "tinh75", "password": PASSWORD}
    # A foreign page posting the form: another Origin.
    r = c.post(dash.url + "/login", data=good, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "tt_dash=" not in r.headers.get("set-cookie", "")
    # Without the form cookie (a cross-site post carries no SameSite=Strict cookie).
    other = browser_client()
    r = other.post(dash.url + "/login", data=good)
    assert r.status_code == 403
    # A token from another form.
    r = c.post(dash.url + "/login", data=good | {"csrf": "0" * 64})
    assert r.status_code == 403
    # Each refusal served a fresh form (and form cookie): post that one.
    r = c.post(dash.url + "/login", data=good | {"csrf": login_form(c, dash)})
    assert r.status_code == 303
    # Logout needs its token too.
    assert c.post(dash.url + "/logout", data={"csrf": "x"}).status_code == 403
    assert c.get(dash.url).status_code == 200
    page = c.get(dash.url).text
    token = re.search(
        r'action="/dashboard/logout"[^>]*>\s*<input type="hidden" name="csrf" value="([^"]+)"', page
    )
    assert token
    stolen = c.cookies["tt_dash"]
    r = c.post(dash.url + "/logout", data={"csrf": token.group(1)})
    assert r.status_code == 303 and r.headers["location"] == "/dashboard/login"
    # The session is gone at the hub: replaying the old cookie does not open the page.
    replay = browser_client()
    replay.cookies.set("tt_dash", stolen, domain="127.0.0.1", path="/dashboard")
    assert replay.get(dash.url).status_code == 303
    assert dash.hub.count("dashboard_session") == 0


def test_bad_password_and_lockout(dash: Dash, browser_client: Callable[[], httpx.Client]) -> None:
    add_user(dash, "huyen01", "district:BH")
    c = browser_client()
    r = login(c, dash, "huyen01", "sai-mat-khau")
    assert r.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu." in r.text
    assert "tt_dash=" not in r.headers.get("set-cookie", "")
    # An unknown user gets the very same answer.
    r = login(c, dash, "khong-co", "sai-mat-khau")
    assert r.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu." in r.text
    r = login(browser_client(), dash, "huyen01", "wrong\x00password")
    assert r.status_code == 401
    for _ in range(auth.MAX_FAILURES - 3):  # two failures so far (the NUL one counts)
        assert login(c, dash, "huyen01", "sai-mat-khau").status_code == 401
    r = login(c, dash, "huyen01", "sai-mat-khau")
    assert r.status_code == 429 and "tạm khoá" in r.text
    # Locked: even the right password is refused, in English too.
    csrf = login_form(c, dash)
    r = c.post(
        dash.url + "/login?lang=en",
        data={"csrf": csrf, "username": "huyen01", "password": PASSWORD},
    )
    assert r.status_code == 429 and "locked" in r.text
    def locked_until() -> object:
        user = next(u for u in auth.list_users(dash.hub.db) if u["username"] == "huyen01")
        return user["locked_until"]

    assert locked_until()
    # After the lock time the right password works and clears the lock.
    dash.clock.offset = timedelta(minutes=auth.LOCK_MINUTES + 1)
    assert login(c, dash, "huyen01").status_code == 303
    assert locked_until() is None and dash.hub.count("login_guard") == 1  # khong-co's count


def test_unknown_users_lock_like_real_ones(
    dash: Dash, browser_client: Callable[[], httpx.Client]
) -> None:
    """No user enumeration: an unknown name gets the same answers, the same lock, in order."""
    add_user(dash, "huyen01", "district:BH")
    answers: dict[str, list[int]] = {}
    for name in ("huyen01", "khong-co", "x\x00y", "a" * 70):
        c = browser_client()
        answers[name] = [
            login(c, dash, name, "sai-mat-khau").status_code for _ in range(auth.MAX_FAILURES + 1)
        ]
    expected = [401] * (auth.MAX_FAILURES - 1) + [429, 429]
    assert answers == {name: expected for name in answers}, answers
    # The guard stores no username, only its HMAC.
    with dash.hub.db.read() as s:
        keys = [str(k) for k in s.execute(text("SELECT key FROM login_guard")).scalars()]
    assert len(keys) == 4 and not any("huyen" in k or "khong" in k for k in keys)
    # An administrator can lift a lock at once.
    auth.unlock_user(dash.hub.db, "huyen01")
    assert login(browser_client(), dash, "huyen01").status_code == 303


@pytest.mark.parametrize("dash", ["postgresql"], indirect=True)
@pytest.mark.slow  # seconds each; the fast lane leaves it out
def test_lockout_holds_under_concurrent_guesses(
    dash: Dash, monkeypatch: pytest.MonkeyPatch
) -> None:
    """12 wrong guesses at once, 10 trials: exactly MAX_FAILURES password checks each.

    The count is taken before a password is checked, in a transaction holding the
    guard row: no guess can read a count that another has not yet written.
    """
    checks = [0]
    real_verify = auth._verify

    def counting_verify(stored: str, password: str) -> bool:
        checks[0] += 1
        return real_verify(stored, password)

    # Observed, not replaced: the real argon2 checks still run (an unknown user's
    # dummy check goes through _verify too).
    monkeypatch.setattr(auth, "_verify", counting_verify)
    for trial in range(10):
        name = f"huyen{trial:02d}" if trial % 2 else f"khong-co-{trial}"  # known and unknown
        if trial % 2:
            add_user(dash, name, "district:BH")
        clients = [httpx.Client(timeout=30) for _ in range(12)]
        forms = [login_form(c, dash) for c in clients]
        checks[0] = 0
        barrier = threading.Barrier(12)
        codes: list[int] = []

        def guess(
            client: httpx.Client, csrf: str, name: str, barrier: threading.Barrier, codes: list[int]
        ) -> None:
            barrier.wait(timeout=30)
            r = client.post(
                dash.url + "/login",
                data={"csrf": csrf, "username": name, "password": "sai-mat-khau"},
            )
            codes.append(r.status_code)

        threads = [
            threading.Thread(target=guess, args=(clients[i], forms[i], name, barrier, codes))
            for i in range(12)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        for c in clients:
            c.close()
        assert checks[0] == auth.MAX_FAILURES, (trial, checks[0])
        assert sorted(codes) == [401] * (auth.MAX_FAILURES - 1) + [429] * (13 - auth.MAX_FAILURES)
        # Locked now: the right password is refused too.
        if trial % 2:
            assert login(httpx.Client(timeout=30), dash, name).status_code == 429


def test_disabled_user_loses_the_session_at_once(
    dash: Dash, browser_client: Callable[[], httpx.Client]
) -> None:
    add_user(dash, "tinh75", "province:75")
    c = browser_client()
    assert login(c, dash, "tinh75").status_code == 303
    assert c.get(dash.url).status_code == 200
    auth.disable_user(dash.hub.db, "tinh75")
    assert c.get(dash.url).status_code == 303
    assert login(c, dash, "tinh75").status_code == 401


# ---- scope and numbers ---------------------------------------------------------------


def test_scope_filtering(
    dash: Dash, make_station: Callable[..., Sim], browser_client: Callable[[], httpx.Client]
) -> None:
    add_site(dash, "DN-BH-01", "Trường THCS Biên Hòa", area="BH", area_name="Biên Hòa (cũ)")
    add_site(dash, "DN-LK-01", "Trạm y tế Long Khánh", area="LK", area_name="Long Khánh (cũ)")
    add_site(dash, "HCM-01", "Nhà thi đấu Phú Thọ", province="79", area="26740")
    add_user(dash, "tinh75", "province:75")
    add_user(dash, "bienhoa", "district:BH")
    add_user(dash, "hcm", "province:79")
    for code in ("DN-BH-01", "DN-LK-01", "HCM-01"):
        sim = make_station(dash.hub, code, clock=station_clock())
        vaccinate(sim, 1)
        send_tally(sim)
    seen: dict[str, set[str]] = {}
    for user in ("tinh75", "bienhoa", "hcm"):
        c = browser_client()
        assert login(c, dash, user).status_code == 303
        body = c.get(dash.url + "/data.json").json()
        seen[user] = {s["code"] for p in body["provinces"] for a in p["areas"] for s in a["sites"]}
        html = c.get(dash.url).text
        for code in ("DN-BH-01", "DN-LK-01", "HCM-01"):
            assert (code in html) == (code in seen[user]), (user, code)
        if user == "bienhoa":
            assert body["scope"] == "district:BH" and body["total"]["given"] == 1
            assert "Biên Hòa (cũ)" in html
        if user == "hcm":
            # A 2025 ward code names itself from the bundled admin units.
            assert body["provinces"][0]["areas"][0]["name"] == "Phường Sài Gòn"
    assert seen == {
        "tinh75": {"DN-BH-01", "DN-LK-01"},
        "bienhoa": {"DN-BH-01"},
        "hcm": {"HCM-01"},
    }


def _db_counts(db: Database, site: str) -> dict[str, int]:
    with db.read() as s:
        received = s.execute(
            text(
                "SELECT count(*) FROM dose WHERE site_code = :s AND voided = 0 AND source = 'site'"
            ),
            {"s": site},
        ).scalar_one()
        rows = s.execute(
            text(
                "SELECT t.tally FROM station_tally t JOIN station st ON st.id = t.station_id "
                "WHERE st.site_code = :s AND st.revoked = 0"
            ),
            {"s": site},
        ).scalars()
        entered = 0
        for raw in rows:
            body = json.loads(raw) if isinstance(raw, str) else raw
            entered += sum(r["entered"] for r in body["rows"])
    return {"received": int(received), "entered": entered}


def test_numbers_equal_the_database(
    dash: Dash, make_station: Callable[..., Sim], browser_client: Callable[[], httpx.Client]
) -> None:
    add_site(dash, "DN-A", "Điểm tiêm A", area="BH", area_name="Biên Hòa (cũ)")
    add_site(dash, "DN-B", "Điểm tiêm B", area="BH", area_name="Biên Hòa (cũ)")
    add_user(dash, "tinh75", "province:75")
    now = dash.clock()
    # Site A: two stations. A1 syncs everything (one dose voided after), A2 holds 3 back.
    a1 = make_station(dash.hub, "DN-A", clock=station_clock())
    a2 = make_station(dash.hub, "DN-A", clock=station_clock(), letter="B")
    doses = [vaccinate(a1, i) for i in range(4)]
    clinical.void_dose(a1.st, a1.staff.supervisor, doses[0], "nhập nhầm")
    send_tally(a1)
    push_all(a1, now)
    for i in range(10, 13):
        vaccinate(a2, i)
    held = send_tally(a2)
    assert held["pending"] == 3
    # Site B: synced, and its clock runs 7 minutes fast.
    b = make_station(dash.hub, "DN-B", clock=station_clock())
    for i in range(20, 22):
        vaccinate(b, i)
    send_tally(b)
    push_all(b, now + timedelta(minutes=7))
    for level, code, n in (("site", "DN-A", 20), ("site", "DN-B", 10), ("province", "75", 40)):
        allocate(dash, level, code, n)

    c = browser_client()
    assert login(c, dash, "tinh75").status_code == 303
    body = c.get(dash.url + "/data.json").json()
    sites = {s["code"]: s for p in body["provinces"] for a in p["areas"] for s in a["sites"]}
    db_a, db_b = _db_counts(dash.hub.db, "DN-A"), _db_counts(dash.hub.db, "DN-B")
    assert db_a == {"received": 3, "entered": 6} and db_b == {"received": 2, "entered": 2}
    a, bb = sites["DN-A"], sites["DN-B"]
    assert (a["given"], a["received"], a["gap"], a["pending_doses"]) == (6, 3, 3, 3)
    assert (bb["given"], bb["received"], bb["gap"], bb["pending_doses"]) == (2, 2, 0, 0)
    assert a["stations"] == 2 and a["tallied_stations"] == 2
    assert a["pending_ops"] == held["ops"] and bb["pending_ops"] == 0
    assert a["oldest_pending_at"] is not None and bb["oldest_pending_at"] is None
    # The station API's own summary agrees (no history doses here).
    for code, row in (("DN-A", a), ("DN-B", bb)):
        summ = service.site_summary(dash.hub.db, code)
        assert (summ.given, summ.received, summ.gap) == (row["given"], row["received"], row["gap"])
    # Clock skew: B measured at about +7 min and flagged; A is not.
    assert bb["clock_skew_flag"] and 6 * 60_000 < bb["clock_skew_ms"] < 8 * 60_000
    assert not a["clock_skew_flag"]
    # Allocation against administered: the directive's percentage, true and as received.
    assert a["allocated"] == 20 and a["given_pct_allocated"] == pytest.approx(30.0)
    assert a["received_pct_allocated"] == pytest.approx(15.0)
    prov = body["provinces"][0]
    assert prov["allocated"] == 40 and prov["given"] == 8 and prov["received"] == 5
    assert prov["given_pct_allocated"] == pytest.approx(20.0)
    area = prov["areas"][0]
    assert area["allocated"] == 30 and area["gap"] == 3  # no own figure: the sum of its sites
    assert body["total"]["gap"] == 3
    # Doses per day: today's bars.
    today = body["days"][-1]
    assert today["day"] == now.astimezone(view.VN_TZ).date().isoformat()
    assert (today["given"], today["received"]) == (8, 5)

    # The HTML shows the same numbers, formatted for vi-VN.
    html = c.get(dash.url).text
    assert cell(html, "DN-A", "given") == "6" and cell(html, "DN-A", "gap") == "3"
    assert cell(html, "DN-A", "received") == "3" and cell(html, "DN-A", "pending") == "3"
    assert cell(html, "DN-B", "gap") == "0" and "⚠" in cell(html, "DN-B", "skew") + html
    assert cell(html, "DN-A", "pct") == "30,00%"
    assert 'id="total-pct">20,00%<' in html
    assert f'data-day="{today["day"]}" data-series="given" data-value="8"' in html
    en = c.get(dash.url + "?lang=en").text
    assert "Given (sites report)" in en and cell(en, "DN-A", "pct") == "30.00%"
    # Counts only: no name, ID number or phone of anyone vaccinated.
    for text_ in (html, en, json.dumps(body, ensure_ascii=False)):
        assert "Thử" not in text_ and "075185" not in text_ and "0912" not in text_

    # A2 syncs: the gap closes and "pending" follows at once (no new tally needed).
    push_all(a2, dash.clock())
    a = {
        s["code"]: s
        for p in c.get(dash.url + "/data.json").json()["provinces"]
        for ar in p["areas"]
        for s in ar["sites"]
    }["DN-A"]
    assert (a["given"], a["received"], a["gap"], a["pending_doses"], a["pending_ops"]) == (
        6,
        6,
        0,
        0,
        0,
    )
    assert a["oldest_pending_at"] is None


def test_history_doses_and_revoked_stations_do_not_distort_the_gap(
    dash: Dash, make_station: Callable[..., Sim], browser_client: Callable[[], httpx.Client]
) -> None:
    """A dose copied from a paper certificate is not 'given here'; it must not open a gap."""
    add_site(dash, "DN-A", "Điểm tiêm A")
    add_user(dash, "tinh75", "province:75")
    sim = make_station(dash.hub, "DN-A", clock=station_clock())
    vaccinate(sim, 1)
    pid = people.register_walk_in(
        sim.st, sim.staff.clerk, person(id_number="075185999999")
    ).person.id
    clinical.record_past_dose(
        sim.st,
        sim.staff.clerk,
        PastDoseInput(pid, "PFIZER", 1, "primary", "01/09/2021", lot_number="FA1234"),
    )
    send_tally(sim)
    push_all(sim, dash.clock())
    assert dash.hub.scalar("SELECT count(*) FROM dose WHERE site_code = 'DN-A'") == 2
    c = browser_client()
    assert login(c, dash, "tinh75").status_code == 303
    site = c.get(dash.url + "/data.json").json()["provinces"][0]["areas"][0]["sites"][0]
    assert (site["given"], site["received"], site["gap"]) == (1, 1, 0)


# ---- CLI and formats -----------------------------------------------------------------


def test_cli_users_allocations_areas(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    url = f"sqlite:///{tmp_path / 'hub.db'}"
    base = ["--database-url", url]
    assert hub_main(["site", "add", "DN-A", "--name", "Điểm A", "--province", "75", *base]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert (
        hub_main(
            ["dashboard-user", "add", "Tinh75", "--scope", "province:75", "--password-stdin", *base]
        )
        == 0
    )
    monkeypatch.setattr("sys.stdin", io.StringIO("ngan\n"))
    assert (
        hub_main(
            ["dashboard-user", "add", "x2", "--scope", "province:75", "--password-stdin", *base]
        )
        == 1
    )
    assert "dashboard.weak_password" in capsys.readouterr().err
    assert (
        hub_main(["dashboard-user", "add", "x3", "--scope", "commune:1", "--password-stdin", *base])
        == 1
    )
    assert "dashboard.bad_scope" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert (
        hub_main(
            ["dashboard-user", "add", "tinh75", "--scope", "province:75", "--password-stdin", *base]
        )
        == 1
    )
    assert "dashboard.user_exists" in capsys.readouterr().err
    assert hub_main(["area", "assign", "26041", "DN-A", *base]) == 0
    assert hub_main(["allocation", "set", "--site", "dn-a", "--doses", "1800000", *base]) == 0
    assert hub_main(["allocation", "set", "--site", "NOPE", "--doses", "1", *base]) == 1
    assert hub_main(["dashboard-user", "list", "--json", *base]) == 0
    out = capsys.readouterr().out
    users = json.loads(out[out.index("[") :])
    assert users == [
        {
            "username": "tinh75",
            "scope": "province:75",
            "active": True,
            "locked_until": None,
            "last_login_at": None,
        }
    ]
    db = Database(url)
    try:
        with db.read() as s:
            assert s.execute(text("SELECT area_code FROM site")).scalar() == "26041"
            assert s.execute(text("SELECT doses FROM allocation")).scalar() == 1_800_000
            h = s.execute(text("SELECT password_hash FROM dashboard_user")).scalar()
        assert str(h).startswith("$argon2id$") and PASSWORD not in str(h)
        assert auth.login(db, "tinh75", PASSWORD, now=utc_now()) == ("ok", 1)
    finally:
        db.dispose()


def test_vi_and_en_number_formats() -> None:
    assert view.fmt_int(1_000_000, "vi") == "1.000.000"
    assert view.fmt_int(1_000_000, "en") == "1,000,000"
    assert view.fmt_int(-4, "vi") == "−4"
    # The directive's figure: 980,000 of nearly 1.8 million allocated.
    assert view.fmt_pct(100 * 981_900 / 1_800_000, "vi") == "54,55%"
    assert view.fmt_pct(1234.5, "vi") == "1.234,50%" and view.fmt_pct(1234.5, "en") == "1,234.50%"
    assert view.fmt_age(3 * 3600 + 5 * 60, "vi") == "3 giờ 5 phút"
    assert view.fmt_age(3 * 3600 + 5 * 60, "en") == "3 h 5 min"
    assert view.fmt_skew(7 * 60_000, "vi") == "+7 phút"
    t = datetime(2026, 12, 1, 2, 5, tzinfo=UTC)
    assert (
        view.fmt_time(t, "vi") == "09:05 01/12/2026"
        and view.fmt_time(t, "en") == "2026-12-01 09:05"
    )


# ---- end to end in Chromium ----------------------------------------------------------


def _chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if in_ci():
        pytest.fail("CI must run the dashboard browser test: install Debian's chromium")
    pytest.skip("/usr/bin/chromium not installed (apt-get install chromium)")


@pytest.fixture
def e2e(tmp_path: Path) -> Iterator[Dash]:
    # The page refreshes itself every second here (30 s by default), so the test waits little.
    yield from _dash(f"sqlite:///{tmp_path / 'hub.db'}", "sqlite", 1)


@pytest.mark.slow  # seconds each; the fast lane leaves it out
def test_e2e_gap_shows_pending_doses_then_zero_after_sync(
    e2e: Dash, make_station: Callable[..., Sim]
) -> None:
    _chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    d = e2e
    now = d.clock()
    add_site(d, "DN-BH-01", "Trường THCS Trấn Biên", area="26041")
    add_site(d, "DN-BH-02", "Trạm Y tế phường Tam Hiệp", area="26041")
    add_site(d, "DN-LK-01", "Nhà văn hoá Long Khánh", area="LK", area_name="Long Khánh (huyện cũ)")
    add_user(d, "tinh75", "province:75")
    # Background: two sites that synced their days of work (one laptop's clock runs fast).
    n = 100
    for code, per_day, skew in (("DN-BH-02", (3, 5, 4, 6, 2), 0), ("DN-LK-01", (2, 0, 3, 1, 4), 9)):
        clock = FakeClock(now.replace(microsecond=0) - timedelta(days=len(per_day)))
        sim = make_station(d.hub, code, clock=clock)
        for count in per_day:
            clock.advance(days=1)
            for _ in range(count):
                n += 1
                vaccinate(sim, n)
        send_tally(sim)
        push_all(sim, d.clock() + timedelta(minutes=skew))
    for level, code, doses in (
        ("site", "DN-BH-01", 20),
        ("site", "DN-BH-02", 40),
        ("site", "DN-LK-01", 30),
        ("province", "75", 110),
    ):
        allocate(d, level, code, doses)

    # The station under test records 4 doses and sends only its tally: records held back.
    st = make_station(d.hub, "DN-BH-01", clock=station_clock())
    for i in range(4):
        vaccinate(st, i)
    held = send_tally(st)
    assert (
        held["pending"] == 4
        and d.hub.scalar("SELECT count(*) FROM dose WHERE site_code = 'DN-BH-01'") == 0
    )

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, timeout=30_000
        )
        try:
            page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="vi-VN")
            page.set_default_timeout(15_000)
            # Only the hub on 127.0.0.1: anything else (a CDN) would be a bug, so refuse it.
            outside: list[str] = []

            def guard(route: Any) -> None:
                if route.request.url.startswith(d.hub.running.url):
                    route.continue_()
                else:
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", guard)
            page.goto(d.url)
            assert page.url.endswith("/dashboard/login")
            page.fill("#username", "tinh75")
            page.fill("#password", "sai-mat-khau-roi")
            page.click("button[type=submit]")
            expect(page.locator("#login-error")).to_contain_text("Sai tên đăng nhập")
            page.fill("#username", "tinh75")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r".*/dashboard$"))

            row = page.locator('tr.site[data-site="DN-BH-01"]')
            expect(row.locator('td[data-k="gap"]')).to_have_text("4")
            expect(row.locator('td[data-k="pending"]')).to_contain_text("4")
            expect(row.locator('td[data-k="received"]')).to_have_text("0")
            expect(page.locator("#total-gap")).to_have_text("4")
            # Wait for one self-refresh to go through before the picture (no stale marker).
            expect(page.locator("#updated")).not_to_have_text(
                page.locator("#updated").inner_text(), timeout=10_000
            )
            page.screenshot(path=str(SCREENSHOTS / "hub-dashboard.png"), full_page=True)

            page.goto(d.url + "?lang=en")
            expect(page.locator('tr.site[data-site="DN-BH-01"] td[data-k="gap"]')).to_have_text("4")
            expect(page.locator("h1")).to_contain_text("Vaccination monitor")
            page.screenshot(path=str(SCREENSHOTS / "hub-dashboard.en.png"), full_page=True)

            page.goto(d.url)
            gap = page.locator('tr.site[data-site="DN-BH-01"] td[data-k="gap"]')
            expect(gap).to_have_text("4")
            # Now the real sync engine runs a full cycle: tally, push, pull.
            engine = SyncEngine(
                st.st,
                lambda: HubClient(
                    d.hub.running.url, st.token, connect_timeout_s=2.0, read_timeout_s=10.0
                ),
                settings=SyncSettings(seed=1),
            )
            report = engine.run_once()
            assert report.ok and report.pending_left == 0, report.error
            # No reload: the page refreshes itself and the gap reads zero.
            expect(gap).to_have_text("0", timeout=20_000)
            expect(
                page.locator('tr.site[data-site="DN-BH-01"] td[data-k="received"]')
            ).to_have_text("4")
            expect(
                page.locator('tr.site[data-site="DN-BH-01"] td[data-k="pending"]')
            ).to_contain_text("0")
            expect(page.locator("#total-gap")).to_have_text("0")
            assert page.url.endswith("/dashboard")
            # Drill down to the site, at a committee laptop's 1366×768: its stations, per day.
            page.set_viewport_size({"width": 1366, "height": 768})
            page.click('tr.site[data-site="DN-BH-01"] td.name a')
            page.wait_for_url(re.compile(r".*/dashboard/site/DN-BH-01$"))
            row = page.locator(f'tr.station[data-station="{st.st.install_id}"]')
            expect(row.locator('td[data-k="received"]')).to_have_text("4")
            expect(row.locator('td[data-k="gap"]')).to_have_text("0")
            page.screenshot(path=str(SCREENSHOTS / "hub-dashboard-site.png"), full_page=True)
            # Nothing on the page is wider than the window.
            assert page.evaluate("document.documentElement.scrollWidth") <= 1366
            assert outside == []
        finally:
            browser.close()
    assert shutil.which(str(CHROMIUM))
    assert os.path.getsize(SCREENSHOTS / "hub-dashboard.png") > 10_000
