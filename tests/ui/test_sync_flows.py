"""Acceptance: the real window syncing with a real hub over HTTP on 127.0.0.1.

Real station file, real hub (``run_hub`` over SQLite), the station enrolled
through ``/enroll``, the real ``SyncEngine`` on its own thread (short
intervals) attached to the app through ``ui.bridge.EngineController``. The
clinic work is typed with key events, as in ``test_flows.py``.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from sqlalchemy import text

from station.demo import fake_person
from station.dto import PersonInput, UserInput
from station.services import admin, people
from station.store import Actor, Station, init_station
from sync.engine import SyncEngine
from tests.station.conftest import PASSWORD, SITE, Staff
from tests.station.helpers import QR_AN
from tests.ui.conftest import WAIT_MS, Keyboard, login, wait_idle
from tests.ui.sync_helpers import LiveHub, WallClock, build_engine
from tests.ui.test_flows import choose_lot, switch_user
from ui.app import StationApp
from ui.bridge import LineStateChanged, OpsRejected, PendingChanged
from ui.main_window import MainWindow
from ui.status_bar import StationStatusBar
from ui.workspaces.observation import ObservationWorkspace
from ui.workspaces.reception import ReceptionWorkspace
from ui.workspaces.screening import ScreeningWorkspace
from ui.workspaces.sync import SyncWorkspace
from ui.workspaces.vaccination import VaccinationWorkspace

K = Qt.Key
SYNC_WAIT_MS = 30_000  # the bound for a queue to drain once the hub is back
# What a log line must never contain (DESIGN §3.10): names, ID and phone numbers typed here.
PERSONAL = (
    "Nguyễn Văn An",
    "NGUYỄN VĂN AN",
    "075090001234",
    "0912345678",
    "Võ Thị Mai",
    "Vo Thi Mai",
    "0907778888",
)


@pytest.fixture
def clock() -> WallClock:
    """Overrides the frozen test clock: the hub runs on real time (see WallClock)."""
    return WallClock()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[LiveHub]:
    h = LiveHub(tmp_path, SITE)
    h.start()
    yield h
    h.close()


@pytest.fixture
def hub_process(tmp_path: Path) -> Iterator[LiveHub]:
    """The hub in a child process: its Python work does not share this process's GIL."""
    h = LiveHub(tmp_path, SITE, child_process=True)
    h.start()
    yield h
    h.close()


AppFactory = Callable[..., tuple[StationApp, SyncEngine]]


@pytest.fixture
def synced_app(qapp: QApplication, st: Station, staff: Staff) -> Iterator[AppFactory]:
    """Opens the app on ``st`` with the real engine attached (the station must be enrolled)."""
    made: list[tuple[StationApp, SyncEngine]] = []

    def make(*, start: bool = True, **settings: object) -> tuple[StationApp, SyncEngine]:
        engine, controller = build_engine(st, **settings)
        ui = StationApp(qapp, st.data_dir, station=st, controller=controller)
        ui.start()
        if start:
            engine.start()
        made.append((ui, engine))
        return ui, engine

    yield make
    for ui, engine in made:
        ui.shutdown()
        assert engine.stop(timeout=30), "the sync thread did not stop"


@pytest.fixture
def no_personal_data_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    caplog.set_level(logging.DEBUG)
    yield
    for rec in caplog.records:
        line = rec.getMessage()
        leaked = [p for p in PERSONAL if p in line]
        assert not leaked, f"personal data in a log line from {rec.name}"


def status_bar(app: StationApp) -> StationStatusBar:
    assert app.main is not None
    bar = app.main.statusBar()
    assert isinstance(bar, StationStatusBar)
    return bar


def shows_synced(app: StationApp) -> bool:
    """The status bar says: online (between cycles), nothing waiting, and when it last synced."""
    if app.main is None:
        return False
    bar, snap = status_bar(app), app.bridge.snapshot
    return (
        snap.line.state == "online"
        and bar.line.property("state") == "online"
        and snap.pending.count == 0
        and bar.pending.text() == bar.tr("All sent")
        and snap.last_success is not None
        and bar.last_sync.text() != bar.tr("Never synced")
    )


def outbox_waiting(st: Station) -> int:
    with st.read() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM sync_outbox WHERE state IN ('pending', 'inflight')")
            ).scalar_one()
        )


# ---- the clinic steps, typed ---------------------------------------------------------------------


