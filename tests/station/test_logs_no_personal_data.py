"""After a full clinic flow, the log files hold none of the names, ID numbers or phones used.

The flow runs at DEBUG level through the real entry points' logging
(``station.logsetup`` as used by ``tramtiem enroll``/``sync`` and the app):
two stations enroll with a real hub over HTTP on 127.0.0.1, register people
(CCCD and CMND), screen, vaccinate, record an adverse event, void a dose,
edit a phone on both stations (a conflict at the hub), sync both ways, and
the window logs in and searches by name. Then every log file in both data
directories, everything written to stdout/stderr, and the messages of the
exceptions the flow raised are searched for the personal data.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub import service
from hub.app import HubSettings
from hub.db import Database
from hub.ingest import utc_now
from hub.server import run_hub
from kernel.errors import StationError
from kernel.rules.vietnam import fold
from station import logsetup
from station.dto import DoseInput, LotInput, PersonInput, UserInput
from station.search import find_by_id_number, find_by_phone, search
from station.services import admin, clinical, people
from station.store import Actor, Station, open_station
from tests.station.helpers import ELIGIBLE_4355
from ui import cli as tramtiem_cli

SITE = "DN-LOG-01"
PASSWORD = "mat-khau-123"

# Fake people; each field is searched for in the logs afterwards.
PEOPLE = [
    PersonInput(full_name="Nguyễn Thị Đào", birth="07/03/1985", sex="F", id_type="cccd",
                id_number="075185001234", phone="0912345678", priority_group=9,
                province_code="75", address_line="Số 12, đường Phạm Văn Thuận"),
    PersonInput(full_name="Trần Quốc Bảo", birth="02/05/1980", sex="M", id_type="cccd",
                id_number="075080012345", phone="0387654321", priority_group=9,
                province_code="75", address_line="Ấp Bến Gỗ, Long Hưng"),
    PersonInput(full_name="Lê Hoàng Yến", birth="12/11/1972", sex="F", id_type="cmnd",
                id_number="271234567", phone="0707123456", priority_group=13,
                province_code="75", address_line="Tổ 7, khu phố Tân Mai"),
]
NEW_PHONE_A = "0977111222"
NEW_PHONE_B = "0966333444"


def secrets_of(p: PersonInput) -> list[str]:
    assert p.phone and p.id_number and p.address_line
    return [
        p.full_name,
        fold(p.full_name),  # the search index's form
        p.id_number,
        p.phone,
        p.phone[1:],  # also inside "+84…"
        p.address_line,
    ]


SECRETS = sorted({s for p in PEOPLE for s in secrets_of(p)} | {NEW_PHONE_A, NEW_PHONE_B,
                                                               NEW_PHONE_A[1:], NEW_PHONE_B[1:]})


@pytest.fixture
def debug_logging(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv(logsetup.LEVEL_ENV, "DEBUG")
    root = logging.getLogger()
    level = root.level
    yield
    logsetup.teardown()
    root.setLevel(level)


def _users(st: Station) -> dict[str, Actor]:
    system = Actor.system(st.site_code)
    roles = {"tnv": "volunteer", "thuky": "clerk", "bacsi": "screener", "giamsat": "supervisor"}
    for name, role in roles.items():
        admin.create_user(st, system, UserInput(name, f"Nhân viên {role}", role, PASSWORD))
    return {role: admin.login(st, name, PASSWORD) for name, role in roles.items()}


def _cli(*argv: str) -> int:
    return tramtiem_cli.main(list(argv))


def _clinic_flow(st: Station, raised: list[BaseException]) -> None:
    staff = _users(st)
    lot = admin.upsert_lot(st, staff["supervisor"], LotInput("PFIZER", "FK0891", "30/06/2027", 500))
    ids = []
    for p in PEOPLE:
        ids.append(people.register_walk_in(st, staff["volunteer"], p).person.id)
    dose_ids = []
    for pid in ids[:2]:
        clinical.record_screening(st, staff["screener"], pid, answers=ELIGIBLE_4355, outcome="eligible")
        dose_ids.append(clinical.record_dose(st, staff["clerk"], DoseInput(pid, lot.id)).id)
    clinical.record_adverse_event(
        st, staff["clerk"], dose_ids[0], severity="common",
        description=f"{PEOPLE[0].full_name} đau nhẹ chỗ tiêm, gọi {PEOPLE[0].phone}")
    clinical.end_observation(st, staff["clerk"], dose_ids[0], early_reason="left_against_advice")
    clinical.void_dose(st, staff["supervisor"], dose_ids[1],
                       f"Ghi nhầm người: {PEOPLE[1].full_name} {PEOPLE[1].id_number}")
    # What the desk types into search, and errors it provokes on the way.
    assert search(st, fold(PEOPLE[0].full_name))
    assert find_by_id_number(st, PEOPLE[1].id_number) is not None
    assert find_by_phone(st, PEOPLE[2].phone or "")
    attempts = [
        lambda: people.register_walk_in(st, staff["volunteer"], PEOPLE[0]),  # the same ID again
        lambda: people.register_walk_in(
            st, staff["volunteer"],
            PersonInput(full_name=PEOPLE[1].full_name, birth="31/02/1980", sex="M",
                        id_type="cccd", id_number=PEOPLE[1].id_number + "9",
                        phone=PEOPLE[1].phone + "77", priority_group=9)),
        lambda: clinical.record_dose(st, staff["clerk"], DoseInput(ids[2], lot.id)),  # unscreened
    ]
    for attempt in attempts:
        try:
            attempt()
        except StationError as exc:
            raised.append(exc)


def test_full_clinic_flow_leaves_no_personal_data_in_logs(
    tmp_path: Path, debug_logging: None, capfd: pytest.CaptureFixture[str], qapp: object,
    qtbot: object,
) -> None:
    raised: list[BaseException] = []
    hub_url = f"sqlite:///{tmp_path / 'hub.db'}"
    dir_a, dir_b = tmp_path / "station-a", tmp_path / "station-b"
    with run_hub(HubSettings(database_url=hub_url)) as hub:
        db = Database(hub_url)
        try:
            service.add_site(db, SITE, "Điểm tiêm Long Hưng", "75", now=utc_now())
            codes = [service.new_enrollment_code(db, SITE, ttl_hours=1, now=utc_now())
                     for _ in range(2)]
        finally:
            db.dispose()
        assert _cli("enroll", "--hub", hub.url, "--code", codes[0], "--data-dir", str(dir_a)) == 0
        assert _cli("enroll", "--hub", hub.url, "--code", codes[1], "--data-dir", str(dir_b),
                    "--site-letter", "B") == 0

        # Station A: the clinic day, through the services, with A's command log active.
        logsetup.setup(dir_a, "cli")
        st = open_station(dir_a)
        try:
            _clinic_flow(st, raised)
            person_a = search(st, fold(PEOPLE[0].full_name))[0].person_id
        finally:
            st.close()
        assert _cli("sync", "--once", "--data-dir", str(dir_a)) == 0
        # Station B pulls everyone (names and all), then both edit one phone: a conflict.
        assert _cli("sync", "--once", "--data-dir", str(dir_b)) == 0
        for ddir, phone in ((dir_a, NEW_PHONE_A), (dir_b, NEW_PHONE_B)):
            logsetup.setup(ddir, "cli")
            st = open_station(ddir)
            try:
                sup = admin.login(st, "giamsat", PASSWORD)  # B has A's users from the hub
                people.update_person(st, sup, person_a, {"phone": phone})
            finally:
                st.close()
        for ddir in (dir_a, dir_b, dir_a):
            assert _cli("sync", "--once", "--data-dir", str(ddir)) == 0

        # The window on station A: log in and search by name, with the app's log.
        _ui_flow(dir_a, qapp, qtbot)

    logsetup.teardown()
    logs = sorted((dir_a / "logs").glob("*.log*")) + sorted((dir_b / "logs").glob("*.log*"))
    names = {p.name for p in logs}
    assert {"cli.log", "sync.log"} <= names, names  # app.log only if the window logged
    text = "\n".join(p.read_text(encoding="utf-8") for p in logs)
    assert " DEBUG " in text, "the flow did not log at DEBUG: the check would prove little"
    assert "sync cycle ok" in text
    captured = capfd.readouterr()
    exc_text = "\n".join(f"{exc!s}\n{exc!r}" for exc in raised)
    assert len(raised) == 3
    for where, content in (("log files", text), ("stdout", captured.out),
                           ("stderr", captured.err), ("exception messages", exc_text)):
        leaked = [s for s in SECRETS if s in content]
        assert not leaked, f"personal data in {where}: {leaked}"


def _ui_flow(data_dir: Path, qapp: object, qtbot: object) -> None:
    from ui.app import StationApp

    logsetup.setup(data_dir, "app")
    st = open_station(data_dir)
    app = StationApp(qapp, data_dir, station=st, start_engine=False)  # type: ignore[arg-type]
    try:
        app.start()
        panel = app.login.panel
        qtbot.waitUntil(panel.username.isEnabled, timeout=10_000)  # type: ignore[attr-defined]
        panel.username.setText("thuky")
        panel.password.setText(PASSWORD)
        panel.submit()
        qtbot.waitUntil(lambda: app.main is not None and app.main.isVisible(),  # type: ignore[attr-defined]
                        timeout=10_000)
        assert app.main is not None
        rec = app.main.workspaces["reception"]
        rec.search_box.setText(PEOPLE[2].full_name)  # type: ignore[attr-defined]
        qtbot.waitUntil(lambda: rec.hits_model.rowCount() > 0, timeout=10_000)  # type: ignore[attr-defined]
        qtbot.waitUntil(lambda: app.tasks.in_flight() == 0, timeout=10_000)  # type: ignore[attr-defined]
    finally:
        app.shutdown()
        st.close()


# ---- the safety net itself --------------------------------------------------------------


def test_filter_redacts_ids_phones_and_exception_messages(tmp_path: Path, debug_logging: None) -> None:
    path = logsetup.setup(tmp_path, "cli", stderr_level=None)
    assert path == tmp_path / "logs" / "cli.log"
    assert not (tmp_path / "logs").exists(), "nothing is created before the first line"
    log = logging.getLogger("tests.logs")
    log.debug("looked up %s and %s", "075185001234", "0912 345 678")
    log.info("cmnd 271234567, phone +84 912345678, passport C1234567, op %s",
             "019ac1e5-5d80-7a3c-8e21-401234567890")
    quoted = "Nguyễn Thị Đào"  # on its own line: tracebacks show the raising line's source
    try:
        raise ValueError(quoted)
    except ValueError:
        log.exception("a task failed")
    try:
        raise StationError("store.key_missing", install_id="abc")
    except StationError:
        log.warning("store error", exc_info=True)
    logsetup.teardown()
    text = path.read_text(encoding="utf-8")
    for secret in ("075185001234", "0912 345 678", "271234567", "912345678", "C1234567",
                   "Nguyễn"):
        assert secret not in text
    assert text.count("[id]") == 3 and text.count("[phone]") == 2
    assert "019ac1e5-5d80-7a3c-8e21-401234567890" in text  # UUIDs stay (they are how we debug)
    assert "ValueError (message withheld" in text
    assert "store.key_missing" in text  # the station's own errors are codes: kept


def test_a_malformed_log_call_keeps_its_line_but_not_its_arguments() -> None:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "dose for %d", ("Lê Hoàng Yến",), None)
    assert logsetup.RedactingFilter().filter(record)
    assert record.getMessage() == "dose for %d (unformattable arguments withheld)"


def test_quiet_loggers_stay_quiet_at_debug(tmp_path: Path, debug_logging: None) -> None:
    logsetup.setup(tmp_path, "cli", stderr_level=None)
    assert logging.getLogger().getEffectiveLevel() == logging.DEBUG
    assert not logging.getLogger("sqlalchemy.engine.Engine").isEnabledFor(logging.INFO)
