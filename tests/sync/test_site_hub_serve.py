"""``sync.site_hub_serve`` without processes: the relay code as typed, and the desk's own route.

The real processes (enroll, serve, SIGTERM) are in tests/e2e/test_site_hub_laptop.py and
tests/ui/test_site_hub_tab.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kernel.errors import StoreError, ValidationError
from station import replica
from station.store import Station, init_station
from sync import site_hub_serve as shs
from sync.site_route import META_PIN

FP = "ab" * 32


@pytest.mark.parametrize(("typed", "expected"), [
    ("abcd-efgh-jkmn", "ABCD-EFGH-JKMN"), (" ABCD EFGH JKMN ", "ABCD-EFGH-JKMN"), ("abcdefghjkmn", "ABCD-EFGH-JKMN"),
])
def test_a_relay_code_as_people_type_it(typed: str, expected: str) -> None:
    assert shs.normalise_relay_code(typed) == expected


@pytest.mark.parametrize(("typed", "problem"), [
    ("", "relay_code.required"), ("   ", "relay_code.required"), ("ABCD-EFGH", "relay_code.format"),
    ("ABCD-EFGH-JKM!", "relay_code.format"),
])
def test_a_bad_relay_code_names_the_field(typed: str, problem: str) -> None:
    with pytest.raises(ValidationError) as bad:
        shs.normalise_relay_code(typed)
    assert [(i.field, i.code) for i in bad.value.issues] == [("relay_code", problem)]


def _enrolled_here(ddir: Path) -> None:
    folder = shs.hub_dir(ddir)
    folder.mkdir(parents=True)
    (folder / shs.INFO_FILE).write_text(json.dumps(
        {"site_code": "DN-SV-01", "province_url": "https://hub.example.vn", "fingerprint": FP}))


@pytest.fixture
def st(tmp_path: Path) -> Station:
    return init_station(tmp_path / "d", "DN-SV-01")


def test_a_desk_not_enrolled_is_told_and_nothing_is_made(st: Station) -> None:
    try:
        with pytest.raises(StoreError) as refused:
            shs.enroll(st.data_dir, st, "ABCD-EFGH-JKMN")
        assert refused.value.code == "site_hub.desk_not_enrolled"
        assert not shs.hub_dir(st.data_dir).exists()
        assert not (st.data_dir / (shs.SUBDIR + ".enrolling")).exists()
    finally:
        st.close()


def test_the_desk_points_at_its_own_site_hub_and_gets_its_route_back(st: Station) -> None:
    try:
        _enrolled_here(st.data_dir)
        replica.set_meta(st, replica.META_RELAY_CA, "-----BEGIN CERTIFICATE-----")
        replica.set_site_hub_url(st, "auto")
        replica.set_meta(st, META_PIN, "cd" * 32)
        proc = shs.SiteHubProcess(st.data_dir, port=8799)
        shs.point_desk(st, proc, app=True)
        assert replica.site_hub_url(st) == "https://127.0.0.1:8799"
        assert replica.get_meta(st, META_PIN) == ""  # trusted by the relay CA and the site code
        setting = shs.serve_setting(st)
        assert setting is not None and setting["app"] is True and setting["port"] == 8799
        shs.point_desk(st, proc)  # again (each start): the setting and the remembered route stay
        setting = shs.serve_setting(st)
        assert setting is not None and setting["app"] is True
        assert setting["previous"] == {"address": "auto", "pin": "cd" * 32}
        shs.unpoint_desk(st)
        assert replica.site_hub_url(st) == "auto" and replica.get_meta(st, META_PIN) == "cd" * 32
        assert shs.serve_setting(st) is None
    finally:
        st.close()


def test_a_desk_without_the_relay_ca_pins_its_own_site_hub(st: Station) -> None:
    try:
        _enrolled_here(st.data_dir)
        shs.point_desk(st, shs.SiteHubProcess(st.data_dir, port=8765, host="192.168.1.10"))
        assert replica.site_hub_url(st) == "https://192.168.1.10:8765"
        assert replica.get_meta(st, META_PIN) == FP
        setting = shs.serve_setting(st)
        assert setting is not None and setting["app"] is False  # the command line, not the window
    finally:
        st.close()

