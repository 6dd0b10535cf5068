"""Issue 12 on the wire: a dose's volume and a supervisor's override reach the hub and the
other desks of the site, on a SQLite hub and a PostgreSQL hub, and everything converges."""

from __future__ import annotations

import pytest

from kernel.errors import NeedsOverride
from station.dto import DoseInput, LotInput, PastDoseInput, PersonInput
from station.services import admin, clinical, people
from tests.e2e.harness import Cluster
from tests.station.helpers import screen_eligible

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]  # fast lane (./dev test --fast) leaves it out; ./dev test runs it


def test_volume_and_override_reach_the_hub_and_the_other_desk(three: Cluster) -> None:
    c = three
    st1, st2, st3 = c.nodes
    staff = st1.require_staff()
    moderna = admin.upsert_lot(st1.st, staff.supervisor, LotInput("MODERNA", "MOD001", "30/06/2027", 100))

    # An adult with two Moderna doses on paper: the booster is half a dose (0.25 ml).
    adult = people.register_walk_in(st1.st, staff.volunteer, PersonInput(
        full_name="Lê Thị Hoa", birth="02/02/1980", sex="F", id_type="none", phone="0903334444",
        priority_group=9)).person.id
    for n, day in enumerate(("2021-08-01", "2021-08-29"), start=1):
        clinical.record_past_dose(st1.st, staff.clerk, PastDoseInput(adult, "MODERNA", n, "primary", day))
    screen_eligible(st1.st, staff.screener, adult)
    booster = clinical.record_dose(st1.st, staff.clerk, DoseInput(adult, moderna.id))
    assert (booster.kind, booster.volume_ml) == ("booster", 0.25)

    # A child of 8 and the adult Pfizer lot: refused, then overridden by the supervisor.
    child = people.register_walk_in(st1.st, staff.volunteer, PersonInput(
        full_name="Phạm Minh Khoa", birth="15/02/2018", sex="M", id_type="none",
        phone="0903335555", priority_group=9)).person.id
    screen_eligible(st1.st, staff.screener, child)
    assert st1.lot_id is not None
    with pytest.raises(NeedsOverride):
        clinical.record_dose(st1.st, staff.clerk, DoseInput(child, st1.lot_id))
    overridden = clinical.record_dose(
        st1.st, staff.clerk,
        DoseInput(child, st1.lot_id, override=frozenset({"dose.age_below_min"}),
                  override_reason="Theo chỉ định của bác sĩ nhi"),
        supervisor=staff.supervisor,
    )

    c.sync_all()
    hub = {r["id"]: r for r in c.hub_rows(
        "SELECT id, volume_ml, override_by, override_reason FROM dose WHERE id IN (:a, :b)",
        a=booster.id, b=overridden.id)}
    assert hub[booster.id]["volume_ml"] == 0.25 and hub[booster.id]["override_by"] is None
    assert hub[overridden.id]["volume_ml"] == 0.3
    assert hub[overridden.id]["override_by"] == staff.supervisor.user_id
    assert hub[overridden.id]["override_reason"] == "Theo chỉ định của bác sĩ nhi"
    # The other desk of the site holds the same, and its lot count takes half a dose.
    at_st2 = {d.id: d for d in clinical.dose_history(st2.st, adult) + clinical.dose_history(st2.st, child)}
    assert at_st2[booster.id].volume_ml == 0.25
    assert at_st2[overridden.id].override_reason == "Theo chỉ định của bác sĩ nhi"
    (lot,) = [lot for lot in admin.list_lots(st2.st) if lot.id == moderna.id]
    assert lot.doses_used == 0.5
    # The other site never sees them; everyone converges.
    assert st3.doses_of(adult) == []
    c.assert_converged()
