"""Upgrading committed fixture databases of every released schema revision.

The fixtures (``fixtures/rev*/``, made by ``make_fixtures.py``; see the README
there) are real SQLCipher files as each release wrote them, with outbox ops
still pending. Opening one with the current code must back it up, migrate it
to the head revision and lose nothing.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from kernel.errors import StoreError, WrongKey
from station import keys
from station.audit import verify_chain
from station.db import open_raw
from station.doctor import diagnose
from station.dto import PersonInput
from station.services import admin, people
from station.store import HEAD_REVISION, current_revision, open_station

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REVISION_DIRS = sorted(p.parent for p in FIXTURES.glob("rev*/station.db"))
FIRST = FIXTURES / "rev0001"

# Documented in fixtures/README.md.
PASSWORD = "tiem-chung-2026"
LOGIN_USER = "dd.hoa"
SITE_CODE = "DN-FIX-01"

Rows = dict[str, list[dict[str, Any]]]


def fixture_revision(src: Path) -> str:
    return src.name.removeprefix("rev")


def read_key(src: Path) -> bytes:
    lines = (src / "KEY.txt").read_text(encoding="utf-8").splitlines()
    return bytes.fromhex(next(ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")))


def install(src: Path, tmp_path: Path) -> tuple[Path, str, bytes]:
    """Copy a fixture data directory and put its key in the (in-memory) keyring."""
    ddir = tmp_path / src.name
    shutil.copytree(src, ddir, ignore=shutil.ignore_patterns("KEY.txt"))
    meta = json.loads((ddir / "station.json").read_text(encoding="utf-8"))
    key = read_key(src)
    keys.store_key(meta["install_id"], key)
    return ddir, meta["install_id"], key


def raw_revision(path: Path, key: bytes) -> str:
    raw = open_raw(path, key)
    try:
        return str(raw.execute("SELECT version_num FROM alembic_version").fetchone()[0])
    finally:
        raw.close()


def snapshot(path: Path, key: bytes) -> tuple[Rows, set[tuple[str, str]]]:
    """Every row of every table (by primary key), and the names of triggers and indexes."""
    raw = open_raw(path, key)
    try:
        tables = [
            str(r[0])
            for r in raw.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
                "AND name NOT LIKE 'person_fts%' AND name != 'alembic_version' ORDER BY name"
            )
        ]
        rows: Rows = {}
        for table in tables:
            info = raw.execute(f"PRAGMA table_info({table})").fetchall()
            pk = [r[1] for r in sorted(info, key=lambda r: r[5]) if r[5]] or ["rowid"]
            cur = raw.execute(f"SELECT * FROM {table} ORDER BY {', '.join(pk)}")
            cols = [d[0] for d in cur.description]
            rows[table] = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        objects = {
            (str(r[0]), str(r[1]))
            for r in raw.execute(
                "SELECT type, name FROM sqlite_master WHERE type IN ('trigger', 'index') "
                "AND name NOT LIKE 'sqlite_autoindex%'"
            )
        }
        return rows, objects
    finally:
        raw.close()


def head_revisions() -> list[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", "station:migrations")
    script = ScriptDirectory.from_config(cfg)
    return [s.revision for s in script.walk_revisions()]


# ---- the fixtures themselves ---------------------------------------------------------


def test_a_fixture_for_every_revision() -> None:
    revs = head_revisions()
    assert HEAD_REVISION in revs
    have = {fixture_revision(d) for d in REVISION_DIRS}
    missing = sorted(set(revs) - have)
    assert not missing, (
        f"no fixture for revision(s) {missing}: run tests/migrations/make_fixtures.py"
    )


@pytest.mark.parametrize("src", REVISION_DIRS, ids=lambda p: p.name)
def test_fixture_is_a_single_small_file_at_its_revision(src: Path) -> None:
    assert {p.name for p in src.iterdir()} == {"station.db", "station.json", "KEY.txt"}
    assert (src / "station.db").stat().st_size < 300_000
    meta = json.loads((src / "station.json").read_text(encoding="utf-8"))
    assert meta["format"] == 1 and meta["site_code"] == SITE_CODE
    assert raw_revision(src / "station.db", read_key(src)) == fixture_revision(src)


# ---- upgrading -----------------------------------------------------------------------


@pytest.mark.parametrize("src", REVISION_DIRS, ids=lambda p: p.name)
def test_every_revision_opens_at_head_and_keeps_everything(
    src: Path, tmp_path: Path, clock: Any
) -> None:
    ddir, _, key = install(src, tmp_path)
    old_rev = fixture_revision(src)
    before, objects_before = snapshot(ddir / "station.db", key)
    pending_before = sum(1 for r in before["sync_outbox"] if r["state"] == "pending")
    assert pending_before > 0

    st = open_station(ddir, clock=clock)
    try:
        with st.read() as conn:
            assert current_revision(conn) == HEAD_REVISION
        report = diagnose(st)
        assert report["ok"], report
        assert report["schema_revision"] == HEAD_REVISION
        assert report["outbox"]["pending"] == pending_before
        assert report["audit"]["entries"] == len(before["audit_log"])
    finally:
        st.close()

    backups = sorted((ddir / "backups").glob("*.db")) if (ddir / "backups").exists() else []
    if old_rev == HEAD_REVISION:
        assert backups == []
    else:
        assert len(backups) == 1
        assert f"from-{old_rev}" in backups[0].name
        assert raw_revision(backups[0], key) == old_rev
        assert snapshot(backups[0], key) == (before, objects_before)

    after, objects_after = snapshot(ddir / "station.db", key)
    assert raw_revision(ddir / "station.db", key) == HEAD_REVISION
    # No trigger (write guards, FTS sync) or index was lost on the way.
    assert objects_before <= objects_after
    assert set(before) <= set(after)
    for table, rows in before.items():
        assert len(after[table]) == len(rows), table
        for old, new in zip(rows, after[table], strict=True):
            assert {k: new[k] for k in old} == old, table


def test_first_revision_upgrade_keeps_pending_ops_and_makes_a_backup(
    tmp_path: Path, clock: Any
) -> None:
    """The acceptance item: rev 0001 with pending ops -> head, backup in backups/."""
    ddir, _, key = install(FIRST, tmp_path)
    before, _ = snapshot(ddir / "station.db", key)
    outbox_before = before["sync_outbox"]
    states = [r["state"] for r in outbox_before]
    assert {"pending", "acked", "rejected"} <= set(states)
    assert not (ddir / "backups").exists()

    st = open_station(ddir, clock=clock)
    try:
        # -- the backup: named after the old revision, still at 0001, same key
        backups = list((ddir / "backups").iterdir())
        assert len(backups) == 1
        backup = backups[0]
        assert backup.suffix == ".db"
        assert "0001" in backup.name and f"pre-{HEAD_REVISION}" in backup.name
        assert raw_revision(backup, key) == "0001"
        raw = open_raw(backup, key)
        try:
            assert raw.execute(
                "SELECT count(*) FROM sync_outbox WHERE state = 'pending'"
            ).fetchone()[0] == states.count("pending")
            cols = [r[1] for r in raw.execute("PRAGMA table_info(person)")]
            assert "consent_at" not in cols
        finally:
            raw.close()

        with st.read() as conn:
            assert current_revision(conn) == HEAD_REVISION
            # -- outbox: same ops, same order, same states and payloads
            outbox = [
                dict(r)
                for r in conn.execute(text("SELECT * FROM sync_outbox ORDER BY op_seq")).mappings()
            ]
            assert outbox == outbox_before
            assert [r["op_seq"] for r in outbox] == sorted(r["op_seq"] for r in outbox)
            pending = conn.execute(
                text("SELECT count(*) FROM sync_outbox WHERE state = 'pending'")
            ).scalar_one()
            assert pending == states.count("pending") == 7
            rejected = conn.execute(
                text("SELECT last_error FROM sync_outbox WHERE state = 'rejected'")
            ).scalar_one()
            assert rejected.startswith("conflict.stale_base_version")
            payload = json.loads(
                conn.execute(
                    text(
                        "SELECT payload FROM sync_outbox WHERE op_type = 'register_person' "
                        "AND state = 'pending' ORDER BY op_seq LIMIT 1"
                    )
                ).scalar_one()
            )
            assert payload["person"]["full_name"] == "Huỳnh Ngọc Ánh"

            # -- domain rows, Vietnamese text intact
            counts = {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in (
                    "person",
                    "registration",
                    "screening",
                    "dose",
                    "adverse_event",
                    "vaccine_lot",
                    "app_user",
                    "audit_log",
                )
            }
            assert counts == {
                "person": 5,
                "registration": 5,
                "screening": 3,
                "dose": 4,
                "adverse_event": 1,
                "vaccine_lot": 1,
                "app_user": 4,
                "audit_log": 25,
            }
            names = conn.execute(text("SELECT full_name FROM person ORDER BY rid")).scalars().all()
            assert names == [
                "Nguyễn Thị Đào",
                "Trần Văn Đức",
                "Huỳnh Ngọc Ánh",
                "Phạm Hữu Lộc",
                "H'Hen Niê",
            ]
            dao = (
                conn.execute(text("SELECT * FROM person WHERE id_number = '075185001234'"))
                .mappings()
                .one()
            )
            assert dao["name_fold"] == "nguyen thi dao"
            assert dao["address_line"] == "Số 12, đường Phạm Văn Thuận"
            assert dao["birth"] == "1985-03-07"
            # -- the new column exists and is NULL for every old row
            assert "consent_at" in dao
            assert (
                conn.execute(
                    text("SELECT count(*) FROM person WHERE consent_at IS NOT NULL")
                ).scalar_one()
                == 0
            )
            voided = conn.execute(
                text("SELECT voided, void_reason FROM dose WHERE voided = 1")
            ).one()
            assert voided[1].startswith("Ghi nhầm loại vắc xin")
            ae = conn.execute(text("SELECT description FROM adverse_event")).scalar_one()
            assert ae.startswith("Đau nhẹ chỗ tiêm")
            # -- the name index still answers (FTS triggers and content survived)
            hit = (
                conn.execute(text("SELECT rowid FROM person_fts WHERE person_fts MATCH 'dao'"))
                .scalars()
                .all()
            )
            assert hit == [dao["rid"]]
            # -- the audit chain still verifies
            chain = verify_chain(conn)
            assert chain.ok and chain.entries == 25
            # -- the write guards are still there after the upgrade
            with pytest.raises(Exception, match="tt_guard"):
                conn.execute(text("UPDATE person SET phone = '0900000000' WHERE rid = 1"))

        report = diagnose(st)
        assert report["ok"], report
        assert report["outbox"]["pending"] == 7
        assert report["outbox"]["rejected"] == 1
        assert report["counts"]["person"] == 5

        # -- new writes work after the upgrade
        max_seq = max(r["op_seq"] for r in outbox_before)
        max_hlc = max(r["hlc"] for r in outbox_before)
        actor = admin.login(st, LOGIN_USER, PASSWORD)
        assert actor.role == "supervisor" and actor.site_code == SITE_CODE
        result = people.register_walk_in(
            st,
            actor,
            PersonInput(
                full_name="Đỗ Thị Thu Hương",
                birth="12/04/1994",
                sex="F",
                id_type="cccd",
                id_number="075194007788",
                phone="0387654321",
                province_code="75",
                address_line="Số 8, đường Võ Thị Sáu",
                priority_group=9,
                consent=True,
            ),
        )
        assert result.person.full_name == "Đỗ Thị Thu Hương"
        assert result.person.consent_at is not None
        assert result.registration is not None and result.registration.queue_label == "A1"
        with st.read() as conn:
            new = conn.execute(
                text("SELECT op_seq, hlc, state FROM sync_outbox WHERE op_id = :o"),
                {"o": result.op_id},
            ).one()
            assert new.op_seq == max_seq + 1
            assert new.hlc > max_hlc
            assert new.state == "pending"
            old_after = [
                dict(r)
                for r in conn.execute(
                    text("SELECT * FROM sync_outbox WHERE op_seq <= :m ORDER BY op_seq"),
                    {"m": max_seq},
                ).mappings()
            ]
            assert old_after == outbox_before
            assert verify_chain(conn).ok
        report = diagnose(st)
        assert report["ok"], report
        assert report["outbox"]["pending"] == 8
    finally:
        st.close()

    # Opening again: already at head, so no second backup.
    st = open_station(ddir, clock=clock)
    st.close()
    assert len(list((ddir / "backups").iterdir())) == 1


def test_head_fixture_opens_without_backup(tmp_path: Path, clock: Any) -> None:
    ddir, _, key = install(FIXTURES / f"rev{HEAD_REVISION}", tmp_path)
    st = open_station(ddir, clock=clock)
    try:
        assert diagnose(st)["ok"]
    finally:
        st.close()
    assert not (ddir / "backups").exists() or not any((ddir / "backups").iterdir())
    assert raw_revision(ddir / "station.db", key) == HEAD_REVISION


def test_wrong_key_is_refused_and_changes_nothing(tmp_path: Path, clock: Any) -> None:
    ddir, install_id, key = install(FIRST, tmp_path)
    keys.store_key(install_id, bytes(reversed(key)))
    before = (ddir / "station.db").read_bytes()
    with pytest.raises(WrongKey):
        open_station(ddir, clock=clock)
    assert not (ddir / "backups").exists()
    assert (ddir / "station.db").read_bytes() == before
    assert raw_revision(ddir / "station.db", key) == "0001"


def test_old_revision_without_migrate_is_refused(tmp_path: Path, clock: Any) -> None:
    ddir, _, key = install(FIRST, tmp_path)
    with pytest.raises(StoreError) as exc:
        open_station(ddir, clock=clock, migrate=False)
    assert exc.value.code == "store.schema_old"
    assert not (ddir / "backups").exists()
    assert raw_revision(ddir / "station.db", key) == "0001"


def test_migration_failing_midway_leaves_the_old_file_and_the_backup(
    tmp_path: Path, clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A power cut during the upgrade: nothing half-applied, the next start retries."""
    from sqlalchemy import event

    import station.store

    ddir, _, key = install(FIRST, tmp_path)
    before, _ = snapshot(ddir / "station.db", key)
    real_make_engine = station.store.make_engine

    def failing_engine(*args: Any, **kw: Any) -> Any:
        engine = real_make_engine(*args, **kw)

        @event.listens_for(engine, "before_cursor_execute")
        def _cut(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
            if statement.lstrip().upper().startswith("UPDATE ALEMBIC_VERSION"):
                raise RuntimeError("simulated power cut")

        return engine

    monkeypatch.setattr(station.store, "make_engine", failing_engine)
    with pytest.raises(RuntimeError, match="simulated power cut"):
        open_station(ddir, clock=clock)
    assert raw_revision(ddir / "station.db", key) == "0001"
    assert snapshot(ddir / "station.db", key)[0] == before
    assert len(list((ddir / "backups").glob("*from-0001*.db"))) == 1

    monkeypatch.setattr(station.store, "make_engine", real_make_engine)
    st = open_station(ddir, clock=clock)
    try:
        assert diagnose(st)["ok"]
    finally:
        st.close()
    assert len(list((ddir / "backups").glob("*from-0001*.db"))) == 2


def test_doses_before_0004_keep_their_lot_count_and_new_doses_record_a_volume(
    tmp_path: Path, clock: Any
) -> None:
    """Issue 12: rev 0002 -> head. Old doses have no volume (NULL) and still take one dose
    each from their lot; a dose recorded after the upgrade stores what was injected."""
    from station.dto import DoseInput
    from station.services import clinical

    ddir, _, _key = install(FIXTURES / "rev0002", tmp_path)
    st = open_station(ddir, clock=clock)
    try:
        with st.read() as conn:
            cols = {r[1] for r in conn.exec_driver_sql("PRAGMA table_info(dose)")}
            assert {"volume_ml", "override_by", "override_reason"} <= cols
            volumes = conn.execute(text("SELECT volume_ml, override_reason FROM dose")).all()
            assert volumes and all(v == (None, None) for v in volumes)
        (lot,) = admin.list_lots(st, include_inactive=True)
        # d1 and d3 of this lot (d2, voided, was Pfizer without a lot): one dose each, as before.
        assert (lot.vaccine_code, lot.doses_used) == ("AZ", 2.0)
        actor = admin.login(st, LOGIN_USER, PASSWORD)
        # Today (2026-12-01) a walk-in adult: screened on the current form, then dosed.
        res = people.register_walk_in(st, actor, PersonInput(
            full_name="Đỗ Thị Thu Hương", birth="12/04/1994", sex="F", id_type="none",
            phone="0387654321", priority_group=9, consent=True))
        form = clinical.screening_form_for(st, res.person.id)
        assert form.form_id == "5785-2021-12"
        clinical.record_screening(st, actor, res.person.id, outcome="eligible",
                                  answers={"1": False, "2": False, "3a": False, "3b": False,
                                           "4": False, "5": False, "6": False, "7": False,
                                           "8": False, "9": False, "10": False, "11": False})
        dose = clinical.record_dose(st, actor, DoseInput(res.person.id, lot.id,
                                                         injection_site="right_deltoid"))
        assert dose.volume_ml == 0.5
        (lot,) = admin.list_lots(st, include_inactive=True)
        assert lot.doses_used == 3.0
    finally:
        st.close()


def test_0005_sets_the_origin_of_own_doses_and_leaves_pulled_ones_unowned(
    tmp_path: Path, clock: Any
) -> None:
    """Revision 0005: a dose this station entered is its own (outbox op, or audit entry once
    the op was purged after retention); a dose pulled from a sibling is not."""
    from station import tally

    ddir, install_id, key = install(FIXTURES / "rev0004", tmp_path)
    raw = open_raw(ddir / "station.db", key)
    try:
        raw.create_function("tt_ctx", 0, lambda: "migrate")
        own = [str(r[0]) for r in raw.execute("SELECT id FROM dose WHERE source = 'site' ORDER BY id")]
        assert len(own) >= 2
        # One own dose's op was purged after retention: only the audit log remembers it.
        raw.execute(
            "DELETE FROM sync_outbox WHERE op_type = 'record_dose' AND entity_id = ?", (own[0],)
        )
        # A dose a sibling entered, pulled from the hub (no op, no audit entry here).
        cols = [r[1] for r in raw.execute("PRAGMA table_info(dose)")]
        row = dict(zip(cols, raw.execute("SELECT * FROM dose WHERE id = ?", (own[1],)).fetchone(), strict=True))
        row |= {"id": "019ac1e5-ffff-7000-8000-000000000001", "voided": 0, "version": 3}
        raw.execute(
            f"INSERT INTO dose ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
            tuple(row.values()),
        )
        valid_own = raw.execute(
            "SELECT count(*) FROM dose WHERE source = 'site' AND voided = 0 AND id != ?",
            (row["id"],),
        ).fetchone()[0]
    finally:
        raw.close()

    st = open_station(ddir, clock=clock)
    try:
        with st.read() as conn:
            origins = dict(
                conn.execute(text("SELECT id, origin_station FROM dose")).all()  # type: ignore[arg-type]
            )
        assert origins[row["id"]] is None
        assert {origins[d] for d in own} == {install_id}
        assert all(v == install_id for k, v in origins.items() if k != row["id"])
        # The tally counts this station's own doses only: the pulled one is not "given here".
        t = tally.compute(st)
        assert sum(r.entered for r in t.rows) == valid_own
    finally:
        st.close()
