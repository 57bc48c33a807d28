"""The points coefficient in the pure clearing (settlement/arithmetic/year.py): P_h × coefficient
before the point value. The figures of tests/evaluation/test_settlement_reads_the_run.py, by hand."""

from __future__ import annotations

from decimal import Decimal as D

from dianshu.settlement.arithmetic.clearing import budget
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.settlement.arithmetic.year import HospitalIn, LedgerBudget, PointsTotals, clear_ledger

POLICY = Policy()
TOTALS = {
    "A1": PointsTotals(3, D("300.0000"), D("300.0000"), D(0), D("6000.00"), D("18000.00")),
    "A2": PointsTotals(1, D("300.0000"), D("300.0000"), D(0), D("2000.00"), D("38000.00")),
}


def clear(coefs: dict[str, D], scores: dict[str, D] | None = None):
    hospitals = {h: HospitalIn(h, score=(scores or {}).get(h), evaluation_coefficient=c) for h, c in coefs.items()}
    return clear_ledger("employee", TOTALS, LedgerBudget(budget(D(60000), POLICY), D(56000)), hospitals, [], POLICY)


def test_coefficients_of_1_change_nothing():
    # T 60,000, R 3,000, B 57,000, E 56,000: F = 56,850.00; P 600; PV = 64,850 / 600 = 108.083333…
    r = clear({"A1": D(1), "A2": D(1)})
    assert (r.P, r.figures()["PV"]) == (D("600.0000"), "108.083333")
    assert (r.hospitals["A1"].due, r.hospitals["A2"].due) == (D("26425.00"), D("30425.00"))


def test_a_coefficient_scales_a_hospitals_points_before_the_point_value():
    # A1 × 1.05 = 315, A2 × 0.9 = 270: P 585, PV = 64,850 / 585 = 110.854700854…
    # D_A1 = 315 × PV − 6,000 = 28,919.2307…, D_A2 = 270 × PV − 2,000 = 27,930.7692…: by largest
    # remainder 28,919.23 and 27,930.77 (Σ 56,850.00 = F).
    r = clear({"A1": D("1.05"), "A2": D("0.9")}, {"A2": D(60)})
    assert (r.P, r.figures()["PV"], r.F) == (D("585.0000"), "110.854701", D("56850.00"))
    a1, a2 = r.hospitals["A1"], r.hospitals["A2"]
    assert (a1.points, a1.evaluation_coefficient, a1.due) == (D("315.0000"), D("1.05"), D("28919.23"))
    assert (a2.points, a2.evaluation_coefficient, a2.due) == (D("270.0000"), D("0.9"), D("27930.77"))
    # A2's score 60 still releases its holdback: 27,930.77 × (0.95 + 0.05 × 0.6) = 27,372.1546 → 27,372.15.
    assert a2.balance == D("27372.15")


def test_a_uniform_coefficient_leaves_the_money_unchanged():
    # Every hospital × 1.05: P 630, PV = 64,850 / 630; D_A1 = 315 × 64,850 / 630 − 6,000 = 26,425.00 as before.
    r = clear({"A1": D("1.05"), "A2": D("1.05")})
    assert r.P == D("630.0000")
    assert (r.hospitals["A1"].due, r.hospitals["A2"].due) == (D("26425.00"), D("30425.00"))


def test_a_coefficient_does_not_scale_the_deductions():
    # A1 has 300 case points and a deduction of 60 (a serious violation, multiple × b), coefficient
    # 0.9; A2 300 points, coefficient 1. Deductions are separate lines (SPEC section 5), so A1
    # counts 300 × 0.9 − 60 = 210 (not (300 − 60) × 0.9 = 216): P = 510, PV = 64,850 / 510 =
    # 127.156862745…; D_A1 = 210 × PV − 6,000 = 20,702.9411…, D_A2 = 300 × PV − 2,000 = 36,147.0588…;
    # floors 20,702.94 + 36,147.05 = 56,849.99, the last fen to the larger remainder (A2's 0.88).
    totals = {
        "A1": PointsTotals(3, D("300.0000"), D("300.0000"), D("60.0000"), D("6000.00"), D("18000.00")),
        "A2": TOTALS["A2"],
    }
    hospitals = {"A1": HospitalIn("A1", evaluation_coefficient=D("0.9")), "A2": HospitalIn("A2")}
    r = clear_ledger("employee", totals, LedgerBudget(budget(D(60000), POLICY), D(56000)), hospitals, [], POLICY)
    assert (r.P, r.figures()["PV"]) == (D("510.0000"), "127.156863")
    assert (r.hospitals["A1"].due, r.hospitals["A2"].due) == (D("20702.94"), D("36147.06"))
