"""Fixtures for the station core: a real encrypted station in tmp_path with users and lots."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from station.dto import LotInput, UserInput
from station.services import admin
from station.store import Actor, Station, init_station
from tests.conftest import FakeClock

PASSWORD = "mat-khau-123"
SITE = "DN-TEST-01"


@dataclass
class Staff:
    volunteer: Actor
    clerk: Actor
    screener: Actor
    supervisor: Actor
    admin: Actor


@pytest.fixture
def st(data_dir: Path, clock: FakeClock) -> Iterator[Station]:
    station = init_station(data_dir, SITE, clock=clock)
    yield station
    station.close()


@pytest.fixture
def staff(st: Station) -> Staff:
    system = Actor.system(st.site_code)
    for name, role in (
        ("tnv", "volunteer"),
        ("thuky", "clerk"),
        ("bacsi", "screener"),
        ("giamsat", "supervisor"),
        ("quantri", "admin"),
    ):
        admin.create_user(st, system, UserInput(name, f"Người dùng {role}", role, PASSWORD))
    return Staff(
        volunteer=admin.login(st, "tnv", PASSWORD),
        clerk=admin.login(st, "thuky", PASSWORD),
        screener=admin.login(st, "bacsi", PASSWORD),
        supervisor=admin.login(st, "giamsat", PASSWORD),
        admin=admin.login(st, "quantri", PASSWORD),
    )


@pytest.fixture
def lot_id(st: Station, staff: Staff) -> str:
    lot = admin.upsert_lot(st, staff.supervisor, LotInput("PFIZER", "FK0891", "30/06/2027", 500))
    return lot.id
