"""``tramtiem sync --once`` killed with SIGKILL over and over: every op reaches the hub exactly once.

A real ``tramtiem sync`` subprocess (``python -m ui.cli sync``) syncs one
station with a SQLite hub served in this process on 127.0.0.1. Between runs
this process writes more ops through the station's services (the store takes
writers from two processes). Each run is killed:

* at a named crash point (``TRAMTIEM_CRASH_AT=<name>[:<n>]``, the engine calls
  ``os._exit(137)`` there): ``after_tally``, ``after_push_send_before_ack_commit``,
  ``after_ack_commit`` and ``mid_pull_apply``, several times each, some at a
  later batch or page (``:2``) after a large import made the run need two
  push batches and two pull pages;
* or at a random moment with ``os.kill(pid, SIGKILL)``: a seeded fraction of
  the expected run time (at most 1.5 s) after the start, or a seeded fraction
  of the expected time from the first connection to the hub to the exit after
  that connection (so the kill lands mid-sync). The expectations come from a
  first clean run and from every run that ended before its kill (that kill is
  then tried again later). A pass-through :class:`~tests.faults.faultproxy.FaultProxy`
  in front of the hub tells when the process connects; it injects no faults.

After every kill the hub must hold no op the station does not have. At the end
one clean run must drain everything, and then every station op is in the hub's
ledger exactly once with the same payload, the outbox is fully answered, no op
was rejected, the station's rows equal the hub's, the station's integrity
check and audit chain pass (:func:`tests.faults.conftest.check_exactly_once`).

The station key and the hub token live in a keyrings.alt PlaintextKeyring
under ``tmp_path``, chosen through ``PYTHON_KEYRING_BACKEND`` so the
subprocesses find them.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring

from station import outbox
from station.store import Station, open_station
from sync.engine import CRASH_ENV, CRASH_POINTS, SyncSettings
from tests.faults.conftest import Hub, Workload, check_exactly_once, start_hub, station_ops
from tests.faults.faultproxy import FaultProxy

pytestmark = [
    pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX"),
    pytest.mark.slow,  # fast lane (./dev test --fast) leaves it out; ./dev test runs it
]

ROOT = Path(__file__).resolve().parents[2]
PLAINTEXT = "keyrings.alt.file.PlaintextKeyring"
SITE = "DN-KILL-02"
SEED = 20261201
MIN_KILLS, MIN_NAMED, MIN_RANDOM = 50, 20, 20
# Planned kills (more than the minimums: a random kill can come too late, a
# ``:n`` point can be missed when the run needed fewer batches).
PLAN_NAMED_PER_POINT = 6
# Later batch/page kills, each pair right after a big import: the first kill
# leaves more than a page of changes to pull, so the second needs no import.
PLAN_LATER = (
    (("named_big", "after_ack_commit:2"), ("named", "mid_pull_apply:2")),
    (("named_big", "after_push_send_before_ack_commit:2"), ("named", "mid_pull_apply:2")),
)
PLAN_RANDOM = 32
MAX_ITERATIONS = 120
TIME_BUDGET_S = 230.0
PROC_TIMEOUT_S = 60.0
# Before a ``:2`` point: enough waiting for two push batches (the engine starts
# at ``batch_bytes_initial``: 512 KiB since issue 15) and two pull pages (a person
# imported at the hub is a person and a registration).
BIG_PENDING_BYTES = SyncSettings().batch_bytes_initial + 44 * 1024
BIG_PENDING_OPS = 260
# Person + registration each: more changes than one pull page holds.
BIG_HUB_LIST = SyncSettings().pull_limit // 2 + 20


@dataclass
class Outcome:
    kind: str  # "named" | "random_start" | "random_contact" | "clean"
    spec: str
    returncode: int
    killed: bool
    stdout: str
    stderr: str
    contacted: bool = True  # random kills: the process had connected to the hub when killed


@pytest.fixture
def kill_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Keyring in a plaintext file under tmp_path, shared with the subprocesses."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", PLAINTEXT)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv(CRASH_ENV, raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(PlaintextKeyring())
    try:
        yield tmp_path
    finally:
        keyring.set_keyring(previous)


def tramtiem(*args: str, env_extra: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ui.cli", *args],
        cwd=ROOT,
        env={**os.environ, **(env_extra or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def finish(proc: subprocess.Popen[str], what: str) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=PROC_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate(timeout=10)
        pytest.fail(f"{what}: the process hung for {PROC_TIMEOUT_S}s; stderr: {err[-2000:]}")
    return proc.returncode, out, err


class KillLoop:
    def __init__(
        self, hub: Hub, proxy: FaultProxy, st: Station, data_dir: Path, wl: Workload
    ) -> None:
        self.hub = hub
        self.proxy = proxy
        self.st = st
        self.data_dir = data_dir
        self.wl = wl
        self.rng = random.Random(SEED)
        self.outcomes: list[Outcome] = []
        # Seconds from start to exit, and from first contact to exit, of a whole run.
        self.expect_total_s = 1.0
        self.expect_after_contact_s = 0.3

    def sync_args(self) -> list[str]:
        return ["sync", "--data-dir", str(self.data_dir), "--once", "--hub", self.proxy.url]

    def run_named(self, spec: str) -> Outcome:
        code, out, err = finish(
            tramtiem(*self.sync_args(), env_extra={CRASH_ENV: spec}), f"crash at {spec}"
        )
        # 137: os._exit at the point; 0: the run never reached the n-th hit.
        assert code in (0, 137), f"crash at {spec}: exit {code}; stderr: {err[-2000:]}"
        return Outcome("named", spec, code, code == 137, out, err)

    def contacts(self) -> int:
        return self.proxy.stats_snapshot()["connections"]

    def run_watched(self, kind: str) -> Outcome:
        """Run ``tramtiem sync`` and SIGKILL it at a seeded random moment of its run.

        ``random_start``: a seeded fraction of the expected run time (at most 1.5 s)
        after the start; ``random_contact``: a seeded fraction of the expected time
        from the first connection to the hub to the exit, after that connection.
        ``clean``: never killed. Runs that end on their own update the expectations
        (runs get longer as kills leave work behind, shorter on a fast machine).
        """
        before = self.contacts()
        t0 = time.monotonic()
        proc = tramtiem(*self.sync_args())
        contact_at: float | None = None
        u = self.rng.random()
        target = t0 + PROC_TIMEOUT_S
        if kind == "random_start":
            target = t0 + u * min(1.5, self.expect_total_s)
        deadline = t0 + PROC_TIMEOUT_S
        while proc.poll() is None and (now := time.monotonic()) < min(target, deadline):
            if contact_at is None and self.contacts() > before:
                contact_at = now
                if kind == "random_contact":
                    target = contact_at + u * self.expect_after_contact_s
            time.sleep(0.002)
        ended = time.monotonic()
        if contact_at is None and self.contacts() > before:
            contact_at = ended
        spec = {
            "random_start": f"{target - t0:.3f}s after start",
            "random_contact": f"{target - (contact_at or t0):.3f}s after first contact",
            "clean": "",
        }[kind]
        killed = False
        if proc.poll() is None and kind != "clean":
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
        code, out, err = finish(proc, f"{kind} {spec}")
        # It may have exited between the last poll and the signal: then it was not killed.
        killed = killed and code == -signal.SIGKILL
        if not killed:
            assert code == 0, f"{kind} {spec}: exit {code}; {out} {err[-2000:]}"
            self.expect_total_s = (self.expect_total_s + (ended - t0)) / 2
            if contact_at is not None:
                self.expect_after_contact_s = (self.expect_after_contact_s + ended - contact_at) / 2
        return Outcome(kind, spec, code, killed, out, err, contact_at is not None)

    def pending_bytes(self) -> int:
        return sum(o.size for o in outbox.next_batch(self.st, max_bytes=1 << 40, max_ops=1 << 30))

    def write_some(self, big: bool) -> None:
        if big:
            # Enough for two push batches in the next run...
            for _ in range(20):
                if (
                    self.pending_bytes() > BIG_PENDING_BYTES
                    and outbox.counts(self.st).waiting > BIG_PENDING_OPS
                ):
                    break
                self.wl.expected(50, long_text=True)
            # ... and two pull pages: the station's own rows are not sent back to it
            # (no_echo), so the district imports a list for the site at the hub.
            self.hub.import_list(
                self.st.site_code,
                [self.wl.person_input() for _ in range(BIG_HUB_LIST)],
                self.st.today() + timedelta(days=1),
            )
        for _ in range(self.rng.randint(1, 4)):
            self.wl.step()
        if self.rng.random() < 0.4:
            self.wl.expected(self.rng.randint(5, 40))

    def check_no_phantoms(self, label: str) -> None:
        """The hub never holds an op the station does not have (cheap, after every kill)."""
        mine = {o.op_id for o in station_ops(self.st)}
        hub_ops = {
            r["op_id"]
            for r in self.hub.rows(
                "SELECT op_id FROM applied_op WHERE station_id = :s", s=self.st.install_id
            )
        }
        extra = hub_ops - mine
        assert not extra, f"{label}: the hub holds {len(extra)} op(s) the station does not have"


def plan(rng: random.Random) -> list[tuple[str, str]]:
    steps = [("named", p) for p in CRASH_POINTS for _ in range(PLAN_NAMED_PER_POINT)]
    steps += [("random_start", "")] * (PLAN_RANDOM // 2) + [("random_contact", "")] * (
        PLAN_RANDOM // 2
    )
    rng.shuffle(steps)
    # The later-batch points go after a big import, spread over the run.
    for i, pair in enumerate(PLAN_LATER):
        at = (i + 1) * len(steps) // (len(PLAN_LATER) + 1)
        steps[at:at] = list(pair)
    return steps


def test_sync_killed_at_named_points_and_at_random_loses_nothing(kill_env: Path) -> None:
    tmp = kill_env
    started = time.monotonic()
    with start_hub(tmp / "hub.db") as hub:
        hub.add_site(SITE)
        data_dir = tmp / "station"
        proc = tramtiem(
            "enroll",
            "--hub",
            hub.url,
            "--code",
            hub.enrollment_code(SITE),
            "--data-dir",
            str(data_dir),
            "--site-letter",
            "K",
        )
        code, _out, err = finish(proc, "enroll")
        assert code == 0, f"enroll failed: {err[-2000:]}"
        st = open_station(data_dir)
        try:
            wl = Workload(st, random.Random(SEED + 1), id_base=7)
            wl.setup()
            with FaultProxy("127.0.0.1", hub.port, seed=SEED) as proxy:
                loop = KillLoop(hub, proxy, st, data_dir, wl)
                # A first, clean run: the baseline for the random kills' timing.
                loop.outcomes.append(loop.run_watched("clean"))
                steps = plan(loop.rng)
                i = 0
                while i < len(steps) and i < MAX_ITERATIONS:
                    if time.monotonic() - started > TIME_BUDGET_S:
                        break
                    kind, spec = steps[i]
                    loop.write_some(big=kind == "named_big")
                    if kind.startswith("named"):
                        outcome = loop.run_named(spec)
                    else:
                        outcome = loop.run_watched(kind)
                    loop.outcomes.append(outcome)
                    loop.check_no_phantoms(f"step {i} ({outcome.kind} {outcome.spec})")
                    if not outcome.killed:
                        # The run finished before its kill: try that kind of kill again later
                        # (a later-batch point after a big import of its own).
                        steps.append(("named_big", spec) if ":" in spec else (kind, spec))
                    i += 1

                # One clean run drains everything.
                last = loop.run_watched("clean")
                assert "sync ok" in last.stdout and "pending left 0" in last.stdout, last.stdout
                loop.outcomes.append(last)
            counts = check_exactly_once(hub, st, SITE, label="after the kills")
        finally:
            st.close()

    outcomes = loop.outcomes
    kills = [o for o in outcomes if o.killed]
    by_kind = Counter(o.kind.replace("named_big", "named") for o in kills)
    by_point = Counter(o.spec for o in kills if o.kind.startswith("named"))
    random_kills = by_kind["random_start"] + by_kind["random_contact"]
    missed = Counter(
        f"{o.kind} {o.spec.split('s ')[-1]}" for o in outcomes if not o.killed and o.kind != "clean"
    )
    mid_sync = sum(o.contacted for o in kills)
    summary = (
        f"{len(kills)} kills ({mid_sync} after the process reached the hub): {dict(by_kind)}; "
        f"named points {dict(by_point)}; "
        f"runs that finished before their kill: {dict(missed)}; {counts}; expected run "
        f"{loop.expect_total_s:.2f}s, {loop.expect_after_contact_s:.2f}s after contact; "
        f"{time.monotonic() - started:.0f}s"
    )
    print(summary)
    assert len(kills) >= MIN_KILLS, summary
    assert by_kind["named"] >= MIN_NAMED, summary
    assert random_kills >= MIN_RANDOM, summary
    assert by_kind["random_contact"] >= MIN_RANDOM // 2, summary
    for point in CRASH_POINTS:
        assert by_point[point] >= 3, f"{point} killed too rarely; {summary}"
    later = {spec for _pair in PLAN_LATER for _kind, spec in _pair}
    missing = sorted(later - set(by_point))
    assert not missing, f"never killed at the later batch or page {missing}; {summary}"
