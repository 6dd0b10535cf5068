"""``tramtiem --selftest`` from the source checkout (the bundle runs it in tests/packaging)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ui import cli, selftest


def test_selftest_passes_and_reports_every_check(
    qapp: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--selftest"]) == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert report["ok"] and not report["frozen"]
    assert set(report["checks"]) == {"sqlcipher", "keyring", "store", "hub", "translations", "window"}
    assert all(c["ok"] for c in report["checks"].values())
    assert report["checks"]["window"]["png_bytes"] > 10_000
    assert report["checks"]["store"]["journal_mode"] == "wal"
    assert "selftest ok" in err
    # No demo person's name in the report: it may be pasted into a ticket.
    assert "Nguyễn" not in out


def test_a_failing_check_exits_non_zero_with_its_name(
    qapp: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken() -> dict[str, Any]:
        raise selftest.CheckFailed("translation tramtiem_vi.qm is missing or empty")

    monkeypatch.setattr(selftest, "check_translations", broken)
    assert cli.main(["--selftest"]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["checks"]["translations"]["ok"] is False
    assert "selftest FAILED: translations: translation tramtiem_vi.qm" in err


@pytest.mark.parametrize(
    ("env", "plat", "expected"),
    [
        ({}, "linux", True),
        ({"DISPLAY": ":0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "xcb"}, "linux", False),
        ({}, "win32", False),
        ({}, "darwin", False),
    ],
)
def test_offscreen_only_without_a_display(env: dict[str, str], plat: str, expected: bool) -> None:
    assert selftest._needs_offscreen(env, plat) is expected
