"""A Hypothesis property of the true count (issue 10): real stations, a real hub over HTTP.

Any interleaving of dose entries, voids, full syncs, pushes, pulls, tallies that get
through on a flicker of the line, backups, revocations and restores (with the
re-enrollment and the sync IT does after one) among 2–4 stations at 1–2 sites. After
the tallies are in (every live station sends one, nothing else), for every site:

* given = the valid doses entered there that anyone can know of: those the hub holds,
  and those in a station's latest tally (a revoked station's last one; a restored
  station's tally from before its restore, for the doses its backup did not hold);
  at a site where no station was revoked or restored, exactly the valid doses its
  desks entered;
* received = the valid doses the hub holds;
* gap = what the stations still owe: doses in those tallies the hub does not hold,
  less the voids they hold for doses the hub counts as valid;

and the counters equal a recount of the hub's doses.

The model keeps, for each station, the dose ids of its latest tally (taken from its
database at the moment the tally is made) rather than re-deriving the hub's arithmetic.
Voids are of doses the hub already holds (a supervisor corrects a synced record) and
each dose is voided at one desk only; a station is restored at most once.

Bounded for CI: few examples, derandomized.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, rule, run_state_machine_as_test

from hub import counters, service
from station.backup import backup_to, restore_backup
from sync.client import HubClient
from sync.engine import build_tally_request
from sync.protocol import EnrollRequest
from tests.e2e.harness import Cluster, Node, People, model_settings
from tests.pg import PgCluster, in_ci

pytestmark = pytest.mark.slow  # fast lane (./dev test --fast) leaves it out; ./dev test runs it

SITES = ("DN-PT-01", "DN-PT-02")
idx = st.integers(min_value=0, max_value=7)


@dataclass(frozen=True)
class Claim:
    """What one tally told the hub: the station's own doses, and voids not yet sent."""

    own: frozenset[str]
    voided: frozenset[str]  # own doses voided at the station
    unsent: frozenset[str]  # doses (anyone's) it voided, void not answered, dose held


@dataclass
class Desk:
    node: Node
    claim: Claim | None = None
    old_claim: Claim | None = None  # the last claim before its restore
    revoked: bool = False
    backup: Path | None = None
    restored: bool = False
    entered: set[str] = field(default_factory=set)


def claim_of(node: Node) -> Claim:
    rows = node.rows(
        "SELECT id, voided FROM dose WHERE site_code = :s AND source = 'site' AND origin_station = :o",
        s=node.site,
        o=node.install_id,
    )
    unsent = node.rows(
        "SELECT entity_id FROM sync_outbox WHERE op_type = 'void_dose' AND state IN ('pending', 'inflight') "
        "AND entity_id NOT IN (SELECT entity_id FROM sync_outbox WHERE op_type = 'record_dose' "
        "AND state IN ('pending', 'inflight'))"
    )
    return Claim(
        own=frozenset(str(r["id"]) for r in rows),
        voided=frozenset(str(r["id"]) for r in rows if r["voided"]),
        unsent=frozenset(str(r["entity_id"]) for r in unsent),
    )


