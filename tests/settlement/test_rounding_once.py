"""Money and points rounded once (SPEC 5: "rounded half-up once, at the end"), worked by hand.
Both tests failed on the code that rounded R and B to the fen before F, and a readmitted stay's
points to 4 places before halving them."""

from decimal import Decimal as D

from dianshu.settlement.arithmetic.clearing import budget, fund_total
from dianshu.settlement.arithmetic.points import DrgParams
from dianshu.settlement.arithmetic.policy import Policy
from dianshu.settlement.arithmetic.year import CaseIn, HospitalIn, NewTechnology, case_results

P = Policy()  # reserve 5%, hospitals keep 85% of a saving, the fund bears 15% of an overspend


def test_reserve_and_points_budget_stay_exact_until_f():
    # T = 1,000,000.10. R = T × 0.05 = 50,000.005 exactly; B = T − R = 950,000.095.
    b = budget(D("1000000.10"), P)
    assert (b.T, b.R, b.B) == (D("1000000.10"), D("50000.0050"), D("950000.0950"))
    # Saving: E = 900,000.03 ≤ B. F = E + 0.85 (B − E) = 900,000.03 + 0.85 × 50,000.065
    #   = 900,000.03 + 42,500.05525 = 942,500.08525 → 942,500.09.
    # (R first rounded to 50,000.01 made B = 950,000.09 and F = 942,500.081 → 942,500.08.)
    assert fund_total(D("900000.03"), b, P) == D("942500.09")
    # Overspend: E = 1,000,000.03 > B. E − B = 49,999.935; × 0.15 = 7,499.99025 (below R), so
    # F = 950,000.095 + 7,499.99025 = 957,500.08525 → 957,500.09 (rounding B first gave .08).
    assert fund_total(D("1000000.03"), b, P) == D("957500.09")
    # Shown (and stored) to the fen: R half-up 50,000.01, and B as T − R = 950,000.09 so that the
    # shown parts add up to T; F above never uses these.
    shown = b.shown(P)
    assert (shown.T, shown.R, shown.B) == (D("1000000.10"), D("50000.01"), D("950000.09"))


def test_readmission_halves_the_unrounded_points_and_rounds_once():
    # G7: b = 100, average cost 7,000. A stay costing 1,000.01 has ratio 1,000.01 / 7,000
    # = 0.14285857142… < 0.4: a low outlier at 100 × ratio = 14.2858571428… points → 14.2859.
    # A readmission within 15 days halves it: 14.2858571428… × 0.5 = 7.1429285714… → 7.1429.
    # (Halving the rounded 14.2859 gives 7.14295 → 7.1430: one point in the 4th place too many.)
    g7 = DrgParams("G7", avg_cost=D(7000), base_points=D(100))
    base = dict(hospital="H1", drg="G7", los_days=5, discharge_way=1, self_pay=D(0), fund_type="employee")
    first = CaseIn(id="A", total_cost=D("1000.01"), **base)
    again = CaseIn(id="B", total_cost=D(7000), readmission_of="A", **base)
    out = case_results([first, again], {"G7": g7}, D(10000), {"H1": HospitalIn("H1")}, P)
    assert (out["A"].type, out["A"].original, out["A"].points) == ("low_outlier", D("14.2859"), D("7.1429"))
    assert out["B"].points == D("100.0000")  # the readmission itself is a normal stay: 100 × 1.0


def test_readmission_halves_the_unrounded_new_technology_addon():
    # G8: b = 100, average cost 10,000; the stay costs 10,000: ratio 1, a normal stay at 100 × 1.0
    # = 100 points. A first-year new technology costing 1,000.01 against the region's average
    # cost 7,000 adds 1,000.01 / 7,000 × 100 × 1.0 = 14.2858571428… points, shown as 14.2859
    # (100 + 14.2859 = 114.2859 before any readmission).
    # Readmitted within 15 days: (100 + 14.2858571428…) × 0.5 = 57.1429285714… → 57.1429.
    # (Halving the add-on rounded first, 114.2859 × 0.5 = 57.14295 → 57.1430: one too many.)
    g8 = DrgParams("G8", avg_cost=D(10000), base_points=D(100))
    base = dict(hospital="H1", drg="G8", los_days=5, discharge_way=1, self_pay=D(0), fund_type="employee")
    tech = (NewTechnology("T1", D("1000.01"), 1),)
    first = CaseIn(id="A", total_cost=D(10000), new_technologies=tech, **base)
    again = CaseIn(id="B", total_cost=D(10000), readmission_of="A", **base)
    out = case_results([first, again], {"G8": g8}, D(7000), {"H1": HospitalIn("H1")}, P)
    assert (out["A"].type, out["A"].addon, out["A"].original) == ("normal", D("14.2859"), D("114.2859"))
    assert out["A"].points == D("57.1429")
    assert out["B"].points == D("100.0000")
