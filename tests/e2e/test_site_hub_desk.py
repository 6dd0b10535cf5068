"""What the desks see of the site hub (issue 14 "seen at the desk"), on 127.0.0.1.

* The site hub answers ``GET /sync/v1/site/hub-status`` to a desk of its site: its own
  view of the province link and the ops it holds; a province hub answers 404.
* Two injection desks, the same person, seconds apart: the second desk has pulled the
  first dose from the site hub, and its save is refused with a message naming the other
  desk and the time, even though the person was opened before the dose arrived.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from kernel.errors import ValidationError
from station import replica
from station.dto import DoseInput
from station.services import clinical, people
from sync.client import HubClient, HubRejected
from sync.site_hub_status import SiteHubStatus
from tests.e2e.site_lan import Desk, Lan, run_site_hub, site_lan, wait_until
from tests.e2e.test_site_hub import start
from tests.station.helpers import person, screen_eligible

pytestmark = pytest.mark.slow  # multi-desk runs through a site hub: ./dev test runs them, the fast lane leaves them out


def _status(desk: Desk, url: str) -> SiteHubStatus:
    with HubClient(url, desk.token, connect_timeout_s=2.0, read_timeout_s=10.0) as c:
        return c.site_hub_status()


def _ready(lan: Lan) -> None:
    sh = lan.site_hub
    assert sh is not None
    wait_until(lambda: sh.scalar("SELECT count(*) FROM station") == 2, what="the roster")
    wait_until(lambda: sh.scalar("SELECT count(*) FROM app_user") == 4, what="the site's users")


def test_the_site_hub_tells_a_desk_its_province_link_and_what_it_holds(tmp_path: Path) -> None:
    with site_lan(tmp_path) as lan:
        a, b = start(lan)
        with pytest.raises(HubRejected) as refused:
            _status(a, lan.province.url)
        assert refused.value.status == 404 and refused.value.code == "relay.not_site_hub"
        with run_site_hub(lan) as sh:
            _ready(lan)
            first = _status(a, sh.url)
            assert first.province_reachable is True and first.province_contact_at
            lan.line_down()
            pid = people.register_walk_in(a.st, a.staff()["volunteer"], person()).person.id
            assert pid
            a.sync()
            # The forwarder finds the line cut: the site hub says so, and what it holds.
            wait_until(lambda: _status(b, sh.url).province_reachable is False,
                       what="the site hub to notice the line is down")
            seen_a, seen_b = _status(a, sh.url), _status(b, sh.url)
            assert seen_a.waiting_ops == seen_b.waiting_ops == sh.waiting() >= 1
            assert seen_a.waiting_for_you == sh.waiting() and seen_b.waiting_for_you == 0
            assert seen_b.site_code == lan.site
            lan.line_up()
            wait_until(lambda: sh.waiting() == 0, what="the forwarder to drain")
            back = _status(b, sh.url)
            assert back.province_reachable is True and back.waiting_ops == 0
            assert back.province_contact_at and first.province_contact_at
            assert back.province_contact_at >= first.province_contact_at
        # A token the site hub does not know gets nothing.
        with (run_site_hub(lan) as sh, HubClient(sh.url, "not-a-token-" + "x" * 30) as c,
              pytest.raises(HubRejected) as bad):
            c.site_hub_status()
        assert bad.value.status == 401


def test_the_second_injection_desk_is_refused_naming_the_first(tmp_path: Path) -> None:
    with site_lan(tmp_path) as lan:
        a, b = start(lan)
        with run_site_hub(lan) as sh:
            _ready(lan)
            for d in (a, b):
                replica.set_site_hub_url(d.st, sh.url)
            lan.line_down()  # the province plays no part: the desks see each other through the site hub
            sa, sb = a.staff(), b.staff()
            pid = people.register_walk_in(a.st, sa["volunteer"], person()).person.id
            screen_eligible(a.st, sa["screener"], pid)
            a.sync()
            b.sync()
            # B has the person open: no dose yet.
            assert clinical.dose_history(b.st, pid) == []
            given = clinical.record_dose(a.st, sa["clerk"], DoseInput(pid, lan.lot_id()))
            a.sync()
            b.sync()  # B pulls A's dose from the site hub
            with pytest.raises(ValidationError) as exc:
                clinical.record_dose(b.st, sb["clerk"], DoseInput(pid, lan.lot_id()))
            (issue,) = exc.value.issues
            assert issue.code == "dose.same_day_other_desk"
            assert issue.params == {"vaccine": given.vaccine_code, "given_at": given.administered_at,
                                    "desk": a.st.install_id[-4:]}
            assert len(clinical.dose_history(b.st, pid)) == 1  # nothing saved at B
            # At A itself the same person again is "already given today", not "another desk".
            with pytest.raises(ValidationError) as again:
                clinical.record_dose(a.st, sa["clerk"], DoseInput(pid, lan.lot_id()))
            assert [i.code for i in again.value.issues] == ["dose.same_day"]
