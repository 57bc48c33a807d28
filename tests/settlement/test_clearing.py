"""Budget, fund total, point value, due and balance with hand-computed values (SPEC section 6)."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dianshu.settlement.arithmetic.clearing import allocate, balance, budget, fund_total, point_value, pv_shown
from dianshu.settlement.arithmetic.policy import Policy

P = Policy()


def test_surplus_year():
    b = budget(D("1000000.00"), P)
    assert (b.R, b.B) == (D("50000.00"), D("950000.00"))  # R = 5% of T; B = T − R
    # E = 900000 ≤ B: F = 900000 + 0.85 × (950000 − 900000) = 942500
    f = fund_total(D("900000.00"), b, P)
    assert f == D("942500.00")
    # P = 3000 + 1500 + 500 = 5000; S = 20000 + 10000 + 5000 = 35000; PV = (942500 + 35000) / 5000 = 195.5
    pv = point_value(f, D(35000), D(5000))
    assert pv == D("195.5") and pv_shown(pv) == D("195.500000")
    raw = {"H1": D(3000) * pv - D(20000), "H2": D(1500) * pv - D(10000), "H3": D(500) * pv - D(5000)}
    # 586500 − 20000, 293250 − 10000, 97750 − 5000
    assert allocate(raw, f) == {"H1": D("566500.00"), "H2": D("283250.00"), "H3": D("92750.00")}
    # Holdback released by score: 566500 × (0.95 + 0.05 × 0.90) − 500000 = 563667.50 − 500000
    assert balance(D("566500.00"), D("500000"), D(90), P) == D("63667.50")
    # No score: the whole due; 283250 − 280000
    assert balance(D("283250.00"), D("280000"), None, P) == D("3250.00")
    # Score 60: 92750 × 0.98 − 95000 = 90895 − 95000 (the hospital was overpaid)
    assert balance(D("92750.00"), D("95000"), D(60), P) == D("-4105.00")


def test_overspend_year_and_the_reserve_cap():
    b = budget(D("1000000.00"), P)
    # E = 1100000 > B: F = 950000 + min(0.15 × 150000 = 22500, 50000) = 972500
    assert fund_total(D("1100000.00"), b, P) == D("972500.00")
    # E = 1400000: 0.15 × 450000 = 67500 exceeds the reserve 50000: F = 950000 + 50000
    assert fund_total(D("1400000.00"), b, P) == D("1000000.00")


def test_largest_remainder_gives_the_missing_fen_and_breaks_ties_by_code():
    # PV = 100 / 3: three equal dues 33.333…: floors sum to 99.99, the missing fen goes to "A"
    pv = point_value(D("100.00"), D(0), D(3))
    assert allocate({"C": pv, "A": pv, "B": pv}, D("100.00")) == {"A": D("33.34"), "B": D("33.33"), "C": D("33.33")}
    # Remainders .009, .006, .002 (in fen units .9, .6, .2): floors 10.00 + 20.00 + 30.00 = 60.00;
    # total 60.02 -> the two largest remainders (X .9, Y .6) get a fen each.
    raw = {"X": D("10.009"), "Y": D("20.006"), "Z": D("30.002")}
    assert allocate(raw, D("60.02")) == {"X": D("10.01"), "Y": D("20.01"), "Z": D("30.00")}
    with pytest.raises(ValueError):
        allocate(raw, D("61.00"))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 10**7), st.integers(0, 10**8)), min_size=1, max_size=30),
    st.integers(10**5, 10**11),
    st.integers(0, 10**10),
)
def test_sum_of_dues_is_the_fund_total_exactly(hospitals, t_fen, e_fen):
    """Property: whatever the points, own payments and budget, Σ D_h = F to the fen."""
    b = budget(D(t_fen) / 100, P)
    f = fund_total(D(e_fen) / 100, b, P)
    points = {f"H{i:03d}": D(p) / 10000 for i, (p, _) in enumerate(hospitals)}
    selfpay = {f"H{i:03d}": D(s) / 100 for i, (_, s) in enumerate(hospitals)}
    pv = point_value(f, sum(selfpay.values()), sum(points.values()))
    due = allocate({h: points[h] * pv - selfpay[h] for h in points}, f)
    assert sum(due.values()) == f
    assert all(d == d.quantize(D("0.01")) for d in due.values())
