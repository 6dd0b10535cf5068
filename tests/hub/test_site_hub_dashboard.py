"""The site hub's own dashboard page (issue 14): the site's figures for its supervisor with
no Internet, over real HTTP, and in Debian Chromium through Playwright.

A real province hub, a site hub relaying to it through a line the test cuts, two real
desks. With the line down the supervisor signs in at the **site hub** (a ``site:CODE``
login made there) and reads today's doses per desk and vaccine, the people registered,
what waits to reach the province (per desk) and when the province last answered, with
the page saying the figures are provisional. Once the line is back the waiting count
falls to zero. A province hub's page has no such section.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.dashboard import auth
from hub.ingest import utc_now
from station.dto import DoseInput
from station.services import clinical, people
from tests.e2e.site_lan import Lan, run_site_hub, site_lan, wait_until
from tests.e2e.test_site_hub import start
from tests.hub.test_dashboard import CHROMIUM, CHROMIUM_ARGS, SCREENSHOTS, _chromium_or_skip
from tests.station.helpers import person, screen_eligible

PASSWORD = "mat-khau-giam-sat-1"


@pytest.fixture(autouse=True)
def fast_dashboard_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id with cheap parameters (as tests/hub/test_dashboard.py)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(auth, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(auth, "_dummy_hash", None)


def sign_in(client: httpx.Client, base: str, username: str, lang: str = "") -> None:
    form = client.get(base + "/dashboard/login")
    m = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert m
    r = client.post(base + "/dashboard/login" + lang,
                    data={"csrf": m.group(1), "username": username, "password": PASSWORD})
    assert r.status_code == 303, r.text


def cell(html: str, table: str, key: str, attr: str, value: str) -> str:
    section = html.split(f'id="{table}"', 1)[1].split("</table>", 1)[0]
    m = re.search(rf'<tr {attr}="{re.escape(value)}">.*?<td data-k="{key}">([^<]*)</td>', section, re.S)
    assert m, (table, value, key)
    return m.group(1).strip()


def by_id(html: str, ident: str) -> str:
    m = re.search(rf'id="{ident}"[^>]*>([^<]*)<', html)
    assert m, ident
    return m.group(1).strip()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Lan]:
    """Two desks of the site working through the site hub, the province's line cut:
    A registered 3 people and vaccinated 2 of them, B vaccinated the third."""
    with site_lan(tmp_path) as lan:
        a, b = start(lan)
        with run_site_hub(lan) as sh:
            wait_until(lambda: sh.scalar("SELECT count(*) FROM station") == 2, what="the roster")
            wait_until(lambda: sh.scalar("SELECT count(*) FROM app_user") == 4, what="the site's users")
            lan.line_down()
            sa, sb = a.staff(), b.staff()
            pids = []
            for i in range(3):
                pid = people.register_walk_in(a.st, sa["volunteer"], person(
                    full_name=f"Nguyễn Thị Đào {'ABC'[i]}", id_number=f"07518500123{i}",
                    phone=f"091234567{i}")).person.id
                screen_eligible(a.st, sa["screener"], pid)
                pids.append(pid)
            for pid in pids[:2]:
                clinical.record_dose(a.st, sa["clerk"], DoseInput(pid, lan.lot_id()))
            a.sync()
            b.sync()
            clinical.record_dose(b.st, sb["clerk"], DoseInput(pids[2], lan.lot_id()))
            b.sync()
            wait_until(lambda: not sh.hub.province_reachable, what="the site hub to see the line down")
            auth.add_user(sh.db, "giamsat", PASSWORD, auth.parse_scope(f"site:{lan.site}"), now=utc_now())
            yield lan


def test_the_site_hub_page_shows_the_sites_figures_as_provisional(site: Lan) -> None:
    lan = site
    sh = lan.site_hub
    assert sh is not None
    a, b = lan.desks["a"], lan.desks["b"]
    with httpx.Client(timeout=30, follow_redirects=False) as client:
        assert client.get(sh.url + "/dashboard").status_code == 303  # the login first
        sign_in(client, sh.url, "giamsat")
        html = client.get(sh.url + "/dashboard").text
        assert 'id="site-hub-provisional"' in html and "Số liệu tạm thời" in html
        assert by_id(html, "sh-doses-today") == "3"
        assert by_id(html, "sh-registered-today") == "3"
        assert cell(html, "sh-desks", "doses", "data-station", a.st.install_id) == "2"
        assert cell(html, "sh-desks", "doses", "data-station", b.st.install_id) == "1"
        assert cell(html, "sh-vaccines", "doses", "data-vaccine", "PFIZER") == "3"
        waiting = sh.waiting()
        assert waiting >= 8 and by_id(html, "sh-waiting") == str(waiting)
        held_a = int(sh.scalar("SELECT count(*) FROM relay_op WHERE station_id = :s", s=a.st.install_id))
        assert cell(html, "sh-desks", "waiting", "data-station", a.st.install_id) == str(held_a)
        assert by_id(html, "sh-province") == "Mất kết nối"
        # The same figures in English, and in the page's self-refresh.
        en = client.get(sh.url + "/dashboard/fragment?lang=en").text
        assert "Provisional figures" in en and by_id(en, "sh-province") == "Unreachable"
        # No personal data on the page.
        assert "Nguyễn" not in html and "0912345670" not in html and "075185001230" not in html
        lan.line_up()
        wait_until(lambda: sh.waiting() == 0, what="the forwarder to drain")
        after = client.get(sh.url + "/dashboard/fragment").text
        assert by_id(after, "sh-waiting") == "0" and by_id(after, "sh-province") == "Thông"
        assert by_id(after, "sh-doses-today") == "3"
        contact = by_id(after, "sh-province-contact")
        assert "chưa" not in contact
    # A province hub's dashboard has no site hub section.
    auth.add_user(lan.pdb, "tinh", PASSWORD, auth.parse_scope("province:75"), now=utc_now())
    with httpx.Client(timeout=30, follow_redirects=False) as client:
        sign_in(client, lan.province.url, "tinh")
        page = client.get(lan.province.url + "/dashboard").text
        assert 'id="site-hub"' not in page and 'data-site="' + lan.site + '"' in page


def test_a_site_scope_login_is_refused_a_bad_site_code() -> None:
    assert str(auth.parse_scope("site:dn-bh-001")) == "site:DN-BH-001"
    for bad in ("site:", "site:-X", "site:" + "A" * 40, "site:DN BH"):
        with pytest.raises(Exception) as exc:
            auth.parse_scope(bad)
        assert getattr(exc.value, "code", "") == "dashboard.bad_scope"


@pytest.mark.slow  # a browser: seconds
def test_the_site_hub_page_in_chromium_at_1366x768(site: Lan) -> None:
    _chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    sh = site.site_hub
    assert sh is not None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                     timeout=30_000)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768}, locale="vi-VN")
            page.set_default_timeout(15_000)
            outside: list[str] = []

            def guard(route: object) -> None:
                req = route.request  # type: ignore[attr-defined]
                if req.url.startswith(sh.url):
                    route.continue_()  # type: ignore[attr-defined]
                else:
                    outside.append(req.url)
                    route.abort()  # type: ignore[attr-defined]

            page.route("**/*", guard)
            page.goto(sh.url + "/dashboard")
            page.fill("#username", "giamsat")
            page.fill("#password", PASSWORD)
            page.click("button[type=submit]")
            page.wait_for_url(re.compile(r".*/dashboard$"))
            expect(page.locator("#site-hub-provisional")).to_be_visible()
            expect(page.locator("#sh-doses-today")).to_have_text("3")
            expect(page.locator("#sh-province")).to_have_text("Mất kết nối")
            page.screenshot(path=str(SCREENSHOTS / "hub-dashboard-site-hub.png"), full_page=True)
            page.goto(sh.url + "/dashboard?lang=en")
            expect(page.locator("#sh-province")).to_have_text("Unreachable")
            page.screenshot(path=str(SCREENSHOTS / "hub-dashboard-site-hub.en.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth") <= 1366
            assert outside == []
        finally:
            browser.close()