def walk_in_from_qr(qtbot, app: StationApp, kb: Keyboard) -> str:
    """Volunteer: scan the CCCD QR, type phone + priority group, Enter. Returns the person id."""
    main = login(qtbot, app, kb, "tnv")
    rec = main.workspaces["reception"]
    assert isinstance(rec, ReceptionWorkspace)
    rec.search_box.setFocus()
    kb.type(QR_AN)
    kb.enter()
    wait_idle(qtbot, app)
    form = rec.form
    assert rec.form_open()
    assert (form.full_name.text(), form.id_number.text()) == ("Nguyễn Văn An", "075090001234")
    assert QApplication.focusWidget() is form.phone
    kb.type("0912345678")
    kb.tab()
    kb.type("9")
    kb.enter()
    wait_idle(qtbot, app)
    assert rec.queue_label.text() == "A1"
    regs = people.registrations_for_day(app.station)  # type: ignore[arg-type]
    assert len(regs) == 1
    return regs[0][0].person_id


def screen_and_vaccinate(qtbot, app: StationApp, kb: Keyboard, lot_id: str) -> MainWindow:
    """Doctor clears the person (Ctrl+Enter), clerk records the dose with the session lot (Enter)."""
    main = switch_user(qtbot, app, kb, "bacsi")
    kb.key(K.Key_F3, main)
    scr = main.workspaces["screening"]
    assert isinstance(scr, ScreeningWorkspace)
    wait_idle(qtbot, app)
    assert scr.queue_model.rowCount() == 1
    kb.type("36.8", scr.vitals["temperature"])
    assert scr.suggestion() == "eligible"
    kb.key(K.Key_Return, scr.vitals["temperature"], Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, app)
    assert scr.queue_model.rowCount() == 0

    main = switch_user(qtbot, app, kb, "thuky")
    kb.key(K.Key_F4, main)
    vac = main.workspaces["vaccination"]
    assert isinstance(vac, VaccinationWorkspace)
    wait_idle(qtbot, app)
    choose_lot(qtbot, app, kb, vac, lot_id)
    vac.queue_view.setFocus()
    kb.enter()
    wait_idle(qtbot, app)
    assert vac.confirm_dialog is None
    assert [d.dose_number for d in vac.history_model.rows()] == [1]
    return main


# ---- 1. walk-in → screening → dose → observation → on the hub -------------------------------------


@pytest.mark.usefixtures("no_personal_data_in_logs")
def test_walk_in_from_qr_to_observation_ends_synced_to_the_hub(
    qtbot, hub: LiveHub, synced_app: AppFactory, kb: Keyboard, st: Station, lot_id: str
):
    hub.enroll(st, "may 1")
    app, _engine = synced_app()
    person_id = walk_in_from_qr(qtbot, app, kb)
    main = screen_and_vaccinate(qtbot, app, kb, lot_id)

    kb.key(K.Key_F5, main)
    obs = main.workspaces["observation"]
    assert isinstance(obs, ObservationWorkspace)
    wait_idle(qtbot, app)
    assert obs.model.rowCount() == 1
    # A few minutes later she feels feverish. (Not in the dose's minute: see the test below.)
    st.clock.advance(minutes=5)  # type: ignore[attr-defined]
    obs.view.setFocus()
    kb.key(K.Key_E, obs.view, Qt.KeyboardModifier.ControlModifier)
    dialog = obs.ae_dialog
    assert dialog is not None and dialog.isVisible()
    dialog.description.setFocus()
    kb.type("Sốt nhẹ, đau chỗ tiêm", dialog.description)
    kb.key(K.Key_Return, dialog.description, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, app)
    assert obs.ae_dialog is None
    st.clock.advance(minutes=26)  # type: ignore[attr-defined]
    obs.undo_ms = 50  # the end is written once its undo time is over
    obs.view.setFocus()
    kb.enter(obs.view)
    qtbot.waitUntil(lambda: not obs.pending_ends(), timeout=5000)
    wait_idle(qtbot, app)
    assert obs.model.rowCount() == 0

    # Nobody presses "sync now": the engine sends everything on its own.
    def on_hub() -> bool:
        return (
            hub.count("SELECT count(*) FROM person WHERE id = :p", p=person_id) == 1
            and hub.count(
                "SELECT count(*) FROM dose WHERE person_id = :p AND observed_at IS NOT NULL",
                p=person_id,
            )
            == 1
            and hub.count("SELECT count(*) FROM adverse_event WHERE person_id = :p", p=person_id)
            == 1
        )

    qtbot.waitUntil(on_hub, timeout=SYNC_WAIT_MS)
    qtbot.waitUntil(lambda: shows_synced(app), timeout=SYNC_WAIT_MS)
    assert outbox_waiting(st) == 0
    assert hub.scalar("SELECT full_name FROM person WHERE id = :p", p=person_id) == "Nguyễn Văn An"
    assert hub.scalar("SELECT id_number FROM person WHERE id = :p", p=person_id) == "075090001234"
    with st.read() as conn:
        rejected = conn.execute(
            text("SELECT count(*) FROM sync_outbox WHERE state = 'rejected'")
        ).scalar()
    assert rejected == 0


