"""A site hub on the site's network (issue 14), end to end on 127.0.0.1.

A province hub, a site hub relaying to it through a line the test cuts and restores, and
real desks with real sync engines. The desks see each other's work through the site hub
while the province is unreachable; once the line is back the province holds every op
exactly once, the desks' ops are acknowledged by the province's answers only, the
tallies are true, and the province's decisions (a merge, a refusal) replace the site
hub's provisional rows at every desk.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from hub import service
from hub.ingest import utc_now
from station import outbox, search, tally
from station.dto import DoseInput
from station.services import admin, clinical, people
from tests.e2e.site_lan import Desk, Lan, run_site_hub, site_lan, wait_until
from tests.station.helpers import ELIGIBLE_4355, person

pytestmark = pytest.mark.slow  # multi-desk runs through a site hub: ./dev test runs them, the fast lane leaves them out

ROW_TABLES = ("person", "registration", "screening", "dose", "vaccine_lot", "app_user")


def dump(desk: Desk) -> dict[str, dict[str, dict[str, Any]]]:
    """The desk's synced rows, normalised: the local FTS row id and version numbers left out
    (a site hub numbers the province's decisions above the provisional rows it replaces)."""
    out: dict[str, dict[str, dict[str, Any]]] = {}
    with desk.st.read() as conn:
        for table in ROW_TABLES:
            rows = conn.execute(text(f"SELECT * FROM {table}")).mappings()
            out[table] = {
                str(r["id"]): {k: v for k, v in r.items() if k not in ("rid", "version")} for r in rows
            }
        out["person_redirect"] = {
            str(r["from_id"]): dict(r)
            for r in conn.execute(text("SELECT from_id, to_id FROM person_redirect")).mappings()
        }
    return out


def province_dump(lan: Lan) -> dict[str, dict[str, dict[str, Any]]]:
    """The province's rows in the site's scope, shaped as a desk stores them."""
    site = lan.site
    out: dict[str, dict[str, dict[str, Any]]] = {}
    with lan.pdb.read() as s:
        persons = set(s.execute(text("SELECT person_id FROM person_site WHERE site_code = :s"),
                                {"s": site}).scalars())

        def rows(sql: str, **p: Any) -> list[dict[str, Any]]:
            return [dict(r) for r in s.execute(text(sql), p).mappings()]

        def shape(r: dict[str, Any]) -> dict[str, Any]:
            return {k: v for k, v in r.items() if k not in ("version", "merged_from", "id_key")}

        out["person"] = {r["id"]: shape(r) for r in rows("SELECT * FROM person") if r["id"] in persons}
        for t in ("registration", "screening", "vaccine_lot", "app_user"):
            out[t] = {r["id"]: shape(r) for r in rows(f"SELECT * FROM {t} WHERE site_code = :s", s=site)}
        out["dose"] = {r["id"]: shape(r) for r in rows("SELECT * FROM dose") if r["person_id"] in persons}
        out["person_redirect"] = {
            r["from_id"]: {"from_id": r["from_id"], "to_id": r["to_id"]}
            for r in rows("SELECT from_id, to_id FROM person_redirect")
            if r["from_id"] in persons or r["to_id"] in persons
        }
    return out


def start(lan: Lan) -> tuple[Desk, Desk]:
    """Desk A installs the site (users, lot) and B joins, both through the province directly."""
    a = lan.enroll("a", installer=True)
    # B's id sorts before A's: what B does with A's walk-in must still reach the province
    # after the walk-in (the site hub forwards in the order it applied, not by desk).
    b = lan.enroll("b", install_id="00000000-0000-7000-8000-00000000000b")
    a.sync("province")
    b.sync("province")
    return a, b


def test_walk_in_at_a_found_at_b_with_the_province_down_then_each_op_once(tmp_path: Path) -> None:
    with site_lan(tmp_path) as lan:
        a, b = start(lan)
        with run_site_hub(lan) as sh:
            wait_until(lambda: sh.scalar("SELECT count(*) FROM app_user") == 4, what="the site's users")
            wait_until(lambda: sh.scalar("SELECT count(*) FROM station") == 2, what="the roster")
            lan.line_down()
            staff_a, staff_b = a.staff(), b.staff()
            pid = people.register_walk_in(a.st, staff_a["volunteer"], person()).person.id
            a.sync()
            # The site hub holds it; only the province's answer acknowledges it.
            assert a.states().get("relay_accepted", 0) == 1 and outbox.counts(a.st).waiting == 1
            b.sync()
            assert pid in {h.person_id for h in search.search(b.st, "Nguyễn Thị Đào")}
            # Screened and vaccinated at B, with A's lot, all through the site hub.
            clinical.record_screening(b.st, staff_b["screener"], pid, answers=ELIGIBLE_4355, outcome="eligible")
            clinical.record_dose(b.st, staff_b["clerk"], DoseInput(pid, lan.lot_id()))
            b.sync()
            a.sync()
            assert lan.pscalar("SELECT count(*) FROM person WHERE id = :i", i=pid) == 0
            # Everything the desks did since is held by the site hub, waiting for the province,
            # and still counted as waiting at the desks (B's dose is pending in its tally).
            held = outbox.counts(a.st).relay_accepted + outbox.counts(b.st).relay_accepted
            assert held >= 3 and sh.waiting() == held
            assert set(b.states()) == {"relay_accepted"}
            assert outbox.counts(b.st).unsent == 0
            assert sum(r.pending for r in tally.compute(b.st).rows) == 1

            lan.line_up()
            wait_until(lambda: sh.waiting() == 0, what="the forwarder to drain")
            for d in (a, b):
                d.sync()
                assert set(d.states()) == {"acked"}, d.states()
            # Each op of each desk exactly once at the province, applied.
            for d in (a, b):
                ids = d.op_ids()
                assert lan.pscalar(
                    "SELECT count(*) FROM applied_op WHERE station_id = :s AND status = 'applied'",
                    s=d.st.install_id) == len(ids)
            assert lan.pscalar("SELECT count(*) FROM person") == 1
            assert lan.pscalar("SELECT count(*) FROM dose") == 1
            # The tallies the desks signed reached the province through the site hub.
            wait_until(lambda: sh.scalar("SELECT count(*) FROM relay_tally WHERE forwarded_at IS NULL") == 0,
                       what="tallies forwarded")
            summary = service.site_summary(lan.pdb, lan.site)
            assert (summary.given, summary.received, summary.gap) == (1, 1, 0)
            assert lan.pscalar("SELECT count(*) FROM station_tally") == 2
            # Every desk converges to the province's state.
            lan.wait_settled()
            b.sync()
            a.sync()
            want = province_dump(lan)
            assert dump(a) == want
            assert dump(b) == want


def test_the_province_merges_a_walk_in_and_every_desk_follows(tmp_path: Path) -> None:
    """A walk-in registered offline at the site already exists at another site: the
    province merges the site hub's provisional person into the earlier one."""
    with site_lan(tmp_path) as lan:
        a, b = start(lan)
        # The same person, registered earlier at another site (direct to the province).
        service.add_site(lan.pdb, "DN-OTHER-02", "Trạm khác", "75", now=utc_now())
        c = lan.enroll("c", installer=True, site="DN-OTHER-02")
        earlier = people.register_walk_in(c.st, c.staff()["volunteer"], person()).person.id
        c.sync("province")
        with run_site_hub(lan) as sh:
            wait_until(lambda: sh.scalar("SELECT count(*) FROM station") == 2, what="the roster")
            wait_until(lambda: sh.scalar("SELECT count(*) FROM app_user") == 4, what="the site's users")
            lan.line_down()
            pid = people.register_walk_in(a.st, a.staff()["volunteer"], person()).person.id
            a.sync()
            b.sync()
            assert pid in {h.person_id for h in search.search(b.st, "Nguyễn Thị Đào")}
            lan.line_up()
            wait_until(lambda: sh.waiting() == 0, what="the forwarder to drain")
            # The province merged it into the earlier person; the site hub passes it down.
            assert lan.pscalar("SELECT to_id FROM person_redirect WHERE from_id = :i", i=pid) == earlier
            wait_until(lambda: sh.scalar("SELECT to_id FROM person_redirect WHERE from_id = :i", i=pid) == earlier,
                       what="the merge at the site hub")
            lan.wait_settled()
            for d in (a, b, a):
                d.sync()
            want = province_dump(lan)
            assert want["person"][pid]["status"] == "merged"
            assert dump(a) == want
            assert dump(b) == want


def test_a_refused_edit_does_not_stay_as_if_accepted(tmp_path: Path) -> None:
    """A desk's edit the site hub applied and the province refused (its user was deactivated
    at the province meanwhile): every desk goes back to the province's value."""
    with site_lan(tmp_path) as lan:
        a, b = start(lan)
        c = lan.enroll("c")  # a desk with its own line (4G): syncs with the province directly
        c.sync("province")
        with run_site_hub(lan) as sh:
            wait_until(lambda: sh.scalar("SELECT count(*) FROM station") == 3, what="the roster")
            wait_until(lambda: sh.scalar("SELECT count(*) FROM app_user") == 4, what="the site's users")
            pid = people.register_walk_in(a.st, a.staff()["volunteer"], person()).person.id
            a.sync()
            wait_until(lambda: sh.waiting() == 0, what="the walk-in forwarded")
            wait_until(lambda: sh.scalar("SELECT count(*) FROM relay_shadow WHERE entity_id = :i", i=pid) == 1,
                       what="the province's row at the site hub")
            b.sync()
            clerk = a.staff()["clerk"]
            lan.line_down()
            time.sleep(1.5)  # the site hub's long-poll already through the line ends (wait=1 s)
            # At C, the supervisor deactivates the clerk; C's own line carries it.
            admin.set_user_active(c.st, c.staff()["supervisor"], clerk.user_id, False)
            c.sync("province")
            time.sleep(1.1)  # times are kept to the second: the edit must come after it
            # Then the clerk, still logged in at A, changes the phone: the site hub accepts.
            people.update_person(a.st, clerk, pid, {"phone": "0987654321"})
            a.sync()
            b.sync()
            assert _phone(b, pid) == "0987654321"  # provisional
            lan.line_up()
            wait_until(lambda: sh.waiting() == 0, what="the forwarder to drain")
            for d in (a, b):
                d.sync()
            refused = outbox.rejected(a.st)
            assert [r.reason for r in refused] == ["auth.user_inactive"]
            assert lan.pscalar("SELECT phone FROM person WHERE id = :i", i=pid) == "0912345678"
            for d in (a, b):
                assert _phone(d, pid) == "0912345678", d.name
            assert sh.scalar("SELECT phone FROM person WHERE id = :i", i=pid) == "0912345678"


def test_a_refused_walk_in_does_not_stay_at_the_site(tmp_path: Path) -> None:
    """A walk-in the site hub accepted while the province was unreachable, which the province
    then refuses (its volunteer was deactivated there meanwhile): the site hub and every desk
    stop showing the person as registered; its own desk shows the refusal with the reason."""
    with site_lan(tmp_path) as lan:
        a, b = start(lan)
        c = lan.enroll("c")  # a desk with its own line (4G)
        c.sync("province")
        with run_site_hub(lan) as sh:
            wait_until(lambda: sh.scalar("SELECT count(*) FROM station") == 3, what="the roster")
            wait_until(lambda: sh.scalar("SELECT count(*) FROM app_user") == 4, what="the site's users")
            volunteer = a.staff()["volunteer"]
            lan.line_down()
            time.sleep(1.5)  # the site hub's long-poll through the line ends (wait=1 s)
            admin.set_user_active(c.st, c.staff()["supervisor"], volunteer.user_id, False)
            c.sync("province")
            time.sleep(1.1)  # times are kept to the second: the walk-in must come after it
            pid = people.register_walk_in(a.st, volunteer, person()).person.id
            a.sync()
            b.sync()
            assert pid in {h.person_id for h in search.search(b.st, "Nguyễn Thị Đào")}  # provisional
            lan.line_up()
            wait_until(lambda: sh.waiting() == 0, what="the forwarder to drain")
            for d in (a, b, a, b):
                d.sync()
            assert [r.reason for r in outbox.rejected(a.st)] == ["auth.user_inactive"]
            assert lan.pscalar("SELECT count(*) FROM person WHERE id = :i", i=pid) == 0
            assert sh.scalar("SELECT status FROM person WHERE id = :i", i=pid) == "refused"
            assert sh.scalar("SELECT count(*) FROM registration WHERE person_id = :i AND status != 'refused'",
                             i=pid) == 0
            for d in (a, b):
                assert pid not in {h.person_id for h in search.search(d.st, "Nguyễn Thị Đào")}, d.name


def _phone(desk: Desk, pid: str) -> str:
    with desk.st.read() as conn:
        return str(conn.execute(text("SELECT phone FROM person WHERE id = :i"), {"i": pid}).scalar())


def test_site_hub_lets_in_the_sites_desks_only(tmp_path: Path) -> None:
    """A desk enrolled after the site hub started is let in on first contact (the roster is
    refreshed on an unknown token); another site's desk, a stranger and a revoked desk are not."""
    with site_lan(tmp_path) as lan:
        a, _b = start(lan)
        service.add_site(lan.pdb, "DN-OTHER-02", "Trạm khác", "75", now=utc_now())
        with run_site_hub(lan) as sh:
            wait_until(lambda: sh.scalar("SELECT count(*) FROM station") == 2, what="the roster")
            late = lan.enroll("late")
            assert late.engine("site_hub").run_once().ok  # unknown at first: roster refreshed
            other = lan.enroll("other", installer=True, site="DN-OTHER-02")
            rep = other.engine("site_hub").run_once()
            assert not rep.ok and rep.error == "auth.invalid_token"
            stranger = Desk("x", a.st, "not-a-token-of-anyone", lan.province.url, sh.url)
            assert stranger.engine("site_hub").run_once().error == "auth.invalid_token"
            service.revoke_station(lan.pdb, a.st.install_id, now=utc_now())
            sh.hub.refresh_roster()
            rep = a.engine("site_hub").run_once()
            assert not rep.ok and rep.error == "auth.revoked"
            assert sh.scalar("SELECT count(*) FROM relay_op WHERE station_id = :s", s=other.st.install_id) == 0
