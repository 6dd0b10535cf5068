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
    assert set(report["checks"]) == {"sqlcipher", "keyring", "tls", "store", "hub", "translations", "window"}
    assert all(c["ok"] for c in report["checks"].values())
    assert report["checks"]["window"]["png_bytes"] > 10_000
    assert report["checks"]["store"]["journal_mode"] == "wal"
    assert "selftest ok" in err
    # The keyring is proven by a round trip (here: the tests' explicit process keyring).
    kr = report["checks"]["keyring"]
    assert kr["roundtrip"] is True and kr["backend"].endswith("ProcessKeyring")
    assert report["checks"]["tls"]["source"] == "os"
    assert report["version"] and report["commit"]
    assert out.isascii()
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


def test_the_keyring_check_writes_reads_and_deletes_a_test_credential(memory_keyring) -> None:
    seen: list[tuple[str, str]] = []
    real_set = memory_keyring.set_password

    def spy(service: str, user: str, secret: str) -> None:
        seen.append((service, user))
        real_set(service, user, secret)

    memory_keyring.set_password = spy
    result = selftest.keyring_roundtrip()
    assert result["roundtrip"] is True
    assert [svc for svc, _u in seen] == [selftest.TEST_SERVICE]
    assert memory_keyring.get_password(*seen[0]) is None  # deleted again


def test_no_keyring_fails_on_windows_and_warns_on_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backends import fail

    keyring.set_keyring(fail.Keyring())
    with pytest.raises(selftest.CheckFailed, match="no usable OS keyring"):
        selftest.keyring_roundtrip("win32")
    result = selftest.keyring_roundtrip("linux")
    assert result["roundtrip"] is False and "Secret Service" in result["warning"]


def test_a_broken_keyring_that_loses_the_value_fails(memory_keyring) -> None:
    memory_keyring.get_password = lambda service, user: "something else"
    with pytest.raises(selftest.CheckFailed, match="another value"):
        selftest.keyring_roundtrip()


def test_the_report_prints_on_a_windows_console_code_page(
    qapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cp437 (the default console of an English Windows) has no Vietnamese letters."""
    import io
    import sys

    def broken() -> dict[str, Any]:
        raise selftest.CheckFailed("thiếu tệp bản dịch tramtiem_vi.qm")

    monkeypatch.setattr(selftest, "check_translations", broken)
    monkeypatch.setattr(selftest, "check_window", lambda tmp: {})
    out_buf, err_buf = io.BytesIO(), io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(out_buf, encoding="cp437"))
    monkeypatch.setattr(sys, "stderr", io.TextIOWrapper(err_buf, encoding="cp437"))
    assert selftest.main() == 1
    sys.stdout.flush()
    sys.stderr.flush()
    report = json.loads(out_buf.getvalue().decode("cp437"))
    assert report["checks"]["translations"]["error"] == "thiếu tệp bản dịch tramtiem_vi.qm"
    assert "selftest FAILED: translations: thi" in err_buf.getvalue().decode("cp437")


def test_f1_shows_the_version_commit_and_build_date(qtbot, app, kb, st, monkeypatch) -> None:
    """The "About" line of the F1 overlay: what support asks first (stamped by packaging/build.py)."""
    from PySide6.QtCore import Qt

    from station import _build
    from tests.ui.conftest import login

    monkeypatch.setattr(_build, "COMMIT", "0123456789abcdef0123456789abcdef01234567")
    main = login(qtbot, app, kb, "giamsat")
    kb.key(Qt.Key.Key_F1, main)
    assert main.help.isVisible()
    from ui.help_overlay import about_text

    main.help.about.setText(about_text())  # built at window creation; re-read after the patch
    text = main.help.about.text()
    assert _build.VERSION in text and "0123456789ab" in text and _build.BUILD_DATE in text