# ---- 2. offline: entry works, the queue drains by itself when the hub is back ---------------------


def test_offline_entry_then_queue_drains_when_the_hub_comes_back(
    qtbot, hub: LiveHub, synced_app: AppFactory, kb: Keyboard, st: Station, lot_id: str
):
    hub.enroll(st, "may 1")
    port = hub.port
    hub.stop()  # the line is down before the day starts
    app, engine = synced_app()
    qtbot.waitUntil(lambda: app.bridge.snapshot.line.state == "offline", timeout=WAIT_MS)

    person_id = walk_in_from_qr(qtbot, app, kb)
    screen_and_vaccinate(qtbot, app, kb, lot_id)
    waiting = outbox_waiting(st)
    assert waiting >= 4  # at least register, screening, dose, the lot (and the users)

    def shows_offline_with_pending() -> bool:
        bar, snap = status_bar(app), app.bridge.snapshot
        return (
            snap.line.state == "offline"
            and bar.line.property("state") == "offline"
            and snap.pending.count == waiting
            and str(waiting) in bar.pending.text()
        )

    qtbot.waitUntil(shows_offline_with_pending, timeout=WAIT_MS)
    assert engine.consecutive_failures >= 1
    assert hub.count("SELECT count(*) FROM person") == 0

    # The hub comes back on the same address; nobody touches the app.
    hub.start()
    assert hub.port == port
    qtbot.waitUntil(
        lambda: (
            hub.count("SELECT count(*) FROM dose WHERE person_id = :p", p=person_id) == 1
            and outbox_waiting(st) == 0
        ),
        timeout=SYNC_WAIT_MS,
    )
    qtbot.waitUntil(lambda: shows_synced(app), timeout=SYNC_WAIT_MS)
    assert hub.count("SELECT count(*) FROM person WHERE id = :p", p=person_id) == 1


# ---- 3. the window stays usable while a 10,000-op backlog syncs -------------------------------


BACKLOG = 10_000
BATCH = 2_000
DRAIN_WAIT_MS = 360_000  # a loaded 2-core machine: a bound against hanging, not a figure


