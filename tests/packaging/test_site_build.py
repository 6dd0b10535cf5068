"""The site build without the demo hub, from the source tree (the built bundle: test_bundle.py).

The site bundle leaves ``demohub``, ``hub`` and the web server out
(packaging/tramtiem.spec). Here their absence is simulated through the one
switch the code reads (``ui.cli.demo_hub_available``); the bundle test checks
the same behaviour from the real frozen bundle.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.packaging.test_bundle import _test_hub
from ui import cli, selftest


@pytest.fixture
def site_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "demo_hub_available", lambda: False)

    def no_hub(tmp: Path) -> dict[str, Any]:
        raise AssertionError("the site build has no demo hub to check")

    monkeypatch.setattr(selftest, "check_hub", no_hub)


def test_the_source_checkout_has_the_demo_hub() -> None:
    assert cli.demo_hub_available()


def test_demo_in_the_site_build_answers_in_the_users_language(
    site_build: None, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert cli.main(["demo", "--headless", "--data-dir", str(tmp_path / "demo")]) == 2
    _out, err = capsys.readouterr()
    assert "./dev demo" in err and "Traceback" not in err
    assert not (tmp_path / "demo").exists()  # nothing made
    vi, en = cli.demo_unavailable_text("vi"), cli.demo_unavailable_text("en")
    assert "Chế độ dùng thử" in vi and "mã nguồn" in vi
    assert en.startswith("Demo mode is not part of this site build")
    assert vi != en


@pytest.fixture
def light_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """The window check renders the app (seconds; test_selftest.py runs it): not the subject here."""
    monkeypatch.setattr(selftest, "check_window", lambda tmp: {})


def test_the_site_selftest_has_no_hub_check(
    site_build: None, light_window: None, qapp: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert selftest.main() == 0
    report = json.loads(capsys.readouterr().out)
    assert report["demo_hub"] is False
    assert set(report["checks"]) == {"sqlcipher", "keyring", "tls", "store", "translations", "window"}


@pytest.fixture
def hub_with_code(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with _test_hub(tmp_path / "hub", selftest.SITE) as pair:
        yield pair


def test_the_selftest_syncs_with_a_given_hub(
    site_build: None, light_window: None, qapp: Any, hub_with_code: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, code = hub_with_code
    assert cli.main(["--selftest", "--selftest-hub", url, "--selftest-code", code]) == 0
    sync = json.loads(capsys.readouterr().out)["checks"]["sync"]
    assert sync["ok"] and sync["site"] == selftest.SITE
    assert sync["pushed"] > 0 and sync["pending_left"] == 0


def test_a_spent_code_fails_the_sync_check_by_name(
    site_build: None, light_window: None, qapp: Any, hub_with_code: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    url, code = hub_with_code
    assert cli.main(["--selftest", "--selftest-hub", url, "--selftest-code", code]) == 0
    capsys.readouterr()
    assert cli.main(["--selftest", "--selftest-hub", url, "--selftest-code", code]) == 1
    out, err = capsys.readouterr()
    assert json.loads(out)["checks"]["sync"]["ok"] is False
    assert "selftest FAILED: sync: enrollment with" in err
