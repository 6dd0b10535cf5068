"""A dose copied from a paper certificate may be older than 2000 (a routine vaccine, MR,
given in the 1990s): the hub takes it and passes it to the site's other desks; a dose
*given at the site* before 2000 is still refused at the wire."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pydantic import ValidationError as PydanticError
from sqlalchemy import text

from kernel.errors import NeedsConfirmation
from kernel.ops import RecordDoseP
from station.dto import PastDoseInput
from station.services import clinical, people
from sync.client import HubClient
from sync.engine import SyncEngine, SyncSettings
from tests.hub.conftest import Hub, Sim
from tests.station.helpers import person

SITE = "DN-HIST-01"


def cycle(sim: Sim) -> None:
    def factory() -> HubClient:
        return HubClient(sim.hub.running.url, sim.token, connect_timeout_s=2.0, read_timeout_s=10.0)

    report = SyncEngine(sim.st, factory, settings=SyncSettings(seed=1)).run_once()
    assert report.ok


def enter_paper_dose(sim: Sim, pid: str, vaccine: str, day: str) -> str:
    data = PastDoseInput(pid, vaccine, 1, "primary", day)
    try:
        return clinical.record_past_dose(sim.st, sim.staff.clerk, data).id
    except NeedsConfirmation as exc:  # e.g. before the vaccine was in use: the paper says so
        confirmed = PastDoseInput(pid, vaccine, 1, "primary", day, confirm=frozenset(w.code for w in exc.warnings))
        return clinical.record_past_dose(sim.st, sim.staff.clerk, confirmed).id


def test_a_paper_dose_from_1995_reaches_the_hub_and_the_other_desk(
    hub: Hub, make_station: Callable[..., Sim]
) -> None:
    a, b = make_station(hub, SITE), make_station(hub, SITE, letter="B")
    pid = people.register_walk_in(a.st, a.staff.clerk, person(birth="1988", id_number="075188123456")).person.id
    dose_id = enter_paper_dose(a, pid, "MR", "01/05/1995")
    cycle(a)
    with a.st.read() as conn:
        states: dict[str, str] = dict(conn.execute(text("SELECT op_type, state FROM sync_outbox WHERE entity_id = :i"),
                                   {"i": dose_id}).tuples().all())
    assert states == {"record_dose": "acked"}  # refused as "years 2000-2100" before
    assert hub.scalar("SELECT day FROM dose WHERE id = :i", i=dose_id) == "1995-05-01"
    assert hub.scalar("SELECT source FROM dose WHERE id = :i", i=dose_id) == "history"
    cycle(b)
    with b.st.read() as conn:
        got = conn.execute(text("SELECT day, vaccine_code FROM dose WHERE id = :i"), {"i": dose_id}).first()
    assert got is not None and tuple(got) == ("1995-05-01", "MR")


@pytest.mark.parametrize("source", ["site", "history"])
def test_only_a_paper_dose_may_be_older_than_2000(source: str) -> None:
    fields = {
        "id": "d1", "person_id": "p1", "site_code": SITE, "vaccine_code": "MR", "lot_id": "l1",
        "dose_number": 1, "kind": "primary", "administered_at": "1995-05-01T09:00:00+07:00",
        "day": "1995-05-01", "recorded_at": "2021-08-01T09:00:00+07:00", "source": source,
    }
    if source == "site":
        with pytest.raises(PydanticError, match="paper certificate"):
            RecordDoseP.model_validate(fields)
    else:
        assert RecordDoseP.model_validate(fields).day == "1995-05-01"
    with pytest.raises(PydanticError):  # 1899 is no date of a dose, whatever the source
        RecordDoseP.model_validate(fields | {"administered_at": "1899-05-01T09:00:00+07:00", "day": "1899-05-01"})
