"""Computed indicators through the database, on the hand-built year of indicator_world.py (read its
docstring first: the stays, the standard, the findings). Every one of the 43 computed indicators is
worked out by hand below for a1 and a2 (level 2, peers of each other and of b1, which has no
cases), a3 (level 3, its own only peer) and b1.

Shared by every stay (the world's fixed shares of T): drugs = western 23% + herbal 3% + patent 17%
= 43%; materials 13%; examination 7% + laboratory 11% = 18%; self-pay 20% + own-pay 10% = 30%;
own-pay 10%; fund 70%. So F01 43.0000, F02 13.0000, F05 18.0000, D05 30.0000, D06 10.0000 for
every hospital with cases.

Peers of level 2 (a1, a2): each DRG's cases, days and deaths over both hospitals:
  ES23: a1 A1-01..05 (25 days, A1-03 died), a2 A2-05 (10), A2-07 (5): 7 cases, 40 days, 1 death
  ES25: a1 A1-06 (2, died), A1-10 (3), A1-11 (3), a2 A2-01 (3), A2-06 (1): 5 cases, 12 days, 1 death
  BR25: a1 A1-07 (10), a2 A2-02 (12, died): 2 cases, 22 days, 1 death
  GD19: a2 A2-03 (6, died), A2-04 (4): 2 cases, 10 days, 1 death
  MA15: a1 A1-08 (8, died): 1 case, 8 days, 1 death
Average LOS: ES23 40/7, ES25 2.4, BR25 11, GD19 5, MA15 8.
Mortalities: ES23 1/7 = 0.142857, ES25 1/5 = 0.2, BR25 0.5, GD19 0.5, MA15 1: mean 2.342857 / 5 =
0.468571; squared deviations 0.106090 + 0.072131 + 0.000988 + 0.000988 + 0.282416 = 0.462613, / 5 =
0.092523, population SD 0.304175. Low-risk: below 0.468571 − 0.304175 = 0.164396: ES23 only.
Mid/high-risk: above 0.468571 + 0.304175 = 0.772746: MA15 only.
Level 3 (a3 alone): ES23 (5 days) and YR15 (10 days), no death: mean 0, SD 0: no risk DRG.

Points (the latest run of 2025: through December, version 2, after the findings were confirmed):
  a1: A1-01 80 halved to 40 (readmitted by A1-02 after 9 days, same DRG, not planned); A1-02 80;
      A1-03 0 (upcoding, serious: 2 × 80 = 160 deducted); A1-04 0 (bed_hanging); A1-05 80
      (10,000 / 8,000 = 1.25: normal); A1-06 50; A1-07 200; A1-08 300; A1-10 50; A1-11 50.
      Σ points 850; Σ original 80 × 5 + 50 × 3 + 200 + 300 = 1,050; withdrawn 80 + 80; deducted 160.
  a2: A2-01 0 (no_indication, serious: 1 × 50 deducted); A2-02 200; A2-03 100; A2-04 100;
      A2-05 high outlier 80 + 80 × (40,000 / 8,000 − 3) = 240; A2-06 low outlier 50 × 0.2 = 10, then 0
      (split_admission); A2-07 80. Σ points 720; Σ original 50 + 200 + 100 + 100 + 240 + 10 + 80 = 780.
  a3: A3-01 80; by item (cost / 10,000 × 100): A3-02 YR15 (no parameters) 120, A3-03 0000 90,
      A3-04 EQY 60. Σ 350.
  2024's run: a1 L24-1 80 + L24-2 80 = 160; a3 L24-3 80."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import text

from dianshu.db.session import scoped_session
from dianshu.evaluation.catalogue import builtin_catalogue
from dianshu.evaluation.indicators import (
    COMPUTATIONS,
    Figures,
    IndicatorsRefused,
    Measure,
    compute_indicators,
    measures,
)
from dianshu.evaluation.indicators.formulas import growth, growth_per_case, ratio
from dianshu.scope import Role
from tests.conftest import scope_for
from tests.evaluation.indicator_world import build
from tests.test_standards_db import builtin_versions  # noqa: F401

SAME_FOR_ALL = {
    "drug_share": "43.0000",
    "consumables_share": "13.0000",
    "exam_share": "18.0000",
    "personal_burden_share": "30.0000",
    "own_pay_share": "10.0000",
}

A1 = {
    # 10 cases (A1-01..08, A1-10, A1-11), cost 105,000, 51 days, 7 patients, all grouped into a DRG:
    # ES23 × 5, ES25 × 3, BR25, MA15.
    "cmi": "1.0500",  # RW 0.8 × 5 + 0.5 × 3 + 2 + 3 = 10.5, / 10
    "drg_count": "4",  # ES23, ES25, BR25, MA15
    "grouping_rate": "100.0000",  # 10 / 10
    "total_weight": "10.5000",
    "cost_index": "1.0000",  # 105,000 / (5 × 8,000 + 3 × 5,000 + 20,000 + 30,000 = 105,000)
    # 51 / (5 × 40/7 + 3 × 2.4 + 11 + 8 = 383.4/7) = 357 / 383.4 = 0.931142…
    "time_index": "0.9311",
    "admissions_per_patient": "1.4286",  # 10 / 7 (P1, P4, P5 twice)
    "total_cost_growth": "483.3333",  # (105,000 / 18,000 − 1) × 100
    "high_outlier_share": "0.0000",  # 0 / 10 in the run
    "low_outlier_share": "0.0000",  # 0 / 10 (A1-01: 6,000 / 8,000 = 0.75, normal)
    "ambiguous_share": "0.0000",
    "itemized_share": "0.0000",
    "cc_mcc_share": "50.0000",  # ES23 (ends in 3) × 5 / 10
    "review_share": "10.0000",  # A1-08 applied / 10 grouped
    "review_acceptance_rate": "0.0000",  # A1-08 refused: 0 / 1 decided
    "points_per_case": "85.0000",  # 850 / 10
    "points_growth": "431.2500",  # (850 / 160 − 1) × 100
    "major_surgery_share": "100.0000",  # A1-08 (level 4) / A1-08, the only case with a procedure
    "high_rw_share": "20.0000",  # BR25 (RW 2), MA15 (RW 3): 2 / 10
    # ES23, the only DRG with ≥ 5 cases: 6,000, 8,000, 8,000, 8,000, 10,000: mean 8,000, sample
    # variance (2,000² + 2,000²) / 4 = 2,000,000, SD 1,414.2136, CV 0.176777 (weight 5 / 5).
    "cost_cv": "0.1768",
    "violation_share": "20.0000",  # A1-03, A1-04 / 10
    "deducted_points_share": "30.4762",  # (80 + 80 withdrawn + 160 deducted) / 1,050 × 100
    "audit_deduction_share": "0.4082",  # 300.00 (2025; 2024's 99.00 left out) / 73,500 fund × 100
    # Region batch: 12 versions created (10 of 2025, 2 of 2024) + A1-BAD refused = 13 sent; the
    # correction batch: 1 created = 1 sent. 13 / 14.
    "list_qc_pass_rate": "92.8571",
    # Version 1 within 30 days: A1-01, A1-02, A1-03 (10 days), A1-04 (30 days and 13 hours: the 30th
    # calendar day), A1-05 (version 1 after 2 days; its correction was late): 5 / 10.
    "list_timeliness": "50.0000",
    "low_standard_share": "0.0000",
    "split_admission_share": "0.0000",
    "serious_violation_share": "10.0000",  # A1-03 / 10
    "upcoding_share": "10.0000",  # A1-03 / 10
    "low_risk_mortality": "20.0000",  # ES23: A1-03 died / 5 ES23 cases
    "readmit_15_same_drg": "10.0000",  # A1-01 (A1-02 after 9 days, ES23 again) / 10
    # A1-01 (9 days) and A1-05 (A1-07 after 26 days, another DRG); A1-04's next stay A1-10 is
    # planned: 2 / 10.
    "readmit_31_unplanned": "20.0000",
    "mid_high_risk_mortality": "100.0000",  # MA15: A1-08 died / 1
    "avg_los": "5.1000",  # 51 / 10
    "cost_per_case_growth": "16.6667",  # (10,500 / 9,000 − 1) × 100
    "short_stay_share": "10.0000",  # A1-06 (2 days) / 10
    "preop_los": "2.0000",  # A1-08: 10-03 − 10-01
    "admissions_growth": "400.0000",  # (10 / 2 − 1) × 100
    **SAME_FOR_ALL,
}

A2 = {
    # 7 cases, cost 94,000, 41 days, 7 patients, all grouped: ES25 × 2, BR25, GD19 × 2, ES23 × 2.
    "cmi": "0.9429",  # (0.5 × 2 + 2 + 1 × 2 + 0.8 × 2 = 6.6) / 7 = 0.942857
    "drg_count": "4",
    "grouping_rate": "100.0000",
    "total_weight": "6.6000",
    "cost_index": "1.4242",  # 94,000 / (2 × 5,000 + 20,000 + 2 × 10,000 + 2 × 8,000 = 66,000)
    # 41 / (2 × 2.4 + 11 + 2 × 5 + 2 × 40/7 = 260.6/7) = 287 / 260.6 = 1.101305
    "time_index": "1.1013",
    "admissions_per_patient": "1.0000",
    "total_cost_growth": None,  # no cases in 2024
    "high_outlier_share": "14.2857",  # A2-05 / 7
    "low_outlier_share": "14.2857",  # A2-06 / 7
    "ambiguous_share": "0.0000",
    "itemized_share": "0.0000",
    "cc_mcc_share": "28.5714",  # ES23 × 2 / 7
    "review_share": "14.2857",  # A2-05 / 7
    "review_acceptance_rate": "100.0000",  # A2-05 decided add_points: 1 / 1
    "points_per_case": "102.8571",  # 720 / 7
    "points_growth": None,  # no 2024 points
    "major_surgery_share": "50.0000",  # A2-03 (level 3) / A2-03, A2-04
    "high_rw_share": "14.2857",  # BR25 / 7
    "cost_cv": None,  # no DRG with 5 cases
    "violation_share": "28.5714",  # A2-01, A2-06 / 7
    "deducted_points_share": "14.1026",  # (50 + 10 withdrawn + 50 deducted) / 780 × 100
    "audit_deduction_share": "0.0000",  # 0 / 65,800
    "list_qc_pass_rate": "100.0000",  # region batch: 8 versions created (A2-01..08) / 8 sent
    "list_timeliness": "14.2857",  # A2-01 / 7
    "low_standard_share": "14.2857",  # A2-01 no_indication / 7
    "split_admission_share": "14.2857",  # A2-06 / 7
    "serious_violation_share": "14.2857",  # A2-01 / 7
    "upcoding_share": "0.0000",
    "low_risk_mortality": "0.0000",  # ES23: 0 deaths / A2-05, A2-07
    "readmit_15_same_drg": "0.0000",  # A2-07 -> A2-08 after 16 days: not within 15
    "readmit_31_unplanned": "14.2857",  # A2-07 -> A2-08 (2026-01-05, 16 days) / 7
    "mid_high_risk_mortality": None,  # no MA15 case
    "avg_los": "5.8571",  # 41 / 7
    "cost_per_case_growth": None,
    "short_stay_share": "14.2857",  # A2-06 (1 day) / 7
    "preop_los": "1.0000",  # A2-03 1 day, A2-04 1 day: 2 / 2
    "admissions_growth": None,
    **SAME_FOR_ALL,
}

A3 = {
    # 4 cases, cost 35,000, 20 days; grouped into a DRG: A3-01 ES23, A3-02 YR15 (no RW in the
    # standard); A3-03 0000 and A3-04 EQY are not.
    "cmi": "0.8000",  # 0.8 / 1 weighed case (YR15 has no RW)
    "drg_count": "2",  # ES23, YR15
    "grouping_rate": "50.0000",  # 2 / 4
    "total_weight": "0.8000",
    "cost_index": "1.0000",  # 8,000 / 8,000
    "time_index": "1.0000",  # (5 + 10) / (1 × 5 + 1 × 10): its own peer
    "admissions_per_patient": "1.0000",
    "total_cost_growth": "337.5000",  # (35,000 / 8,000 − 1) × 100
    "high_outlier_share": "0.0000",
    "low_outlier_share": "0.0000",
    "ambiguous_share": "25.0000",  # A3-04 / 4
    "itemized_share": "75.0000",  # A3-02, A3-03, A3-04 / 4
    "cc_mcc_share": "50.0000",  # ES23 / 2 grouped
    "review_share": "50.0000",  # A3-02 / 2 grouped
    "review_acceptance_rate": None,  # A3-02 submitted, not decided
    "points_per_case": "87.5000",  # 350 / 4
    "points_growth": "337.5000",  # (350 / 80 − 1) × 100
    "major_surgery_share": "100.0000",  # A3-03 (level 3) / 1
    "high_rw_share": "0.0000",  # 0 / 2
    "cost_cv": None,
    "violation_share": "0.0000",
    "deducted_points_share": "0.0000",  # 0 / 350
    "audit_deduction_share": "0.0000",
    # Its own batches: 5 rows, 5 accepted; then 2 rows: 1 unchanged, 1 refused: (5 + 1) / 7.
    "list_qc_pass_rate": "85.7143",
    "list_timeliness": "100.0000",  # all 4 within 2 days
    "low_standard_share": "0.0000",
    "split_admission_share": "0.0000",
    "serious_violation_share": "0.0000",
    "upcoding_share": "0.0000",
    "low_risk_mortality": None,  # level 3 has no risk DRG (SD 0)
    "readmit_15_same_drg": "0.0000",
    "readmit_31_unplanned": "0.0000",
    "mid_high_risk_mortality": None,
    "avg_los": "5.0000",  # 20 / 4
    "cost_per_case_growth": "9.3750",  # (8,750 / 8,000 − 1) × 100
    "short_stay_share": "25.0000",  # A3-04 (2 days) / 4
    "preop_los": "1.0000",  # A3-03: 05-02 − 05-01
    "admissions_growth": "300.0000",  # (4 / 1 − 1) × 100
    **SAME_FOR_ALL,
}


def values(got, hospital):
    return {c: (None if m.value is None else str(m.value)) for (h, c), m in got.values.items() if h == hospital}


def normal(expected):
    # Counts are whole values (drg_count "4" is 4.0000 as a 4-place Decimal).
    return {k: (None if v is None else str(D(v).quantize(D("0.0001")))) for k, v in expected.items()}


@pytest.fixture
async def world(db, owner_db, city, dispatcher, builtin_versions):  # noqa: F811
    a3, _ = await build(db, owner_db, city, builtin_versions["zhejiang_2022"])
    return a3


def test_the_computations_are_the_catalogues_computed_indicators():
    computed = [i.computation for i in builtin_catalogue().indicators if not i.entered]
    assert len(computed) == 43 and sorted(COMPUTATIONS) == sorted(computed)
    assert len(A1) == len(A2) == len(A3) == 43


def test_pure_formulas_round_once_and_know_when_there_is_nothing():
    assert ratio(1, 3, D(100)) == Measure(D("33.3333"), D(1), D(3))
    assert ratio(D("0.00005"), 1).value == D("0.0001")  # half-up
    assert ratio(D("0.000049999"), 1).value == D("0.0000")
    assert ratio(5, 0) == Measure(None, D(5), D(0))
    assert growth(150, 100).value == D("50.0000")
    assert growth(150, None).value is None and growth(150, 0).value is None
    # F03 from the exact totals: (1,000 / 3) / (1,000 / 4) − 1 = 1/3: 33.3333, not (333.3333 / 250 − 1).
    assert growth_per_case(1000, 3, 1000, 4) == Measure(D("33.3333"), D("333.3333"), D("250.0000"))
    # A hospital without any figure: every indicator None.
    assert all(m.value is None for m in measures(Figures({})).values())


async def test_every_computed_indicator_by_hand(db, city, world):
    a3 = world
    admin = scope_for(Role.city_admin, city.tenants)
    async with scoped_session(db, admin) as s:
        got = await compute_indicators(s, city.tenants, 2025)
    assert got.hospitals == {city.a1: (city.a, 2), city.a2: (city.a, 2), a3: (city.a, 3), city.b1: (city.b, 2)}
    assert got.cases == {city.a1: 10, city.a2: 7, a3: 4, city.b1: 0}
    assert values(got, city.a1) == normal(A1)
    assert values(got, city.a2) == normal(A2)
    assert values(got, a3) == normal(A3)
    assert values(got, city.b1) == dict.fromkeys(COMPUTATIONS)  # no cases, no batches: nothing to measure
    # Numerators and denominators are the figures the values come from.
    assert got.values[(city.a1, "deducted_points_share")] == Measure(D("30.4762"), D("320.0000"), D("1050.0000"))
    assert got.values[(city.a2, "cost_index")] == Measure(D("1.4242"), D("94000.00"), D("66000.00"))
    assert got.values[(city.a1, "readmit_31_unplanned")] == Measure(D("20.0000"), D(2), D(10))
    assert got.values[(city.a1, "cost_per_case_growth")] == Measure(D("16.6667"), D("10500.0000"), D("9000.0000"))
    assert got.values[(city.a1, "drg_count")].denominator is None


async def test_a_region_sees_its_own_hospitals_and_a_hospital_is_refused(db, city, world):
    a3 = world
    admin = scope_for(Role.city_admin, city.tenants)
    async with scoped_session(db, admin) as s:
        city_wide = await compute_indicators(s, city.tenants, 2025)
    # Region A asking for both regions: row-level security hides B; A's figures are the city's
    # (b1, the only level-2 hospital of B, has no cases, so the peers are the same).
    region_a = scope_for(Role.region_admin, (city.a,))
    async with scoped_session(db, region_a) as s:
        before = (await s.execute(text("select current_setting('work_mem')"))).scalar_one()
        got = await compute_indicators(s, (city.a, city.b), 2025)
        # The caller's transaction is left as it was: its work_mem, no temporary table.
        assert (await s.execute(text("select current_setting('work_mem')"))).scalar_one() == before
        assert (await s.execute(text("select to_regclass('pg_temp.indicator_case')"))).scalar_one() is None
    assert set(got.hospitals) == {city.a1, city.a2, a3}
    assert {k: v for k, v in city_wide.values.items() if k[0] != city.b1} == got.values
    region_b = scope_for(Role.region_admin, (city.b,))
    async with scoped_session(db, region_b) as s:
        got = await compute_indicators(s, (city.a, city.b), 2025)
    assert set(got.hospitals) == {city.b1} and got.cases == {city.b1: 0}
    assert all(m.value is None for m in got.values.values())
    # A hospital's scope would see no peers: refused, not computed wrongly.
    hospital = scope_for(Role.hospital_user, (city.a,), city.a1)
    with pytest.raises(IndicatorsRefused, match="a hospital's scope sees no peers") as refused:
        async with scoped_session(db, hospital) as s:
            await compute_indicators(s, (city.a,), 2025)
    assert (refused.value.field, refused.value.kind) == ("scope", "state")


async def test_a_year_without_a_standard_in_force_is_refused(db, city, world):
    admin = scope_for(Role.city_admin, city.tenants)
    with pytest.raises(IndicatorsRefused, match="no published payment standard") as refused:
        async with scoped_session(db, admin) as s:
            await compute_indicators(s, city.tenants, 2023)
    assert refused.value.field == "standard"
    with pytest.raises(IndicatorsRefused, match="year"):
        async with scoped_session(db, admin) as s:
            await compute_indicators(s, city.tenants, 1800)
