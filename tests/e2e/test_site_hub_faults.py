"""The site hub dies (issue 14): SIGKILL while it relays, and the site-hub machine lost for good.

The site hub runs as its own process (``tramtiem-hub serve --relay-to``, the command IT staff
start) on a SQLite file; the test kills it with SIGKILL at random moments while desks push
through it and while it forwards, restarts it on the same data, and at the end checks that
the province holds every op of every desk exactly once and every desk's outbox is answered
by the province. Then the machine is lost for good: the desks fall back to their own line.
"""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from hub import relay, site_hub
from hub.db import Database, migrate, sqlite_url
from hub.ingest import utc_now
from station.demo import fake_person
from station.services import people
from tests.e2e.site_lan import Desk, Lan, site_lan, wait_until

pytestmark = pytest.mark.slow  # multi-desk runs through a site hub: ./dev test runs them, the fast lane leaves them out

KILLS = int(os.environ.get("TRAMTIEM_SITE_HUB_KILLS", "20"))  # issue 14: 20 (~70 s; set fewer while working)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SiteHubProcess:
    def __init__(self, lan: Lan, data: Path) -> None:
        self.lan, self.data, self.port = lan, data, free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        url = sqlite_url(data / "hub.db")
        migrate(url)
        db = Database(url)
        try:
            code = relay.new_relay_code(lan.pdb, lan.site, ttl_hours=1, now=utc_now())
            site_hub.enroll(db, lan.province.url, code)
        finally:
            db.dispose()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "serve", "--relay-to", self.lan.line.url,
             "--data-dir", str(self.data), "--port", str(self.port), "--insecure-http"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )

        def up() -> bool:
            try:
                return httpx.get(self.url + "/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, what="the site hub process")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def waiting(self) -> int:
        db = Database(sqlite_url(self.data / "hub.db"))
        try:
            return site_hub.waiting_ops(db)
        finally:
            db.dispose()


def sync_quietly(desk: Desk, route: str) -> bool:
    return bool(desk.engine(route).run_once().ok)


@pytest.mark.slow
def test_sigkills_while_relaying_lose_and_duplicate_nothing(tmp_path: Path) -> None:
    rng = random.Random(14)
    with site_lan(tmp_path) as lan:
        a = lan.enroll("a", installer=True)
        b = lan.enroll("b")
        a.sync("province")
        b.sync("province")
        proc = SiteHubProcess(lan, tmp_path / "site-hub")
        for d in (a, b):
            d.site_hub_url = proc.url
        registered = 0
        try:
            proc.start()
            for round_no in range(KILLS):
                # The line flaps: half the rounds the province is unreachable.
                lan.line_down() if round_no % 2 else lan.line_up()
                for d in (a, b):
                    vol = d.staff()["volunteer"]
                    for _ in range(3):
                        people.register_walk_in(d.st, vol, fake_person(rng, d.st.today()))
                        registered += 1
                time.sleep(rng.uniform(0.0, 0.3))
                sync_quietly(a, "site_hub")
                proc.kill()  # mid-relay: forwarding, or right after answering a desk
                sync_quietly(b, "site_hub")  # refused: the site hub is gone
                proc.start()
                sync_quietly(b, "site_hub")
            lan.line_up()
            wait_until(lambda: proc.waiting() == 0, timeout_s=60, what="the forwarder to drain")
            for d in (a, b, a, b):
                assert sync_quietly(d, "site_hub")
        finally:
            if proc.proc is not None and proc.proc.poll() is None:
                proc.kill()
        for d in (a, b):
            assert set(d.states()) == {"acked"}, d.states()
            assert lan.pscalar(
                "SELECT count(*) FROM applied_op WHERE station_id = :s", s=d.st.install_id
            ) == len(d.op_ids())
        assert lan.pscalar("SELECT count(*) FROM person") == registered


def test_site_hub_lost_for_good_desks_fall_back_to_direct(tmp_path: Path) -> None:
    with site_lan(tmp_path) as lan:
        a = lan.enroll("a", installer=True)
        a.sync("province")
        proc = SiteHubProcess(lan, tmp_path / "site-hub")
        a.site_hub_url = proc.url
        proc.start()
        try:
            lan.line_down()
            vol = a.staff()["volunteer"]
            rng = random.Random(3)
            for _ in range(4):
                people.register_walk_in(a.st, vol, fake_person(rng, a.st.today()))
            assert sync_quietly(a, "site_hub")
            assert a.states().get("relay_accepted") == 4
            lan.line_up()
            # Let the site hub forward some (or all) of them, then lose it for good.
            time.sleep(0.5)
        finally:
            proc.kill()
        for _ in range(2):
            assert not sync_quietly(a, "site_hub")  # gone
        assert sync_quietly(a, "province")  # the desk's own line: the same ops, applied once
        assert set(a.states()) == {"acked"}
        assert lan.pscalar("SELECT count(*) FROM person") == 4
        assert lan.pscalar(
            "SELECT count(*) FROM applied_op WHERE station_id = :s", s=a.st.install_id
        ) == len(a.op_ids())
