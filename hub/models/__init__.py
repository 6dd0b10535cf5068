"""Typed SQLAlchemy models of the hub database.

Two groups of tables:

* sync bookkeeping: ``site``, ``station``, ``enrollment_code``, ``replica``,
  ``applied_op`` (the idempotency ledger, written in the same transaction as
  each op's effect), ``hub_clock`` (one row; its row lock numbers the change
  log in commit order), ``change_log`` (the pull feed, one row per scope
  site), ``person_site``, ``field_meta``, ``review_item``, ``station_tally``
  and ``hub_meta``;
* domain tables mirroring the station's synced tables column for column (the
  station's ``version`` column *is* the hub row version), so a pulled row's
  ``data`` can be written to the station as it is. Hub-only bookkeeping
  columns are listed in :data:`HUB_ONLY_COLUMNS` and never leave the hub.

No foreign keys between domain tables: the hub must accept a dose whose lot
it has not seen yet (ops of different stations interleave) and re-point rows
on merges without cascading surprises; the apply code checks what matters.
"""

from __future__ import annotations

from hub.models.base import (
    ID as ID,
)
from hub.models.base import (
    OPEN_ROWS_SQL as OPEN_ROWS_SQL,
)
from hub.models.base import (
    SITE as SITE,
)
from hub.models.base import (
    TS as TS,
)
from hub.models.base import (
    Base as Base,
)
from hub.models.base import (
    ChangeKind as ChangeKind,
)
from hub.models.base import (
    table_of as table_of,
)
from hub.models.bookkeeping import (
    AppliedOp as AppliedOp,
)
from hub.models.bookkeeping import (
    ChangeLog as ChangeLog,
)
from hub.models.bookkeeping import (
    EnrolledStation as EnrolledStation,
)
from hub.models.bookkeeping import (
    EnrollmentCode as EnrollmentCode,
)
from hub.models.bookkeeping import (
    FieldMeta as FieldMeta,
)
from hub.models.bookkeeping import (
    HubAudit as HubAudit,
)
from hub.models.bookkeeping import (
    HubClock as HubClock,
)
from hub.models.bookkeeping import (
    HubMeta as HubMeta,
)
from hub.models.bookkeeping import (
    LoginGuard as LoginGuard,
)
from hub.models.bookkeeping import (
    LookupAudit as LookupAudit,
)
from hub.models.bookkeeping import (
    PersonSite as PersonSite,
)
from hub.models.bookkeeping import (
    Replica as Replica,
)
from hub.models.bookkeeping import (
    ReviewItem as ReviewItem,
)
from hub.models.bookkeeping import (
    ReviewSite as ReviewSite,
)
from hub.models.bookkeeping import (
    Site as Site,
)
from hub.models.bookkeeping import (
    StationDay as StationDay,
)
from hub.models.bookkeeping import (
    StationTally as StationTally,
)
from hub.models.bookkeeping import (
    StationTotal as StationTotal,
)
from hub.models.bookkeeping import (
    WriteOff as WriteOff,
)
from hub.models.dashboard import (
    Allocation as Allocation,
)
from hub.models.dashboard import (
    DashboardSession as DashboardSession,
)
from hub.models.dashboard import (
    DashboardUser as DashboardUser,
)
from hub.models.domain import (
    DOMAIN_MODELS as DOMAIN_MODELS,
)
from hub.models.domain import (
    HUB_ONLY_COLUMNS as HUB_ONLY_COLUMNS,
)
from hub.models.domain import (
    STATION_LACKS as STATION_LACKS,
)
from hub.models.domain import (
    AdverseEvent as AdverseEvent,
)
from hub.models.domain import (
    AppUser as AppUser,
)
from hub.models.domain import (
    Dose as Dose,
)
from hub.models.domain import (
    Person as Person,
)
from hub.models.domain import (
    PersonRedirect as PersonRedirect,
)
from hub.models.domain import (
    Registration as Registration,
)
from hub.models.domain import (
    Screening as Screening,
)
from hub.models.domain import (
    VaccineLot as VaccineLot,
)
from hub.models.relay import (
    Relay as Relay,
)
from hub.models.relay import (
    RelayCert as RelayCert,
)
from hub.models.relay import (
    RelayCode as RelayCode,
)
from hub.models.relay import (
    RelayOp as RelayOp,
)
from hub.models.relay import (
    RelayShadow as RelayShadow,
)
from hub.models.relay import (
    RelayTally as RelayTally,
)
