"""The workstation check's pure logic (dianshu.workstation.check) on the shipped ZJ-DRG 2022 tables,
with a hand-made standard whose figures are easy to follow:

    ES23 (pneumonia with CC)      avg cost  8,000.00   b 100     k(100) = 3   threshold 24,000.00
    ES25 (pneumonia without CC)   avg cost  5,000.00   b 250     k(250) = 2   threshold 10,000.00
    avg_cost_all 8,000.00; the hospital's coefficient 0.95; provisional point value 12.5.

J18.900 (pneumonia) with I10.x00x002 (hypertension, a CC) groups to ES23, J18.900 alone to ES25."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal as D

import pytest

from dianshu.codes.codebook import load_codebook
from dianshu.grouping.engine import Grouper
from dianshu.settlement.arithmetic.points import DrgParams
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.standards.tables import builtin_dir, load_scheme
from dianshu.workstation.check import LastStay, Standing, WarningCode, check, surgical_adrgs
from dianshu.workstation.draft import DraftRefused, read_draft


@pytest.fixture(scope="module")
def zj() -> Grouper:
    return Grouper(load_scheme(builtin_dir("zhejiang_2022"), code="zhejiang_2022"), load_codebook())


PARAMS = {
    "ES23": DrgParams("ES23", D("8000.00"), D("100.0000"), cases=100),
    "ES25": DrgParams("ES25", D("5000.00"), D("250.0000"), cases=100),
}


def standing(zj, *, pv=D("12.5"), params=None, policy=None, coefficient=D("0.95")) -> Standing:
    return Standing(
        "330702",
        "H33070200001",
        2025,
        "employee",
        zj,
        "std-1",
        "test standard",
        D("8000.00"),
        PARAMS if params is None else params,
        coefficient,
        policy or Policy(),
        pv,
        "fixed",
        surgical_adrgs(zj),
        "2022",
    )


def draft(**over):
    d = {
        "patient_id": "P1",
        "sex": 1,
        "age_years": 64,
        "admission_time": "2025-03-01 09:00",
        "discharge_time": "2025-03-06 10:00",
        "discharge_dept": "呼吸内科",
        "diagnoses": ["J18.900", "I10.x00x002"],
        "total_cost": "8000.00",
        "fund_type": "employee",
    }
    d.update(over)
    return read_draft({k: v for k, v in d.items() if v is not None})


def codes(result):
    return [w.code for w in result.warnings]


def test_normal_case_by_hand(zj):
    r = check(draft(), standing(zj), None)
    assert (r.group.drg, r.group.status) == ("ES23", "grouped")
    assert r.group.trace and any("ES23" in step for step in r.group.trace)
    # ratio 8,000 / 8,000 = 1: normal, b × c = 100 × 0.95 = 95.0000 points;
    # payment 95 × 12.5 = 1,187.50; threshold k × avg = 3 × 8,000 = 24,000.00.
    assert (r.points.type, r.points.points) == ("normal", D("95.0000"))
    assert r.expected_payment == D("1187.50")
    assert (r.cost_ratio, r.k, r.high_outlier_threshold) == (D("1.0000"), D(3), D("24000.00"))
    assert (r.base_points, r.coefficient, r.avg_cost, r.los_days) == (D("100.0000"), D("0.95"), D("8000.00"), 5)
    assert r.warnings == []


def test_high_outlier_by_hand(zj):
    r = check(draft(total_cost="40000.00"), standing(zj, pv=D("12.345678")), None)
    # ratio 40,000 / 8,000 = 5 > 3: 100 × 0.95 + 100 × (5 − 3) = 295.0000 points;
    # 295 × 12.345678 = 3,641.975010 -> 3,641.98 (half-up to the fen).
    assert (r.points.type, r.points.points, r.expected_payment) == ("high_outlier", D("295.0000"), D("3641.98"))
    assert r.cost_ratio == D("5.0000")
    assert codes(r) == [WarningCode.HIGH_OUTLIER]
    w = r.warnings[0]
    assert w.field == "total_cost" and "24000.00" in w.message_en and "24000.00" in w.message_zh


def test_projected_high_outlier_by_hand(zj):
    # 2 days so far of an expected 10 (03-01 to 03-11), 6,000.00 so far: projected 6,000 × 10 / 2 = 30,000.00
    # > 24,000.00, while 6,000 is not. Points on the projection: ratio 3.75 > 3: 95 + 100 × 0.75 = 170.0000.
    r = check(draft(total_cost="6000.00", days_so_far=2, discharge_time="2025-03-11 09:00"), standing(zj), None)
    assert (r.projected_cost, r.projected_ratio, r.cost_ratio) == (D("30000.00"), D("3.7500"), D("0.7500"))
    assert (r.points.type, r.points.points) == ("high_outlier", D("170.0000"))
    # 170 × 12.5 = 2,125.00
    assert r.expected_payment == D("2125.00")
    assert codes(r) == [WarningCode.PROJECTED_HIGH_OUTLIER]
    # The same cost with the stay nearly over: 6,000 × 10 / 9 = 6,666.67, below: no warning.
    r = check(draft(total_cost="6000.00", days_so_far=9, discharge_time="2025-03-11 09:00"), standing(zj), None)
    assert r.projected_cost == D("6666.67") and codes(r) == []


def test_band_two_multiplier_by_hand(zj):
    # ES25: b 250 -> k 2, threshold 2 × 5,000 = 10,000.00; cost 12,000: ratio 2.4 > 2:
    # 250 × 0.95 + 250 × (2.4 − 2) = 237.5 + 100 = 337.5000 points; × 12.5 = 4,218.75.
    r = check(draft(diagnoses=["J18.900"], total_cost="12000.00"), standing(zj), None)
    assert r.group.drg == "ES25"
    assert (r.k, r.high_outlier_threshold) == (D(2), D("10000.00"))
    assert (r.points.points, r.expected_payment) == (D("337.5000"), D("4218.75"))


def test_low_outlier_and_incomplete_by_hand(zj):
    # ratio 2,000 / 8,000 = 0.25 < 0.4: min(100 × 0.25, 100) = 25.0000 points.
    r = check(draft(total_cost="2000.00"), standing(zj), None)
    assert (r.points.type, r.points.points) == ("low_outlier", D("25.0000"))
    # death (discharge way 5), ratio 6,400 / 8,000 = 0.8 < 1: min(100 × 0.95 × 0.8, 100) = 76.0000.
    r = check(draft(total_cost="6400.00", discharge_way=5), standing(zj), None)
    assert (r.points.type, r.points.points) == ("incomplete", D("76.0000"))


def test_charges_sum_is_the_cost(zj):
    charges = ["100.00"] * 13 + ["6700.00"]  # 13 × 100 + 6,700 = 8,000.00
    r = check(draft(total_cost=None, charges=charges), standing(zj), None)
    assert r.cost_so_far == D("8000.00") and r.points.points == D("95.0000")


def test_ungroupable_principal_and_itemized(zj):
    # An unknown principal: 0000, paid by item: 8,000 / 8,000 × 100 × 1.0 = 100.0000 points.
    r = check(draft(diagnoses=["Q99.999x999", "I10.x00x002"]), standing(zj), None)
    assert (r.group.drg, r.points.type, r.points.points) == ("0000", "itemized", D("100.0000"))
    assert codes(r) == [WarningCode.INVALID_CODE, WarningCode.UNGROUPABLE]
    assert r.warnings[0].field == "diagnoses[0]" and r.high_outlier_threshold is None
    # A DRG without parameters in the standard: ITEMIZED (info), 5,000 / 8,000 × 100 = 62.5000 points.
    r = check(draft(diagnoses=["J18.900"], total_cost="5000.00"), standing(zj, params={"ES23": PARAMS["ES23"]}), None)
    assert (r.group.drg, r.points.type, r.points.points) == ("ES25", "itemized", D("62.5000"))
    assert codes(r) == [WarningCode.ITEMIZED]


def test_grey_secondary_code(zj):
    r = check(draft(diagnoses=["J18.900", "A02.900"]), standing(zj), None)
    assert WarningCode.GREY_CODE in codes(r)
    (w,) = [w for w in r.warnings if w.code is WarningCode.GREY_CODE]
    assert w.field == "diagnoses[1]" and "灰码" in w.message_zh


def test_external_cause_is_no_principal(zj):
    r = check(draft(diagnoses=["V01.x00"]), standing(zj), None)
    assert codes(r)[0] is WarningCode.INVALID_PRINCIPAL and r.warnings[0].field == "diagnoses[0]"
    assert WarningCode.UNGROUPABLE in codes(r)


def test_newborn_without_birth_weight(zj):
    newborn = {"age_years": 0, "age_days": 3, "diagnoses": ["P07.200"], "discharge_dept": "新生儿科"}
    r = check(draft(**newborn), standing(zj), None)
    assert WarningCode.MISSING_BIRTH_WEIGHT in codes(r)
    (w,) = [w for w in r.warnings if w.code is WarningCode.MISSING_BIRTH_WEIGHT]
    assert w.field == "birth_weight_g" and "PT2" in w.message_en  # ≥ 2,500 g: 早产儿(出生体重>2499G)
    r = check(draft(**newborn, birth_weight_g=2800), standing(zj), None)
    assert r.group.adrg == "PT2" and WarningCode.MISSING_BIRTH_WEIGHT not in codes(r)


def test_ventilation_hours(zj):
    vent = {"diagnoses": ["J96.000", "J18.900"], "procedures": ["96.7201"], "discharge_dept": "ICU"}
    r = check(draft(**vent), standing(zj), None)
    assert r.group.adrg == "AH1" and WarningCode.MISSING_VENT_HOURS in codes(r)
    r = check(draft(**vent, vent_hours="50"), standing(zj), None)
    assert WarningCode.VENT_HOURS_MISMATCH in codes(r) and WarningCode.MISSING_VENT_HOURS not in codes(r)
    r = check(draft(**vent, vent_hours="120"), standing(zj), None)
    assert not {WarningCode.VENT_HOURS_MISMATCH, WarningCode.MISSING_VENT_HOURS} & set(codes(r))


def test_missing_procedure_in_a_surgical_department(zj):
    r = check(draft(discharge_dept="普外科"), standing(zj), None)
    assert WarningCode.MISSING_PROCEDURE in codes(r)
    assert WarningCode.MISSING_PROCEDURE not in codes(check(draft(), standing(zj), None))


def _last(days_before: int, drg="ES23", adrg="ES2") -> LastStay:
    # The draft is admitted 2025-03-01 09:00; the last stay was discharged `days_before` calendar days earlier.
    discharged = datetime(2025, 3, 1, 10, 0) - timedelta(days=days_before)
    return LastStay("L0", "H33070200001", discharged.replace(hour=8), discharged, drg, adrg)


def test_readmission_within_15_days(zj):
    r = check(draft(), standing(zj), _last(10))
    assert codes(r) == [WarningCode.READMISSION]
    # The same DRG, not planned: the earlier stay's points are halved (readmission_factor 0.5).
    assert "0.5" in r.warnings[0].message_en and "10 days" in r.warnings[0].message_en
    # 15 calendar days is still within; 16 is not.
    assert codes(check(draft(), standing(zj), _last(15))) == [WarningCode.READMISSION]
    assert codes(check(draft(), standing(zj), _last(16))) == []
    # Another DRG: a readmission, but no halving; a planned one says so.
    other = check(draft(), standing(zj), _last(3, "GU15", "GU1")).warnings[0]
    assert other.code is WarningCode.READMISSION and "0.5" not in other.message_en
    planned = check(draft(readmit_planned=True), standing(zj), _last(3)).warnings[0]
    assert "planned" in planned.message_en and "0.5" not in planned.message_en


def test_no_point_value(zj):
    r = check(draft(), standing(zj, pv=None), None)
    assert r.expected_payment is None and codes(r) == [WarningCode.NO_POINT_VALUE]


@pytest.mark.parametrize(
    "over, field",
    [
        ({"unknown": 1}, "unknown"),
        ({"age_years": "64"}, "age_years"),
        ({"age_years": 151}, "age_years"),
        ({"age_days": 5}, "age_days"),  # age in days for a 64-year-old
        ({"sex": 3}, "sex"),
        ({"diagnoses": []}, "diagnoses"),
        ({"diagnoses": ["J18 900"]}, "diagnoses[0]"),
        ({"procedures": ["x" * 31]}, "procedures[0]"),
        ({"total_cost": 8000.5}, "total_cost"),
        ({"total_cost": "-1.00"}, "total_cost"),
        ({"charges": ["1.00"] * 13}, "charges"),
        ({"charges": ["1.00"] * 14}, "total_cost"),  # 14.00 ≠ 8,000.00
        ({"vent_hours": 1.5}, "vent_hours"),
        ({"discharge_way": 7}, "discharge_way"),
        ({"admission_time": "2025-13-01 09:00"}, "admission_time"),
        ({"discharge_time": "2025-02-01 09:00"}, "discharge_time"),
        ({"discharge_time": None}, "discharge_time"),  # neither a discharge time nor days so far
        ({"days_so_far": 9}, "days_so_far"),  # more than the expected 5
        ({"fund_type": "other"}, "fund_type"),
        ({"patient_id": ""}, "patient_id"),
        ({"readmit_planned": 1}, "readmit_planned"),
    ],
)
def test_strict_validation_names_the_field(over, field):
    with pytest.raises(DraftRefused) as e:
        read_draft({k: v for k, v in {**_base(), **over}.items() if v is not None})
    assert e.value.field == field, e.value.issues
    assert e.value.record == "draft"


def _base():
    return {
        "patient_id": "P1",
        "age_years": 64,
        "admission_time": "2025-03-01 09:00",
        "discharge_time": "2025-03-06 10:00",
        "diagnoses": ["J18.900"],
        "total_cost": "8000.00",
        "fund_type": "employee",
    }
