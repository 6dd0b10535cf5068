"""The desk's side of the site hub route (issue 14): relay_accepted ops, what each route sends.

An op the site hub holds is ``relay_accepted``: still waiting for the province (counted,
sent again by the direct route), not sent again to the site hub; a new site hub address
puts those ops back to pending so the new site hub receives them.
"""

from __future__ import annotations

from sqlalchemy import text

from station import answers, outbox, replica
from station.answers import Ack
from station.services import people


def _ids(st) -> list[str]:
    with st.read() as conn:
        return [str(r) for r in conn.execute(text("SELECT op_id FROM sync_outbox ORDER BY op_seq")).scalars()]


def test_relay_accepted_waits_for_the_province_and_a_new_site_hub_gets_it_again(st, staff) -> None:
    ids = _ids(st)
    assert ids
    replica.set_site_hub_url(st, "http://192.168.1.10:8765")
    res = answers.record_relay_accepts(st, [Ack(i, "applied") for i in ids], now=st.clock())
    assert res.acked == len(ids)
    c = outbox.counts(st)
    assert (c.relay_accepted, c.waiting, c.unsent) == (len(ids), len(ids), 0)
    assert outbox.next_batch(st, max_bytes=10**6, max_ops=1000, route="site_hub") == []
    assert len(outbox.next_batch(st, max_bytes=10**6, max_ops=1000, route="province")) == len(ids)
    # The province's answer (through the site hub or directly) is the one that acks.
    answers.record_acks(st, [Ack(ids[0], "duplicate")], now=st.clock())
    assert outbox.counts(st).relay_accepted == len(ids) - 1
    # The same address: nothing changes; a new one: the held ops go to the new site hub.
    replica.set_site_hub_url(st, "http://192.168.1.10:8765")
    assert outbox.counts(st).relay_accepted == len(ids) - 1
    replica.set_site_hub_url(st, "http://192.168.1.20:8765")
    c = outbox.counts(st)
    assert (c.relay_accepted, c.pending, c.acked) == (0, len(ids) - 1, 1)
    assert st.sync_state()["relay_cursor"] == 0 and replica.site_hub_url(st) == "http://192.168.1.20:8765"


def test_an_edit_the_site_hub_holds_is_not_overwritten_by_an_older_province_row(st, staff, clock) -> None:
    """A desk's edit held by the site hub (relay_accepted) waits for the province like a
    pending one: the province's older row, pulled directly meanwhile, is kept aside, not
    written over the edit; the province's answer then settles it."""
    from station import held_changes
    from tests.station.helpers import person
    from tests.sync.builders import change, page, person_row, row

    pid = people.register_walk_in(st, staff.volunteer, person()).person.id
    first = outbox.next_batch(st, max_bytes=10**9, max_ops=1000)
    answers.record_acks(st, [Ack(o.op_id, "applied", 1) for o in first], now=clock())
    people.update_person(st, staff.volunteer, pid, {"phone": "0987654321"})
    edit = outbox.next_batch(st, max_bytes=10**9, max_ops=1000)
    answers.record_relay_accepts(st, [Ack(o.op_id, "applied") for o in edit], now=clock())
    assert outbox.counts(st).relay_accepted == 1
    # The province's row from before the edit arrives by the direct route.
    older = person_row(pid, full_name="Nguyễn Thị Đào", phone="0912345678", address_line="Ấp mới")
    rep = replica.apply_page(st, page([change(4, "person", pid, older)]), from_cursor=0)
    assert rep.kept_local == 1
    p = row(st, "person", pid)
    assert p["phone"] == "0987654321" and p["address_line"] == "Ấp mới"
    assert held_changes.deferred_change(st, "person", pid) is not None
    # The province applied the edit after that row (seq 5): the kept row is dropped.
    answers.record_acks(st, [Ack(edit[0].op_id, "applied", 5)], now=clock())
    assert row(st, "person", pid)["phone"] == "0987654321"
    assert held_changes.deferred_change(st, "person", pid) is None
