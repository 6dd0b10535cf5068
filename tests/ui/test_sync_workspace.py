"""Sync status through the bridge, review items resolved by a supervisor, the status bar."""

from __future__ import annotations

import dataclasses
import json
import threading

from PySide6.QtCore import Qt
from sqlalchemy import text

from station.dto import PersonInput
from station.services import people
from station.store import Station
from sync.events import CycleFinished, CycleStarted, PullProgress, PushProgress
from tests.ui.conftest import WAIT_MS, Keyboard, login, wait_idle
from ui import labels, messages
from ui.app import StationApp
from ui.bridge import (
    ClockWarning,
    EngineController,
    LineStateChanged,
    PendingChanged,
    SyncProgress,
    from_engine_event,
)
from ui.workspaces.sync import SyncWorkspace

K = Qt.Key


def test_supervisor_resolves_a_duplicate_from_the_sync_workspace(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff
):
    a = people.register_walk_in(st, staff.volunteer, PersonInput(
        full_name="Võ Thị Mai", birth="05/05/1960", sex="F", id_type="none", phone="0907778888",
        priority_group=9)).person
    b = people.register_walk_in(st, staff.volunteer, PersonInput(
        full_name="Vo Thi Mai", birth="05/05/1960", sex="F", id_type="none", phone="0907778888",
        priority_group=9), check_in=False).person
    # Until the engine pulls real ones, a review item is mirrored as the engine will: sync_writer.
    with st.sync_writer() as conn:
        conn.execute(text(
            "INSERT INTO conflict (id, kind, priority, entity_type, entity_id, status, candidates, created_at) "
            "VALUES ('rv-1', 'possible_duplicate_person', 'high', 'person', :a, 'open', :c, :t)"),
            {"a": a.id, "c": json.dumps({"person_ids": [a.id, b.id]}), "t": "2026-12-01T09:00:00+07:00"})
    main = login(qtbot, app, kb, "giamsat")
    assert app.poller is not None
    app.poller.poll()
    wait_idle(qtbot, app)
    kb.key(K.Key_F6, main)
    ws = main.workspaces["sync"]
    assert isinstance(ws, SyncWorkspace) and main.current_workspace() is ws
    wait_idle(qtbot, app)  # the workspace loads its review items off the GUI thread
    assert ws.reviews_model.rowCount() == 1
    ws.reviews_view.setFocus()  # selects the item
    wait_idle(qtbot, app)
    assert "Võ Thị Mai" in ws.review_detail.text() and "Vo Thi Mai" in ws.review_detail.text()
    merge = ws.action_buttons["merge"]
    assert merge.isVisible() and merge.isEnabled()
    merge.setFocus()
    kb.key(K.Key_Space, merge)
    wait_idle(qtbot, app)
    assert ws.reviews_model.rowCount() == 0
    with st.read() as conn:
        status = conn.execute(text("SELECT status FROM conflict WHERE id = 'rv-1'")).scalar()
        op = conn.execute(text(
            "SELECT payload FROM sync_outbox WHERE op_type = 'resolve_review'")).scalar()
    assert status == "resolved"
    payload = json.loads(op)
    assert payload["action"] == "merge" and payload["to_id"] == a.id and payload["from_id"] == b.id


def test_clerk_sees_reviews_but_cannot_resolve(qtbot, app: StationApp, kb: Keyboard, st: Station):
    with st.sync_writer() as conn:
        conn.execute(text(
            "INSERT INTO conflict (id, kind, priority, entity_type, entity_id, status, candidates, created_at) "
            "VALUES ('rv-2', 'possible_duplicate_dose', 'low', 'dose', 'd1', 'open', '{}', '2026-12-01T08:00:00+07:00')"))
    main = login(qtbot, app, kb, "thuky")
    assert app.poller is not None
    app.poller.poll()
    wait_idle(qtbot, app)
    kb.key(K.Key_F6, main)
    ws = main.workspaces["sync"]
    assert isinstance(ws, SyncWorkspace)
    wait_idle(qtbot, app)
    ws.reviews_view.setFocus()
    # The review list fills from a background read: under load it lands after F6 returns.
    qtbot.waitUntil(lambda: ws.action_buttons["void_dose"].isVisible(), timeout=WAIT_MS)
    assert not ws.action_buttons["void_dose"].isEnabled()


def test_bridge_events_from_another_thread_reach_the_status_bar(qtbot, app: StationApp, kb: Keyboard, st: Station):
    main = login(qtbot, app, kb, "thuky")
    bar = main.statusBar()

    def engine_thread() -> None:
        app.bridge.feed(LineStateChanged("offline"))
        app.bridge.feed(PendingChanged(12, "2026-12-01T08:40:00+07:00"))
        app.bridge.feed(ClockWarning(()))

    t = threading.Thread(target=engine_thread)
    t.start()
    t.join()
    qtbot.waitUntil(lambda: app.bridge.snapshot.pending.count == 12, timeout=5000)
    assert bar.line.property("state") == "offline"
    assert "12" in bar.pending.text()
    assert "20" in bar.pending.text()  # oldest waiting 20 min (clock at 09:00)
    kb.key(K.Key_F6, main)
    ws = main.workspaces["sync"]
    assert isinstance(ws, SyncWorkspace)
    assert ws.pending.text() == "12"
    assert not ws.sync_btn.isEnabled()  # no engine attached: nothing to trigger
    app.bridge.feed(SyncProgress(250, 1000, 90.0))
    qtbot.waitUntil(lambda: ws.progress.value() == 250, timeout=5000)
    assert ws.eta.text() == "01:30"


