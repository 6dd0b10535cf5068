"""The tramtiem-hub admin CLI: sites, one-time codes, stations, reviews, report; clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.app import HubSettings
from hub.cli import main
from hub.server import run_hub
from sync.protocol import API_PREFIX


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_admin_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    d = ["--data-dir", str(tmp_path)]
    assert run(capsys, "migrate", *d)[0] == 0
    assert (
        run(capsys, "site", "add", "dn-01", "--name", "Trạm Y tế Phường 1", "--province", "75", *d)[
            0
        ]
        == 0
    )
    rc, _out, err = run(capsys, "site", "add", "DN-01", "--name", "again", *d)
    assert rc == 1 and "site.exists" in err
    rc, _out, err = run(capsys, "site", "add", "bad code!", "--name", "x", *d)
    assert rc == 1 and "site.invalid_code" in err
    rc, _out, err = run(capsys, "enroll-code", "NOPE", *d)
    assert rc == 1 and "site.not_found" in err
    rc, code, _err = run(capsys, "enroll-code", "DN-01", "--ttl-hours", "1", *d)
    assert rc == 0 and len(code.strip()) == 14
    import httpx

    with run_hub(HubSettings(database_url=f"sqlite:///{tmp_path / 'hub.db'}")) as hub:
        r = httpx.post(
            hub.url + API_PREFIX + "/enroll",
            json={"code": code.strip(), "station_id": "0190aaaa-0000-7000-8000-00000000000a"},
        )
        assert r.status_code == 200
    rc, out, _ = run(capsys, "station", "list", "--json", *d)
    [st] = json.loads(out)
    assert st["site_code"] == "DN-01" and st["revoked"] is False
    assert "token" not in json.dumps(st)
    assert run(capsys, "station", "revoke", st["id"], *d)[0] == 0
    rc, _out, err = run(capsys, "station", "revoke", "no-such", *d)
    assert rc == 1 and "station.not_found" in err
    rc, out, _ = run(capsys, "review", "list", "--json", *d)
    assert rc == 0 and json.loads(out) == []
    rc, out, _ = run(capsys, "report", "--json", *d)
    assert rc == 0 and json.loads(out)[0]["site_code"] == "DN-01"
    rc, out, _ = run(capsys, "report", "--site", "DN-01", *d)
    assert rc == 0 and "given" in out
    rc, _out, err = run(capsys, "report", "--site", "XX-99", *d)
    assert rc == 1 and "site.not_found" in err
