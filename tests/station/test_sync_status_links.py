"""The desk's two links (issue 14): one status function says what waits for each.

``station.sync_status.links`` is what the status bar and the Sync workspace show: ops not
yet at the site hub, and ops the site hub holds that the province has not answered; the
two add up to everything the province has not answered ("N chờ gửi").
"""

from __future__ import annotations

from sqlalchemy import text

from station import answers, replica, sync_status
from station.answers import Ack


def _ids(st) -> list[str]:
    with st.read() as conn:
        return [str(r) for r in conn.execute(text("SELECT op_id FROM sync_outbox ORDER BY op_seq")).scalars()]


def test_without_a_site_hub_the_province_link_carries_everything(st, staff) -> None:
    status = sync_status.read(st)
    links = sync_status.links(status, province_line="offline")
    assert links.site_hub is None and links.site_hub_url is None and links.site_hub_found_by is None
    assert links.province.waiting == links.total_waiting == status.waiting > 0
    assert links.province.reachable is False and links.province.oldest_waiting_at == status.oldest_pending_at


def test_with_a_site_hub_the_waiting_ops_are_split_between_the_links(st, staff) -> None:
    ids = _ids(st)
    assert len(ids) >= 3
    replica.set_site_hub_url(st, "http://192.168.1.10:8765")
    held = ids[:2]
    answers.record_relay_accepts(st, [Ack(i, "applied") for i in held], now=st.clock())
    answers.record_acks(st, [Ack(ids[2], "applied")], now=st.clock())  # the province answered one
    links = sync_status.links(sync_status.read(st), province_line="offline", site_hub_line="online")
    assert links.site_hub is not None
    assert links.site_hub.waiting == len(ids) - 3  # not yet at the site hub
    assert links.province.waiting == 2  # at the site hub, not yet at the province
    assert links.site_hub.waiting + links.province.waiting == links.total_waiting == len(ids) - 1
    assert (links.site_hub.reachable, links.province.reachable) == (True, False)
    assert links.site_hub_url == "http://192.168.1.10:8765" and links.site_hub_found_by == "typed"
    # A line never reported is not guessed either way.
    assert sync_status.links(sync_status.read(st), province_line="unknown").site_hub.reachable is None  # type: ignore[union-attr]


def test_an_address_found_on_the_lan_says_so(st, staff) -> None:
    replica.set_site_hub_url(st, "https://192.168.1.10:8765")
    replica.set_meta(st, sync_status.SITE_HUB_FOUND_BY_KEY, "discovered")
    assert sync_status.read(st).site_hub_found_by == "discovered"
    replica.set_meta(st, sync_status.SITE_HUB_FOUND_BY_KEY, "garbage")  # an unknown value reads as typed
    assert sync_status.read(st).site_hub_found_by == "typed"
    replica.set_site_hub_url(st, None)
    assert sync_status.read(st).site_hub_found_by is None
