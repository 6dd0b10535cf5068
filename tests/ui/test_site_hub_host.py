"""``ui.site_hub_host`` without a hub process: bad input named on its field, nothing turned on."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from kernel.errors import ValidationError
from station.store import Station, init_station
from sync import site_hub_serve as shs
from tests.sync.test_site_hub_serve import _enrolled_here
from ui.site_hub_host import SiteHubHost


@pytest.fixture
def st(tmp_path: Path) -> Station:
    return init_station(tmp_path / "d", "DN-SV-01")


def test_a_port_in_use_is_told_on_the_port_field(st: Station) -> None:
    try:
        _enrolled_here(st.data_dir)
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            port = busy.getsockname()[1]
            host = SiteHubHost(st, st.data_dir, host="127.0.0.1", announce=False)
            with pytest.raises(ValidationError) as bad:
                host.turn_on("", port)
        assert [(i.field, i.code) for i in bad.value.issues] == [("port", "site_hub.port_in_use")]
        assert not host.running() and shs.serve_setting(st) is None  # nothing turned on
        with pytest.raises(ValidationError) as low:
            host.turn_on("", 80)
        assert [(i.field, i.code) for i in low.value.issues] == [("port", "port.out_of_range")]
    finally:
        st.close()
