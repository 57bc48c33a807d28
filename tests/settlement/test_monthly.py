"""Monthly pre-settlement with hand-computed values: three months of one hospital."""

from decimal import Decimal as D

import pytest

from dianshu.settlement.arithmetic.monthly import HospitalYtd, monthly_settlement
from dianshu.settlement.arithmetic.policy import Policy

PV = D("12.5")  # last year's final point value


def test_three_months_year_to_date():
    p = Policy()
    # January: 1000 points × 12.5 − 2000 own payments − 500 audit = 10000.00; paid 95% = 9500.00
    jan = monthly_settlement({"H1": HospitalYtd(D(1000), D(2000), D(500))}, PV, p)["H1"]
    assert (jan.due, jan.payable, jan.holdback, jan.payment) == (D("10000.00"), D("9500.00"), D("500.00"), D("9500.00"))
    # February, year to date: 1800 × 12.5 − 3600 − 500 = 18400.00; 95% = 17480.00; minus 9500 paid
    feb = monthly_settlement({"H1": HospitalYtd(D(1800), D(3600), D(500), D("9500.00"))}, PV, p)["H1"]
    assert (feb.due, feb.payable, feb.holdback, feb.payment) == (
        D("18400.00"),
        D("17480.00"),
        D("920.00"),
        D("7980.00"),
    )
    # March: a recall takes 100 points out: 1700 × 12.5 − 3400 − 500 = 17350.00; 95% = 16482.50;
    # 17480 was paid: the fund recovers 997.50
    mar = monthly_settlement({"H1": HospitalYtd(D(1700), D(3400), D(500), D("17480.00"))}, PV, p)["H1"]
    assert (mar.due, mar.payable, mar.payment) == (D("17350.00"), D("16482.50"), D("-997.50"))


def test_prepay_ratio_and_rounding():
    # 333 × 12.5 = 4162.5 − 0 = 4162.50; × 0.9 = 3746.25; with 0.95: 3954.375 -> 3954.38 (half-up)
    p90 = Policy().with_overrides({"prepay_ratio": "0.9"})
    assert monthly_settlement({"H": HospitalYtd(D(333), D(0))}, PV, p90)["H"].payable == D("3746.25")
    assert monthly_settlement({"H": HospitalYtd(D(333), D(0))}, PV, Policy())["H"].payable == D("3954.38")
    with pytest.raises(ValueError, match="positive"):
        monthly_settlement({}, D(0), Policy())


def test_due_and_payable_are_each_rounded_once_from_the_exact_due():
    # 8.0004 points × 12.5 = 100.005: due 100.005 → 100.01 (half-up); payable 100.005 × 0.95 = 95.00475
    # → 95.00 (not 100.01 × 0.95 = 95.0095 → 95.01, which would round twice); holdback 5.01.
    line = monthly_settlement({"H": HospitalYtd(D("8.0004"), D(0))}, PV, Policy())["H"]
    assert (line.due, line.payable, line.holdback) == (D("100.01"), D("95.00"), D("5.01"))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"itemized_factor": "-1"}, "itemized_factor: must be between 0 and 100 \\(got -1\\)"),
        ({"readmission_factor": "-1"}, "readmission_factor: must be between 0 and 1"),
        ({"violation_multiples": {"fraud": "-5"}}, "violation_multiples.fraud"),
        ({"min_prepay_ratio": "0", "prepay_ratio": "0.1"}, "min_prepay_ratio: SPEC.s floor is 0.85"),
        ({"low_ratio": "1.5"}, "low_ratio: must be between 0 and 1"),
    ],
)
def test_policy_bounds_keep_points_non_negative_and_the_prepay_floor(overrides, message):
    with pytest.raises(ValueError, match=message):
        Policy().with_overrides(overrides)