class TrueCount(RuleBasedStateMachine):
    backend: ClassVar[str] = "sqlite"
    pg: ClassVar[PgCluster | None] = None

    def __init__(self) -> None:
        super().__init__()
        self.tmp = Path(tempfile.mkdtemp(prefix="tramtiem-count-"))
        self.c: Cluster | None = None
        self.desks: list[Desk] = []
        self.people = People(seed=5)
        self.voided: set[str] = set()  # doses voided at some desk (each at one desk only)
        self.k = 0

    @property
    def cluster(self) -> Cluster:
        assert self.c is not None
        return self.c

    def desk(self, i: int, *, live: bool = True) -> Desk | None:
        pool = [d for d in self.desks if not (live and d.revoked)]
        return pool[i % len(pool)] if pool else None

    def step(self) -> None:
        """A second passes between any two things a site does (tallies and doses never share
        a timestamp, as on a real clock)."""
        self.cluster.advance(seconds=1)

    def tally(self, d: Desk) -> None:
        claim = claim_of(d.node)
        with HubClient(d.node.hub_url, d.node.token) as c:
            c.tally(build_tally_request(d.node.st, d.node.token))
        d.claim = claim

    def sync(self, d: Desk) -> None:
        claim = claim_of(d.node)
        rep = d.node.sync()
        d.claim = claim_of(d.node) if rep.closing_tally else claim

    # ---- set-up ------------------------------------------------------------------------

    @initialize(n_sites=st.sampled_from([1, 2]), n_stations=st.integers(2, 4))
    def start(self, n_sites: int, n_stations: int) -> None:
        self.c = Cluster(self.tmp / "c", self.backend, self.pg).start()
        per_site: dict[str, int] = {}
        for i in range(n_stations):
            site = SITES[i % n_sites]
            letter = "ABCD"[per_site.get(site, 0)]
            per_site[site] = per_site.get(site, 0) + 1
            self.desks.append(Desk(self.c.add_node(site, letter)))
        # A morning's start: every desk has given a dose, synced, and been backed up
        # (the app's automatic backup), so voids and restores are within reach at once.
        for d in self.desks:
            d.entered.add(d.node.vaccinate(d.node.walk_in(self.people.make())))
            self.sync(d)
            self.k += 1
            d.backup = backup_to(d.node.data_dir, self.tmp / f"usb{self.k}").path
        for d in self.desks:
            self.sync(d)

    # ---- what sites do -----------------------------------------------------------------

    @rule(i=idx, n=st.integers(1, 2))
    def enter(self, i: int, n: int) -> None:
        d = self.desk(i)
        if d is None:
            return
        self.step()
        for _ in range(n):
            d.entered.add(d.node.vaccinate(d.node.walk_in(self.people.make())))

    @rule(i=idx, j=idx)
    def void(self, i: int, j: int) -> None:
        """A supervisor voids a synced dose (the hub holds it), at one desk."""
        d = self.desk(i)
        if d is None:
            return
        held = {
            str(r["id"])
            for r in self.cluster.hub_rows(
                "SELECT id FROM dose WHERE site_code = :s AND voided = 0 AND source = 'site'", s=d.node.site
            )
        }
        mine = sorted(
            str(r["id"])
            for r in d.node.rows("SELECT id FROM dose WHERE voided = 0 AND site_code = :s", s=d.node.site)
            if str(r["id"]) in held and str(r["id"]) not in self.voided
        )
        if not mine:
            return
        self.step()
        target = mine[j % len(mine)]
        d.node.void(target)
        self.voided.add(target)

    # ---- what lines and laptops do -------------------------------------------------------

    @rule(i=idx, mode=st.sampled_from(["full", "full", "push", "pull", "tally"]))
    def line(self, i: int, mode: str) -> None:
        d = self.desk(i)
        if d is None:
            return
        self.step()
        if mode == "full":
            self.sync(d)
        elif mode == "push":
            d.node.push_only()
        elif mode == "pull":
            d.node.pull_only()
        else:
            self.tally(d)

    @rule(i=idx)
    def backup(self, i: int) -> None:
        d = self.desk(i)
        if d is None or d.restored:
            return
        self.step()
        self.k += 1
        d.backup = backup_to(d.node.data_dir, self.tmp / f"usb{self.k}").path

    @rule(i=idx)
    def revoke(self, i: int) -> None:
        """A laptop is lost: the hub revokes it; it does nothing more (unless restored)."""
        d = self.desk(i)
        if d is None or sum(not x.revoked for x in self.desks) < 2:
            return
        self.step()
        service.revoke_station(self.cluster.hub_db, d.node.install_id, actor="it")
        d.revoked = True
        event("revoked")

    @rule(i=idx, last_words=st.booleans())
    def restore(self, i: int, last_words: bool) -> None:
        """IT restores a laptop (a lost one, or a broken disk) from its last backup, lifts its
        revocation and enrolls it again if it was revoked, and syncs it. ``last_words``: just before it died the laptop
        recorded a dose and its tally got through (the dose is in no backup)."""
        d = self.desk(i, live=False)
        if d is None or d.backup is None or d.restored:
            return
        if last_words and not d.revoked:
            self.step()
            d.entered.add(d.node.vaccinate(d.node.walk_in(self.people.make())))
            self.tally(d)
            event("lost a tallied dose")
        self.cluster.advance(minutes=5)
        node = d.node
        d.old_claim = d.claim
        node.close()
        restore_backup(d.backup, node.data_dir)
        if d.revoked:
            # A revocation is lifted only explicitly (issue 11), then the laptop enrolls again.
            service.unrevoke_station(self.cluster.hub_db, node.install_id, actor="it")
            code = service.new_enrollment_code(
                self.cluster.hub_db, node.site, ttl_hours=1, now=self.cluster.clock()
            )
            with HubClient(node.hub_url) as c:
                node.token = c.enroll(
                    EnrollRequest(code=code, station_id=node.install_id, station_name=node.name)
                ).token
            d.revoked = False
        node.reopen()
        d.restored = True
        self.sync(d)
        self.sync(d)
        event("restored")

    # ---- the end -----------------------------------------------------------------------

    def teardown(self) -> None:
        try:
            if self.c is not None:
                self.check()
        finally:
            if self.c is not None:
                self.c.close()
            shutil.rmtree(self.tmp, ignore_errors=True)

    def check(self) -> None:
        c = self.cluster
        for d in self.desks:
            if not d.revoked:
                self.step()
                self.tally(d)
        hub = {
            str(r["id"]): (str(r["site_code"]), bool(r["voided"]))
            for r in c.hub_rows("SELECT id, site_code, voided FROM dose WHERE source = 'site'")
        }
        with c.hub_db.read() as s:
            assert counters.verify(s) == []
        for site in sorted({d.node.site for d in self.desks}):
            valid = {x for x, (sc, v) in hub.items() if sc == site and not v}
            owed = 0
            unsent: set[str] = set()
            for d in self.desks:
                if d.node.site != site:
                    continue
                for claim in (d.claim, d.old_claim):
                    if claim is None:
                        continue
                    owed += len((claim.own - claim.voided) - set(hub))
                if d.claim is not None:
                    unsent |= d.claim.unsent & valid
            summ = service.site_summary(c.hub_db, site)
            want = (len(valid) + owed - len(unsent), len(valid), owed - len(unsent))
            assert (summ.given, summ.received, summ.gap) == want, (site, summ)
            assert summ.written_off == 0
            here = [d for d in self.desks if d.node.site == site]
            if not any(d.revoked or d.restored for d in here):
                # Nothing was lost at this site, so every dose entered there is known: the
                # count is exactly the valid doses its desks entered (the words),
                # whatever was synced, pulled or only tallied.
                entered = set().union(*(d.entered for d in here))
                assert summ.given == len(entered - self.voided), (site, summ)
                event("a site with nothing lost: given = its valid entered doses")
            event(f"owed at the end: {min(owed, 3)}{'+' if owed >= 3 else ''}")



@pytest.mark.timeout(300)
def test_true_count_property_sqlite() -> None:
    run_state_machine_as_test(TrueCount, settings=model_settings(10, steps=14))


@pytest.mark.timeout(300)
def test_true_count_property_postgres(pg: PgCluster | None) -> None:
    if pg is None:
        if in_ci():
            raise RuntimeError("PostgreSQL unavailable in CI")
        pytest.skip("PostgreSQL binaries not installed (CI must have them)")
    model = type("TrueCountPg", (TrueCount,), {"backend": "postgres", "pg": pg})
    run_state_machine_as_test(model, settings=model_settings(3, steps=14))
