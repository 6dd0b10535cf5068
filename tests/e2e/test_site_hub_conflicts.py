"""Conflicts through a site hub (issue 14 acceptance, DESIGN §6), end to end on 127.0.0.1.

* Two desks edit the same person while they are offline, then sync through the site hub:
  the §6 rules decide (different fields merge; the same contact field: the later edit by
  HLC wins with a low-priority review; the same identity field: the current value stays
  with a high-priority review), at the site hub provisionally and at the province for
  good, and every desk, the site hub and the province converge — review items included.
* The same person dosed at two injection desks within seconds, both saved: the province
  and the site hub raise one possible-duplicate review naming both doses, and every desk
  holds that same review (the site hub's provisional one is the province's, not a second).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from station.dto import DoseInput
from station.services import clinical, people
from tests.e2e.site_lan import Desk, Lan, SiteHubProc, run_site_hub, site_lan, wait_until
from tests.e2e.test_site_hub import dump, province_dump, start
from tests.station.helpers import ELIGIBLE_4355, person

pytestmark = pytest.mark.slow  # multi-desk runs through a site hub: ./dev test runs them, the fast lane leaves them out

REVIEW_COLS = ("kind", "priority", "status", "entity_type", "entity_id")


def desk_reviews(desk: Desk) -> dict[str, dict[str, Any]]:
    with desk.st.read() as conn:
        rows = conn.execute(text(f"SELECT id, candidates, {', '.join(REVIEW_COLS)} FROM conflict")).mappings()
        return {str(r["id"]): {**{k: r[k] for k in REVIEW_COLS}, "candidates": json.loads(r["candidates"])}
                for r in rows}


def _reviews(s: Any, site: str) -> dict[str, dict[str, Any]]:
    rows = s.execute(text(
        f"SELECT r.id, r.candidates, {', '.join('r.' + c for c in REVIEW_COLS)} FROM review_item r "
        "JOIN review_site rs ON rs.review_id = r.id WHERE rs.site_code = :s"), {"s": site}).mappings()
    out = {}
    for r in rows:
        cand = r["candidates"]
        out[str(r["id"])] = {**{k: r[k] for k in REVIEW_COLS},
                             "candidates": json.loads(cand) if isinstance(cand, str) else cand}
    return out


def province_reviews(lan: Lan) -> dict[str, dict[str, Any]]:
    with lan.pdb.read() as s:
        return _reviews(s, lan.site)


def site_hub_reviews(lan: Lan, sh: SiteHubProc) -> dict[str, dict[str, Any]]:
    with sh.db.read() as s:
        return _reviews(s, lan.site)


def settle_all(lan: Lan, *desks: Desk) -> None:
    sh = lan.site_hub
    assert sh is not None
    wait_until(lambda: sh.waiting() == 0, what="the forwarder to drain")
    lan.wait_settled()
    for d in (*desks, *desks):
        d.sync()


def _person(desk: Desk, pid: str) -> dict[str, Any]:
    with desk.st.read() as conn:
        return dict(conn.execute(text("SELECT * FROM person WHERE id = :i"), {"i": pid}).mappings().one())


def test_two_desks_edit_one_person_offline_the_rules_decide_and_all_converge(tmp_path: Path) -> None:
    with site_lan(tmp_path) as lan:
        a, b = start(lan)
        with run_site_hub(lan) as sh:
            wait_until(lambda: sh.scalar("SELECT count(*) FROM station") == 2, what="the roster")
            wait_until(lambda: sh.scalar("SELECT count(*) FROM app_user") == 4, what="the site's users")
            pid = people.register_walk_in(a.st, a.staff()["volunteer"], person()).person.id
            a.sync()
            settle_all(lan, a, b)
            assert _person(b, pid)["phone"] == "0912345678"
            lan.line_down()
            # Both desks offline (neither syncs) while each edits the person.
            people.update_person(a.st, a.staff()["supervisor"], pid,
                                 {"full_name": "Nguyễn Thị Đào An", "phone": "0911111111"})
            time.sleep(0.05)  # B's edit is the later one by HLC
            people.update_person(b.st, b.staff()["supervisor"], pid,
                                 {"full_name": "Nguyễn Thị Đào Bình", "phone": "0922222222",
                                  "address_line": "12 Lê Lợi"})
            # Back on the LAN: through the site hub, the province still unreachable.
            a.sync()
            b.sync()
            a.sync()
            provisional = site_hub_reviews(lan, sh)
            # The site hub applies the same rules provisionally: the same two reviews.
            assert sorted((r["kind"], r["priority"]) for r in provisional.values()) == [
                ("field_conflict", "high"), ("field_conflict", "low")], provisional
            assert _person(a, pid)["address_line"] == "12 Lê Lợi"  # B's other field merged at A
            lan.line_up()
            settle_all(lan, a, b)
            with lan.pdb.read() as s:
                row = s.execute(text("SELECT full_name, phone, address_line FROM person WHERE id = :i"),
                                {"i": pid}).one()
            # Identity: A's edit came first and stays; B's is kept out, for a supervisor.
            # Contact: B's later phone wins. Different fields: B's address merged.
            assert tuple(row) == ("Nguyễn Thị Đào An", "0922222222", "12 Lê Lợi")
            reviews = province_reviews(lan)
            assert sorted(r["priority"] for r in reviews.values() if r["entity_id"] == pid) == ["high", "low"]
            want = province_dump(lan)
            for d in (a, b):
                assert dump(d) == want, d.name
                assert desk_reviews(d) == reviews, d.name
            assert site_hub_reviews(lan, sh) == reviews


def test_one_person_dosed_at_two_desks_raises_one_review_naming_both_doses(tmp_path: Path) -> None:
    with site_lan(tmp_path) as lan:
        a, b = start(lan)
        with run_site_hub(lan) as sh:
            wait_until(lambda: sh.scalar("SELECT count(*) FROM station") == 2, what="the roster")
            wait_until(lambda: sh.scalar("SELECT count(*) FROM app_user") == 4, what="the site's users")
            staff_a, staff_b = a.staff(), b.staff()
            pid = people.register_walk_in(a.st, staff_a["volunteer"], person()).person.id
            clinical.record_screening(a.st, staff_a["screener"], pid, answers=ELIGIBLE_4355, outcome="eligible")
            a.sync()
            b.sync()
            lot = lan.lot_id()
            # Two injection desks, seconds apart; B has not synced since A's dose.
            d1 = clinical.record_dose(a.st, staff_a["clerk"], DoseInput(pid, lot)).id
            d2 = clinical.record_dose(b.st, staff_b["clerk"], DoseInput(pid, lot)).id
            a.sync()
            b.sync()
            settle_all(lan, a, b)
            reviews = province_reviews(lan)
            dup = [r for r in reviews.values() if r["kind"] == "possible_duplicate_dose"]
            assert len(dup) == 1 and dup[0]["status"] == "open"
            assert sorted(dup[0]["candidates"]["dose_ids"]) == sorted([d1, d2])
            assert lan.pscalar("SELECT count(*) FROM dose WHERE person_id = :p", p=pid) == 2
            # One review at the site hub and at every desk: the province's.
            assert site_hub_reviews(lan, sh) == reviews
            for d in (a, b):
                assert desk_reviews(d) == reviews, d.name
            want = province_dump(lan)
            assert dump(a) == want
            assert dump(b) == want
