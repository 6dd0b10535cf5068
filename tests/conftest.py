"""Shared fixtures. Qt runs offscreen; the keyring is an in-memory backend."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any Qt import
# Test-only hooks (the sync engine's crash points, the fault proxy) refuse to run without
# this; processes the tests start inherit it.
os.environ["TRAMTIEM_TESTING"] = "1"

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import keyring
import pytest

if TYPE_CHECKING:
    from tests.pg import PgCluster

from station.memkeyring import ProcessKeyring

# Tests use the station's explicit process-local keyring.
MemoryKeyring = ProcessKeyring


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


class FakeClock:
    """A settable clock for tests: starts at a fixed site-local morning."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now = self.now + timedelta(**kw)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "station"


@pytest.fixture(autouse=True)
def no_leftover_log_handlers() -> Iterator[None]:
    """A command run in-process installs log handlers on the root logger; drop them after."""
    yield
    from station import logsetup

    logsetup.teardown()


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real argon2id, with cheap parameters so tests do not spend seconds hashing."""
    from argon2 import PasswordHasher

    from station.services import admin

    monkeypatch.setattr(admin, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture(scope="session")
def pg() -> Iterator[PgCluster | None]:
    """One throwaway PostgreSQL cluster for the whole run (hub and end-to-end tests).

    In CI (``CI=true``) a missing PostgreSQL is an error, never a skip.
    """
    from tests.pg import PostgresUnavailable, in_ci, pg_cluster

    try:
        with pg_cluster() as cluster:
            yield cluster
    except PostgresUnavailable:
        if in_ci():
            raise  # CI must run the PostgreSQL tests, never skip them
        yield None