@pytest.mark.slow
@pytest.mark.timeout(480)  # the drain takes 1.5–4 min on a loaded 2-core machine
def test_window_stays_usable_while_a_10k_op_backlog_syncs(
    qtbot, hub_process: LiveHub, synced_app: AppFactory, kb: Keyboard, st: Station, staff: Staff
):
    """Reception keeps answering while the engine drains 10,000 ops, and the status bar follows.

    How long the event loop stalls meanwhile is measured by ``python -m bench ui_stall``
    (a figure with a same-run baseline); this test holds no clock.
    """
    hub = hub_process
    rng = random.Random(11)
    for _ in range(BACKLOG // BATCH):
        rows = [fake_person(rng, st.today()) for _ in range(BATCH)]
        people.add_expected(st, staff.supervisor, rows, day=st.today())  # one op per person
    backlog = outbox_waiting(st)
    assert backlog >= BACKLOG
    hub.enroll(st, "may 1")

    # Logged in at Reception before the engine runs: an engine that is slow to start is fine,
    # a window that freezes is not. The engine is attached; it starts after the login.
    app, engine = synced_app(start=False)
    main = login(qtbot, app, kb, "giamsat")
    rec = main.workspaces["reception"]
    assert isinstance(rec, ReceptionWorkspace) and main.current_workspace() is rec
    wait_idle(qtbot, app)
    qtbot.waitUntil(lambda: rec.today_model.rowCount() == BACKLOG, timeout=2 * WAIT_MS)

    engine.start()
    qtbot.waitUntil(lambda: app.bridge.snapshot.progress is not None, timeout=WAIT_MS)
    # A volunteer searches meanwhile (read pool, while the engine writes).
    kb.key(K.Key_F, main, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is rec.search_box
    kb.type("nguyen van")
    qtbot.waitUntil(lambda: rec.hits_model.rowCount() > 0, timeout=WAIT_MS)
    assert outbox_waiting(st) > 0, "the search was answered while the backlog was still syncing"
    qtbot.waitUntil(
        lambda: (
            outbox_waiting(st) == 0 and engine.last_report is not None and engine.last_report.ok
        ),
        timeout=DRAIN_WAIT_MS,
    )
    qtbot.waitUntil(lambda: app.bridge.snapshot.pending.count == 0, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: shows_synced(app), timeout=WAIT_MS)
    assert hub.count("SELECT count(*) FROM person") >= BACKLOG


# ---- 4. a duplicate flagged by the hub, resolved by a supervisor in the Sync workspace ----------


def second_station(tmp_path: Path, clock: WallClock) -> tuple[Station, Actor]:
    """Another laptop of the same site, with its own volunteer."""
    other = init_station(tmp_path / "station-b", SITE, clock=clock, station_letter="B")
    admin.create_user(
        other, Actor.system(SITE), UserInput("tnv2", "Tình nguyện viên hai", "volunteer", PASSWORD)
    )
    return other, admin.login(other, "tnv2", PASSWORD)


@pytest.mark.usefixtures("no_personal_data_in_logs")
def test_supervisor_resolves_a_hub_duplicate_from_the_sync_workspace(
    qtbot,
    hub: LiveHub,
    synced_app: AppFactory,
    kb: Keyboard,
    st: Station,
    staff: Staff,
    tmp_path: Path,
    clock: WallClock,
):
    # Laptop B registers an old lady without papers, and syncs.
    other, volunteer_b = second_station(tmp_path, clock)
    try:
        hub.enroll(other, "may 2")
        b_id = people.register_walk_in(
            other,
            volunteer_b,
            PersonInput(
                full_name="Vo Thi Mai",
                birth="05/05/1960",
                sex="F",
                id_type="none",
                phone="0907778888",
                priority_group=9,
            ),
        ).person.id
        engine_b, _ = build_engine(other)
        assert engine_b.run_once().ok

        # Laptop A (this app) registers her again, with the accents, and syncs by itself.
        hub.enroll(st, "may 1")
        a_id = people.register_walk_in(
            st,
            staff.volunteer,
            PersonInput(
                full_name="Võ Thị Mai",
                birth="05/05/1960",
                sex="F",
                id_type="none",
                phone="0907778888",
                priority_group=9,
            ),
        ).person.id
        app, _engine = synced_app()

        def review_mirrored() -> bool:
            with st.read() as conn:
                return (
                    conn.execute(
                        text(
                            "SELECT count(*) FROM conflict WHERE kind = 'possible_duplicate_person' "
                            "AND status = 'open'"
                        )
                    ).scalar()
                    == 1
                )

        qtbot.waitUntil(review_mirrored, timeout=SYNC_WAIT_MS)
        review_id = hub.scalar(
            "SELECT id FROM review_item WHERE kind = 'possible_duplicate_person'"
        )
        assert isinstance(review_id, str)
        cands = json.loads(
            str(hub.scalar("SELECT candidates FROM review_item WHERE id = :i", i=review_id))
        )
        assert cands["person_ids"] == [b_id, a_id]

        main = login(qtbot, app, kb, "giamsat")
        assert app.poller is not None
        app.poller.poll()  # the 5 s poll, now
        wait_idle(qtbot, app)
        kb.key(K.Key_F6, main)
        ws = main.workspaces["sync"]
        assert isinstance(ws, SyncWorkspace) and main.current_workspace() is ws
        qtbot.waitUntil(
            lambda: [r.id for r in ws.reviews_model.rows()] == [review_id], timeout=WAIT_MS
        )
        ws.reviews_view.setFocus()  # selects the item
        # Both people are known here (B's came with the pull), so the supervisor sees both.
        qtbot.waitUntil(
            lambda: (
                "Võ Thị Mai" in ws.review_detail.text() and "Vo Thi Mai" in ws.review_detail.text()
            ),
            timeout=WAIT_MS,
        )
        merge = ws.action_buttons["merge"]
        assert merge.isVisible() and merge.isEnabled()
        merge.setFocus()
        kb.key(K.Key_Space, merge)
        wait_idle(qtbot, app)
        assert ws.reviews_model.rowCount() == 0

        # The decision syncs by itself; the hub applies it.
        qtbot.waitUntil(
            lambda: (
                hub.scalar("SELECT status FROM review_item WHERE id = :i", i=review_id)
                == "resolved"
            ),
            timeout=SYNC_WAIT_MS,
        )
        resolution = json.loads(
            str(hub.scalar("SELECT resolution FROM review_item WHERE id = :i", i=review_id))
        )
        assert resolution["action"] == "merge" and resolution["site_code"] == SITE
        assert hub.scalar("SELECT to_id FROM person_redirect WHERE from_id = :f", f=a_id) == b_id

        # The hub's answer comes back to A with a later pull: no longer "pending" here.
        def confirmed_here() -> bool:
            with st.read() as conn:
                raw = conn.execute(
                    text("SELECT resolution FROM conflict WHERE id = :i"), {"i": review_id}
                ).scalar()
            return raw is not None and not json.loads(raw).get("pending")

        qtbot.waitUntil(confirmed_here, timeout=SYNC_WAIT_MS)
        qtbot.waitUntil(lambda: shows_synced(app), timeout=SYNC_WAIT_MS)
        assert ws.reviews_model.rowCount() == 0
        # And laptop B learns the decision on its next sync.
        assert engine_b.run_once().ok
        with other.read() as conn:
            assert (
                conn.execute(
                    text("SELECT status FROM conflict WHERE id = :i"), {"i": review_id}
                ).scalar()
                == "resolved"
            )
    finally:
        other.close()


# ---- bugs found while writing the tests above -------------------------------------------------------


def test_a_replaced_window_stops_listening_to_sync_events(qtbot, app: StationApp, kb: Keyboard):
    """After a user switch the old window is deleted; sync events must not reach its widgets.

    With the real engine an event arrives every cycle; a lambda connected to the
    long-lived bridge outlives the window and raises "Internal C++ object already
    deleted" on every event (status bar and Sync workspace).
    """
    main = login(qtbot, app, kb, "giamsat")
    kb.key(K.Key_F6, main)  # builds the Sync workspace too
    new = switch_user(qtbot, app, kb, "thuky")
    assert new is not main
    qtbot.wait(50)  # the old window is deleted (deferred delete)
    app.bridge.feed(PendingChanged(3, None))
    app.bridge.feed(LineStateChanged("offline"))
    app.bridge.feed(OpsRejected(()))
    qtbot.waitUntil(lambda: app.bridge.snapshot.line.state == "offline", timeout=WAIT_MS)
    assert "3" in status_bar(app).pending.text()


def test_adverse_event_in_the_same_minute_as_the_dose_is_recorded(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff: Staff, lot_id: str, clock: WallClock
):
    """Anaphylaxis shows within minutes: the default onset ("now") must be accepted."""
    from station.dto import DoseInput
    from station.services import clinical
    from tests.station.helpers import ELIGIBLE_4355

    clock.frozen = (clock() + timedelta(minutes=1)).replace(
        second=30, microsecond=0
    )  # 30 s into a minute
    res = people.register_walk_in(
        st,
        staff.volunteer,
        PersonInput(
            full_name="Lê Văn Tám",
            birth="1975",
            sex="M",
            id_number="075075003333",
            phone="0903336666",
            priority_group=9,
        ),
    )
    clinical.record_screening(
        st, staff.screener, res.person.id, answers=ELIGIBLE_4355, outcome="eligible"
    )
    clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id))
    main = login(qtbot, app, kb, "thuky")
    kb.key(K.Key_F5, main)
    obs = main.workspaces["observation"]
    assert isinstance(obs, ObservationWorkspace)
    wait_idle(qtbot, app)
    obs.view.setFocus()
    kb.key(K.Key_E, obs.view, Qt.KeyboardModifier.ControlModifier)
    dialog = obs.ae_dialog
    assert dialog is not None
    kb.type("Khó thở", dialog.description)
    kb.key(K.Key_Return, dialog.description, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, app)
    left = obs.ae_dialog
    assert left is None or not left.errors.has_error("onset_at"), (
        "onset_at.before_dose for the default onset"
    )
    assert left is None
    with st.read() as conn:
        assert conn.execute(text("SELECT count(*) FROM adverse_event")).scalar() == 1
