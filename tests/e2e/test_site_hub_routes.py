"""One op, two routes (issue 14 faults): nothing lost, nothing duplicated.

A desk keeps both routes: the site hub on the LAN and its own line to the province. The
same op may therefore reach the province twice — once forwarded by the site hub, once
sent by the desk itself — and a desk may leave the site hub in the middle of a batch (the
site hub applied and kept the batch, the desk never heard its answer). The province's
ledger answers the second copy ``duplicate``; every desk ends acknowledged by the
province, each op held once, and every desk converges to the province's state.
"""

from __future__ import annotations

from pathlib import Path
from unittest import mock

import pytest

from station import outbox
from station.dto import DoseInput
from station.services import clinical, people
from sync import engine as engine_mod
from sync.client import HubClient
from sync.engine import SyncEngine, SyncSettings
from tests.e2e.site_lan import Desk, Lan, run_site_hub, site_lan, wait_until
from tests.e2e.test_site_hub import dump, province_dump, start
from tests.station.helpers import ELIGIBLE_4355

pytestmark = pytest.mark.slow  # multi-desk runs through a site hub: ./dev test runs them, the fast lane leaves them out


def _walk_ins(desk: Desk, n: int, seed: int) -> list[str]:
    import random

    from station.demo import fake_person

    rng = random.Random(seed)
    vol = desk.staff()["volunteer"]
    return [people.register_walk_in(desk.st, vol, fake_person(rng, desk.st.today())).person.id
            for _ in range(n)]


def _held_once(lan: Lan, desk: Desk) -> None:
    """Each op of the desk is in the province's ledger once, and the desk holds its answer."""
    assert set(desk.states()) == {"acked"}, desk.states()
    ids = desk.op_ids()
    assert lan.pscalar("SELECT count(*) FROM applied_op WHERE station_id = :s", s=desk.st.install_id) == len(ids)
    assert lan.pscalar(
        "SELECT count(DISTINCT op_id) FROM applied_op WHERE station_id = :s", s=desk.st.install_id
    ) == len(ids)


def test_the_same_ops_by_both_routes_are_applied_once(tmp_path: Path) -> None:
    with site_lan(tmp_path) as lan:
        a, b = start(lan)
        with run_site_hub(lan) as sh:
            wait_until(lambda: sh.scalar("SELECT count(*) FROM station") == 2, what="the roster")
            wait_until(lambda: sh.scalar("SELECT count(*) FROM app_user") == 4, what="the site's users")
            lan.line_down()  # the site hub's line only: the desks' own lines are up
            pids = _walk_ins(a, 4, seed=1)
            a.sync()
            b.sync()
            # B screens and doses A's first walk-in through the site hub.
            staff_b = b.staff()
            clinical.record_screening(b.st, staff_b["screener"], pids[0], answers=ELIGIBLE_4355,
                                      outcome="eligible")
            clinical.record_dose(b.st, staff_b["clerk"], DoseInput(pids[0], lan.lot_id()))
            b.sync()
            held_a = outbox.counts(a.st).relay_accepted
            assert held_a == 4 and sh.waiting() == held_a + outbox.counts(b.st).relay_accepted
            # A's own line: the same four ops go directly, applied there first.
            a.sync("province")
            assert set(a.states()) == {"acked"}
            assert lan.pscalar("SELECT count(*) FROM person") == 4
            # The site hub's line comes back: it forwards A's copies (duplicates) and B's ops.
            lan.line_up()
            wait_until(lambda: sh.waiting() == 0, what="the forwarder to drain")
            assert sh.scalar(
                "SELECT count(*) FROM relay_op WHERE station_id = :s AND province_status = 'duplicate'",
                s=a.st.install_id,
            ) == 4
            assert sh.scalar(
                "SELECT count(*) FROM relay_op WHERE station_id = :s AND province_status = 'applied'",
                s=b.st.install_id,
            ) == outbox.counts(b.st).relay_accepted
            lan.wait_settled()
            for d in (a, b, a, b):
                d.sync()
            for d in (a, b):
                _held_once(lan, d)
            assert lan.pscalar("SELECT count(*) FROM person") == 4
            assert lan.pscalar("SELECT count(*) FROM dose") == 1
            want = province_dump(lan)
            assert dump(a) == want
            assert dump(b) == want


class _LostAnswer(Exception):
    """The desk loses the site hub's answer to a batch (the LAN went, the desk moved)."""


def test_a_desk_moved_from_relay_to_direct_in_the_middle_of_a_batch(tmp_path: Path) -> None:
    """A's second batch reached the site hub (applied and kept there) but A never heard the
    answer: those ops are still unanswered at A (``pending``: nothing marks an op in
    flight). A moves to its own line and sends everything directly while the site hub's
    line comes back and it forwards the same ops."""
    with site_lan(tmp_path) as lan:
        a, b = start(lan)
        with run_site_hub(lan) as sh:
            wait_until(lambda: sh.scalar("SELECT count(*) FROM station") == 2, what="the roster")
            wait_until(lambda: sh.scalar("SELECT count(*) FROM app_user") == 4, what="the site's users")
            lan.line_down()
            _walk_ins(a, 12, seed=2)
            total = len(a.op_ids())
            small = _site_hub_engine(a, sh.url, SyncSettings(seed=1, long_poll_s=0, batch_ops_max=5))
            hits: list[str] = []

            def crash(name: str) -> None:
                if name == "after_push_send_before_ack_commit":
                    hits.append(name)
                    if len(hits) == 2:
                        raise _LostAnswer

            with mock.patch.object(engine_mod, "crash_point", crash), pytest.raises(_LostAnswer):
                small.run_once()
            states = a.states()
            # the second batch's 5 (answer lost) and the 2 never sent are all still pending
            assert states.get("relay_accepted") == 5 and states.get("pending") == 7, states
            assert sh.waiting() == 10  # the site hub holds both batches
            # A moves to its own line while the site hub's line comes back: both routes race.
            lan.line_up()
            a.sync("province")
            wait_until(lambda: sh.waiting() == 0, what="the forwarder to drain")
            assert sh.scalar(
                "SELECT count(*) FROM relay_op WHERE province_status NOT IN ('applied', 'duplicate')"
            ) == 0
            lan.wait_settled()
            for d in (a, b, a, b):
                d.sync()
            _held_once(lan, a)
            assert len(a.op_ids()) == total
            assert lan.pscalar("SELECT count(*) FROM person") == 12
            want = province_dump(lan)
            assert dump(a) == want
            assert dump(b) == want
            # Back to the site hub afterwards: nothing is sent twice to it, nothing waits.
            assert a.engine("site_hub").run_once().ok
            assert sh.waiting() == 0 and outbox.counts(a.st).waiting == 0


def _site_hub_engine(desk: Desk, url: str, settings: SyncSettings) -> SyncEngine:
    return SyncEngine(desk.st, lambda: HubClient(url, desk.token, connect_timeout_s=2.0, read_timeout_s=15.0),
                      settings=settings, route="site_hub")

