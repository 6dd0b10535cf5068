"""Clinical cases, table-driven, each naming the document its expected result comes from.

Every row walks one person through the real services of a real (encrypted SQLite)
station with its clock set to the row's day: walk-in registration, doses from a
paper certificate, the interval profile, screening (the form is chosen by the
station from the day and the person's age), then the dose with a lot of the row's
vaccine. The row says what must happen: which form, which suggested outcome, and
whether the dose is recorded (with which product, volume, warnings to confirm and
notes), refused, or refused unless a supervisor overrides it.

Warnings about the wall clock (``clock.*``) are confirmed by the harness and left
out of the comparison: the rows set the clock to 2021-2022 on purpose.

Sources are in ``station/data/*.SOURCE.md``; the short names below say which.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import keyring
import pytest
from sqlalchemy import text

from kernel import refdata
from kernel.errors import (
    DomainError,
    NeedsConfirmation,
    NeedsOverride,
    PermissionDenied,
    ValidationError,
)
from station.dto import DoseInput, LotInput, PastDoseInput, PersonInput, UserInput
from station.memkeyring import ProcessKeyring
from station.services import admin, clinical, people
from station.store import Actor, Station, init_station
from tests.conftest import FakeClock

# ---- the documents -----------------------------------------------------------------

Q3802 = "QĐ 3802/QĐ-BYT 10/8/2021 screening form (screening_forms.json 3802-2021-08)"
Q4355 = "QĐ 4355/QĐ-BYT 10/9/2021 screening form (4355-2021-09-r2; HIS template BacHa-3-4-9)"
Q5785 = "QĐ 5785/QĐ-BYT 21/12/2021 screening form (5785-2021-12; HIS template BacHa-3-5-0)"
Q5002 = "QĐ 5002/QĐ-BYT 29/10/2021 children's checklist 12-17 (5002-2021-10-child12)"
CV1535 = "CV 1535/BYT-DP 28/3/2022 children 5-11 (1535-2022-03-child5; aschool.edu.vn 2022)"
PRECEDENCE = "screening_forms.json outcome_precedence: contraindicated > defer > hospital > caution"
VITALS = "vital-sign thresholds, saostar.vn 2021-08 / thanhnien.vn 2021-09 (screening_forms.json)"
ANAPHYLAXIS = "vietnam.md §2.3: anaphylaxis to a previous COVID-19 dose -> contraindicated, same vaccine type"
SPUTNIK = "vietnam.md §2.3 [V]: Sputnik V contraindicated in pregnancy and breastfeeding"
CV6030 = "CV 6030/BYT-DP 27/7/2021 (24h.com.vn 2021-08): Pfizer after AZ if supply limited; no Moderna after AZ"
CV7548 = "CV 7548/BYT-DP 10/9/2021 (coinguon.vn 9/9/2021): Pfizer<->Moderna only if unavailable"
MOH_1212 = "MoH letter 12/12/2021 (thoibaotaichinhvietnam.vn 2022-01): Moderna after AZ if supply limited"
SINOPHARM = "24h.com.vn 2021-08 (MoH): Sinopharm or Moderna dose 1 -> dose 2 of the same vaccine only"
NO_MIX_5_11 = "TTXVN 12/4/2022 (infographics.vn): children 5-11, two doses of the same vaccine, no mixing"
AZ_8_12 = "vietnam.md §2.5 and 24h.com.vn 2021-08: AstraZeneca dose 2 after 8-12 weeks"
DONG_NAI = "UBND Đồng Nai 20/10/2021 (vietgiaitri.com): AZ dose 2 from a full 4 weeks to 12 weeks"
HCMC = "UBND TP.HCM (congnghedoisong.vn 2021): AZ dose 2 from 6 weeks"
PFIZER_5_11 = "QĐ 457/QĐ-BYT 1/3/2022 (media360.vnanet.vn): Pfizer 5-11, 10 µg in 0.2 ml, 2 doses 3 weeks apart"
ADULT_PFIZER = "media360.vnanet.vn 2022-03: the adult Pfizer vial is not used for children under 12"
MODERNA_6_11 = "Cục Quản lý Dược 31/3/2022 (htv.com.vn): Moderna 6-11 at half dose; ttytcamlo.vn: dose 2 >= 4 weeks"
MODERNA_HALF = "Cục Quản lý Dược 2022-01 (thoibaotaichinhvietnam.vn): Moderna booster at half the dose"
BOOSTER = "hcdc.vn 2022 [V]: booster >= 3 months after the primary series"
BOOSTER2 = "hcdc.vn 2022-06 [V]: second booster >= 4 months after the first"
AZ_BOOST = "baogialai.com.vn 2022-03 (MoH letter): AstraZeneca may boost an mRNA series, >= 3 months"
ABDALA = "VNA / en.vietnamplus.vn 2021-09 [V]: Abdala 3 doses 14 days apart, ages 19-65"
AZ_AGE = "vaccines.json AZ min_age_years 18 [U] (adult campaign, vietnam.md §2.5)"
CMND12 = "vietnam.md §1.3: 12-digit CMNDs of 2012-2016 share the CCCD structure"
LANDLINE = "vietnam.md §1.5 and issue 12: a landline (02x + 8 digits) is kept, with a warning"
PAPER = "issue 12: past doses before 2021 can be entered from paper (vaccines.json in_use_from)"

# ---- the rows ----------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    source: str
    on: str  # the visit, ISO day (the station's clock)
    birth: str  # as typed: dd/mm/yyyy or yyyy
    sex: str = "F"
    history: tuple[tuple[str, str, str], ...] = ()  # (vaccine, ISO day, kind), from paper
    yes: tuple[str, ...] = ()  # screening questions answered "yes"
    vitals: dict[str, float] = field(default_factory=dict)
    guardian: bool = True  # give a guardian when the form asks for one
    doctor: str | None = None  # the doctor's outcome when not the suggestion
    lot: str | None = None  # vaccine of the lot used for the dose (None: no dose)
    profile: str = "national"
    id_number: tuple[str, str] | None = None  # (id_type, number)
    phone: str | None = None
    past: tuple[str, str, str] | None = None  # a paper dose to enter as the row's subject
    # expectations
    form: str | None = None
    outcome: str | None = None
    expect: str = "recorded"
    """recorded | no_form | not_cleared | screening:<code> | error:<code> | override:<codes>
    | registered:<warning> | past:<error code> | past_ok"""
    warnings: frozenset[str] = frozenset()  # to confirm (dose, or the paper dose)
    notes: frozenset[str] = frozenset()  # shown, no confirmation
    product: str | None = None
    volume: float | None = None
    kind: str | None = None


def C(*args: object, **kw: object) -> Case:
    for key in ("warnings", "notes"):
        if key in kw and not isinstance(kw[key], frozenset):
            kw[key] = frozenset(kw[key])  # type: ignore[arg-type]
    return Case(*args, **kw)  # type: ignore[arg-type]


CASES: list[Case] = [
    # -- QĐ 3802 (10/8/2021 - 9/9/2021) ----------------------------------------------
    C("3802-all-no-az", Q3802, "2021-08-20", "07/03/1985", form="3802-2021-08", outcome="eligible",
      lot="AZ", product="AZ", volume=0.5, kind="primary"),
    C("3802-anaphylaxis-prev-dose", Q3802, "2021-08-20", "07/03/1985", yes=("1",),
      form="3802-2021-08", outcome="contraindicated", lot="AZ", expect="not_cleared"),
    C("3802-covid-6-months", Q3802, "2021-08-20", "07/03/1985", yes=("2",),
      outcome="defer", lot="AZ", expect="not_cleared"),
    C("3802-defer-beats-hospital", PRECEDENCE, "2021-08-21", "07/03/1985", yes=("2", "5"),
      outcome="defer", lot="AZ", expect="not_cleared"),
    C("3802-grade3-anaphylaxis-hospital", Q3802, "2021-08-21", "07/03/1985", yes=("5",),
      outcome="hospital", lot="AZ", expect="not_cleared"),
    C("3802-pregnant-13w-caution", Q3802, "2021-08-22", "07/03/1990", yes=("4b",),
      outcome="caution", lot="AZ", product="AZ"),
    C("3802-pregnancy-question-not-for-men", Q3802, "2021-08-22", "07/03/1990", sex="M",
      yes=("4a",), expect="screening:screening.not_applicable"),
    # -- QĐ 4355 (10/9/2021 - 20/12/2021) --------------------------------------------
    C("4355-all-no", Q4355, "2021-09-15", "12/05/1970", sex="M", form="4355-2021-09-r2",
      outcome="eligible", lot="AZ", product="AZ"),
    C("4355-anaphylaxis-prev-dose", Q4355, "2021-09-15", "12/05/1970", yes=("1",),
      form="4355-2021-09-r2", outcome="contraindicated", lot="AZ", expect="not_cleared"),
    C("4355-covid-6-months-defer", Q4355, "2021-09-16", "12/05/1970", yes=("2",),
      outcome="defer", lot="AZ", expect="not_cleared"),
    C("4355-covid-and-anaphylaxis3-defer", PRECEDENCE, "2021-09-16", "12/05/1970",
      yes=("2", "5"), outcome="defer", lot="AZ", expect="not_cleared"),
    C("4355-everything-contraindicated", PRECEDENCE, "2021-09-17", "12/05/1970",
      yes=("1", "2", "5", "7"), outcome="contraindicated", lot="AZ", expect="not_cleared"),
    C("4355-hospital-beats-caution", PRECEDENCE, "2021-09-17", "12/05/1970", yes=("5", "7"),
      outcome="hospital", lot="AZ", expect="not_cleared"),
    C("4355-allergy-caution", Q4355, "2021-09-18", "12/05/1970", yes=("7",), outcome="caution",
      lot="AZ", product="AZ"),
    C("4355-fever-caution", VITALS, "2021-09-18", "12/05/1970", vitals={"temperature": 37.8},
      outcome="caution", lot="AZ"),
    C("4355-high-bp-caution", VITALS, "2021-09-19", "12/05/1950", vitals={"bp_systolic": 150},
      outcome="caution", lot="AZ"),
    C("4355-slow-pulse-caution", VITALS, "2021-09-19", "12/05/1970", vitals={"pulse": 59},
      outcome="caution", lot="AZ"),
    C("4355-fast-breathing-caution", VITALS, "2021-09-20", "12/05/1970",
      vitals={"respiratory_rate": 26}, outcome="caution", lot="AZ"),
    C("4355-temperature-37.5-normal", VITALS, "2021-09-20", "12/05/1970",
      vitals={"temperature": 37.5, "pulse": 100}, outcome="eligible", lot="AZ"),
    C("4355-last-day", Q4355, "2021-12-20", "12/05/1970", form="4355-2021-09-r2",
      outcome="eligible"),
    # -- QĐ 5785 (from 21/12/2021) ---------------------------------------------------
    C("5785-first-day", Q5785, "2021-12-21", "12/05/1970", form="5785-2021-12",
      outcome="eligible", lot="PFIZER", product="PFIZER", volume=0.3),
    C("5785-anaphylaxis-prev-dose", Q5785, "2022-01-05", "12/05/1970", yes=("1",),
      form="5785-2021-12", outcome="contraindicated", lot="PFIZER", expect="not_cleared"),
    C("5785-acute-and-anaphylaxis3-defer", PRECEDENCE, "2022-01-05", "12/05/1970",
      yes=("2", "4"), outcome="defer", lot="PFIZER", expect="not_cleared"),
    C("5785-covid-3-months-defer", Q5785, "2022-01-06", "12/05/1970", yes=("11",),
      outcome="defer", lot="PFIZER", expect="not_cleared"),
    C("5785-pregnant-under-13w-defer", Q5785, "2022-01-06", "12/05/1992", yes=("3a",),
      outcome="defer", lot="PFIZER", expect="not_cleared"),
    C("5785-pregnancy-question-not-for-men", Q5785, "2022-01-07", "12/05/1992", sex="M",
      yes=("3b",), expect="screening:screening.not_applicable"),
    C("5785-today", Q5785, "2026-12-01", "12/05/1992", sex="M", form="5785-2021-12",
      outcome="eligible"),
    # -- children's checklists -------------------------------------------------------
    C("child15-before-checklist-no-form", Q5002, "2021-10-20", "01/06/2006",
      expect="no_form"),
    C("child15-guardian-required", Q5002, "2021-11-10", "01/06/2006", guardian=False,
      form="5002-2021-10-child12", expect="screening:name.required"),
    C("child15-pfizer", Q5002, "2021-11-10", "01/06/2006", sex="M", form="5002-2021-10-child12",
      outcome="eligible", lot="PFIZER", product="PFIZER", volume=0.3),
    C("child15-allergy-hospital", Q5002, "2021-11-11", "01/06/2006", yes=("3",),
      form="5002-2021-10-child12", outcome="hospital", lot="PFIZER", expect="not_cleared"),
    C("child15-acute-defer", Q5002, "2021-11-11", "01/06/2006", yes=("2", "6"),
      outcome="defer", lot="PFIZER", expect="not_cleared"),
    C("child15-anaphylaxis-prev-dose", Q5002, "2021-11-12", "01/06/2006", yes=("1",),
      outcome="contraindicated", lot="PFIZER", expect="not_cleared"),
    C("child8-covid-3-months-defer", CV1535, "2022-04-10", "15/02/2014", yes=("9",),
      form="1535-2022-03-child5", outcome="defer", lot="PFIZER_5_11", expect="not_cleared"),
    C("child8-pfizer-5-11", PFIZER_5_11, "2022-04-10", "15/02/2014", sex="M",
      form="1535-2022-03-child5", outcome="eligible", lot="PFIZER_5_11", product="PFIZER_5_11",
      volume=0.2, kind="primary"),
    C("child8-moderna-lot-gives-half-dose", MODERNA_6_11, "2022-04-11", "15/02/2014",
      outcome="eligible", lot="MODERNA", product="MODERNA_6_11", volume=0.25),
    C("child8-before-5-11-campaign-no-form", CV1535, "2022-03-27", "15/02/2014",
      expect="no_form"),
    C("child4-no-form", CV1535, "2022-05-01", "15/02/2018", expect="no_form"),
    # -- age limits (errors a supervisor may override) -------------------------------
    C("child8-adult-pfizer-refused", ADULT_PFIZER, "2022-04-12", "15/02/2014", lot="PFIZER",
      expect="override:dose.age_below_min"),
    C("child5-moderna-refused", MODERNA_6_11, "2022-04-12", "15/01/2017", lot="MODERNA",
      expect="override:dose.age_below_min"),
    C("age15-az-refused", AZ_AGE, "2021-11-15", "01/06/2006", lot="AZ",
      expect="override:dose.age_below_min"),
    C("age17-az-refused", AZ_AGE, "2021-11-15", "30/11/2003", lot="AZ",
      expect="override:dose.age_below_min"),
    C("age70-abdala-refused", ABDALA, "2021-10-01", "01/01/1951", lot="ABDALA",
      expect="override:dose.age_above_max"),
    C("age30-abdala", ABDALA, "2021-10-01", "01/01/1991", lot="ABDALA", product="ABDALA"),
    C("birth-year-only-age-uncertain", AZ_AGE, "2021-09-20", "2003", form="4355-2021-09-r2",
      lot="AZ", warnings={"dose.age_uncertain"}),
    # -- contraindications from today's screening ------------------------------------
    C("pregnant-sputnik-refused", SPUTNIK, "2022-01-10", "12/05/1992", yes=("3b",),
      outcome="caution", lot="SPUTNIK", expect="override:dose.contraindicated"),
    C("pregnant-pfizer-ok", SPUTNIK, "2022-01-10", "12/05/1992", yes=("3b",), outcome="caution",
      lot="PFIZER", product="PFIZER"),
    C("anaphylaxis-az-then-az-refused", ANAPHYLAXIS, "2021-10-01", "12/05/1980",
      history=(("AZ", "2021-08-01", "primary"),), yes=("1",), outcome="contraindicated",
      doctor="caution", lot="AZ", expect="override:dose.contraindicated"),
    C("anaphylaxis-az-then-pfizer-other-type", ANAPHYLAXIS, "2021-10-01", "12/05/1980",
      history=(("AZ", "2021-08-01", "primary"),), yes=("1",), doctor="caution", lot="PFIZER",
      product="PFIZER", warnings={"dose.mix_first_unavailable"}),
    C("anaphylaxis-no-history-refused", ANAPHYLAXIS, "2021-10-02", "12/05/1980", yes=("1",),
      doctor="caution", lot="PFIZER", expect="override:dose.contraindicated"),
    # -- mixing, by date and age -----------------------------------------------------
    C("az-then-pfizer-aug-2021", CV6030, "2021-08-20", "12/05/1975",
      history=(("AZ", "2021-06-01", "primary"),), lot="PFIZER",
      warnings={"dose.mix_first_unavailable"}),
    C("az-then-moderna-aug-2021-not-allowed", CV6030, "2021-08-20", "12/05/1975",
      history=(("AZ", "2021-06-01", "primary"),), lot="MODERNA",
      warnings={"dose.mix_not_allowed"}),
    C("az-then-moderna-before-12-dec", MOH_1212, "2021-12-10", "12/05/1975",
      history=(("AZ", "2021-10-15", "primary"),), lot="MODERNA",
      warnings={"dose.mix_not_allowed"}),
    C("az-then-moderna-after-12-dec", MOH_1212, "2021-12-15", "12/05/1975",
      history=(("AZ", "2021-10-15", "primary"),), lot="MODERNA", product="MODERNA",
      warnings={"dose.mix_first_unavailable"}),
    C("pfizer-then-moderna-before-10-sep", CV7548, "2021-09-05", "12/05/1975",
      history=(("PFIZER", "2021-08-01", "primary"),), lot="MODERNA",
      warnings={"dose.mix_not_allowed"}),
    C("pfizer-then-moderna-after-10-sep", CV7548, "2021-09-20", "12/05/1975",
      history=(("PFIZER", "2021-08-20", "primary"),), lot="MODERNA",
      warnings={"dose.mix_first_unavailable"}),
    C("verocell-then-pfizer-not-allowed", SINOPHARM, "2021-10-20", "12/05/1975",
      history=(("VEROCELL", "2021-09-25", "primary"),), lot="PFIZER",
      warnings={"dose.mix_not_allowed"}),
    C("sputnik-then-az-not-allowed", SINOPHARM, "2021-10-20", "12/05/1975",
      history=(("SPUTNIK", "2021-09-25", "primary"),), lot="AZ",
      warnings={"dose.mix_not_allowed"}),
    C("child8-pfizer-then-moderna-no-mixing", NO_MIX_5_11, "2022-05-10", "15/02/2014",
      history=(("PFIZER_5_11", "2022-04-10", "primary"),), lot="MODERNA",
      product="MODERNA_6_11", warnings={"dose.mix_not_allowed"}),
    C("child-turns-12-adult-pfizer-same-series", PFIZER_5_11, "2022-04-25", "20/04/2010",
      history=(("PFIZER_5_11", "2022-04-01", "primary"),), lot="PFIZER", product="PFIZER",
      volume=0.3, kind="primary"),
    # -- intervals, national and provincial ------------------------------------------
    C("az-29-days-national-too-short", AZ_8_12, "2021-10-30", "12/05/1975",
      history=(("AZ", "2021-10-01", "primary"),), lot="AZ",
      warnings={"dose.interval_too_short"}),
    C("az-29-days-dong-nai-allowed", DONG_NAI, "2021-10-30", "12/05/1975",
      history=(("AZ", "2021-10-01", "primary"),), lot="AZ", profile="dong-nai",
      notes={"dose.interval_below_recommended"}),
    C("az-dong-nai-before-its-decision", DONG_NAI, "2021-10-19", "12/05/1975",
      history=(("AZ", "2021-09-15", "primary"),), lot="AZ", profile="dong-nai",
      warnings={"dose.interval_too_short"}),
    C("az-45-days-hcmc-allowed", HCMC, "2021-11-15", "12/05/1975",
      history=(("AZ", "2021-10-01", "primary"),), lot="AZ", profile="ho-chi-minh",
      notes={"dose.interval_below_recommended"}),
    C("az-30-days-hcmc-too-short", HCMC, "2021-10-31", "12/05/1975",
      history=(("AZ", "2021-10-01", "primary"),), lot="AZ", profile="ho-chi-minh",
      warnings={"dose.interval_too_short"}),
    C("az-90-days-too-long", AZ_8_12, "2021-12-30", "12/05/1975",
      history=(("AZ", "2021-10-01", "primary"),), lot="AZ", form="5785-2021-12",
      warnings={"dose.interval_too_long"}),
    C("az-60-days-ok", AZ_8_12, "2021-11-30", "12/05/1975",
      history=(("AZ", "2021-10-01", "primary"),), lot="AZ", kind="primary"),
    C("pfizer-18-days-too-short", PFIZER_5_11, "2021-10-19", "12/05/1975",
      history=(("PFIZER", "2021-10-01", "primary"),), lot="PFIZER",
      warnings={"dose.interval_too_short"}),
    C("child8-moderna-6-11-21-days-too-short", MODERNA_6_11, "2022-05-01", "15/02/2014",
      history=(("MODERNA_6_11", "2022-04-10", "primary"),), lot="MODERNA",
      product="MODERNA_6_11", warnings={"dose.interval_too_short"}),
    C("abdala-10-days-too-short", ABDALA, "2021-10-11", "12/05/1975",
      history=(("ABDALA", "2021-10-01", "primary"),), lot="ABDALA",
      warnings={"dose.interval_too_short"}),
    C("abdala-third-dose-primary", ABDALA, "2021-10-29", "12/05/1975",
      history=(("ABDALA", "2021-10-01", "primary"), ("ABDALA", "2021-10-15", "primary")),
      lot="ABDALA", kind="primary"),
    # -- boosters and volume ---------------------------------------------------------
    C("moderna-booster-half-dose", MODERNA_HALF, "2022-01-10", "12/05/1975",
      history=(("MODERNA", "2021-08-01", "primary"), ("MODERNA", "2021-08-29", "primary")),
      lot="MODERNA", product="MODERNA", volume=0.25, kind="booster"),
    C("booster-60-days-too-short", BOOSTER, "2021-10-28", "12/05/1975",
      history=(("MODERNA", "2021-08-01", "primary"), ("MODERNA", "2021-08-29", "primary")),
      lot="MODERNA", warnings={"dose.interval_too_short"}),
    C("az-series-az-booster-not-listed", AZ_BOOST, "2022-03-20", "12/05/1975",
      history=(("AZ", "2021-08-01", "primary"), ("AZ", "2021-10-01", "primary")), lot="AZ",
      warnings={"dose.mix_not_allowed"}),
    C("pfizer-series-az-booster", AZ_BOOST, "2022-03-20", "12/05/1975",
      history=(("PFIZER", "2021-08-01", "primary"), ("PFIZER", "2021-08-22", "primary")),
      lot="AZ", product="AZ", volume=0.5, kind="booster"),
    C("second-booster-100-days-too-short", BOOSTER2, "2022-06-10", "12/05/1960",
      history=(("AZ", "2021-08-01", "primary"), ("AZ", "2021-10-01", "primary"),
               ("PFIZER", "2022-03-02", "booster")),
      lot="PFIZER", warnings={"dose.interval_too_short"}),
    C("second-booster-ok", BOOSTER2, "2022-07-05", "12/05/1960",
      history=(("AZ", "2021-08-01", "primary"), ("AZ", "2021-10-01", "primary"),
               ("PFIZER", "2022-03-02", "booster")),
      lot="PFIZER", kind="booster", volume=0.3),
    # -- identity, phone and paper history -------------------------------------------
    C("cmnd-12-digits-accepted", CMND12, "2021-09-20", "07/03/1985",
      id_number=("cmnd", "075185001234"), expect="registered:"),
    C("cmnd-9-digits-accepted", CMND12, "2021-09-20", "07/03/1986",
      id_number=("cmnd", "271234568"), expect="registered:"),
    C("landline-kept-with-warning", LANDLINE, "2021-09-20", "07/03/1950",
      phone="02513822123", expect="registered:phone.landline"),
    C("paper-dose-before-2021", PAPER, "2021-09-21", "07/03/1990", past=("MR", "2010-05-10", "primary"),
      expect="past_ok"),
    C("paper-covid-dose-before-in-use", PAPER, "2021-09-21", "07/03/1990",
      past=("PFIZER", "2020-05-10", "primary"), expect="past_ok", warnings={"dose.before_in_use"}),
    C("paper-dose-before-birth", PAPER, "2021-09-21", "07/03/1990",
      past=("MR", "1989-05-10", "primary"), expect="past:given_on.before_birth"),
    C("paper-dose-at-12-az", AZ_AGE, "2021-09-21", "07/03/2009",
      past=("AZ", "2021-08-10", "primary"), expect="past_ok", warnings={"dose.age_below_min"}),
]

LOT_PRODUCTS = ("AZ", "PFIZER", "PFIZER_5_11", "MODERNA", "VEROCELL", "SPUTNIK", "ABDALA")
PASSWORD = "mat-khau-123"


# ---- the station -------------------------------------------------------------------


@dataclass
class Desk:
    st: Station
    clock: FakeClock
    clerk: Actor
    screener: Actor
    supervisor: Actor
    volunteer: Actor
    lots: dict[str, str]
    names: Iterator[str]
    phones: Iterator[int]


def site_morning(day: str) -> datetime:
    """09:00 in Vietnam on ``day``."""
    return datetime.fromisoformat(day).replace(hour=2, tzinfo=UTC)


def fake_names() -> Iterator[str]:
    family = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng", "Bùi")
    middle = ("Văn", "Thị", "Hữu", "Ngọc", "Minh")
    given = ("An", "Bình", "Cúc", "Dũng", "Hạnh", "Khoa", "Lan", "Mai", "Nam", "Phúc")
    for f, m, g in itertools.product(family, middle, given):
        yield f"{f} {m} {g}"


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    """One station for every row (a fresh person per row): rows run in milliseconds."""
    from argon2 import PasswordHasher

    previous = keyring.get_keyring()
    keyring.set_keyring(ProcessKeyring())
    hasher = admin._hasher
    admin._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    clock = FakeClock(site_morning("2021-06-01"))
    st = init_station(Path(tmp_path_factory.mktemp("clinical")) / "st", "DN-CASES-01", clock=clock)
    try:
        system = Actor.system(st.site_code)
        for name, role in (("tnv", "volunteer"), ("thuky", "clerk"), ("bacsi", "screener"),
                           ("giamsat", "supervisor")):
            admin.create_user(st, system, UserInput(name, f"Người dùng {role}", role, PASSWORD))
        sup = admin.login(st, "giamsat", PASSWORD)
        lots = {
            code: admin.upsert_lot(st, sup, LotInput(code, f"LOT{i:03d}", "30/06/2027", 100_000)).id
            for i, code in enumerate(LOT_PRODUCTS)
        }
        yield Desk(
            st, clock, admin.login(st, "thuky", PASSWORD), admin.login(st, "bacsi", PASSWORD), sup,
            admin.login(st, "tnv", PASSWORD), lots, fake_names(), itertools.count(1000),
        )
    finally:
        st.close()
        admin._hasher = hasher
        keyring.set_keyring(previous)


def clinical_codes(issues: tuple[object, ...] | list[object]) -> set[str]:
    return {i.code for i in issues if not i.code.startswith("clock.")}  # type: ignore[attr-defined]


def record(desk: Desk, data: DoseInput, supervisor: Actor | None = None) -> object:
    """record_dose, confirming clock warnings only; returns the DTO or the exception."""
    from dataclasses import replace

    for _ in range(3):
        try:
            return clinical.record_dose(desk.st, desk.clerk, data, supervisor=supervisor)
        except NeedsConfirmation as exc:
            clock = {w.code for w in exc.warnings if w.code.startswith("clock.")}
            if not clock or clinical_codes(list(exc.warnings)):
                return exc
            data = replace(data, confirm=data.confirm | clock)
        except (DomainError, ValidationError, PermissionDenied) as exc:
            return exc
    raise AssertionError("confirmation loop")


def enter_paper_dose(desk: Desk, pid: str, vaccine: str, day: str, kind: str, number: int,
                     confirm: frozenset[str] | None = None) -> object:
    data = PastDoseInput(pid, vaccine, number, kind, day)
    try:
        return clinical.record_past_dose(desk.st, desk.clerk, data)
    except NeedsConfirmation as exc:
        if confirm is None:  # history from paper: whatever it says was given
            return clinical.record_past_dose(
                desk.st, desk.clerk,
                PastDoseInput(pid, vaccine, number, kind, day,
                              confirm=frozenset(w.code for w in exc.warnings)))
        return exc
    except (DomainError, ValidationError) as exc:
        return exc


# ---- the test ----------------------------------------------------------------------


def test_the_table_is_large_and_sourced() -> None:
    assert len(CASES) >= 60
    assert len({c.id for c in CASES}) == len(CASES)
    assert all(c.source for c in CASES)
    # every selectable screening form is exercised
    forms = {f.id for f in refdata.screening_forms().values() if f.selectable}
    assert forms <= {c.form for c in CASES}


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_clinical_case(desk: Desk, case: Case) -> None:
    st = desk.st
    desk.clock.now = site_morning(case.on)
    clinical.set_interval_profile(st, desk.supervisor, case.profile)
    id_type, number = case.id_number or ("none", None)
    reg = people.register_walk_in(
        st, desk.volunteer,
        PersonInput(full_name=next(desk.names), birth=case.birth, sex=case.sex, id_type=id_type,
                    id_number=number, phone=case.phone or f"0912{next(desk.phones):06d}",
                    priority_group=9),
    )
    pid = reg.person.id
    if case.expect.startswith("registered:"):
        want = case.expect.removeprefix("registered:")
        assert {w.code for w in reg.warnings} == ({want} if want else set()), case.source
        assert reg.person.id_number == number
        if case.phone:
            assert reg.person.phone == case.phone
        return

    if case.past is not None:
        vaccine, day, kind = case.past
        got = enter_paper_dose(desk, pid, vaccine, day, kind, 1, confirm=frozenset())
        if case.expect.startswith("past:"):
            assert isinstance(got, ValidationError), case.source
            assert got.codes() == {case.expect.removeprefix("past:")}
            return
        if case.warnings:
            assert isinstance(got, NeedsConfirmation), (got, case.source)
            assert clinical_codes(list(got.warnings)) == case.warnings
            got = enter_paper_dose(desk, pid, vaccine, day, kind, 1)
        assert not isinstance(got, Exception), (got, case.source)
        assert [d.day for d in clinical.dose_history(st, pid)] == [day]
        return

    for n, (vaccine, day, kind) in enumerate(case.history, start=1):
        got = enter_paper_dose(desk, pid, vaccine, day, kind, n)
        assert not isinstance(got, Exception), got

    # -- screening: the form the station chooses for this day and age
    choice = clinical.screening_form_for(st, pid)
    if case.expect == "no_form":
        assert choice.form_id is None, case.source
        with pytest.raises(DomainError) as err:
            clinical.record_screening(st, desk.screener, pid, answers={}, outcome="eligible")
        assert err.value.code == "screening.no_form"
        return
    assert choice.form_id is not None
    if case.form:
        assert choice.form_id == case.form, case.source
    form = refdata.screening_forms()[choice.form_id]
    answers = {i.id: i.id in case.yes for i in form.items}
    guardian = ({"guardian_name": "Nguyễn Văn Ba", "guardian_phone": "0912000111"}
                if form.guardian and case.guardian else {})
    if case.expect.startswith("screening:"):
        with pytest.raises(ValidationError) as verr:
            clinical.record_screening(st, desk.screener, pid, answers=answers, outcome="eligible",
                                      vitals=case.vitals, **guardian)  # type: ignore[arg-type]
        assert case.expect.removeprefix("screening:") in verr.value.codes(), case.source
        return
    from kernel.rules import screening as screening_rules

    suggested = screening_rules.suggest_outcome(form, answers, case.vitals, case.sex)
    if case.outcome:
        assert suggested == case.outcome, case.source
    outcome = case.doctor or suggested
    scr = clinical.record_screening(
        st, desk.screener, pid, answers=answers, outcome=outcome, vitals=case.vitals,
        override_reason="Bác sĩ quyết định sau khám" if outcome != suggested else None,
        **guardian,  # type: ignore[arg-type]
    )
    assert (scr.form_id, scr.suggested_outcome, scr.outcome) == (choice.form_id, suggested, outcome)
    if case.lot is None:
        return

    # -- the dose
    data = DoseInput(pid, desk.lots[case.lot], injection_site="right_deltoid")
    got = record(desk, data)
    if case.expect == "not_cleared":
        assert isinstance(got, DomainError) and got.code == "dose.screening_not_cleared", case.source
        return
    if case.expect.startswith("override:"):
        codes = set(case.expect.removeprefix("override:").split(","))
        assert isinstance(got, NeedsOverride), (got, case.source)
        assert {i.code for i in got.issues} == codes
        from dataclasses import replace

        overridden = replace(data, override=frozenset(codes), override_reason="Chỉ định của bác sĩ")
        # A clerk cannot override alone; a supervisor can, with a reason.
        assert isinstance(record(desk, overridden), PermissionDenied)
        got = record(desk, overridden, supervisor=desk.supervisor)
        assert not isinstance(got, Exception), got
        assert got.override_reason == "Chỉ định của bác sĩ"  # type: ignore[attr-defined]
        with st.read() as conn:
            audit = conn.execute(text(
                "SELECT user_id, detail FROM audit_log WHERE action = 'override_dose_rule' "
                "AND entity_id = :d"), {"d": got.id}).one()  # type: ignore[attr-defined]
        assert audit[0] == desk.clerk.user_id and desk.supervisor.user_id in audit[1]
        assert all(c in audit[1] for c in codes)
        return
    if case.expect.startswith("error:"):
        assert isinstance(got, ValidationError | DomainError), got
        return
    assert case.expect == "recorded", case.expect
    if case.warnings:
        assert isinstance(got, NeedsConfirmation), (got, case.source)
        assert clinical_codes(list(got.warnings)) == case.warnings, case.source
        from dataclasses import replace

        got = record(desk, replace(data, confirm=frozenset(case.warnings)))
    assert not isinstance(got, Exception), (got, case.source)
    dose = got
    assert {w.code for w in dose.warnings if w.severity == "info"} == case.notes, case.source  # type: ignore[attr-defined]
    if case.product:
        assert dose.vaccine_code == case.product, case.source  # type: ignore[attr-defined]
    if case.volume is not None:
        assert dose.volume_ml == case.volume, case.source  # type: ignore[attr-defined]
    if case.kind:
        assert dose.kind == case.kind, case.source  # type: ignore[attr-defined]
    with st.read() as conn:
        site = conn.execute(text("SELECT injection_site, volume_ml FROM dose WHERE id = :d"),
                            {"d": dose.id}).one()  # type: ignore[attr-defined]
    assert site[0] == "right_deltoid"
    assert site[1] == dose.volume_ml  # type: ignore[attr-defined]


def test_clock_confirmations_are_the_only_ones_the_harness_adds(desk: Desk) -> None:
    """The harness must not hide a clinical warning: it confirms clock.* codes only."""
    desk.clock.now = site_morning("2021-10-30")
    clinical.set_interval_profile(desk.st, desk.supervisor, "national")
    reg = people.register_walk_in(desk.st, desk.volunteer, PersonInput(
        full_name=next(desk.names), birth="12/05/1975", sex="M", id_type="none",
        phone=f"0912{next(desk.phones):06d}", priority_group=9))
    enter_paper_dose(desk, reg.person.id, "AZ", "2021-10-01", "primary", 1)
    form = refdata.screening_forms()[clinical.screening_form_for(desk.st, reg.person.id).form_id or ""]
    clinical.record_screening(desk.st, desk.screener, reg.person.id,
                              answers={i.id: False for i in form.items}, outcome="eligible")
    got = record(desk, DoseInput(reg.person.id, desk.lots["AZ"]))
    assert isinstance(got, NeedsConfirmation)
    assert "dose.interval_too_short" in {w.code for w in got.warnings}
