"""Case points with hand-computed values (SPEC section 5, default policy).

avg_cost_all = 10000. G1: avg 10000, b = 100 (k = 3). G2: avg 20000, b = 200 (k = 2).
G3: avg 50000, b = 500 (k = 1.5). Hospital coefficient c = 1.2 unless a base group."""

from decimal import Decimal as D

import pytest

from dianshu.settlement.arithmetic.points import DrgParams, PointsCase, case_points
from dianshu.settlement.arithmetic.policy import Policy

ALL = D(10000)
C = D("1.2")
G = {
    "G1": DrgParams("G1", D(10000), D(100)),
    "G2": DrgParams("G2", D(20000), D(200)),
    "G3": DrgParams("G3", D(50000), D(500)),
    "U1": DrgParams("U1", D(10000), D(100), stable=False),
    "BG": DrgParams("BG", D(8000), D(80), base_group=True),
    "B1": DrgParams("B1", D(20000), D(200), bed_day=True, base_points_per_day=D("4.5")),
}


def pts(drg, cost, los=5, way=1, review=None, all_cost=ALL):
    r = case_points(PointsCase("c", drg, D(str(cost)), los, way, review), G.get(drg), all_cost, C, Policy())
    return r.type, r.points


@pytest.mark.parametrize(
    ("drg", "cost", "los", "way", "expected"),
    [
        # normal: b × c = 100 × 1.2
        ("G1", 10000, 5, 1, ("normal", D("120.0000"))),
        # ratio exactly k (3): not an outlier
        ("G1", 30000, 5, 1, ("normal", D("120.0000"))),
        # high outlier: ratio 4 > 3: 100 × 1.2 + 100 × (4 − 3) = 220
        ("G1", 40000, 5, 1, ("high_outlier", D("220.0000"))),
        # band 2 (100 < b ≤ 300, k = 2): ratio 2.5: 200 × 1.2 + 200 × 0.5 = 340
        ("G2", 50000, 5, 1, ("high_outlier", D("340.0000"))),
        # band 3 (b > 300, k = 1.5): ratio 2: 500 × 1.2 + 500 × 0.5 = 850
        ("G3", 100000, 5, 1, ("high_outlier", D("850.0000"))),
        # incomplete (death, ratio 0.5 < 1): min(100 × 1.2 × 0.5, 100) = 60
        ("G1", 5000, 5, 5, ("incomplete", D("60.0000"))),
        # incomplete capped at b: min(100 × 1.2 × 0.9 = 108, 100) = 100
        ("G1", 9000, 5, 2, ("incomplete", D("100.0000"))),
        # incomplete precedes low outlier: transfer with ratio 0.3: min(36, 100) = 36
        ("G1", 3000, 5, 2, ("incomplete", D("36.0000"))),
        # low outlier (ordered discharge, ratio 0.3 < 0.4): 100 × 0.3 = 30
        ("G1", 3000, 5, 1, ("low_outlier", D("30.0000"))),
        # itemized: ungroupable: 12345 / 10000 × 100 × 1.0 = 123.45
        ("0000", 12345, 5, 1, ("itemized", D("123.4500"))),
        # itemized: unstable DRG 5000 / 10000 × 100 = 50
        ("U1", 5000, 5, 1, ("itemized", D("50.0000"))),
        # itemized: ambiguous group
        ("GQY", 8000, 5, 1, ("itemized", D("80.0000"))),
        # bed-day (LOS ≥ 60): 4.5 × 75 = 337.5; LOS 59 is priced as a normal stay: 200 × 1.2
        ("B1", 20000, 75, 1, ("bed_day", D("337.5000"))),
        ("B1", 20000, 59, 1, ("normal", D("240.0000"))),
        # base group: c = 1.0 whatever the hospital: 80
        ("BG", 8000, 5, 1, ("normal", D("80.0000"))),
    ],
)
def test_case_types(drg, cost, los, way, expected):
    assert pts(drg, cost, los, way) == expected


def test_special_review_comes_first_and_rounding_is_half_up_to_4_places():
    assert pts("G1", 40000, review=D("150")) == ("special_review", D("150.0000"))
    # 1000 / 3000 × 100 = 33.3333…; 2000 / 3000 × 100 = 66.6666… -> 66.6667
    assert pts("0000", 1000, all_cost=D(3000)) == ("itemized", D("33.3333"))
    assert pts("0000", 2000, all_cost=D(3000)) == ("itemized", D("66.6667"))


def test_policy_overrides_are_checked():
    p = Policy().with_overrides({"high_k_1": "2.5", "prepay_ratio": "0.9"})
    assert p.k(D(100)) == D("2.5") and p.prepay_ratio == D("0.9")
    with pytest.raises(ValueError, match=r"policy\.nope: unknown key \(allowed: high_band_1_max_points, "):
        Policy().with_overrides({"nope": 1})
    with pytest.raises(ValueError, match=r"never below 0\.85"):
        Policy().with_overrides({"prepay_ratio": "0.8"})


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=500, deadline=None)
@given(
    cost=st.integers(0, 10**9),
    avg=st.integers(1, 10**8),
    b=st.integers(1, 10**6),
    c=st.integers(1, 300),
    los=st.integers(0, 400),
    way=st.sampled_from([1, 2, 3, 4, 5, 9]),
    stable=st.booleans(),
    bed=st.booleans(),
    drg=st.sampled_from(["X1", "0000", "XQY"]),
)
def test_case_points_are_never_negative(cost, avg, b, c, los, way, stable, bed, drg):
    params = DrgParams("X1", D(avg) / 100, D(b) / 100, stable=stable, bed_day=bed, base_points_per_day=D(b) / 1000)
    r = case_points(
        PointsCase("c", drg, D(cost) / 100, los, way), params if drg == "X1" else None, D(10000), D(c) / 100, Policy()
    )
    assert r.points >= 0 and r.points == r.points.quantize(D("0.0001"))
