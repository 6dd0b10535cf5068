"""The encrypted store: no plaintext on disk, clear failures without the key or keyring."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from sqlalchemy import text

from kernel.errors import KeyMissing, KeyringUnavailable, StoreError, ValidationError, WrongKey
from station import keys
from station.dto import DoseInput
from station.services import clinical, people
from station.store import HEAD_REVISION, current_revision, db_path, init_station, open_station
from tests.station.helpers import ELIGIBLE_4355, person


def test_raw_file_holds_no_personal_data(st, staff, lot_id, data_dir: Path) -> None:
    res = people.register_walk_in(
        st, staff.volunteer, person(full_name="Trần Thị Xuânmai", phone="0987654321")
    )
    clinical.record_screening(st, staff.screener, res.person.id, answers=ELIGIBLE_4355, outcome="eligible")
    clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id))
    st.close()
    raw = b"".join(p.read_bytes() for p in data_dir.glob("station.db*") if p.is_file())
    assert len(raw) > 10_000
    for needle in ("Xuânmai", "Xu\u00e2nmai", "xuanmai", "0987654321", "075185001234", "FK0891"):
        for enc in ("utf-8", "utf-16-le"):
            assert needle.encode(enc) not in raw, needle
    assert b"SQLite format 3" not in raw[:100]
    # The metadata file holds no key and nothing personal.
    meta = json.loads((data_dir / "station.json").read_text())
    assert set(meta) == {"format", "install_id", "site_code", "created_at"}


def test_plain_sqlite_cannot_read_it(st, data_dir: Path) -> None:
    st.close()
    conn = sqlite3.connect(db_path(data_dir))
    with pytest.raises(sqlite3.DatabaseError, match="not a database"):
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    conn.close()


def test_missing_key_fails_with_documented_code(st, data_dir: Path, memory_keyring) -> None:
    st.close()
    memory_keyring.store.clear()
    with pytest.raises(KeyMissing) as err:
        open_station(data_dir)
    assert err.value.code == "store.key_missing"


def test_wrong_key_fails_with_documented_code(st, data_dir: Path) -> None:
    st.close()
    install_id = json.loads((data_dir / "station.json").read_text())["install_id"]
    keys.store_key(install_id, b"\x01" * 32)
    with pytest.raises(WrongKey) as err:
        open_station(data_dir)
    assert err.value.code == "store.wrong_key"


def test_no_keyring_backend_stops_with_help(data_dir: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(KeyringUnavailable) as err:
        init_station(data_dir, "DN-TEST-01")
    assert err.value.code == "store.keyring_unavailable"
    assert "PYTHON_KEYRING_BACKEND" in keys.KEYRING_HELP
    # Nothing half-made, and certainly no plaintext key file.
    assert not data_dir.exists() or not any(data_dir.iterdir())


def test_implicit_plaintext_keyring_is_refused(data_dir: Path, monkeypatch, tmp_path) -> None:
    from keyrings.alt.file import PlaintextKeyring

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    keyring.set_keyring(PlaintextKeyring())
    with pytest.raises(KeyringUnavailable):
        init_station(data_dir, "DN-TEST-01")
    # Chosen explicitly, it is accepted (documented for headless test boxes).
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    init_station(data_dir, "DN-TEST-01").close()


def test_pragmas_and_revision(st) -> None:
    with st.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert current_revision(conn) == HEAD_REVISION


def test_init_refuses_bad_site_code_and_existing_dir(data_dir: Path, st) -> None:
    with pytest.raises(ValidationError) as err:
        init_station(data_dir.parent / "other", "bad code!")
    assert err.value.fields == {"site_code"}
    with pytest.raises(StoreError) as err2:
        init_station(data_dir, "DN-TEST-01")
    assert err2.value.code == "store.already_initialised"


def test_open_uninitialised_dir(tmp_path: Path) -> None:
    with pytest.raises(StoreError) as err:
        open_station(tmp_path / "nothing")
    assert err.value.code == "store.not_initialised"


def test_guard_refuses_direct_writes(st, staff) -> None:
    from sqlalchemy.exc import IntegrityError

    from station.db import guard

    people.register_walk_in(st, staff.volunteer, person())
    for sql in (
        "INSERT INTO person_redirect (from_id, to_id, created_at) VALUES ('a', 'b', 'c')",
        "UPDATE person SET phone = '0900000000'",
        "DELETE FROM registration",
    ):
        # No write context at all (a stray connection or tool).
        with pytest.raises(IntegrityError, match="tt_guard"), st.engine.begin() as conn:
            conn.execute(text(sql))
        # A write context whose transaction has written no outbox op.
        with pytest.raises(IntegrityError, match="tt_guard"), st.engine.connect() as conn:
            guard(conn).ctx = "a-tx-without-op"
            try:
                with conn.begin():
                    conn.execute(text(sql))
            finally:
                guard(conn).ctx = None
    with st.read() as conn:
        assert conn.execute(text("SELECT phone FROM person")).scalar() == "0912345678"
        assert conn.execute(text("SELECT count(*) FROM registration")).scalar() == 1


def test_doses_are_never_deleted(st, staff, lot_id) -> None:
    from sqlalchemy.exc import IntegrityError

    res = people.register_walk_in(st, staff.volunteer, person())
    clinical.record_screening(st, staff.screener, res.person.id, answers=ELIGIBLE_4355, outcome="eligible")
    clinical.record_dose(st, staff.clerk, DoseInput(res.person.id, lot_id))
    with pytest.raises(IntegrityError, match="never deleted"), st.sync_writer() as conn:
        conn.execute(text("DELETE FROM dose"))