class FakeEngineForTest:
    """Stands in for sync.engine.SyncEngine in this test only (listener API + trigger)."""

    def __init__(self) -> None:
        self.listeners: list = []
        self.triggered = 0

    def add_listener(self, cb) -> None:
        self.listeners.append(cb)

    def remove_listener(self, cb) -> None:
        self.listeners.remove(cb)

    def trigger(self) -> None:
        self.triggered += 1

    def emit(self, **kw) -> None:
        """The typed event the real engine sends in this state (fields it does not carry dropped)."""
        kind = {"connecting": CycleStarted, "pushing": PushProgress, "pulling": PullProgress}.get(
            kw["state"], CycleFinished)
        ev = kind(**{k: v for k, v in kw.items() if k in {f.name for f in dataclasses.fields(kind)}})
        for cb in list(self.listeners):
            cb(ev)


def test_engine_adapter_maps_events_and_sync_now(qtbot, app: StationApp, kb: Keyboard, st: Station):
    engine = FakeEngineForTest()
    app.bridge.attach(EngineController(engine, st.clock))
    main = login(qtbot, app, kb, "giamsat")
    kb.key(K.Key_F6, main)
    ws = main.workspaces["sync"]
    assert isinstance(ws, SyncWorkspace)
    assert ws.sync_btn.isEnabled()
    kb.key(K.Key_R, ws, Qt.KeyboardModifier.ControlModifier)
    assert engine.triggered == 1
    engine.emit(state="pushing", pending=40, oldest_pending_age_s=600.0, done=10, total=50, eta_s=20.0,
                last_success="2026-12-01T08:55:00+07:00", last_error=None)
    qtbot.waitUntil(lambda: app.bridge.snapshot.line.state == "syncing", timeout=5000)
    assert app.bridge.snapshot.pending.count == 40
    assert app.bridge.snapshot.last_success == "2026-12-01T08:55:00+07:00"
    evs = from_engine_event(CycleFinished(state="idle", pending=0), st.clock())
    assert isinstance(evs[0], LineStateChanged) and evs[0].state == "online"
    # Probing a dead line again is not syncing: the line keeps saying offline.
    engine.emit(state="offline", pending=40, oldest_pending_age_s=600.0, done=0, total=0, eta_s=None,
                last_success=None, last_error="hub.unreachable")
    qtbot.waitUntil(lambda: app.bridge.snapshot.line.state == "offline", timeout=5000)
    engine.emit(state="connecting", pending=41, oldest_pending_age_s=600.0, done=0, total=0, eta_s=None,
                last_success=None, last_error="hub.unreachable")
    qtbot.waitUntil(lambda: app.bridge.snapshot.pending.count == 41, timeout=5000)
    assert app.bridge.snapshot.line.state == "offline"
    app.bridge.detach()
    assert engine.listeners == []


def test_an_untrusted_hub_certificate_is_shown_as_such_with_what_it_staff_must_do(
    qtbot, app: StationApp, kb: Keyboard, st: Station
):
    """Not "Offline": the status bar says certificate, the Sync screen says what to do (vi and en)."""
    main = login(qtbot, app, kb, "giamsat")
    ctl = FakeEngineForTest()
    app.bridge.attach(EngineController(ctl, st.clock))
    ctl.emit(state="offline", last_error="hub.tls_untrusted", pending=3)
    qtbot.waitUntil(lambda: app.bridge.snapshot.line.state == "certificate", timeout=5000)
    bar = main.statusBar()
    assert bar.line.property("state") == "certificate"
    assert bar.line.text() == labels.tr(labels.LINE, "certificate") != labels.tr(labels.LINE, "offline")
    kb.key(K.Key_F6, main)
    ws = main.workspaces["sync"]
    assert isinstance(ws, SyncWorkspace)
    assert ws.tls_banner.isVisible()
    assert messages.text_for("hub.tls_untrusted") in ws.tls_banner.text()
    assert "Trusted Root Certification Authorities" in ws.tls_banner.text()  # the Windows name, in both languages
    assert "TRAMTIEM_CA_FILE" in ws.tls_banner.text()
    # The line recovers: the banner goes.
    ctl.emit(state="idle", pending=0, last_success="2026-12-01T09:05:00+07:00")
    qtbot.waitUntil(lambda: app.bridge.snapshot.line.state == "online", timeout=5000)
    assert not ws.tls_banner.isVisible()


def test_review_items_that_arrive_while_the_list_has_focus_select_the_first(
    qtbot, app: StationApp, kb: Keyboard, st: Station, staff
):
    """The supervisor opens Sync (focus in the empty list), then the item comes: Enter acts on it."""
    a = people.register_walk_in(st, staff.volunteer, PersonInput(
        full_name="Lê Văn Tám", birth="01/02/1970", sex="M", id_type="none", phone="0907771234",
        priority_group=9)).person
    main = login(qtbot, app, kb, "giamsat")
    wait_idle(qtbot, app)
    kb.key(K.Key_F6, main)
    ws = main.workspaces["sync"]
    assert isinstance(ws, SyncWorkspace)
    qtbot.waitUntil(ws.reviews_view.hasFocus, timeout=5000)
    assert ws.reviews_model.rowCount() == 0
    with st.sync_writer() as conn:
        conn.execute(text(
            "INSERT INTO conflict (id, kind, priority, entity_type, entity_id, status, candidates, created_at) "
            "VALUES ('rv-2', 'possible_duplicate_person', 'high', 'person', :a, 'open', :c, :t)"),
            {"a": a.id, "c": json.dumps({"person_ids": [a.id]}), "t": "2026-12-01T09:00:00+07:00"})
    assert app.poller is not None
    app.poller.poll()
    qtbot.waitUntil(lambda: ws.reviews_model.rowCount() == 1, timeout=5000)
    qtbot.waitUntil(lambda: "Lê Văn Tám" in ws.review_detail.text(), timeout=5000)
    assert ws.action_buttons["merge"].isVisible()
