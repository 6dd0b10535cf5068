"""The committee dashboard of issue 10, over real HTTP on SQLite and PostgreSQL hubs.

* Drill-down province → area → site → station, inside the login's scope only (404 outside);
  the site page lists its stations with per-day figures.
* The alerts list: pending with no contact for 15 minutes, a clock off, a tally that
  disagrees with what the hub holds, a revoked station with an open gap, an old version.
* A dashboard request never reads the dose table: it is served from the counters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import event

from hub import service
from hub.dashboard import data
from station.services import clinical
from sync.client import HubClient
from sync.protocol import TallyRequest, TallyRow, tally_signature
from tests.hub import test_dashboard as base
from tests.hub.conftest import Sim
from tests.hub.test_dashboard import (
    Dash,
    add_site,
    add_user,
    login,
    push_all,
    send_tally,
    station_clock,
    vaccinate,
)
from tests.pg import PgCluster, hub_database_url


@pytest.fixture(autouse=True)
def fast_dashboard_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    from hub.dashboard import auth

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(auth, "_dummy_hash", None)


@pytest.fixture(params=["sqlite", "postgresql"])
def dash(request: pytest.FixtureRequest, tmp_path: Path, pg: PgCluster | None) -> Iterator[Dash]:
    yield from base._dash(hub_database_url(request.param, tmp_path, pg), request.param, 30)


@pytest.fixture
def browser_client() -> Iterator[Callable[[], httpx.Client]]:
    made: list[httpx.Client] = []

    def make() -> httpx.Client:
        c = httpx.Client(timeout=30, follow_redirects=False)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


def logged_in(dash: Dash, make: Callable[[], httpx.Client], user: str) -> httpx.Client:
    c = make()
    assert login(c, dash, user).status_code == 303
    return c


def sites_in(body: dict[str, object]) -> set[str]:
    return {s["code"] for p in body["provinces"] for a in p["areas"] for s in a["sites"]}  # type: ignore[index, union-attr]


def test_drill_down_stays_inside_the_login_scope(
    dash: Dash, make_station: Callable[..., Sim], browser_client: Callable[[], httpx.Client]
) -> None:
    add_site(dash, "DN-A", "Điểm tiêm A", area="BH", area_name="Biên Hòa (cũ)")
    add_site(dash, "DN-B", "Điểm tiêm B", area="LK", area_name="Long Khánh (cũ)")
    add_site(dash, "HCM-X", "Điểm tiêm X", province="79")
    add_user(dash, "tinh75", "province:75")
    add_user(dash, "bienhoa", "district:BH")
    a1 = make_station(dash.hub, "DN-A", clock=station_clock())
    a2 = make_station(dash.hub, "DN-A", clock=station_clock(), letter="B")
    for i in range(3):
        vaccinate(a1, i)
    vaccinate(a2, 10)
    send_tally(a1)
    push_all(a1, dash.clock())
    send_tally(a2)  # A2 holds its dose back

    tinh = logged_in(dash, browser_client, "tinh75")
    prov = tinh.get(dash.url + "/data.json?view=province:75").json()
    assert sites_in(prov) == {"DN-A", "DN-B"}
    area = tinh.get(dash.url + "/data.json?view=district:BH").json()
    assert sites_in(area) == {"DN-A"} and area["total"]["given"] == 4
    site = tinh.get(dash.url + "/data.json?view=site:DN-A").json()
    stations = {s["id"]: s for s in site["stations"]}
    assert (stations[a1.st.install_id]["given"], stations[a1.st.install_id]["received"]) == (3, 3)
    assert (stations[a2.st.install_id]["given"], stations[a2.st.install_id]["gap"]) == (1, 1)
    today = site["days"][-1]
    assert (today["given"], today["received"], today["gap"]) == (4, 3, 1)
    per_day = stations[a2.st.install_id]["days"]
    assert [(d["given"], d["received"]) for d in per_day] == [(1, 0)]
    # The HTML pages: links down the levels, the station table, per-day rows.
    html = tinh.get(dash.url).text
    assert 'href="/dashboard/site/DN-A"' in html and 'href="/dashboard/area/BH"' in html
    page = tinh.get(dash.url + "/site/DN-A")
    assert page.status_code == 200
    assert f'data-station="{a2.st.install_id}"' in page.text and 'id="station-days"' in page.text
    assert "Điểm tiêm A" in page.text and 'href="/dashboard/area/BH"' in page.text
    frag = tinh.get(dash.url + "/fragment?view=site:DN-A")
    assert frag.status_code == 200 and 'id="stations"' in frag.text
    # Outside the province: not found, whatever the route.
    for path in ("/site/HCM-X", "/province/79", "/data.json?view=site:HCM-X", "/fragment?view=site:HCM-X"):
        assert tinh.get(dash.url + path).status_code == 404, path
    assert tinh.get(dash.url + "/nowhere/DN-A").status_code == 404

    bh = logged_in(dash, browser_client, "bienhoa")
    assert bh.get(dash.url + "/site/DN-A").status_code == 200
    assert bh.get(dash.url + "/area/BH").status_code == 200
    for path in ("/site/DN-B", "/area/LK", "/province/75", "/data.json?view=province:75"):
        assert bh.get(dash.url + path).status_code == 404, path
    # The station API's summary and the CLI report read the same numbers.
    summ = service.site_summary(dash.hub.db, "DN-A")
    assert (summ.given, summ.received, summ.gap) == (4, 3, 1)


def _forged_tally(sim: Sim, rows: list[TallyRow]) -> None:
    """A validly signed tally whose figures the hub cannot match (a buggy or tampered station)."""
    req = TallyRequest(
        station_id=sim.st.install_id,
        generated_at=sim.st.clock().isoformat(),
        rows=rows,
        outbox_pending=0,
        signature=tally_signature(sim.token, rows),
    )
    with HubClient(sim.hub.running.url, sim.token) as c:
        c.tally(req)


def test_alerts_say_what_needs_attention(
    dash: Dash, make_station: Callable[..., Sim], browser_client: Callable[[], httpx.Client]
) -> None:
    add_site(dash, "DN-A", "Điểm tiêm A")
    add_site(dash, "DN-B", "Điểm tiêm B")
    add_user(dash, "tinh75", "province:75")
    quiet = make_station(dash.hub, "DN-A", clock=station_clock())  # pending, then silent
    lost = make_station(dash.hub, "DN-A", clock=station_clock(), letter="B")  # revoked with a gap
    skewed = make_station(dash.hub, "DN-B", clock=station_clock())  # clock 7 minutes fast
    liar = make_station(dash.hub, "DN-B", clock=station_clock(), letter="B")  # claims acks
    old = make_station(dash.hub, "DN-B", clock=station_clock(), letter="C")  # an old version
    vaccinate(quiet, 1)
    send_tally(quiet)
    vaccinate(lost, 2)
    send_tally(lost)
    service.revoke_station(dash.hub.db, lost.st.install_id, actor="it.tinh")
    vaccinate(skewed, 3)
    send_tally(skewed)
    push_all(skewed, dash.clock() + timedelta(minutes=7))
    day = dash.clock().astimezone(data.VN_TZ).date().isoformat()
    _forged_tally(
        liar,
        [TallyRow(day=day, vaccine_code="PFIZER", lot_number="X", entered=5, pending=0,
                  acknowledged=5, all_entered=5, all_pending=0, all_acknowledged=5, voids_unsent=0)],
    )
    _forged_tally(
        old, [TallyRow(day=day, vaccine_code="PFIZER", lot_number="Y", entered=1, pending=1, acknowledged=0)]
    )
    dash.clock.offset = timedelta(minutes=20)  # 20 minutes pass with no word from anyone

    c = logged_in(dash, browser_client, "tinh75")
    body = c.get(dash.url + "/data.json").json()
    got = {(a["kind"], a["station_id"]): a["value"] for a in body["alerts"]}
    want_kinds = {
        ("stale_pending", quiet.st.install_id),
        ("revoked_gap", lost.st.install_id),
        ("clock_skew", skewed.st.install_id),
        ("ack_mismatch", liar.st.install_id),
        ("old_version", old.st.install_id),
        ("stale_pending", old.st.install_id),  # its tally says one dose waits, and it is silent
        ("stale_pending", liar.st.install_id),  # it claims 5 doses the hub never got
    }
    assert set(got) == want_kinds, body["alerts"]
    assert got[("stale_pending", quiet.st.install_id)] == 1
    assert got[("revoked_gap", lost.st.install_id)] == 1
    assert got[("ack_mismatch", liar.st.install_id)] == 5
    assert 6 * 60_000 < got[("clock_skew", skewed.st.install_id)] < 8 * 60_000
    # Revoked-with-gap first: the most urgent kinds lead the list.
    assert body["alerts"][0]["kind"] == "revoked_gap"
    html = c.get(dash.url).text
    kinds = re.findall(r'<li class="alert-[a-z_]+" data-kind="([a-z_]+)"', html)
    assert sorted(kinds) == sorted(k for k, _ in want_kinds)
    assert "mất liên lạc" in html and "đã thu hồi" in html
    en = c.get(dash.url + "?lang=en").text
    assert "no contact for 20 min" in en and "(revoked): 1 doses never reached the hub" in en
    # The quiet station comes back and sends everything: its alert goes.
    push_all(quiet, dash.clock())
    body = c.get(dash.url + "/data.json").json()
    assert ("stale_pending", quiet.st.install_id) not in {
        (a["kind"], a["station_id"]) for a in body["alerts"]
    }


@pytest.fixture
def statements(dash: Dash) -> Iterator[list[str]]:
    """Every SQL statement the hub process runs meanwhile (both of its engines)."""
    seen: list[str] = []
    db = dash.hub.running.app.state.db
    engines = {id(e): e for e in (db.read_engine, db.write_engine)}.values()

    def record(_conn: object, _cursor: object, statement: str, *_a: object) -> None:
        seen.append(statement)

    for e in engines:
        event.listen(e, "before_cursor_execute", record)
    yield seen
    for e in engines:
        event.remove(e, "before_cursor_execute", record)


def test_a_dashboard_request_never_reads_the_doses(
    dash: Dash,
    make_station: Callable[..., Sim],
    browser_client: Callable[[], httpx.Client],
    statements: list[str],
) -> None:
    add_site(dash, "DN-A", "Điểm tiêm A", area="BH")
    add_user(dash, "tinh75", "province:75")
    sim = make_station(dash.hub, "DN-A", clock=station_clock())
    d = vaccinate(sim, 1)
    vaccinate(sim, 2)
    clinical.void_dose(sim.st, sim.staff.supervisor, d, "nhập nhầm")
    send_tally(sim)
    push_all(sim, dash.clock())
    c = logged_in(dash, browser_client, "tinh75")
    statements.clear()
    for path in ("", "/fragment", "/data.json", "/site/DN-A", "/area/BH", "/province/75",
                 "/data.json?view=site:DN-A"):
        assert c.get(dash.url + path).status_code == 200, path
    assert statements, "the listener saw nothing"
    touching = [q for q in statements if re.search(r"\b(FROM|JOIN)\s+dose\b", q, re.I)]
    assert touching == []
    site = c.get(dash.url + "/data.json").json()["provinces"][0]["areas"][0]["sites"][0]
    assert (site["given"], site["received"], site["gap"]) == (1, 1, 0)
