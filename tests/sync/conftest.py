"""Sync tests reuse the station fixtures (a real encrypted station in tmp_path)."""

from __future__ import annotations

from tests.station.conftest import Staff, lot_id, st, staff  # noqa: F401
